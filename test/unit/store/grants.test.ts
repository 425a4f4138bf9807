// The grant store's outcomes on the embedded database alone (PGlite, in-process): what is stored,
// audited and sent to the IdP for each answer of the IdP, on refresh, connect (replacing a grant),
// disconnect, revocation, back-channel logout, purge and re-encryption. Refresh and revocation go
// through the gateway's real refreshAtIdp / revokeRefreshToken and openid-client, with the token and
// revocation endpoints answering in-process; the real Keycloak path is covered by
// test/integration/grants/grant-store.test.ts.
import { randomBytes, randomUUID } from "node:crypto";
import { sql } from "kysely";
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { refreshAtIdp, revokeRefreshToken } from "../../../src/idp/index.ts";
import { housekeepingJob, runJob } from "../../../src/jobs/index.ts";
import { createLogger, subjectHash } from "../../../src/log.ts";
import {
  GrantStore,
  grantAad,
  purgeRevokedGrants,
  Sealer,
  SealingError,
  upsertUser,
  type OfflineGrant,
  type RefreshAnswer,
  type SealingKey,
  type Store,
  type User,
} from "../../../src/store/index.ts";
import { idpAnswering, json, tokens, type Answer } from "../idp/token-endpoint.ts";
import { openMigratedPglite } from "./migrated-pglite.ts";

const ISSUER = "https://idp.example.test/realms/company";
const key = (kid: string): SealingKey => ({ kid, key: new Uint8Array(randomBytes(32)) });
const k1 = key("k1");
const k2 = key("k2");
const sealer = new Sealer([k1]);

let store: Store;
let dispose: () => Promise<void>;
let grants: GrantStore;

beforeAll(async () => {
  ({ store, dispose } = await openMigratedPglite("ncmcp-unit-grants-"));
  grants = new GrantStore(store.db, sealer);
}, 60_000);

afterAll(async () => {
  await dispose();
});

let users = 0;

/** A new user with an active grant holding `refreshToken`. */
async function connected(refreshToken = "rt-1"): Promise<{ grant: OfflineGrant; subject: string }> {
  const subject = `subject-${++users}`;
  const user = await upsertUser(store.db, { issuer: ISSUER, subject });
  const grant = await grants.saveGrant(user.id, subject, refreshToken, "openid offline_access");
  return { grant, subject };
}

/** A new user without a grant. */
async function newUser(): Promise<User> {
  return upsertUser(store.db, { issuer: ISSUER, subject: `subject-${++users}` });
}

/** A Keycloak-shaped refresh token of IdP session `sid` (a JWT the gateway reads, never verifies). */
function inSession(sid: unknown, n = 0): string {
  return `e30.${Buffer.from(JSON.stringify({ sid, typ: "Offline", n })).toString("base64url")}.sig`;
}

/** The revocation the gateway does (RFC 7009), against an endpoint answering `answer` (200 by default). */
function revoker(answer: Answer = () => new Response(null, { status: 200 })) {
  const { idp, requests } = idpAnswering(() => {
    throw new Error("no token request expected");
  }, answer);
  return {
    requests,
    /** The tokens sent for revocation, in order. */
    revoked: () => requests.map((r) => r.get("token")),
    revokeWith: (refreshToken: string): Promise<void> => revokeRefreshToken(idp, refreshToken),
  };
}

/** The user's audit trail: action, pseudonym and detail. */
async function trail(userId: string) {
  const rows = await store.db
    .selectFrom("audit_events")
    .select(["action", "subject_hash", "detail"])
    .where("user_id", "=", userId)
    .orderBy("id")
    .execute();
  // Never a token in the trail.
  for (const r of rows) expect(JSON.stringify(r.detail)).not.toMatch(/rt-|e30\./);
  return rows;
}

async function rowsOf(userId: string): Promise<OfflineGrant[]> {
  return store.db
    .selectFrom("offline_grants")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("created_at")
    .execute();
}

async function row(id: string): Promise<OfflineGrant | undefined> {
  return store.db.selectFrom("offline_grants").selectAll().where("id", "=", id).executeTakeFirst();
}

async function actions(userId: string): Promise<string[]> {
  const rows = await store.db
    .selectFrom("audit_events")
    .select("action")
    .where("user_id", "=", userId)
    .orderBy("id")
    .execute();
  return rows.map((r) => r.action);
}

function stored(grant: OfflineGrant, subject: string): string {
  if (grant.refresh_token_sealed === null || grant.key_id === null) throw new Error("the token was blanked");
  return sealer.open(grant.refresh_token_sealed, grant.key_id, grantAad(grant.id, subject));
}

