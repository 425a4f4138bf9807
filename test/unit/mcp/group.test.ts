// The tool-group factory fills in scopes and annotations from read or write, and refuses at
// definition time what would make a group inconsistent: a foreign name prefix, argument casing.
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { defineGroup, defineTool, toolMaker } from "../../../src/mcp/index.ts";

const spec = (name: string, input: z.ZodObject = z.object({})) => ({
  name,
  title: "T",
  description: "D",
  input,
  output: z.object({}),
  handler: () => Promise.resolve({}),
});

describe("toolMaker", () => {
  const t = toolMaker("calendar");

  it("makes read tools read-only and idempotent with mcp:tools, needing the app", () => {
    const tool = t.read(spec("calendar_list"));
    expect(tool.scopes).toEqual(["mcp:tools"]);
    expect(tool.annotations).toEqual({
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(tool.capability).toBe("calendar");
  });

  it("makes write tools need mcp:write with the stated hints", () => {
    const tool = t.write({
      ...spec("calendar_delete"),
      destructive: true,
      idempotent: true,
      openWorld: false,
    });
    expect(tool.scopes).toEqual(["mcp:tools", "mcp:write"]);
    expect(tool.annotations).toEqual({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: false,
    });
  });

  it("refuses a name outside the group's prefix, and takes the group's id itself as a name", () => {
    expect(() => t.read(spec("contacts_list"))).toThrow(
      'Tool "contacts_list": tools of the calendar group are named calendar or start with calendar_.',
    );
    expect(() => t.read(spec("calendarx"))).toThrow(/are named calendar or start with calendar_/);
    expect(t.read(spec("calendar")).name).toBe("calendar");
  });

  it("leaves out the app for tools that work everywhere", () => {
    expect(
      toolMaker("gateway", { prefix: "server", capability: null }).read(spec("server_ping")).capability,
    ).toBe(undefined);
  });
});

describe("one casing rule for arguments", () => {
  it("refuses snake_case and other non-lowerCamelCase argument names", () => {
    expect(() =>
      defineTool({
        ...spec("files_read", z.object({ path: z.string(), max_bytes: z.number(), "If-Match": z.string() })),
        annotations: {
          readOnlyHint: true,
          destructiveHint: false,
          idempotentHint: true,
          openWorldHint: false,
        },
        scopes: ["mcp:tools"],
      }),
    ).toThrow("argument names must be lowerCamelCase: max_bytes, If-Match");
  });
});

describe("defineGroup", () => {
  it("refuses ids that cannot be toolset names, and empty groups", () => {
    const tool = toolMaker("notes").read(spec("notes_list"));
    expect(() => defineGroup({ id: "Notes", title: "N", description: "d", tools: [tool] })).toThrow(
      "the id must be lowercase letters",
    );
    expect(() => defineGroup({ id: "notes", title: "N", description: "d", tools: [] })).toThrow(
      "has no tools",
    );
  });
});
