// The state of the stand-in's Tables app: tables owned per user, their columns, rows, views and shares
// to other users with permissions, formatted as Tables serialises them (lib/Db/Table.php, Column.php,
// Row2.php of nextcloud/tables) and values parsed per column type as its ColumnTypes/*Business
// classes do: a value Tables cannot parse is stored as null, without an error.

/** The five share permissions of Tables (`onSharePermissions`). */
export interface TablePermissions {
  read: boolean;
  create: boolean;
  update: boolean;
  delete: boolean;
  manage: boolean;
}

const ALL: TablePermissions = { read: true, create: true, update: true, delete: true, manage: true };

interface StoredTable {
  id: number;
  title: string;
  emoji: string | null;
  description: string;
  owner: string;
  ownerDisplayName: string;
  createdAt: string;
  lastEditBy: string;
  lastEditAt: string;
}

/** A column as Tables stores it; `selectionOptions` is the parsed list. */
export interface StoredColumn {
  id: number;
  tableId: number;
  title: string;
  type: "text" | "number" | "selection" | "datetime" | "usergroup";
  subtype: string;
  mandatory: boolean;
  description: string;
  createdBy: string;
  createdAt: string;
  numberMin: number | null;
  numberMax: number | null;
  numberDecimals: number | null;
  numberPrefix: string;
  numberSuffix: string;
  textMaxLength: number | null;
  selectionOptions: { id: number; label: string }[];
}

interface StoredRow {
  id: number;
  tableId: number;
  createdBy: string;
  createdAt: string;
  lastEditBy: string;
  lastEditAt: string;
  data: Map<number, unknown>;
}

interface StoredView {
  id: number;
  tableId: number;
  title: string;
  emoji: string | null;
  description: string;
  owner: string;
  columns: number[];
}

interface StoredShare {
  id: number;
  tableId: number;
  receiver: string;
  permissions: TablePermissions;
}

/** An error Tables answers with a status and `{ message }`. */
export class TablesFailure extends Error {
  readonly status: 400 | 403 | 404;

  constructor(status: 400 | 403 | 404, message: string) {
    super(message);
    this.status = status;
  }
}

/** "Y-m-d H:i:s", as Tables writes its timestamps. */
function stamp(): string {
  return new Date().toISOString().slice(0, 19).replace("T", " ");
}

const POSITIVE: unknown[] = ["yes", "1", true, 1, "true", "TRUE"];
const NEGATIVE: unknown[] = ["no", "0", false, 0, "false", "FALSE"];

/** A value as Tables would store it for the column; null where Tables cannot parse it. */
function parseValue(column: StoredColumn, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const kind = column.subtype === "" ? column.type : `${column.type}-${column.subtype}`;
  const optionIds = new Set(column.selectionOptions.map((o) => o.id));
  switch (kind) {
    case "number":
    case "number-stars":
    case "number-progress": {
      const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
      return Number.isFinite(n) ? n : null;
    }
    case "selection": {
      const id = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
      return typeof id === "number" && optionIds.has(id) ? id : null;
    }
    case "selection-multi": {
      if (!Array.isArray(value)) return null;
      return value
        .filter((v): v is number => typeof v === "number" && optionIds.has(v))
        .sort((a, b) => a - b);
    }
    case "selection-check":
      if (POSITIVE.includes(value)) return "true";
      return NEGATIVE.includes(value) ? "false" : null;
    case "datetime":
      return typeof value === "string" && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(value) ? value : null;
    case "datetime-date":
      return typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : null;
    case "datetime-time":
      return typeof value === "string" && /^\d{2}:\d{2}$/.test(value) ? value : null;
    case "usergroup":
      return Array.isArray(value) ? value : null;
    default:
      return typeof value === "string" ? value : null;
  }
}

/** One stand-in's Tables data. */
export class TablesStore {
  readonly #tables = new Map<number, StoredTable>();
  readonly #columns = new Map<number, StoredColumn>();
  readonly #rows = new Map<number, StoredRow>();
  readonly #views = new Map<number, StoredView>();
  readonly #shares: StoredShare[] = [];
  #next = 1;