/** The refresh the gateway does, against a token endpoint answering `answer`; counts its calls. */
function refresher(answer: Answer) {
  const { idp, requests } = idpAnswering(answer);
  return {
    requests,
    refreshWith: (refreshToken: string): Promise<RefreshAnswer> => refreshAtIdp(idp, refreshToken),
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

function gatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  throw new Error(`expected a GatewayError, got ${String(err)}`, { cause: err });
}

describe("GrantStore.refresh on PGlite", () => {
  it("stores the rotated refresh token before returning, and sends it on the next refresh", async () => {
    const { grant, subject } = await connected("rt-1");
    let n = 1;
    const idp = refresher(() => tokens(`at-${n}`, `rt-${++n}`));
    const first = await grants.refresh(grant.id, idp.refreshWith);
    expect(first).toEqual({ accessToken: "at-1", expiresIn: 300 });
    const after = await row(grant.id);
    expect(after?.status).toBe("active");
    expect(stored(after ?? grant, subject)).toBe("rt-2");
    expect(after?.last_refreshed_at).toBeInstanceOf(Date);
    await grants.refresh(grant.id, idp.refreshWith);
    expect(idp.requests.map((r) => [r.get("grant_type"), r.get("refresh_token")])).toEqual([
      ["refresh_token", "rt-1"],
      ["refresh_token", "rt-2"],
    ]);
    expect(stored((await row(grant.id)) ?? grant, subject)).toBe("rt-3");
    expect(await actions(grant.user_id)).toEqual(["connect", "refresh", "refresh"]);
  });

  it("keeps the stored token when the IdP does not rotate it", async () => {
    const { grant, subject } = await connected("rt-static");
    const idp = refresher(() => tokens("at-1"));
    await grants.refresh(grant.id, idp.refreshWith);
    const after = await row(grant.id);
    expect(after?.refresh_token_sealed).toEqual(grant.refresh_token_sealed);
    expect(stored(after ?? grant, subject)).toBe("rt-static");
    expect(after?.last_refreshed_at).toBeInstanceOf(Date);
  });

  it("serialises two refreshes of one grant: the second sends the token the first stored", async () => {
    const { grant } = await connected("rt-1");
    let n = 1;
    const idp = refresher(() => tokens(`at-${n}`, `rt-${++n}`));
    await Promise.all([grants.refresh(grant.id, idp.refreshWith), grants.refresh(grant.id, idp.refreshWith)]);
    expect(idp.requests.map((r) => r.get("refresh_token"))).toEqual(["rt-1", "rt-2"]);
  });

  it("marks the grant revoked on invalid_grant, keeping the row with the IdP's reason, and tells the user to reconnect", async () => {
    const { grant } = await connected("rt-dead");
    const idp = refresher(() =>
      json(400, { error: "invalid_grant", error_description: "Token is not active" }),
    );
    const err = gatewayError(await rejection(grants.refresh(grant.id, idp.refreshWith)));
    expect(err.code).toBe("invalid_grant");
    expect(err.description).toContain("/connect");
    expect(err.cause).toBeInstanceOf(oidc.ResponseBodyError);
    const after = await row(grant.id);
    expect(after).toBeDefined();
    expect(after?.status).toBe("revoked");
    expect(after?.revoked_reason).toBe("the identity provider answered invalid_grant: Token is not active");
    expect(after?.revoked_at).toBeInstanceOf(Date);
    expect(after?.last_refreshed_at).toBeNull();
    expect(await grants.activeGrant(grant.user_id)).toBeUndefined();
    expect(await actions(grant.user_id)).toEqual(["connect", "revoke"]);
  });

  it("never sends a revoked grant's token to the IdP again", async () => {
    const { grant } = await connected("rt-dead");
    const dead = refresher(() => json(400, { error: "invalid_grant" }));
    await rejection(grants.refresh(grant.id, dead.refreshWith));
    const alive = refresher(() => tokens("at", "rt-new"));
    const err = gatewayError(await rejection(grants.refresh(grant.id, alive.refreshWith)));
    expect(err.code).toBe("invalid_grant");
    expect(err.detail).toContain("is revoked");
    expect(alive.requests).toHaveLength(0);
    expect((await row(grant.id))?.status).toBe("revoked");
  });

  it("refreshes no grant that was replaced, revoked by logout, or is being disconnected", async () => {
    const idp = refresher(() => tokens("at", "rt-new"));
    const replaced = await connected("rt-a");
    await grants.saveGrant(replaced.grant.user_id, replaced.subject, "rt-b", "openid");
    const loggedOut = await connected("rt-c");
    await grants.revokeAllForUser(loggedOut.grant.user_id, "back-channel logout");
    const disconnecting = await connected("rt-d");
    let during: unknown;
    await grants.disconnect(disconnecting.grant.user_id, async () => {
      during = await rejection(grants.refresh(disconnecting.grant.id, idp.refreshWith));
    });
    for (const id of [replaced.grant.id, loggedOut.grant.id]) {
      expect(gatewayError(await rejection(grants.refresh(id, idp.refreshWith))).code).toBe("invalid_grant");
    }
    expect(gatewayError(during).code).toBe("invalid_grant");
    expect(
      gatewayError(await rejection(grants.refresh("00000000-0000-4000-8000-000000000000", idp.refreshWith)))
        .code,
    ).toBe("invalid_grant");
    expect(idp.requests).toHaveLength(0);
    expect((await row(loggedOut.grant.id))?.revoked_reason).toBe("back-channel logout");
  });

  const untouched: [string, Answer, string][] = [
    [
      "the IdP is busy (503 temporarily_unavailable)",
      () => json(503, { error: "temporarily_unavailable" }, { "retry-after": "30" }),
      "temporarily_unavailable",
    ],
    ["the IdP is busy (429)", () => json(429, { error: "slow_down" }), "temporarily_unavailable"],
    [
      "the IdP answers 400 temporarily_unavailable",
      () => json(400, { error: "temporarily_unavailable" }),
      "temporarily_unavailable",
    ],
    [
      "the IdP fails (500 server_error)",
      () => json(500, { error: "server_error" }),
      "temporarily_unavailable",
    ],
    [
      "the IdP answers 502 with an HTML page",
      () =>
        new Response("<html>Bad Gateway</html>", { status: 502, headers: { "content-type": "text/html" } }),
      "temporarily_unavailable",
    ],
    [
      "the IdP cannot be reached",
      () => {
        throw new TypeError("fetch failed");
      },
      "temporarily_unavailable",
    ],
    [
      "the IdP refuses the client (401 with a challenge)",
      () =>
        new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="company", error="invalid_client"' },
        }),
      "server_error",
    ],
    [
      "the IdP refuses the scope (400 invalid_scope)",
      () => json(400, { error: "invalid_scope" }),
      "server_error",
    ],
  ];

  it.each(untouched)("leaves the grant exactly as it was when %s", async (_, answer, code) => {
    const { grant } = await connected("rt-keep");
    const idp = refresher(answer);
    const err = gatewayError(await rejection(grants.refresh(grant.id, idp.refreshWith)));
    expect(err.code).toBe(code);
    expect(idp.requests).toHaveLength(1);
    expect(await row(grant.id)).toEqual(grant);
    expect(await actions(grant.user_id)).toEqual(["connect"]);
    // Still usable once the IdP answers again.
    const ok = refresher(() => tokens("at-later", "rt-later"));
    expect((await grants.refresh(grant.id, ok.refreshWith)).accessToken).toBe("at-later");
    expect(ok.requests[0]?.get("refresh_token")).toBe("rt-keep");
  });

  it.each([
    [400, "temporarily_unavailable"],
    [400, "invalid_request"],
    [401, "invalid_client"],
  ])(
    "revokes only on invalid_grant: openid-client's own %i %s error is rethrown and the grant kept",
    async (status, error) => {
      const { grant } = await connected("rt-keep");
      const { idp } = idpAnswering(() => json(status, { error }));
      // A refresh function that passes openid-client's errors through, as refreshAtIdp does for invalid_grant.
      const raw = async (refreshToken: string): Promise<RefreshAnswer> => {
        const r = await oidc.refreshTokenGrant(idp.configuration, refreshToken);
        return { accessToken: r.access_token, refreshToken: r.refresh_token, expiresIn: r.expires_in };
      };
      const err = await rejection(grants.refresh(grant.id, raw));
      expect(err).toBeInstanceOf(oidc.ResponseBodyError);
      expect((err as oidc.ResponseBodyError).error).toBe(error);
      expect(await row(grant.id)).toEqual(grant);
    },
  );

  it("rethrows a failure of the refresh function unchanged, leaving the grant as it was", async () => {
    const { grant } = await connected("rt-keep");
    const failure = new GatewayError("temporarily_unavailable", "busy");
    expect(await rejection(grants.refresh(grant.id, () => Promise.reject(failure)))).toBe(failure);
    expect(await row(grant.id)).toEqual(grant);
  });
});

