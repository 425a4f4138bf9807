// The Tables tools end to end: real sign-in, the real Keycloak token exchange, the Nextcloud stand-in's
// Tables app (OCS API v2 and the #[CORS] API v1 row routes). What a user notices: a table made with
// typed columns, rows by column title, paging and filters, errors that name the column and the values
// it takes (and change nothing), bob seeing alice's table only once she shares it and only doing what
// the share allows, and in strict CORS mode the row routes refused with the fix while the rest works.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTE_RECHECK_MS, RouteProbe } from "../../../src/nextcloud/index.ts";
import type { StandinTables } from "../../standin/apps/tables.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

const TOOLS = [
  "tables_create",
  "tables_delete_row",
  "tables_get_schema",
  "tables_list",
  "tables_read_rows",
  "tables_save_row",
];

interface Row {
  id: number;
  values: Record<string, unknown>;
  createdBy: string;
}
interface Rows {
  table: { id: number; title: string };
  rows: Row[];
  offset: number;
  total: number;
  nextOffset: number | null;
  scannedAll: boolean;
}
interface Listed {
  tables: {
    id: number;
    title: string;
    shared: boolean;
    permissions: string[];
    rows: number;
    views: { title: string }[];
  }[];
}
interface Schema {
  columns: { title: string; type: string; accepts: string; mandatory: boolean; options: string[] | null }[];
}
interface Saved {
  action: string;
  row: Row;
}

let scene: NextcloudScene;
let alice: string;
let bob: string;
let tableId: number;

async function ok<T>(as: string, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = await scene.call(as, name, args);
  expect(r.isError, r.content[0]?.text).toBeFalsy();
  return r.structuredContent as T;
}

async function fails(as: string, name: string, args: Record<string, unknown>): Promise<string> {
  const r = await scene.call(as, name, args);
  expect(r.isError, JSON.stringify(r.structuredContent)).toBe(true);
  return r.content[0]?.text ?? "";
}

const rows = (as: string, args: Record<string, unknown> = {}) =>
  ok<Rows>(as, "tables_read_rows", { table: tableId, ...args });
const names = (r: Rows) => r.rows.map((row) => row.values.Name);
const tables = () => scene.standin.app<StandinTables>("tables");

// The gateway's route probe on the test's clock: a refusal of the API v1 (#[CORS]) routes is
// remembered until the clock has passed the recheck interval.
let now = 1_000_000;
const routes = new RouteProbe({ now: () => now });

beforeAll(async () => {
  scene = await startNextcloudScene({}, { routeProbe: routes });
  alice = await scene.signIn("alice");
  bob = await scene.signIn("bob");
});
afterAll(async () => {
  await scene.stop();
});

