// The stand-in's Tables app against the Tables OpenAPI spec (test/fixtures/nextcloud-openapi), with
// real Keycloak tokens: OCS API v2 answers in the spec's shapes, the API v1 row routes are #[CORS]
// (served with OCS-APIRequest in the default mode, refused without it and in strict mode), and a
// user reads another's table only once it is shared (404 before; 403 for what the share lacks).
//
// Two places where Tables itself (0.9.9 and later; lib/Db/Column.php, lib/Db/Row2.php) sends
// something other than its generated spec says, and the stand-in follows Tables: `Column.selectionOptions`
// is a list of `{id, label}` (spec: string) and `Row.data` is a list of `{columnId, value}` (spec: one
// object). The checks below validate everything else and assert those two shapes directly.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import type { StandinTables } from "../../standin/apps/tables.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { contractValidators, nextcloudTokens, type UserTokens } from "./support.ts";

const V2 = "/ocs/v2.php/apps/tables/api/2";
const V1 = "/index.php/apps/tables/api/1";
let alice: UserTokens;
let bob: UserTokens;
let nc: NextcloudStandin;
const { validate, component } = contractValidators();

beforeAll(async () => {
  const browser: Browser = await launchBrowser();
  try {
    alice = await nextcloudTokens(browser, DEMO_USERS.alice);
    bob = await nextcloudTokens(browser, DEMO_USERS.bob);
  } finally {
    await browser.close();
  }
  nc = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
});
afterAll(async () => {
  await nc.stop();
});

async function call(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { "OCS-APIRequest": "true" },
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${nc.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}
const data = (r: { body: unknown }) => (r.body as { ocs: { data: Record<string, unknown> } }).ocs.data;

describe("the Tables OCS API v2 and API v1 rows", () => {
  let tableId = 0;
  let statusId = 0;
  let rowId = 0;

  it("advertises the tables capability in its schema", async () => {
    const caps = data(await call(alice.nextcloud, "GET", "/ocs/v2.php/cloud/capabilities"))
      .capabilities as Record<string, unknown>;
    expect(component("tables", "Capabilities", { tables: caps.tables })).toEqual([]);
    expect(caps.tables).toMatchObject({ enabled: true, apiVersions: ["1.0", "2.0", "2.1"] });
  });

  it("creates a table and columns, lists them, and inserts a row, in the spec's shapes", async () => {
    const created = await call(alice.nextcloud, "POST", `${V2}/tables`, { title: "Inventory", emoji: "📦" });
    expect(validate("tables", `${V2}/tables`, "post", 200, created.body)).toEqual([]);
    tableId = data(created).id as number;

    const column = await call(alice.nextcloud, "POST", `${V2}/columns/selection`, {
      baseNodeId: tableId,
      title: "Status",
      mandatory: false,
      selectionOptions: JSON.stringify([
        { id: 1, label: "In stock" },
        { id: 2, label: "Sold out" },
      ]),
    });
    const { selectionOptions, ...rest } = data(column);
    expect(selectionOptions).toEqual([
      { id: 1, label: "In stock" },
      { id: 2, label: "Sold out" },
    ]);
    expect(component("tables", "Column", { ...rest, selectionOptions: "" })).toEqual([]);
    statusId = rest.id as number;

    const list = await call(alice.nextcloud, "GET", `${V2}/tables`);
    expect(validate("tables", `${V2}/tables`, "get", 200, list.body)).toEqual([]);
    const columns = await call(alice.nextcloud, "GET", `${V2}/columns/table/${String(tableId)}`);
    expect((data(columns) as unknown as { title: string }[]).map((c) => c.title)).toEqual(["Status"]);

    const row = await call(alice.nextcloud, "POST", `${V2}/tables/${String(tableId)}/rows`, {
      data: { [String(statusId)]: 2 },
    });
    const { data: cells, ...meta } = data(row);
    expect(cells).toEqual([{ columnId: statusId, value: 2 }]);
    expect(component("tables", "Row", { ...meta, data: null })).toEqual([]);
    rowId = meta.id as number;
    // A value Tables cannot parse is stored empty, without an error (why the gateway checks values).
    const bad = await call(alice.nextcloud, "POST", `${V2}/tables/${String(tableId)}/rows`, {
      data: { [String(statusId)]: 7 },
    });
    expect(data(bad).data).toEqual([]);
  });

  it("serves the #[CORS] v1 row routes with OCS-APIRequest, refuses them without it and in strict mode", async () => {
    const rows = `${V1}/tables/${String(tableId)}/rows?limit=1&offset=0`;
    const ok = await call(alice.nextcloud, "GET", rows);
    expect(ok.status).toBe(200);
    expect((ok.body as { id: number }[]).map((r) => r.id)).toEqual([rowId]);
    const refused = { status: 401, body: { message: "CORS requires basic auth" } };
    expect(await call(alice.nextcloud, "GET", rows, undefined, {})).toEqual(refused);
    nc.setCorsMode("strict");
    try {
      expect(await call(alice.nextcloud, "GET", rows)).toEqual(refused);
      expect(await call(alice.nextcloud, "PUT", `${V1}/rows/${String(rowId)}`, { data: {} })).toEqual(
        refused,
      );
      // OCS is never CORS-refused.
      expect((await call(alice.nextcloud, "GET", `${V2}/tables`)).status).toBe(200);
    } finally {
      nc.setCorsMode("honour-header");
    }
    const changed = await call(alice.nextcloud, "PUT", `${V1}/rows/${String(rowId)}`, {
      data: { [String(statusId)]: 1 },
    });
    expect((changed.body as { data: unknown }).data).toEqual([{ columnId: statusId, value: 1 }]);
  });

  it("hides alice's table from bob (404) until shared, then allows only what the share grants (403)", async () => {
    const bobUid = claims(bob.nextcloud).sub ?? "";
    expect(data(await call(bob.nextcloud, "GET", `${V2}/tables`))).toEqual([]);
    expect((await call(bob.nextcloud, "GET", `${V2}/tables/${String(tableId)}`)).status).toBe(404);
    expect((await call(bob.nextcloud, "GET", `${V1}/tables/${String(tableId)}/rows`)).status).toBe(404);
    expect((await call(bob.nextcloud, "DELETE", `${V1}/rows/${String(rowId)}`)).status).toBe(404);

    nc.app<StandinTables>("tables").share(tableId, bobUid, { read: true });
    const shared = await call(bob.nextcloud, "GET", `${V2}/tables/${String(tableId)}`);
    expect(data(shared)).toMatchObject({
      isShared: true,
      onSharePermissions: { read: true, create: false, update: false, delete: false, manage: false },
    });
    expect(validate("tables", `${V2}/tables/{id}`, "get", 200, shared.body)).toEqual([]);
    expect((await call(bob.nextcloud, "GET", `${V1}/tables/${String(tableId)}/rows`)).status).toBe(200);
    expect((await call(bob.nextcloud, "DELETE", `${V1}/rows/${String(rowId)}`)).status).toBe(403);
    const insert = await call(bob.nextcloud, "POST", `${V2}/tables/${String(tableId)}/rows`, { data: {} });
    expect(insert.status).toBe(403);
    expect(validate("tables", `${V2}/{nodeCollection}/{nodeId}/rows`, "post", 403, insert.body)).toEqual([]);
  });
});
