import { hostname } from "node:os";
import type { Config } from "../config/index.ts";
import { housekeepingJob, runJob, type JobRunResult, type ScheduledJob } from "../jobs/index.ts";
import type { Logger } from "../log.ts";
import { openStore, type Store } from "../store/index.ts";

/** This replica's name in job_runs: the host name and the process id. */
export const REPLICA = `${hostname()}:${process.pid}`;

/** The jobs this gateway runs, with their schedules from the configuration. */
export function configuredJobs(config: Config): ScheduledJob[] {
  return [
    {
      job: housekeepingJob({
        jobRunsDays: config.jobs.retentionJobRunsDays,
        auditEventsDays: config.jobs.retentionAuditDays,
      }),
      schedule: config.jobs.housekeepingSchedule,
    },
  ];
}

/** `nextcloud-mcp-gateway jobs run <name>`: runs one job now, recorded like a scheduled run. */
export async function runJobNow(config: Config, log: Logger, name: string): Promise<JobRunResult> {
  const jobs = configuredJobs(config);
  const found = jobs.find((j) => j.job.name === name);
  if (!found) {
    throw new Error(`unknown job "${name}"; the jobs are: ${jobs.map((j) => j.job.name).join(", ")}`);
  }
  const store: Store = await openStore(config.database, { poolMax: 2 });
  try {
    return await runJob(found.job, { store, log, now: () => new Date(), replica: REPLICA });
  } finally {
    await store.close();
  }
}
