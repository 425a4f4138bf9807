// The /connect answer end to end, with the real Keycloak and PostgreSQL: an MCP client calls a tool
// that needs offline access, gets the /connect URL the way its protocol revision carries it (on
// 2026-07-28 an input_required result with a URL elicitation, on 2025-11-25 the JSON-RPC error
// -32042), headless Chromium opens that URL, signs in at Keycloak and grants, and the retried call
// runs the tool. The tool is a fixture (no shipped tool needs offline access yet) in the real gateway.
import { randomBytes } from "node:crypto";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { Browser } from "playwright-core";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { defineGroup, gatewayGroup, toolMaker } from "../../../src/mcp/index.ts";
import { GrantStore, openStore, Sealer, type Store } from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { grantOfflineAccess } from "../support/offline-grant.ts";
import { claims, clientConfig, signIn } from "../support/oauth.ts";
import { admin, createUser } from "./support.ts";

const base = inject("realmEnv").MCP_GATEWAY_URL;
const mcpUrl = new URL(`${base}/mcp`);
const sealingKey = { kid: "e2e", key: new Uint8Array(randomBytes(32)) };

/** Works for the user in the background, so it needs their offline access; says who it ran for. */
const backgroundGroup = defineGroup({
  id: "background",
  title: "Background work (test fixture)",
  description: "A tool that needs offline access.",
  tools: [
    toolMaker("background", { capability: null }).read({
      name: "background_check",
      title: "Background check",
      description: "Runs only for a user who granted offline access (test fixture).",
      input: z.object({}),
      output: z.object({ subject: z.string() }),
      requiresOfflineAccess: true,
      handler: (_args, ctx) => Promise.resolve({ subject: ctx.subject }),
    }),
  ],
});

let browser: Browser;
let gw: TestGateway;
let store: Store;
let grants: GrantStore;

beforeAll(async () => {
  // The realm's redirect URI points at this port (the /connect sign-in comes back to it).
  gw = await startTestGateway({
    port: inject("gatewayPort"),
    env: {
      SEALING_KEYS: `e2e:${Buffer.from(sealingKey.key).toString("base64")}`,
      // The default toolset names app groups this gateway does not have.
      MCP_DEFAULT_APPS: "all",
    },
    groups: [gatewayGroup, backgroundGroup],
  });
  browser = await launchBrowser();
  store = await openStore({ backend: "postgres", url: gw.databaseUrl, poolMax: 2 });
  grants = new GrantStore(store.db, new Sealer([sealingKey]));
}, 300_000);
afterAll(async () => {
  await browser.close();
  await store.close();
  await gw.stop();
});

/** A user of its own, signed in at Keycloak through the MCP client: their MCP access token. */
async function mcpUser(prefix: string) {
  const user = await createUser(prefix);
  const { access_token: token } = await signIn(browser, {
    config: await clientConfig("mcp-client"),
    redirectUri: "http://127.0.0.1:38134/callback",
    scope: "openid mcp:tools",
    user,
  });
  return { user, token, headers: { authorization: `Bearer ${token}` } };
}

async function grantOf(subject: string) {
  const row = await store.db
    .selectFrom("users")
    .select("id")
    .where("subject", "=", subject)
    .executeTakeFirst();
  return row === undefined ? undefined : grants.latestGrant(row.id);
}

/** Opens `url` in a fresh browser context and grants offline access there as `user`. */
async function openAndGrant(url: string, user: { username: string; password: string }): Promise<void> {
  const context = await browser.newContext();
  try {
    await grantOfflineAccess(await context.newPage(), user, { start: url });
  } finally {
    await context.close();
  }
}

describe("a tool that needs offline access, called without it", () => {
  it("on 2026-07-28: the client follows the URL elicitation to /connect, the user grants, the retried call runs", async () => {
    const { user, token, headers } = await mcpUser("mrtr");
    const subject = claims(token).sub ?? "";
    const client = new Client(
      { name: "connect-2026", version: "0" },
      { capabilities: { elicitation: { url: {} } }, versionNegotiation: { mode: { pin: "2026-07-28" } } },
    );
    const asked: { mode?: string; url?: string; message?: string }[] = [];
    client.setRequestHandler("elicitation/create", async (request) => {
      const { params } = request;
      asked.push(params);
      if (!("url" in params)) return { action: "decline" };
      // Nothing granted yet when the gateway asks.
      expect(await grantOf(subject)).toBeUndefined();
      await openAndGrant(params.url, user);
      return { action: "accept" };
    });
    try {
      await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers } }));
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");

      const result = await client.callTool({ name: "background_check", arguments: {} });
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatchObject({ mode: "url", url: `${base}/connect` });
      expect(asked[0]?.message).toMatch(/needs offline access/);
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(result.structuredContent).toEqual({ subject });
      expect((await grantOf(subject))?.status).toBe("active");

      // Granted: the next call runs at once, no elicitation.
      const again = await client.callTool({ name: "background_check", arguments: {} });
      expect(again.structuredContent).toEqual({ subject });
      expect(asked).toHaveLength(1);
    } finally {
      await client.close();
      await admin("DELETE", `/users/${user.id}`);
    }
  });

  it("on 2025-11-25: the call fails with -32042 naming /connect, the user grants there, the call again runs", async () => {
    const { user, token, headers } = await mcpUser("urlerr");
    const subject = claims(token).sub ?? "";
    const client = new ClientV1(
      { name: "connect-2025", version: "0" },
      { capabilities: { elicitation: { url: {} } } },
    );
    try {
      const transport = new TransportV1(mcpUrl, { requestInit: { headers } });
      await client.connect(transport);
      expect(transport.protocolVersion).toBe("2025-11-25");

      const refused = await client.callTool({ name: "background_check", arguments: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(McpError);
      const error = refused as McpError;
      expect(error.code).toBe(-32042);
      const [elicitation] = (error.data as { elicitations: { mode: string; url: string }[] }).elicitations;
      expect(elicitation).toMatchObject({ mode: "url", url: `${base}/connect` });
      expect(await grantOf(subject)).toBeUndefined();

      await openAndGrant(elicitation?.url ?? "", user);
      const result = await client.callTool({ name: "background_check", arguments: {} });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(result.structuredContent).toEqual({ subject });
      expect((await grantOf(subject))?.status).toBe("active");
    } finally {
      await client.close();
      await admin("DELETE", `/users/${user.id}`);
    }
  });
});
