// End to end: the official MCP SDK client discovers the gateway's protected resource metadata,
// finds Keycloak, registers dynamically (or uses the pre-registered public client), the user signs
// in on Keycloak's real login page in Chromium, and tools/list and server_info work.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { BrowserOAuthProvider, connectWithSignIn } from "../support/sdk-client.ts";

const kc = inject("keycloak");
const realmEnv = inject("realmEnv");
const mcpUrl = `${realmEnv.MCP_GATEWAY_URL}/mcp`;
let browser: Browser;
let gw: TestGateway;
let standin: NextcloudStandin;

beforeAll(async () => {
  standin = await startNextcloudStandin({ issuer: kc.issuer, audience: "nextcloud" });
  // The SDK checks that the metadata's resource matches the URL it connects to: the realm's URL.
  gw = await startTestGateway({ port: inject("gatewayPort"), env: { NEXTCLOUD_URL: standin.url } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  await gw.stop();
  await standin.stop();
});

interface ServerInfo {
  subject: string;
  scopes: string[];
  gateway: { name: string };
}

describe("the official MCP SDK client against the gateway and Keycloak", () => {
  it("registers dynamically, signs in, lists tools and calls server_info", async () => {
    const provider = new BrowserOAuthProvider("http://127.0.0.1:38111/callback");
    const client = await connectWithSignIn(browser, mcpUrl, provider, DEMO_USERS.alice);
    try {
      expect(provider.registered).toBe(true);
      // The SDK asked Keycloak for exactly what the 401 challenge named, for this resource.
      const authUrl = provider.authorizationUrl;
      expect(`${authUrl?.origin ?? ""}${authUrl?.pathname ?? ""}`).toBe(
        `${kc.issuer}/protocol/openid-connect/auth`,
      );
      expect(provider.authorizationUrl?.searchParams.get("scope")).toBe("mcp:tools mcp:write");
      expect(provider.authorizationUrl?.searchParams.get("resource")).toBe(mcpUrl);
      expect(provider.authorizationUrl?.searchParams.get("code_challenge_method")).toBe("S256");

      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain("server_info");
      const result = await client.callTool({ name: "server_info", arguments: {} });
      expect(result.isError).toBeFalsy();
      const info = result.structuredContent as ServerInfo;
      const token = provider.tokens()?.access_token ?? "";
      expect(info.subject).toBe(claims(token).sub);
      // The dynamically registered client may ask for write access at the first sign-in.
      expect(info.scopes).toEqual(expect.arrayContaining(["mcp:tools", "mcp:write"]));
      expect(info.gateway.name).toBe("nextcloud-mcp-gateway");
    } finally {
      await client.close();
    }
  });

  it("works the same with the pre-registered public client", async () => {
    const provider = new BrowserOAuthProvider("http://127.0.0.1:38112/callback", { client_id: "mcp-client" });
    const client = await connectWithSignIn(browser, mcpUrl, provider, DEMO_USERS.bob);
    try {
      expect(provider.registered).toBe(false);
      expect(claims(provider.tokens()?.access_token ?? "").azp).toBe("mcp-client");
      const result = await client.callTool({ name: "server_info", arguments: {} });
      expect((result.structuredContent as ServerInfo).subject).toBe(
        claims(provider.tokens()?.access_token ?? "").sub,
      );
    } finally {
      await client.close();
    }
  });

  it("signs in on a toolset URL (/mcp?apps=…) for the gateway's resource and lists only that toolset", async () => {
    const provider = new BrowserOAuthProvider("http://127.0.0.1:38113/callback", { client_id: "mcp-client" });
    const client = await connectWithSignIn(browser, `${mcpUrl}?apps=files`, provider, DEMO_USERS.alice);
    try {
      // The token is for the gateway's one resource, whatever the toolset in the URL.
      expect(provider.authorizationUrl?.searchParams.get("resource")).toBe(mcpUrl);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("server_info");
      expect(names.some((n) => n.startsWith("files_"))).toBe(true);
      expect(names.some((n) => n.startsWith("notes_"))).toBe(false);
    } finally {
      await client.close();
    }
  });
});
