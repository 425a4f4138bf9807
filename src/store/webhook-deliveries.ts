// Nextcloud webhook deliveries (sql/0006_webhook_deliveries.sql): the digest of each accepted body,
// so that a replay schedules nothing new, and the only change a delivery may make to the content
// index: forgetting the folder sync tokens on the path of a changed item, so that the next pass
// lists that path again. Nothing from a delivery's content is ever written to the index.
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.ts";
import { SearchIndex } from "./search-index.ts";

/** What one delivery says changed for one Nextcloud user. */
export interface WebhookChange {
  /** The Nextcloud user id the item belongs to. */
  uid: string;
  /** Paths below the user's files root (`/Documents/a.md`) whose folders are to be read again; none for calendar objects. */
  paths: readonly string[];
}

/** What {@link acceptDelivery} did. */
export type DeliveryOutcome =
  /** The same body was accepted before: nothing scheduled. */
  | { status: "duplicate" }
  /** No user named has an index (or theirs is paused): nothing scheduled. */
  | { status: "ignored" }
  /** These gateway users' indexes are to be refreshed; their paths are marked as changed. */
  | { status: "scheduled"; userIds: string[] };

/**
 * Records a delivery once and marks what it names as changed, in one transaction: rows of deliveries
 * whose event time is older than `maxAgeMs` go first (such bodies are refused anyway); a body seen
 * before is a duplicate; otherwise each named user who has an index that is not paused gets the sync
 * tokens of each path and every folder above it forgotten (SearchIndex.forgetSyncPath).
 */
export async function acceptDelivery(
  db: Kysely<Database>,
  delivery: {
    /** SHA-256 of the body as received. */
    digest: Uint8Array;
    eventTime: Date;
    now: Date;
    maxAgeMs: number;
    changes: readonly WebhookChange[];
  },
): Promise<DeliveryOutcome> {
  return db.transaction().execute(async (tx) => {
    await tx
      .deleteFrom("webhook_deliveries")
      .where("event_time", "<", new Date(delivery.now.getTime() - delivery.maxAgeMs))
      .execute();
    const fresh = await tx
      .insertInto("webhook_deliveries")
      .values({ digest: delivery.digest, event_time: delivery.eventTime, received_at: delivery.now })
      .onConflict((oc) => oc.column("digest").doNothing())
      .returning(sql<number>`1`.as("one"))
      .executeTakeFirst();
    if (fresh === undefined) return { status: "duplicate" as const };
    const index = new SearchIndex(tx);
    const userIds = new Set<string>();
    for (const change of delivery.changes) {
      const users = await tx
        .selectFrom("search_index_users")
        .select("user_id")
        .where("nextcloud_uid", "=", change.uid)
        .where("paused", "=", false)
        .execute();
      for (const { user_id } of users) {
        userIds.add(user_id);
        for (const path of change.paths) await index.forgetSyncPath(user_id, "files", path);
      }
    }
    return userIds.size === 0
      ? { status: "ignored" as const }
      : { status: "scheduled" as const, userIds: [...userIds] };
  });
}
