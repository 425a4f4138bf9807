// /mcp serves the 2026-07-28 revision (stateless: `_meta` per request, server/discover) beside the
// 2025 ones, to the SDK 2.x client and the SDK 1.x client, with a real Keycloak token and real
// tools reaching the Nextcloud stand-in through the token exchange.
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { claims, clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";

const kc = inject("keycloak");
let gw: TestGateway;
let standin: NextcloudStandin;
let token: string;
let mcpUrl: URL;

beforeAll(async () => {
  standin = await startNextcloudStandin({ issuer: kc.issuer, audience: "nextcloud" });
  gw = await startTestGateway({ env: { NEXTCLOUD_URL: standin.url } });
  mcpUrl = new URL("/mcp", gw.gateway.url);
  const browser: Browser = await launchBrowser();
  try {
    token = (
      await signIn(browser, {
        config: await clientConfig("mcp-client"),
        redirectUri: "http://127.0.0.1:38133/callback",
        scope: "openid mcp:tools",
        user: DEMO_USERS.alice,
      })
    ).access_token;
  } finally {
    await browser.close();
  }
});

afterAll(async () => {
  await gw.stop();
  await standin.stop();
});

const auth = () => ({ authorization: `Bearer ${token}` });

async function clientV2(mode: "auto" | { pin: string }): Promise<Client> {
  const client = new Client({ name: "revisions-test", version: "0" }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: auth() } }));
  return client;
}

async function clientV1(): Promise<ClientV1> {
  const client = new ClientV1({ name: "revisions-test", version: "0" });
  await client.connect(new TransportV1(mcpUrl, { requestInit: { headers: auth() } }));
  return client;
}

interface ServerInfo {
  subject: string;
  protocolVersions: string[];
}

describe("the SDK 2.x client on 2026-07-28", () => {
  it.each(["auto", { pin: "2026-07-28" }] as const)(
    "negotiates 2026-07-28 (mode %j), lists tools and calls them, a Nextcloud one included",
    async (mode) => {
      const client = await clientV2(mode);
      try {
        expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
        expect(client.getServerVersion()?.name).toBe("nextcloud-mcp-gateway");
        const names = (await client.listTools()).tools.map((t) => t.name);
        expect(names).toEqual(expect.arrayContaining(["server_info", "notes_list"]));
        const info = await client.callTool({ name: "server_info", arguments: {} });
        expect((info.structuredContent as ServerInfo).subject).toBe(claims(token).sub);
        const notes = await client.callTool({ name: "notes_list", arguments: {} });
        expect(notes.isError, JSON.stringify(notes.content)).toBeFalsy();
        expect(notes.structuredContent).toHaveProperty("notes");
        // An unknown tool is a protocol error whose message is the gateway's own words, once.
        const err = await client.callTool({ name: "no_such_tool", arguments: {} }).then(
          () => undefined,
          (e: unknown) => e as { code?: number; message?: string },
        );
        expect(err?.code).toBe(-32602);
        expect(err?.message).not.toMatch(/MCP error -32602: MCP error/);
        expect(err?.message).toMatch(/Unknown tool: "no_such_tool"/);
      } finally {
        await client.close();
      }
    },
  );
});

describe("the SDK 1.x client on 2025-11-25", () => {
  it("initializes, lists and calls tools; an unknown tool's message has one prefix", async () => {
    const client = await clientV1();
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["server_info", "notes_list"]));
      const info = await client.callTool({ name: "server_info", arguments: {} });
      expect((info.structuredContent as ServerInfo).protocolVersions).toEqual(
        expect.arrayContaining(["2026-07-28", "2025-11-25", "2025-06-18"]),
      );
      const notes = await client.callTool({ name: "notes_list", arguments: {} });
      expect(notes.isError, JSON.stringify(notes.content)).toBeFalsy();
      const err = await client.callTool({ name: "no_such_tool", arguments: {} }).then(
        () => undefined,
        (e: unknown) => e as { code?: number; message?: string },
      );
      expect(err?.code).toBe(-32602);
      expect(err?.message).toMatch(/^MCP error -32602: Unknown tool: "no_such_tool"/);
    } finally {
      await client.close();
    }
  });
});

/** A raw POST to /mcp with the token. */
async function post(body: unknown, headers: Record<string, string>) {
  return fetch(mcpUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...auth(),
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

const META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "raw", version: "0" },
  "io.modelcontextprotocol/clientCapabilities": {},
};

describe("/mcp on the wire", () => {
  it("on 2025-06-18: initialize, then tools/list with the version header", async () => {
    const init = await post(
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "raw", version: "0" },
        },
      },
      {},
    );
    expect(await init.json()).toMatchObject({ result: { protocolVersion: "2025-06-18" } });
    const list = await post(
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      { "mcp-protocol-version": "2025-06-18" },
    );
    const body = (await list.json()) as { result: Record<string, unknown> };
    expect(body.result.tools).toBeDefined();
    // Cache hints belong to 2026-07-28 only.
    expect(body.result).not.toHaveProperty("ttlMs");
  });

  it("on 2026-07-28: tools/list carries ttlMs and cacheScope; Mcp-Method is required", async () => {
    const headers = { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list" };
    const list = await post(
      { jsonrpc: "2.0", id: 3, method: "tools/list", params: { _meta: META } },
      headers,
    );
    expect(list.status).toBe(200);
    expect(list.headers.get("mcp-session-id")).toBeNull();
    expect(await list.json()).toMatchObject({ result: { ttlMs: 300_000, cacheScope: "private" } });
    const noMethod = await post(
      { jsonrpc: "2.0", id: 4, method: "tools/list", params: { _meta: META } },
      { "mcp-protocol-version": "2026-07-28" },
    );
    expect(noMethod.status).toBe(400);
    expect(JSON.stringify(await noMethod.json())).toMatch(/Mcp-Method/);
  });
});