describe("a table and its rows by column title", () => {
  it("creates a table with typed columns and reads its schema", async () => {
    expect((await scene.listTools(alice)).filter((t) => t.startsWith("tables_")).sort()).toEqual(TOOLS);
    const created = await ok<{ table: { id: number; title: string }; created: boolean }>(
      alice,
      "tables_create",
      {
        title: "Tasks",
        emoji: "✅",
        columns: [
          { title: "Name", type: "text-line", mandatory: true },
          { title: "Status", type: "selection", options: ["Open", "Done"] },
          { title: "Estimate", type: "number" },
          { title: "Due", type: "datetime-date" },
          { title: "Tags", type: "selection-multi", options: ["red", "blue"] },
        ],
      },
    );
    expect(created).toMatchObject({ created: true, table: { title: "Tasks" } });
    tableId = created.table.id;

    const schema = await ok<Schema>(alice, "tables_get_schema", { table: tableId });
    expect(schema.columns).toEqual([
      { title: "Name", type: "text-line", accepts: "text", mandatory: true, options: null, description: "" },
      {
        title: "Status",
        type: "selection",
        accepts: "one of the options",
        mandatory: false,
        options: ["Open", "Done"],
        description: "",
      },
      {
        title: "Estimate",
        type: "number",
        accepts: "number",
        mandatory: false,
        options: null,
        description: "",
      },
      {
        title: "Due",
        type: "datetime-date",
        accepts: '"YYYY-MM-DD"',
        mandatory: false,
        options: null,
        description: "",
      },
      {
        title: "Tags",
        type: "selection-multi",
        accepts: "a list of options",
        mandatory: false,
        options: ["red", "blue"],
        description: "",
      },
    ]);
    // Adding a column whose title exists already is refused before anything changes.
    const twice = await fails(alice, "tables_create", {
      table: tableId,
      columns: [{ title: "status", type: "text-line" }],
    });
    expect(twice).toMatch(/Nothing was created: the table has a column "Status" already/);
  });

  it("inserts rows by column title and reads them back, paged and filtered", async () => {
    const inserted = await ok<Saved>(alice, "tables_save_row", {
      table: tableId,
      values: { Name: "Write report", Status: "Open", Estimate: 3, Due: "2026-03-01", Tags: ["blue", "red"] },
    });
    expect(inserted.action).toBe("inserted");
    expect(inserted.row.values).toEqual({
      Name: "Write report",
      Status: "Open",
      Estimate: 3,
      Due: "2026-03-01",
      Tags: ["red", "blue"],
    });
    await ok(alice, "tables_save_row", {
      table: tableId,
      values: { name: "Review", status: "done", Estimate: "1.5" },
    });
    await ok(alice, "tables_save_row", {
      table: tableId,
      values: { Name: "Ship", Status: "Open", Estimate: 8 },
    });

    const first = await rows(alice, { limit: 2 });
    expect(names(first)).toEqual(["Write report", "Review"]);
    expect(first).toMatchObject({ offset: 0, total: 3, nextOffset: 2, scannedAll: true });
    expect(first.rows[1]?.values).toMatchObject({ Status: "Done", Estimate: 1.5, Due: null, Tags: null });
    const rest = await rows(alice, { offset: 2, limit: 2 });
    expect(names(rest)).toEqual(["Ship"]);
    expect(rest.nextOffset).toBeNull();

    const open = await rows(alice, { filter: [{ column: "Status", op: "equals", value: "open" }] });
    expect(names(open)).toEqual(["Write report", "Ship"]);
    const big = await rows(alice, {
      filter: [
        { column: "Status", op: "equals", value: "Open" },
        { column: "Estimate", op: "greater", value: 5 },
      ],
    });
    expect(names(big)).toEqual(["Ship"]);
    const paged = await rows(alice, { filter: [{ column: "Due", op: "empty" }], limit: 1 });
    expect(names(paged)).toEqual(["Review"]);
    expect(paged).toMatchObject({ total: 2, nextOffset: 1 });
  });

  it("changes only the given cells of a row, and deletes a row", async () => {
    const [first] = (await rows(alice)).rows;
    const changed = await ok<Saved>(alice, "tables_save_row", {
      table: tableId,
      row: first?.id,
      values: { Status: "Done", Tags: null },
    });
    expect(changed.action).toBe("updated");
    expect(changed.row.values).toMatchObject({
      Name: "Write report",
      Status: "Done",
      Estimate: 3,
      Tags: null,
    });
    expect((await rows(alice)).rows[0]?.values.Status).toBe("Done");

    const ship = (await rows(alice)).rows.find((r) => r.values.Name === "Ship");
    const deleted = await ok<{ deleted: Row }>(alice, "tables_delete_row", { table: tableId, row: ship?.id });
    expect(deleted.deleted.values.Name).toBe("Ship");
    expect(names(await rows(alice))).toEqual(["Write report", "Review"]);
    expect(await fails(alice, "tables_delete_row", { table: tableId, row: ship?.id })).toMatch(
      new RegExp(`no row ${String(ship?.id)} in table ${String(tableId)}; call tables_read_rows`),
    );
  });

  it("refuses wrong values naming the column and what it takes, and changes nothing", async () => {
    const before = await rows(alice);
    const text = await fails(alice, "tables_save_row", {
      table: tableId,
      values: {
        Name: "X",
        Colour: "red",
        Status: "Blocked",
        Estimate: "soon",
        Due: "01.03.2026",
        Tags: ["green"],
      },
    });
    expect(text).toContain('no column "Colour"; its columns are "Name", "Status", "Estimate", "Due", "Tags"');
    expect(text).toContain('column "Status": "Blocked" is not an option; allowed: "Open", "Done"');
    expect(text).toContain('column "Estimate": expected a number, got "soon"');
    expect(text).toContain('column "Due": expected a date as YYYY-MM-DD, got "01.03.2026"');
    expect(text).toContain('column "Tags": "green" is not an option; allowed: "red", "blue"');
    expect(await fails(alice, "tables_save_row", { table: tableId, values: { Status: "Open" } })).toContain(
      'column "Name" is mandatory; give it a value',
    );
    const row = before.rows[0]?.id;
    expect(await fails(alice, "tables_save_row", { table: tableId, row, values: { Name: null } })).toContain(
      'column "Name" is mandatory and cannot be emptied',
    );
    expect(
      await fails(alice, "tables_read_rows", { table: tableId, filter: [{ column: "Owner", op: "empty" }] }),
    ).toContain('no column "Owner"');
    expect(await rows(alice)).toEqual(before);
  });

  it("lists the table with its views", async () => {
    tables().addView(claims(alice).sub ?? "", tableId, "Open tasks");
    const listed = await ok<Listed>(alice, "tables_list");
    expect(listed.tables).toEqual([
      expect.objectContaining({
        id: tableId,
        title: "Tasks",
        shared: false,
        rows: 2,
        permissions: ["read", "create", "update", "delete", "manage"],
        views: [expect.objectContaining({ title: "Open tasks" }) as unknown],
      }) as unknown,
    ]);
  });
});

