// A tool call reaches Nextcloud as the signed-in user: the gateway exchanges the MCP token at the
// real Keycloak for a Nextcloud-audience token; the MCP token itself never reaches Nextcloud.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { callTool, listToolNames } from "../support/mcp-call.ts";
import { audiences, claims, clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";

const kc = inject("keycloak");
let standin: NextcloudStandin;
let gw: TestGateway;
let browser: Browser;
let alice: string;

beforeAll(async () => {
  standin = await startNextcloudStandin({ issuer: kc.issuer, audience: "nextcloud" });
  gw = await startTestGateway({ env: { NEXTCLOUD_URL: standin.url } });
  browser = await launchBrowser();
  alice = (
    await signIn(browser, {
      config: await clientConfig("mcp-client"),
      redirectUri: "http://127.0.0.1:38140/callback",
      scope: "openid mcp:tools mcp:write",
      user: DEMO_USERS.alice,
    })
  ).access_token;
});
afterAll(async () => {
  await browser.close();
  await gw.stop();
  await standin.stop();
});

describe("tools reach Nextcloud through token exchange", () => {
  it("whoami answers as the signed-in user", async () => {
    expect(await listToolNames(gw.gateway.url, alice)).toContain("whoami");
    const r = await callTool(gw.gateway.url, alice, "whoami");
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent?.userId).toBe(claims(alice).sub);
    expect(r.content[0]?.text).toMatch(/^Nextcloud user /);
  });

  it("sends Nextcloud only exchanged tokens, never the MCP token", async () => {
    await callTool(gw.gateway.url, alice, "whoami");
    expect(standin.seenTokens.length).toBeGreaterThan(0);
    expect(standin.seenTokens).not.toContain(alice);
    for (const t of standin.seenTokens) {
      expect(audiences(t)).toEqual(["nextcloud"]);
      expect(claims(t).azp).toBe("mcp-gateway");
      expect(claims(t).sub).toBe(claims(alice).sub);
    }
  });

  it("exchanges once per MCP token and counts it on /metrics", async () => {
    await callTool(gw.gateway.url, alice, "whoami");
    const res = await fetch(`${gw.gateway.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1]);
    expect(value("gateway_token_exchanges_total")).toBe(1);
    expect(value("gateway_token_exchange_cache_hits_total")).toBeGreaterThan(0);
    expect(value("gateway_token_exchange_failures_total")).toBe(0);
    expect(value("gateway_token_verify_cache_hits_total")).toBeGreaterThan(0);
    expect(text).not.toContain(alice);
  });

  it("hides Nextcloud tools when the gateway has no NEXTCLOUD_URL", async () => {
    const bare = await startTestGateway();
    try {
      expect(await listToolNames(bare.gateway.url, alice)).toEqual(["server_info"]);
    } finally {
      await bare.stop();
    }
  });
});
