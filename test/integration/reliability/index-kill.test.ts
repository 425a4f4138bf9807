// Reliability scenario "index-kill": a search-index replica killed with SIGKILL mid-pass.
// Real parts: Keycloak (real offline grants of alice and bob from browser sign-ins, the real token
// exchange), PostgreSQL, the Nextcloud stand-in behind a fault proxy that holds each answer back a
// little (so a pass takes seconds and can be caught half-way), and the gateway as child processes
// (`jobs run search-index`, the job `serve` schedules).
//
// Two replicas index four users at once; one is killed once it holds a user whose pass has written
// part of that user's index. The other finishes the rest; once the dead one's lease ends (30
// minutes; the scenario moves lease_until into the past instead of waiting) the next run takes the
// user over. Asserted: every user's index holds exactly their files (none lost, none twice, none of
// another user), what the killed replica wrote is not written or read again, job_runs tell what
// happened, a later pass finds nothing to do, and every user finds their words.
import { performance } from "node:perf_hooks";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { OfflineGrant, SearchIndex, Store } from "../../../src/store/index.ts";
import { startFaultProxy, type FaultProxy } from "../../harness/fault-proxy.ts";
import { gatewayCli, type Child } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";
import { jobEnv, startJobScene, type JobScene } from "../search/support.ts";
import { Figures } from "./figures.ts";
import { jobRanOk, leasedBy } from "./jobs-support.ts";

/** Gateway users (grants): alice and bob taking turns, so two users per Nextcloud account. */
const USERS = 4;
const FOLDERS = 6;
const FILES_PER_FOLDER = 12;
/** Each Nextcloud answer held back this long: a user's pass (~90 requests) takes seconds. */
const DELAY_MS = 20;
const figures = new Figures("index-kill");
let scene: JobScene;
let store: Store;
let proxy: FaultProxy;
let index: SearchIndex;
let users: OfflineGrant[];
let env: Record<string, string>;
/** The Nextcloud account (alice or bob) behind each gateway user, and its files by path. */
const accountOf = new Map<string, "alice" | "bob">();
const filesOf = { alice: new Map<string, string>(), bob: new Map<string, string>() };
const children: Child[] = [];

/** A word only this file has, so a search for it finds exactly this file. */
const wordOf = (who: string, folder: number, n: number) => `${who}zq${String(folder)}x${String(n)}`;

beforeAll(async () => {
  scene = await startJobScene("ixkill", USERS);
  ({ store, index, grants: users } = scene);
  const rows = await store.db.selectFrom("users").select(["id", "subject", "username"]).execute();
  for (const who of ["alice", "bob"] as const) {
    const sub = rows.find((r) => r.username === who && !r.subject.includes("#"))?.subject ?? "";
    const files: Record<string, string> = {};
    for (let f = 0; f < FOLDERS; f++) {
      for (let n = 0; n < FILES_PER_FOLDER; n++) {
        const path = `Folder ${String(f)}/doc ${String(n)}.md`;
        files[path] = `# Doc ${String(n)} of ${who}\nThe word is ${wordOf(who, f, n)}.`;
        filesOf[who].set(`/${path}`, wordOf(who, f, n));
      }
    }
    await scene.nc.seed(sub, files);
  }
  for (const r of rows) accountOf.set(r.id, r.username === "bob" ? "bob" : "alice");
  proxy = await startFaultProxy(scene.nc.url);
  proxy.setRules([{ path: /./, fault: { kind: "delay", ms: DELAY_MS } }]);
  env = jobEnv(scene.databaseUrl, proxy.url);
}, 300_000);

afterAll(async () => {
  figures.flush();
  for (const c of children) c.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await proxy.stop();
  await scene.stop();
}, 120_000);

function indexRun(): Child {
  const child = gatewayCli(["jobs", "run", "search-index"], env);
  children.push(child);
  return child;
}

const ranOk = (child: Child) => jobRanOk(child, "search-index");

/** Every indexed item: `user|key` → when it was written. */
async function items(): Promise<Map<string, string>> {
  const rows = await store.db
    .selectFrom("search_items")
    .select(["user_id", "item_key", "indexed_at"])
    .execute();
  return new Map(rows.map((r) => [`${r.user_id}|${r.item_key}`, r.indexed_at.toISOString()]));
}