describe("bob and alice's table", () => {
  it("bob neither lists nor reads alice's table until she shares it", async () => {
    expect((await ok<Listed>(bob, "tables_list")).tables).toEqual([]);
    for (const tool of ["tables_get_schema", "tables_read_rows"]) {
      expect(await fails(bob, tool, { table: tableId })).toMatch(
        new RegExp(`no table ${String(tableId)} you can read.*tables_list`),
      );
    }
    expect(await fails(bob, "tables_save_row", { table: tableId, values: { Name: "Sneaky" } })).toMatch(
      /no table/,
    );
    const [row] = (await rows(alice)).rows;
    expect(await fails(bob, "tables_delete_row", { table: tableId, row: row?.id })).toMatch(/no table/);
    expect(names(await rows(alice))).toEqual(["Write report", "Review"]);
  });

  it("reads a table shared read-only, but cannot change it; with more permissions he can", async () => {
    tables().share(tableId, claims(bob).sub ?? "", { read: true });
    const listed = await ok<Listed>(bob, "tables_list");
    expect(listed.tables).toEqual([
      expect.objectContaining({ id: tableId, shared: true, permissions: ["read"] }) as unknown,
    ]);
    expect(names(await rows(bob))).toEqual(["Write report", "Review"]);
    expect(await fails(bob, "tables_save_row", { table: tableId, values: { Name: "Bob's" } })).toContain(
      `Table ${String(tableId)} is shared with you without permission for creating rows`,
    );
    const [row] = (await rows(bob)).rows;
    expect(
      await fails(bob, "tables_save_row", { table: tableId, row: row?.id, values: { Status: "Open" } }),
    ).toContain("without permission for changing rows");

    tables().share(tableId, claims(bob).sub ?? "", { read: true, create: true, update: true });
    const added = await ok<Saved>(bob, "tables_save_row", { table: tableId, values: { Name: "Bob's task" } });
    expect(added.row.createdBy).toBe(claims(bob).sub);
    expect(names(await rows(alice))).toEqual(["Write report", "Review", "Bob's task"]);
  });
});

describe("strict CORS mode (Nextcloud 30 and older, or a proxy that strips OCS-APIRequest)", () => {
  it("keeps the OCS parts working and refuses the API v1 row routes with the fix, changing nothing", async () => {
    scene.standin.setCorsMode("strict");
    try {
      expect((await ok<Listed>(alice, "tables_list")).tables.map((t) => t.title)).toEqual(["Tasks"]);
      expect((await ok<Schema>(alice, "tables_get_schema", { table: tableId })).columns).toHaveLength(5);
      const inserted = await ok<Saved>(alice, "tables_save_row", {
        table: tableId,
        values: { Name: "Via OCS" },
      });
      expect(inserted.row.values.Name).toBe("Via OCS");

      const read = await fails(alice, "tables_read_rows", { table: tableId });
      expect(read).toMatch(
        /^Tables offers reading rows only on its API v1, an app route this Nextcloud refuses/,
      );
      expect(read).toMatch(/single-sign-on tokens/);
      const change = await fails(alice, "tables_save_row", {
        table: tableId,
        row: inserted.row.id,
        values: { Status: "Done" },
      });
      expect(change).toMatch(/^Tables offers changing rows only on its API v1/);
      const del = await fails(alice, "tables_delete_row", { table: tableId, row: inserted.row.id });
      expect(del).toMatch(/^Tables offers deleting rows only on its API v1/);
    } finally {
      scene.standin.setCorsMode("honour-header");
    }
    // The refusal is remembered: until the recheck interval has passed, row reads are not sent.
    scene.standin.resetRequests();
    expect(await fails(alice, "tables_read_rows", { table: tableId })).toMatch(
      /^Tables offers reading rows only on its API v1, an app route this Nextcloud refuses/,
    );
    expect(scene.standin.requests().filter((q) => q.rawPath.includes("/apps/tables/api/1/"))).toEqual([]);
    now += ROUTE_RECHECK_MS;
    const after = await rows(alice);
    expect(after.rows.find((r) => r.values.Name === "Via OCS")?.values.Status).toBeNull();
  });
});
