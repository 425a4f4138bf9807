// Background jobs: node-cron only triggers them; the work is claimed in the database (an advisory
// lock for singleton jobs, per-grant leases with FOR UPDATE SKIP LOCKED for work shared between
// replicas) and every run is recorded in job_runs, so many replicas never do the same work twice.
export { housekeepingJob, type Retention } from "./housekeeping.ts";
export {
  keepaliveIdleMs,
  keepaliveJob,
  KEEPALIVE_LEASE_MS,
  type KeepaliveOutcome,
  type KeepaliveSettings,
} from "./keepalive.ts";
export {
  searchIndexJob,
  SEARCH_INDEX_LEASE_MS,
  type IndexPass,
  type SearchIndexSettings,
} from "./search-index.ts";
export { indexTrigger, PROMPT_RUN_DEBOUNCE_MS, type IndexTrigger } from "./index-trigger.ts";
export { grantsByKey, reencryptJob, type KeyUsage } from "./reencrypt.ts";
export { daysBefore, JobFailure, runJob, type Job, type JobContext, type JobRunResult } from "./run.ts";
export { startScheduler, type ScheduledJob, type Scheduler } from "./scheduler.ts";
