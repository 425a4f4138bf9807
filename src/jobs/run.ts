import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/index.ts";

/** What a job gets: the store, a logger, the clock and the name of this replica. */
export interface JobContext {
  store: Store;
  log: Logger;
  now: () => Date;
  /** Written into job_runs so operators see which replica ran what. */
  replica: string;
}

/** A background job: a name, the advisory-lock key that makes it a singleton, and its work. */
export interface Job {
  name: string;
  /** Fixed per job; two replicas holding the same key never run the job at the same time. */
  lockKey: bigint;
  /** Does the work and returns what it counted (e.g. rows deleted). */
  run(ctx: JobContext): Promise<Record<string, number>>;
}

/** The recorded outcome of one run. */
export interface JobRunResult {
  job: string;
  outcome: "ok" | "failed" | "skipped";
  counts: Record<string, number>;
  error?: string;
}

/**
 * Runs a singleton job once and records the run in `job_runs` (start, end, outcome, counts, error).
 * On PostgreSQL a session advisory lock (`pg_try_advisory_lock`) makes it a singleton across
 * replicas: a replica that does not get the lock records `skipped`. The embedded database serves one
 * process only, so it needs no lock.
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
export async function runJob(job: Job, ctx: JobContext): Promise<JobRunResult> {
  const { db } = ctx.store;
  const row = await db
    .insertInto("job_runs")
    .values({ job: job.name, replica: ctx.replica, started_at: ctx.now() })
    .returning("id")
    .executeTakeFirstOrThrow();
  const finish = async (result: JobRunResult) => {
    await db
      .updateTable("job_runs")
      .set({
        finished_at: ctx.now(),
        outcome: result.outcome,
        counts: JSON.stringify(result.counts),
        error: result.error ?? null,
      })
      .where("id", "=", row.id)
      .execute();
    const line = { job: job.name, outcome: result.outcome, counts: result.counts };
    if (result.outcome === "failed") ctx.log.error({ ...line, err: result.error }, "job failed");
    else ctx.log.info(line, "job finished");
    return result;
  };
  const work = async (): Promise<JobRunResult> => {
    try {
      return { job: job.name, outcome: "ok", counts: await job.run(ctx) };
    } catch (err) {
      return { job: job.name, outcome: "failed", counts: {}, error: describeError(err) };
    }
  };
  if (ctx.store.backend === "pglite") return finish(await work());
  return finish(
    await ctx.store.withSession(async (session) => {
      const [lock] = await session.query<{ locked: boolean }>(
        "select pg_try_advisory_lock($1::bigint) as locked",
        [job.lockKey.toString()],
      );
      if (lock?.locked !== true) return { job: job.name, outcome: "skipped" as const, counts: {} };
      try {
        return await work();
      } finally {
        await session.query("select pg_advisory_unlock($1::bigint)", [job.lockKey.toString()]);
      }
    }),
  );
}

/** Rows older than `days` before `now`, as a timestamp for comparisons. */
export function daysBefore(now: Date, days: number): Date {
  return new Date(now.getTime() - days * 24 * 3600_000);
}
