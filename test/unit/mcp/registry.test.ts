import { z } from "zod";
import { describe, expect, it } from "vitest";
import { allTools } from "../../../src/app.ts";
import { defineTool, ToolRegistry, type ToolDefinition } from "../../../src/mcp/index.ts";
import { calendarSignal, fixtureTools, notesCreate, notesGet } from "./fixtures.ts";

const base: ToolDefinition = {
  name: "notes_list",
  title: "List notes",
  description: "Lists notes.",
  input: z.object({}),
  output: z.object({}),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  scopes: ["mcp:tools"],
  handler: () => Promise.resolve({}),
};

describe("defineTool", () => {
  it("accepts a well-formed tool and freezes it", () => {
    const tool = defineTool(base);
    expect(tool.name).toBe("notes_list");
    expect(Object.isFrozen(tool)).toBe(true);
    expect(Object.isFrozen(tool.scopes)).toBe(true);
  });

  it.each(["Notes_list", "notes-list", "notes_list2", "_list", "notes_"])(
    "rejects the badly named tool %j",
    (name) => {
      expect(() => defineTool({ ...base, name })).toThrow(/must look like <app>_<action>/);
    },
  );

  it("requires mcp:tools, and mcp:write for a tool that changes data", () => {
    expect(() => defineTool({ ...base, scopes: ["mcp:write"] })).toThrow(/scopes must include mcp:tools/);
    const writes = { ...base.annotations, readOnlyHint: false };
    expect(() => defineTool({ ...base, annotations: writes })).toThrow(/must require mcp:write/);
    expect(defineTool({ ...base, annotations: writes, scopes: ["mcp:tools", "mcp:write"] }).scopes).toEqual([
      "mcp:tools",
      "mcp:write",
    ]);
  });

  it("rejects contradicting annotations and empty texts, listing every problem", () => {
    expect(() =>
      defineTool({ ...base, title: " ", annotations: { ...base.annotations, destructiveHint: true } }),
    ).toThrow('Tool "notes_list": the title is empty; a read-only tool cannot be destructive.');
  });
});

describe("ToolRegistry", () => {
  const registry = new ToolRegistry(fixtureTools);

  it("rejects a second tool with the same name", () => {
    expect(() => new ToolRegistry([notesGet, calendarSignal, { ...notesGet }])).toThrow(
      'Tool "notes_get" is defined twice.',
    );
  });

  it("finds tools by name and keeps declaration order", () => {
    expect(registry.get("notes_get")).toBe(notesGet);
    expect(registry.get("notes_delete")).toBeUndefined();
    expect(registry.all().map((t) => t.name)).toEqual(fixtureTools.map((t) => t.name));
  });

  it("shows a tool only when the caller has all its scopes", () => {
    const names = (scopes: string[]) => registry.visible({ scopes, capabilities: "all" }).map((t) => t.name);
    expect(names(["mcp:tools"])).not.toContain("notes_create");
    expect(names(["mcp:tools"])).toContain("notes_get");
    expect(names(["mcp:tools", "mcp:write"])).toContain("notes_create");
    expect(names(["mcp:write"])).toEqual([]);
    expect(names([])).toEqual([]);
  });

  it("hides a tool whose Nextcloud app the instance lacks, and keeps tools that need none", () => {
    const visible = registry.visible({
      scopes: ["mcp:tools", "mcp:write"],
      capabilities: new Set(["notes"]),
    });
    expect(visible).toContain(notesGet);
    expect(visible).toContain(notesCreate);
    expect(visible).not.toContain(calendarSignal);
    expect(visible.map((t) => t.name)).toContain("files_refused");
  });

  it("selects per request what visible() allows, reusing the answer only for the same scopes, apps and toolset", () => {
    const readOnly = { scopes: ["mcp:tools"], capabilities: new Set(["notes"]), apps: "all" as const };
    const first = registry.select(readOnly);
    expect(first.tools).toEqual(registry.visible(readOnly));
    expect(first.listing.map((t) => t.name)).toEqual(first.tools.map((t) => t.name));
    expect(first.listing[0]).toBe(registry.listing(first.tools[0]?.name ?? ""));
    expect([...first.callable.keys()]).toEqual(first.tools.map((t) => t.name));
    // Equal inputs in new objects: the same selection.
    expect(registry.select({ ...readOnly, scopes: ["mcp:tools"], capabilities: new Set(["notes"]) })).toBe(
      first,
    );
    // Any difference is another selection: a write scope, another app set, another toolset.
    const writer = registry.select({ ...readOnly, scopes: ["mcp:tools", "mcp:write"] });
    expect(writer.callable.has("notes_create")).toBe(true);
    expect(first.callable.has("notes_create")).toBe(false);
    expect(
      registry.select({ ...readOnly, capabilities: new Set(["calendar"]) }).callable.has("notes_get"),
    ).toBe(false);
    expect(registry.select({ ...readOnly, apps: new Set(["calendar"]) }).callable.has("notes_get")).toBe(
      false,
    );
    expect(registry.select({ ...readOnly, scopes: [] }).tools).toEqual([]);
    expect(Object.isFrozen(first.listing)).toBe(true);
  });

  it("precomputes each tools/list entry: argument descriptions kept, output field descriptions and noise dropped", () => {
    const listing = registry.listing("notes_get");
    expect(listing).toMatchObject({
      name: "notes_get",
      title: "Get a note",
      annotations: notesGet.annotations,
      inputSchema: {
        type: "object",
        required: ["id"],
        properties: { id: { type: "integer", description: "The note's numeric id, from notes_list." } },
      },
      outputSchema: { type: "object", required: ["id", "title"] },
    });
    const text = JSON.stringify(listing);
    expect(text).not.toContain("$schema");
    expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
    expect(registry.listing("nope")).toBeUndefined();
  });

  it("holds the gateway's real tools", () => {
    expect(new ToolRegistry(allTools).all().map((t) => t.name)).toContain("server_info");
  });
});
