// The reference docs derived from code, formatted as Prettier leaves them, so that
// `npm run docs:gen` and the drift test (test/unit/docs.test.ts) agree byte for byte.
import { format, resolveConfig } from "prettier";
import { renderConfigurationDoc } from "../src/config/index.ts";
import { appGroups } from "../src/app.ts";
import { renderToolDocs, ToolRegistry } from "../src/mcp/index.ts";

/** Path (relative to the repository root) and content of every generated document. */
export async function generatedDocs(): Promise<{ path: string; content: string }[]> {
  const docs = [
    { path: "docs/configuration.md", content: renderConfigurationDoc() },
    ...renderToolDocs(new ToolRegistry(appGroups)),
  ];
  return Promise.all(
    docs.map(async (d) => {
      const file = new URL(`../${d.path}`, import.meta.url).pathname;
      const options = (await resolveConfig(file)) ?? {};
      return { path: d.path, content: await format(d.content, { ...options, filepath: file }) };
    }),
  );
}
