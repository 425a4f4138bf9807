import { describe, expect, it } from "vitest";
import type { ApiColumn } from "../../../../src/apps/tables/client.ts";
import {
  columnByTitle,
  columnInfo,
  fromApiValue,
  rowDataFor,
  toApiValue,
  valuesOf,
  type ColumnInfo,
} from "../../../../src/apps/tables/columns.ts";
import { bindFilter, matches } from "../../../../src/apps/tables/filter.ts";
import { columnRequest } from "../../../../src/apps/tables/write.ts";

let nextId = 1;
function col(over: Partial<ApiColumn> & Pick<ApiColumn, "title" | "type">): ColumnInfo {
  return columnInfo({ id: nextId++, tableId: 1, subtype: "", mandatory: false, ...over });
}

const status = col({
  title: "Status",
  type: "selection",
  selectionOptions: [
    { id: 1, label: "Open" },
    { id: 2, label: "Done" },
  ],
});
const tags = col({
  title: "Tags",
  type: "selection",
  subtype: "multi",
  // Older Tables versions send the options as a JSON string.
  selectionOptions: JSON.stringify([
    { id: 1, label: "red" },
    { id: 2, label: "blue" },
    { id: 3, label: "Red" },
  ]),
});
const name = col({ title: "Name", type: "text", subtype: "line", mandatory: true, textMaxLength: 10 });
const estimate = col({ title: "Estimate", type: "number", numberMin: 0, numberMax: 0 });
const percent = col({ title: "Percent", type: "number", numberMin: 0, numberMax: 100 });
const stars = col({ title: "Stars", type: "number", subtype: "stars" });
const done = col({ title: "Done?", type: "selection", subtype: "check" });
const due = col({ title: "Due", type: "datetime", subtype: "date" });
const at = col({ title: "At", type: "datetime" });
const time = col({ title: "Time", type: "datetime", subtype: "time" });
const people = col({ title: "People", type: "usergroup" });
const columns = [status, tags, name, estimate, percent, stars, done, due, at, time, people];

describe("a column of the Tables API", () => {
  it("joins type and subtype, parses options from a list or a JSON string, and keeps only real number ranges", () => {
    expect(status).toMatchObject({
      type: "selection",
      options: [
        { id: 1, label: "Open" },
        { id: 2, label: "Done" },
      ],
    });
    expect(tags.type).toBe("selection-multi");
    expect(tags.options.map((o) => o.label)).toEqual(["red", "blue", "Red"]);
    expect(estimate).toMatchObject({ min: null, max: null });
    expect(percent).toMatchObject({ min: 0, max: 100 });
    expect(stars).toMatchObject({ type: "number-stars", min: 0, max: 5 });
    expect(name).toMatchObject({ type: "text-line", mandatory: true, maxLength: 10 });
    expect(col({ title: "x", type: "selection", selectionOptions: "not json" }).options).toEqual([]);
  });
});