  #id(): number {
    return this.#next++;
  }

  /** What `uid` may do with table `tableId`: everything as owner, the share's permissions, else nothing. */
  permissions(uid: string, tableId: number): TablePermissions | undefined {
    const table = this.#tables.get(tableId);
    if (table === undefined) return undefined;
    if (table.owner === uid) return ALL;
    return this.#shares.find((s) => s.tableId === tableId && s.receiver === uid)?.permissions;
  }

  /** The table if `uid` may read it; 404 otherwise (Tables does not reveal what one cannot access). */
  readable(uid: string, tableId: number): StoredTable {
    const table = this.#tables.get(tableId);
    if (table === undefined || this.permissions(uid, tableId)?.read !== true)
      throw new TablesFailure(404, "");
    return table;
  }

  /** Asserts `permission` on a table the user can read (404 when it cannot, 403 when it lacks the permission). */
  require(uid: string, tableId: number, permission: keyof TablePermissions): StoredTable {
    const table = this.readable(uid, tableId);
    if (this.permissions(uid, tableId)?.[permission] !== true) {
      throw new TablesFailure(
        403,
        `PermissionError: can not ${permission} on table with id ${String(tableId)}`,
      );
    }
    return table;
  }

  createTable(
    owner: { uid: string; displayName: string },
    fields: { title: string; emoji?: string | null; description?: string | null },
  ): StoredTable {
    const now = stamp();
    const table: StoredTable = {
      id: this.#id(),
      title: fields.title,
      emoji: fields.emoji ?? null,
      description: fields.description ?? "",
      owner: owner.uid,
      ownerDisplayName: owner.displayName,
      createdAt: now,
      lastEditBy: owner.uid,
      lastEditAt: now,
    };
    this.#tables.set(table.id, table);
    return table;
  }

  addColumn(
    uid: string,
    fields: Pick<StoredColumn, "tableId" | "title" | "type"> & Partial<StoredColumn>,
  ): StoredColumn {
    this.require(uid, fields.tableId, "manage");
    const column: StoredColumn = {
      subtype: "",
      mandatory: false,
      description: "",
      numberMin: null,
      numberMax: null,
      numberDecimals: null,
      numberPrefix: "",
      numberSuffix: "",
      textMaxLength: null,
      selectionOptions: [],
      ...fields,
      id: this.#id(),
      createdBy: uid,
      createdAt: stamp(),
    };
    this.#columns.set(column.id, column);
    return column;
  }

  addView(uid: string, tableId: number, title: string, columns?: number[]): StoredView {
    this.require(uid, tableId, "manage");
    const view: StoredView = {
      id: this.#id(),
      tableId,
      title,
      emoji: null,
      description: "",
      owner: uid,
      columns: columns ?? this.columnsOf(tableId).map((c) => c.id),
    };
    this.#views.set(view.id, view);
    return view;
  }

  share(tableId: number, receiver: string, permissions: Partial<TablePermissions>): void {
    const existing = this.#shares.findIndex((s) => s.tableId === tableId && s.receiver === receiver);
    if (existing >= 0) this.#shares.splice(existing, 1);
    this.#shares.push({
      id: this.#id(),
      tableId,
      receiver,
      permissions: { read: true, create: false, update: false, delete: false, manage: false, ...permissions },
    });
  }

  columnsOf(tableId: number): StoredColumn[] {
    return [...this.#columns.values()].filter((c) => c.tableId === tableId);
  }

  tablesOf(uid: string): StoredTable[] {
    return [...this.#tables.values()].filter((t) => this.permissions(uid, t.id)?.read === true);
  }

  rowsOf(tableId: number): StoredRow[] {
    return [...this.#rows.values()].filter((r) => r.tableId === tableId);
  }

  row(uid: string, rowId: number, permission: keyof TablePermissions): StoredRow {
    const row = this.#rows.get(rowId);
    if (row === undefined) throw new TablesFailure(404, `Row with id ${String(rowId)} was not found.`);
    this.require(uid, row.tableId, permission);
    return row;
  }

  /** Parses `{columnId: value}` against the table's columns (RowService::cleanupAndValidateData). */
  #cells(tableId: number, data: Record<string, unknown>, existing?: StoredRow): Map<number, unknown> {
    const columns = this.columnsOf(tableId);
    const out = new Map<number, unknown>(existing?.data ?? []);
    for (const [key, value] of Object.entries(data)) {
      const column = columns.find((c) => c.id === Number(key));
      if (column === undefined) {
        throw new TablesFailure(400, `Column with id ${key} is not part of table with id ${String(tableId)}`);
      }
      out.set(column.id, parseValue(column, value));
    }
    for (const column of columns) {
      const v = out.get(column.id);
      if (column.mandatory && (v === null || v === undefined || v === "")) {
        throw new TablesFailure(400, `Mandatory column "${column.title}" has no value.`);
      }
    }
    return out;
  }

  createRow(uid: string, tableId: number, data: Record<string, unknown>): StoredRow {
    this.require(uid, tableId, "create");
    const now = stamp();
    const row: StoredRow = {
      id: this.#id(),
      tableId,
      createdBy: uid,
      createdAt: now,
      lastEditBy: uid,
      lastEditAt: now,
      data: this.#cells(tableId, data),
    };
    this.#rows.set(row.id, row);
    return row;
  }

  updateRow(uid: string, rowId: number, data: Record<string, unknown>): StoredRow {
    const row = this.row(uid, rowId, "update");
    row.data = this.#cells(row.tableId, data, row);
    row.lastEditBy = uid;
    row.lastEditAt = stamp();
    return row;
  }

  deleteRow(uid: string, rowId: number): StoredRow {
    const row = this.row(uid, rowId, "delete");
    this.#rows.delete(rowId);
    return row;
  }

  /** A row as Row2::jsonSerialize writes it: `data` is a list of `{columnId, value}`. */
  formatRow(row: StoredRow): Record<string, unknown> {
    return {
      id: row.id,
      tableId: row.tableId,
      createdBy: row.createdBy,
      createdAt: row.createdAt,
      lastEditBy: row.lastEditBy,
      lastEditAt: row.lastEditAt,
      data: [...row.data]
        .filter(([, value]) => value !== null)
        .map(([columnId, value]) => ({ columnId, value })),
    };
  }

  formatColumn(c: StoredColumn): Record<string, unknown> {
    return {
      id: c.id,
      tableId: c.tableId,
      title: c.title,
      createdBy: c.createdBy,
      createdAt: c.createdAt,
      lastEditBy: c.createdBy,
      lastEditAt: c.createdAt,
      type: c.type,
      subtype: c.subtype,
      mandatory: c.mandatory,
      description: c.description,
      orderWeight: 0,
      numberDefault: 0,
      numberMin: c.numberMin ?? 0,
      numberMax: c.numberMax ?? 0,
      numberDecimals: c.numberDecimals ?? 0,
      numberPrefix: c.numberPrefix,
      numberSuffix: c.numberSuffix,
      textDefault: "",
      textAllowedPattern: "",
      textMaxLength: c.textMaxLength ?? 0,
      // Column::jsonSerialize sends the parsed options (the spec of Tables 0.9.9 says string).
      selectionOptions: c.selectionOptions,
      selectionDefault: "",
      datetimeDefault: "",
      usergroupDefault: "",
      usergroupMultipleItems: false,
      usergroupSelectUsers: true,
      usergroupSelectGroups: false,
      usergroupSelectTeams: false,
      showUserStatus: false,
    };
  }

  #formatView(uid: string, v: StoredView): Record<string, unknown> {
    const table = this.#tables.get(v.tableId);
    const perms = this.permissions(uid, v.tableId);
    const shared = table?.owner !== uid;
    return {
      id: v.id,
      title: v.title,
      emoji: v.emoji,
      tableId: v.tableId,
      ownership: v.owner,
      ownerDisplayName: table?.ownerDisplayName ?? v.owner,
      createdBy: v.owner,
      createdAt: table?.createdAt ?? stamp(),
      lastEditBy: v.owner,
      lastEditAt: table?.lastEditAt ?? stamp(),
      description: v.description,
      columns: v.columns,
      columnSettings: v.columns.map((columnId, order) => ({ columnId, order })),
      sort: [],
      filter: [],
      isShared: shared,
      favorite: false,
      onSharePermissions: shared ? (perms ?? null) : null,
      hasShares: false,
      rowsCount: this.rowsOf(v.tableId).length,
    };
  }

  /** A table as `uid` sees it (Table::jsonSerialize). */
  formatTable(uid: string, t: StoredTable): Record<string, unknown> {
    const shared = t.owner !== uid;
    return {
      id: t.id,
      title: t.title,
      emoji: t.emoji,
      ownership: t.owner,
      ownerDisplayName: t.ownerDisplayName,
      createdBy: t.owner,
      createdAt: t.createdAt,
      lastEditBy: t.lastEditBy,
      lastEditAt: t.lastEditAt,
      archived: false,
      favorite: false,
      isShared: shared,
      onSharePermissions: shared ? (this.permissions(uid, t.id) ?? null) : null,
      hasShares: this.#shares.some((s) => s.tableId === t.id),
      rowsCount: this.rowsOf(t.id).length,
      columnsCount: this.columnsOf(t.id).length,
      description: t.description,
      views: [...this.#views.values()].filter((v) => v.tableId === t.id).map((v) => this.#formatView(uid, v)),
    };
  }
}
