// Who indexes whom: the `search-index` job of every replica claims due users of
// search_index_users under a lease (`FOR UPDATE SKIP LOCKED`, as src/store/leases.ts does for
// grants), so two replicas never index one user at the same time.
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.ts";

/** One user claimed for an indexing pass, with their active grant. */
export interface IndexClaim {
  userId: string;
  grantId: string;
  /** The Nextcloud user id the last pass learnt, if any. */
  nextcloudUid: string | null;
}

/**
 * Gives every user with an active offline grant an index state row (not paused, due at `now`); returns
 * how many were added. A user without one is never indexed.
 */
export async function enrolIndexUsers(db: Kysely<Database>, now: Date): Promise<number> {
  const r = await db
    .insertInto("search_index_users")
    .columns(["user_id", "next_run_at"])
    .expression((eb) =>
      eb
        .selectFrom("offline_grants")
        .select(["user_id", sql<Date>`${now}::timestamptz`.as("next_run_at")])
        .distinct()
        .where("status", "=", "active"),
    )
    .onConflict((oc) => oc.column("user_id").doNothing())
    .returning("user_id")
    .execute();
  return r.length;
}

/**
 * Leases up to `limit` users that are due (`next_run_at` before `dueBefore`), not paused, hold an
 * active grant and are not leased by a run whose lease is still running, in one statement; the
 * oldest due first. A lease that ended (its replica crashed) is taken over.
 * @see https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE
 */
export async function claimDueIndexUsers(
  db: Kysely<Database>,
  claim: {
    owner: string;
    dueBefore: Date;
    now: Date;
    leaseMs: number;
    limit: number;
    /** Only these users (a prompted run); all due users when undefined. */
    userIds?: readonly string[];
  },
): Promise<IndexClaim[]> {
  const until = new Date(claim.now.getTime() + claim.leaseMs);
  const only = claim.userIds;
  if (only?.length === 0) return [];
  const rows = await db
    .updateTable("search_index_users")
    .set({ lease_owner: claim.owner, lease_until: until })
    .where("user_id", "in", (eb) =>
      eb
        .selectFrom("search_index_users as s")
        .select("s.user_id")
        .$if(only !== undefined, (q) => q.where("s.user_id", "in", [...(only ?? [])]))
        .where("s.paused", "=", false)
        .where("s.next_run_at", "<=", claim.dueBefore)
        .where((w) => w.or([w("s.lease_until", "is", null), w("s.lease_until", "<", claim.now)]))
        .where((w) =>
          w.exists(
            w
              .selectFrom("offline_grants as g")
              .select(sql`1`.as("one"))
              .whereRef("g.user_id", "=", "s.user_id")
              .where("g.status", "=", "active"),
          ),
        )
        .orderBy("s.next_run_at")
        .orderBy("s.user_id")
        .limit(claim.limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(["user_id", "nextcloud_uid"])
    .execute();
  if (rows.length === 0) return [];
  const grants = await db
    .selectFrom("offline_grants")
    .select(["id", "user_id"])
    .where("status", "=", "active")
    .where(
      "user_id",
      "in",
      rows.map((r) => r.user_id),
    )
    .execute();
  const grantOf = new Map(grants.map((g) => [g.user_id, g.id]));
  const claimed: IndexClaim[] = [];
  for (const r of rows) {
    const grantId = grantOf.get(r.user_id);
    if (grantId === undefined) {
      // Disconnected between the two statements: nothing to do.
      await releaseIndexLease(db, claim.owner, r.user_id);
      continue;
    }
    claimed.push({ userId: r.user_id, grantId, nextcloudUid: r.nextcloud_uid });
  }
  return claimed;
}

/** Ends `owner`'s lease of a user without recording a pass (a lease taken over stays). */
export async function releaseIndexLease(db: Kysely<Database>, owner: string, userId: string): Promise<void> {
  await db
    .updateTable("search_index_users")
    .set({ lease_owner: null, lease_until: null })
    .where("user_id", "=", userId)
    .where("lease_owner", "=", owner)
    .execute();
}

/**
 * Records how a user's pass ended and ends `owner`'s lease: a complete pass sets `ready_at` (once)
 * and clears the error; a failed one keeps the index as it was and stores the error.
 */
export async function finishIndexPass(
  db: Kysely<Database>,
  owner: string,
  userId: string,
  outcome: { at: Date; nextRunAt: Date; error?: string; nextcloudUid?: string },
): Promise<void> {
  await db
    .updateTable("search_index_users")
    .set((eb) => ({
      last_run_at: outcome.at,
      next_run_at: outcome.nextRunAt,
      last_error: outcome.error ?? null,
      ...(outcome.error === undefined
        ? { ready_at: eb.fn.coalesce("ready_at", sql<Date>`${outcome.at}`) }
        : {}),
      ...(outcome.nextcloudUid === undefined ? {} : { nextcloud_uid: outcome.nextcloudUid }),
      lease_owner: null,
      lease_until: null,
    }))
    .where("user_id", "=", userId)
    .where("lease_owner", "=", owner)
    .execute();
}

/** How many users are due and not paused (leased or not), for job_runs. */
export async function countDueIndexUsers(
  db: Kysely<Database>,
  dueBefore: Date,
  userIds?: readonly string[],
): Promise<number> {
  if (userIds?.length === 0) return 0;
  const row = await db
    .selectFrom("search_index_users as s")
    .innerJoin("offline_grants as g", (j) =>
      j.onRef("g.user_id", "=", "s.user_id").on("g.status", "=", "active"),
    )
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .$if(userIds !== undefined, (q) => q.where("s.user_id", "in", [...(userIds ?? [])]))
    .where("s.paused", "=", false)
    .where("s.next_run_at", "<=", dueBefore)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
