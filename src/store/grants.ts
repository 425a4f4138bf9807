import { randomUUID } from "node:crypto";
import { decodeJwt } from "jose";
import type { Kysely, Transaction } from "kysely";
import { describeError, GatewayError } from "../errors.ts";
import { oauthErrorOf } from "../idp/oauth-error.ts";
import { audit } from "./audit.ts";
import type { Database, OfflineGrant } from "./schema.ts";
import { SealingError, type Sealer } from "./sealing.ts";

/** What the IdP answered a refresh with; `refreshToken` is the rotated one, when it rotates. */
export interface RefreshAnswer {
  refreshToken?: string | undefined;
  accessToken: string;
  expiresIn?: number | undefined;
}

/** The access token a refresh yields; the rotated refresh token stays in the store. */
export interface RefreshedAccess {
  accessToken: string;
  expiresIn: number | undefined;
}

/** Counts of one {@link GrantStore.reencryptAll} run. */
export interface ReencryptResult {
  /** Rows now sealed under the current key. */
  reencrypted: number;
  /** Rows left untouched because SEALING_KEYS lacks their key, by key id. */
  missingKey: Record<string, number>;
  /** Rows whose key is present but which do not open (tampered or bound to another row); untouched. */
  unreadable: number;
}

/**
 * What happened at the IdP to the refresh token of a grant that a new connection replaced:
 * `none` (there was no active grant), `revoked` (revoked there, RFC 7009), `same-session` (the new
 * grant belongs to the same IdP session, so revoking the old token there would end the new grant
 * too; the new sign-in superseded it), `idp-failed` (the IdP could not revoke it: deleted locally
 * only) or `unreadable` (SEALING_KEYS could not open it: deleted locally only). In every case the
 * old row is revoked and its sealed token blanked.
 */
export type ReplacedAtIdp = "none" | "revoked" | "same-session" | "idp-failed" | "unreadable";

/** What {@link GrantStore.connect} stored and what happened to the grant it replaced. */
export interface ConnectResult {
  grant: OfflineGrant;
  replaced: ReplacedAtIdp;
}

/** What {@link GrantStore.disconnect} did: rows deleted, and whether a live token was revoked at the IdP. */
export interface DisconnectResult {
  deleted: number;
  revokedAtIdp: boolean;
}

/** The revocation reason of a grant while the user's disconnect is revoking it at the IdP. */
const DISCONNECTING = "disconnect in progress";

const REPLACED = "replaced by a new connection";

/** What a revoked row keeps of its token: nothing (docs/storage.md, "blanked"). */
const BLANKED = { refresh_token_sealed: null, key_id: null } as const;

/**
 * The IdP session (`sid`) a refresh token belongs to, when the token is a JWT that says so
 * (Keycloak's are); undefined for opaque tokens. Read only to compare two tokens the IdP gave the
 * gateway itself, never trusted for anything else.
 */
function idpSessionOf(refreshToken: string): string | undefined {
  try {
    const { sid } = decodeJwt(refreshToken);
    return typeof sid === "string" && sid !== "" ? sid : undefined;
  } catch {
    return undefined;
  }
}

const RECONNECT =
  "The gateway's offline access to your account is no longer valid; connect again at /connect.";

/** The AAD that binds a sealed refresh token to its row and its user (docs/storage.md). */
export function grantAad(grantId: string, subject: string): string {
  return `grant:${grantId}:${subject}`;
}

type Db = Kysely<Database> | Transaction<Database>;

/** Locks the grant row (not the user row) and reads it with the user's subject, for the AAD. */
function lockGrant(trx: Db, grantId: string) {
  return trx
    .selectFrom("offline_grants as g")
    .innerJoin("users as u", "u.id", "g.user_id")
    .selectAll("g")
    .select(["u.subject", "u.subject_hash"])
    .where("g.id", "=", grantId)
    .forUpdate("g")
    .executeTakeFirst();
}

/** The sealed token of a row, which only a revoked (blanked) row lacks. */
function sealedOf(row: { id: string; refresh_token_sealed: Uint8Array | null; key_id: string | null }) {
  if (row.refresh_token_sealed === null || row.key_id === null) {
    throw new Error(`grant ${row.id} has no sealed token (it was revoked and blanked)`);
  }
  return { sealed: row.refresh_token_sealed, keyId: row.key_id };
}

/**
 * The offline grants: IdP refresh tokens sealed at rest, one active grant per user, refreshed under
 * a row lock so that replicas never use one rotating refresh token twice.
 */
