// GrantStore.refresh's outcomes on the embedded database alone (PGlite, in-process): what is stored
// for each answer of the IdP. The refresh goes through the gateway's real refreshAtIdp and
// openid-client, with the token endpoint answering in-process; the real Keycloak path is covered by
// test/integration/grants/grant-store.test.ts.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { refreshAtIdp } from "../../../src/idp/index.ts";
import {
  GrantStore,
  grantAad,
  migrate,
  openStore,
  Sealer,
  upsertUser,
  type OfflineGrant,
  type RefreshAnswer,
  type Store,
} from "../../../src/store/index.ts";
import { idpAnswering, json, tokens, type Answer } from "../idp/token-endpoint.ts";

const ISSUER = "https://idp.example.test/realms/company";
const sealer = new Sealer([{ kid: "k1", key: new Uint8Array(randomBytes(32)) }]);

let dir: string;
let store: Store;
let grants: GrantStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ncmcp-unit-grants-"));
  store = await openStore({ backend: "pglite", dataDir: dir });
  await migrate(store);
  grants = new GrantStore(store.db, sealer);
}, 60_000);

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let users = 0;

/** A new user with an active grant holding `refreshToken`. */
async function connected(refreshToken = "rt-1"): Promise<{ grant: OfflineGrant; subject: string }> {
  const subject = `subject-${++users}`;
  const user = await upsertUser(store.db, { issuer: ISSUER, subject });
  const grant = await grants.saveGrant(user.id, subject, refreshToken, "openid offline_access");
  return { grant, subject };
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
