// A tool call reaches Nextcloud as the signed-in user: the gateway exchanges the MCP token at the
// real Keycloak for a Nextcloud-audience token; the MCP token itself never reaches Nextcloud.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway } from "../support/gateway.ts";
import { listToolNames } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { audiences, claims } from "../support/oauth.ts";

let scene: NextcloudScene;
let alice: string;

beforeAll(async () => {
  scene = await startNextcloudScene();
  alice = await scene.signIn("alice");
});
afterAll(async () => {
  await scene.stop();
});

describe("tools reach Nextcloud through token exchange", () => {
  it("whoami answers as the signed-in user", async () => {
    expect(await scene.listTools(alice)).toContain("whoami");
    const r = await scene.call(alice, "whoami");
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent?.userId).toBe(claims(alice).sub);
    expect(r.content[0]?.text).toMatch(/^Nextcloud user /);
  });

  it("sends Nextcloud only exchanged tokens, never the MCP token", async () => {
    await scene.call(alice, "whoami");
    expect(scene.standin.seenTokens.length).toBeGreaterThan(0);
    expect(scene.standin.seenTokens).not.toContain(alice);
    for (const t of scene.standin.seenTokens) {
      expect(audiences(t)).toEqual(["nextcloud"]);
      expect(claims(t).azp).toBe("mcp-gateway");
      expect(claims(t).sub).toBe(claims(alice).sub);
    }
  });

  it("exchanges once per MCP token and counts it on /metrics", async () => {
    await scene.call(alice, "whoami");
    const res = await fetch(`${scene.gatewayUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1]);
    expect(value("gateway_token_exchanges_total")).toBe(1);
    expect(value("gateway_token_exchange_cache_hits_total")).toBeGreaterThan(0);
    expect(value("gateway_token_exchange_failures_total")).toBe(0);
    expect(value("gateway_token_exchanges_in_flight")).toBe(0);
    expect(value("gateway_token_exchanges_waiting")).toBe(0);
    expect(value("gateway_token_exchange_stalls_total")).toBe(0);
    expect(value("gateway_token_verify_cache_hits_total")).toBeGreaterThan(0);
    expect(text).not.toContain(alice);
  });

  it("hides Nextcloud tools when the gateway has no NEXTCLOUD_URL", async () => {
    const bare = await startTestGateway();
    try {
      expect(await listToolNames(bare.gateway.url, alice)).toEqual(["offline_access_status", "server_info"]);
    } finally {
      await bare.stop();
    }
  });
});
