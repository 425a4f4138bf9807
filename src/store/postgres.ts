import { Kysely, sql } from "kysely";
import postgres from "postgres";
import type { Store } from "./db.ts";
import { Lane, Lanes, lanesDialect, type OpenLane } from "./postgres-dialect.ts";
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

/**
 * Opens a pool of `poolMax` connections to PostgreSQL (postgres.js) with kysely on top; connects
 * lazily. A PostgreSQL restart costs the statements in flight (they fail, transactions roll back) and
 * nothing else: each connection connects again for its next query (see postgres-dialect.ts for why
 * the pool is made of one-connection clients). `withSession` gets a connection of its own, one more
 * than `poolMax` while it runs.
 */
export function openPostgresStore(
  url: string,
  options: { poolMax?: number | undefined; connectTimeoutS?: number | undefined } = {},
): Store {
  const open: OpenLane = (onclose) =>
    postgres(url, {
      max: 1,
      onclose,
      connect_timeout: options.connectTimeoutS ?? 10,
      idle_timeout: 60,
      // Seconds before a connection that failed connects again. postgres.js's own grows as 3^n / 100
      // up to 20 s, counting failures across the client, so after a PostgreSQL restart queries waited
      // up to 20 s for connections that had failed during the outage. Here: 0.1 s doubling to 2 s, jittered.
      backoff: (retries: number) => Math.min(0.1 * 2 ** retries, 2) * (0.5 + Math.random() / 2),
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
  const lanes = new Lanes(options.poolMax ?? 10, open);
  const db = new Kysely<Database>({ dialect: lanesDialect(lanes) });
  return {
    backend: "postgres",
    location: describePostgresUrl(url),
    db,
    async withSession(fn) {
      // A connection of its own, ended afterwards: a session lock ends with it. Once it closed (a
      // PostgreSQL restart), every further statement is refused: the session, and its locks, are gone.
      const lane = new Lane(open);
      try {
        return await fn({
          async query<R extends object>(text: string, params: readonly unknown[] = []) {
            return [...(await lane.run(text, params, 0))] as unknown as R[];
          },
          async exec(statements: string) {
            await lane.exec(statements, 0);
          },
        });
      } finally {
        await lane.end(5);
      }
    },
    pool: () => lanes.stats(),
    ping(timeoutMs = 2000) {
      return within(sql`select 1 as ok`.execute(db), timeoutMs);
    },
    async close() {
      await db.destroy();
      await lanes.end(5);
    },
  };
}