describe("GrantStore.connect on PGlite", () => {
  it("stores the first grant sealed to its row and user, replaces nothing, sends nothing to the IdP, and audits connect", async () => {
    const user = await newUser();
    const idp = revoker();
    const { grant, replaced } = await grants.connect(
      user.id,
      user.subject,
      "rt-first",
      "openid offline_access",
      idp.revokeWith,
    );
    expect(replaced).toBe("none");
    expect(idp.requests).toHaveLength(0);
    expect(await row(grant.id)).toEqual(grant);
    expect(grant).toMatchObject({
      user_id: user.id,
      status: "active",
      scope: "openid offline_access",
      key_id: "k1",
      idp_session_id: null,
      revoked_reason: null,
      revoked_at: null,
    });
    expect(stored(grant, user.subject)).toBe("rt-first");
    // The AAD binds the token to this row and this user (docs/storage.md): another row's or user's fails.
    expect(grantAad(grant.id, user.subject)).toBe(`grant:${grant.id}:${user.subject}`);
    const sealed = grant.refresh_token_sealed ?? new Uint8Array();
    expect(() => sealer.open(sealed, "k1", grantAad(grant.id, "someone-else"))).toThrow(SealingError);
    expect(() => sealer.open(sealed, "k1", grantAad(randomUUID(), user.subject))).toThrow(SealingError);
    expect(await trail(user.id)).toEqual([
      {
        action: "connect",
        subject_hash: user.subject_hash,
        detail: { grantId: grant.id, scope: "openid offline_access", keyId: "k1", replaced: 0 },
      },
    ]);
  });

  it("revokes the replaced refresh token at the IdP and blanks it in its row; the new grant is the active one", async () => {
    const user = await newUser();
    const idp = revoker();
    const first = await grants.connect(user.id, user.subject, "rt-old", "openid", idp.revokeWith);
    const second = await grants.connect(user.id, user.subject, "rt-new", "openid", idp.revokeWith);
    expect(second.replaced).toBe("revoked");
    expect(idp.requests.map((r) => [r.get("token"), r.get("token_type_hint"), r.get("client_id")])).toEqual([
      ["rt-old", "refresh_token", "mcp-gateway"],
    ]);
    const old = await row(first.grant.id);
    expect(old).toMatchObject({
      status: "revoked",
      revoked_reason: "replaced by a new connection",
      refresh_token_sealed: null,
      key_id: null,
    });
    expect(old?.revoked_at).toBeInstanceOf(Date);
    expect(old?.updated_at).toEqual(old?.revoked_at);
    expect(stored(second.grant, user.subject)).toBe("rt-new");
    expect((await grants.activeGrant(user.id))?.id).toBe(second.grant.id);
    expect((await grants.latestGrant(user.id))?.id).toBe(second.grant.id);
    expect(await trail(user.id)).toEqual([
      {
        action: "connect",
        subject_hash: user.subject_hash,
        detail: { grantId: first.grant.id, scope: "openid", keyId: "k1", replaced: 0 },
      },
      {
        action: "connect",
        subject_hash: user.subject_hash,
        detail: { grantId: second.grant.id, scope: "openid", keyId: "k1", replaced: 1 },
      },
      {
        action: "revoke",
        subject_hash: user.subject_hash,
        detail: { grantId: first.grant.id, reason: "replaced by a new connection", idp: "revoked" },
      },
    ]);
  });

  const failures: [string, Answer | undefined][] = [
    ["the IdP is busy (503)", () => json(503, { error: "temporarily_unavailable" })],
    [
      "the IdP cannot be reached",
      () => {
        throw new TypeError("fetch failed");
      },
    ],
    [
      "the IdP refuses the gateway's client (401 invalid_client)",
      () => json(401, { error: "invalid_client" }),
    ],
    ["the IdP has no revocation endpoint", undefined],
  ];

  it.each(failures)(
    "keeps the new grant and blanks the old token when %s, and says the IdP failed",
    async (_, answer) => {
      const user = await newUser();
      const ok = revoker();
      const first = await grants.connect(user.id, user.subject, "rt-old", "openid", ok.revokeWith);
      const failing =
        answer === undefined
          ? (() => {
              const { idp } = idpAnswering(() => json(500, {}));
              return (t: string) => revokeRefreshToken(idp, t);
            })()
          : revoker(answer).revokeWith;
      const second = await grants.connect(user.id, user.subject, "rt-new", "openid", failing);
      expect(second.replaced).toBe("idp-failed");
      expect(await row(first.grant.id)).toMatchObject({
        status: "revoked",
        revoked_reason: "replaced by a new connection",
        refresh_token_sealed: null,
        key_id: null,
      });
      expect(await grants.activeGrant(user.id)).toEqual(second.grant);
      expect(stored(second.grant, user.subject)).toBe("rt-new");
      expect((await trail(user.id)).at(-1)?.detail).toEqual({
        grantId: first.grant.id,
        reason: "replaced by a new connection",
        idp: "idp-failed",
      });
    },
  );

  it("does not revoke at the IdP a replaced token of the new grant's own IdP session; does revoke one of another session", async () => {
    const user = await newUser();
    const idp = revoker();
    const a1 = await grants.connect(user.id, user.subject, inSession("A", 1), "openid", idp.revokeWith);
    expect(a1.grant.idp_session_id).toBe("A");
    const a2 = await grants.connect(user.id, user.subject, inSession("A", 2), "openid", idp.revokeWith);
    // Revoking it would end session A at the IdP, and with it the new grant.
    expect(a2.replaced).toBe("same-session");
    expect(idp.requests).toHaveLength(0);
    expect(await row(a1.grant.id)).toMatchObject({ status: "revoked", refresh_token_sealed: null });
    const b = await grants.connect(user.id, user.subject, inSession("B", 3), "openid", idp.revokeWith);
    expect(b.replaced).toBe("revoked");
    expect(idp.revoked()).toEqual([inSession("A", 2)]);
    // A token without a session (opaque) never counts as the same session, in either direction.
    const opaque = await grants.connect(user.id, user.subject, "rt-opaque", "openid", idp.revokeWith);
    expect(opaque.replaced).toBe("revoked");
    const c = await grants.connect(user.id, user.subject, inSession("C", 4), "openid", idp.revokeWith);
    expect(c.replaced).toBe("revoked");
    expect(idp.revoked()).toEqual([inSession("A", 2), inSession("B", 3), "rt-opaque"]);
    expect((await trail(user.id)).filter((e) => e.action === "revoke").map((e) => e.detail.idp)).toEqual([
      "same-session",
      "revoked",
      "revoked",
      "revoked",
    ]);
  });

  it.each([
    ["a JWT naming its session", inSession("sess-1"), "sess-1"],
    ["a JWT with an empty sid", inSession(""), null],
    ["a JWT with a non-string sid", inSession(42), null],
    ["a JWT without sid", `e30.${Buffer.from("{}").toString("base64url")}.sig`, null],
    ["an opaque token", "rt-opaque", null],
  ])("stores the IdP session of %s for back-channel logout", async (_, token, sid) => {
    const user = await newUser();
    const grant = await grants.saveGrant(user.id, user.subject, token, "openid");
    expect(grant.idp_session_id).toBe(sid);
  });

  it("blanks a replaced token that the key ring cannot open and sends nothing to the IdP", async () => {
    const user = await newUser();
    const idp = revoker();
    const first = await grants.connect(user.id, user.subject, "rt-under-k1", "openid", idp.revokeWith);
    const ringWithoutK1 = new GrantStore(store.db, new Sealer([k2]));
    const second = await ringWithoutK1.connect(
      user.id,
      user.subject,
      "rt-under-k2",
      "openid",
      idp.revokeWith,
    );
    expect(second.replaced).toBe("unreadable");
    expect(idp.requests).toHaveLength(0);
    expect(second.grant.key_id).toBe("k2");
    expect(await row(first.grant.id)).toMatchObject({
      status: "revoked",
      refresh_token_sealed: null,
      key_id: null,
    });
    expect((await trail(user.id)).at(-1)?.detail).toEqual({
      grantId: first.grant.id,
      reason: "replaced by a new connection",
      idp: "unreadable",
    });
  });

  it("refuses a user that does not exist or whose subject differs, storing nothing", async () => {
    const user = await newUser();
    const idp = revoker();
    const wrong = await rejection(grants.connect(user.id, "someone-else", "rt-x", "openid", idp.revokeWith));
    expect(wrong).toBeInstanceOf(Error);
    expect((wrong as Error).message).toBe(`no user ${user.id} with the given subject`);
    const ghost = randomUUID();
    expect(
      ((await rejection(grants.saveGrant(ghost, user.subject, "rt-x", "openid"))) as Error).message,
    ).toBe(`no user ${ghost} with the given subject`);
    expect(await rowsOf(user.id)).toEqual([]);
    expect(await trail(user.id)).toEqual([]);
    expect(idp.requests).toHaveLength(0);
  });

  it("serialises two connections of one user: both succeed and exactly one grant stays active", async () => {
    const user = await newUser();
    const idp = revoker();
    const results = await Promise.all([
      grants.connect(user.id, user.subject, "rt-x", "openid", idp.revokeWith),
      grants.connect(user.id, user.subject, "rt-y", "openid", idp.revokeWith),
    ]);
    expect(results.map((r) => r.replaced).sort()).toEqual(["none", "revoked"]);
    const rows = await rowsOf(user.id);
    expect(rows.map((r) => r.status).sort()).toEqual(["active", "revoked"]);
    expect(idp.requests).toHaveLength(1);
  });

  it("reports the worst outcome when it replaces several active grants (rows from before the one-active index)", async () => {
    const user = await newUser();
    const idp = revoker((form) =>
      form.get("token") === "rt-idp-down"
        ? json(503, { error: "temporarily_unavailable" })
        : new Response(null),
    );
    /** An active row written as an old release did, beside the active one. */
    const legacyActive = async (token: string, ring = sealer) => {
      const id = randomUUID();
      const { sealed, keyId } = ring.seal(token, grantAad(id, user.subject));
      await store.db
        .insertInto("offline_grants")
        .values({ id, user_id: user.id, refresh_token_sealed: sealed, key_id: keyId, scope: "openid" })
        .execute();
    };
    const lost = new Sealer([key("k-lost")]);
    await sql`DROP INDEX offline_grants_one_active`.execute(store.db);
    try {
      const outcome = async (tokens: [string, Sealer?][]) => {
        for (const [t, ring] of tokens) await legacyActive(t, ring);
        return (await grants.connect(user.id, user.subject, inSession("S", 9), "openid", idp.revokeWith))
          .replaced;
      };
      // The new grant of session S is replaced along with the legacy rows each time; it counts as same-session.
      expect(await outcome([["rt-ok-1"], [inSession("S", 1)]])).toBe("same-session");
      expect(await outcome([["rt-ok-2"], ["rt-idp-down"]])).toBe("idp-failed");
      expect(await outcome([["rt-ok-3"], ["rt-idp-down"], ["rt-lost", lost]])).toBe("unreadable");
    } finally {
      await sql`CREATE UNIQUE INDEX offline_grants_one_active ON offline_grants (user_id) WHERE status = 'active'`.execute(
        store.db,
      );
    }
    expect(idp.revoked().sort()).toEqual(["rt-idp-down", "rt-idp-down", "rt-ok-1", "rt-ok-2", "rt-ok-3"]);
    const rows = await rowsOf(user.id);
    expect(rows.filter((r) => r.status === "active")).toHaveLength(1);
    expect(rows.filter((r) => r.refresh_token_sealed !== null)).toHaveLength(1);
  });
});

