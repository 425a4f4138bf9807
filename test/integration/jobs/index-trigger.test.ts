// The prompt-run trigger the webhook endpoint uses: requests within the debounce window coalesce
// into one run for all the users asked for; requests during a run wait for it and make one more
// run; every run is recorded in job_runs; stop() drops what is pending and waits for the run.
import { afterEach, describe, expect, it } from "vitest";
import { indexTrigger, type IndexTrigger, type Job, type JobContext } from "../../../src/jobs/index.ts";
import { createLogger } from "../../../src/log.ts";
import type { Store } from "../../../src/store/index.ts";
import { waitFor } from "../../harness/wait.ts";
import { backends, useMigratedStore } from "../store/backends.ts";

/** A job that records the users of each run and, while `hold` is set, waits until released. */
function recordingJob() {
  const runs: (readonly string[] | undefined)[] = [];
  let hold: Promise<void> | undefined;
  let release = () => {};
  const job: Job = {
    name: "search-index",
    async run(ctx) {
      runs.push(ctx.focus);
      await hold;
      return { claimed: ctx.focus?.length ?? 0 };
    },
  };
  return {
    job,
    runs,
    holdNext() {
      hold = new Promise<void>((r) => (release = r));
    },
    release() {
      hold = undefined;
      release();
    },
  };
}

describe.each(backends())("the prompt-run trigger on $name", (backend) => {
  let store: Store;
  let trigger: IndexTrigger | undefined;
  useMigratedStore(backend, (s) => {
    store = s;
  });
  afterEach(async () => {
    await trigger?.stop();
  });
  const ctx = (): JobContext => ({ store, log: createLogger("silent"), now: () => new Date(), replica: "r" });
  const recorded = () =>
    store.db.selectFrom("job_runs").select(["job", "outcome", "counts"]).orderBy("id").execute();

  it("coalesces requests into one recorded run for every user asked for", async () => {
    const j = recordingJob();
    trigger = indexTrigger(j.job, ctx(), { debounceMs: 50 });
    trigger.request(["u1"]);
    trigger.request(["u2", "u1"]);
    trigger.request([]);
    await waitFor("the run to be recorded", async () => ((await recorded()).length === 1 ? true : undefined));
    await waitFor("the run to finish", async () =>
      (await recorded())[0]?.outcome === "ok" ? true : undefined,
    );
    expect(j.runs).toEqual([["u1", "u2"]]);
    expect(await recorded()).toEqual([{ job: "search-index", outcome: "ok", counts: { claimed: 2 } }]);
    expect(trigger.stats).toEqual({ requests: 2, runs: 1 });
  });

  it("requests during a run make one more run after it, never two at once", async () => {
    const j = recordingJob();
    j.holdNext();
    trigger = indexTrigger(j.job, ctx(), { debounceMs: 10 });
    trigger.request(["u1"]);
    await waitFor("the first run to start", () => (j.runs.length === 1 ? true : undefined));
    trigger.request(["u2"]);
    trigger.request(["u3"]);
    // Still one run while the first holds.
    expect(j.runs).toHaveLength(1);
    j.release();
    await waitFor("the second run", () => (j.runs.length === 2 ? true : undefined));
    expect(j.runs).toEqual([["u1"], ["u2", "u3"]]);
    await waitFor("both runs recorded", async () =>
      (await recorded()).filter((r) => r.outcome === "ok").length === 2 ? true : undefined,
    );
  });

  it("stop() drops pending requests and waits for the run in flight", async () => {
    const j = recordingJob();
    j.holdNext();
    trigger = indexTrigger(j.job, ctx(), { debounceMs: 10 });
    trigger.request(["u1"]);
    await waitFor("the run to start", () => (j.runs.length === 1 ? true : undefined));
    trigger.request(["u2"]);
    const stopped = trigger.stop();
    j.release();
    await stopped;
    expect(j.runs).toEqual([["u1"]]);
    expect((await recorded()).map((r) => r.outcome)).toEqual(["ok"]);
    trigger.request(["u3"]);
    expect(trigger.stats.requests).toBe(2);
  });
});
