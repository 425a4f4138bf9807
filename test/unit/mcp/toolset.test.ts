// Toolsets and the operator's tool policy: what a client can ask for by URL, what an IdP claim
// grants, and what TOOLS_ALLOW / TOOLS_DENY leave; each refusal names what would be right.
import { z } from "zod";
import { describe, expect, it } from "vitest";
import {
  applyToolPolicy,
  appsFromClaim,
  defineGroup,
  intersectApps,
  parseToolset,
  ToolRegistry,
  toolMaker,
  type ToolGroup,
} from "../../../src/mcp/index.ts";

const empty = z.object({});
const tool = (maker: ReturnType<typeof toolMaker>, name: string, write = false) =>
  write
    ? maker.write({
        name,
        title: name,
        description: `${name} (test)`,
        input: empty,
        output: empty,
        destructive: false,
        idempotent: true,
        handler: () => Promise.resolve({}),
      })
    : maker.read({
        name,
        title: name,
        description: `${name} (test)`,
        input: empty,
        output: empty,
        handler: () => Promise.resolve({}),
      });

const own = toolMaker("gateway", { prefix: "server", capability: null });
const notes = toolMaker("notes");
const files = toolMaker("files");
const groups: ToolGroup[] = [
  defineGroup({
    id: "gateway",
    title: "Gateway",
    description: "d",
    always: true,
    tools: [tool(own, "server_info")],
  }),
  defineGroup({
    id: "notes",
    title: "Notes",
    description: "d",
    tools: [tool(notes, "notes_list"), tool(notes, "notes_delete", true)],
  }),
  defineGroup({
    id: "files",
    title: "Files",
    description: "d",
    tools: [tool(files, "files_list"), tool(files, "files_delete", true)],
  }),
];
const names = (gs: ToolGroup[]) => gs.flatMap((g) => g.tools.map((t) => t.name));

describe("applyToolPolicy (TOOLS_ALLOW, TOOLS_DENY)", () => {
  it("keeps everything when both lists are empty", () => {
    expect(names(applyToolPolicy(groups, { allow: [], deny: [] }))).toEqual([
      "server_info",
      "notes_list",
      "notes_delete",
      "files_list",
      "files_delete",
    ]);
  });

  it("allows groups and single tools, always keeping the gateway's own", () => {
    expect(names(applyToolPolicy(groups, { allow: ["notes", "files_list"], deny: [] }))).toEqual([
      "server_info",
      "notes_list",
      "notes_delete",
      "files_list",
    ]);
  });

  it("denies after allowing, and drops a group left empty", () => {
    const kept = applyToolPolicy(groups, { allow: [], deny: ["notes_delete", "files"] });
    expect(names(kept)).toEqual(["server_info", "notes_list"]);
    expect(kept.map((g) => g.id)).toEqual(["gateway", "notes"]);
  });

  it("refuses unknown names, listing the known apps", () => {
    expect(() => applyToolPolicy(groups, { allow: ["note"], deny: ["files_remove"] })).toThrow(
      "TOOLS_ALLOW / TOOLS_DENY name unknown tools or apps: note, files_remove. Known apps: gateway, notes, files;",
    );
  });
});

describe("parseToolset (/mcp?apps=…)", () => {
  it("selects the named apps, or all", () => {
    expect(parseToolset("notes, files", groups)).toEqual({ apps: new Set(["notes", "files"]) });
    expect(parseToolset("all", groups)).toEqual({ apps: "all" });
    expect(parseToolset("notes,all", groups)).toEqual({ apps: "all" });
  });

  it("names unknown apps and the selectable ones (not the always-on gateway group)", () => {
    expect(parseToolset("notes,calendar", groups)).toEqual({
      error:
        'The toolset in the MCP URL (?apps=notes,calendar) names unknown apps: calendar. Use "all" or comma-separated ids of: notes, files.',
    });
    expect(parseToolset("gateway", groups)).toHaveProperty("error");
    expect(parseToolset(" , ", groups)).toEqual({
      error:
        'The toolset in the MCP URL (?apps= , ) names no app. Use "all" or comma-separated ids of: notes, files.',
    });
  });
});

describe("appsFromClaim (APPS_CLAIM, APPS_CLAIM_PREFIX)", () => {
  it("reads lists and separated strings, keeping prefixed values without the prefix", () => {
    expect(appsFromClaim(["/mcp-notes", "/staff", "/mcp-files", 7], "/mcp-")).toEqual(
      new Set(["notes", "files"]),
    );
    expect(appsFromClaim("notes files,calendar", "")).toEqual(new Set(["notes", "files", "calendar"]));
  });

  it("grants nothing when the claim is missing or not text", () => {
    expect(appsFromClaim(undefined, "")).toEqual(new Set());
    expect(appsFromClaim({ notes: true }, "")).toEqual(new Set());
  });

  it("intersects with the toolset", () => {
    expect(intersectApps(new Set(["notes", "files"]), new Set(["files"]))).toEqual(new Set(["files"]));
    expect(intersectApps("all", new Set(["files"]))).toEqual(new Set(["files"]));
    expect(intersectApps(new Set(["notes"]), "all")).toEqual(new Set(["notes"]));
    expect(intersectApps("all", "all")).toBe("all");
  });
});

describe("ToolRegistry.visible with a toolset", () => {
  const registry = new ToolRegistry(groups);
  const visible = (apps: ReadonlySet<string> | "all", scopes = ["mcp:tools", "mcp:write"]) =>
    registry.visible({ scopes, capabilities: "all", apps }).map((t) => t.name);

  it("shows the selected apps plus the gateway's own tools", () => {
    expect(visible(new Set(["files"]))).toEqual(["server_info", "files_list", "files_delete"]);
    expect(visible(new Set())).toEqual(["server_info"]);
    expect(visible("all")).toHaveLength(5);
  });

  it("still applies scopes and the user's apps", () => {
    expect(visible(new Set(["files"]), ["mcp:tools"])).toEqual(["server_info", "files_list"]);
    const apps = registry.visible({ scopes: ["mcp:tools"], capabilities: new Set(["files"]), apps: "all" });
    expect(apps.map((t) => t.name)).toEqual(["server_info", "files_list"]);
    expect(registry.groupOf("notes_list")).toBe("notes");
  });
});
