// The token broker against the real Keycloak: a signed-in user's MCP token becomes a Nextcloud
// token for the same user, once per token and replica, also under concurrent calls; tokens the
// realm will not exchange give errors that say what to do.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import type { Idp } from "../../../src/idp/index.ts";
import { TokenBroker } from "../../../src/tokens/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { audiences, claims, clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";
import { loadIdp } from "./support.ts";

const redirectUri = "http://127.0.0.1:49341/callback";
let browser: Browser;
let idp: Idp;
let mcpToken: string;
let plainToken: string;

beforeAll(async () => {
  browser = await launchBrowser();
  idp = await loadIdp();
  const config = await clientConfig("mcp-client");
  mcpToken = (
    await signIn(browser, { config, redirectUri, scope: "openid mcp:tools", user: DEMO_USERS.alice })
  ).access_token;
  plainToken = (await signIn(browser, { config, redirectUri, scope: "openid", user: DEMO_USERS.alice }))
    .access_token;
});
afterAll(async () => {
  await browser.close();
});

function broker(): TokenBroker {
  return new TokenBroker({
    idp: () => Promise.resolve(idp),
    audience: "nextcloud",
    scope: "nextcloud-audience",
  });
}

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

/** Nothing a client or a log line sees carries a token. */
function expectNoToken(err: GatewayError, ...tokens: string[]) {
  const visible = `${err.message} ${err.description} ${err.detail ?? ""}`;
  for (const token of tokens) expect(visible).not.toContain(token);
}

describe("TokenBroker with Keycloak", () => {
  it("exchanges an MCP token for a Nextcloud token of the same user, then serves it from the cache", async () => {
    const b = broker();
    const token = await b.nextcloudToken(mcpToken);
    expect(token.issuedTokenType).toBe("urn:ietf:params:oauth:token-type:access_token");
    expect(audiences(token.accessToken)).toEqual(["nextcloud"]);
    expect(claims(token.accessToken).sub).toBe(claims(mcpToken).sub);
    expect(claims(token.accessToken).azp).toBe("mcp-gateway");
    expect(Math.abs(token.expiresAt - (claims(token.accessToken).exp ?? 0))).toBeLessThanOrEqual(2);
    expect(token.scope?.split(" ")).toContain("nextcloud-audience");

    expect(await b.nextcloudToken(mcpToken)).toBe(token);
    expect(b.stats).toEqual({ exchanges: 1, cacheHits: 1, failures: 0 });
  });

  it("makes exactly one exchange for 10 concurrent calls with a token it has not seen", async () => {
    const b = broker();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => b.nextcloudToken(mcpToken)));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(b.stats).toEqual({ exchanges: 1, cacheHits: 0, failures: 0 });
  });

  it("refuses a token without the gateway audience with access_denied naming the realm setting", async () => {
    const b = broker();
    const err = await refusal(b.nextcloudToken(plainToken));
    expect(err.code).toBe("access_denied");
    expect(err.status).toBe(403);
    expect(err.description).toMatch(/must name the gateway client \(mcp-gateway\) in its audience/);
    expect(err.description).toMatch(
      /mcp:tools client scope needs an audience mapper for the mcp-gateway client/,
    );
    expect(err.detail).toMatch(/403 access_denied "Client is not within the token audience"/);
    expectNoToken(err, plainToken);
    expect(b.stats).toEqual({ exchanges: 1, cacheHits: 0, failures: 1 });

    await refusal(b.nextcloudToken(plainToken));
    expect(b.stats).toEqual({ exchanges: 2, cacheHits: 0, failures: 2 });
  });

  it("answers a garbage subject token with invalid_token: sign in again", async () => {
    const garbage = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.bm90LWEtc2lnbmF0dXJl";
    const err = await refusal(broker().nextcloudToken(garbage));
    expect(err.code).toBe("invalid_token");
    expect(err.status).toBe(401);
    expect(err.description).toBe("Your sign-in is no longer valid; sign in again.");
    expect(err.detail).toMatch(/400 invalid_request "Invalid token"/);
    expectNoToken(err, garbage);
  });
});
