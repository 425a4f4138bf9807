// Tools that need offline access: without it the call names /connect (as a URL-mode elicitation
// for clients that declared it), and offline_access_status reports every state.
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { createMcpHandler } from "@modelcontextprotocol/server";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import {
  createMcpServer,
  defineTool,
  ToolRegistry,
  type OfflineAccessContext,
} from "../../../src/mcp/index.ts";
import { offlineAccessStatus } from "../../../src/mcp/tools/offline-access.ts";
import type { OfflineAccessState } from "../../../src/store/account.ts";
import type { OfflineGrant } from "../../../src/store/index.ts";
import { ClientCapabilityMemory, initializeCapabilities } from "../../../src/http/client-capabilities.ts";
import { connect, testContext } from "./harness.ts";

const CONNECT = "https://mcp.example.com/connect";
let ran = 0;
const background = defineTool({
  name: "index_refresh",
  title: "Background work",
  description: "A tool that works in the background for the user (test fixture).",
  input: z.object({}),
  output: z.object({ ok: z.boolean() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  scopes: ["mcp:tools"],
  requiresOfflineAccess: true,
  handler() {
    ran++;
    return Promise.resolve({ ok: true });
  },
});
const registry = new ToolRegistry([background, offlineAccessStatus]);

const grant = (over: Partial<OfflineGrant>): OfflineGrant => ({
  id: "g",
  user_id: "u",
  status: "active",
  refresh_token_sealed: new Uint8Array(),
  idp_session_id: null,
  key_id: "k1",
  scope: "openid offline_access",
  revoked_reason: null,
  created_at: new Date("2026-11-01T10:00:00Z"),
  updated_at: new Date("2026-11-01T10:00:00Z"),
  last_refreshed_at: new Date("2026-11-20T10:00:00Z"),
  last_used_at: null,
  revoked_at: null,
  lease_owner: null,
  lease_until: null,
  ...over,
});

function offline(state: OfflineAccessState, more: Partial<OfflineAccessContext> = {}): OfflineAccessContext {
  return {
    enabled: true,
    connectUrl: CONNECT,
    accountUrl: "https://mcp.example.com/account",
    urlElicitation: false,
    state: () => Promise.resolve(state),
    ...more,
  };
}

async function call(name: string, ctxOffline: OfflineAccessContext | undefined) {
  const client = await connect(
    createMcpServer(registry, testContext(["mcp:tools"], { offline: ctxOffline })),
  );
  return client.callTool({ name, arguments: {} });
}

describe("a tool that needs offline access", () => {
  it("runs when the grant is active", async () => {
    const before = ran;
    const r = await call("index_refresh", offline({ state: "active", grant: grant({}) }));
    expect(r.isError).toBeFalsy();
    expect(ran).toBe(before + 1);
  });

  it("tells the user the /connect URL when nothing is granted, without running", async () => {
    const before = ran;
    const r = await call("index_refresh", offline({ state: "none" }));
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).toContain(CONNECT);
    expect(ran).toBe(before);
    const revoked = await call(
      "index_refresh",
      offline({ state: "revoked", grant: grant({ status: "revoked" }) }),
    );
    expect(JSON.stringify(revoked.content)).toMatch(/revoked.*reconnect/);
  });

  it("answers a client that declared URL elicitation with a -32042 error carrying the URL", async () => {
    const err = await call("index_refresh", offline({ state: "none" }, { urlElicitation: true })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32042);
    const data = (err as McpError).data as {
      elicitations: { mode: string; url: string; elicitationId: string }[];
    };
    expect(data.elicitations).toHaveLength(1);
    expect(data.elicitations[0]).toMatchObject({ mode: "url", url: CONNECT });
    expect(data.elicitations[0]?.elicitationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("says the gateway offers no offline access when SEALING_KEYS is unset", async () => {
    const r = await call("index_refresh", offline({ state: "none" }, { enabled: false }));
    expect(JSON.stringify(r.content)).toMatch(/SEALING_KEYS/);
  });
});

/** One 2026-07-28 tools/call of index_refresh, answered by the SDK's modern handler. */
async function callModern(ctxOffline: OfflineAccessContext, capabilities: object, inputResponses?: object) {
  const handler = createMcpHandler(
    () => createMcpServer(registry, testContext(["mcp:tools"], { offline: ctxOffline })),
    { legacy: "reject" },
  );
  const response = await handler.fetch(
    new Request("http://localhost/mcp", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "index_refresh",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: {
          name: "index_refresh",
          arguments: {},
          ...(inputResponses && { inputResponses }),
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": { name: "t", version: "1" },
            "io.modelcontextprotocol/clientCapabilities": capabilities,
          },
        },
      }),
    }),
  );
  return ((await response.json()) as { result: Record<string, unknown> }).result;
}

