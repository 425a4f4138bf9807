// The stand-in's Tables app (nextcloud/tables 0.9.9 on Nextcloud 31): the OCS API v2 (tables, columns,
// creating rows; never CORS-refused) and the API v1 row routes, which are `#[CORS]` in
// lib/Controller/Api1Controller.php and so go through the CORS rule. Tables are owned per user and
// shared to other users with permissions; a user who cannot read a table gets 404 (the permission
// middleware does not reveal it), one who can read but lacks a permission gets 403.
import type { IncomingMessage } from "node:http";
import { sendOcs } from "../ocs.ts";
import { readBody, sendJson } from "../respond.ts";
import type { AppRequest, AppRoute, OcsRequest, OcsRoute, StandinApp, StandinAppFactory } from "./types.ts";
import { TablesFailure, TablesStore, type StoredColumn, type TablePermissions } from "./tables-store.ts";

export type { TablePermissions };

/** The Tables app of one stand-in, with helpers for tests. */
export interface StandinTables extends StandinApp {
  readonly store: TablesStore;
  /** Shares table `tableId` with `receiver` (read only unless `permissions` say more), as its owner would. */
  share(tableId: number, receiver: string, permissions?: Partial<TablePermissions>): void;
  /** Adds a view of the table showing `columns` (all by default). */
  addView(uid: string, tableId: number, title: string, columns?: number[]): number;
}

const V2 = "apps\\/tables\\/api\\/2";
const V1 = "\\/apps\\/tables\\/api\\/1";

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req)).toString("utf8");
  if (text.trim() === "") return {};
  const value = JSON.parse(text) as unknown;
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

/** `data` as the controllers accept it: an object `{columnId: value}` or its JSON string. */
function rowData(body: Record<string, unknown>): Record<string, unknown> {
  let data = body.data;
  if (typeof data === "string") data = JSON.parse(data) as unknown;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new TablesFailure(400, "Cannot create row: data input is invalid.");
  }
  return data as Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | null => (typeof v === "number" ? v : null);

/** The `selectionOptions` parameter: a JSON string of `[{id, label}]`. */
function options(v: unknown): StoredColumn["selectionOptions"] {
  const list = typeof v === "string" ? (JSON.parse(v) as unknown) : v;
  if (!Array.isArray(list)) throw new TablesFailure(400, "selectionOptions must be a JSON list.");
  return list.map((o: { id?: unknown; label?: unknown }) => ({ id: Number(o.id), label: String(o.label) }));
}

/** Runs a handler; a TablesFailure becomes Tables' `{ message }` answer, OCS-wrapped or plain. */
async function answering(
  send: (status: number, body: unknown) => void,
  handle: () => unknown,
): Promise<void> {
  try {
    send(200, await handle());
  } catch (err) {
    if (err instanceof TablesFailure) send(err.status, { message: err.message });
    else if (err instanceof SyntaxError) send(400, { message: "The request body is not JSON." });
    else throw err;
  }
}

function ocs(pattern: RegExp, handle: (r: OcsRequest) => unknown): OcsRoute {
  return {
    pattern,
    handle: (r) =>
      answering(
        (status, body) => {
          sendOcs(r.req, r.res, r.url, r.version, status, body);
        },
        () => handle(r),
      ),
  };
}

function v1(pattern: RegExp, handle: (r: AppRequest) => unknown): AppRoute {
  return {
    pattern,
    // Every method of Api1Controller is #[CORS].
    cors: true,
    handle: (r) =>
      answering(
        (status, body) => {
          sendJson(r.res, status, body);
        },
        () => handle(r),
      ),
  };
}

function notAllowed(): never {
  throw new TablesFailure(404, "");
}

