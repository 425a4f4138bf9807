// What the tables tools share: the argument fields naming a table and a row, loading a table with its
// columns, the rewording of Nextcloud errors into what the model should do next, and the row shape.
import { z } from "zod";
import { badArguments, explained, reword, type ToolContext, nextcloudOf } from "../../mcp/index.ts";
import { NextcloudError } from "../../nextcloud/index.ts";
import { getTable, listColumns, type ApiRow, type ApiTable } from "./client.ts";
import { columnInfo, valuesOf, type ColumnInfo } from "./columns.ts";

/** A table id, as tables_list returns it. */
export const tableField = z.number().int().positive().describe("Table id from tables_list.");
/** A row id, as tables_read_rows returns it. */
export const rowField = z.number().int().positive().describe("Row id from tables_read_rows.");

/** A row as the model reads it. */
export const rowSchema = z.object({
  id: z.number().int(),
  values: z.record(z.string(), z.unknown()).describe("{column title: value}; null when empty."),
  createdBy: z.string(),
  lastEditAt: z.string(),
});
export type RowOut = z.infer<typeof rowSchema>;

/** What the model should do when a table is not there or not shared with the user. */
export const noTable = (id: number) =>
  `There is no table ${String(id)} you can read (Tables does not say whether it exists unshared); call tables_list for the ids.`;

/** What the model should do when a row is not in the table. */
export const noRow = (table: number, row: number) =>
  `There is no row ${String(row)} in table ${String(table)}; call tables_read_rows for current row ids.`;

/** The user lacks a permission on a table shared with them. */
export const notAllowed = (table: number, doing: string) =>
  `Table ${String(table)} is shared with you without permission for ${doing}; ask its owner for that permission.`;

/**
 * A row operation that only the Tables API v1 offers, refused by Nextcloud: the shared refusal text
 * (which names the fix) behind what could not be done.
 */
export function v1Refused(doing: string): (err: NextcloudError) => NextcloudError {
  return (err) =>
    reword(
      err,
      `Tables offers ${doing} only on its API v1, an app route this Nextcloud refuses for single-sign-on tokens. ${err.description}`,
    );
}

/** Runs a v1 row call, rewording a bearer refusal, a missing row and a missing permission. */
export async function rowCall<T>(
  call: Promise<T>,
  o: { table: number; row?: number; doing: string },
): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (!(err instanceof NextcloudError)) throw err;
    if (err.kind === "bearer_refused") throw v1Refused(o.doing)(err);
    if (err.kind === "not_found")
      throw reword(err, o.row === undefined ? noTable(o.table) : noRow(o.table, o.row));
    if (err.kind === "forbidden") throw reword(err, notAllowed(o.table, o.doing));
    throw err;
  }
}

/** A table and its columns, or the error naming what to do when it cannot be read. */
export async function loadTable(
  ctx: ToolContext,
  id: number,
): Promise<{ table: ApiTable; columns: ColumnInfo[] }> {
  const nc = nextcloudOf(ctx);
  const [table, columns] = await explained(
    Promise.all([getTable(nc, id, ctx.signal), listColumns(nc, id, ctx.signal)]),
    { not_found: noTable(id), forbidden: noTable(id) },
  );
  return { table, columns: columns.map(columnInfo) };
}

/** A row of the API as the model reads it. */
export function rowOut(columns: readonly ColumnInfo[], row: ApiRow): RowOut {
  return {
    id: row.id,
    values: valuesOf(columns, row.data),
    createdBy: row.createdBy,
    lastEditAt: row.lastEditAt,
  };
}

/** Refuses the problems of values or filters in one error, before any request. */
export function refuse(what: string, problems: readonly string[]): never {
  throw badArguments(
    `${what}: ${problems.join("; ")}. Call tables_get_schema for the columns and their values.`,
  );
}

/** A row in one line, for the text rendering. */
export function rowLine(r: RowOut): string {
  const cells = Object.entries(r.values)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
  return `- row ${String(r.id)}: ${cells.join(", ") || "(empty)"}`;
}
