import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { sql } from "kysely";
import { PACKAGE_ROOT } from "../package-root.ts";
import type { Store } from "./db.ts";

/** Where the numbered SQL files live: <package root>/sql. */
export const MIGRATIONS_DIR = new URL("sql/", PACKAGE_ROOT);

/** Arbitrary but fixed key of the advisory lock that serialises migrations across replicas. */
const MIGRATION_LOCK_KEY = 7_318_842_617_243n;

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  file: string;
  checksum: string;
  sql: string;
}

export interface MigrationResult {
  /** Files applied by this call, in order. */
  applied: string[];
  /** Highest version now in the database. */
  version: number;
}

/** Reads sql/NNNN_name.sql in order; refuses misnamed files and duplicate numbers. */
export async function readMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const seen = new Set<number>();
  const out: Migration[] = [];
  for (const file of files) {
    const m = FILE_PATTERN.exec(file);
    if (!m?.[1] || !m[2]) {
      throw new Error(`sql/${file}: migration files must be named NNNN_lower_snake_name.sql`);
    }
    const version = Number(m[1]);
    if (seen.has(version)) throw new Error(`sql/${file}: version ${m[1]} is used twice`);
    seen.add(version);
    const text = await readFile(new URL(file, dir), "utf8");
    out.push({
      version,
      name: m[2],
      file,
      sql: text,
      checksum: createHash("sha256").update(text).digest("hex"),
    });
  }
  return out;
}

/**
 * Applies pending migrations in order, each in its own transaction, under a PostgreSQL advisory
 * lock so that replicas starting together apply each file exactly once. Refuses to run when an
 * applied file was edited or the database is newer than the files. The same files and checks run
 * on PGlite, where the lock is moot (one connection, one process) but harmless.
 */
export async function migrate(store: Store, dir: URL = MIGRATIONS_DIR): Promise<MigrationResult> {
  const migrations = await readMigrations(dir);
  const lockKey = MIGRATION_LOCK_KEY.toString();
  return store.withSession(async (conn) => {
    await conn.query("select pg_advisory_lock($1::bigint)", [lockKey]);
    try {
      await conn.exec(`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version    integer PRIMARY KEY,
          name       text NOT NULL,
          checksum   text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      const rows = await conn.query<{ version: number; name: string; checksum: string }>(
        "select version, name, checksum from schema_migrations order by version",
      );
      const known = new Map(migrations.map((m) => [m.version, m]));
      for (const row of rows) {
        const m = known.get(row.version);
        if (!m) {
          throw new Error(
            `the database has migration ${row.version} (${row.name}) that this gateway does not know; ` +
              "it was migrated by a newer version: run that version or restore the database",
          );
        }
        if (m.checksum !== row.checksum) {
          throw new Error(
            `sql/${m.file} changed after it was applied (checksum differs); ` +
              "restore the original file and put the change in a new migration",
          );
        }
      }
      const done = new Set(rows.map((r) => r.version));
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await conn.exec("BEGIN");
        try {
          await conn.exec(m.sql);
          await conn.query("insert into schema_migrations (version, name, checksum) values ($1, $2, $3)", [
            m.version,
            m.name,
            m.checksum,
          ]);
          await conn.exec("COMMIT");
        } catch (err) {
          await conn.exec("ROLLBACK");
          throw new Error(`sql/${m.file} failed and was rolled back: ${(err as Error).message}`, {
            cause: err,
          });
        }
        applied.push(m.file);
        done.add(m.version);
      }
      return { applied, version: Math.max(0, ...done) };
    } finally {
      await conn.query("select pg_advisory_unlock($1::bigint)", [lockKey]);
    }
  });
}

/** Versions on disk that the database has not applied yet (for readiness and `check`). */
export async function pendingMigrations(store: Store, dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations = await readMigrations(dir);
  const { rows } = await sql<{
    present: boolean;
  }>`select to_regclass('schema_migrations') is not null as present`.execute(store.db);
  if (!rows[0]?.present) return migrations;
  const applied = await store.db.selectFrom("schema_migrations").select("version").execute();
  const done = new Set(applied.map((r) => r.version));
  return migrations.filter((m) => !done.has(m.version));
}
