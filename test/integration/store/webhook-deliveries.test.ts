// What a webhook delivery may do to the store, on PostgreSQL and PGlite: recorded once (a replay is
// a duplicate and changes nothing), the sync tokens on the named path forgotten for the users with
// an index that is not paused (and for no one else), old delivery records purged as they expire;
// and a prompted run claims only the users it was asked for.
import { describe, expect, it } from "vitest";
import {
  acceptDelivery,
  claimDueIndexUsers,
  SearchIndex,
  upsertUser,
  type Store,
} from "../../../src/store/index.ts";
import { backends, useMigratedStore } from "./backends.ts";

const NOW = new Date("2026-06-01T12:00:00Z");
const HOUR = 3600_000;
const digest = (n: number) => new Uint8Array(32).fill(n);

describe.each(backends())("webhook deliveries on $name", (backend) => {
  let store: Store;
  useMigratedStore(backend, (s) => {
    store = s;
  });

  /** A user with an index whose Nextcloud uid is `uid`, and folder tokens on /, /A, /A/B, /C. */
  async function indexedUser(subject: string, uid: string, paused = false) {
    const { id } = await upsertUser(store.db, { issuer: "https://idp", subject });
    await store.db
      .insertInto("search_index_users")
      .values({ user_id: id, nextcloud_uid: uid, paused, next_run_at: NOW })
      .execute();
    const index = new SearchIndex(store.db);
    for (const scope of ["/", "/A", "/A/B", "/C"]) await index.setSyncToken(id, "files", scope, "t");
    return id;
  }
  const scopes = async (userId: string) =>
    (
      await store.db
        .selectFrom("search_sync")
        .select("scope_key")
        .where("user_id", "=", userId)
        .orderBy("scope_key")
        .execute()
    ).map((r) => r.scope_key);
  const accept = (n: number, changes: { uid: string; paths: string[] }[], eventTime = NOW) =>
    acceptDelivery(store.db, { digest: digest(n), eventTime, now: NOW, maxAgeMs: HOUR, changes });

  it("forgets the tokens on the named path for the user with that Nextcloud uid, and nothing else", async () => {
    const alice = await indexedUser("a", "alice");
    const bob = await indexedUser("b", "bob");
    expect(await accept(1, [{ uid: "alice", paths: ["/A/B/file.md"] }])).toEqual({
      status: "scheduled",
      userIds: [alice],
    });
    expect(await scopes(alice)).toEqual(["/C"]);
    expect(await scopes(bob)).toEqual(["/", "/A", "/A/B", "/C"]);
  });

  it("a replay is a duplicate and changes nothing", async () => {
    const alice = await indexedUser("a", "alice");
    expect((await accept(1, [{ uid: "alice", paths: ["/C/x.md"] }])).status).toBe("scheduled");
    await new SearchIndex(store.db).setSyncToken(alice, "files", "/C", "t2");
    expect(await accept(1, [{ uid: "alice", paths: ["/C/x.md"] }])).toEqual({ status: "duplicate" });
    expect(await scopes(alice)).toEqual(["/A", "/A/B", "/C"]);
  });

  it("ignores users without an index and paused indexes, but remembers the delivery", async () => {
    const paused = await indexedUser("p", "paula", true);
    expect(
      await accept(1, [
        { uid: "paula", paths: ["/A/x"] },
        { uid: "nobody", paths: ["/A"] },
      ]),
    ).toEqual({
      status: "ignored",
    });
    expect(await scopes(paused)).toEqual(["/", "/A", "/A/B", "/C"]);
    expect(await accept(1, [{ uid: "paula", paths: ["/A/x"] }])).toEqual({ status: "duplicate" });
  });

  it("a calendar event (no paths) schedules the user and forgets nothing", async () => {
    const alice = await indexedUser("a", "alice");
    expect(await accept(1, [{ uid: "alice", paths: [] }])).toEqual({ status: "scheduled", userIds: [alice] });
    expect(await scopes(alice)).toEqual(["/", "/A", "/A/B", "/C"]);
  });

  it("purges records whose event time is older than the bound, and keeps the others", async () => {
    await indexedUser("a", "alice");
    await accept(1, [{ uid: "alice", paths: [] }], new Date(NOW.getTime() - 2 * HOUR));
    await accept(2, [{ uid: "alice", paths: [] }], new Date(NOW.getTime() - HOUR / 2));
    await accept(3, [{ uid: "alice", paths: [] }]);
    const rows = await store.db.selectFrom("webhook_deliveries").select("digest").execute();
    expect(rows.map((r) => Buffer.from(r.digest)[0]).sort()).toEqual([2, 3]);
  });

  it("a prompted run claims only the users it names", async () => {
    const alice = await indexedUser("a", "alice");
    const bob = await indexedUser("b", "bob");
    for (const id of [alice, bob]) {
      await store.db
        .insertInto("offline_grants")
        .values({ user_id: id, refresh_token_sealed: new Uint8Array(1), key_id: "k", scope: "openid" })
        .execute();
    }
    const claim = (userIds?: string[]) =>
      claimDueIndexUsers(store.db, {
        owner: "r",
        dueBefore: NOW,
        now: NOW,
        leaseMs: HOUR,
        limit: 10,
        ...(userIds === undefined ? {} : { userIds }),
      });
    expect(await claim([])).toEqual([]);
    expect((await claim([bob])).map((c) => c.userId)).toEqual([bob]);
    expect((await claim()).map((c) => c.userId)).toEqual([alice]);
  });
});
