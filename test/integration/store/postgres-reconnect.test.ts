// The PostgreSQL store across a server restart and killed connections, on a server of the test's own:
// the query that meets the dead connection fails with an error, nothing throws outside a query
// (postgres.js 3.4.x threw an uncaught TypeError from a released reserve()d connection whose socket
// had closed, which ended the process: porsager/postgres#1208), the pool connects again by itself,
// transactions and sessions work afterwards, and close() finishes.
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openPostgresStore } from "../../../src/store/postgres.ts";
import type { Store } from "../../../src/store/index.ts";
import { startRestartablePostgres, type RestartablePostgres } from "../../harness/postgres.ts";
import { waitFor } from "../../harness/wait.ts";

let pg: RestartablePostgres;
let store: Store;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => {
  uncaught.push(err);
};

beforeAll(async () => {
  pg = await startRestartablePostgres();
  store = openPostgresStore(pg.adminUrl, { poolMax: 3, connectTimeoutS: 2 });
  process.on("uncaughtException", onUncaught);
});

afterAll(async () => {
  process.off("uncaughtException", onUncaught);
  await store.close();
  await pg.stop();
});

const one = async () => (await sql<{ n: number }>`select 1 as n`.execute(store.db)).rows[0]?.n;
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
/** Every query of the pool works again: more parallel queries than connections. */
const allWork = () => Promise.all(Array.from({ length: 6 }, one));

it("fails the queries that meet a stopped server, connects again after the start, and never throws outside a query", async () => {
  await allWork();
  await store.db.transaction().execute(async (tx) => sql`select 1`.execute(tx));

  pg.stopServer();
  // The pool's connections died with the server: each query fails, one after another and at once.
  expect(await outcome(one())).not.toBe("ok");
  expect(await outcome(one())).not.toBe("ok");
  expect(await Promise.all(Array.from({ length: 4 }, () => outcome(one())))).not.toContain("ok");
  expect(await outcome(store.db.transaction().execute(async (tx) => sql`select 1`.execute(tx)))).not.toBe(
    "ok",
  );
  expect(await outcome(store.withSession((s) => s.query("select 1")))).not.toBe("ok");
  expect(await store.ping(2000)).toBe(false);

  pg.startServer();
  await waitFor("the pool to connect again", async () => ((await one()) === 1 ? true : undefined));
  expect(await allWork()).toEqual([1, 1, 1, 1, 1, 1]);
  const inTx = await store.db.transaction().execute(async (tx) => {
    await sql`create temporary table t (n int)`.execute(tx);
    await sql`insert into t values (1), (2)`.execute(tx);
    return (await sql<{ c: string }>`select count(*)::text as c from t`.execute(tx)).rows[0]?.c;
  });
  expect(inTx).toBe("2");
  expect(await store.withSession(async (s) => s.query<{ n: number }>("select 1 as n"))).toEqual([{ n: 1 }]);
  expect(await store.ping(2000)).toBe(true);
  expect(uncaught).toEqual([]);
});

it("fails a transaction whose connection is killed, rolls it back, and keeps the pool usable", async () => {
  await sql`create table if not exists kept (n int)`.execute(store.db);
  const killed = store.db.transaction().execute(async (tx) => {
    await sql`insert into kept values (1)`.execute(tx);
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
    // Another connection of the pool ends this one, as an operator's pg_terminate_backend would.
    await sql`select pg_terminate_backend(${rows[0]?.pid})`.execute(store.db);
    await sql`insert into kept values (2)`.execute(tx);
  });
  expect(await outcome(killed)).not.toBe("ok");
  await waitFor("the pool to answer again", async () => ((await one()) === 1 ? true : undefined));
  const { rows } = await sql<{ c: string }>`select count(*)::text as c from kept`.execute(store.db);
  expect(rows[0]?.c).toBe("0");
  expect(await allWork()).toEqual([1, 1, 1, 1, 1, 1]);
  expect(uncaught).toEqual([]);
});

it("rolls back when the callback throws and commits otherwise", async () => {
  await sql`create table if not exists tx_check (n int)`.execute(store.db);
  await expect(
    store.db.transaction().execute(async (tx) => {
      await sql`insert into tx_check values (1)`.execute(tx);
      throw new Error("changed my mind");
    }),
  ).rejects.toThrow("changed my mind");
  await store.db
    .transaction()
    .setIsolationLevel("serializable")
    .execute(async (tx) => sql`insert into tx_check values (2)`.execute(tx));
  const { rows } = await sql<{ n: number }>`select n from tx_check`.execute(store.db);
  expect(rows).toEqual([{ n: 2 }]);
});