describe("GrantStore.disconnect on PGlite", () => {
  it("revokes the active token at the IdP, then deletes every row of the user and audits it", async () => {
    const user = await newUser();
    const bystander = await connected("rt-bystander");
    const idp = revoker();
    const old = await grants.connect(user.id, user.subject, "rt-old", "openid", idp.revokeWith);
    const live = await grants.connect(user.id, user.subject, "rt-live", "openid", idp.revokeWith);
    let during: OfflineGrant | undefined;
    const result = await grants.disconnect(user.id, async (token) => {
      during = await row(live.grant.id);
      // No refresh can use the token meanwhile; it is still there to revoke, or to put back.
      expect(await grants.activeGrant(user.id)).toBeUndefined();
      await idp.revokeWith(token);
    });
    expect(result).toEqual({ deleted: 2, revokedAtIdp: true });
    expect(during).toMatchObject({
      status: "revoked",
      revoked_reason: "disconnect in progress",
      key_id: "k1",
    });
    expect(during?.refresh_token_sealed).toEqual(live.grant.refresh_token_sealed);
    expect(idp.revoked()).toEqual(["rt-old", "rt-live"]);
    expect(await rowsOf(user.id)).toEqual([]);
    expect(await row(old.grant.id)).toBeUndefined();
    expect(await grants.latestGrant(user.id)).toBeUndefined();
    expect((await trail(user.id)).at(-1)).toEqual({
      action: "disconnect",
      subject_hash: user.subject_hash,
      detail: { grants: 2, revokedAtIdp: true },
    });
    expect(await row(bystander.grant.id)).toEqual(bystander.grant);
  });

  it("with no active grant, deletes the blanked rows and sends nothing to the IdP", async () => {
    const { grant, subject } = await connected("rt-logged-out");
    await grants.revokeAllForUser(grant.user_id, "back-channel logout");
    const idp = revoker();
    expect(await grants.disconnect(grant.user_id, idp.revokeWith)).toEqual({
      deleted: 1,
      revokedAtIdp: false,
    });
    expect(idp.requests).toHaveLength(0);
    expect(await row(grant.id)).toBeUndefined();
    const trailOf = await trail(grant.user_id);
    expect(trailOf.at(-1)).toMatchObject({
      action: "disconnect",
      detail: { grants: 1, revokedAtIdp: false },
    });
    expect(subject).not.toBe("");
    // A user with nothing at all: nothing deleted, still audited.
    const empty = await newUser();
    expect(await grants.disconnect(empty.id, idp.revokeWith)).toEqual({ deleted: 0, revokedAtIdp: false });
    expect(await trail(empty.id)).toEqual([
      { action: "disconnect", subject_hash: empty.subject_hash, detail: { grants: 0, revokedAtIdp: false } },
    ]);
  });

  it.each([
    [
      "busy (503)",
      () => json(503, { error: "temporarily_unavailable" }),
      "temporarily_unavailable",
      "The identity provider could not revoke your offline access just now; nothing was deleted. Try again in a moment.",
    ],
    [
      "refusing the gateway's client (401)",
      () => json(401, { error: "invalid_client" }),
      "server_error",
      "The identity provider refused the gateway's client credentials when revoking; the operator must check OIDC_CLIENT_ID and OIDC_CLIENT_SECRET. Nothing was deleted.",
    ],
  ] as [string, Answer, string, string][])(
    "deletes nothing and puts the grant back when the IdP is %s",
    async (_, answer, code, description) => {
      const { grant, subject } = await connected("rt-keep");
      const idp = revoker(answer);
      const err = gatewayError(await rejection(grants.disconnect(grant.user_id, idp.revokeWith)));
      expect([err.code, err.description]).toEqual([code, description]);
      expect(idp.revoked()).toEqual(["rt-keep"]);
      const after = await row(grant.id);
      // As it was; only updated_at moves.
      expect(after).toEqual({ ...grant, updated_at: after?.updated_at });
      expect(stored(after ?? grant, subject)).toBe("rt-keep");
      expect(await actions(grant.user_id)).toEqual(["connect"]);
      // And it still works.
      const ok = refresher(() => tokens("at-after"));
      expect((await grants.refresh(grant.id, ok.refreshWith)).accessToken).toBe("at-after");
    },
  );

  it("refuses, naming SEALING_KEYS, when the key ring cannot open the token: nothing sent, nothing changed", async () => {
    const { grant } = await connected("rt-under-k1");
    const idp = revoker();
    const ringWithoutK1 = new GrantStore(store.db, new Sealer([k2]));
    const err = gatewayError(await rejection(ringWithoutK1.disconnect(grant.user_id, idp.revokeWith)));
    expect(err.code).toBe("server_error");
    expect(err.description).toBe(
      "The gateway cannot read your stored offline access, so it cannot revoke it at the identity provider; nothing was deleted. Ask the operator to check SEALING_KEYS, or revoke the gateway's access in your identity provider's account console.",
    );
    expect(err.detail).toMatch(new RegExp(`^grant ${grant.id}: .*key k1`));
    expect(err.cause).toBeInstanceOf(SealingError);
    expect(idp.requests).toHaveLength(0);
    expect(await row(grant.id)).toEqual(grant);
    expect(await actions(grant.user_id)).toEqual(["connect"]);
  });

  it("takes the IdP's back-channel logout for the session it is revoking as an echo, which ends nothing", async () => {
    const user = await newUser();
    const idp = revoker();
    const { grant } = await grants.connect(
      user.id,
      user.subject,
      inSession("S-disc"),
      "openid",
      idp.revokeWith,
    );
    let echo: unknown;
    const failing = revoker(() => json(503, { error: "temporarily_unavailable" }));
    await rejection(
      grants.disconnect(user.id, async (token) => {
        echo = await grants.logoutSession(user.id, "S-disc", "back-channel logout");
        await failing.revokeWith(token);
      }),
    );
    expect(echo).toEqual({ revoked: 0, echo: true });
    // The revocation failed: the grant is back, usable, and the echo did not blank it.
    expect(await grants.activeGrant(user.id)).toMatchObject({ id: grant.id, revoked_reason: null });
    expect(await actions(user.id)).toEqual(["connect"]);
    await grants.disconnect(user.id, async (token) => {
      echo = await grants.logoutSession(user.id, "S-disc", "back-channel logout");
      await idp.revokeWith(token);
    });
    expect(echo).toEqual({ revoked: 0, echo: true });
    expect(await rowsOf(user.id)).toEqual([]);
  });
});

