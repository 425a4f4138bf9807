// Columns as the model sees them (a title, a type such as "selection" or "datetime-date", the options
// of a selection) and the values of each type, checked before they reach Tables: Tables stores a
// value it cannot parse as empty without an error (its ColumnTypes/*Business classes), so the
// gateway refuses it instead, naming the column and what it accepts.
import type { ApiColumn } from "./client.ts";

/** The column types Tables offers (`type` and `subtype` joined, as in its `column_types` capability). */
export const COLUMN_TYPES = [
  "text-line",
  "text-long",
  "text-rich",
  "text-link",
  "number",
  "number-stars",
  "number-progress",
  "selection",
  "selection-multi",
  "selection-check",
  "datetime",
  "datetime-date",
  "datetime-time",
  "usergroup",
] as const;

/** One selection option. */
export interface SelectOption {
  id: number;
  label: string;
}

/** A column with what validating its values needs. */
export interface ColumnInfo {
  id: number;
  title: string;
  /** `type` or `type-subtype`, e.g. "selection-multi"; unknown types are kept as Tables names them. */
  type: string;
  mandatory: boolean;
  description: string;
  options: SelectOption[];
  /** Bounds of a number column, when it has any. */
  min: number | null;
  max: number | null;
  /** The longest text a text column takes, when limited. */
  maxLength: number | null;
}

function parseOptions(raw: ApiColumn["selectionOptions"]): SelectOption[] {
  let list: unknown = raw;
  if (typeof raw === "string") {
    try {
      list = JSON.parse(raw === "" ? "[]" : raw) as unknown;
    } catch {
      return [];
    }
  }
  if (!Array.isArray(list)) return [];
  return list.flatMap((o: unknown) => {
    const { id, label } = (o ?? {}) as { id?: unknown; label?: unknown };
    return typeof label === "string" && (typeof id === "number" || typeof id === "string")
      ? [{ id: Number(id), label }]
      : [];
  });
}

const positive = (n: unknown): number | null => (typeof n === "number" && n > 0 ? n : null);

/** A column of the API as the gateway works with it. */
export function columnInfo(c: ApiColumn): ColumnInfo {
  const type = c.subtype ? `${c.type}-${c.subtype}` : c.type;
  let min: number | null = null;
  let max: number | null = null;
  if (type === "number-stars") [min, max] = [0, 5];
  else if (type === "number-progress") [min, max] = [0, 100];
  else if (typeof c.numberMin === "number" && typeof c.numberMax === "number" && c.numberMax > c.numberMin)
    // Tables sends 0 and 0 for a column without bounds: only a real range counts.
    [min, max] = [c.numberMin, c.numberMax];
  return {
    id: c.id,
    title: c.title,
    type,
    mandatory: c.mandatory === true,
    description: c.description ?? "",
    options:
      type.startsWith("selection") && type !== "selection-check" ? parseOptions(c.selectionOptions) : [],
    min,
    max,
    maxLength: type.startsWith("text") ? positive(c.textMaxLength) : null,
  };
}

const quoted = (s: string) => JSON.stringify(s);
const shown = (v: unknown) => (typeof v === "string" ? quoted(v) : JSON.stringify(v));

