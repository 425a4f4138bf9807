import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.ts";

/** When a grant last got a fresh refresh token from the IdP: its last refresh, else its creation. */
const lastRenewed = sql<Date>`coalesce(last_refreshed_at, created_at)`;

/** What {@link claimDueGrants} claims and for whom. */
export interface GrantClaim {
  /** Written into `lease_owner`; the replica and run that work on the claimed grants. */
  owner: string;
  /** Active grants last renewed before this instant are due. */
  dueBefore: Date;
  /** The claimer's clock: leases that ended before it are free to take over. */
  now: Date;
  /** How long the lease lasts; a replica that crashes holds its grants no longer than this. */
  leaseMs: number;
  /** At most this many grants. */
  limit: number;
}

/**
 * Leases up to `limit` active grants that are due (longest idle first) to `owner` and returns
 * their ids, in one statement: the inner `SELECT … FOR UPDATE SKIP LOCKED` passes over rows that
 * another replica is claiming or refreshing at this moment, and rows whose lease has not yet
 * ended, so that replicas claiming at the same time get disjoint sets. A lease whose time has
 * passed (its replica crashed or hung) is taken over. The same on PostgreSQL and PGlite.
 * @see https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE
 */
export async function claimDueGrants(db: Kysely<Database>, claim: GrantClaim): Promise<string[]> {
  const until = new Date(claim.now.getTime() + claim.leaseMs);
  const rows = await db
    .updateTable("offline_grants")
    .set({ lease_owner: claim.owner, lease_until: until })
    .where("id", "in", (eb) =>
      eb
        .selectFrom("offline_grants")
        .select("id")
        .where("status", "=", "active")
        .where(lastRenewed, "<", claim.dueBefore)
        .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", claim.now)]))
        .orderBy(lastRenewed)
        .orderBy("id")
        .limit(claim.limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning("id")
    .execute();
  return rows.map((r) => r.id);
}

/** Ends `owner`'s lease on the grants `ids` (a lease another replica has taken over stays); returns how many. */
export async function releaseGrantLeases(
  db: Kysely<Database>,
  owner: string,
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .updateTable("offline_grants")
    .set({ lease_owner: null, lease_until: null })
    .where("id", "in", [...ids])
    .where("lease_owner", "=", owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** How many active grants are due (last renewed before `dueBefore`), leased or not. */
export async function countDueGrants(db: Kysely<Database>, dueBefore: Date): Promise<number> {
  const row = await db
    .selectFrom("offline_grants")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("status", "=", "active")
    .where(lastRenewed, "<", dueBefore)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