describe("GrantStore revocation and back-channel logout on PGlite", () => {
  it("revokeAllForUser revokes the user's active grant with the reason, blanks it, audits it, and touches no one else", async () => {
    const { grant } = await connected("rt-a");
    const other = await connected("rt-b");
    expect(await grants.revokeAllForUser(grant.user_id, "account deleted at the IdP")).toBe(1);
    const after = await row(grant.id);
    expect(after).toMatchObject({
      status: "revoked",
      revoked_reason: "account deleted at the IdP",
      refresh_token_sealed: null,
      key_id: null,
    });
    expect(after?.revoked_at).toBeInstanceOf(Date);
    expect(await row(other.grant.id)).toEqual(other.grant);
    // Nothing left to revoke: 0, and nothing more audited.
    expect(await grants.revokeAllForUser(grant.user_id, "again")).toBe(0);
    const [connect] = await trail(grant.user_id);
    expect(connect?.subject_hash).toEqual(expect.stringMatching(/./));
    expect(await trail(grant.user_id)).toEqual([
      expect.objectContaining({ action: "connect" }),
      {
        action: "revoke",
        subject_hash: connect?.subject_hash,
        detail: { reason: "account deleted at the IdP", grants: 1 },
      },
    ]);
    expect((await grants.latestGrant(grant.user_id))?.revoked_reason).toBe("account deleted at the IdP");
  });

  it("a logout of one IdP session revokes that session's grant only, for that user only", async () => {
    const user = await newUser();
    const other = await newUser();
    const { grant } = await grants.connect(
      user.id,
      user.subject,
      inSession("S-1"),
      "openid",
      revoker().revokeWith,
    );
    const others = await grants.saveGrant(other.id, other.subject, inSession("S-1"), "openid");
    expect(await grants.logoutSession(user.id, "S-unrelated", "back-channel logout")).toEqual({
      revoked: 0,
      echo: false,
    });
    expect(await row(grant.id)).toEqual(grant);
    expect(await grants.logoutSession(user.id, "S-1", "back-channel logout")).toEqual({
      revoked: 1,
      echo: false,
    });
    expect(await row(grant.id)).toMatchObject({
      status: "revoked",
      revoked_reason: "back-channel logout",
      refresh_token_sealed: null,
      key_id: null,
    });
    expect(await row(others.id)).toEqual(others);
    expect(await trail(user.id)).toEqual([
      expect.objectContaining({ action: "connect" }),
      {
        action: "revoke",
        subject_hash: user.subject_hash,
        detail: { reason: "back-channel logout", grants: 1 },
      },
    ]);
    // The same logout again: nothing left, and not an echo of the gateway's own revocation.
    expect(await grants.logoutSession(user.id, "S-1", "back-channel logout")).toEqual({
      revoked: 0,
      echo: false,
    });
    expect(await actions(user.id)).toEqual(["connect", "revoke"]);
  });

  it("a logout of any session revokes a grant whose session is unknown; one without sid revokes every session", async () => {
    const opaque = await connected("rt-opaque");
    expect(await grants.logoutSession(opaque.grant.user_id, "S-any", "back-channel logout")).toEqual({
      revoked: 1,
      echo: false,
    });
    expect((await row(opaque.grant.id))?.status).toBe("revoked");
    const named = await connected(inSession("S-named"));
    expect(await grants.logoutSession(named.grant.user_id, undefined, "back-channel logout")).toEqual({
      revoked: 1,
      echo: false,
    });
    expect(await row(named.grant.id)).toMatchObject({ status: "revoked", refresh_token_sealed: null });
  });

  it("takes the logout of a session whose grant a new connection replaced as the echo of that revocation, ending nothing", async () => {
    const user = await newUser();
    const idp = revoker();
    await grants.connect(user.id, user.subject, inSession("S-old"), "openid", idp.revokeWith);
    // The new grant's token names no session: a real logout of any session would end it.
    const now = await grants.connect(user.id, user.subject, "rt-opaque-new", "openid", idp.revokeWith);
    expect(now.replaced).toBe("revoked");
    const before = await actions(user.id);
    expect(await grants.logoutSession(user.id, "S-old", "back-channel logout")).toEqual({
      revoked: 0,
      echo: true,
    });
    expect(await grants.activeGrant(user.id)).toEqual(now.grant);
    expect(await actions(user.id)).toEqual(before);
  });

  it("a logout of the session the new grant shares with the one it replaced ends the new grant", async () => {
    const user = await newUser();
    const idp = revoker();
    await grants.connect(user.id, user.subject, inSession("S-shared", 1), "openid", idp.revokeWith);
    const now = await grants.connect(
      user.id,
      user.subject,
      inSession("S-shared", 2),
      "openid",
      idp.revokeWith,
    );
    expect(now.replaced).toBe("same-session");
    expect(await grants.logoutSession(user.id, "S-shared", "back-channel logout")).toEqual({
      revoked: 1,
      echo: false,
    });
    expect(await grants.activeGrant(user.id)).toBeUndefined();
  });

  it("a logout of a session whose grant the IdP ended itself is not an echo", async () => {
    const { grant } = await connected(inSession("S-dead"));
    await rejection(
      grants.refresh(grant.id, refresher(() => json(400, { error: "invalid_grant" })).refreshWith),
    );
    expect(await grants.logoutSession(grant.user_id, "S-dead", "back-channel logout")).toEqual({
      revoked: 0,
      echo: false,
    });
  });

  it("latestGrant shows the active grant, else the most recently revoked one", async () => {
    const user = await newUser();
    expect(await grants.latestGrant(user.id)).toBeUndefined();
    const idp = revoker();
    const first = await grants.connect(user.id, user.subject, "rt-1", "openid", idp.revokeWith);
    const second = await grants.connect(user.id, user.subject, "rt-2", "openid", idp.revokeWith);
    // Even when a revoked row looks newer (clock skew between replicas), the active one is shown.
    await store.db
      .updateTable("offline_grants")
      .set({ created_at: new Date(Date.now() + 3_600_000) })
      .where("id", "=", first.grant.id)
      .execute();
    expect((await grants.latestGrant(user.id))?.id).toBe(second.grant.id);
    await grants.revokeAllForUser(user.id, "back-channel logout");
    expect((await grants.latestGrant(user.id))?.id).toBe(first.grant.id);
    await store.db
      .updateTable("offline_grants")
      .set({ created_at: new Date(Date.now() - 3_600_000) })
      .where("id", "=", first.grant.id)
      .execute();
    expect(await grants.latestGrant(user.id)).toMatchObject({
      id: second.grant.id,
      revoked_reason: "back-channel logout",
    });
  });
});

