import { daysBefore, type Job } from "./run.ts";

/** How long finished job runs and audit events are kept, in days. */
export interface Retention {
  jobRunsDays: number;
  auditEventsDays: number;
}

/**
 * `housekeeping`: deletes job runs and audit events older than their retention. Revoked grants are
 * kept (the account page shows them; DESIGN §6.6).
 */
export function housekeepingJob(retention: Retention): Job {
  return {
    name: "housekeeping",
    lockKey: 7_318_842_617_301n,
    async run(ctx) {
      const now = ctx.now();
      const { db } = ctx.store;
      const jobRuns = await db
        .deleteFrom("job_runs")
        .where("finished_at", "<", daysBefore(now, retention.jobRunsDays))
        .executeTakeFirst();
      const auditEvents = await db
        .deleteFrom("audit_events")
        .where("at", "<", daysBefore(now, retention.auditEventsDays))
        .executeTakeFirst();
      return {
        jobRuns: Number(jobRuns.numDeletedRows),
        auditEvents: Number(auditEvents.numDeletedRows),
      };
    },
  };
}
