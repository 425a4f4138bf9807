// What the gateway has stored, as one comparable snapshot: every row of every table of its schema
// (found in the catalogue, so a table added later is covered without touching the scenarios), each
// row as canonical JSON. Two snapshots are compared table by table as sets of rows: rows added and
// rows gone (a changed row is one of each).
import { sql, type Kysely } from "kysely";
import type { Database } from "../../../src/store/index.ts";

/** Rows of each table, as canonical JSON (bytea as hex, timestamps as ISO strings). */
export type Snapshot = ReadonlyMap<string, readonly string[]>;

/** The difference of one table between two snapshots. */
export interface TableChange {
  table: string;
  added: string[];
  gone: string[];
}

const canonical = (value: unknown): unknown => {
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString("hex")}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
};

/** Every row of every base table in the `public` schema, sorted. */
export async function snapshot(db: Kysely<Database>): Promise<Snapshot> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const out = new Map<string, string[]>();
  for (const { table_name: table } of tables.rows) {
    // The generated tsvector column is a function of the row's own columns; its text form is stable.
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    out.set(table, rows.rows.map((r) => JSON.stringify(canonical(r))).sort());
  }
  return out;
}

/** The tables whose rows differ between `before` and `after`, with the rows added and gone. */
export function changes(before: Snapshot, after: Snapshot): TableChange[] {
  const tables = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: TableChange[] = [];
  for (const table of tables) {
    const b = new Set(before.get(table) ?? []);
    const a = new Set(after.get(table) ?? []);
    const added = [...a].filter((r) => !b.has(r));
    const gone = [...b].filter((r) => !a.has(r));
    if (added.length > 0 || gone.length > 0) out.push({ table, added, gone });
  }
  return out;
}