/** Builds the Tables app of one stand-in. */
export const tablesApp: StandinAppFactory = () => {
  const store = new TablesStore();
  const idOf = (m: RegExpExecArray, i = 1) => Number(m[i]);

  const ocsRoutes: OcsRoute[] = [
    ocs(new RegExp(`^${V2}/tables$`), async ({ req, user }) => {
      if (req.method === "GET") return store.tablesOf(user.uid).map((t) => store.formatTable(user.uid, t));
      if (req.method !== "POST") return notAllowed();
      const body = await jsonBody(req);
      const title = str(body.title)?.trim() ?? "";
      if (title === "") throw new TablesFailure(400, "A table needs a title.");
      const table = store.createTable(user, {
        title,
        emoji: str(body.emoji) ?? null,
        description: str(body.description) ?? null,
      });
      return store.formatTable(user.uid, table);
    }),
    ocs(new RegExp(`^${V2}/tables/(\\d+)$`), ({ req, user, match }) => {
      if (req.method !== "GET") return notAllowed();
      return store.formatTable(user.uid, store.readable(user.uid, idOf(match)));
    }),
    ocs(new RegExp(`^${V2}/columns/(table|view)/(\\d+)$`), ({ req, user, match }) => {
      if (req.method !== "GET" || match[1] !== "table") return notAllowed();
      const table = store.readable(user.uid, idOf(match, 2));
      return store.columnsOf(table.id).map((c) => store.formatColumn(c));
    }),
    ocs(
      new RegExp(`^${V2}/columns/(number|text|selection|datetime|usergroup)$`),
      async ({ req, user, match }) => {
        if (req.method !== "POST") return notAllowed();
        const body = await jsonBody(req);
        const title = str(body.title)?.trim() ?? "";
        if (title === "") throw new TablesFailure(400, "A column needs a title.");
        const type = match[1] as StoredColumn["type"];
        const column = store.addColumn(user.uid, {
          tableId: Number(body.baseNodeId),
          title,
          type,
          subtype: str(body.subtype) ?? "",
          mandatory: body.mandatory === true,
          description: str(body.description) ?? "",
          numberMin: num(body.numberMin),
          numberMax: num(body.numberMax),
          numberDecimals: num(body.numberDecimals),
          numberPrefix: str(body.numberPrefix) ?? "",
          numberSuffix: str(body.numberSuffix) ?? "",
          textMaxLength: num(body.textMaxLength),
          selectionOptions: type === "selection" ? options(body.selectionOptions) : [],
        });
        return store.formatColumn(column);
      },
    ),
    ocs(new RegExp(`^${V2}/(tables|views)/(\\d+)/rows$`), async ({ req, user, match }) => {
      if (req.method !== "POST" || match[1] !== "tables") return notAllowed();
      const row = store.createRow(user.uid, idOf(match, 2), rowData(await jsonBody(req)));
      return store.formatRow(row);
    }),
  ];

  const appRoutes: AppRoute[] = [
    v1(new RegExp(`^${V1}/tables/(\\d+)/rows$`), async ({ req, url, user, match }) => {
      const tableId = idOf(match);
      if (req.method === "POST") {
        return store.formatRow(store.createRow(user.uid, tableId, rowData(await jsonBody(req))));
      }
      if (req.method !== "GET") return notAllowed();
      store.readable(user.uid, tableId);
      const offset = Math.max(0, Number(url.searchParams.get("offset") ?? 0) || 0);
      const limitParam = url.searchParams.get("limit");
      const rows = store.rowsOf(tableId).sort((a, b) => a.id - b.id);
      const page = limitParam === null ? rows.slice(offset) : rows.slice(offset, offset + Number(limitParam));
      return page.map((r) => store.formatRow(r));
    }),
    v1(new RegExp(`^${V1}/rows/(\\d+)$`), async ({ req, user, match }) => {
      const rowId = idOf(match);
      if (req.method === "GET") return store.formatRow(store.row(user.uid, rowId, "read"));
      if (req.method === "PUT")
        return store.formatRow(store.updateRow(user.uid, rowId, rowData(await jsonBody(req))));
      if (req.method === "DELETE") return store.formatRow(store.deleteRow(user.uid, rowId));
      return notAllowed();
    }),
  ];

  return {
    id: "tables",
    store,
    capabilities: () => ({
      tables: {
        enabled: true,
        version: "0.9.9",
        apiVersions: ["1.0", "2.0", "2.1"],
        features: ["favorite", "archive"],
        isCirclesEnabled: false,
        column_types: [
          "text-line",
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
        ],
      },
    }),
    ocsRoutes,
    appRoutes,
    share(tableId, receiver, permissions = {}) {
      store.share(tableId, receiver, permissions);
    },
    addView(uid, tableId, title, columns) {
      return store.addView(uid, tableId, title, columns).id;
    },
  } satisfies StandinTables;
};
