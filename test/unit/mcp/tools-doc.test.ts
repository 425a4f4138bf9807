import { readFileSync } from "node:fs";
import { format, resolveConfig } from "prettier";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { allTools, appGroups as allGroups } from "../../../src/app.ts";
import { renderToolDocs, ToolRegistry } from "../../../src/mcp/index.ts";
import { fixtureTools } from "./fixtures.ts";

const root = new URL("../../../", import.meta.url);
const pages = renderToolDocs(new ToolRegistry(allGroups));
const all = pages.map((p) => p.content).join("\n");

describe("docs/tools.md and docs/tools/<app>.md", () => {
  it("are the files generated from the tool registry (run `npm run docs:gen` after changing a tool)", () => {
    expect(pages.map((p) => p.path)).toEqual([
      "docs/tools.md",
      ...allGroups.map((g) => `docs/tools/${g.id}.md`),
    ]);
    for (const page of pages)
      expect(readFileSync(new URL(page.path, root), "utf8"), page.path).toBe(page.content);
  });

  it("are already in Prettier's form, so formatting the docs cannot make them drift", async () => {
    const check = async (page: { path: string; content: string }) => {
      const file = new URL(page.path, root).pathname;
      const options = { ...(await resolveConfig(file)), filepath: file };
      expect(await format(page.content, options), page.path).toBe(page.content);
    };
    for (const page of pages) await check(page);
    // Also for tools with argument tables, enums (whose `|` must be escaped) and app-bound tools.
    // The fixtures borrow real tool names (notes_get, notes_create); they stand in for those here.
    const real = allTools.filter((t) => !fixtureTools.some((f) => f.name === t.name));
    const withFixtures = renderToolDocs(new ToolRegistry([...real, ...fixtureTools]));
    const notes = withFixtures.find((p) => p.path === "docs/tools/notes.md");
    expect(notes?.content).toContain('| `format` | "markdown" \\| "plain"');
    for (const page of withFixtures) await check(page);
  });

  it("list every tool on its app's page, with its scopes, and describe every input field", () => {
    const index = pages[0]?.content ?? "";
    for (const group of allGroups) {
      const page = pages.find((p) => p.path === `docs/tools/${group.id}.md`)?.content ?? "";
      for (const tool of group.tools) {
        expect(index).toContain(`(tools/${group.id}.md#${tool.name})`);
        expect(page).toContain(`## ${tool.name}\n`);
        expect(all).toContain(tool.scopes.map((s) => `\`${s}\``).join(" "));
        for (const [field, schema] of Object.entries<z.ZodType>(tool.input.shape)) {
          expect(schema.description, `${tool.name}.${field}`).toBeTruthy();
        }
      }
    }
  });
});