describe("GrantStore.refresh: what the user and the operator are told", () => {
  it("stores the IdP's reason for invalid_grant, cut at 300 characters, or none when it gives none", async () => {
    const long = await connected("rt-long");
    const said = "x".repeat(400);
    const err = gatewayError(
      await rejection(
        grants.refresh(
          long.grant.id,
          refresher(() => json(400, { error: "invalid_grant", error_description: said })).refreshWith,
        ),
      ),
    );
    const reason = `the identity provider answered invalid_grant: ${"x".repeat(300)}`;
    expect(err.description).toBe(
      "The gateway's offline access to your account is no longer valid; connect again at /connect.",
    );
    expect(err.detail).toBe(`grant ${long.grant.id}: ${reason}`);
    expect((await row(long.grant.id))?.revoked_reason).toBe(reason);
    expect((await trail(long.grant.user_id)).at(-1)).toEqual({
      action: "revoke",
      subject_hash: subjectHash(ISSUER, long.subject),
      detail: { grantId: long.grant.id, reason },
    });
    const bare = await connected("rt-bare");
    await rejection(
      grants.refresh(bare.grant.id, refresher(() => json(400, { error: "invalid_grant" })).refreshWith),
    );
    expect((await row(bare.grant.id))?.revoked_reason).toBe("the identity provider answered invalid_grant");
  });

  it("names the grant and why it cannot be refreshed: revoked (with its reason or none), or missing", async () => {
    const idp = refresher(() => tokens("at"));
    const { grant } = await connected("rt-x");
    await grants.revokeAllForUser(grant.user_id, "back-channel logout");
    const revoked = gatewayError(await rejection(grants.refresh(grant.id, idp.refreshWith)));
    expect([revoked.code, revoked.detail]).toEqual([
      "invalid_grant",
      `grant ${grant.id} is revoked: back-channel logout`,
    ]);
    expect(revoked.description).toBe(
      "The gateway's offline access to your account is no longer valid; connect again at /connect.",
    );
    await store.db
      .updateTable("offline_grants")
      .set({ revoked_reason: null })
      .where("id", "=", grant.id)
      .execute();
    expect(gatewayError(await rejection(grants.refresh(grant.id, idp.refreshWith))).detail).toBe(
      `grant ${grant.id} is revoked: no reason`,
    );
    const missing = randomUUID();
    expect(gatewayError(await rejection(grants.refresh(missing, idp.refreshWith))).detail).toBe(
      `no grant ${missing}`,
    );
    expect(idp.requests).toHaveLength(0);
  });

  it("refuses, naming SEALING_KEYS, a token the key ring cannot open, and sends nothing", async () => {
    const { grant } = await connected("rt-under-k1");
    const idp = refresher(() => tokens("at"));
    const err = gatewayError(
      await rejection(new GrantStore(store.db, new Sealer([k2])).refresh(grant.id, idp.refreshWith)),
    );
    expect([err.code, err.description]).toEqual([
      "server_error",
      "The gateway cannot read its stored offline access; the operator must check SEALING_KEYS.",
    ]);
    expect(err.detail).toMatch(new RegExp(`^grant ${grant.id}: .*key k1`));
    expect(err.cause).toBeInstanceOf(SealingError);
    expect(idp.requests).toHaveLength(0);
    expect(await row(grant.id)).toEqual(grant);
  });

  it("audits each refresh with whether the token rotated and the key it is sealed under", async () => {
    const { grant, subject } = await connected("rt-1");
    const ring = new GrantStore(store.db, new Sealer([k2, k1]));
    // The IdP answers with the same token: not rotated, still under k1, the sealed bytes unchanged.
    const same = refresher(() => tokens("at-1", "rt-1", 120));
    expect(await ring.refresh(grant.id, same.refreshWith)).toEqual({ accessToken: "at-1", expiresIn: 120 });
    const kept = await row(grant.id);
    expect(kept?.refresh_token_sealed).toEqual(grant.refresh_token_sealed);
    expect(kept?.last_used_at).toBeInstanceOf(Date);
    expect(kept?.last_refreshed_at).toEqual(kept?.last_used_at);
    // A rotated token is sealed under the current key.
    await ring.refresh(grant.id, refresher(() => tokens("at-2", "rt-2")).refreshWith);
    const moved = await row(grant.id);
    expect(moved?.key_id).toBe("k2");
    expect(
      new Sealer([k2]).open(
        moved?.refresh_token_sealed ?? new Uint8Array(),
        "k2",
        grantAad(grant.id, subject),
      ),
    ).toBe("rt-2");
    expect((await trail(grant.user_id)).slice(1)).toEqual([
      {
        action: "refresh",
        subject_hash: subjectHash(ISSUER, subject),
        detail: { grantId: grant.id, rotated: false, keyId: "k1" },
      },
      {
        action: "refresh",
        subject_hash: subjectHash(ISSUER, subject),
        detail: { grantId: grant.id, rotated: true, keyId: "k2" },
      },
    ]);
  });
});

