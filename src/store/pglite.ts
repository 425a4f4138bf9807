import { join } from "node:path";
import { PGlite, types } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { Kysely } from "kysely";
import { lockDataDir } from "./data-dir-lock.ts";
import type { Store } from "./db.ts";
import { createMutex, pgliteDialect } from "./pglite-dialect.ts";
import { PGLITE_LOCK_FILE, PGLITE_SUBDIR } from "./pglite-paths.ts";
import { takePreloadedPglite, turnOffWasmTierUp } from "./pglite-preload.ts";
import type { Database } from "./schema.ts";
import { within } from "./within.ts";

/**
 * PostgreSQL's buffer cache inside PGlite: 128 MB by default. PGlite touches all of it when it
 * starts, so every MB is a MB resident (16 MB: 29 MiB of WebAssembly memory; 2 MB: 15 MiB). 2 MB
 * (256 pages) holds the gateway's hot rows; a larger content index is read through the operating
 * system's page cache (its files are in DATA_DIR): searching 30,000 items was no slower than with
 * 16 MB (ADR 0025, docs/operations.md "Resources").
 */
export const PGLITE_SHARED_BUFFERS = "2MB";

/**
 * Opens the embedded PostgreSQL (PGlite) in `<dataDir>/pglite`, creating it on first use, after
 * taking `<dataDir>/pglite.lock`: PGlite is one process's private database, and a second process
 * writing the same files would corrupt them.
 * @throws when another process holds the directory, or PGlite cannot start there.
 */
export async function openPgliteStore(dataDir: string): Promise<Store> {
  const lock = await lockDataDir(dataDir, PGLITE_LOCK_FILE);
  const location = join(dataDir, PGLITE_SUBDIR);
  let pg: PGlite;
  try {
    turnOffWasmTierUp();
    // Started by the process entry before the gateway's modules loaded (pglite-preload.ts), if it was.
    const preloaded = await takePreloadedPglite();
    pg = await PGlite.create(location, {
      ...preloaded,
      startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
      // bigint as string, as postgres.js returns it (PGlite would give number or BigInt by size).
      parsers: { [types.INT8]: (value: string) => value },
      // Trigram similarity for names in the content index (sql/0005_name_similarity.sql).
      extensions: { pg_trgm },
    });
  } catch (err) {
    await lock.release();
    throw new Error(
      `cannot open the embedded database in ${location}: ${(err as Error).message}; ` +
        "check that DATA_DIR is a writable directory holding only gateway data",
      { cause: err },
    );
  }
  const acquire = createMutex();
  const db = new Kysely<Database>({ dialect: pgliteDialect(pg, acquire) });
  let closed = false;
  return {
    backend: "pglite",
    location,
    db,
    async withSession(fn) {
      const release = await acquire();
      try {
        return await fn({
          async query<R extends object>(text: string, params: readonly unknown[] = []) {
            return (await pg.query<R>(text, [...params])).rows;
          },
          async exec(statements: string) {
            await pg.exec(statements);
          },
        });
      } finally {
        release();
      }
    },
    ping(timeoutMs = 2000) {
      return within(
        (async () => {
          const release = await acquire();
          try {
            await pg.query("select 1 as ok");
          } finally {
            release();
          }
        })(),
        timeoutMs,
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      // Wait for a session in progress, then shut PostgreSQL down cleanly before the lock goes.
      const release = await acquire();
      try {
        await pg.close();
      } finally {
        release();
        await lock.release();
      }
    },
  };
}
