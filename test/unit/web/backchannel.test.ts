// POST /oauth/backchannel-logout on its own: locally signed logout tokens (test/unit/auth/fixtures.ts),
// the replay records and grants on the embedded database (PGlite, in-process). What the IdP gets
// back (status, error_description), what is stored and what is logged. The path through the real
// Keycloak is covered by test/integration/web/backchannel*.test.ts.
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { Hono } from "hono";
import { SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppEnv } from "../../../src/http/env.ts";
import type { Idp } from "../../../src/idp/index.ts";
import { createLogger, subjectHash } from "../../../src/log.ts";
import { findUser } from "../../../src/store/account.ts";
import {
  forgetLogoutToken,
  GrantStore,
  recordLogoutToken,
  Sealer,
  upsertUser,
  type Store,
} from "../../../src/store/index.ts";
import {
  BACKCHANNEL_REASON,
  backchannelLogout,
  type BackchannelSettings,
} from "../../../src/web/backchannel.ts";
import { createIdp, NOW, NOW_MS, type TestIdp } from "../auth/fixtures.ts";
import { openMigratedPglite } from "../store/migrated-pglite.ts";

const ISSUER = "https://idp.example.test/realms/company";
const CLIENT_ID = "mcp-gateway";
const EVENT = "http://schemas.openid.net/event/backchannel-logout";
const MAX_AGE = 120;

let store: Store;
let dispose: () => Promise<void>;
let grants: GrantStore;
let keys: TestIdp;

beforeAll(async () => {
  ({ store, dispose } = await openMigratedPglite("ncmcp-unit-backchannel-"));
  grants = new GrantStore(store.db, new Sealer([{ kid: "k1", key: new Uint8Array(randomBytes(32)) }]));
  keys = await createIdp("RS256");
}, 60_000);

afterAll(async () => {
  await dispose();
});

let counter = 0;

/** A logout token's claims; an `undefined` override removes the claim. */
function logoutClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: CLIENT_ID,
    sub: "user-subject",
    sid: "session-1",
    iat: NOW - 5,
    jti: `jti-${++counter}-${randomBytes(4).toString("hex")}`,
    events: { [EVENT]: {} },
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) Reflect.deleteProperty(base, name);
    else base[name] = value;
  }
  return base;
}

interface Harness {
  post: (body: string | undefined, contentType?: string) => Promise<Response>;
  postToken: (token: string) => Promise<Response>;
  logs: () => Record<string, unknown>[];
  recorded: { jti: string; expiresAt: Date }[];
  loggedOut: { subject: string; sid: string | undefined; reason: string }[];
}

/** The handler with the store on PGlite, as src/web/routes.ts wires it; `change` replaces settings. */
function harness(change: Partial<BackchannelSettings> = {}): Harness {
  const lines: string[] = [];
  const log = createLogger(
    "info",
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    }),
  );
  const recorded: Harness["recorded"] = [];
  const loggedOut: Harness["loggedOut"] = [];
  const settings: BackchannelSettings = {
    issuer: ISSUER,
    clientId: CLIENT_ID,
    // Only the key set is read by the handler; a local JWKS stands in for the remote one.
    idp: () => Promise.resolve({ jwks: keys.getKey } as unknown as Idp),
    maxAgeSeconds: MAX_AGE,
    now: () => new Date(NOW_MS),
    recordUse: (jti, expiresAt) => {
      recorded.push({ jti, expiresAt });
      return recordLogoutToken(store.db, ISSUER, jti, expiresAt);
    },
    forgetUse: (jti) => forgetLogoutToken(store.db, ISSUER, jti),
    logoutUser: async (subject, sid, reason) => {
      loggedOut.push({ subject, sid, reason });
      const user = await findUser(store.db, ISSUER, subject);
      if (!user) return 0;
      return (await grants.logoutSession(user.id, sid, reason)).revoked;
    },
    ...change,
  };
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("log", log);
    await next();
  });
  app.post("/oauth/backchannel-logout", backchannelLogout(settings));
  const post = async (body: string | undefined, contentType = "application/x-www-form-urlencoded") =>
    await app.request("/oauth/backchannel-logout", {
      method: "POST",
      headers: { "content-type": contentType },
      ...(body === undefined ? {} : { body }),
    });
  return {
    post,
    postToken: (token) => post(new URLSearchParams({ logout_token: token }).toString()),
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    recorded,
    loggedOut,
  };
}

