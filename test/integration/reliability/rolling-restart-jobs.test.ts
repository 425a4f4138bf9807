// Reliability scenario "rolling-restart-jobs": SIGTERM to a replica while a job runs in it.
// Real parts: Keycloak (a realm of the scenario's own with the shipped realm's refresh token settings,
// offline tokens through the password grant: own-realm.ts), PostgreSQL, and two gateway replicas as
// their own processes (`serve`, grants-keepalive scheduled every 2 s, one refresh at a time so a
// run over the grants takes seconds).
//
// 1. A running keepalive drains: the replica that gets SIGTERM stops taking grants, finishes the
//    refresh in flight, records its run and gives back the leases it had claimed, and exits 0 within
//    SHUTDOWN_TIMEOUT_MS; the other replica refreshes the rest. Every grant refreshed exactly once,
//    none revoked, none left leased, no run left without an end.
// 2. A job that cannot finish in the grace period (held after the IdP answered a refresh, with the
//    test-only GATEWAY_FAULT_HOLD_AFTER_REFRESH hook) does not hold the exit up: the replica exits 0
//    at the deadline; the grant it held is taken over after its lease (moved into the past instead of
//    waiting 5 minutes) and refreshed once, with the realm's reuse allowance of one.
import { rm } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { OfflineGrant, Store } from "../../../src/store/index.ts";
import { waitFor } from "../../harness/wait.ts";
import { auditPerGrant, lastAuditId, renewedDaysAgo, storedToken } from "../jobs/grants-support.ts";
import { Figures } from "./figures.ts";
import { startGatewayProcess, type GatewayProcess } from "./gateway-process.ts";
import { heldAfterRefresh, leasedBy, startGrantsScene, type GrantsScene } from "./jobs-support.ts";

const GRANTS = 60;
const GRACE_MS = 4000;
const DUE_DAYS = 20;
const figures = new Figures("rolling-restart-jobs");
let scene: GrantsScene;
let store: Store;
let all: OfflineGrant[];
let env: Record<string, string>;
const replicas: GatewayProcess[] = [];

beforeAll(async () => {
  scene = await startGrantsScene("drain", 3);
  ({ store } = scene);
  all = await scene.seed(await scene.realm.offlineTokens(GRANTS + 1), "drain");
  env = {
    ...scene.env,
    KEEPALIVE_SCHEDULE: "*/2 * * * * *",
    KEEPALIVE_CONCURRENCY: "1",
    SHUTDOWN_TIMEOUT_MS: String(GRACE_MS),
  };
}, 300_000);

afterAll(async () => {
  figures.flush();
  await Promise.all(replicas.map((r) => r.stop("SIGKILL")));
  await scene.stop();
}, 120_000);

async function leasesOf(r: GatewayProcess): Promise<string[]> {
  const rows = await store.db
    .selectFrom("offline_grants")
    .select("id")
    .where("lease_owner", "like", leasedBy(r.child))
    .execute();
  return rows.map((x) => x.id);
}

/** The keepalive runs of a replica, newest last. */
async function runsOf(r: GatewayProcess) {
  return store.db
    .selectFrom("job_runs")
    .select(["id", "outcome", "finished_at", "counts"])
    .where("job", "=", "grants-keepalive")
    .where("replica", "like", `%:${String(r.child.proc.pid)}`)
    .orderBy("id")
    .execute();
}

async function stopTimed(r: GatewayProcess) {
  const started = performance.now();
  const code = await r.stop("SIGTERM");
  return { code, ms: performance.now() - started };
}

