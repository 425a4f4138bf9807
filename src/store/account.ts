import type { Kysely } from "kysely";
import type { Database, OfflineGrant, User } from "./schema.ts";

/** The user of `(issuer, subject)`, if they ever signed in on the account page or connected. */
export async function findUser(
  db: Kysely<Database>,
  issuer: string,
  subject: string,
): Promise<User | undefined> {
  return db
    .selectFrom("users")
    .selectAll()
    .where("issuer", "=", issuer)
    .where("subject", "=", subject)
    .executeTakeFirst();
}

/** The user with row id `id`. */
export async function userById(db: Kysely<Database>, id: string): Promise<User | undefined> {
  return db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
}

/** One line of a user's audit trail, as the account page shows it. */
export interface ActivityEntry {
  at: Date;
  action: string;
  detail: Record<string, unknown>;
}

/** The user's latest audit events, newest first. */
export async function recentActivity(
  db: Kysely<Database>,
  userId: string,
  limit = 10,
): Promise<ActivityEntry[]> {
  return db
    .selectFrom("audit_events")
    .select(["at", "action", "detail"])
    .where("user_id", "=", userId)
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}

/** The newest finished run of a job. */
export interface LastJobRun {
  job: string;
  finishedAt: Date;
  outcome: string;
  replica: string;
}

/** The newest finished run of each of `jobs` (jobs that never ran are absent). */
export async function lastJobRuns(db: Kysely<Database>, jobs: readonly string[]): Promise<LastJobRun[]> {
  const runs = await Promise.all(
    jobs.map((job) =>
      db
        .selectFrom("job_runs")
        .select(["job", "finished_at", "outcome", "replica"])
        .where("job", "=", job)
        .where("finished_at", "is not", null)
        .where("outcome", "<>", "skipped")
        .orderBy("started_at", "desc")
        .limit(1)
        .executeTakeFirst(),
    ),
  );
  return runs.flatMap((r) =>
    r?.finished_at && r.outcome
      ? [{ job: r.job, finishedAt: r.finished_at, outcome: r.outcome, replica: r.replica }]
      : [],
  );
}

/** Where a user's offline access stands, for the account page and the `offline_access_status` tool. */
export type OfflineAccessState =
  { state: "none" } | { state: "active"; grant: OfflineGrant } | { state: "revoked"; grant: OfflineGrant };

/** Classifies the grant {@link GrantStore.latestGrant} returned. */
export function offlineAccessState(grant: OfflineGrant | undefined): OfflineAccessState {
  if (!grant) return { state: "none" };
  return grant.status === "active" ? { state: "active", grant } : { state: "revoked", grant };
}
