// Background jobs on both backends: every run is recorded, failures are recorded with their error,
// a singleton job never runs on two replicas at once, and housekeeping deletes only what expired.
import { describe, expect, inject, it } from "vitest";
import {
  housekeepingJob,
  runJob,
  startScheduler,
  type Job,
  type JobContext,
} from "../../../src/jobs/index.ts";
import { createLogger } from "../../../src/log.ts";
import { migrate, openStore, type Store } from "../../../src/store/index.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { backends, useMigratedStore } from "../store/backends.ts";

const NOW = new Date("2026-06-01T12:00:00Z");
const ctxFor = (store: Store, replica = "r1"): JobContext => ({
  store,
  log: createLogger("silent"),
  now: () => NOW,
  replica,
});

/** A job that waits until the test lets it finish. */
function gatedJob(name = "gated"): { job: Job; started: Promise<void>; release(): void } {
  let release!: () => void;
  let markStarted!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const started = new Promise<void>((r) => (markStarted = r));
  return {
    job: {
      name,
      lockKey: 42_424_242n,
      async run() {
        markStarted();
        await gate;
        return { done: 1 };
      },
    },
    started,
    release: () => {
      release();
    },
  };
}

describe.each(backends())("jobs on $name", (backend) => {
  let store: Store;
  useMigratedStore(backend, (s) => {
    store = s;
  });

  it("housekeeping deletes old runs and events, and records its run", async () => {
    const old = new Date("2026-01-01T00:00:00Z");
    await store.db
      .insertInto("job_runs")
      .values([
        { job: "x", replica: "r0", started_at: old, finished_at: old, outcome: "ok" },
        { job: "x", replica: "r0", started_at: NOW, finished_at: NOW, outcome: "ok" },
      ])
      .execute();
    await store.db
      .insertInto("audit_events")
      .values([
        { action: "connect", at: new Date("2024-01-01T00:00:00Z") },
        { action: "connect", at: NOW },
      ])
      .execute();

    const result = await runJob(
      housekeepingJob({ jobRunsDays: 30, auditEventsDays: 365, revokedGrantsDays: 30 }),
      ctxFor(store),
    );
    expect(result).toEqual({
      job: "housekeeping",
      outcome: "ok",
      counts: { logoutTokens: 0, jobRuns: 1, auditEvents: 1, revokedGrants: 0 },
    });
    expect(await store.db.selectFrom("audit_events").select("id").execute()).toHaveLength(1);
    const runs = await store.db
      .selectFrom("job_runs")
      .selectAll()
      .where("job", "=", "housekeeping")
      .execute();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      outcome: "ok",
      replica: "r1",
      counts: { logoutTokens: 0, jobRuns: 1, auditEvents: 1, revokedGrants: 0 },
      error: null,
    });
    expect(runs[0]?.finished_at).toEqual(NOW);
  });

  it("records a failing job with its error and carries on", async () => {
    const failing: Job = {
      name: "failing",
      lockKey: 1n,
      run: () => Promise.reject(new Error("Nextcloud is in maintenance mode")),
    };
    const result = await runJob(failing, ctxFor(store));
    expect(result).toMatchObject({ outcome: "failed", error: "Nextcloud is in maintenance mode" });
    const [run] = await store.db.selectFrom("job_runs").selectAll().execute();
    expect(run).toMatchObject({
      job: "failing",
      outcome: "failed",
      error: "Nextcloud is in maintenance mode",
    });
  });

  it("never overlaps a job within one replica, and stop() waits for the run in flight", async () => {
    const g = gatedJob();
    const scheduler = startScheduler([{ job: g.job, schedule: "0 0 1 1 *" }], ctxFor(store));
    const first = scheduler.tick("gated");
    await g.started;
    expect(await scheduler.tick("gated")).toBeUndefined();
    const stopped = scheduler.stop();
    g.release();
    await stopped;
    expect((await first)?.outcome).toBe("ok");
  });

  it("refuses an invalid schedule with the job's name", () => {
    expect(() => startScheduler([{ job: gatedJob().job, schedule: "every minute" }], ctxFor(store))).toThrow(
      /invalid cron expression for job gated: "every minute"/,
    );
  });
});

describe("singleton jobs on PostgreSQL", () => {
  it("run on one replica at a time: the other records skipped", async () => {
    const db = await createTestDatabase(inject("pgAdminUrl"), "jobs");
    const replicaA = await openStore({ backend: "postgres", url: db.url, poolMax: 3 });
    const replicaB = await openStore({ backend: "postgres", url: db.url, poolMax: 3 });
    try {
      await migrate(replicaA);
      const g = gatedJob();
      const a = runJob(g.job, ctxFor(replicaA, "a"));
      await g.started;
      const b = await runJob(g.job, ctxFor(replicaB, "b"));
      expect(b.outcome).toBe("skipped");
      g.release();
      expect((await a).outcome).toBe("ok");
      const runs = await replicaA.db
        .selectFrom("job_runs")
        .select(["replica", "outcome"])
        .orderBy("replica")
        .execute();
      expect(runs).toEqual([
        { replica: "a", outcome: "ok" },
        { replica: "b", outcome: "skipped" },
      ]);
      // The lock was released: the next run on the other replica does the work.
      const again = gatedJob();
      again.release();
      expect((await runJob(again.job, ctxFor(replicaB, "b"))).outcome).toBe("ok");
    } finally {
      await replicaA.close();
      await replicaB.close();
      await db.drop();
    }
  });
});
