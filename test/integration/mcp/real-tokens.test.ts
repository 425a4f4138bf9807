// /mcp with tokens minted by the real Keycloak: only tokens issued for the gateway's resource
// pass; a token from another realm, one without the gateway audience, and a Nextcloud token
// obtained by exchange (token passthrough the other way round) are all refused.
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { adminToken } from "../../harness/keycloak.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { clientConfig, DEMO_USERS, gatewayClient, signIn } from "../support/oauth.ts";

const kc = inject("keycloak");
let browser: Browser;
let gw: TestGateway;
let mcpToken: string;
let plainToken: string;
let otherTokens: { id: string; refresh: string };

beforeAll(async () => {
  gw = await startTestGateway();
  browser = await launchBrowser();
  const config = await clientConfig("mcp-client");
  const redirectUri = "http://127.0.0.1:38120/callback";
  const signedIn = await signIn(browser, {
    config,
    redirectUri,
    scope: "openid mcp:tools",
    user: DEMO_USERS.alice,
  });
  mcpToken = signedIn.access_token;
  otherTokens = { id: signedIn.id_token ?? "", refresh: signedIn.refresh_token ?? "" };
  plainToken = (await signIn(browser, { config, redirectUri, scope: "openid", user: DEMO_USERS.alice }))
    .access_token;
});
afterAll(async () => {
  await browser.close();
  await gw.stop();
});

function listTools(token: string) {
  return fetch(`${gw.gateway.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
}

function expectRefused(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toMatch(
    /^Bearer resource_metadata="http:\/\/localhost:\d+\/\.well-known\/oauth-protected-resource\/mcp", scope="mcp:tools mcp:write", error="invalid_token"/,
  );
}

describe("/mcp with real Keycloak tokens", () => {
  it("accepts a token issued for the gateway (mcp:tools)", async () => {
    const res = await listTools(mcpToken);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { tools: { name: string }[] } };
    expect(body.result.tools.map((t) => t.name)).toContain("server_info");
  });

  it("refuses a token of the same realm that does not name the gateway in aud", async () => {
    expectRefused(await listTools(plainToken));
  });

  it("refuses the ID token and the refresh token of the same sign-in", async () => {
    expect(otherTokens.id).not.toBe("");
    expect(otherTokens.refresh).not.toBe("");
    expectRefused(await listTools(otherTokens.id));
    expectRefused(await listTools(otherTokens.refresh));
  });

  it("refuses a token from another realm", async () => {
    expectRefused(await listTools(await adminToken(kc)));
  });

  it("refuses a Nextcloud-audience token obtained by exchange", async () => {
    const exchanged = await oidc.genericGrantRequest(
      await gatewayClient(),
      "urn:ietf:params:oauth:grant-type:token-exchange",
      {
        subject_token: mcpToken,
        subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
        audience: "nextcloud",
        scope: "nextcloud-audience",
      },
    );
    expectRefused(await listTools(exchanged.access_token));
  });
});
