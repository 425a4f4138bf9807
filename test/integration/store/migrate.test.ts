// Migrations against the real PostgreSQL where replicas share it: applied once when several
// replicas start together. (The behaviour both backends share is in backends.test.ts.)
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { migrate, openStore, readMigrations, type Store } from "../../../src/store/index.ts";
import { createTestDatabase } from "../../harness/postgres.ts";

let db: { url: string; drop(): Promise<void> };
let store: Store;

beforeEach(async () => {
  db = await createTestDatabase(inject("pgAdminUrl"), "migrate");
  store = await openStore({ backend: "postgres", url: db.url, poolMax: 4 });
});
afterEach(async () => {
  await store.close();
  await db.drop();
});

describe("migrate on PostgreSQL", () => {
  it("applies each file exactly once when several replicas migrate at the same moment", async () => {
    const replicas = await Promise.all(
      [1, 2, 3].map(() => openStore({ backend: "postgres", url: db.url, poolMax: 2 })),
    );
    try {
      const results = await Promise.all(replicas.map((r) => migrate(r)));
      const applied = results.flatMap((r) => r.applied);
      expect(applied.sort()).toEqual((await readMigrations()).map((m) => m.file).sort());
      const { rows } = await sql<{
        count: string;
      }>`select count(*)::text as count from schema_migrations`.execute(store.db);
      expect(Number(rows[0]?.count)).toBe((await readMigrations()).length);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  it("releases its advisory lock afterwards, so the next replica's migrate does not wait", async () => {
    await migrate(store);
    // A replica with its own pool can take the lock at once only if migrate released it.
    const other = await openStore({ backend: "postgres", url: db.url, poolMax: 1 });
    try {
      const taken = await other.withSession((s) =>
        s.query<{ ok: boolean }>("select pg_try_advisory_lock(7318842617243) as ok"),
      );
      expect(taken).toEqual([{ ok: true }]);
    } finally {
      await other.close();
    }
  });
});
