import type { Kysely } from "kysely";
import type { PoolStats } from "./postgres-dialect.ts";
import type { Database } from "./schema.ts";

/** Which database engine a store runs on. */
export type StoreBackend = "postgres" | "pglite";

/** Where the data lives: a PostgreSQL server, or the embedded PGlite in a data directory. */
export type StoreTarget =
  | { backend: "postgres"; url: string; poolMax?: number; connectTimeoutS?: number }
  | { backend: "pglite"; dataDir: string };

/**
 * One connection held exclusively, for what must stay on one connection: session advisory locks,
 * `BEGIN … COMMIT` around several statements, and multi-statement SQL files.
 */
export interface StoreSession {
  /** Runs one statement with `$1`, `$2` … parameters (extended protocol) and returns its rows. */
  query<R extends object>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs several statements without parameters (simple protocol), e.g. a migration file. */
  exec(statements: string): Promise<void>;
}

/**
 * The database behind the gateway, the same on both backends: the typed query builder (timestamps
 * read as Date, bytea as Uint8Array, jsonb as objects, bigint as string), an exclusive session for
 * the migration runner, a readiness probe and close.
 */
export interface Store {
  readonly backend: StoreBackend;
  /** Where the data lives, safe to print: `host:port/database` (no credentials) or the PGlite directory. */
  readonly location: string;
  readonly db: Kysely<Database>;
  /**
   * Runs `fn` on one connection that nothing else uses meanwhile. On PGlite (one connection) `db`
   * waits until `fn` is done, so `fn` must not use `db` itself.
   */
  withSession<T>(fn: (session: StoreSession) => Promise<T>): Promise<T>;
  /** True when a trivial query succeeds within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** The connection pool's counters (PostgreSQL); absent on PGlite, which has one connection. */
  pool?: (() => PoolStats) | undefined;
  close(): Promise<void>;
}

/**
 * Opens the store: a postgres.js pool that connects lazily, or the embedded PGlite, which takes
 * the data directory's lock and starts (creating the database on first use) before this resolves.
 * `options` override the target's pool settings (PostgreSQL only).
 * @throws when the PGlite directory is in use by another process or cannot be opened.
 */
export async function openStore(
  target: StoreTarget,
  options: { poolMax?: number; connectTimeoutS?: number } = {},
): Promise<Store> {
  if (target.backend === "pglite") {
    // Loaded only here, so that deployments on PostgreSQL never load PGlite.
    const { openPgliteStore } = await import("./pglite.ts");
    return openPgliteStore(target.dataDir);
  }
  // Likewise postgres.js and its kysely dialect: the embedded default never loads them.
  const { openPostgresStore } = await import("./postgres.ts");
  return openPostgresStore(target.url, {
    poolMax: options.poolMax ?? target.poolMax,
    connectTimeoutS: options.connectTimeoutS ?? target.connectTimeoutS,
  });
}