describe("a value checked against its column", () => {
  const ok = (c: ColumnInfo, v: unknown) => toApiValue(c, v);
  it("maps selection labels (case-insensitive when unambiguous) and ids to option ids", () => {
    expect(ok(status, "Done")).toEqual({ value: 2 });
    expect(ok(status, " done ")).toEqual({ value: 2 });
    expect(ok(status, 1)).toEqual({ value: 1 });
    expect(ok(status, "Blocked")).toEqual({ problem: '"Blocked" is not an option; allowed: "Open", "Done"' });
    expect(ok(tags, ["blue", "red"])).toEqual({ value: [1, 2] });
    // "RED" folds to both "red" and "Red": ambiguous, refused.
    expect(ok(tags, ["RED"])).toMatchObject({
      problem: expect.stringContaining('"RED" is not an option') as unknown,
    });
    expect(ok(tags, "blue")).toEqual({ value: [2] });
  });

  it("checks numbers, ranges, text length, booleans, dates and times", () => {
    expect(ok(estimate, "2.5")).toEqual({ value: 2.5 });
    expect(ok(estimate, "soon")).toEqual({ problem: 'expected a number, got "soon"' });
    expect(ok(estimate, -7)).toEqual({ value: -7 });
    expect(ok(percent, 101)).toEqual({ problem: "must be between 0 and 100, got 101" });
    expect(ok(stars, 6)).toEqual({ problem: "must be between 0 and 5, got 6" });
    expect(ok(name, "a".repeat(11))).toEqual({ problem: "at most 10 characters, got 11" });
    expect(ok(name, 5)).toEqual({ problem: "expected text, got 5" });
    expect(ok(done, true)).toEqual({ value: "true" });
    expect(ok(done, "false")).toEqual({ value: "false" });
    expect(ok(done, "yes")).toEqual({ problem: 'expected true or false, got "yes"' });
    expect(ok(due, "2026-02-28")).toEqual({ value: "2026-02-28" });
    expect(ok(due, "2026-02-30")).toMatchObject({
      problem: expect.stringContaining("YYYY-MM-DD") as unknown,
    });
    expect(ok(at, "2026-03-01T09:30:00")).toEqual({ value: "2026-03-01 09:30" });
    expect(ok(at, "2026-03-01")).toMatchObject({
      problem: expect.stringContaining("YYYY-MM-DD HH:MM") as unknown,
    });
    expect(ok(time, "23:59")).toEqual({ value: "23:59" });
    expect(ok(time, "24:00")).toMatchObject({ problem: expect.stringContaining("HH:MM") as unknown });
    expect(ok(people, ["alice"])).toEqual({ value: [{ id: "alice", type: 0, displayName: "alice" }] });
    expect(ok(people, [3])).toMatchObject({ problem: expect.stringContaining("user ids") as unknown });
    expect(ok(status, null)).toEqual({ value: null });
  });

  it("reads stored values back as the model writes them", () => {
    expect(fromApiValue(status, 2)).toBe("Done");
    expect(fromApiValue(status, "1")).toBe("Open");
    expect(fromApiValue(status, 9)).toBe(9);
    expect(fromApiValue(tags, [1, 2])).toEqual(["red", "blue"]);
    expect(fromApiValue(done, "true")).toBe(true);
    expect(fromApiValue(done, "false")).toBe(false);
    expect(fromApiValue(people, [{ id: "bob", type: 0 }])).toEqual(["bob"]);
    expect(fromApiValue(estimate, "")).toBeNull();
    expect(fromApiValue(tags, [])).toBeNull();
    expect(valuesOf([status, estimate], [{ columnId: status.id, value: 1 }])).toEqual({
      Status: "Open",
      Estimate: null,
    });
  });
});

describe("a row by column title", () => {
  it("maps titles (exact, else ignoring case) to column ids", () => {
    expect(columnByTitle(columns, "due")).toBe(due);
    expect(rowDataFor(columns, { name: "Write", Status: "Open" }, true)).toEqual({
      data: { [String(name.id)]: "Write", [String(status.id)]: 1 },
    });
  });

  it("names every problem at once: unknown titles with the real ones, wrong values, mandatory columns", () => {
    const r = rowDataFor(columns, { Colour: "red", Status: "Blocked", Estimate: "soon" }, true);
    expect("problems" in r && r.problems).toEqual([
      'no column "Colour"; its columns are "Status", "Tags", "Name", "Estimate", "Percent", "Stars", "Done?", "Due", "At", "Time", "People"',
      'column "Status": "Blocked" is not an option; allowed: "Open", "Done"',
      'column "Estimate": expected a number, got "soon"',
      'column "Name" is mandatory; give it a value',
    ]);
    // A change needs no mandatory column, but cannot empty one.
    expect(rowDataFor(columns, { Status: "Done" }, false)).toEqual({ data: { [String(status.id)]: 2 } });
    expect(rowDataFor(columns, { Name: null }, false)).toEqual({
      problems: ['column "Name" is mandatory and cannot be emptied'],
    });
  });
});

