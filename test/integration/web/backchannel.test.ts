// Back-channel logout against the real stores (PostgreSQL and PGlite): a logout token is accepted
// once on any replica, only within LOGOUT_TOKEN_MAX_AGE_SECONDS of its iat, and only with a jti; a
// replay answers 400 as OpenID Back-Channel Logout 1.0 §2.8 says. Tokens are signed here with a
// local key (the handler gets that key set as the IdP's); the Keycloak-signed path is in
// test/integration/offline/connect.test.ts.
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { AppEnv } from "../../../src/http/env.ts";
import type { Idp } from "../../../src/idp/index.ts";
import { housekeepingJob, runJob } from "../../../src/jobs/index.ts";
import { createLogger } from "../../../src/log.ts";
import {
  forgetLogoutToken,
  migrate,
  openStore,
  recordLogoutToken,
  type Store,
} from "../../../src/store/index.ts";
import { backchannelLogout } from "../../../src/web/backchannel.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { backends, useMigratedStore } from "../store/backends.ts";

const ISSUER = "https://idp.example.test/realms/r";
const CLIENT = "mcp-gateway";
const EVENT = { "http://schemas.openid.net/event/backchannel-logout": {} };
const NOW = new Date("2026-06-01T12:00:00Z");
const nowSeconds = Math.floor(NOW.getTime() / 1000);

let privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let idp: Idp;
beforeAll(async () => {
  const pair = await generateKeyPair("ES256");
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k", alg: "ES256" };
  // Only `jwks` is read by the handler; a local key set stands in for the IdP's remote one.
  idp = { jwks: createLocalJWKSet({ keys: [jwk] }) } as unknown as Idp;
});

/** A logout token signed with the test key; `claims` override or (undefined) remove the defaults. */
async function logoutToken(claims: Record<string, unknown> = {}): Promise<string> {
  const payload: JWTPayload = {
    iss: ISSUER,
    aud: CLIENT,
    sub: "user-1",
    sid: "session-1",
    iat: nowSeconds - 5,
    exp: nowSeconds + 120,
    jti: randomUUID(),
    events: EVENT,
  };
  for (const [k, v] of Object.entries(claims)) {
    if (v === undefined) Reflect.deleteProperty(payload, k);
    else payload[k] = v;
  }
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: "k" }).sign(privateKey);
}

/** One replica's endpoint on `store`, recording whom it logged out. */
function replica(store: Store, loggedOut: string[], options: { fail?: boolean } = {}) {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("log", createLogger("silent"));
    await next();
  });
  app.post(
    "/oauth/backchannel-logout",
    backchannelLogout({
      issuer: ISSUER,
      clientId: CLIENT,
      idp: () => Promise.resolve(idp),
      maxAgeSeconds: 300,
      recordUse: (jti, until) => recordLogoutToken(store.db, ISSUER, jti, until),
      forgetUse: (jti) => forgetLogoutToken(store.db, ISSUER, jti),
      logoutUser: (subject, sid) => {
        expect(sid === undefined || sid === "session-1").toBe(true);
        if (options.fail) return Promise.reject(new Error("database down"));
        loggedOut.push(subject);
        return Promise.resolve(1);
      },
      now: () => NOW,
    }),
  );
  return async (token: string) => {
    const res = await app.request("/oauth/backchannel-logout", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `logout_token=${encodeURIComponent(token)}`,
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text === "" ? undefined : (JSON.parse(text) as Record<string, string>),
    };
  };
}