export class GrantStore {
  readonly #db: Kysely<Database>;
  readonly #sealer: Sealer;

  constructor(db: Kysely<Database>, sealer: Sealer) {
    this.#db = db;
    this.#sealer = sealer;
  }

  /**
   * Stores a new active grant for the user whose IdP subject is `subject`, revoking the one it
   * replaces (row kept, sealed token blanked), and audits "connect". The replaced token is not
   * revoked at the IdP: {@link connect} does that. The row id is chosen here so that the AAD can
   * include it.
   * @throws when the user does not exist or its subject differs from `subject`.
   */
  async saveGrant(
    userId: string,
    subject: string,
    refreshToken: string,
    scope: string,
  ): Promise<OfflineGrant> {
    return (await this.#save(userId, subject, refreshToken, scope)).grant;
  }

  /**
   * A new connection: stores the grant as {@link saveGrant} does, then revokes the refresh token
   * of the grant it replaced at the IdP through `revokeWith` (RFC 7009), after the commit, so no
   * row lock is held while the IdP is called. The old token is blanked in the same transaction that
   * stores the new one, whatever the IdP then answers; the answer is audited and returned for the
   * account page. A replaced token from the same IdP session as the new one (same `sid`) is not
   * revoked there: that would end the new grant's session too.
   * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
   */
  async connect(
    userId: string,
    subject: string,
    refreshToken: string,
    scope: string,
    revokeWith: (refreshToken: string) => Promise<void>,
  ): Promise<ConnectResult> {
    const { grant, replaced, subjectHash } = await this.#save(userId, subject, refreshToken, scope);
    if (replaced.length === 0) return { grant, replaced: "none" };
    const newSession = idpSessionOf(refreshToken);
    const outcomes: ReplacedAtIdp[] = [];
    for (const old of replaced) {
      let outcome: ReplacedAtIdp;
      if (old.token === undefined) outcome = "unreadable";
      else if (newSession !== undefined && idpSessionOf(old.token) === newSession) outcome = "same-session";
      else {
        outcome = await revokeWith(old.token).then(
          () => "revoked" as const,
          () => "idp-failed" as const,
        );
      }
      outcomes.push(outcome);
      await audit(this.#db, {
        userId,
        subjectHash,
        action: "revoke",
        detail: { grantId: old.id, reason: REPLACED, idp: outcome },
      });
    }
    // Several replaced rows only arise from data older than the one-active index; report the worst.
    const order: ReplacedAtIdp[] = ["unreadable", "idp-failed", "same-session", "revoked"];
    return { grant, replaced: order.find((o) => outcomes.includes(o)) ?? "revoked" };
  }