function optionFor(column: ColumnInfo, value: unknown): SelectOption | undefined {
  if (typeof value === "number") return column.options.find((o) => o.id === value);
  if (typeof value !== "string") return undefined;
  const exact = column.options.find((o) => o.label === value);
  if (exact) return exact;
  const folded = column.options.filter((o) => o.label.trim().toLowerCase() === value.trim().toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

function allowed(column: ColumnInfo): string {
  return column.options.length === 0
    ? "the column has no options yet"
    : `allowed: ${column.options.map((o) => quoted(o.label)).join(", ")}`;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?$/;

function validDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/**
 * The value Tables stores for `value` in `column`, or a problem (a sentence without the column's
 * name) when Tables would not take it. null clears a cell.
 */
export function toApiValue(column: ColumnInfo, value: unknown): { value: unknown } | { problem: string } {
  if (value === null) return { value: null };
  const t = column.type;
  if (t.startsWith("text")) {
    if (typeof value !== "string") return { problem: `expected text, got ${shown(value)}` };
    if (column.maxLength !== null && value.length > column.maxLength)
      return { problem: `at most ${String(column.maxLength)} characters, got ${String(value.length)}` };
    return { value };
  }
  if (t.startsWith("number")) {
    const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    if (typeof n !== "number" || !Number.isFinite(n))
      return { problem: `expected a number, got ${shown(value)}` };
    if (column.min !== null && column.max !== null && (n < column.min || n > column.max))
      return { problem: `must be between ${String(column.min)} and ${String(column.max)}, got ${String(n)}` };
    return { value: n };
  }
  if (t === "selection") {
    const option = optionFor(column, value);
    return option
      ? { value: option.id }
      : { problem: `${shown(value)} is not an option; ${allowed(column)}` };
  }
  if (t === "selection-multi") {
    const list = Array.isArray(value) ? (value as unknown[]) : [value];
    const ids: number[] = [];
    for (const v of list) {
      const option = optionFor(column, v);
      if (!option) return { problem: `${shown(v)} is not an option; ${allowed(column)}` };
      if (!ids.includes(option.id)) ids.push(option.id);
    }
    return { value: ids.sort((a, b) => a - b) };
  }
  if (t === "selection-check") {
    if (value === true || value === "true") return { value: "true" };
    if (value === false || value === "false") return { value: "false" };
    return { problem: `expected true or false, got ${shown(value)}` };
  }
  if (t === "datetime-date") {
    return typeof value === "string" && validDate(value)
      ? { value }
      : { problem: `expected a date as YYYY-MM-DD, got ${shown(value)}` };
  }
  if (t === "datetime-time") {
    return typeof value === "string" && TIME.test(value)
      ? { value: value.slice(0, 5) }
      : { problem: `expected a time as HH:MM, got ${shown(value)}` };
  }
  if (t === "datetime") {
    const m =
      typeof value === "string" ? /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?::\d{2})?$/.exec(value) : null;
    return m?.[1] !== undefined && m[2] !== undefined && validDate(m[1]) && TIME.test(m[2])
      ? { value: `${m[1]} ${m[2]}` }
      : { problem: `expected a date and time as "YYYY-MM-DD HH:MM", got ${shown(value)}` };
  }
  if (t === "usergroup") {
    const list = Array.isArray(value) ? (value as unknown[]) : [value];
    if (!list.every((v): v is string => typeof v === "string" && v.trim() !== ""))
      return { problem: `expected user ids, got ${shown(value)}` };
    return { value: list.map((id) => ({ id, type: 0, displayName: id })) };
  }
  return { value };
}

/** A stored value as the model reads it: option labels, booleans, user ids; unknown options stay ids. */
export function fromApiValue(column: ColumnInfo, raw: unknown): unknown {
  if (raw === null || raw === undefined || raw === "" || (Array.isArray(raw) && raw.length === 0))
    return null;
  const label = (v: unknown) => {
    const id = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    return column.options.find((o) => o.id === id)?.label ?? v;
  };
  switch (column.type) {
    case "selection":
      return label(raw);
    case "selection-multi":
      return Array.isArray(raw) ? raw.map(label) : [label(raw)];
    case "selection-check":
      return raw === true || raw === "true";
    case "usergroup":
      return Array.isArray(raw)
        ? raw.map((u: unknown) => (typeof u === "object" && u !== null ? (u as { id?: unknown }).id : u))
        : raw;
    default:
      return raw;
  }
}

/** The column called `title`: exactly, else the one whose title matches ignoring case and spaces. */
export function columnByTitle(columns: readonly ColumnInfo[], title: string): ColumnInfo | undefined {
  const exact = columns.find((c) => c.title === title);
  if (exact) return exact;
  const folded = columns.filter((c) => c.title.trim().toLowerCase() === title.trim().toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

/** The sentence that lists a table's column titles, for errors. */
export function titlesOf(columns: readonly ColumnInfo[]): string {
  return columns.length === 0
    ? "the table has no columns"
    : `its columns are ${columns.map((c) => quoted(c.title)).join(", ")}`;
}

/**
 * `{column title: value}` as Tables takes it (`{columnId: value}`), or every problem found, each
 * naming its column. `complete`: a new row, whose mandatory columns need a value.
 */
export function rowDataFor(
  columns: readonly ColumnInfo[],
  values: Record<string, unknown>,
  complete: boolean,
): { data: Record<string, unknown> } | { problems: string[] } {
  const data: Record<string, unknown> = {};
  const problems: string[] = [];
  const given = new Set<number>();
  for (const [title, value] of Object.entries(values)) {
    const column = columnByTitle(columns, title);
    if (column === undefined) {
      problems.push(`no column ${quoted(title)}; ${titlesOf(columns)}`);
      continue;
    }
    given.add(column.id);
    const result = toApiValue(column, value);
    if ("problem" in result) problems.push(`column ${quoted(column.title)}: ${result.problem}`);
    else if (column.mandatory && result.value === null)
      problems.push(`column ${quoted(column.title)} is mandatory and cannot be emptied`);
    else data[String(column.id)] = result.value;
  }
  if (complete) {
    for (const c of columns)
      if (c.mandatory && !given.has(c.id))
        problems.push(`column ${quoted(c.title)} is mandatory; give it a value`);
  }
  return problems.length > 0 ? { problems } : { data };
}

/** A row's cells (`[{columnId, value}]`) as `{column title: value}`, every column present (null when empty). */
export function valuesOf(
  columns: readonly ColumnInfo[],
  data: readonly { columnId: number; value: unknown }[] | null,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const cell = data?.find((d) => d.columnId === c.id);
    out[c.title] = fromApiValue(c, cell?.value);
  }
  return out;
}
