import { purgeRevokedGrants } from "../store/grants.ts";
import { deleteExpiredLogoutTokens } from "../store/logout-tokens.ts";
import { daysBefore, type Job } from "./run.ts";

/** How long finished job runs, audit events and revoked grants are kept, in days. */
export interface Retention {
  jobRunsDays: number;
  auditEventsDays: number;
  revokedGrantsDays: number;
}

/**
 * `housekeeping`: deletes expired logout-token replay records, and job runs,
 * audit events and revoked grants older than their retention (a revoked grant's token was blanked
 * when it was revoked; the row is kept this long so the account page can say what happened).
 */
export function housekeepingJob(retention: Retention): Job {
  return {
    name: "housekeeping",
    lockKey: 7_318_842_617_301n,
    async run(ctx) {
      const now = ctx.now();
      const { db } = ctx.store;
      const logoutTokens = await deleteExpiredLogoutTokens(db, now);
      const jobRuns = await db
        .deleteFrom("job_runs")
        .where("finished_at", "<", daysBefore(now, retention.jobRunsDays))
        .executeTakeFirst();
      const auditEvents = await db
        .deleteFrom("audit_events")
        .where("at", "<", daysBefore(now, retention.auditEventsDays))
        .executeTakeFirst();
      const revokedGrants = await purgeRevokedGrants(db, daysBefore(now, retention.revokedGrantsDays));
      return {
        logoutTokens,
        jobRuns: Number(jobRuns.numDeletedRows),
        auditEvents: Number(auditEvents.numDeletedRows),
        revokedGrants,
      };
    },
  };
}