describe("purging revoked grants (RETENTION_REVOKED_GRANTS_DAYS)", () => {
  it("deletes revoked grants revoked before the retention, keeps newer and active ones, and counts them", async () => {
    const idp = revoker();
    const user = await newUser();
    const old = await grants.connect(user.id, user.subject, "rt-old", "openid", idp.revokeWith);
    const recent = await grants.connect(user.id, user.subject, "rt-recent", "openid", idp.revokeWith);
    const active = await grants.connect(user.id, user.subject, "rt-active", "openid", idp.revokeWith);
    const now = new Date();
    const daysAgo = (d: number) => new Date(now.getTime() - d * 24 * 3600_000);
    const revokedAt = async (id: string, at: Date) =>
      store.db.updateTable("offline_grants").set({ revoked_at: at }).where("id", "=", id).execute();
    // Older than anything other tests leave, so that the count is this test's.
    await revokedAt(old.grant.id, daysAgo(3000));
    await revokedAt(recent.grant.id, daysAgo(2990));
    expect(await purgeRevokedGrants(store.db, daysAgo(2995))).toBe(1);
    expect((await rowsOf(user.id)).map((r) => r.id)).toEqual([recent.grant.id, active.grant.id]);
    // Exactly at the limit is not before it.
    expect(await purgeRevokedGrants(store.db, daysAgo(2990))).toBe(0);
    // Through the housekeeping job, with a retention of 2980 days.
    const job = housekeepingJob({ jobRunsDays: 100_000, auditEventsDays: 100_000, revokedGrantsDays: 2980 });
    const ctx = { store, log: createLogger("silent"), now: () => now, replica: "unit" };
    expect((await runJob(job, ctx)).counts.revokedGrants).toBe(1);
    expect((await rowsOf(user.id)).map((r) => r.id)).toEqual([active.grant.id]);
    expect(await grants.latestGrant(user.id)).toMatchObject({ id: active.grant.id, status: "active" });
    // The audit trail keeps what happened.
    expect(await actions(user.id)).toEqual(["connect", "connect", "revoke", "connect", "revoke"]);
  });
});