  async #save(userId: string, subject: string, refreshToken: string, scope: string) {
    return this.#db.transaction().execute(async (trx) => {
      // The user row lock serialises connects of one user, so the one-active index cannot trip.
      const user = await trx
        .selectFrom("users")
        .select(["subject", "subject_hash"])
        .where("id", "=", userId)
        .forUpdate()
        .executeTakeFirst();
      if (user?.subject !== subject) throw new Error(`no user ${userId} with the given subject`);
      const now = new Date();
      // Waits for a refresh in flight on the old grant, so its rotated token is the one read here.
      const old = await trx
        .selectFrom("offline_grants")
        .select(["id", "refresh_token_sealed", "key_id"])
        .where("user_id", "=", userId)
        .where("status", "=", "active")
        .forUpdate()
        .execute();
      const replaced = old.map((row) => {
        try {
          const { sealed, keyId } = sealedOf(row);
          return { id: row.id, token: this.#sealer.open(sealed, keyId, grantAad(row.id, subject)) };
        } catch (err) {
          if (err instanceof SealingError) return { id: row.id, token: undefined };
          throw err;
        }
      });
      if (old.length > 0) {
        await trx
          .updateTable("offline_grants")
          .set({ status: "revoked", revoked_reason: REPLACED, revoked_at: now, updated_at: now, ...BLANKED })
          .where(
            "id",
            "in",
            old.map((r) => r.id),
          )
          .execute();
      }
      const id = randomUUID();
      const { sealed, keyId } = this.#sealer.seal(refreshToken, grantAad(id, subject));
      const grant = await trx
        .insertInto("offline_grants")
        .values({
          id,
          user_id: userId,
          refresh_token_sealed: sealed,
          key_id: keyId,
          scope,
          idp_session_id: idpSessionOf(refreshToken) ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, {
        userId,
        subjectHash: user.subject_hash,
        action: "connect",
        detail: { grantId: id, scope, keyId, replaced: old.length },
      });
      return { grant, replaced, subjectHash: user.subject_hash };
    });
  }

  /** The user's active grant, if any. */
  async activeGrant(userId: string): Promise<OfflineGrant | undefined> {
    return this.#db
      .selectFrom("offline_grants")
      .selectAll()
      .where("user_id", "=", userId)
      .where("status", "=", "active")
      .executeTakeFirst();
  }

  /**
   * Refreshes the grant at the IdP through `refreshWith`, holding the row lock throughout: the
   * rotated refresh token is sealed (under the current key) and committed before the access token is
   * returned, so a concurrent refresh waits and then uses the new token. An `invalid_grant` answer
   * marks the grant revoked (row kept, reason stored, audited); any other failure leaves the row as
   * it was and is rethrown unchanged for the caller to classify.
   * @throws GatewayError `invalid_grant` when the grant is missing, revoked, or the IdP revoked it;
   *   `server_error` when the stored token cannot be opened with SEALING_KEYS.
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
   */
  async refresh(
    grantId: string,
    refreshWith: (refreshToken: string) => Promise<RefreshAnswer>,
  ): Promise<RefreshedAccess> {
    const outcome = await this.#db
      .transaction()
      .execute(async (trx): Promise<RefreshedAccess | GatewayError> => {
        const row = await lockGrant(trx, grantId);
        if (row?.status !== "active") {
          throw new GatewayError("invalid_grant", RECONNECT, {
            detail: row
              ? `grant ${grantId} is revoked: ${row.revoked_reason ?? "no reason"}`
              : `no grant ${grantId}`,
          });
        }
        const aad = grantAad(row.id, row.subject);
        let refreshToken: string;
        try {
          const { sealed, keyId } = sealedOf(row);
          refreshToken = this.#sealer.open(sealed, keyId, aad);
        } catch (err) {
          if (!(err instanceof SealingError)) throw err;
          throw new GatewayError(
            "server_error",
            "The gateway cannot read its stored offline access; the operator must check SEALING_KEYS.",
            { detail: `grant ${grantId}: ${err.message}`, cause: err },
          );
        }
        let answer: RefreshAnswer;
        try {
          answer = await refreshWith(refreshToken);
        } catch (err) {
          const said = oauthErrorOf(err);
          if (said?.error !== "invalid_grant") throw err;
          const reason = `the identity provider answered ${said.error}${said.description ? `: ${said.description.slice(0, 300)}` : ""}`;
          const now = new Date();
          await trx
            .updateTable("offline_grants")
            .set({ status: "revoked", revoked_reason: reason, revoked_at: now, updated_at: now, ...BLANKED })
            .where("id", "=", grantId)
            .execute();
          await audit(trx, {
            userId: row.user_id,
            subjectHash: row.subject_hash,
            action: "revoke",
            detail: { grantId, reason },
          });
          // Returned, not thrown, so that the revocation commits.
          return new GatewayError("invalid_grant", RECONNECT, {
            detail: `grant ${grantId}: ${reason}`,
            cause: err,
          });
        }
        const now = new Date();
        const rotated = answer.refreshToken !== undefined && answer.refreshToken !== refreshToken;
        const resealed = rotated ? this.#sealer.seal(answer.refreshToken ?? "", aad) : undefined;
        await trx
          .updateTable("offline_grants")
          .set({
            ...(resealed ? { refresh_token_sealed: resealed.sealed, key_id: resealed.keyId } : {}),
            last_refreshed_at: now,
            last_used_at: now,
            updated_at: now,
          })
          .where("id", "=", grantId)
          .execute();
        await audit(trx, {
          userId: row.user_id,
          subjectHash: row.subject_hash,
          action: "refresh",
          detail: { grantId, rotated, keyId: resealed?.keyId ?? row.key_id },
        });
        return { accessToken: answer.accessToken, expiresIn: answer.expiresIn };
      });
    if (outcome instanceof GatewayError) throw outcome;
    return outcome;
  }

  /**
   * Revokes every active grant of the user (back-channel logout: the IdP ended the session itself),
   * keeping the rows with their sealed tokens blanked; returns how many.
   */
  async revokeAllForUser(userId: string, reason: string): Promise<number> {
    return this.#revokeActive(userId, undefined, reason);
  }

  /**
   * Revokes the user's active grants (of session `sid` and those whose session is unknown, or all
   * without a sid), blanking their tokens, with one audit row that names the subject; returns how many.
   */
  async #revokeActive(userId: string, sid: string | undefined, reason: string): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const now = new Date();
      const rows = await trx
        .updateTable("offline_grants")
        .set({ status: "revoked", revoked_reason: reason, revoked_at: now, updated_at: now, ...BLANKED })
        .where("user_id", "=", userId)
        .where("status", "=", "active")
        .$if(sid !== undefined, (q) =>
          q.where((eb) => eb.or([eb("idp_session_id", "=", sid ?? ""), eb("idp_session_id", "is", null)])),
        )
        .returning("id")
        .execute();
      if (rows.length > 0) {
        const user = await trx
          .selectFrom("users")
          .select("subject_hash")
          .where("id", "=", userId)
          .executeTakeFirst();
        await audit(trx, {
          userId,
          subjectHash: user?.subject_hash,
          action: "revoke",
          detail: { reason, grants: rows.length },
        });
      }
      return rows.length;
    });
  }

  /**
   * Back-channel logout of the IdP session `sid` (or, without a sid, of every session) of the user:
   * revokes the user's active grants of that session (and those whose session is unknown), keeping
   * the rows with their tokens blanked. A logout of a session whose grant this gateway itself revoked
   * at the IdP (a replaced grant, a disconnect in progress) is the IdP's echo of that revocation:
   * it changes nothing and is reported as `echo`, so that it does not end the user's other sessions.
   * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#BCActions
   */
  async logoutSession(
    userId: string,
    sid: string | undefined,
    reason: string,
  ): Promise<{ revoked: number; echo: boolean }> {
    if (sid !== undefined) {
      const own = await this.#db
        .selectFrom("offline_grants")
        .select("status")
        .where("user_id", "=", userId)
        .where("idp_session_id", "=", sid)
        .execute();
      const echo =
        own.length > 0 &&
        own.every((r) => r.status === "revoked") &&
        (await this.#db
          .selectFrom("offline_grants")
          .select("id")
          .where("user_id", "=", userId)
          .where("idp_session_id", "=", sid)
          .where("revoked_reason", "in", [REPLACED, DISCONNECTING])
          .executeTakeFirst()) !== undefined;
      if (echo) return { revoked: 0, echo: true };
    }
    return { revoked: await this.#revokeActive(userId, sid, reason), echo: false };
  }

  /**
   * The user's grant to show: the active one, else the most recently revoked one, else undefined.
   */
  async latestGrant(userId: string): Promise<OfflineGrant | undefined> {
    return this.#db
      .selectFrom("offline_grants")
      .selectAll()
      .where("user_id", "=", userId)
      .orderBy((eb) => eb.case().when("status", "=", "active").then(0).else(1).end())
      .orderBy("created_at", "desc")
      .limit(1)
      .executeTakeFirst();
  }

  /**
   * Disconnect: revokes the refresh token of the user's active grant at the IdP through
   * `revokeWith` (RFC 7009), then deletes all of the user's grant rows and audits "disconnect".
   * The active grant is first marked revoked ("disconnect in progress") in a short transaction, so
   * no refresh can rotate the token meanwhile and no row lock is held while the IdP is called (the
   * IdP may call the back-channel logout endpoint of this gateway while it revokes). When the
   * revocation fails, or the stored token cannot be opened with SEALING_KEYS, the grant is left (or
   * put back) as it was, nothing is deleted and the error is thrown. With no active grant only the
   * (blanked) revoked rows are deleted: there is nothing left to revoke at the IdP.
   * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
   */
  async disconnect(
    userId: string,
    revokeWith: (refreshToken: string) => Promise<void>,
  ): Promise<DisconnectResult> {
    const claimed = await this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("offline_grants as g")
        .innerJoin("users as u", "u.id", "g.user_id")
        .selectAll("g")
        .select(["u.subject"])
        .where("g.user_id", "=", userId)
        .where("g.status", "=", "active")
        .forUpdate("g")
        .executeTakeFirst();
      if (!row) return undefined;
      let refreshToken: string;
      try {
        const { sealed, keyId } = sealedOf(row);
        refreshToken = this.#sealer.open(sealed, keyId, grantAad(row.id, row.subject));
      } catch (err) {
        if (!(err instanceof SealingError)) throw err;
        throw new GatewayError(
          "server_error",
          "The gateway cannot read your stored offline access, so it cannot revoke it at the identity provider; nothing was deleted. Ask the operator to check SEALING_KEYS, or revoke the gateway's access in your identity provider's account console.",
          { detail: `grant ${row.id}: ${err.message}`, cause: err },
        );
      }
      const now = new Date();
      await trx
        .updateTable("offline_grants")
        .set({ status: "revoked", revoked_reason: DISCONNECTING, revoked_at: now, updated_at: now })
        .where("id", "=", row.id)
        .execute();
      return { id: row.id, refreshToken };
    });
    if (claimed) {
      try {
        await revokeWith(claimed.refreshToken);
      } catch (err) {
        await this.#db
          .updateTable("offline_grants")
          .set({ status: "active", revoked_reason: null, revoked_at: null, updated_at: new Date() })
          .where("id", "=", claimed.id)
          .where("revoked_reason", "=", DISCONNECTING)
          .execute();
        throw err;
      }
    }
    return this.#db.transaction().execute(async (trx) => {
      const user = await trx
        .selectFrom("users")
        .select("subject_hash")
        .where("id", "=", userId)
        .executeTakeFirst();
      const deleted = await trx.deleteFrom("offline_grants").where("user_id", "=", userId).executeTakeFirst();
      // What the content index read with the grant goes with it (docs/adr/0022-content-index.md).
      await trx.deleteFrom("search_items").where("user_id", "=", userId).execute();
      await trx.deleteFrom("search_sync").where("user_id", "=", userId).execute();
      await trx.deleteFrom("search_index_users").where("user_id", "=", userId).execute();
      await audit(trx, {
        userId,
        subjectHash: user?.subject_hash,
        action: "disconnect",
        detail: { grants: Number(deleted.numDeletedRows), revokedAtIdp: claimed !== undefined },
      });
      return { deleted: Number(deleted.numDeletedRows), revokedAtIdp: claimed !== undefined };
    });
  }

  /**
   * Re-seals every row that holds a token (the active ones, and a revoked one only while its
   * disconnect is in progress; blanked rows have none) not under the current key, each in its own short
   * transaction under the row lock, `batchSize` ids at a time. Rows whose key is missing from the
   * ring, or which do not open, are counted and left untouched.
   */
  async reencryptAll(options: { batchSize?: number } = {}): Promise<ReencryptResult> {
    const batchSize = options.batchSize ?? 100;
    const current = this.#sealer.currentKeyId;
    const result: ReencryptResult = { reencrypted: 0, missingKey: {}, unreadable: 0 };
    let after = "00000000-0000-0000-0000-000000000000";
    for (;;) {
      const batch = await this.#db
        .selectFrom("offline_grants")
        .select("id")
        .where("key_id", "is not", null)
        .where("key_id", "<>", current)
        .where("id", ">", after)
        .orderBy("id")
        .limit(batchSize)
        .execute();
      for (const { id } of batch) {
        const outcome = await this.#db.transaction().execute(async (trx) => {
          const row = await lockGrant(trx, id);
          if (!row || row.key_id === null || row.refresh_token_sealed === null || row.key_id === current)
            return "skipped";
          if (!this.#sealer.has(row.key_id)) return { missing: row.key_id };
          let token: string;
          const aad = grantAad(row.id, row.subject);
          try {
            token = this.#sealer.open(row.refresh_token_sealed, row.key_id, aad);
          } catch (err) {
            if (err instanceof SealingError) return "unreadable";
            throw new Error(`re-encrypting grant ${id}: ${describeError(err)}`, { cause: err });
          }
          const { sealed, keyId } = this.#sealer.seal(token, aad);
          await trx
            .updateTable("offline_grants")
            .set({ refresh_token_sealed: sealed, key_id: keyId, updated_at: new Date() })
            .where("id", "=", id)
            .execute();
          return "reencrypted";
        });
        if (outcome === "reencrypted") result.reencrypted++;
        else if (outcome === "unreadable") result.unreadable++;
        else if (outcome !== "skipped") {
          result.missingKey[outcome.missing] = (result.missingKey[outcome.missing] ?? 0) + 1;
        }
      }
      const last = batch.at(-1);
      if (!last || batch.length < batchSize) return result;
      after = last.id;
    }
  }
}

/**
 * Deletes revoked grants revoked before `before` (housekeeping, RETENTION_REVOKED_GRANTS_DAYS);
 * the audit trail keeps what happened. Returns how many rows were deleted.
 */
export async function purgeRevokedGrants(db: Kysely<Database>, before: Date): Promise<number> {
  const r = await db
    .deleteFrom("offline_grants")
    .where("status", "=", "revoked")
    .where("revoked_at", "<", before)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
