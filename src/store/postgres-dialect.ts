// kysely on postgres.js 3.4.x using only the path of postgres.js that survives a connection dying.
//
// In postgres.js 3.4.9 (and 3.4.10) a connection that dies while it is reserve()d (kysely-postgres-js
// reserves one for every query) goes back among the open connections when it is released, and one
// that dies inside sql.begin() gets the ROLLBACK written to it: either way the next write runs
// `socket.write` on a null socket from a setImmediate, an uncaught TypeError that ends the process
// (porsager/postgres#1208, #1154; reproduced by test/integration/store/postgres-reconnect.test.ts).
// A plain query on the pool does not: a closed connection moves to the closed queue and connects
// again for the next query. So the store is a set of "lanes", each a postgres.js client of ONE
// connection used only through plain queries: kysely acquires a lane for a query or a transaction
// (BEGIN … COMMIT as plain queries, which postgres.js allows with max 1), and gives it back after.
//
// A lane whose connection closes during a transaction or session would silently connect again and
// run the next statement outside it; each lane counts its closes (postgres.js's `onclose`), and a
// statement after a close in the same transaction or session is refused instead. And a 3.4.9 client
// whose connection failed keeps the failed statement as its current one, so the first statement
// after it can hang for good (seen: a ROLLBACK after ECONNRESET); a lane whose statement failed for a
// reason other than SQL (no SQLSTATE, or connection classes 08, 57, XX) is replaced by a fresh
// client when it is given back, and refuses further statements of its transaction meanwhile.
import {
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import { performance } from "node:perf_hooks";
import postgres from "postgres";

/** Opens a postgres.js client of one connection that calls `onclose` whenever that connection closes. */
export type OpenLane = (onclose: () => void) => postgres.Sql;

/** Whether an error of a statement means its connection is gone or unusable (not an SQL error). */
function breaksConnection(err: unknown): boolean {
  if (!(err instanceof postgres.PostgresError)) return true;
  const code = err.code;
  return code.startsWith("08") || code.startsWith("57") || code.startsWith("XX");
}

/** One connection: a postgres.js client with `max: 1`, replaced when its connection failed. */
export class Lane {
  readonly #open: OpenLane;
  #sql: postgres.Sql;
  /** Counts closes and replacements: a transaction is valid only while it stays the same. */
  #generation = 0;
  #broken = false;

  constructor(open: OpenLane) {
    this.#open = open;
    this.#sql = this.#connect();
  }

  #connect(): postgres.Sql {
    const sql = this.#open(() => {
      // A close of a client already replaced is of no interest.
      if (sql === this.#sql) {
        this.#generation++;
        this.#broken = true;
      }
    });
    return sql;
  }

  get generation(): number {
    return this.#generation;
  }

  /** A plain query; with `since`, refused once the connection failed after that generation. */
  async run(
    text: string,
    params: readonly unknown[],
    since?: number,
  ): Promise<postgres.RowList<postgres.Row[]>> {
    if (since !== undefined && (this.#generation !== since || this.#broken)) throw lostConnection();
    try {
      // postgres.js types parameters narrowly; these are plain SQL parameters.
      return await this.#sql.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
    } catch (err) {
      if (breaksConnection(err)) this.#broken = true;
      throw err;
    }
  }

  /** Several statements without parameters (simple protocol); `since` as for {@link run}. */
  async exec(statements: string, since?: number): Promise<void> {
    if (since !== undefined && (this.#generation !== since || this.#broken)) throw lostConnection();
    try {
      await this.#sql.unsafe(statements).simple();
    } catch (err) {
      if (breaksConnection(err)) this.#broken = true;
      throw err;
    }
  }

  /** True when the connection failed since `since` (or at all), so nothing of a transaction is left. */
  lostSince(since: number): boolean {
    return this.#generation !== since || this.#broken;
  }

  /** After use: a lane whose connection failed gets a fresh client; the old one is ended. */
  renewIfBroken(): void {
    if (!this.#broken) return;
    const old = this.#sql;
    this.#broken = false;
    this.#generation++;
    this.#sql = this.#connect();
    old.end({ timeout: 0 }).catch(() => undefined);
  }

  end(timeoutS: number): Promise<void> {
    return this.#sql.end({ timeout: timeoutS });
  }
}

function lostConnection(): Error {
  return new Error(
    "the connection to PostgreSQL was lost during the transaction; PostgreSQL rolled it back and nothing of it was stored",
  );
}

/**
 * What the pool did since the process started, and what it holds now (for /metrics): a caller who
 * found every lane busy waited, in order of asking, until one was given back.
 */
export interface PoolStats {
  /** Lanes (connections) in the pool. */
  readonly size: number;
  /** Lanes handed out now. */
  readonly inUse: number;
  /** Callers waiting for a lane now. */
  readonly waiting: number;
  /** Lanes handed out in all (a query, or a transaction with all its statements). */
  readonly acquisitions: number;
  /** Of those, how many had to wait because every lane was in use. */
  readonly waits: number;
  /** Milliseconds waited in all, by the waits that ended. */
  readonly waitMsTotal: number;
  /** The longest wait that ended, in milliseconds. */
  readonly waitMsMax: number;
}

/** `max` lanes, handed out one caller at a time in order of asking. */
export class Lanes {
  readonly #free: Lane[];
  readonly #all: Lane[];
  readonly #waiting: ((lane: Lane) => void)[] = [];
  readonly #now: () => number;
  #acquisitions = 0;
  #waits = 0;
  #waitMsTotal = 0;
  #waitMsMax = 0;

  /** `now`: a monotonic clock in milliseconds (tests pin it). */
  constructor(max: number, open: OpenLane, options: { now?: () => number } = {}) {
    this.#all = Array.from({ length: Math.max(1, max) }, () => new Lane(open));
    this.#free = [...this.#all];
    this.#now = options.now ?? (() => performance.now());
  }

  acquire(): Promise<Lane> {
    this.#acquisitions++;
    const lane = this.#free.pop();
    if (lane !== undefined) return Promise.resolve(lane);
    this.#waits++;
    const since = this.#now();
    return new Promise((resolve) =>
      this.#waiting.push((given) => {
        const waited = this.#now() - since;
        this.#waitMsTotal += waited;
        this.#waitMsMax = Math.max(this.#waitMsMax, waited);
        resolve(given);
      }),
    );
  }

  release(lane: Lane): void {
    lane.renewIfBroken();
    const next = this.#waiting.shift();
    if (next) next(lane);
    else this.#free.push(lane);
  }

  /** The counters and the current state; see {@link PoolStats}. */
  stats(): PoolStats {
    return {
      size: this.#all.length,
      inUse: this.#all.length - this.#free.length,
      waiting: this.#waiting.length,
      acquisitions: this.#acquisitions,
      waits: this.#waits,
      waitMsTotal: this.#waitMsTotal,
      waitMsMax: this.#waitMsMax,
    };
  }

  /** Ends every lane's connection; waits at most `timeoutS` for queries in flight. */
  async end(timeoutS: number): Promise<void> {
    await Promise.all(this.#all.map((l) => l.end(timeoutS)));
  }
}

class LaneConnection implements DatabaseConnection {
  readonly lane: Lane;
  /** The lane's close count when the open transaction began. */
  since: number | undefined;

  constructor(lane: Lane) {
    this.lane = lane;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.lane.run(compiled.sql, compiled.parameters, this.since);
    const { command, count } = result;
    return {
      numAffectedRows:
        command === "INSERT" || command === "UPDATE" || command === "DELETE" || command === "MERGE"
          ? BigInt(count)
          : undefined,
      rows: [...result] as R[],
    };
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming queries are not offered by the gateway's PostgreSQL store");
  }
}

function ownConnection(connection: DatabaseConnection): LaneConnection {
  if (!(connection instanceof LaneConnection)) throw new Error("not a connection of the lanes driver");
  return connection;
}

class LanesDriver implements Driver {
  readonly #lanes: Lanes;

  constructor(lanes: Lanes) {
    this.#lanes = lanes;
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new LaneConnection(await this.#lanes.acquire());
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = ownConnection(connection);
    const mode = [
      settings.isolationLevel === undefined ? "" : ` isolation level ${settings.isolationLevel}`,
      settings.accessMode === undefined ? "" : ` ${settings.accessMode}`,
    ].join("");
    await c.lane.run(`begin${mode}`, []);
    // Counted once BEGIN was answered: a close from now on ends this transaction at PostgreSQL.
    c.since = c.lane.generation;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = ownConnection(connection);
    const since = c.since;
    c.since = undefined;
    await c.lane.run("commit", [], since);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const c = ownConnection(connection);
    const since = c.since;
    c.since = undefined;
    // A failed connection's transaction is rolled back by PostgreSQL; a new one has none to roll back.
    if (since !== undefined && c.lane.lostSince(since)) return;
    await c.lane.run("rollback", []);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    const c = ownConnection(connection);
    c.since = undefined;
    this.#lanes.release(c.lane);
    return Promise.resolve();
  }

  // The store ends the lanes itself (with a timeout) after kysely is destroyed.
  destroy(): Promise<void> {
    return Promise.resolve();
  }
}

/** kysely's PostgreSQL dialect on lanes of postgres.js (see the header). */
export function lanesDialect(lanes: Lanes): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new LanesDriver(lanes),
    createIntrospector: (db: Kysely<unknown>) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}
