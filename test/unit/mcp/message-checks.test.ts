import { describe, expect, it } from "vitest";
import { isLegacyRequest, PROTOCOL_VERSION_META_KEY } from "@modelcontextprotocol/server";
import { LEGACY_REVISIONS, plainlyLegacyRequest, refuseMessage } from "../../../src/mcp/index.ts";

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

describe("plainlyLegacyRequest: the SDK's era classification, short-cut for plain 2025 requests", () => {
  const claim = { [PROTOCOL_VERSION_META_KEY]: "2026-07-28" };
  const call = (extra: Record<string, unknown> = {}) => ({
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name: "notes_get", arguments: { id: 1 } },
    ...extra,
  });
  // [what, body, MCP-Protocol-Version header, expected short-cut answer]
  const cases: [string, unknown, string | undefined, boolean][] = [
    ["a tools/call without header", call(), undefined, true],
    ["a tools/call on 2025-11-25", call(), "2025-11-25", true],
    ["a tools/call on 2025-06-18 with a string id", call({ id: "a" }), "2025-06-18", true],
    [
      "initialize without header",
      { jsonrpc: "2.0", id: 1, method: "initialize", params: {} },
      undefined,
      true,
    ],
    ["tools/list without params", { jsonrpc: "2.0", id: 1, method: "tools/list" }, "2025-11-25", true],
    [
      "a _meta without the claim",
      call({ params: { name: "x", _meta: { progressToken: 1 } } }),
      undefined,
      true,
    ],
    ["the 2026-07-28 claim", call({ params: { name: "x", _meta: claim } }), "2026-07-28", false],
    ["the claim under a 2025 header", call({ params: { name: "x", _meta: claim } }), "2025-11-25", false],
    ["a 2026-07-28 header without the claim", call(), "2026-07-28", false],
    ["a header with blanks", call(), " 2025-11-25", false],
    ["an unknown header", call(), "2099-01-01", false],
    ["a notification", { jsonrpc: "2.0", method: "notifications/initialized" }, undefined, false],
    ["a response", { jsonrpc: "2.0", id: 1, result: {} }, undefined, false],
    ["a request that also has a result", call({ result: {} }), undefined, false],
    ["a batch", [call()], undefined, false],
    ["jsonrpc 1.0", call({ jsonrpc: "1.0" }), undefined, false],
    ["a fractional id", call({ id: 1.5 }), undefined, false],
    ["a null id", call({ id: null }), undefined, false],
    ["array params", call({ params: [1] }), undefined, false],
    ["a _meta that is not an object", call({ params: { name: "x", _meta: 3 } }), undefined, false],
    ["no method", { jsonrpc: "2.0", id: 1 }, undefined, false],
  ];

  it.each(cases)("%s", async (_what, body, header, expected) => {
    expect(plainlyLegacyRequest(body, header, LEGACY_REVISIONS)).toBe(expected);
    // Whenever the short-cut says legacy, the SDK's classification says so too.
    if (expected) {
      const request = new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(header === undefined ? {} : { "mcp-protocol-version": header }),
        },
        body: JSON.stringify(body),
      });
      expect(await isLegacyRequest(request, body)).toBe(true);
    }
  });

  it("knows the 2025 and 2024 revisions, and not 2026-07-28", () => {
    expect(LEGACY_REVISIONS).toEqual(expect.arrayContaining(["2025-11-25", "2025-06-18", "2025-03-26"]));
    expect(LEGACY_REVISIONS).not.toContain("2026-07-28");
  });
});
