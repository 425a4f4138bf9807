import { hostname } from "node:os";
import { crawlFiles } from "../apps/search/crawl.ts";
import { crawlGroupware, notesFolderOf } from "../apps/search/crawl-groupware.ts";
import type { Config } from "../config/index.ts";
import { IdpClient, idpSettingsOf, type Idp } from "../idp/index.ts";
import {
  housekeepingJob,
  keepaliveJob,
  reencryptJob,
  runJob,
  searchIndexJob,
  type JobRunResult,
  type ScheduledJob,
} from "../jobs/index.ts";
import type { Logger } from "../log.ts";
import { openStore, Sealer, type Store } from "../store/index.ts";
import { holdAfterRefreshHook } from "./fault-injection.ts";

/** This replica's name in job_runs: the host name and the process id. */
export const REPLICA = `${hostname()}:${process.pid}`;

/** Every job there is; the grant jobs are scheduled only when offline access is on (SEALING_KEYS). */
export const JOB_NAMES = ["housekeeping", "grants-keepalive", "grants-reencrypt", "search-index"] as const;
const GRANT_JOBS: readonly string[] = ["grants-keepalive", "grants-reencrypt", "search-index"];

/** What the jobs need besides the configuration. */
export interface JobDeps {
  /** The IdP as the gateway client (serve passes its IdpClient's load). */
  idp: () => Promise<Idp>;
}

/** The jobs this gateway runs, with their schedules from the configuration. */
export function configuredJobs(config: Config, deps: JobDeps): ScheduledJob[] {
  const jobs: ScheduledJob[] = [
    {
      job: housekeepingJob({
        jobRunsDays: config.jobs.retentionJobRunsDays,
        auditEventsDays: config.jobs.retentionAuditDays,
        revokedGrantsDays: config.jobs.retentionRevokedGrantsDays,
      }),
      schedule: config.jobs.housekeepingSchedule,
    },
  ];
  if (config.sealingKeys === undefined) return jobs;
  const sealer = new Sealer(config.sealingKeys);
  // Test-only; refuses to start outside NODE_ENV=test (fault-injection.ts).
  const afterIdpAnswer = holdAfterRefreshHook();
  jobs.push(
    {
      job: keepaliveJob({
        ...(afterIdpAnswer === undefined ? {} : { afterIdpAnswer }),
        sealer,
        idp: deps.idp,
        offlineIdleTimeoutSeconds: config.offlineIdleTimeoutSeconds,
        idleShare: config.jobs.keepaliveIdleShare,
        concurrency: config.jobs.keepaliveConcurrency,
      }),
      schedule: config.jobs.keepaliveSchedule,
    },
    { job: reencryptJob(sealer), schedule: config.jobs.reencryptSchedule },
  );
  const nextcloud = config.nextcloud;
  if (config.searchIndex.enabled && nextcloud !== undefined) {
    const { language, maxFileBytes } = config.searchIndex;
    jobs.push({
      job: searchIndexJob({
        sealer,
        idp: deps.idp,
        nextcloud: {
          baseUrl: nextcloud.url,
          audience: nextcloud.audience,
          ...(nextcloud.tokenScope === "" ? {} : { scope: nextcloud.tokenScope }),
          timeoutMs: nextcloud.timeoutMs,
        },
        language,
        // The one place where the job meets the app that reads Nextcloud (jobs do not import apps).
        pass: async (client, sink, signal) => {
          const counts: Record<string, number> = {
            ...(await crawlFiles(client.files, sink, {
              notesFolder: await notesFolderOf(client),
              maxFileBytes,
              ...(signal === undefined ? {} : { signal }),
            })),
          };
          const more = await crawlGroupware(client, sink.collections, signal);
          for (const [k, v] of Object.entries(more)) counts[k] = (counts[k] ?? 0) + v;
          return counts;
        },
      }),
      schedule: config.searchIndex.schedule,
    });
  }
  return jobs;
}

/**
 * `nextcloud-mcp-gateway jobs run <name>`: runs one job now, recorded like a scheduled run.
 * `signal` (Ctrl-C) makes a job stop taking new work; the run is still recorded.
 * @throws for an unknown job, and for a grant job while offline access is off.
 */
export async function runJobNow(
  config: Config,
  log: Logger,
  name: string,
  signal?: AbortSignal,
): Promise<JobRunResult> {
  if (!(JOB_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown job "${name}"; the jobs are: ${JOB_NAMES.join(", ")}`);
  }
  if (GRANT_JOBS.includes(name) && config.sealingKeys === undefined) {
    throw new Error(
      `offline access is off: SEALING_KEYS is not set, so there are no offline grants for ${name} to work on; set SEALING_KEYS (see docs/configuration.md) to turn offline access on`,
    );
  }
  if (name === "search-index" && !config.searchIndex.enabled) {
    throw new Error(
      "the content index is off: set SEARCH_INDEX_ENABLED=true (with NEXTCLOUD_URL and SEALING_KEYS) to run search-index",
    );
  }
  const idp = new IdpClient(idpSettingsOf(config), log);
  const found = configuredJobs(config, { idp: () => idp.load() }).find((j) => j.job.name === name);
  if (!found) throw new Error(`unreachable: job ${name} is not configured`);
  // Each refresh in flight holds a connection; one more claims, one more records the run.
  const store: Store = await openStore(config.database, {
    poolMax: name === "grants-keepalive" ? config.jobs.keepaliveConcurrency + 2 : 2,
  });
  try {
    return await runJob(found.job, { store, log, now: () => new Date(), replica: REPLICA, signal });
  } finally {
    idp.stop();
    await store.close();
  }
}
