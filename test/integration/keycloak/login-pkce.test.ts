// A user signs in on Keycloak's real login page (authorization code + PKCE S256) with the
// pre-registered public MCP client; the token's audience and scope depend on mcp:tools.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { audiences, claims, clientConfig, DEMO_USERS, scopes, signIn } from "../support/oauth.ts";

const realmEnv = inject("realmEnv");
const kc = inject("keycloak");
const resource = `${realmEnv.MCP_GATEWAY_URL}/mcp`;
const redirectUri = "http://127.0.0.1:49321/callback";
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
});

describe("sign-in with authorization code + PKCE S256", () => {
  it("gives aud = [gateway resource URL, mcp-gateway] and scope mcp:tools when mcp:tools is requested", async () => {
    const config = await clientConfig("mcp-client");
    const tokens = await signIn(browser, {
      config,
      redirectUri,
      scope: "openid mcp:tools",
      user: DEMO_USERS.alice,
    });
    const aud = audiences(tokens.access_token);
    expect(aud).toEqual(expect.arrayContaining([resource, "mcp-gateway"]));
    expect(scopes(tokens.access_token)).toContain("mcp:tools");
    expect(scopes(tokens.access_token)).not.toContain("mcp:write");
    expect(claims(tokens.access_token).sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims(tokens.access_token).azp).toBe("mcp-client");
    expect(claims(tokens.access_token).iss).toBe(kc.issuer);
  });

  it("leaves the gateway out of aud and scope when mcp:tools is not requested", async () => {
    const config = await clientConfig("mcp-client");
    const tokens = await signIn(browser, { config, redirectUri, scope: "openid", user: DEMO_USERS.alice });
    expect(audiences(tokens.access_token)).not.toContain(resource);
    expect(audiences(tokens.access_token)).not.toContain("mcp-gateway");
    expect(scopes(tokens.access_token)).not.toContain("mcp:tools");
    expect(claims(tokens.access_token).sub).toBeDefined();
  });

  it("refuses an authorization request without a PKCE challenge", async () => {
    const url = new URL(`${kc.issuer}/protocol/openid-connect/auth`);
    url.search = new URLSearchParams({
      client_id: "mcp-client",
      response_type: "code",
      scope: "openid",
      redirect_uri: redirectUri,
      state: "s",
    }).toString();
    const res = await fetch(url, { redirect: "manual" });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") ?? "");
    expect(location.origin + location.pathname).toBe(redirectUri);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("error_description")).toMatch(/code_challenge_method/);
  });

  it("refuses a redirect to a host that is not loopback", async () => {
    const url = new URL(`${kc.issuer}/protocol/openid-connect/auth`);
    url.search = new URLSearchParams({
      client_id: "mcp-client",
      response_type: "code",
      scope: "openid",
      redirect_uri: "https://attacker.example/callback",
      code_challenge: "x".repeat(43),
      code_challenge_method: "S256",
    }).toString();
    const res = await fetch(url, { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Invalid parameter: redirect_uri/);
  });
});
