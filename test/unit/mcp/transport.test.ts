// How the HTTP layer will serve /mcp (ADR 0002): a fresh server and a stateless web-standard
// transport per request. These tests pin what SDK 1.32.2 does there, including the revisions it refuses.
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { allTools } from "../../../src/app.ts";
import { createMcpServer, ToolRegistry } from "../../../src/mcp/index.ts";
import { testContext } from "./harness.ts";

const registry = new ToolRegistry(allTools);

async function post(body: unknown, protocolVersion?: string): Promise<Response> {
  const ctx = testContext();
  const server = createMcpServer(registry, ctx);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  const headers = new Headers({
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  });
  if (protocolVersion !== undefined) headers.set("mcp-protocol-version", protocolVersion);
  const request = new Request("http://localhost/mcp", {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return transport.handleRequest(request, { authInfo: ctx.auth });
}

describe("stateless Streamable HTTP with SDK 2.x, the 2025 revisions", () => {
  it.each(["2025-06-18", "2025-11-25"])("negotiates %s in initialize", async (version) => {
    const response = await post({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "t", version: "0" } },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("mcp-session-id")).toBeNull();
    expect(await response.json()).toMatchObject({
      result: { protocolVersion: version, serverInfo: { name: "nextcloud-mcp-gateway" } },
    });
  });

  it("answers a tools/call without a prior initialize on the same server", async () => {
    const response = await post(
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "server_info", arguments: {} } },
      "2025-11-25",
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      result: { structuredContent: { subject: "3f1c5a0e-alice" } },
    });
  });

  it("refuses the 2026-07-28 revision with 400 (src/http/mcp.ts routes it to the SDK's modern handler)", async () => {
    const response = await post({ jsonrpc: "2.0", id: 3, method: "tools/list" }, "2026-07-28");
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/Unsupported protocol version: 2026-07-28/);
  });
});
