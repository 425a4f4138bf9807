import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database, LoginStatesTable } from "./schema.ts";

/** How long a browser has to come back to /oauth/callback (DESIGN §6.5). */
export const LOGIN_STATE_TTL_MS = 10 * 60_000;

/** What the callback needs to finish a sign-in: PKCE verifier, nonce, where to go next. */
export interface LoginState {
  purpose: LoginStatesTable["purpose"];
  codeVerifier: string;
  nonce: string;
  returnTo: string | null;
}

const hashState = (state: string) => createHash("sha256").update(state).digest("base64url");

/**
 * Stores a new single-use OAuth `state` for a browser sign-in and returns the value to send; only
 * its SHA-256 is stored, so any replica can finish the callback but a database reader cannot.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.12
 */
export async function createLoginState(
  db: Kysely<Database>,
  state: LoginState,
  now: Date = new Date(),
): Promise<string> {
  const value = randomBytes(32).toString("base64url");
  await db
    .insertInto("login_states")
    .values({
      state_hash: hashState(value),
      purpose: state.purpose,
      code_verifier: state.codeVerifier,
      nonce: state.nonce,
      return_to: state.returnTo,
      created_at: now,
      expires_at: new Date(now.getTime() + LOGIN_STATE_TTL_MS),
    })
    .execute();
  return value;
}

/**
 * Consumes a `state` exactly once: the first caller with an unexpired, unused state gets it; a
 * reused, unknown or expired state gives undefined (one atomic UPDATE, so two replicas racing on
 * the same callback cannot both win).
 */
export async function consumeLoginState(
  db: Kysely<Database>,
  value: string,
  now: Date = new Date(),
): Promise<LoginState | undefined> {
  const row = await db
    .updateTable("login_states")
    .set({ consumed_at: now })
    .where("state_hash", "=", hashState(value))
    .where("consumed_at", "is", null)
    .where("expires_at", ">", now)
    .returning(["purpose", "code_verifier", "nonce", "return_to"])
    .executeTakeFirst();
  return (
    row && {
      purpose: row.purpose,
      codeVerifier: row.code_verifier,
      nonce: row.nonce,
      returnTo: row.return_to,
    }
  );
}

/** Deletes states that expired before `now` (housekeeping); returns how many. */
export async function deleteExpiredLoginStates(
  db: Kysely<Database>,
  now: Date = new Date(),
): Promise<number> {
  const result = await db.deleteFrom("login_states").where("expires_at", "<=", now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
