// RFC 8693 exchange by the gateway client: an MCP token becomes a Nextcloud-audience token for
// the same user; a token that does not name the gateway in aud is refused.
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { audiences, claims, clientConfig, DEMO_USERS, gatewayClient, signIn } from "../support/oauth.ts";

const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const redirectUri = "http://127.0.0.1:49322/callback";
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
});

async function exchange(subjectToken: string) {
  return oidc.genericGrantRequest(await gatewayClient(), TOKEN_EXCHANGE, {
    subject_token: subjectToken,
    subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
    audience: "nextcloud",
    scope: "nextcloud-audience",
  });
}

describe("token exchange (RFC 8693) by mcp-gateway", () => {
  it("turns an MCP token into a token for nextcloud with the same subject", async () => {
    const mcp = await signIn(browser, {
      config: await clientConfig("mcp-client"),
      redirectUri,
      scope: "openid mcp:tools",
      user: DEMO_USERS.bob,
    });
    const exchanged = await exchange(mcp.access_token);
    expect(exchanged.issued_token_type).toBe("urn:ietf:params:oauth:token-type:access_token");
    expect(exchanged.token_type.toLowerCase()).toBe("bearer");
    expect(exchanged.refresh_token).toBeUndefined();
    expect(audiences(exchanged.access_token)).toEqual(["nextcloud"]);
    expect(claims(exchanged.access_token).sub).toBe(claims(mcp.access_token).sub);
    expect(claims(exchanged.access_token).azp).toBe("mcp-gateway");
  });

  it("refuses a token whose audience does not name the gateway", async () => {
    const plain = await signIn(browser, {
      config: await clientConfig("mcp-client"),
      redirectUri,
      scope: "openid",
      user: DEMO_USERS.bob,
    });
    const err = await exchange(plain.access_token).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(oidc.ResponseBodyError);
    const body = err as oidc.ResponseBodyError;
    expect(body.status).toBe(403);
    expect(body.error).toBe("access_denied");
    expect(body.error_description).toMatch(/not within the token audience/);
  });

  it("refuses a public client that tries to exchange", async () => {
    const mcp = await signIn(browser, {
      config: await clientConfig("mcp-client"),
      redirectUri,
      scope: "openid mcp:tools",
      user: DEMO_USERS.bob,
    });
    const err = await oidc
      .genericGrantRequest(await clientConfig("mcp-client"), TOKEN_EXCHANGE, {
        subject_token: mcp.access_token,
        subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
        audience: "nextcloud",
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(oidc.ResponseBodyError);
    const body = err as oidc.ResponseBodyError;
    expect(body.status).toBe(400);
    expect(`${body.error}: ${body.error_description ?? ""}`).toMatch(
      /^(invalid_request: Standard token exchange is not enabled|invalid_client: Public client is not allowed)/,
    );
  });
});
