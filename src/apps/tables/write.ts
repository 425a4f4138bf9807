// The tables tools that change data: creating a table (or adding columns to one), inserting or
// changing a row by column titles, deleting a row. Values are checked against the column types
// before anything is sent; inserting goes through the OCS API, changing and deleting through API v1.
import { z } from "zod";
import { badArguments, explained, nextcloudOf, reword, toolMaker } from "../../mcp/index.ts";
import { NextcloudError } from "../../nextcloud/index.ts";
import {
  createColumn,
  createRow,
  createTable,
  deleteRow,
  getRow,
  updateRow,
  type ApiColumn,
  type ApiRow,
  type NewColumn,
} from "./client.ts";
import { COLUMN_TYPES, rowDataFor } from "./columns.ts";
import {
  loadTable,
  noRow,
  noTable,
  notAllowed,
  refuse,
  rowCall,
  rowField,
  rowLine,
  rowOut,
  rowSchema,
  tableField,
} from "./fields.ts";

const tool = toolMaker("tables");

const newColumnSchema = z.object({
  title: z.string().trim().min(1, "A column title cannot be empty.").max(200),
  type: z.enum(COLUMN_TYPES),
  mandatory: z.boolean().default(false),
  options: z
    .array(z.string().trim().min(1).max(200))
    .max(100)
    .optional()
    .describe("The choices of selection and selection-multi."),
  min: z.number().optional().describe("number only"),
  max: z.number().optional().describe("number only"),
  description: z.string().max(2000).optional(),
});
type NewColumnInput = z.infer<typeof newColumnSchema>;

/** The OCS column route and parameters for a column as the model describes it, or a problem. */
export function columnRequest(c: NewColumnInput): NewColumn | string {
  const [type, subtype = ""] = c.type.split("-") as [string, string | undefined];
  const selection = c.type === "selection" || c.type === "selection-multi";
  if (selection && (c.options === undefined || c.options.length === 0))
    return `column "${c.title}" (${c.type}) needs options`;
  if (!selection && c.options !== undefined) return `column "${c.title}" (${c.type}) takes no options`;
  if ((c.min !== undefined || c.max !== undefined) && c.type !== "number")
    return `column "${c.title}": min and max are for number columns`;
  if (c.min !== undefined && c.max !== undefined && c.min >= c.max)
    return `column "${c.title}": min must be below max`;
  const params: Record<string, unknown> = {
    title: c.title,
    mandatory: c.mandatory,
    subtype,
    ...(c.description === undefined ? {} : { description: c.description }),
  };
  if (type === "number") {
    if (c.min !== undefined) params.numberMin = c.min;
    if (c.max !== undefined) params.numberMax = c.max;
  }
  if (type === "selection") {
    const labels = [...new Set(c.options ?? [])];
    params.selectionOptions = JSON.stringify(labels.map((label, i) => ({ id: i + 1, label })));
  }
  if (type === "usergroup")
    Object.assign(params, { usergroupSelectUsers: true, usergroupMultipleItems: true });
  return { route: type as NewColumn["route"], params };
}

/** tables_create: a new table with its columns, or more columns for an existing one. */
export const tablesCreate = tool.write({
  name: "tables_create",
  title: "Create a table",
  description: "Creates a table with the given columns, or adds the columns to an existing `table`.",
  input: z.object({
    title: z.string().trim().min(1).max(200).optional().describe("The new table's title."),
    table: tableField.optional().describe("Add the columns to this table instead."),
    emoji: z.string().max(20).optional().describe("The new table's emoji."),
    description: z.string().max(2000).optional().describe("The new table's description."),
    columns: z.array(newColumnSchema).max(50).default([]).describe("The columns, in order."),
  }),
  output: z.object({
    table: z.object({ id: z.number().int(), title: z.string() }),
    created: z.boolean().describe("A new table (false: columns added)."),
    columns: z.array(z.object({ title: z.string(), type: z.string() })),
  }),
  destructive: false,
  idempotent: false,
  async handler(args, ctx) {
    const nc = nextcloudOf(ctx);
    if ((args.title === undefined) === (args.table === undefined))
      throw badArguments(
        "Give either title (a new table) or table (add columns to it), not both or neither.",
      );
    const problems: string[] = [];
    const requests: NewColumn[] = [];
    const titles = new Set<string>();
    for (const c of args.columns) {
      const key = c.title.toLowerCase();
      if (titles.has(key)) problems.push(`column "${c.title}" is given twice`);
      titles.add(key);
      const r = columnRequest(c);
      if (typeof r === "string") problems.push(r);
      else requests.push(r);
    }
    let target: { id: number; title: string } | undefined;
    if (args.table !== undefined) {
      const loaded = await loadTable(ctx, args.table);
      target = { id: loaded.table.id, title: loaded.table.title };
      for (const c of loaded.columns)
        if (titles.has(c.title.toLowerCase())) problems.push(`the table has a column "${c.title}" already`);
      if (args.columns.length === 0) problems.push("give the columns to add");
    }
    if (problems.length > 0) throw badArguments(`Nothing was created: ${problems.join("; ")}.`);
    let created = false;
    if (target === undefined && args.title !== undefined) {
      const t = await createTable(
        nc,
        {
          title: args.title,
          ...(args.emoji === undefined ? {} : { emoji: args.emoji }),
          ...(args.description === undefined ? {} : { description: args.description }),
        },
        ctx.signal,
      );
      target = { id: t.id, title: t.title };
      created = true;
    }
    if (target === undefined) throw badArguments("Give title or table.");
    const made: ApiColumn[] = [];
    for (const r of requests) {
      try {
        made.push(await createColumn(nc, target.id, r, ctx.signal));
      } catch (err) {
        if (!(err instanceof NextcloudError)) throw err;
        const done = made.map((c) => `"${c.title}"`).join(", ") || "none";
        throw reword(
          err,
          `${created ? `Table ${String(target.id)} was created` : `Table ${String(target.id)} was changed`} with the columns ${done}, but column "${String(r.params.title)}" failed: ${err.description} Add the rest with tables_create and table ${String(target.id)}.`,
        );
      }
    }
    return {
      table: target,
      created,
      columns: made.map((c) => ({ title: c.title, type: c.subtype ? `${c.type}-${c.subtype}` : c.type })),
    };
  },
  text: (o) =>
    `${o.created ? "Created" : "Changed"} table "${o.table.title}" (id ${String(o.table.id)})` +
    (o.columns.length === 0
      ? "."
      : ` with columns ${o.columns.map((c) => `${c.title} (${c.type})`).join(", ")}.`),
});

