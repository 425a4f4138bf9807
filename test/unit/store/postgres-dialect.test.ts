// The pool's counters (src/store/postgres-dialect.ts Lanes): what the load scenario and /metrics read
// to tell whether callers waited for a database connection, how often and how long. The lanes'
// postgres.js clients connect lazily; these tests never run a query, so no server is needed.
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { Lanes } from "../../../src/store/postgres-dialect.ts";

let clock = 0;
const opened: Lanes[] = [];
const lanes = (max: number) => {
  // Port 9 (discard): nothing connects, since no statement runs.
  const l = new Lanes(max, (onclose) => postgres("postgres://u:p@127.0.0.1:9/none", { max: 1, onclose }), {
    now: () => clock,
  });
  opened.push(l);
  return l;
};

afterEach(async () => {
  await Promise.all(opened.splice(0).map((l) => l.end(0)));
  clock = 0;
});

describe("the pool's counters", () => {
  it("count acquisitions without waits while a lane is free", async () => {
    const pool = lanes(2);
    const a = await pool.acquire();
    expect(pool.stats()).toEqual({
      size: 2,
      inUse: 1,
      waiting: 0,
      acquisitions: 1,
      waits: 0,
      waitMsTotal: 0,
      waitMsMax: 0,
    });
    pool.release(a);
    const b = await pool.acquire();
    pool.release(b);
    expect(pool.stats()).toMatchObject({ inUse: 0, acquisitions: 2, waits: 0 });
  });

  it("count a wait, and how long it lasted, when every lane is in use", async () => {
    const pool = lanes(1);
    const held = await pool.acquire();
    clock = 100;
    const first = pool.acquire();
    clock = 120;
    const second = pool.acquire();
    expect(pool.stats()).toMatchObject({ inUse: 1, waiting: 2, acquisitions: 3, waits: 2, waitMsTotal: 0 });
    clock = 150;
    pool.release(held);
    const gotFirst = await first;
    // In order of asking: the first waiter gets the lane after 50 ms.
    expect(gotFirst).toBe(held);
    expect(pool.stats()).toMatchObject({ waiting: 1, waitMsTotal: 50, waitMsMax: 50 });
    clock = 400;
    pool.release(gotFirst);
    pool.release(await second);
    expect(pool.stats()).toEqual({
      size: 1,
      inUse: 0,
      waiting: 0,
      acquisitions: 3,
      waits: 2,
      waitMsTotal: 50 + 280,
      waitMsMax: 280,
    });
  });
});
