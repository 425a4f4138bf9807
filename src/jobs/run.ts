import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/index.ts";

/** What a job gets: the store, a logger, the clock, the name of this replica and a stop signal. */
export interface JobContext {
  store: Store;
  log: Logger;
  now: () => Date;
  /** Written into job_runs (and into the leases a job takes) so operators see which replica ran what. */
  replica: string;
  /**
   * Aborts when the scheduler stops (shutdown) or the operator interrupts `jobs run`: a job stops
   * taking new work, finishes what is in flight and returns what it counted.
   */
  signal?: AbortSignal | undefined;
  /**
   * The user ids a prompted run is limited to (a webhook asked to re-index them, see
   * index-trigger.ts); jobs without per-user work ignore it. Undefined: every user who is due.
   */
  focus?: readonly string[] | undefined;
}

/**
 * A background job: a name, its work, and how replicas share it. With a `lockKey` it is a
 * singleton (one replica runs it at a time, the others record `skipped`); without one it runs on
 * every replica at once and must claim its own work, e.g. per-grant leases (`FOR UPDATE SKIP
 * LOCKED`), so that no piece of work is done twice.
 */
export interface Job {
  name: string;
  /** Fixed per job; two replicas holding the same key never run the job at the same time. */
  lockKey?: bigint | undefined;
  /** Does the work and returns what it counted (e.g. rows deleted). Throw {@link JobFailure} to fail with counts. */
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
 * Thrown by a job that did part of its work and then failed as a whole: the run is recorded
 * `failed` with this message and with the counts so far (a plain error records no counts).
 */
export class JobFailure extends Error {
  readonly counts: Record<string, number>;
  constructor(message: string, counts: Record<string, number>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "JobFailure";
    this.counts = counts;
  }
}

/**
 * Runs a job once and records the run in `job_runs` (start, end, outcome, counts, error).
 * A singleton job (`lockKey`) takes a session advisory lock (`pg_try_advisory_lock`) on PostgreSQL,
 * so it runs on one replica at a time: a replica that does not get the lock records `skipped`. The
 * embedded database serves one process only, so it needs no lock. A job without `lockKey` runs on
 * every replica that triggers it; it claims its work itself.
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
      const counts = err instanceof JobFailure ? err.counts : {};
      return { job: job.name, outcome: "failed", counts, error: describeError(err) };
    }
  };
  const { lockKey } = job;
  if (lockKey === undefined || ctx.store.backend === "pglite") return finish(await work());
  return finish(
    await ctx.store.withSession(async (session) => {
      const [lock] = await session.query<{ locked: boolean }>(
        "select pg_try_advisory_lock($1::bigint) as locked",
        [lockKey.toString()],
      );
      if (lock?.locked !== true) return { job: job.name, outcome: "skipped" as const, counts: {} };
      try {
        return await work();
      } finally {
        await session.query("select pg_advisory_unlock($1::bigint)", [lockKey.toString()]);
      }
    }),
  );
}

/** Rows older than `days` before `now`, as a timestamp for comparisons. */
export function daysBefore(now: Date, days: number): Date {
  return new Date(now.getTime() - days * 24 * 3600_000);
}
