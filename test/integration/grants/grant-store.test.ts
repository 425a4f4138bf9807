// The grant store against the real PostgreSQL (and PGlite) and the real Keycloak: offline refresh
// tokens of the confidential gateway client, sealed at rest, rotated under the row lock, revoked on
// invalid_grant with the row kept, and re-encrypted when the key ring rotates.
import { randomBytes } from "node:crypto";
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { housekeepingJob, runJob } from "../../../src/jobs/index.ts";
import { createLogger } from "../../../src/log.ts";
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

/** Revokes a refresh token at Keycloak as the gateway client (RFC 7009), as /connect and disconnect do. */
async function revokeAtKeycloak(refreshToken: string): Promise<void> {
  await oidc.tokenRevocation(config, refreshToken, { token_type_hint: "refresh_token" });
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

    // The token the store replaced is spent: the realm allows one reuse (ADR 0018: a refresh whose
    // answer was lost can be made again), and no second. (Last: these reuses disturb the session. And
    // the token just used, not an older one: Keycloak's stale-token check for older tokens compares
    // whole seconds, so a token two rotations old can pass within the second it was issued.)
    await oidc.refreshTokenGrant(config, rt2);
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
    // Nothing of the dead token stays behind.
    expect(revoked.refresh_token_sealed).toBeNull();
    expect(revoked.key_id).toBeNull();
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
    expect(await row(store, a.id)).toMatchObject({
      status: "revoked",
      refresh_token_sealed: null,
      key_id: null,
    });
    expect((await grants.activeGrant(user.id))?.id).toBe(b.id);
    expect(await grants.revokeAllForUser(user.id, "back-channel logout")).toBe(1);
    expect(await row(store, b.id)).toMatchObject({
      revoked_reason: "back-channel logout",
      refresh_token_sealed: null,
      key_id: null,
    });
    const revoked: string[] = [];
    expect(
      await grants.disconnect(user.id, (t) => {
        revoked.push(t);
        return Promise.resolve();
      }),
    ).toEqual({ deleted: 2, revokedAtIdp: false });
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
    ).toEqual({ deleted: 2, revokedAtIdp: true });
    expect(revoked).toEqual(["rt-live"]);
    expect(await actions(store, user.id)).toEqual(["connect", "connect", "disconnect"]);
  });

  it("a new connection revokes the replaced token at Keycloak and blanks it: only the active grant keeps a token", async () => {
    const first = await connect(DEMO_USERS.bob);
    const second = await connect(DEMO_USERS.bob);
    const user = await newUser(first.sub, "bob");
    const sealer = new Sealer([k1]);
    const grants = new GrantStore(store.db, sealer);
    const old = await grants.connect(user.id, first.sub, first.rt, "openid offline_access", revokeAtKeycloak);
    expect(old.replaced).toBe("none");
    const now = await grants.connect(
      user.id,
      second.sub,
      second.rt,
      "openid offline_access",
      revokeAtKeycloak,
    );
    // Two sign-ins in two browsers are two sessions at Keycloak: the old one is revoked there.
    expect(now.replaced).toBe("revoked");

    const rows = await store.db
      .selectFrom("offline_grants")
      .selectAll()
      .where("user_id", "=", user.id)
      .execute();
    expect(rows.filter((r) => r.refresh_token_sealed !== null).map((r) => r.id)).toEqual([now.grant.id]);
    expect(await row(store, old.grant.id)).toMatchObject({
      status: "revoked",
      revoked_reason: "replaced by a new connection",
      refresh_token_sealed: null,
      key_id: null,
    });
    // Dead at Keycloak, not just forgotten here; the new grant lives on.
    const dead = await rejection(oidc.refreshTokenGrant(config, first.rt));
    expect((dead as oidc.ResponseBodyError).error).toBe("invalid_grant");
    await grants.refresh(now.grant.id, refreshAtKeycloak);
    const audit = await store.db
      .selectFrom("audit_events")
      .select(["action", "detail"])
      .where("user_id", "=", user.id)
      .orderBy("id")
      .execute();
    expect(audit.map((a) => [a.action, a.detail.idp])).toEqual([
      ["connect", undefined],
      ["connect", undefined],
      ["revoke", "revoked"],
      ["refresh", undefined],
    ]);
  });

  it("says what happened at the IdP to a replaced token: unreachable, unreadable, or the same IdP session", async () => {
    const user = await newUser("s-replace");
    const grants = new GrantStore(store.db, new Sealer([k1]));
    const calls: string[] = [];
    const revokeWith = (answer: "ok" | "down") => (t: string) => {
      calls.push(t);
      return answer === "ok" ? Promise.resolve() : Promise.reject(new TypeError("fetch failed"));
    };
    await grants.connect(user.id, "s-replace", "rt-1", "openid", revokeWith("ok"));
    const down = await grants.connect(user.id, "s-replace", "rt-2", "openid", revokeWith("down"));
    expect(down.replaced).toBe("idp-failed");
    expect(calls).toEqual(["rt-1"]);
    // Sealed with a key the ring has lost: it cannot be sent to the IdP, and is blanked all the same.
    const withoutK1 = new GrantStore(store.db, new Sealer([k2]));
    const lost = await withoutK1.connect(user.id, "s-replace", "rt-3", "openid", revokeWith("ok"));
    expect(lost.replaced).toBe("unreadable");
    expect(calls).toEqual(["rt-1"]);
    // Keycloak refresh tokens name their session (sid): revoking an old token of the new grant's own
    // session would end the new grant too, so it is not sent.
    const jwt = (sid: string, n: number) =>
      `e30.${Buffer.from(JSON.stringify({ sid, typ: "Offline", n })).toString("base64url")}.sig`;
    await withoutK1.connect(user.id, "s-replace", jwt("A", 1), "openid", revokeWith("ok"));
    const same = await withoutK1.connect(user.id, "s-replace", jwt("A", 2), "openid", revokeWith("ok"));
    expect(same.replaced).toBe("same-session");
    expect(calls).toEqual(["rt-1", "rt-3"]);
    const other = await withoutK1.connect(user.id, "s-replace", jwt("B", 3), "openid", revokeWith("ok"));
    expect(other.replaced).toBe("revoked");
    expect(calls).toEqual(["rt-1", "rt-3", jwt("A", 2)]);

    const rows = await store.db
      .selectFrom("offline_grants")
      .selectAll()
      .where("user_id", "=", user.id)
      .execute();
    expect(rows).toHaveLength(6);
    expect(rows.filter((r) => r.refresh_token_sealed !== null).map((r) => r.id)).toEqual([other.grant.id]);
    expect(rows.every((r) => (r.status === "active") === (r.id === other.grant.id))).toBe(true);
  });

  it("housekeeping purges revoked grants after the retention and keeps newer and active ones", async () => {
    const [u1, u2] = await Promise.all([newUser("s-purge-1"), newUser("s-purge-2")]);
    const grants = new GrantStore(store.db, new Sealer([k1]));
    const old = await grants.saveGrant(u1.id, u1.subject, "rt-old", "openid");
    const recent = await grants.saveGrant(u1.id, u1.subject, "rt-recent", "openid");
    const active = await grants.saveGrant(u1.id, u1.subject, "rt-active", "openid");
    const other = await grants.saveGrant(u2.id, u2.subject, "rt-other", "openid");
    const now = new Date("2026-06-01T12:00:00Z");
    const daysAgo = (d: number) => new Date(now.getTime() - d * 24 * 3600_000);
    await store.db
      .updateTable("offline_grants")
      .set({ revoked_at: daysAgo(31) })
      .where("id", "=", old.id)
      .execute();
    await store.db
      .updateTable("offline_grants")
      .set({ revoked_at: daysAgo(29) })
      .where("id", "=", recent.id)
      .execute();
    const job = housekeepingJob({ jobRunsDays: 30, auditEventsDays: 365, revokedGrantsDays: 30 });
    const ctx = { store, log: createLogger("silent"), now: () => now, replica: "r" };
    expect((await runJob(job, ctx)).counts.revokedGrants).toBe(1);
    const left = await store.db.selectFrom("offline_grants").select("id").orderBy("created_at").execute();
    expect(left.map((r) => r.id).sort()).toEqual([recent.id, active.id, other.id].sort());
    // Two days later the other revoked row is past the retention as well.
    const later = { ...ctx, now: () => new Date(now.getTime() + 2 * 24 * 3600_000) };
    expect((await runJob(job, later)).counts.revokedGrants).toBe(1);
    expect(await grants.latestGrant(u1.id)).toMatchObject({ id: active.id, status: "active" });
  });

  it("opens k1 rows after the ring becomes k2,k1, moves them all to k2, and then k1 can go", async () => {
    const users = await Promise.all(["r-1", "r-2", "r-3"].map((s) => newUser(s)));
    const before = new GrantStore(store.db, new Sealer([k1]));
    const saved: OfflineGrant[] = [];
    for (const u of users) saved.push(await before.saveGrant(u.id, u.subject, `rt-${u.subject}`, "openid"));
    // One revoked row too: it keeps no token, so there is nothing to re-seal and nothing stranded.
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
      reencrypted: 1,
      missingKey: {},
      unreadable: 0,
    });
    const onlyK2 = new Sealer([k2]);
    for (const [i, g] of saved.slice(0, 2).entries()) {
      const now = await row(store, g.id);
      expect(now.key_id).toBe("k2");
      expect(opened(now, users[i]?.subject ?? "", onlyK2)).toBe(i === 0 ? "rt-r-1-rotated" : `rt-r-${i + 1}`);
    }
    expect(await row(store, saved[2]?.id ?? "")).toMatchObject({ refresh_token_sealed: null, key_id: null });
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
