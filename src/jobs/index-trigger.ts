// Prompt runs of the `search-index` job for the users a webhook named: requests within the debounce
// window are coalesced into one run, one run at a time in this process, each limited to the users
// asked for (JobContext.focus) and recorded in job_runs like a scheduled run. The users' leases in
// the database still decide who indexes whom, so a prompted run never doubles a scheduled one.
import { describeError } from "../errors.ts";
import { runJob, type Job, type JobContext } from "./run.ts";

/** How long a first request waits for others to join its run (a save sends several events). */
export const PROMPT_RUN_DEBOUNCE_MS = 2000;

/** The trigger the webhook endpoint calls; see the file comment. */
export interface IndexTrigger {
  /** Asks for a prompt run for these gateway users; returns at once. */
  request(userIds: readonly string[]): void;
  /** Stops taking requests, drops what is pending and waits for the run in flight. */
  stop(): Promise<void>;
  /** Requests taken and runs started, for /metrics. */
  readonly stats: { requests: number; runs: number };
}

/**
 * A debounced, coalescing trigger of `job` (the search-index job): the first request arms a timer of
 * `debounceMs`; when it fires, one run starts for every user asked for meanwhile. Requests during a
 * run wait for it and then start the next one.
 */
export function indexTrigger(job: Job, ctx: JobContext, options: { debounceMs: number }): IndexTrigger {
  const pending = new Set<string>();
  const stats = { requests: 0, runs: 0 };
  const stopping = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stopping.signal]) : stopping.signal;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const arm = () => {
    if (timer !== undefined || running !== undefined || signal.aborted || pending.size === 0) return;
    timer = setTimeout(fire, options.debounceMs);
    timer.unref();
  };
  function fire() {
    timer = undefined;
    if (signal.aborted) return;
    const focus = [...pending];
    pending.clear();
    stats.runs++;
    running = runJob(job, { ...ctx, signal, focus })
      .then(
        () => undefined,
        (err: unknown) => {
          ctx.log.error({ job: job.name, err: describeError(err) }, "prompted index run could not run");
        },
      )
      .finally(() => {
        running = undefined;
        arm();
      });
  }

  return {
    stats,
    request(userIds) {
      if (signal.aborted || userIds.length === 0) return;
      stats.requests++;
      for (const id of userIds) pending.add(id);
      arm();
    },
    async stop() {
      stopping.abort(new Error("the index trigger is stopping"));
      clearTimeout(timer);
      timer = undefined;
      pending.clear();
      await running;
    },
  };
}
