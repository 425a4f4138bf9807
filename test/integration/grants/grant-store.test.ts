// The grant store against the real PostgreSQL (and PGlite) and the real Keycloak: offline refresh
// tokens of the confidential gateway client, sealed at rest, rotated under the row lock, revoked on
// invalid_grant with the row kept, and re-encrypted when the key ring rotates.
import { randomBytes } from "node:crypto";
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import {
  GrantStore,
  grantAad,
  migrate,
  openStore,
  Sealer,
  upsertUser,
  type OfflineGrant,
  type RefreshAnswer,
  type SealingKey,
  type Store,
  type User,
} from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { backends, useMigratedStore } from "../store/backends.ts";
import { claims, DEMO_USERS, gatewayClient, signIn } from "../support/oauth.ts";

const realmEnv = inject("realmEnv");
const { issuer } = inject("keycloak");
const key = (kid: string): SealingKey => ({ kid, key: new Uint8Array(randomBytes(32)) });
const k1 = key("k1");
const k2 = key("k2");

let browser: Browser;
let config: oidc.Configuration;

beforeAll(async () => {
  browser = await launchBrowser();
  config = await gatewayClient();
});
afterAll(async () => {
  await browser.close();
});

/** A real offline refresh token of the gateway client, as /connect will obtain it, and its user's sub. */
async function connect(user: { username: string; password: string }): Promise<{ rt: string; sub: string }> {
  const tokens = await signIn(browser, {
    config,
    redirectUri: `${realmEnv.MCP_GATEWAY_URL}/oauth/callback`,
    scope: "openid offline_access nextcloud-audience",
    user,
  });
  if (tokens.refresh_token === undefined) throw new Error("no refresh token");
  const sub = claims(tokens.access_token).sub;
  if (sub === undefined) throw new Error("no sub");
  return { rt: tokens.refresh_token, sub };
}

