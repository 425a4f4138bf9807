// Offline grant of the gateway client (as /connect will request it): the refresh token rotates, a
// used one works once more (the realm's reuse allowance of one, ADR 0018) and then is dead, and the
// access tokens it yields are for Nextcloud.
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { audiences, claims, DEMO_USERS, gatewayClient, signIn } from "../support/oauth.ts";

const realmEnv = inject("realmEnv");
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
});

describe("refresh token rotation", () => {
  it("issues an offline token that replaces the previous one, which works once more and then is dead", async () => {
    const config = await gatewayClient();
    const first = await signIn(browser, {
      config,
      redirectUri: `${realmEnv.MCP_GATEWAY_URL}/oauth/callback`,
      scope: "openid offline_access nextcloud-audience",
      user: DEMO_USERS.alice,
    });
    const rt1 = first.refresh_token;
    if (rt1 === undefined) throw new Error("no refresh token");
    expect(claims(rt1).typ).toBe("Offline");
    expect(audiences(first.access_token)).toContain("nextcloud");

    const second = await oidc.refreshTokenGrant(config, rt1);
    const rt2 = second.refresh_token;
    expect(rt2).toBeDefined();
    expect(rt2).not.toBe(rt1);
    expect(audiences(second.access_token)).toContain("nextcloud");
    expect(claims(second.access_token).sub).toBe(claims(first.access_token).sub);

    // The one reuse: what a gateway that died before storing rt2 does with the rt1 it still holds.
    const retried = await oidc.refreshTokenGrant(config, rt1);
    expect(claims(retried.access_token).sub).toBe(claims(first.access_token).sub);
    const reuse = await oidc.refreshTokenGrant(config, rt1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(reuse).toBeInstanceOf(oidc.ResponseBodyError);
    expect((reuse as oidc.ResponseBodyError).error).toBe("invalid_grant");
  });
});
