// Regenerates the reference docs that are derived from code (npm run docs:gen).
import { writeFileSync } from "node:fs";
import { generatedDocs } from "./docs.ts";

for (const doc of await generatedDocs()) {
  writeFileSync(new URL(`../${doc.path}`, import.meta.url), doc.content);
  console.log(`wrote ${doc.path}`);
}
