// The IdP busy or refusing the gateway's client, as a proxy in front of the real Keycloak's token
// endpoint answers it: 429, 5xx with an OAuth JSON body, 400 temporarily_unavailable, and 401 with a
// WWW-Authenticate challenge instead of a body. Through the real exchange and the real refresh of a
// stored offline grant: the classification, the description the user reads, and (for the refresh)
// the grant left exactly as it was, still alive at Keycloak once the proxy forwards again.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { exchangeToken, refreshAtIdp, type Idp } from "../../../src/idp/index.ts";
import {
  GrantStore,
  migrate,
  openStore,
  Sealer,
  type OfflineGrant,
  type Store,
} from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { offlineToken, OFFLINE_SCOPE, saveGrants, sealingKey } from "../jobs/grants-support.ts";
import { audiences, claims, clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";
import { idpWithTokenEndpoint, loadIdp, oauthFault, startTokenProxy, type TokenFault } from "./support.ts";

const NEXTCLOUD = { audience: "nextcloud", scope: "nextcloud-audience" };
const secret = inject("realmEnv").MCP_GATEWAY_CLIENT_SECRET;

/** What a busy IdP (or the proxy in front of it) answers. */
const BUSY: [string, TokenFault][] = [
  ["429 with Retry-After", oauthFault(429, "slow_down", { "retry-after": "30" })],
  ["503 temporarily_unavailable", oauthFault(503, "temporarily_unavailable", { "retry-after": "5" })],
  ["500 server_error", oauthFault(500, "server_error")],
  ["400 temporarily_unavailable", oauthFault(400, "temporarily_unavailable")],
];

/** A 401 whose only explanation is the challenge, as IdPs answer failed client_secret_basic. */
const CHALLENGE: TokenFault = {
  status: 401,
  headers: { "www-authenticate": 'Basic realm="company", error="invalid_client"' },
};

let browser: Browser;
let idp: Idp;
let proxy: Awaited<ReturnType<typeof startTokenProxy>>;
let through: Idp;

beforeAll(async () => {
  browser = await launchBrowser();
  idp = await loadIdp();
  proxy = await startTokenProxy(idp.metadata.token_endpoint ?? "");
  through = idpWithTokenEndpoint(idp, proxy.url);
});
afterAll(async () => {
  await proxy.close();
  await browser.close();
});

async function refusal(promise: Promise<unknown>, ...secrets: string[]): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  const gatewayError = err as GatewayError;
  const visible = `${gatewayError.message} ${gatewayError.description} ${gatewayError.detail ?? ""}`;
  for (const s of [secret, ...secrets]) expect(visible).not.toContain(s);
  return gatewayError;
}

describe("exchangeToken through a proxy that answers for Keycloak", () => {
  let mcpToken: string;
  beforeAll(async () => {
    mcpToken = (
      await signIn(browser, {
        config: await clientConfig("mcp-client"),
        redirectUri: "http://127.0.0.1:49342/callback",
        scope: "openid mcp:tools",
        user: DEMO_USERS.alice,
      })
    ).access_token;
  });

  it.each(BUSY)("IdP busy (%s): temporarily_unavailable, 503, try again", async (_, fault) => {
    proxy.fail(fault);
    const err = await refusal(exchangeToken(through, mcpToken, NEXTCLOUD), mcpToken);
    expect(err.code).toBe("temporarily_unavailable");
    expect(err.status).toBe(503);
    expect(err.description).toBe("The identity provider is unreachable; try again in a moment.");
    expect(err.detail).toContain(`token exchange at ${proxy.url}: ${fault.status} `);
    proxy.heal();
    expect(audiences((await exchangeToken(through, mcpToken, NEXTCLOUD)).accessToken)).toEqual(["nextcloud"]);
  });

  it("401 with a challenge: server_error naming the client id and secret settings", async () => {
    proxy.fail(CHALLENGE);
    const err = await refusal(exchangeToken(through, mcpToken, NEXTCLOUD), mcpToken);
    expect(err.code).toBe("server_error");
    expect(err.description).toBe(
      "The identity provider refused the gateway's client credentials (invalid_client); the operator must check OIDC_CLIENT_ID (mcp-gateway) and OIDC_CLIENT_SECRET.",
    );
    expect(err.detail).toBe(`token exchange at ${proxy.url}: 401 invalid_client`);
    proxy.heal();
  });
});

describe("GrantStore.refresh through a proxy that answers for Keycloak", () => {
  let store: Store;
  let drop: () => Promise<void>;
  let grants: GrantStore;
  let grant: OfflineGrant;
  let rt: string;

  beforeAll(async () => {
    const db = await createTestDatabase(inject("pgAdminUrl"), "idpfaults");
    drop = () => db.drop();
    store = await openStore({ backend: "postgres", url: db.url, poolMax: 2 });
    await migrate(store);
    grants = new GrantStore(store.db, new Sealer([sealingKey("k1")]));
    const token = await offlineToken(browser, DEMO_USERS.bob);
    rt = token.rt;
    const [saved] = await saveGrants(store, grants, [token], {
      issuer: inject("keycloak").issuer,
      scope: OFFLINE_SCOPE,
    });
    if (saved === undefined) throw new Error("no grant");
    grant = saved;
  });
  afterAll(async () => {
    await store.close();
    await drop();
  });

  const row = () =>
    store.db.selectFrom("offline_grants").selectAll().where("id", "=", grant.id).executeTakeFirstOrThrow();
  const refresh = () => grants.refresh(grant.id, (token) => refreshAtIdp(through, token));

  it.each([...BUSY, ["401 with a challenge", CHALLENGE] as [string, TokenFault]])(
    "%s: the grant is left exactly as it was",
    async (_, fault) => {
      const before = await row();
      proxy.fail(fault);
      const refused = proxy.counts.refused;
      const err = await refusal(refresh(), rt);
      expect(proxy.counts.refused).toBe(refused + 1);
      if (fault.status === 401) {
        expect(err.code).toBe("server_error");
        expect(err.description).toContain("OIDC_CLIENT_ID (mcp-gateway) and OIDC_CLIENT_SECRET");
      } else {
        expect(err.code).toBe("temporarily_unavailable");
        expect(err.description).toBe("The identity provider is unreachable; the refresh is retried later.");
      }
      expect(err.detail).toContain(`refresh at ${proxy.url}: ${fault.status} `);
      expect(await row()).toEqual(before);
      proxy.heal();
    },
  );

  it("refreshes at Keycloak once the proxy forwards again: the stored token was never spent", async () => {
    const forwarded = proxy.counts.forwarded;
    const access = await refresh();
    expect(proxy.counts.forwarded).toBe(forwarded + 1);
    expect(claims(access.accessToken).aud).toContain("nextcloud");
    const after = await row();
    expect(after.status).toBe("active");
    expect(after.last_refreshed_at).toBeInstanceOf(Date);
  });
});
