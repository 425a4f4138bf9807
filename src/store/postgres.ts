import { Kysely } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import postgres from "postgres";
import type { Store } from "./db.ts";
import type { Database } from "./schema.ts";
import { within } from "./within.ts";

/** `host:port/database` of a PostgreSQL URL, without user name or password. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return "PostgreSQL";
  }
}

/** Opens a pool to PostgreSQL (postgres.js) with kysely on top; connects lazily. */
export function openPostgresStore(
  url: string,
  options: { poolMax?: number | undefined; connectTimeoutS?: number | undefined } = {},
): Store {
  const sql = postgres(url, {
    max: options.poolMax ?? 10,
    connect_timeout: options.connectTimeoutS ?? 10,
    idle_timeout: 60,
    // Notices (e.g. "relation already exists, skipping") are not errors; keep stdout JSON-only.
    onnotice: () => undefined,
    connection: { application_name: "nextcloud-mcp-gateway" },
    types: {
      // As PGlite does: a string parameter for a json/jsonb column is JSON text, not a JSON string
      // literal (postgres.js would store '{"a":1}' as the string "{\"a\":1}"); objects are stringified.
      json: {
        to: 114,
        from: [114, 3802],
        serialize: (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value)),
        parse: (text: string): unknown => JSON.parse(text),
      },
    },
  });
  const db = new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: sql }) });
  return {
    backend: "postgres",
    location: describePostgresUrl(url),
    db,
    async withSession(fn) {
      const conn = await sql.reserve();
      try {
        return await fn({
          async query<R extends object>(text: string, params: readonly unknown[] = []) {
            // postgres.js types parameters narrowly; the values are plain SQL parameters here.
            const rows = await conn.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
            return [...rows] as unknown as R[];
          },
          async exec(statements: string) {
            await conn.unsafe(statements).simple();
          },
        });
      } finally {
        conn.release();
      }
    },
    ping(timeoutMs = 2000) {
      return within(sql`select 1 as ok`.execute(), timeoutMs);
    },
    async close() {
      await db.destroy();
      // kysely only ends the pool if it used it itself; sessions need the explicit end.
      await sql.end({ timeout: 5 });
    },
  };
}
