import { Kysely } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import postgres from "postgres";
import type { Database } from "./schema.ts";

/** A connection pool and the typed query builder on top of it. */
export interface Store {
  readonly sql: postgres.Sql;
  readonly db: Kysely<Database>;
  /** True when a trivial query succeeds within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens a pool to PostgreSQL (postgres.js) with kysely on top; connects lazily. */
export function openStore(url: string, options: { poolMax?: number; connectTimeoutS?: number } = {}): Store {
  const sql = postgres(url, {
    max: options.poolMax ?? 10,
    connect_timeout: options.connectTimeoutS ?? 10,
    idle_timeout: 60,
    // Notices (e.g. "relation already exists, skipping") are not errors; keep stdout JSON-only.
    onnotice: () => undefined,
    connection: { application_name: "nextcloud-mcp-gateway" },
  });
  const db = new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: sql }) });
  return {
    sql,
    db,
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => {
          resolve(false);
        }, timeoutMs);
      });
      try {
        return await Promise.race([sql`select 1 as ok`.then(() => true), timeout]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await db.destroy();
      // kysely only ends the pool if it used it itself; raw `sql` users need the explicit end.
      await sql.end({ timeout: 5 });
    },
  };
}
