// The tables tools that change nothing: the user's tables and views, a table's columns, its rows
// (paged, optionally filtered by column title).
import { z } from "zod";
import { nextcloudOf, pageInput, pageOf, pageOutput, toolMaker } from "../../mcp/index.ts";
import { listRows, listTables, type ApiRow, type ApiTable } from "./client.ts";
import type { ColumnInfo } from "./columns.ts";
import { bindFilter, conditionSchema, matches } from "./filter.ts";
import { loadTable, refuse, rowCall, rowLine, rowOut, rowSchema, tableField } from "./fields.ts";

const tool = toolMaker("tables");

const PERMISSIONS = ["read", "create", "update", "delete", "manage"] as const;

/** What the user may do with a table: everything as owner, else the share's permissions. */
function permissionsOf(t: ApiTable): string[] {
  if (!t.isShared || t.onSharePermissions === null) return [...PERMISSIONS];
  const p = t.onSharePermissions;
  return PERMISSIONS.filter((k) => p[k]);
}

const tableSchema = z.object({
  id: z.number().int(),
  title: z.string(),
  emoji: z.string().nullable(),
  description: z.string(),
  owner: z.string(),
  shared: z.boolean().describe("Shared with the user by its owner."),
  permissions: z.array(z.string()).describe("read, create, update, delete, manage"),
  rows: z.number().int(),
  views: z.array(z.object({ id: z.number().int(), title: z.string() })),
});

function tableOut(t: ApiTable): z.infer<typeof tableSchema> {
  return {
    id: t.id,
    title: t.title,
    emoji: t.emoji,
    description: t.description ?? "",
    owner: t.ownerDisplayName || t.ownership,
    shared: t.isShared,
    permissions: permissionsOf(t),
    rows: t.rowsCount,
    views: (t.views ?? []).map((v) => ({ id: v.id, title: v.title })),
  };
}

/** tables_list: the user's tables (own and shared) with their views. */
export const tablesList = tool.read({
  name: "tables_list",
  title: "List tables",
  description: "Lists the user's tables (own and shared with them) with their views and row counts.",
  input: z.object({}),
  output: z.object({ tables: z.array(tableSchema) }),
  async handler(_args, ctx) {
    const tables = await listTables(nextcloudOf(ctx), ctx.signal);
    return { tables: tables.filter((t) => !t.archived).map(tableOut) };
  },
  text: (o) =>
    o.tables.length === 0
      ? "No tables."
      : o.tables
          .map(
            (t) =>
              `- ${t.title} (id ${String(t.id)}, ${String(t.rows)} rows${t.shared ? `, shared by ${t.owner}` : ""})` +
              (t.views.length > 0
                ? `; views: ${t.views.map((v) => `${v.title} (${String(v.id)})`).join(", ")}`
                : ""),
          )
          .join("\n"),
});

/** How a value of each column type is written. */
function accepts(c: ColumnInfo): string {
  if (c.type.startsWith("text"))
    return c.maxLength === null ? "text" : `text, at most ${String(c.maxLength)} characters`;
  if (c.type.startsWith("number"))
    return c.min === null || c.max === null ? "number" : `number from ${String(c.min)} to ${String(c.max)}`;
  switch (c.type) {
    case "selection":
      return "one of the options";
    case "selection-multi":
      return "a list of options";
    case "selection-check":
      return "true or false";
    case "datetime":
      return '"YYYY-MM-DD HH:MM"';
    case "datetime-date":
      return '"YYYY-MM-DD"';
    case "datetime-time":
      return '"HH:MM"';
    case "usergroup":
      return "a list of user ids";
    default:
      return "as Tables stores it";
  }
}

const columnSchema = z.object({
  title: z.string(),
  type: z.string().describe("e.g. text-line, number, selection, selection-multi, datetime-date"),
  accepts: z.string().describe("How to write a value."),
  mandatory: z.boolean(),
  options: z.array(z.string()).nullable().describe("The allowed values of a selection."),
  description: z.string(),
});