it(`SIGTERM while keepalive runs over ${String(GRANTS)} grants: the run drains and hands the rest over; each grant refreshed once`, async () => {
  const many = all.slice(0, GRANTS);
  const a = await startGatewayProcess(env);
  const b = await startGatewayProcess(env);
  replicas.push(a, b);
  const mark = await lastAuditId(store);
  // Both replicas run keepalive every 2 s; the grants become due now.
  await renewedDaysAgo(
    store,
    many.map((g) => g.id),
    DUE_DAYS,
  );
  await waitFor(
    "replica a mid-run: grants refreshed, a lease held, its run not ended",
    async () => {
      const done = (await auditPerGrant(store, "refresh", mark)).size;
      const open = (await runsOf(a)).some((r) => r.finished_at === null);
      return done >= 5 && open && (await leasesOf(a)).length > 0 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 10 },
  );
  const stopped = await stopTimed(a);
  expect(stopped.code, a.child.stderr()).toBe(0);
  expect(stopped.ms).toBeLessThan(GRACE_MS);
  // Its run ended and was recorded; nothing stays leased to it.
  const aRuns = await runsOf(a);
  expect(aRuns.every((r) => r.finished_at !== null && r.outcome === "ok")).toBe(true);
  const drained = aRuns.at(-1)?.counts ?? {};
  expect(await leasesOf(a)).toEqual([]);
  // The other replica refreshes the rest at its next runs.
  await waitFor(
    "every grant refreshed",
    async () => ((await auditPerGrant(store, "refresh", mark)).size === GRANTS ? true : undefined),
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  // The pool counters of /metrics (the load scenario reads them too): b's jobs took connections.
  const metrics = await (await fetch(`${b.url}/metrics`)).text();
  const acquired = Number(/^gateway_db_pool_acquisitions_total (\S+)$/m.exec(metrics)?.[1]);
  expect(acquired).toBeGreaterThan(GRANTS);
  expect(metrics).toMatch(/^gateway_db_pool_waits_total \d+$/m);
  expect(metrics).toMatch(/^gateway_db_pool_size 10$/m);
  figures.add("pool.acquisitions", "Database connections replica b took from its pool", acquired);
  figures.add(
    "pool.waits",
    "Of which waited for a free connection",
    Number(/^gateway_db_pool_waits_total (\S+)$/m.exec(metrics)?.[1]),
  );
  const bStopped = await stopTimed(b);
  expect(bStopped.code, b.child.stderr()).toBe(0);
  const refreshes = await auditPerGrant(store, "refresh", mark);
  expect([...refreshes.values()].every((n) => n === 1)).toBe(true);
  expect(await auditPerGrant(store, "revoke", mark)).toEqual(new Map());
  const rows = await store.db
    .selectFrom("offline_grants")
    .select(["status", "lease_owner"])
    .where(
      "id",
      "in",
      many.map((g) => g.id),
    )
    .execute();
  expect(rows.filter((r) => r.status === "active")).toHaveLength(GRANTS);
  expect(rows.filter((r) => r.lease_owner !== null)).toEqual([]);
  const unfinished = await store.db
    .selectFrom("job_runs")
    .select("id")
    .where("finished_at", "is", null)
    .execute();
  expect(unfinished).toEqual([]);
  figures.add(
    "drain.ms",
    `SIGTERM to exit 0 with keepalive running (grace ${String(GRACE_MS)} ms)`,
    stopped.ms,
    "ms",
  );
  figures.add("drained.refreshed", "Grants the stopped replica's last run refreshed", drained.refreshed ?? 0);
  figures.add("refreshed.once", `Grants refreshed exactly once (of ${String(GRANTS)})`, refreshes.size);
});

it("SIGTERM while a job cannot finish in the grace period: exit 0 at the deadline, the grant taken over after its lease", async () => {
  const grant = all[GRANTS];
  if (grant === undefined) throw new Error("no grant");
  const before = await storedToken(store, grant, scene.sealer.open.bind(scene.sealer));
  const marker = path.join(scene.work, "held");
  const mark = await lastAuditId(store);
  const held = await startGatewayProcess({
    ...env,
    NODE_ENV: "test",
    GATEWAY_FAULT_HOLD_AFTER_REFRESH: marker,
  });
  replicas.push(held);
  await renewedDaysAgo(store, [grant.id], DUE_DAYS);
  const heldGrant = await heldAfterRefresh(marker, { timeoutMs: 30_000 });
  expect(heldGrant).toBe(grant.id);
  const stopped = await stopTimed(held);
  expect(stopped.code, held.child.stderr()).toBe(0);
  // At the deadline, not before it, and not much after it.
  expect(stopped.ms).toBeGreaterThanOrEqual(GRACE_MS);
  expect(stopped.ms).toBeLessThan(GRACE_MS + 3000);
  expect(held.child.stdout() + held.child.stderr()).toMatch(/jobs still running/);
  // Nothing of the held refresh was committed; the grant stays leased to the stopped replica.
  expect(await storedToken(store, grant, scene.sealer.open.bind(scene.sealer))).toBe(before);
  expect(await leasesOf(held)).toEqual([grant.id]);
  await rm(marker, { force: true });

  // Its lease ends (as 5 minutes passing would); another replica takes the grant over.
  const next = await startGatewayProcess(env);
  replicas.push(next);
  await store.db
    .updateTable("offline_grants")
    .set({ lease_until: new Date(Date.now() - 1000) })
    .where("id", "=", grant.id)
    .execute();
  await waitFor(
    "the grant refreshed by the other replica",
    async () => ((await auditPerGrant(store, "refresh", mark)).get(grant.id) === 1 ? true : undefined),
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  expect((await stopTimed(next)).code).toBe(0);
  expect(await auditPerGrant(store, "revoke", mark)).toEqual(new Map());
  expect(await storedToken(store, grant, scene.sealer.open.bind(scene.sealer))).not.toBe(before);
  figures.add(
    "deadline.ms",
    `SIGTERM to exit 0 with a job held past the grace (${String(GRACE_MS)} ms)`,
    stopped.ms,
    "ms",
  );
});
