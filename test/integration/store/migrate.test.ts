// Migrations against the real PostgreSQL: applied once, in order, safe when replicas start
// together, and refusing edited files or a database newer than the code.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import {
  migrate,
  MIGRATIONS_DIR,
  openStore,
  pendingMigrations,
  readMigrations,
  type Store,
} from "../../../src/store/index.ts";
import { createTestDatabase } from "../../harness/postgres.ts";

let db: { url: string; drop(): Promise<void> };
let store: Store;
const tempDirs: string[] = [];

beforeEach(async () => {
  db = await createTestDatabase(inject("pgAdminUrl"), "migrate");
  store = openStore(db.url, { poolMax: 4 });
});
afterEach(async () => {
  await store.close();
  await db.drop();
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function copyOfMigrations(): URL {
  const dir = mkdtempSync(join(tmpdir(), "ncmcp-sql-"));
  tempDirs.push(dir);
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return pathToFileURL(`${dir}/`);
}

async function tables(): Promise<string[]> {
  const rows = await store.sql<
    { tablename: string }[]
  >`select tablename from pg_tables where schemaname = 'public' order by 1`;
  return rows.map((r) => r.tablename);
}

describe("migrate", () => {
  it("creates the first schema once and records it", async () => {
    const files = (await readMigrations()).map((m) => m.file);
    const first = await migrate(store.sql);
    expect(first.applied).toEqual(files);
    expect(await tables()).toEqual([
      "audit_events",
      "job_runs",
      "login_states",
      "offline_grants",
      "schema_migrations",
      "users",
    ]);
    const second = await migrate(store.sql);
    expect(second.applied).toEqual([]);
    expect(second.version).toBe(first.version);
    expect(await pendingMigrations(store.sql)).toEqual([]);
  });

  it("applies each file exactly once when several replicas migrate at the same moment", async () => {
    const replicas = [
      openStore(db.url, { poolMax: 2 }),
      openStore(db.url, { poolMax: 2 }),
      openStore(db.url, { poolMax: 2 }),
    ];
    try {
      const results = await Promise.all(replicas.map((r) => migrate(r.sql)));
      const applied = results.flatMap((r) => r.applied);
      expect(applied.sort()).toEqual((await readMigrations()).map((m) => m.file).sort());
      const [row] = await store.sql<
        { count: string }[]
      >`select count(*)::text as count from schema_migrations`;
      expect(Number(row?.count)).toBe((await readMigrations()).length);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  it("rolls back a failing migration entirely and says which file failed", async () => {
    const dir = copyOfMigrations();
    writeFileSync(
      new URL("0999_broken.sql", dir),
      "CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n",
    );
    await expect(migrate(store.sql, dir)).rejects.toThrow(
      /sql\/0999_broken\.sql failed and was rolled back: .*no_such_table/,
    );
    expect(await tables()).not.toContain("half_done");
    const rows = await store.sql`select version from schema_migrations where version = 999`;
    expect(rows).toHaveLength(0);
    // The good migrations before it stay applied.
    expect(await tables()).toContain("offline_grants");
  });

  it("refuses to run when an applied file was edited afterwards", async () => {
    await migrate(store.sql);
    const dir = copyOfMigrations();
    writeFileSync(new URL("0001_initial.sql", dir), "-- edited\n");
    await expect(migrate(store.sql, dir)).rejects.toThrow(
      /sql\/0001_initial\.sql changed after it was applied/,
    );
  });

  it("refuses a database migrated by a newer gateway", async () => {
    await migrate(store.sql);
    await store.sql`insert into schema_migrations (version, name, checksum) values (9000, 'from_the_future', 'x')`;
    await expect(migrate(store.sql)).rejects.toThrow(
      /migration 9000 \(from_the_future\) that this gateway does not know/,
    );
  });

  it("refuses misnamed migration files", async () => {
    const dir = copyOfMigrations();
    writeFileSync(new URL("2_AddThing.sql", dir), "select 1;");
    await expect(migrate(store.sql, dir)).rejects.toThrow(/must be named NNNN_lower_snake_name\.sql/);
  });

  it("enforces the grant invariants in the schema itself", async () => {
    await migrate(store.sql);
    const [user] = await store.sql<{ id: string }[]>`
      insert into users (issuer, subject, subject_hash) values ('https://idp', 'sub-1', 'h') returning id`;
    const grant = (status: string) => store.sql`
      insert into offline_grants (user_id, status, refresh_token_sealed, key_id, scope)
      values (${user?.id ?? ""}, ${status}, '\\x00'::bytea, 'k1', 'offline_access')`;
    await grant("active");
    // A second active grant for the same user is refused; revoked rows need revoked_at.
    await expect(grant("active")).rejects.toThrow(/offline_grants_one_active/);
    await expect(grant("revoked")).rejects.toThrow(/offline_grants_revoked_check/);
    await expect(grant("lost")).rejects.toThrow(/offline_grants_status_check/);
  });
});
