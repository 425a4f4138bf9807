// Row filters by column title, applied by the gateway to rows read as `{column title: value}`: the
// Tables API has no filter on its row listing (only saved views filter), so the gateway scans a
// bounded number of rows and keeps those that match every condition.
import { z } from "zod";
import { columnByTitle, titlesOf, type ColumnInfo } from "./columns.ts";

export const FILTER_OPS = ["equals", "contains", "greater", "less", "empty", "notEmpty"] as const;

/** One condition as the model writes it. */
export const conditionSchema = z.object({
  column: z.string().min(1).max(200).describe("A column title."),
  op: z.enum(FILTER_OPS).describe("equals/contains ignore case; greater/less compare numbers, dates, times."),
  value: z
    .union([z.string().max(1000), z.number(), z.boolean()])
    .optional()
    .describe("Not for empty/notEmpty."),
});
export type Condition = z.infer<typeof conditionSchema>;

/** A condition bound to its column. */
export interface BoundCondition extends Condition {
  title: string;
}

/** The conditions bound to the table's columns, or the problems (unknown titles, missing values). */
export function bindFilter(
  columns: readonly ColumnInfo[],
  conditions: readonly Condition[],
): { conditions: BoundCondition[] } | { problems: string[] } {
  const problems: string[] = [];
  const bound: BoundCondition[] = [];
  for (const c of conditions) {
    const column = columnByTitle(columns, c.column);
    if (column === undefined) problems.push(`no column ${JSON.stringify(c.column)}; ${titlesOf(columns)}`);
    else if (c.op !== "empty" && c.op !== "notEmpty" && c.value === undefined)
      problems.push(`the condition on ${JSON.stringify(column.title)} (${c.op}) needs a value`);
    else bound.push({ ...c, title: column.title });
  }
  return problems.length > 0 ? { problems } : { conditions: bound };
}

const isEmpty = (v: unknown) =>
  v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
const fold = (v: unknown) => (typeof v === "string" ? v.trim().toLowerCase() : v);

function equals(cell: unknown, want: unknown): boolean {
  if (typeof want === "number" || (typeof want === "string" && typeof cell === "number"))
    return Number(cell) === Number(want);
  return fold(typeof cell === "boolean" ? String(cell) : cell) === fold(String(want));
}

function compare(cell: unknown, want: unknown): number | undefined {
  if (typeof cell === "number") {
    const n = Number(want);
    return Number.isFinite(n) ? cell - n : undefined;
  }
  if (typeof cell === "string" && typeof want === "string") return cell < want ? -1 : cell > want ? 1 : 0;
  return undefined;
}

function matchOne(cell: unknown, c: BoundCondition): boolean {
  if (c.op === "empty") return isEmpty(cell);
  if (c.op === "notEmpty") return !isEmpty(cell);
  if (isEmpty(cell)) return false;
  const cells = Array.isArray(cell) ? (cell as unknown[]) : [cell];
  return cells.some((one) => {
    switch (c.op) {
      case "equals":
        return equals(one, c.value);
      case "contains":
        return String(one).toLowerCase().includes(String(c.value).toLowerCase());
      case "greater":
        return (compare(one, c.value) ?? 0) > 0;
      default:
        return (compare(one, c.value) ?? 0) < 0;
    }
  });
}

/** Whether a row's values match every condition. */
export function matches(values: Record<string, unknown>, conditions: readonly BoundCondition[]): boolean {
  return conditions.every((c) => matchOne(values[c.title], c));
}