describe("a row filter", () => {
  it("binds conditions to columns and matches every one", () => {
    const bound = bindFilter(columns, [
      { column: "status", op: "equals", value: "open" },
      { column: "Estimate", op: "greater", value: 2 },
    ]);
    if ("problems" in bound) throw new Error(bound.problems.join());
    expect(matches({ Status: "Open", Estimate: 3 }, bound.conditions)).toBe(true);
    expect(matches({ Status: "Open", Estimate: 2 }, bound.conditions)).toBe(false);
    expect(matches({ Status: "Done", Estimate: 3 }, bound.conditions)).toBe(false);
    expect(matches({ Status: null, Estimate: 3 }, bound.conditions)).toBe(false);
  });

  it("compares lists element-wise, dates as text, and knows empty", () => {
    const one = (
      op: "equals" | "contains" | "less" | "empty" | "notEmpty",
      column: string,
      value?: string,
    ) => {
      const b = bindFilter(columns, [{ column, op, ...(value === undefined ? {} : { value }) }]);
      if ("problems" in b) throw new Error(b.problems.join());
      return (values: Record<string, unknown>) => matches(values, b.conditions);
    };
    expect(one("equals", "Tags", "blue")({ Tags: ["red", "blue"] })).toBe(true);
    expect(one("contains", "Name", "RIT")({ Name: "Write" })).toBe(true);
    expect(one("less", "Due", "2026-03-01")({ Due: "2026-02-28" })).toBe(true);
    expect(one("less", "Due", "2026-03-01")({ Due: "2026-03-02" })).toBe(false);
    expect(one("empty", "Tags")({ Tags: [] })).toBe(true);
    expect(one("notEmpty", "Tags")({ Tags: [] })).toBe(false);
    expect(one("equals", "Done?", "true")({ "Done?": true })).toBe(true);
  });

  it("names unknown columns and missing values", () => {
    expect(
      bindFilter(
        [status],
        [
          { column: "Owner", op: "equals", value: "x" },
          { column: "Status", op: "contains" },
        ],
      ),
    ).toEqual({
      problems: [
        'no column "Owner"; its columns are "Status"',
        'the condition on "Status" (contains) needs a value',
      ],
    });
  });
});

describe("a new column as the model describes it", () => {
  it("becomes the OCS route and parameters of its type", () => {
    expect(
      columnRequest({
        title: "Status",
        type: "selection",
        mandatory: true,
        options: ["Open", "Done", "Open"],
      }),
    ).toEqual({
      route: "selection",
      params: {
        title: "Status",
        mandatory: true,
        subtype: "",
        selectionOptions: JSON.stringify([
          { id: 1, label: "Open" },
          { id: 2, label: "Done" },
        ]),
      },
    });
    expect(columnRequest({ title: "Due", type: "datetime-date", mandatory: false })).toEqual({
      route: "datetime",
      params: { title: "Due", mandatory: false, subtype: "date" },
    });
    expect(columnRequest({ title: "N", type: "number", mandatory: false, min: 1, max: 9 })).toMatchObject({
      route: "number",
      params: { numberMin: 1, numberMax: 9, subtype: "" },
    });
  });

  it("is refused with the reason when options or bounds do not fit its type", () => {
    expect(columnRequest({ title: "S", type: "selection-multi", mandatory: false })).toBe(
      'column "S" (selection-multi) needs options',
    );
    expect(columnRequest({ title: "T", type: "text-line", mandatory: false, options: ["a"] })).toBe(
      'column "T" (text-line) takes no options',
    );
    expect(columnRequest({ title: "D", type: "datetime", mandatory: false, min: 1 })).toBe(
      'column "D": min and max are for number columns',
    );
    expect(columnRequest({ title: "N", type: "number", mandatory: false, min: 5, max: 5 })).toBe(
      'column "N": min must be below max',
    );
  });
});
