import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { allTools, renderToolsDoc, ToolRegistry } from "../../../src/mcp/index.ts";
import { fixtureTools } from "./fixtures.ts";

const path = fileURLToPath(new URL("../../../docs/tools.md", import.meta.url));
const rendered = renderToolsDoc(new ToolRegistry(allTools));

describe("docs/tools.md", () => {
  it("is the file generated from the tool registry (run `npm run docs:gen` after changing a tool)", () => {
    expect(readFileSync(path, "utf8")).toBe(rendered);
  });

  it("is already in Prettier's form, so formatting the docs cannot make it drift", async () => {
    const options = { ...(await resolveConfig(path)), filepath: path };
    expect(await format(rendered, options)).toBe(rendered);
    // Also for tools with argument tables, enums (whose `|` must be escaped) and app-bound tools.
    // The fixtures borrow real tool names (notes_get, notes_create); they stand in for those here.
    const real = allTools.filter((t) => !fixtureTools.some((f) => f.name === t.name));
    const withFixtures = renderToolsDoc(new ToolRegistry([...real, ...fixtureTools]));
    expect(withFixtures).toContain('| `format` | "markdown" \\| "plain"');
    expect(await format(withFixtures, options)).toBe(withFixtures);
  });

  it("lists every tool with its scopes and describes every input field", () => {
    for (const tool of allTools) {
      expect(rendered).toContain(`## ${tool.name}\n`);
      expect(rendered).toContain(tool.scopes.map((s) => `\`${s}\``).join(" "));
      for (const [field, schema] of Object.entries<z.ZodType>(tool.input.shape)) {
        expect(schema.description, `${tool.name}.${field}`).toBeTruthy();
      }
    }
  });
});
