import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/** The key of a logout token's replay record: SHA-256 of its issuer and `jti` (never the token). */
function jtiHash(issuer: string, jti: string): string {
  return createHash("sha256").update(`${issuer}\n${jti}`).digest("base64url");
}

/**
 * Records that the logout token `(issuer, jti)` was accepted, until `expiresAt`, in one
 * insert-if-absent statement that every replica shares. Returns false when it was recorded
 * already: the token is a replay.
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation
 */
export async function recordLogoutToken(
  db: Kysely<Database>,
  issuer: string,
  jti: string,
  expiresAt: Date,
): Promise<boolean> {
  const row = await db
    .insertInto("logout_token_uses")
    .values({ jti_hash: jtiHash(issuer, jti), expires_at: expiresAt })
    .onConflict((oc) => oc.column("jti_hash").doNothing())
    .returning("jti_hash")
    .executeTakeFirst();
  return row !== undefined;
}

/** Forgets a recorded logout token, so that the IdP's retry of a logout that failed here is accepted. */
export async function forgetLogoutToken(db: Kysely<Database>, issuer: string, jti: string): Promise<void> {
  await db.deleteFrom("logout_token_uses").where("jti_hash", "=", jtiHash(issuer, jti)).execute();
}

/** Deletes replay records whose tokens could no longer be accepted anyway (housekeeping); returns how many. */
export async function deleteExpiredLogoutTokens(db: Kysely<Database>, now: Date): Promise<number> {
  const r = await db.deleteFrom("logout_token_uses").where("expires_at", "<", now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