describe.each(backends())("back-channel logout on $name", (backend) => {
  let store: Store;
  useMigratedStore(backend, (s) => {
    store = s;
  });

  it("accepts a logout token once and refuses the same token again with 400", async () => {
    const loggedOut: string[] = [];
    const post = replica(store, loggedOut);
    const token = await logoutToken();
    expect((await post(token)).status).toBe(200);
    const again = await post(token);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({
      error: "invalid_request",
      error_description: "logout token rejected: it was used before",
    });
    expect(loggedOut).toEqual(["user-1"]);
    // The record holds a hash, never the token or the jti.
    const rows = await store.db.selectFrom("logout_token_uses").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token.split(".")[1] ?? "");
  });

  it("refuses a token whose iat is older than the maximum age, even without exp", async () => {
    const loggedOut: string[] = [];
    const post = replica(store, loggedOut);
    const old = await post(await logoutToken({ iat: nowSeconds - 300 - 61, exp: undefined }));
    expect(old.status).toBe(400);
    expect(old.body?.error_description).toMatch(/iat/);
    const noExpFresh = await post(await logoutToken({ exp: undefined }));
    expect(noExpFresh.status).toBe(200);
    const future = await post(await logoutToken({ iat: nowSeconds + 120 }));
    expect(future.status).toBe(400);
    const expired = await post(await logoutToken({ exp: nowSeconds - 61 }));
    expect(expired.status).toBe(400);
    expect(loggedOut).toEqual(["user-1"]);
  });

  it("refuses a token without jti or without iat", async () => {
    const loggedOut: string[] = [];
    const post = replica(store, loggedOut);
    const noJti = await post(await logoutToken({ jti: undefined }));
    expect(noJti.status).toBe(400);
    expect(noJti.body?.error_description).toMatch(/jti/);
    const noIat = await post(await logoutToken({ iat: undefined }));
    expect(noIat.status).toBe(400);
    expect(noIat.body?.error_description).toMatch(/iat/);
    expect(loggedOut).toEqual([]);
    expect(await store.db.selectFrom("logout_token_uses").selectAll().execute()).toEqual([]);
  });

  it("forgets the token when the logout fails here, so the IdP's retry is accepted", async () => {
    const loggedOut: string[] = [];
    const token = await logoutToken();
    expect((await replica(store, loggedOut, { fail: true })(token)).status).toBe(503);
    expect((await replica(store, loggedOut)(token)).status).toBe(200);
    expect(loggedOut).toEqual(["user-1"]);
  });

  it("keeps a replay record until the token could no longer be accepted; housekeeping then deletes it", async () => {
    const jti = randomUUID();
    const post = replica(store, []);
    expect((await post(await logoutToken({ jti, iat: nowSeconds, exp: undefined }))).status).toBe(200);
    const [row] = await store.db.selectFrom("logout_token_uses").selectAll().execute();
    // iat + max age + 60 s leeway; with an earlier exp, the exp + leeway.
    expect(row?.expires_at).toEqual(new Date((nowSeconds + 300 + 60) * 1000));
    expect(await recordLogoutToken(store.db, ISSUER, jti, NOW)).toBe(false);
    const housekeeping = housekeepingJob({ jobRunsDays: 30, auditEventsDays: 365, revokedGrantsDays: 30 });
    const at = (d: Date) => ({ store, log: createLogger("silent"), now: () => d, replica: "r" });
    expect((await runJob(housekeeping, at(NOW))).counts.logoutTokens).toBe(0);
    const later = new Date((nowSeconds + 361) * 1000);
    expect((await runJob(housekeeping, at(later))).counts.logoutTokens).toBe(1);
    expect(await recordLogoutToken(store.db, ISSUER, jti, later)).toBe(true);
  });
});

describe("two replicas on one PostgreSQL", () => {
  const stores: Store[] = [];
  let database: { url: string; drop(): Promise<void> } | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(inject("pgAdminUrl"), "logout");
    for (let i = 0; i < 2; i++)
      stores.push(await openStore({ backend: "postgres", url: database.url, poolMax: 2 }));
    await migrate(stores[0] as Store);
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await database?.drop();
  });

  it("share the replay record: a token accepted by one is refused by the other, also when both get it at once", async () => {
    const [a, b] = stores as [Store, Store];
    const loggedOut: string[] = [];
    const postA = replica(a, loggedOut);
    const postB = replica(b, loggedOut);
    const token = await logoutToken();
    expect((await postA(token)).status).toBe(200);
    expect((await postB(token)).status).toBe(400);

    const raced = await logoutToken({ sub: "user-2" });
    const statuses = (await Promise.all([postA(raced), postB(raced)])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 400]);
    expect(loggedOut).toEqual(["user-1", "user-2"]);
  });
});
