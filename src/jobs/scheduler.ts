import { schedule, validate, type ScheduledTask } from "node-cron";
import { describeError } from "../errors.ts";
import { runJob, type Job, type JobContext, type JobRunResult } from "./run.ts";

/** A job and its cron expression (five or six fields, node-cron syntax). */
export interface ScheduledJob {
  job: Job;
  schedule: string;
}

/**
 * The running scheduler: `stop()` stops new runs, signals the runs in flight to stop taking new
 * work (JobContext.signal) and waits for them.
 */
export interface Scheduler {
  stop(): Promise<void>;
  /** Runs a job now, unless this replica is already running it (then undefined). */
  tick(name: string): Promise<JobRunResult | undefined>;
}

/**
 * Triggers jobs on their schedules. It only triggers: the work is claimed in the database (runJob's
 * advisory lock for singleton jobs, per-row leases for jobs that share their work), so N replicas
 * with the same schedule never do the same work twice. Within one replica a job never overlaps itself.
 */
export function startScheduler(jobs: readonly ScheduledJob[], ctx: JobContext): Scheduler {
  for (const { job, schedule: expr } of jobs) {
    if (!validate(expr)) throw new Error(`invalid cron expression for job ${job.name}: "${expr}"`);
  }
  const running = new Map<string, Promise<JobRunResult>>();
  const byName = new Map(jobs.map((j) => [j.job.name, j.job]));
  let stopped = false;
  const stopping = new AbortController();
  const runCtx: JobContext = {
    ...ctx,
    signal: ctx.signal ? AbortSignal.any([ctx.signal, stopping.signal]) : stopping.signal,
  };
  const tick = (name: string): Promise<JobRunResult | undefined> => {
    const job = byName.get(name);
    if (stopped || job === undefined || running.has(name)) return Promise.resolve(undefined);
    const run = runJob(job, runCtx).finally(() => running.delete(name));
    running.set(name, run);
    return run;
  };
  const tasks: ScheduledTask[] = jobs.map(({ job, schedule: expr }) =>
    schedule(expr, () => {
      tick(job.name).catch((err: unknown) => {
        ctx.log.error({ job: job.name, err: describeError(err) }, "job could not run");
      });
    }),
  );
  return {
    tick,
    async stop() {
      stopped = true;
      stopping.abort(new Error("the scheduler is stopping"));
      await Promise.all(
        tasks.map(async (t) => {
          await t.stop();
        }),
      );
      await Promise.allSettled(running.values());
    },
  };
}
