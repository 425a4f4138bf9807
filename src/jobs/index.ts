// Background jobs: node-cron only triggers them; runJob claims each run in the database (advisory
// lock for singletons) and records it in job_runs, so many replicas never run the same work twice.
export { housekeepingJob, type Retention } from "./housekeeping.ts";
export { daysBefore, runJob, type Job, type JobContext, type JobRunResult } from "./run.ts";
export { startScheduler, type ScheduledJob, type Scheduler } from "./scheduler.ts";