describe("GrantStore.reencryptAll on PGlite", () => {
  // A database of its own: re-encryption goes over every row.
  let own: Store;
  let disposeOwn: () => Promise<void>;

  beforeAll(async () => {
    ({ store: own, dispose: disposeOwn } = await openMigratedPglite("ncmcp-unit-reencrypt-"));
  }, 60_000);

  afterAll(async () => {
    await disposeOwn();
  });

  const k3 = key("k3");

  async function seeded(ring: Sealer, tokens: string[]): Promise<{ grant: OfflineGrant; subject: string }[]> {
    const store = new GrantStore(own.db, ring);
    const out = [];
    for (const t of tokens) {
      const user = await upsertUser(own.db, { issuer: ISSUER, subject: `re-${++users}` });
      out.push({ grant: await store.saveGrant(user.id, user.subject, t, "openid"), subject: user.subject });
    }
    return out;
  }

  it("moves every active token to the current key, batch by batch; keeps the ones it cannot open or has no key for", async () => {
    const underK1 = await seeded(new Sealer([k1]), ["rt-a", "rt-b", "rt-c"]);
    const underK3 = await seeded(new Sealer([k3]), ["rt-d", "rt-e"]);
    const [swapped, source] = await seeded(new Sealer([k1]), ["rt-f", "rt-g"]);
    if (!swapped || !source) throw new Error("seeding failed");
    // A sealed token moved to another row does not open there (AAD).
    await own.db
      .updateTable("offline_grants")
      .set({ refresh_token_sealed: source.grant.refresh_token_sealed })
      .where("id", "=", swapped.grant.id)
      .execute();
    // A blanked row has nothing to re-seal.
    const revoked = (await seeded(new Sealer([k1]), ["rt-h"]))[0];
    await new GrantStore(own.db, new Sealer([k1])).revokeAllForUser(revoked?.grant.user_id ?? "", "test");

    const ring = new GrantStore(own.db, new Sealer([k2, k1]));
    expect(await ring.reencryptAll({ batchSize: 2 })).toEqual({
      reencrypted: 4,
      missingKey: { k3: 2 },
      unreadable: 1,
    });
    const onlyK2 = new Sealer([k2]);
    for (const [i, g] of [...underK1, source].entries()) {
      const now = await own.db
        .selectFrom("offline_grants")
        .selectAll()
        .where("id", "=", g.grant.id)
        .executeTakeFirstOrThrow();
      expect(now.key_id).toBe("k2");
      expect(
        onlyK2.open(now.refresh_token_sealed ?? new Uint8Array(), "k2", grantAad(g.grant.id, g.subject)),
      ).toBe(["rt-a", "rt-b", "rt-c", "rt-g"][i]);
    }
    for (const g of underK3) {
      expect(
        await own.db.selectFrom("offline_grants").selectAll().where("id", "=", g.grant.id).executeTakeFirst(),
      ).toEqual(g.grant);
    }
    // Run again (default batch): only what it could not do is left, and counted again.
    expect(await ring.reencryptAll()).toEqual({ reencrypted: 0, missingKey: { k3: 2 }, unreadable: 1 });
    // With k3 in the ring, one row per batch.
    expect(await new GrantStore(own.db, new Sealer([k2, k3])).reencryptAll({ batchSize: 1 })).toEqual({
      reencrypted: 2,
      missingKey: { k1: 1 },
      unreadable: 0,
    });
  });

  /**
   * Runs `meanwhile` between re-encryption's listing of the rows and their turns. One connection,
   * taken in turn (src/store/pglite-dialect.ts): hold it, queue the listing, then `meanwhile`, then
   * let go; what `meanwhile` queued runs before the rows' own turns.
   */
  async function reencryptWhile<T>(ring: GrantStore, meanwhile: () => Promise<T>) {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const holding = own.db.transaction().execute(() => gate);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    await turn();
    const running = ring.reencryptAll();
    await turn();
    const other = meanwhile();
    await turn();
    open();
    await holding;
    return { result: await running, other: await other };
  }

  it("skips a grant revoked between the listing and its turn: nothing re-sealed, nothing counted", async () => {
    await own.db.deleteFrom("offline_grants").execute();
    const seededGrants = await seeded(new Sealer([k1]), ["rt-x", "rt-y"]);
    const ring = new GrantStore(own.db, new Sealer([k2, k1]));
    const { result, other } = await reencryptWhile(ring, () =>
      Promise.all(seededGrants.map((g) => ring.revokeAllForUser(g.grant.user_id, "back-channel logout"))),
    );
    expect(other).toEqual([1, 1]);
    expect(result).toEqual({ reencrypted: 0, missingKey: {}, unreadable: 0 });
    const rows = await own.db.selectFrom("offline_grants").selectAll().execute();
    expect(rows.map((r) => [r.status, r.key_id, r.refresh_token_sealed])).toEqual([
      ["revoked", null, null],
      ["revoked", null, null],
    ]);
  });

  it("skips a grant deleted, or moved to the current key by a refresh, between the listing and its turn", async () => {
    await own.db.deleteFrom("offline_grants").execute();
    const [gone, refreshed] = await seeded(new Sealer([k1]), ["rt-gone", "rt-refreshed"]);
    if (!gone || !refreshed) throw new Error("seeding failed");
    const ring = new GrantStore(own.db, new Sealer([k2, k1]));
    const { result } = await reencryptWhile(ring, () =>
      Promise.all([
        own.db.deleteFrom("offline_grants").where("id", "=", gone.grant.id).execute(),
        ring.refresh(refreshed.grant.id, () =>
          Promise.resolve({ accessToken: "at", refreshToken: "rt-rotated" }),
        ),
      ]),
    );
    expect(result).toEqual({ reencrypted: 0, missingKey: {}, unreadable: 0 });
    const rows = await own.db.selectFrom("offline_grants").selectAll().execute();
    expect(rows.map((r) => r.id)).toEqual([refreshed.grant.id]);
    expect(rows[0]?.key_id).toBe("k2");
    expect(
      new Sealer([k2]).open(
        rows[0]?.refresh_token_sealed ?? new Uint8Array(),
        "k2",
        grantAad(refreshed.grant.id, refreshed.subject),
      ),
    ).toBe("rt-rotated");
    // Refreshed once, by the refresh alone.
    expect(
      await own.db
        .selectFrom("audit_events")
        .select("action")
        .where("user_id", "=", refreshed.grant.user_id)
        .orderBy("id")
        .execute(),
    ).toEqual([{ action: "connect" }, { action: "refresh" }]);
  });
});
