import { describe, expect, it } from "vitest";
import { refuseMessage } from "../../../src/mcp/index.ts";

const LIST = { jsonrpc: "2.0", id: 1, method: "tools/list" };
const init = (protocolVersion: string) => ({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "t", version: "1" } },
});

describe("refuseMessage: batches", () => {
  it.each(["2025-06-18", "2025-11-25", "2026-07-28"])("refuses a batch on %s (the header)", (v) => {
    expect(refuseMessage([LIST, LIST], v)).toEqual({
      status: 400,
      id: null,
      code: -32600,
      message: `Invalid Request: MCP ${v} has no JSON-RPC batches; send each message in its own POST.`,
    });
  });

  it("takes the revision of an initialize in the batch when there is no header", () => {
    expect(refuseMessage([init("2025-06-18")], undefined)?.code).toBe(-32600);
    expect(refuseMessage([init("2025-06-18")], " ")?.code).toBe(-32600);
    expect(refuseMessage([init("2025-03-26")], undefined)).toBeUndefined();
  });

  it("leaves batches to the server on 2025-03-26 and when no revision is known", () => {
    expect(refuseMessage([LIST, LIST], "2025-03-26")).toBeUndefined();
    expect(refuseMessage([LIST, LIST], undefined)).toBeUndefined();
  });
});

describe("refuseMessage: tools/call without a tool name", () => {
  it.each([
    ["no params", undefined],
    ["params not an object", "notes_list"],
    ["no name", { arguments: {} }],
    ["an empty name", { name: "" }],
    ["a name that is not a string", { name: ["notes_list"] }],
  ])("answers %s with -32602 for the request's id", (_what, params) => {
    expect(refuseMessage({ jsonrpc: "2.0", id: "c-1", method: "tools/call", params }, "2025-11-25")).toEqual({
      status: 200,
      id: "c-1",
      code: -32602,
      message:
        "Invalid params: tools/call needs params.name, the name of a tool as tools/list gives it, and params.arguments with its input.",
    });
  });

  it("answers with id null when the request's id is unusable", () => {
    expect(refuseMessage({ jsonrpc: "2.0", id: { x: 1 }, method: "tools/call" }, undefined)?.id).toBeNull();
  });

  it("leaves well-formed calls and other methods to the server", () => {
    const call = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "x_y", arguments: {} } };
    expect(refuseMessage(call, "2025-11-25")).toBeUndefined();
    expect(refuseMessage(LIST, "2025-11-25")).toBeUndefined();
    expect(refuseMessage(init("2025-11-25"), undefined)).toBeUndefined();
    expect(refuseMessage(null, undefined)).toBeUndefined();
  });
});