/** tables_get_schema: a table's columns with their types and options. */
export const tablesGetSchema = tool.read({
  name: "tables_get_schema",
  title: "Get a table's columns",
  description:
    "A table's columns: title, type, how to write a value, whether mandatory, selection options. Row values use these titles.",
  input: z.object({ table: tableField }),
  output: z.object({ table: tableSchema, columns: z.array(columnSchema) }),
  async handler(args, ctx) {
    const { table, columns } = await loadTable(ctx, args.table);
    return {
      table: tableOut(table),
      columns: columns.map((c) => ({
        title: c.title,
        type: c.type,
        accepts: accepts(c),
        mandatory: c.mandatory,
        options:
          c.options.length > 0 || (c.type.startsWith("selection") && c.type !== "selection-check")
            ? c.options.map((o) => o.label)
            : null,
        description: c.description,
      })),
    };
  },
  text: (o) =>
    [
      `Table "${o.table.title}" (id ${String(o.table.id)}):`,
      ...o.columns.map(
        (c) =>
          `- ${c.title}: ${c.type}, ${c.accepts}${c.mandatory ? ", mandatory" : ""}` +
          (c.options === null ? "" : ` [${c.options.join(", ")}]`),
      ),
    ].join("\n"),
});

/** Rows fetched per request while filtering, and the most a filter looks at. */
const CHUNK = 200;
const MAX_SCAN = 5000;

/** tables_read_rows: a page of a table's rows as {column title: value}, optionally filtered. */
export const tablesReadRows = tool.read({
  name: "tables_read_rows",
  title: "Read table rows",
  description:
    "Reads a table's rows as {column title: value}, oldest first, paged. `filter` keeps rows matching every condition.",
  input: z.object({
    table: tableField,
    filter: z.array(conditionSchema).max(10).optional().describe("Conditions a row must all meet."),
    ...pageInput("rows", 50, 200),
  }),
  output: z.object({
    table: z.object({ id: z.number().int(), title: z.string() }),
    rows: z.array(rowSchema),
    ...pageOutput,
    scannedAll: z
      .boolean()
      .describe(`False when the filter looked only at the first ${String(MAX_SCAN)} rows.`),
  }),
  async handler(args, ctx) {
    const nc = nextcloudOf(ctx);
    const { table, columns } = await loadTable(ctx, args.table);
    const head = { id: table.id, title: table.title };
    const read = (limit: number, offset: number): Promise<ApiRow[]> =>
      rowCall(listRows(nc, table.id, { limit, offset }, ctx.signal), {
        table: table.id,
        doing: "reading rows",
      });
    if (args.filter === undefined || args.filter.length === 0) {
      const rows = await read(args.limit, args.offset);
      const total = Math.max(table.rowsCount, args.offset + rows.length);
      const next = args.offset + rows.length;
      return {
        table: head,
        rows: rows.map((r) => rowOut(columns, r)),
        offset: args.offset,
        total,
        nextOffset: rows.length === args.limit && next < total ? next : null,
        scannedAll: true,
      };
    }
    const bound = bindFilter(columns, args.filter);
    if ("problems" in bound) refuse("The filter was not applied", bound.problems);
    const found = [];
    let scanned = 0;
    for (;;) {
      const chunk = await read(CHUNK, scanned);
      scanned += chunk.length;
      for (const r of chunk) {
        const out = rowOut(columns, r);
        if (matches(out.values, bound.conditions)) found.push(out);
      }
      if (chunk.length < CHUNK || scanned >= MAX_SCAN) break;
    }
    const page = pageOf(found, args.offset, args.limit);
    return {
      table: head,
      rows: page.items,
      offset: page.offset,
      total: page.total,
      nextOffset: page.nextOffset,
      scannedAll: scanned < MAX_SCAN || scanned >= table.rowsCount,
    };
  },
  text: (o) =>
    [
      `Table "${o.table.title}": rows ${String(o.offset + 1)}-${String(o.offset + o.rows.length)} of ${String(o.total)}` +
        (o.nextOffset === null ? "" : ` (next offset ${String(o.nextOffset)})`) +
        (o.scannedAll ? "" : `; the filter looked only at the first ${String(MAX_SCAN)} rows`),
      ...o.rows.map(rowLine),
    ].join("\n"),
});
