// The /connect answer on 2026-07-28 as the SDK 2.x client lives it: tools/call comes back
// input_required with a URL-mode elicitation, the client's elicitation handler opens the URL (here:
// the grant appears), the client retries on its own and gets the tool's result.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createMcpHandler } from "@modelcontextprotocol/server";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { createMcpServer, defineTool, ToolRegistry } from "../../../src/mcp/index.ts";
import type { OfflineAccessState } from "../../../src/store/account.ts";
import { testContext } from "./harness.ts";

const CONNECT = "https://mcp.example.com/connect";
const background = defineTool({
  name: "index_refresh",
  title: "Background work",
  description: "A tool that works in the background for the user (test fixture).",
  input: z.object({}),
  output: z.object({ ok: z.boolean() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  scopes: ["mcp:tools"],
  requiresOfflineAccess: true,
  handler: () => Promise.resolve({ ok: true }),
});
const registry = new ToolRegistry([background]);

/** A 2.x client pinned to 2026-07-28, talking to the SDK's modern handler in memory. */
async function clientFor(state: { current: OfflineAccessState }, capabilities: object) {
  const handler = createMcpHandler(
    () =>
      createMcpServer(
        registry,
        testContext(["mcp:tools"], {
          offline: {
            enabled: true,
            connectUrl: CONNECT,
            accountUrl: "https://mcp.example.com/account",
            urlElicitation: false,
            state: () => Promise.resolve(state.current),
          },
        }),
      ),
    { legacy: "reject" },
  );
  const client = new Client(
    { name: "unit-test", version: "0.0.0" },
    { capabilities, versionNegotiation: { mode: { pin: "2026-07-28" } } },
  );
  const transport = new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
    fetch: (url, init) => handler.fetch(new Request(url, init)),
  });
  await client.connect(transport);
  return client;
}

describe("offline access on 2026-07-28 with the SDK 2.x client", () => {
  it("opens /connect through the client's URL elicitation, then the retried call runs the tool", async () => {
    const state: { current: OfflineAccessState } = { current: { state: "none" } };
    const client = await clientFor(state, { elicitation: { url: {} } });
    expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
    const asked: { mode?: string; url?: string; message?: string }[] = [];
    client.setRequestHandler("elicitation/create", (request) => {
      asked.push(request.params);
      // The user opens the URL and grants offline access.
      state.current = { state: "active" } as OfflineAccessState;
      return { action: "accept" };
    });
    const result = await client.callTool({ name: "index_refresh", arguments: {} });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ mode: "url", url: CONNECT });
    expect(asked[0]?.message).toMatch(/needs offline access/);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ ok: true });
  });

  it("gives a client that declared no URL elicitation the URL as text", async () => {
    const client = await clientFor({ current: { state: "none" } }, {});
    const result = await client.callTool({ name: "index_refresh", arguments: {} });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain(CONNECT);
  });
});
