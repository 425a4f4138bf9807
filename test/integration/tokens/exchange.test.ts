// exchangeToken against the real Keycloak, down its error ladder: each way the exchange can fail
// maps to a GatewayError whose description says who must do what, and never carries a token.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { exchangeToken } from "../../../src/idp/exchange.ts";
import type { Idp } from "../../../src/idp/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { freePort } from "../../harness/wait.ts";
import { audiences, claims, clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";
import { idpWithTokenEndpoint, loadIdp, startSilentServer, startTokenProxy } from "./support.ts";

const NEXTCLOUD = { audience: "nextcloud", scope: "nextcloud-audience" };
const UNREACHABLE = "The identity provider is unreachable; try again in a moment.";
let browser: Browser;
let idp: Idp;
let mcpToken: string;

beforeAll(async () => {
  browser = await launchBrowser();
  idp = await loadIdp();
  mcpToken = (
    await signIn(browser, {
      config: await clientConfig("mcp-client"),
      redirectUri: "http://127.0.0.1:49342/callback",
      scope: "openid mcp:tools",
      user: DEMO_USERS.bob,
    })
  ).access_token;
});
afterAll(async () => {
  await browser.close();
});

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  const gatewayError = err as GatewayError;
  const visible = `${gatewayError.message} ${gatewayError.description} ${gatewayError.detail ?? ""}`;
  expect(visible).not.toContain(mcpToken);
  expect(visible).not.toContain(inject("realmEnv").MCP_GATEWAY_CLIENT_SECRET);
  return gatewayError;
}

describe("exchangeToken", () => {
  it("gets a bearer access token for the audience, without a refresh token", async () => {
    const token = await exchangeToken(idp, mcpToken, NEXTCLOUD);
    expect(audiences(token.accessToken)).toEqual(["nextcloud"]);
    expect(Object.keys(token).sort()).toEqual(["accessToken", "expiresAt", "issuedTokenType", "scope"]);
  });

  it("takes expiresAt from expires_in on the given clock", async () => {
    const now = Date.UTC(2030, 0, 1);
    const token = await exchangeToken(idp, mcpToken, NEXTCLOUD, { now: () => now });
    const { iat, exp } = claims(token.accessToken);
    expect(token.expiresAt).toBe(now / 1000 + (exp ?? 0) - (iat ?? 0));
  });
});

describe("exchangeToken when the IdP cannot be reached", () => {
  it("answers temporarily_unavailable when nothing listens at the token endpoint", async () => {
    const closed = `http://127.0.0.1:${await freePort()}/token`;
    const err = await refusal(exchangeToken(idpWithTokenEndpoint(idp, closed), mcpToken, NEXTCLOUD));
    expect(err.code).toBe("temporarily_unavailable");
    expect(err.status).toBe(503);
    expect(err.description).toBe(UNREACHABLE);
    expect(err.detail).toContain(closed);
    expect(err.detail).toMatch(/ECONNREFUSED/);
  });

  it("answers temporarily_unavailable when a proxy in front of the IdP says 502", async () => {
    const proxy = await startTokenProxy(idp.metadata.token_endpoint ?? "");
    try {
      const through = idpWithTokenEndpoint(idp, proxy.url);
      expect(audiences((await exchangeToken(through, mcpToken, NEXTCLOUD)).accessToken)).toEqual([
        "nextcloud",
      ]);
      proxy.upstreamDown();
      const err = await refusal(exchangeToken(through, mcpToken, NEXTCLOUD));
      expect(err.code).toBe("temporarily_unavailable");
      expect(err.description).toBe(UNREACHABLE);
    } finally {
      await proxy.close();
    }
  });

  it("answers temporarily_unavailable when the token endpoint does not answer in time", async () => {
    const silent = await startSilentServer();
    try {
      const err = await refusal(
        exchangeToken(idpWithTokenEndpoint(idp, silent.url, 0.2), mcpToken, NEXTCLOUD),
      );
      expect(err.code).toBe("temporarily_unavailable");
      expect(err.detail).toMatch(/timed out/);
    } finally {
      await silent.close();
    }
  });

  it("stops waiting when the caller's signal aborts, with the signal's reason", async () => {
    const silent = await startSilentServer();
    try {
      const controller = new AbortController();
      const reason = new Error("the MCP request was cancelled");
      const pending = exchangeToken(idpWithTokenEndpoint(idp, silent.url), mcpToken, NEXTCLOUD, {
        signal: controller.signal,
      });
      await silent.connected;
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
    } finally {
      await silent.close();
    }
  });
});

describe("exchangeToken when the gateway or the realm is misconfigured", () => {
  it("names OIDC_CLIENT_SECRET when the client secret is wrong", async () => {
    const wrong = await loadIdp("mcp-gateway", "not-the-secret-of-mcp-gateway");
    const err = await refusal(exchangeToken(wrong, mcpToken, NEXTCLOUD));
    expect(err.code).toBe("server_error");
    expect(err.status).toBe(500);
    expect(err.description).toMatch(/check OIDC_CLIENT_ID \(mcp-gateway\) and OIDC_CLIENT_SECRET/);
    expect(err.detail).toMatch(/401 unauthorized_client/);
    expect(`${err.description} ${err.detail ?? ""}`).not.toContain("not-the-secret-of-mcp-gateway");
  });

  it("names standard.token.exchange.enabled when the client may not exchange", async () => {
    const nextcloudClient = await loadIdp("nextcloud", inject("realmEnv").NEXTCLOUD_CLIENT_SECRET);
    const err = await refusal(exchangeToken(nextcloudClient, mcpToken, NEXTCLOUD));
    expect(err.code).toBe("server_error");
    expect(err.description).toMatch(/not enabled for the gateway client nextcloud/);
    expect(err.description).toMatch(/standard\.token\.exchange\.enabled/);
    expect(err.detail).toMatch(/invalid_request "Standard token exchange is not enabled/);
  });

  it("names the audience scope and its mapper when the audience is not available to the gateway", async () => {
    const err = await refusal(exchangeToken(idp, mcpToken, { audience: "nextcloud" }));
    expect(err.code).toBe("server_error");
    expect(err.description).toMatch(
      /mcp-gateway needs the nextcloud-audience client scope, with an audience mapper that adds nextcloud/,
    );
    expect(err.detail).toMatch(/"Requested audience not available: nextcloud"/);
  });

  it("names the audience scope and its mapper when the scope is not one of the gateway's", async () => {
    const err = await refusal(
      exchangeToken(idp, mcpToken, { audience: "nextcloud", scope: "no-such-scope" }),
    );
    expect(err.code).toBe("server_error");
    expect(err.description).toMatch(
      /needs the no-such-scope client scope, with an audience mapper that adds nextcloud/,
    );
    expect(err.detail).toMatch(/400 invalid_scope/);
  });

  it("says the audience must be Nextcloud's client id when the IdP knows no such client", async () => {
    const err = await refusal(
      exchangeToken(idp, mcpToken, { audience: "no-such-client", scope: "nextcloud-audience" }),
    );
    expect(err.code).toBe("server_error");
    expect(err.description).toMatch(/knows no enabled client "no-such-client"/);
    expect(err.detail).toMatch(/invalid_client "Audience not found"/);
  });
});
