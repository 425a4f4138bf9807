// Real offline grants for the job tests: offline refresh tokens of the gateway client from browser
// sign-ins of alice and bob at the test Keycloak (each sign-in in a fresh browser context is its own
// offline session), stored as the gateway stores them, plus grants whose token is not real.
import { randomBytes } from "node:crypto";
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { expect, inject } from "vitest";
import type { GrantStore } from "../../../src/store/index.ts";
import {
  grantAad,
  upsertUser,
  type OfflineGrant,
  type SealingKey,
  type Store,
} from "../../../src/store/index.ts";
import { claims, DEMO_USERS, gatewayClient, signIn } from "../support/oauth.ts";

export const OFFLINE_SCOPE = "openid offline_access nextcloud-audience";
const DAY_MS = 24 * 3600_000;

/** A sealing key with fresh material. */
export function sealingKey(kid: string): SealingKey {
  return { kid, key: new Uint8Array(randomBytes(32)) };
}

/** SEALING_KEYS as the gateway reads it: `kid:base64` entries, current key first. */
export function sealingKeysEnv(...keys: SealingKey[]): string {
  return keys.map((k) => `${k.kid}:${Buffer.from(k.key).toString("base64")}`).join(",");
}

/** An offline refresh token of the gateway client from a sign-in on Keycloak's login page, and its user's sub. */
export async function offlineToken(
  browser: Browser,
  user: { username: string; password: string },
): Promise<{ rt: string; sub: string }> {
  const tokens = await signIn(browser, {
    config: await gatewayClient(),
    redirectUri: `${inject("realmEnv").MCP_GATEWAY_URL}/oauth/callback`,
    scope: OFFLINE_SCOPE,
    user,
  });
  const sub = claims(tokens.access_token).sub;
  if (tokens.refresh_token === undefined || sub === undefined) throw new Error("no offline token");
  return { rt: tokens.refresh_token, sub };
}

/**
 * `count` grants with real offline tokens, alice and bob taking turns, two sign-ins at a time. The
 * store keeps one active grant per user, so each grant gets its own user row: the first of each
 * person under the real subject, later ones under `<sub>#<n>` (Keycloak never sees the subject).
 */
export async function realGrants(
  browser: Browser,
  store: Store,
  grants: GrantStore,
  count: number,
): Promise<OfflineGrant[]> {
  const { issuer } = inject("keycloak");
  const people = [DEMO_USERS.alice, DEMO_USERS.bob];
  const tokens: { rt: string; sub: string; username: string }[] = [];
  for (let i = 0; i < count; i += 2) {
    const batch = people.slice(0, Math.min(2, count - i));
    const got = await Promise.all(batch.map((u) => offlineToken(browser, u)));
    got.forEach((t, j) => tokens.push({ ...t, username: batch[j]?.username ?? "" }));
  }
  return saveGrants(store, grants, tokens, {
    issuer,
    scope: OFFLINE_SCOPE,
    subject: (t, n) => (n < 2 ? t.sub : `${t.sub}#${String(n)}`),
  });
}

/** An offline refresh token and the subject it was issued to; `username` for the user row. */
export interface TokenOf {
  rt: string;
  sub: string;
  username?: string;
}

/**
 * Stores each of `tokens` as the gateway stores a grant, under a user row of its own (the store keeps
 * one active grant per user): the subject is `subject(token, n)` (the token's own by default), the
 * username the token's or `username`.
 */
export async function saveGrants(
  store: Store,
  grants: GrantStore,
  tokens: readonly TokenOf[],
  how: {
    issuer: string;
    scope: string;
    subject?: (token: TokenOf, n: number) => string;
    username?: string;
  },
): Promise<OfflineGrant[]> {
  const saved: OfflineGrant[] = [];
  for (const [n, t] of tokens.entries()) {
    const subject = how.subject?.(t, n) ?? t.sub;
    const username = t.username ?? how.username;
    const user = await upsertUser(store.db, {
      issuer: how.issuer,
      subject,
      ...(username === undefined ? {} : { username }),
    });
    saved.push(await grants.saveGrant(user.id, subject, t.rt, how.scope));
  }
  return saved;
}

/** Grants whose stored refresh token is not one Keycloak issued (it answers invalid_grant). */
export async function fakeGrants(store: Store, grants: GrantStore, count: number, prefix = "fake") {
  const subjects = Array.from(
    { length: count },
    (_, i) => `${prefix}-${i}-${randomBytes(4).toString("hex")}`,
  );
  const tokens = subjects.map((sub) => ({ rt: `not-a-token-${sub}`, sub }));
  return saveGrants(store, grants, tokens, { issuer: inject("keycloak").issuer, scope: OFFLINE_SCOPE });
}

/** Sets when the grants were last renewed to `days` ago (due for keepalive after 15 days by default) and clears leases. */
export async function renewedDaysAgo(store: Store, ids: readonly string[], days: number): Promise<void> {
  if (ids.length === 0) return;
  const at = new Date(Date.now() - days * DAY_MS);
  await store.db
    .updateTable("offline_grants")
    .set({ last_refreshed_at: at, created_at: at, lease_owner: null, lease_until: null })
    .where("id", "in", [...ids])
    .execute();
}

/** The grant rows by id. */
export async function rowsOf(store: Store, ids: readonly string[]): Promise<Map<string, OfflineGrant>> {
  const rows = await store.db
    .selectFrom("offline_grants")
    .selectAll()
    .where("id", "in", [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** The newest audit event id, to count what happened after it. */
export async function lastAuditId(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom("audit_events")
    .select((eb) => eb.fn.max("id").as("id"))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** `action` events per grant id after audit event `after`; fails if any detail looks like a token. */
export async function auditPerGrant(
  store: Store,
  action: string,
  after: number,
): Promise<Map<string, number>> {
  const rows = await store.db
    .selectFrom("audit_events")
    .select(["detail"])
    .where("action", "=", action)
    .where("id", ">", String(after))
    .execute();
  const per = new Map<string, number>();
  for (const r of rows) {
    expect(JSON.stringify(r.detail)).not.toMatch(/eyJ|not-a-token/);
    const id = r.detail.grantId;
    if (typeof id === "string") per.set(id, (per.get(id) ?? 0) + 1);
  }
  return per;
}

/** The refresh token a grant row holds, opened as the gateway opens it. */
export async function storedToken(
  store: Store,
  grant: OfflineGrant,
  open: (sealed: Uint8Array, keyId: string, aad: string) => string,
): Promise<string> {
  const row = await store.db
    .selectFrom("offline_grants as g")
    .innerJoin("users as u", "u.id", "g.user_id")
    .select(["g.refresh_token_sealed", "g.key_id", "u.subject"])
    .where("g.id", "=", grant.id)
    .executeTakeFirstOrThrow();
  if (row.refresh_token_sealed === null || row.key_id === null)
    throw new Error(`grant ${grant.id} is blanked`);
  return open(row.refresh_token_sealed, row.key_id, grantAad(grant.id, row.subject));
}

/** Revokes a refresh token at Keycloak as the gateway client (RFC 7009), as disconnect does. */
export async function revokeAtKeycloak(refreshToken: string): Promise<void> {
  await oidc.tokenRevocation(await gatewayClient(), refreshToken, { token_type_hint: "refresh_token" });
}
