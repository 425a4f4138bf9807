// The Tables API: OCS API v2 (`/ocs/v2.php/apps/tables/api/2/`) for tables, columns and creating rows,
// which no CORS rule refuses; API v1 (`/index.php/apps/tables/api/1/`, plain JSON) only for what v2
// lacks: reading, changing and deleting rows. The v1 routes are `#[CORS]`, so a Nextcloud that refuses
// bearer tokens there answers them with NextcloudError kind "bearer_refused".
import { NextcloudError, send, type NextcloudClient } from "../../nextcloud/index.ts";

const V2 = "apps/tables/api/2";
const V1 = "/index.php/apps/tables/api/1";

/** The share permissions of a table shared with the user. */
export interface ApiPermissions {
  read: boolean;
  create: boolean;
  update: boolean;
  delete: boolean;
  manage: boolean;
}

/** A view (lib/Db/View.php), the fields the gateway uses. */
export interface ApiView {
  id: number;
  title: string;
  emoji: string | null;
  tableId: number;
  description?: string | null;
  rowsCount?: number;
}

/** A table (lib/Db/Table.php), the fields the gateway uses. */
export interface ApiTable {
  id: number;
  title: string;
  emoji: string | null;
  description?: string;
  ownership: string;
  ownerDisplayName: string;
  isShared: boolean;
  onSharePermissions: ApiPermissions | null;
  archived: boolean;
  rowsCount: number;
  columnsCount: number;
  lastEditAt: string;
  views?: ApiView[];
}

/** A column (lib/Db/Column.php); `selectionOptions` is a list, or its JSON string in older versions. */
export interface ApiColumn {
  id: number;
  title: string;
  tableId: number;
  type: string;
  subtype: string;
  mandatory?: boolean;
  description?: string;
  numberMin?: number | null;
  numberMax?: number | null;
  textMaxLength?: number | null;
  selectionOptions?: string | { id: number | string; label: string }[] | null;
}

/** A row (lib/Db/Row2.php): `data` is a list of cells. */
export interface ApiRow {
  id: number;
  tableId: number;
  createdBy: string;
  createdAt: string;
  lastEditBy: string;
  lastEditAt: string;
  data: { columnId: number; value: unknown }[] | null;
}

/** What a new column needs: the OCS route's type and its parameters. */
export interface NewColumn {
  route: "text" | "number" | "selection" | "datetime" | "usergroup";
  params: Record<string, unknown>;
}

function asList<T>(value: unknown, what: string): T[] {
  if (!Array.isArray(value))
    throw new NextcloudError("bad_response", `Tables answered ${what} without a list.`);
  return value as T[];
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it expects
function asObject<T>(value: unknown, what: string): T {
  if (typeof value !== "object" || value === null || typeof (value as { id?: unknown }).id !== "number")
    throw new NextcloudError("bad_response", `Tables answered ${what} without the object.`);
  return value as T;
}

/** The user's tables (own and shared), with their views. */
export async function listTables(nc: NextcloudClient, signal?: AbortSignal): Promise<ApiTable[]> {
  const what = "your tables";
  return asList<ApiTable>(await nc.ocs("GET", `${V2}/tables`, { what, ...(signal ? { signal } : {}) }), what);
}

/** One table. */
export async function getTable(nc: NextcloudClient, id: number, signal?: AbortSignal): Promise<ApiTable> {
  const what = `table ${String(id)}`;
  return asObject(
    await nc.ocs("GET", `${V2}/tables/${String(id)}`, { what, ...(signal ? { signal } : {}) }),
    what,
  );
}

/** The columns of a table. */
export async function listColumns(
  nc: NextcloudClient,
  tableId: number,
  signal?: AbortSignal,
): Promise<ApiColumn[]> {
  const what = `the columns of table ${String(tableId)}`;
  return asList<ApiColumn>(
    await nc.ocs("GET", `${V2}/columns/table/${String(tableId)}`, { what, ...(signal ? { signal } : {}) }),
    what,
  );
}

/** Creates a table (template "custom": no columns). */
export async function createTable(
  nc: NextcloudClient,
  fields: { title: string; emoji?: string; description?: string },
  signal?: AbortSignal,
): Promise<ApiTable> {
  const what = `the new table "${fields.title}"`;
  return asObject(
    await nc.ocs("POST", `${V2}/tables`, {
      what,
      body: { ...fields, template: "custom" },
      ...(signal ? { signal } : {}),
    }),
    what,
  );
}

/** Adds a column to a table. */
export async function createColumn(
  nc: NextcloudClient,
  tableId: number,
  column: NewColumn,
  signal?: AbortSignal,
): Promise<ApiColumn> {
  const what = `a column of table ${String(tableId)}`;
  return asObject(
    await nc.ocs("POST", `${V2}/columns/${column.route}`, {
      what,
      body: { baseNodeId: tableId, baseNodeType: "table", ...column.params },
      ...(signal ? { signal } : {}),
    }),
    what,
  );
}

/** Inserts a row (`data` keyed by column id) through the OCS API. */
export async function createRow(
  nc: NextcloudClient,
  tableId: number,
  data: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<ApiRow> {
  const what = `a new row of table ${String(tableId)}`;
  return asObject(
    await nc.ocs("POST", `${V2}/tables/${String(tableId)}/rows`, {
      what,
      body: { data },
      ...(signal ? { signal } : {}),
    }),
    what,
  );
}

async function v1(
  nc: NextcloudClient,
  method: "GET" | "PUT" | "DELETE",
  path: string,
  what: string,
  o: { body?: unknown; signal?: AbortSignal | undefined } = {},
): Promise<unknown> {
  const res = await send(nc.options, {
    method,
    path: `${V1}${path}`,
    what,
    headers: {
      Accept: "application/json",
      ...(o.body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
    ...(o.signal ? { signal: o.signal } : {}),
    // API v1 routes are #[CORS]: not sent while this instance's refusal is fresh.
    routeClass: "cors-app-route",
  });
  try {
    return res.json();
  } catch (err) {
    throw new NextcloudError("bad_response", `Tables answered ${what} with something that is not JSON.`, {
      cause: err,
    });
  }
}

/** One page of a table's rows, oldest first (API v1). */
export async function listRows(
  nc: NextcloudClient,
  tableId: number,
  page: { limit: number; offset: number },
  signal?: AbortSignal,
): Promise<ApiRow[]> {
  const what = `the rows of table ${String(tableId)}`;
  const q = `?limit=${String(page.limit)}&offset=${String(page.offset)}`;
  return asList<ApiRow>(await v1(nc, "GET", `/tables/${String(tableId)}/rows${q}`, what, { signal }), what);
}

/** One row (API v1). */
export async function getRow(nc: NextcloudClient, rowId: number, signal?: AbortSignal): Promise<ApiRow> {
  const what = `row ${String(rowId)}`;
  return asObject(await v1(nc, "GET", `/rows/${String(rowId)}`, what, { signal }), what);
}

/** Sets some cells of a row (`data` keyed by column id; API v1). */
export async function updateRow(
  nc: NextcloudClient,
  rowId: number,
  data: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<ApiRow> {
  const what = `row ${String(rowId)}`;
  return asObject(await v1(nc, "PUT", `/rows/${String(rowId)}`, what, { body: { data }, signal }), what);
}

/** Deletes a row (API v1); Tables answers with the deleted row. */
export async function deleteRow(nc: NextcloudClient, rowId: number, signal?: AbortSignal): Promise<ApiRow> {
  const what = `row ${String(rowId)}`;
  return asObject(await v1(nc, "DELETE", `/rows/${String(rowId)}`, what, { signal }), what);
}
