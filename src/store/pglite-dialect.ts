import type { PGlite } from "@electric-sql/pglite";
import {
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from "kysely";

/** Waits for exclusive use of the one PGlite connection; call the returned function to give it back. */
export type Acquire = () => Promise<() => void>;

/** A FIFO mutex: each caller gets the connection after every earlier caller released it. */
export function createMutex(): Acquire {
  let tail: Promise<void> = Promise.resolve();
  return async () => {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const before = tail;
    tail = before.then(() => mine);
    await before;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
    };
  };
}

/**
 * kysely's PostgreSQL dialect on an embedded PGlite, shaped as a pool of one connection: kysely
 * acquires it for each query or transaction, so a transaction never interleaves with other queries.
 * Transactions, savepoints, the query compiler and the introspector are kysely's own; streaming is
 * not offered.
 */
export function pgliteDialect(pg: PGlite, acquire: Acquire): PostgresDialect {
  const pool: PostgresPool = {
    async connect() {
      const release = await acquire();
      const client = {
        async query(text: string, parameters: readonly unknown[]) {
          const r = await pg.query<Record<string, unknown>>(text, [...parameters]);
          return {
            command: r.command,
            rowCount: r.affectedRows ?? r.rows.length,
            rows: r.rows,
          } as PostgresQueryResult<unknown>;
        },
        release,
      };
      // The cursor overload of `query` is only used for streaming, which needs a cursor class that
      // this dialect does not configure; kysely refuses streaming before it would call it.
      return client as unknown as PostgresPoolClient;
    },
    // PGlite itself is closed by the store after kysely is destroyed.
    end: () => Promise.resolve(),
  };
  return new PostgresDialect({ pool });
}