/** The refresh the gateway will do: openid-client's refresh_token grant as the gateway client. */
async function refreshAtKeycloak(refreshToken: string): Promise<RefreshAnswer> {
  const r = await oidc.refreshTokenGrant(config, refreshToken);
  return { refreshToken: r.refresh_token, accessToken: r.access_token, expiresIn: r.expires_in };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

async function row(store: Store, id: string): Promise<OfflineGrant> {
  return store.db.selectFrom("offline_grants").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

async function actions(store: Store, userId: string): Promise<string[]> {
  const rows = await store.db
    .selectFrom("audit_events")
    .select(["action", "detail"])
    .where("user_id", "=", userId)
    .orderBy("id")
    .execute();
  for (const r of rows) expect(JSON.stringify(r.detail)).not.toMatch(/eyJ/);
  return rows.map((r) => r.action);
}

function opened(grant: OfflineGrant, subject: string, sealer: Sealer): string {
  if (grant.refresh_token_sealed === null || grant.key_id === null)
    throw new Error(`grant ${grant.id} is blanked`);
  return sealer.open(grant.refresh_token_sealed, grant.key_id, grantAad(grant.id, subject));
}

describe.each(backends())("grant store on $name", (backend) => {
  let store: Store;
  const newUser = (subject: string, username?: string): Promise<User> =>
    upsertUser(store.db, { issuer, subject, username });

  useMigratedStore(backend, (s) => {
    store = s;
  });

  it("upserts users by issuer and subject, keeping the id and refreshing the profile", async () => {
    const a = await upsertUser(store.db, { issuer, subject: "s-1", username: "old", email: "a@example.com" });
    const b = await upsertUser(store.db, { issuer, subject: "s-1", username: "new" });
    expect(b.id).toBe(a.id);
    expect(b.username).toBe("new");
    expect(b.email).toBeNull();
    expect(b.subject_hash).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(b.last_seen_at.getTime()).toBeGreaterThanOrEqual(a.last_seen_at.getTime());
  });

  it("stores the rotated refresh token before returning, so the next refresh works and the old token is dead", async () => {
    const { rt, sub } = await connect(DEMO_USERS.alice);
    const user = await newUser(sub, "alice");
    const sealer = new Sealer([k1]);
    const grants = new GrantStore(store.db, sealer);
    const saved = await grants.saveGrant(user.id, sub, rt, "openid offline_access");
    expect(saved.key_id).toBe("k1");
    expect(Buffer.from(saved.refresh_token_sealed ?? []).includes(Buffer.from(rt))).toBe(false);
    expect(opened(saved, sub, sealer)).toBe(rt);

    const first = await grants.refresh(saved.id, refreshAtKeycloak);
    expect(claims(first.accessToken).sub).toBe(sub);
    const afterFirst = await row(store, saved.id);
    const rt2 = opened(afterFirst, sub, sealer);
    expect(rt2).not.toBe(rt);
    expect(afterFirst.last_refreshed_at).toBeInstanceOf(Date);

    await grants.refresh(saved.id, refreshAtKeycloak);
    expect(opened(await row(store, saved.id), sub, sealer)).not.toBe(rt2);

    // The token the store replaced is dead. (Last: Keycloak ends the session on such a reuse. And
    // the token just used, not an older one: Keycloak's stale-token check for older tokens compares
    // whole seconds, so a token two rotations old can pass within the second it was issued.)
    const reuse = await rejection(oidc.refreshTokenGrant(config, rt2));
    expect(reuse).toBeInstanceOf(oidc.ResponseBodyError);
    expect((reuse as oidc.ResponseBodyError).error).toBe("invalid_grant");
    expect((await grants.activeGrant(user.id))?.id).toBe(saved.id);
    expect(await actions(store, user.id)).toEqual(["connect", "refresh", "refresh"]);
  });

  it("turns a refresh token revoked at Keycloak into a revoked grant, keeping the row and the reason", async () => {
    const { rt, sub } = await connect(DEMO_USERS.bob);
    const user = await newUser(sub, "bob");
    const grants = new GrantStore(store.db, new Sealer([k1]));
    const saved = await grants.saveGrant(user.id, sub, rt, "openid offline_access");
    await oidc.tokenRevocation(config, rt, { token_type_hint: "refresh_token" });

    const err = await rejection(grants.refresh(saved.id, refreshAtKeycloak));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe("invalid_grant");
    expect((err as GatewayError).description).toContain("/connect");
    const revoked = await row(store, saved.id);
    expect(revoked.status).toBe("revoked");
    expect(revoked.revoked_reason).toMatch(/^the identity provider answered invalid_grant/);
    expect(revoked.revoked_reason).not.toContain(rt);
    expect(revoked.revoked_at).toBeInstanceOf(Date);
    expect(revoked.refresh_token_sealed).toEqual(saved.refresh_token_sealed);
    expect(await grants.activeGrant(user.id)).toBeUndefined();
    expect(await actions(store, user.id)).toEqual(["connect", "revoke"]);

    // A revoked grant is not sent to the IdP again.
    let calls = 0;
    const again = await rejection(
      grants.refresh(saved.id, (t) => {
        calls++;
        return refreshAtKeycloak(t);
      }),
    );
    expect((again as GatewayError).code).toBe("invalid_grant");
    expect(calls).toBe(0);
  });

  it("leaves the row unchanged when the IdP cannot be reached", async () => {
    const user = await newUser("s-transient");
    const grants = new GrantStore(store.db, new Sealer([k1]));
    const saved = await grants.saveGrant(user.id, "s-transient", "rt-value", "openid");
    const failure = new TypeError("fetch failed");
    expect(await rejection(grants.refresh(saved.id, () => Promise.reject(failure)))).toBe(failure);
    expect(await row(store, saved.id)).toEqual(saved);
    expect(await actions(store, user.id)).toEqual(["connect"]);
  });

  it("keeps one active grant per user: a new connection revokes the old one; disconnect deletes both", async () => {
    const user = await newUser("s-reconnect");
    const grants = new GrantStore(store.db, new Sealer([k1]));
    const a = await grants.saveGrant(user.id, "s-reconnect", "rt-a", "openid");
    const b = await grants.saveGrant(user.id, "s-reconnect", "rt-b", "openid");
    expect((await row(store, a.id)).status).toBe("revoked");
    expect((await grants.activeGrant(user.id))?.id).toBe(b.id);
    expect(await grants.revokeAllForUser(user.id, "back-channel logout")).toBe(1);
    expect((await row(store, b.id)).revoked_reason).toBe("back-channel logout");
    const revoked: string[] = [];
    expect(
      await grants.disconnect(user.id, (t) => {
        revoked.push(t);
        return Promise.resolve();
      }),
    ).toBe(2);
    // Both rows were revoked already: nothing to revoke at the IdP.
    expect(revoked).toEqual([]);
    expect(await grants.latestGrant(user.id)).toBeUndefined();
    expect(await actions(store, user.id)).toEqual(["connect", "connect", "revoke", "disconnect"]);
  });

  it("disconnect revokes the active token at the IdP first and deletes nothing when that fails", async () => {
    const user = await newUser("s-disconnect");
    const grants = new GrantStore(store.db, new Sealer([k1]));
    await grants.saveGrant(user.id, "s-disconnect", "rt-old", "openid");
    const active = await grants.saveGrant(user.id, "s-disconnect", "rt-live", "openid");
    expect((await grants.latestGrant(user.id))?.id).toBe(active.id);

    const down = new TypeError("fetch failed");
    expect(await rejection(grants.disconnect(user.id, () => Promise.reject(down)))).toBe(down);
    // Put back as it was (only updated_at moves).
    const putBack = await row(store, active.id);
    expect(putBack).toEqual({ ...active, updated_at: putBack.updated_at });
    // A ring without the key: fails loudly naming SEALING_KEYS, deletes nothing.
    const keyless = new GrantStore(store.db, new Sealer([k2]));
    const err = await rejection(keyless.disconnect(user.id, () => Promise.resolve()));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).description).toMatch(/SEALING_KEYS/);
    expect(await row(store, active.id)).toEqual(putBack);

    const revoked: string[] = [];
    expect(
      await grants.disconnect(user.id, (t) => {
        revoked.push(t);
        return Promise.resolve();
      }),
    ).toBe(2);
    expect(revoked).toEqual(["rt-live"]);
    expect(await actions(store, user.id)).toEqual(["connect", "connect", "disconnect"]);
  });

  it("opens k1 rows after the ring becomes k2,k1, moves them all to k2, and then k1 can go", async () => {
    const users = await Promise.all(["r-1", "r-2", "r-3"].map((s) => newUser(s)));
    const before = new GrantStore(store.db, new Sealer([k1]));
    const saved: OfflineGrant[] = [];
    for (const u of users) saved.push(await before.saveGrant(u.id, u.subject, `rt-${u.subject}`, "openid"));
    // One revoked row too: it must be re-sealed as well, or dropping k1 would strand it.
    await before.revokeAllForUser(users[2]?.id ?? "", "test");

    const ring = new Sealer([k2, k1]);
    const rotated = new GrantStore(store.db, ring);
    const first = saved[0];
    if (!first) throw new Error("no grant");
    let seen = "";
    await rotated.refresh(first.id, (t) => {
      seen = t;
      return Promise.resolve({ accessToken: "at", refreshToken: "rt-r-1-rotated" });
    });
    expect(seen).toBe("rt-r-1");
    expect((await row(store, first.id)).key_id).toBe("k2");

    expect(await rotated.reencryptAll({ batchSize: 1 })).toEqual({
      reencrypted: 2,
      missingKey: {},
      unreadable: 0,
    });
    const onlyK2 = new Sealer([k2]);
    for (const [i, g] of saved.entries()) {
      const now = await row(store, g.id);
      expect(now.key_id).toBe("k2");
      expect(opened(now, users[i]?.subject ?? "", onlyK2)).toBe(i === 0 ? "rt-r-1-rotated" : `rt-r-${i + 1}`);
    }
    expect(await new GrantStore(store.db, onlyK2).reencryptAll()).toEqual({
      reencrypted: 0,
      missingKey: {},
      unreadable: 0,
    });
  });

  it("fails loudly on a key missing from the ring and changes nothing", async () => {
    const user = await newUser("s-missing");
    const saved = await new GrantStore(store.db, new Sealer([k1])).saveGrant(
      user.id,
      "s-missing",
      "rt",
      "openid",
    );
    const grants = new GrantStore(store.db, new Sealer([k2]));
    let calls = 0;
    const err = await rejection(
      grants.refresh(saved.id, () => {
        calls++;
        return Promise.resolve({ accessToken: "at" });
      }),
    );
    expect((err as GatewayError).code).toBe("server_error");
    expect((err as GatewayError).detail).toContain(
      "sealed with key k1, which SEALING_KEYS does not contain; add it back",
    );
    expect(calls).toBe(0);
    expect(await grants.reencryptAll()).toEqual({ reencrypted: 0, missingKey: { k1: 1 }, unreadable: 0 });
    expect(await row(store, saved.id)).toEqual(saved);
  });

  it("refuses a sealed token moved to another row (wrong AAD)", async () => {
    const [u1, u2] = await Promise.all([newUser("s-aad-1"), newUser("s-aad-2")]);
    const old = new GrantStore(store.db, new Sealer([k1]));
    const g1 = await old.saveGrant(u1.id, u1.subject, "rt-1", "openid");
    const g2 = await old.saveGrant(u2.id, u2.subject, "rt-2", "openid");
    await store.db
      .updateTable("offline_grants")
      .set({ refresh_token_sealed: g2.refresh_token_sealed })
      .where("id", "=", g1.id)
      .execute();
    const err = await rejection(old.refresh(g1.id, () => Promise.resolve({ accessToken: "at" })));
    expect((err as GatewayError).code).toBe("server_error");
    expect((err as GatewayError).detail).toMatch(/cannot open a value sealed with key k1/);
    const swapped = await row(store, g1.id);
    expect(swapped.refresh_token_sealed).toEqual(g2.refresh_token_sealed);
    expect(swapped.status).toBe("active");
    expect(await new GrantStore(store.db, new Sealer([k2, k1])).reencryptAll()).toEqual({
      reencrypted: 1,
      missingKey: {},
      unreadable: 1,
    });
  });
});