async function refusal(response: Response, status: number): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get("cache-control")).toBe("no-store");
  const body = (await response.json()) as { error: string; error_description: string };
  expect(body.error).toBe(status === 400 ? "invalid_request" : "temporarily_unavailable");
  return body.error_description;
}

/** A user with an active grant of IdP session `sid`. */
async function connectedUser(subject: string, sid: string | null): Promise<string> {
  const user = await upsertUser(store.db, { issuer: ISSUER, subject });
  const grant = await grants.saveGrant(user.id, subject, `rt-${subject}`, "openid offline_access");
  await store.db
    .updateTable("offline_grants")
    .set({ idp_session_id: sid })
    .where("id", "=", grant.id)
    .execute();
  return grant.id;
}

async function grantRow(id: string) {
  return store.db.selectFrom("offline_grants").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

describe("back-channel logout", () => {
  it("revokes the session's grants once: 200 with no-store, the reason stored, a replay refused with 400", async () => {
    const subject = "subject-accepted";
    const grantId = await connectedUser(subject, "session-a");
    const h = harness();
    const token = await keys.sign(logoutClaims({ sub: subject, sid: "session-a" }));
    const ok = await h.postToken(token);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("cache-control")).toBe("no-store");
    expect(await ok.text()).toBe("");
    const row = await grantRow(grantId);
    expect(row.status).toBe("revoked");
    expect(row.revoked_reason).toBe(BACKCHANNEL_REASON);
    expect(BACKCHANNEL_REASON).toMatch(
      /^the identity provider ended the offline session \(back-channel logout\)/,
    );
    expect(row.refresh_token_sealed).toBeNull();
    expect(h.loggedOut).toEqual([{ subject, sid: "session-a", reason: BACKCHANNEL_REASON }]);
    const done = h.logs().find((l) => l.msg === "back-channel logout: sessions ended, grants revoked");
    expect(done).toMatchObject({ level: "info", revoked: 1, sub: subjectHash(ISSUER, subject) });

    expect(await refusal(await h.postToken(token), 400)).toBe("logout token rejected: it was used before");
    expect(h.loggedOut).toHaveLength(1);
    const replay = h
      .logs()
      .find((l) => l.msg === "back-channel logout refused: the logout token was used before (replay)");
    expect(replay).toMatchObject({ level: "warn", sub: subjectHash(ISSUER, subject) });
    // Logs carry neither the token nor the raw subject.
    const logged = JSON.stringify(h.logs());
    expect(logged).not.toContain(token.split(".")[1] ?? "-");
    expect(logged).not.toContain(subject);
  });

  it("logs out every session of the user when the token has no sid (or an empty one)", async () => {
    const h = harness();
    for (const sid of [undefined, "", 42]) {
      const subject = `subject-no-sid-${String(sid)}`;
      const other = await connectedUser(subject, "some-session");
      expect((await h.postToken(await keys.sign(logoutClaims({ sub: subject, sid })))).status).toBe(200);
      expect(h.loggedOut.at(-1)).toEqual({ subject, sid: undefined, reason: BACKCHANNEL_REASON });
      expect((await grantRow(other)).status).toBe("revoked");
    }
  });

  it("keeps the replay record as long as the token could be accepted: the earlier of iat + max age and exp, plus leeway", async () => {
    const h = harness();
    const iat = NOW - 5;
    await h.postToken(await keys.sign(logoutClaims({ iat })));
    await h.postToken(await keys.sign(logoutClaims({ iat, exp: iat + 30 })));
    await h.postToken(await keys.sign(logoutClaims({ iat, exp: iat + 3600 })));
    expect(h.recorded.map((r) => r.expiresAt.getTime() / 1000)).toEqual([
      iat + MAX_AGE + 60,
      iat + 30 + 60,
      iat + MAX_AGE + 60,
    ]);
  });

  it("refuses a request without a logout token, naming the form field", async () => {
    const h = harness();
    const want = "POST a form with logout_token (OpenID Back-Channel Logout 1.0)";
    expect(await refusal(await h.post(undefined), 400)).toBe(want);
    expect(await refusal(await h.post("logout_token="), 400)).toBe(want);
    expect(await refusal(await h.post("other=1"), 400)).toBe(want);
    expect(await refusal(await h.post(JSON.stringify({ logout_token: "x" }), "application/json"), 400)).toBe(
      want,
    );
    expect(await refusal(await h.post("--b\r\nbroken", "multipart/form-data; boundary=b"), 400)).toBe(want);
    expect(h.recorded).toEqual([]);
  });

  it("refuses tokens that fail the spec's checks, saying which, and records nothing", async () => {
    const h = harness();
    const hs256 = await new SignJWT(logoutClaims())
      .setProtectedHeader({ alg: "HS256" })
      .sign(new Uint8Array(randomBytes(32)));
    const cases: [string, Promise<string> | string][] = [
      ['logout token rejected: unexpected "iss" claim value', keys.sign(logoutClaims({ iss: `${ISSUER}x` }))],
      [
        'logout token rejected: unexpected "aud" claim value',
        keys.sign(logoutClaims({ aud: "other-client" })),
      ],
      ['logout token rejected: "alg" (Algorithm) Header Parameter value not allowed', hs256],
      [
        'logout token rejected: "exp" claim timestamp check failed',
        keys.sign(logoutClaims({ exp: NOW - 61 })),
      ],
      [
        'logout token rejected: "iat" claim timestamp check failed (too far in the past)',
        keys.sign(logoutClaims({ iat: NOW - MAX_AGE - 61 })),
      ],
      [
        'logout token rejected: "iat" claim timestamp check failed (it should be in the past)',
        keys.sign(logoutClaims({ iat: NOW + 61 })),
      ],
      ['logout token rejected: missing required "iat" claim', keys.sign(logoutClaims({ iat: undefined }))],
      ['logout token rejected: missing required "jti" claim', keys.sign(logoutClaims({ jti: undefined }))],
      [
        `logout token rejected: the events claim lacks ${EVENT}`,
        keys.sign(logoutClaims({ events: undefined })),
      ],
      [
        `logout token rejected: the events claim lacks ${EVENT}`,
        keys.sign(logoutClaims({ events: "logout" })),
      ],
      [
        `logout token rejected: the events claim lacks ${EVENT}`,
        keys.sign(logoutClaims({ events: { other: {} } })),
      ],
      [
        `logout token rejected: the events claim lacks ${EVENT}`,
        keys.sign(logoutClaims({ events: { [EVENT]: "yes" } })),
      ],
      ["logout token rejected: it carries a nonce", keys.sign(logoutClaims({ nonce: "n" }))],
      [
        "logout token rejected: no sub (the gateway needs the subject)",
        keys.sign(logoutClaims({ sub: undefined })),
      ],
      ["logout token rejected: no sub (the gateway needs the subject)", keys.sign(logoutClaims({ sub: "" }))],
      ["logout token rejected: no sub (the gateway needs the subject)", keys.sign(logoutClaims({ sub: 42 }))],
      [
        "logout token rejected: no usable jti (needed to refuse replays)",
        keys.sign(logoutClaims({ jti: "" })),
      ],
      [
        "logout token rejected: no usable jti (needed to refuse replays)",
        keys.sign(logoutClaims({ jti: 7 })),
      ],
      [
        "logout token rejected: no usable jti (needed to refuse replays)",
        keys.sign(logoutClaims({ jti: "j".repeat(513) })),
      ],
      ["logout token rejected: Invalid Compact JWS", "not-a-token"],
    ];
    for (const [want, token] of cases) {
      expect(await refusal(await h.postToken(await token), 400), want).toBe(want);
    }
    expect(h.recorded).toEqual([]);
    const refusedLines = h.logs().filter((l) => l.msg === "back-channel logout refused");
    expect(refusedLines.map((l) => l.err)).toEqual(cases.map(([want]) => want));
  });

  it("accepts the edges: clock skew within the leeway, an iat at the max age, a jti of 512 characters", async () => {
    const h = harness();
    for (const claims of [
      { iat: NOW + 59 },
      { exp: NOW - 59 },
      { iat: NOW - MAX_AGE - 59 },
      { jti: "j".repeat(512) },
    ]) {
      expect((await h.postToken(await keys.sign(logoutClaims(claims)))).status, JSON.stringify(claims)).toBe(
        200,
      );
    }
  });

  it("answers 503 (the IdP retries) when the keys cannot be had, and records nothing", async () => {
    const unavailable = harness({ idp: () => Promise.reject(new Error("discovery failed")) });
    const token = await keys.sign(logoutClaims());
    expect(await refusal(await unavailable.postToken(token), 503)).toBe("try again later");
    const keyFetch = harness({
      idp: () =>
        Promise.resolve({
          jwks: () => Promise.reject(new Error("JWKS unreachable")),
        } as unknown as Idp),
    });
    expect(await refusal(await keyFetch.postToken(token), 503)).toBe("try again later");
    expect([...unavailable.recorded, ...keyFetch.recorded]).toEqual([]);
    expect(keyFetch.logs().find((l) => l.msg === "back-channel logout: cannot validate now")).toMatchObject({
      level: "error",
      err: expect.stringContaining("JWKS unreachable") as unknown,
    });
    // Later, with the keys back, the same token is accepted.
    expect((await harness().postToken(token)).status).toBe(200);
  });

  it("answers 503 and revokes nothing when the replay record cannot be written", async () => {
    const h = harness({ recordUse: () => Promise.reject(new Error("database down")) });
    expect(await refusal(await h.postToken(await keys.sign(logoutClaims())), 503)).toBe("try again later");
    expect(h.loggedOut).toEqual([]);
    expect(h.logs().find((l) => l.msg === "back-channel logout: cannot record the token now")).toMatchObject({
      level: "error",
      err: expect.stringContaining("database down") as unknown,
    });
  });

  it("forgets the token when the grants cannot be revoked, so that the IdP's retry is accepted", async () => {
    const subject = "subject-retry";
    const grantId = await connectedUser(subject, "session-r");
    const token = await keys.sign(logoutClaims({ sub: subject, sid: "session-r" }));
    const failing = harness({ logoutUser: () => Promise.reject(new Error("database down")) });
    expect(await refusal(await failing.postToken(token), 503)).toBe("try again later");
    expect((await grantRow(grantId)).status).toBe("active");
    expect(
      failing.logs().find((l) => l.msg === "back-channel logout: grants could not be revoked"),
    ).toMatchObject({
      level: "error",
      err: expect.stringContaining("database down") as unknown,
    });
    expect((await harness().postToken(token)).status).toBe(200);
    expect((await grantRow(grantId)).status).toBe("revoked");

    // When even forgetting fails, the answer is still 503 and the failure is logged.
    const stuck = harness({
      logoutUser: () => Promise.reject(new Error("database down")),
      forgetUse: () => Promise.reject(new Error("still down")),
    });
    expect(await refusal(await stuck.postToken(await keys.sign(logoutClaims())), 503)).toBe(
      "try again later",
    );
    expect(
      stuck.logs().find((l) => l.msg === "back-channel logout: the token's use could not be forgotten"),
    ).toMatchObject({ level: "error", err: expect.stringContaining("still down") as unknown });
  });

  it("uses the real clock when none is pinned", async () => {
    const h = harness({ now: undefined });
    const iat = Math.floor(Date.now() / 1000) - 5;
    expect((await h.postToken(await keys.sign(logoutClaims({ iat })))).status).toBe(200);
  });
});
