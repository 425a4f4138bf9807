import type { Kysely } from "kysely";
import { subjectHash } from "../log.ts";
import type { Database, User } from "./schema.ts";

/** Who signed in, as the ID token or userinfo says; the profile fields are for display only. */
export interface UserProfile {
  issuer: string;
  subject: string;
  username?: string | undefined;
  email?: string | undefined;
  displayName?: string | undefined;
}

/**
 * Creates the user of `(issuer, subject)` or, when it exists, refreshes its profile and
 * `last_seen_at`; returns the row. `subject_hash` is the log pseudonym of `src/log.ts`.
 */
export async function upsertUser(db: Kysely<Database>, profile: UserProfile): Promise<User> {
  const values = {
    username: profile.username ?? null,
    email: profile.email ?? null,
    display_name: profile.displayName ?? null,
  };
  return db
    .insertInto("users")
    .values({
      issuer: profile.issuer,
      subject: profile.subject,
      subject_hash: subjectHash(profile.issuer, profile.subject),
      ...values,
    })
    .onConflict((oc) =>
      oc.constraint("users_issuer_subject_key").doUpdateSet({ ...values, last_seen_at: new Date() }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Ends every account-page session of the user on every replica (sign-out, back-channel logout):
 * the cookies carry the version they were issued under, and this makes it stale. Returns the new
 * version, or undefined when there is no such user.
 */
export async function endSessions(db: Kysely<Database>, userId: string): Promise<number | undefined> {
  const row = await db
    .updateTable("users")
    .set((eb) => ({ session_version: eb("session_version", "+", 1) }))
    .where("id", "=", userId)
    .returning("session_version")
    .executeTakeFirst();
  return row?.session_version;
}
