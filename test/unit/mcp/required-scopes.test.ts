import { describe, expect, it } from "vitest";
import { requiredScopesForCall, ToolRegistry } from "../../../src/mcp/index.ts";
import { fixtureTools } from "./fixtures.ts";

const registry = new ToolRegistry(fixtureTools);
const call = (name: unknown, id = 1) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: {} },
});

describe("requiredScopesForCall", () => {
  it("returns the scopes of the tool a single tools/call names", () => {
    expect(requiredScopesForCall(registry, call("notes_get"))).toEqual(["mcp:tools"]);
    expect(requiredScopesForCall(registry, call("notes_create"))).toEqual(["mcp:tools", "mcp:write"]);
  });

  it("returns the union, without repeats, for a batch", () => {
    const batch = [
      call("notes_get", 1),
      { jsonrpc: "2.0", method: "notifications/initialized" },
      call("notes_create", 2),
    ];
    expect(requiredScopesForCall(registry, batch)).toEqual(["mcp:tools", "mcp:write"]);
  });

  it("returns nothing for other methods", () => {
    expect(requiredScopesForCall(registry, { jsonrpc: "2.0", id: 1, method: "tools/list" })).toEqual([]);
    expect(
      requiredScopesForCall(registry, {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { name: "notes_create" },
      }),
    ).toEqual([]);
  });

  it("returns nothing for unknown tools and malformed bodies, which the MCP server answers itself", () => {
    expect(requiredScopesForCall(registry, call("notes_delete_everything"))).toEqual([]);
    expect(requiredScopesForCall(registry, call(42))).toEqual([]);
    expect(requiredScopesForCall(registry, call("__proto__"))).toEqual([]);
    for (const body of [
      undefined,
      null,
      "tools/call",
      7,
      [],
      [null, [call("notes_create")]],
      { method: "tools/call" },
    ]) {
      expect(requiredScopesForCall(registry, body)).toEqual([]);
    }
  });
});