/** The row `row` of table `table`, read through API v1, or the error saying it is not there. */
async function rowOfTable(
  nc: ReturnType<typeof nextcloudOf>,
  table: number,
  row: number,
  doing: string,
  signal: AbortSignal,
): Promise<ApiRow> {
  const found = await rowCall(getRow(nc, row, signal), { table, row, doing });
  if (found.tableId !== table) throw badArguments(noRow(table, row));
  return found;
}

const valuesField = z
  .record(z.string(), z.unknown())
  .describe("{column title: value}; see tables_get_schema for how to write each type. null empties a cell.");

/** tables_save_row: insert a row, or change some cells of one. */
export const tablesSaveRow = tool.write({
  name: "tables_save_row",
  title: "Insert or change a row",
  description:
    "Inserts a row into `table`, or with `row` changes only the given cells of that row. Values are checked against the column types first.",
  input: z.object({
    table: tableField,
    row: rowField.optional().describe("Omit to insert."),
    values: valuesField,
  }),
  output: z.object({
    action: z.enum(["inserted", "updated"]),
    table: z.number().int(),
    row: rowSchema,
  }),
  destructive: true,
  idempotent: false,
  async handler(args, ctx) {
    const nc = nextcloudOf(ctx);
    const { table, columns } = await loadTable(ctx, args.table);
    const insert = args.row === undefined;
    if (!insert && Object.keys(args.values).length === 0)
      throw badArguments("Give values: the cells to change.");
    const mapped = rowDataFor(columns, args.values, insert);
    if ("problems" in mapped) refuse(`Row ${insert ? "not inserted" : "not changed"}`, mapped.problems);
    if (args.row === undefined) {
      const created = await explained(createRow(nc, table.id, mapped.data, ctx.signal), {
        not_found: noTable(table.id),
        forbidden: notAllowed(table.id, "creating rows"),
        bad_response: `Tables refused the row for table ${String(table.id)}; nothing was inserted. Call tables_get_schema and check the values.`,
      });
      return { action: "inserted" as const, table: table.id, row: rowOut(columns, created) };
    }
    const doing = "changing rows";
    await rowOfTable(nc, table.id, args.row, doing, ctx.signal);
    const updated = await rowCall(updateRow(nc, args.row, mapped.data, ctx.signal), {
      table: table.id,
      row: args.row,
      doing,
    });
    return { action: "updated" as const, table: table.id, row: rowOut(columns, updated) };
  },
  text: (o) => `Row ${o.action} in table ${String(o.table)}:\n${rowLine(o.row)}`,
});

/** tables_delete_row: deletes one row. */
export const tablesDeleteRow = tool.write({
  name: "tables_delete_row",
  title: "Delete a row",
  description: "Deletes one row of a table; the result shows the values it had.",
  input: z.object({ table: tableField, row: rowField }),
  output: z.object({ table: z.number().int(), deleted: rowSchema }),
  destructive: true,
  idempotent: true,
  async handler(args, ctx) {
    const nc = nextcloudOf(ctx);
    const { table, columns } = await loadTable(ctx, args.table);
    const doing = "deleting rows";
    await rowOfTable(nc, table.id, args.row, doing, ctx.signal);
    const gone = await rowCall(deleteRow(nc, args.row, ctx.signal), {
      table: table.id,
      row: args.row,
      doing,
    });
    return { table: table.id, deleted: rowOut(columns, gone) };
  },
  text: (o) => `Deleted from table ${String(o.table)}:\n${rowLine(o.deleted)}`,
});