describe("two replicas refreshing one grant at the same moment (PostgreSQL)", () => {
  const stores: Store[] = [];
  let database: { url: string; drop(): Promise<void> } | undefined;
  beforeAll(async () => {
    const db = await createTestDatabase(inject("pgAdminUrl"), "grants");
    database = db;
    for (let i = 0; i < 2; i++)
      stores.push(await openStore({ backend: "postgres", url: db.url, poolMax: 2 }));
    await migrate(stores[0] as Store);
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await database?.drop();
  });

  it("serialises on the row lock: both succeed, the second with the token the first stored", async () => {
    const [a, b] = stores as [Store, Store];
    const { rt, sub } = await connect(DEMO_USERS.alice);
    const user = await upsertUser(a.db, { issuer, subject: sub, username: "alice" });
    const sealer = new Sealer([k1]);
    const grantsA = new GrantStore(a.db, sealer);
    const grantsB = new GrantStore(b.db, sealer);
    const saved = await grantsA.saveGrant(user.id, sub, rt, "openid offline_access");

    const used: string[] = [];
    const refreshWith = (t: string) => {
      used.push(t);
      return refreshAtKeycloak(t);
    };
    const results = await Promise.allSettled([
      grantsA.refresh(saved.id, refreshWith),
      grantsB.refresh(saved.id, refreshWith),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(used).toHaveLength(2);
    expect(used[0]).toBe(rt);
    expect(used[1]).not.toBe(rt);

    const grants = await a.db
      .selectFrom("offline_grants")
      .selectAll()
      .where("user_id", "=", user.id)
      .execute();
    expect(grants.map((g) => g.status)).toEqual(["active"]);
    // The one grant left is alive at Keycloak.
    await grantsB.refresh(saved.id, refreshAtKeycloak);
    expect(await actions(a, user.id)).toEqual(["connect", "refresh", "refresh", "refresh"]);
  });
});
