// Regenerates the reference docs that are derived from code (npm run docs:gen).
import { writeFileSync } from "node:fs";
import { renderConfigurationDoc } from "../src/config/index.ts";

writeFileSync(new URL("../docs/configuration.md", import.meta.url), renderConfigurationDoc());
console.log("wrote docs/configuration.md");