/** Until no other session of this database runs a statement: a killed client's last one has ended. */
async function quiet(): Promise<void> {
  await waitFor("no statement of another session running", async () => {
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and state = 'active'`.execute(store.db);
    return Number(rows[0]?.n) === 0 ? true : undefined;
  });
}

it(`two replicas index ${String(USERS)} users, one killed with SIGKILL mid-pass: no index lost, duplicated or inconsistent`, async () => {
  const started = performance.now();
  const victim = indexRun();
  const survivor = indexRun();
  // Mid-pass: the victim holds a user whose first pass has written at least one folder's files.
  const held = await waitFor(
    "the victim holding a user whose pass has written part of the index",
    async () => {
      const { rows } = await sql<{ user_id: string; n: string }>`
        select s.user_id, (select count(*) from search_items i where i.user_id = s.user_id) as n
        from search_index_users s
        where s.lease_owner like ${leasedBy(victim)} and s.ready_at is null`.execute(store.db);
      const row = rows[0];
      return row !== undefined && Number(row.n) >= FILES_PER_FOLDER ? row.user_id : undefined;
    },
    {
      timeoutMs: 120_000,
      intervalMs: 20,
      abort: () =>
        victim.proc.exitCode === null ? undefined : `the victim finished first: ${victim.stdout()}`,
    },
  );
  victim.kill("SIGKILL");
  expect(await victim.exited).toBe("SIGKILL");
  const killedAt = performance.now() - started;
  const survived = await ranOk(survivor);
  await quiet();

  const perUser = FOLDERS * FILES_PER_FOLDER;
  const atKill = await items();
  const heldItems = [...atKill.keys()].filter((k) => k.startsWith(`${held}|`)).length;
  expect(heldItems).toBeGreaterThanOrEqual(FILES_PER_FOLDER);
  expect(heldItems).toBeLessThan(perUser);
  // Everyone else is complete: the survivor finished its share, the victim maybe one user before.
  const states = await store.db
    .selectFrom("search_index_users")
    .select(["user_id", "ready_at", "lease_owner", "last_error"])
    .execute();
  expect(states).toHaveLength(USERS);
  for (const s of states) {
    if (s.user_id === held) {
      expect(s.ready_at).toBeNull();
      expect(s.lease_owner).toContain(`:${String(victim.proc.pid)}/`);
    } else {
      expect(s).toMatchObject({ lease_owner: null, last_error: null });
      expect(s.ready_at).not.toBeNull();
    }
  }
  figures.add("killed.after", "SIGKILL after the start of both replicas", killedAt, "ms");
  figures.add(
    "killed.items",
    `Items of the held user written before the kill (of ${String(perUser)})`,
    heldItems,
  );
  figures.add("survivor.passes", "Users indexed by the surviving replica", survived.passes ?? 0);

  // The lease ends (as 30 minutes passing would); the next run takes the user over.
  const expired = await store.db
    .updateTable("search_index_users")
    .set({ lease_until: new Date(Date.now() - 1000) })
    .where("lease_owner", "like", leasedBy(victim))
    .returning("user_id")
    .execute();
  expect(expired.map((r) => r.user_id)).toEqual([held]);
  const takeover = await ranOk(indexRun());
  // Every user is due again after a pass: the others' passes find their trees unchanged.
  expect(takeover).toMatchObject({ claimed: USERS, passes: USERS, failed: 0, revoked: 0, removed: 0 });
  // Only what the victim had not written is read and written; what it wrote is not done again.
  expect(takeover.indexed).toBe(perUser - heldItems);
  expect(takeover.read).toBe(perUser - heldItems);
  const afterTakeover = await items();
  for (const [k, at] of atKill) expect(afterTakeover.get(k), k).toBe(at);
  figures.add(
    "takeover.indexed",
    "Items the take-over wrote (the rest of the held user's)",
    takeover.indexed ?? 0,
  );
  figures.add(
    "run",
    `Both replicas, the kill and the take-over, ${String(USERS)} users`,
    performance.now() - started,
    "ms",
  );

  // Each index is exactly its user's files: none lost, none twice, none of another user.
  for (const u of users) {
    const account = accountOf.get(u.user_id) ?? "alice";
    const keys = [...afterTakeover.keys()]
      .filter((k) => k.startsWith(`${u.user_id}|`))
      .map((k) => k.slice(k.indexOf("|") + 1));
    expect(keys.sort(), u.user_id).toEqual([...filesOf[account].keys()].sort());
    expect(await index.status(u.user_id)).toMatchObject({
      items: perUser,
      lastError: null,
      readyAt: expect.any(Date) as unknown,
    });
  }
  const leases = await store.db
    .selectFrom("search_index_users")
    .select("user_id")
    .where("lease_owner", "is not", null)
    .execute();
  expect(leases).toEqual([]);

  // job_runs: the killed run started and never ended; every other ended ok.
  const runs = await store.db
    .selectFrom("job_runs")
    .select(["replica", "outcome", "finished_at", "counts"])
    .where("job", "=", "search-index")
    .orderBy("id")
    .execute();
  expect(runs).toHaveLength(3);
  const unfinished = runs.filter((r) => r.finished_at === null);
  expect(unfinished.map((r) => r.replica.endsWith(`:${String(victim.proc.pid)}`))).toEqual([true]);
  expect(unfinished[0]?.outcome).toBeNull();
  expect(runs.filter((r) => r.finished_at !== null).map((r) => r.outcome)).toEqual(["ok", "ok"]);

  // A later pass finds nothing to do, and rewrites nothing.
  const later = await ranOk(indexRun());
  expect(later).toMatchObject({ passes: USERS, failed: 0, indexed: 0, read: 0, removed: 0 });
  const afterLater = await items();
  expect(afterLater).toEqual(afterTakeover);

  // Every user finds their words, and only their own.
  for (const u of users) {
    const account = accountOf.get(u.user_id) ?? "alice";
    const other = account === "alice" ? "bob" : "alice";
    for (const [f, n] of [
      [0, 0],
      [FOLDERS - 1, FILES_PER_FOLDER - 1],
      [2, 5],
    ] as const) {
      const hits = await index.search(u.user_id, wordOf(account, f, n), { limit: 5 });
      expect(
        hits.map((h) => h.key),
        `${account} ${wordOf(account, f, n)}`,
      ).toEqual([`/Folder ${String(f)}/doc ${String(n)}.md`]);
      expect(await index.search(u.user_id, wordOf(other, f, n), { limit: 5 })).toEqual([]);
    }
  }
}, 600_000);