describe("a tool that needs offline access, on 2026-07-28", () => {
  it("asks a client that declares URL elicitation to open /connect, as an input_required result", async () => {
    const before = ran;
    const result = await callModern(offline({ state: "none" }), { elicitation: { url: {} } });
    expect(result).toMatchObject({
      resultType: "input_required",
      inputRequests: {
        connect: { method: "elicitation/create", params: { mode: "url", url: CONNECT } },
      },
    });
    expect(ran).toBe(before);
  });

  it("runs the tool on the retry once the grant is there", async () => {
    const before = ran;
    const result = await callModern(
      offline({ state: "active", grant: grant({}) }),
      { elicitation: { url: {} } },
      { connect: { action: "accept" } },
    );
    expect(result).toMatchObject({ structuredContent: { ok: true } });
    expect(ran).toBe(before + 1);
  });

  it("answers a retry that still finds no grant with text naming the URL, not another round", async () => {
    const result = await callModern(
      offline({ state: "none" }),
      { elicitation: { url: {} } },
      { connect: { action: "accept" } },
    );
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/still not granted.*\/connect/);
  });

  it("answers a client without URL elicitation with text naming the URL", async () => {
    const result = await callModern(offline({ state: "none" }), {});
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain(CONNECT);
  });
});

describe("offline_access_status", () => {
  it("reports each state with the URLs", async () => {
    const none = await call("offline_access_status", offline({ state: "none" }));
    expect(none.structuredContent).toMatchObject({ status: "not_granted", connectUrl: CONNECT });
    expect(JSON.stringify(none.content)).toContain(CONNECT);

    const active = await call("offline_access_status", offline({ state: "active", grant: grant({}) }));
    expect(active.structuredContent).toMatchObject({
      status: "granted",
      grantedAt: "2026-11-01T10:00:00.000Z",
      lastRefreshedAt: "2026-11-20T10:00:00.000Z",
    });

    const revoked = await call(
      "offline_access_status",
      offline({
        state: "revoked",
        grant: grant({
          status: "revoked",
          revoked_at: new Date("2026-11-21T00:00:00Z"),
          revoked_reason: "logout",
        }),
      }),
    );
    expect(revoked.structuredContent).toMatchObject({ status: "revoked", revokedReason: "logout" });
    expect(JSON.stringify(revoked.content)).toMatch(/logout.*connect/);

    const disabled = await call("offline_access_status", offline({ state: "none" }, { enabled: false }));
    expect(disabled.structuredContent).toMatchObject({ status: "disabled" });
  });
});

describe("the memory of client capabilities", () => {
  it("remembers URL elicitation from initialize, per key, until it expires", () => {
    const memory = new ClientCapabilityMemory({ ttlMs: 1000, max: 2 });
    const caps = initializeCapabilities({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { capabilities: { elicitation: { url: {} } } },
    });
    memory.remember("a", caps, 0);
    memory.remember(
      "b",
      initializeCapabilities({ method: "initialize", params: { capabilities: { elicitation: {} } } }),
      0,
    );
    expect(memory.urlElicitation("a", 10)).toBe(true);
    expect(memory.urlElicitation("b", 10)).toBe(false);
    expect(memory.urlElicitation("a", 1000)).toBe(false);
    memory.remember("c", caps, 0);
    memory.remember("d", caps, 0);
    expect(memory.urlElicitation("b", 10)).toBe(false);
    expect(memory.urlElicitation("d", 10)).toBe(true);
    expect(initializeCapabilities({ method: "tools/list" })).toBeUndefined();
  });
});
