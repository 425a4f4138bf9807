import { randomUUID } from "node:crypto";
import { describeError, GatewayError } from "../errors.ts";
import type { Idp } from "../idp/discovery.ts";
import { exchangeToken } from "../idp/exchange.ts";
import { refreshAtIdp } from "../idp/refresh.ts";
import { createNextcloudClient, type NextcloudClient, type RouteProbe } from "../nextcloud/index.ts";
import { GrantStore } from "../store/grants.ts";
import type { Sealer } from "../store/sealing.ts";
import { checkTextSearchConfig, SearchIndex, type UserIndexSink } from "../store/search-index.ts";
import {
  claimDueIndexUsers,
  countDueIndexUsers,
  enrolIndexUsers,
  finishIndexPass,
  releaseIndexLease,
  type IndexClaim,
} from "../store/search-leases.ts";
import { JobFailure, type Job } from "./run.ts";

/** One pass over a user's Nextcloud into their index; returns what it counted. */
export type IndexPass = (
  client: NextcloudClient,
  sink: UserIndexSink,
  signal: AbortSignal | undefined,
) => Promise<Record<string, number>>;

/** What {@link searchIndexJob} needs. */
export interface SearchIndexSettings {
  /** Opens and re-seals the stored refresh tokens. */
  sealer: Sealer;
  /** The IdP as the gateway client; loaded only once a user is due. */
  idp: () => Promise<Idp>;
  /** Where Nextcloud is and what the token exchange asks for (as the token broker does). */
  nextcloud: { baseUrl: string; audience: string; scope?: string; timeoutMs: number; routes?: RouteProbe };
  /** The text search configuration items are indexed with (SEARCH_LANGUAGE). */
  language: string;
  /**
   * The pass itself (src/apps/search crawlFiles), handed in by the composition root: jobs do not
   * import apps.
   */
  pass: IndexPass;
  /** How long a claimed user stays leased to this run; default 30 minutes. */
  leaseMs?: number;
  /** When a failed user is tried again; default 15 minutes. */
  retryAfterMs?: number;
}

export const SEARCH_INDEX_LEASE_MS = 30 * 60_000;
const RETRY_AFTER_MS = 15 * 60_000;

/**
 * `search-index`: keeps the content index of every user who granted offline access. Every replica
 * runs it: it first gives each user with an active grant an index state row, then claims due users
 * one at a time under a lease (claimDueIndexUsers, `FOR UPDATE SKIP LOCKED`), so two replicas never
 * index one user at once. Per user it refreshes the grant (GrantStore.refresh, as keepalive does),
 * exchanges the access token for a Nextcloud token, and runs one pass; a complete pass sets
 * `ready_at`, a failed one stores `last_error` and is retried after `retryAfterMs`. A user is due
 * again from the end of their pass on, so the next scheduled run reads what changed meanwhile.
 *
 * Counts: `enrolled` (users given an index state row), `due`, `claimed`, `passes` (users whose
 * pass completed), `failed`, `revoked` (the grant ended), and the passes' own counts summed under
 * their names (`folders`, `read`, `removed`, `requests`, …). The run fails when the
 * database fails or the IdP cannot be loaded; one user's failure does not fail it.
 */
export function searchIndexJob(settings: SearchIndexSettings): Job {
  const leaseMs = settings.leaseMs ?? SEARCH_INDEX_LEASE_MS;
  const retryAfterMs = settings.retryAfterMs ?? RETRY_AFTER_MS;
  return {
    name: "search-index",
    async run(ctx) {
      const { db } = ctx.store;
      await checkTextSearchConfig(db, settings.language);
      const started = ctx.now();
      const owner = `${ctx.replica}/${randomUUID().slice(0, 8)}`;
      const grants = new GrantStore(db, settings.sealer);
      const index = new SearchIndex(db, settings.language);
      const counts: Record<string, number> = { enrolled: await enrolIndexUsers(db, started) };
      counts.due = await countDueIndexUsers(db, started, ctx.focus);
      counts.claimed = 0;
      counts.passes = 0;
      counts.failed = 0;
      counts.revoked = 0;
      let idp: Idp | undefined;
      const aborted = () => ctx.signal?.aborted === true;
      const add = (k: string) => {
        counts[k] = (counts[k] ?? 0) + 1;
      };

      const passOf = async (claim: IndexClaim, loaded: Idp) => {
        const access = await grants.refresh(claim.grantId, (rt) => refreshAtIdp(loaded, rt));
        const exchanged = await exchangeToken(loaded, access.accessToken, {
          audience: settings.nextcloud.audience,
          ...(settings.nextcloud.scope === undefined ? {} : { scope: settings.nextcloud.scope }),
        });
        let uid = claim.nextcloudUid ?? undefined;
        const client = createNextcloudClient({
          baseUrl: settings.nextcloud.baseUrl,
          timeoutMs: settings.nextcloud.timeoutMs,
          token: () => exchanged.accessToken,
          userKey: `user:${claim.userId}`,
          ...(settings.nextcloud.routes === undefined ? {} : { routes: settings.nextcloud.routes }),
          ...(uid === undefined
            ? {
                onUser: (u) => {
                  uid = u.id;
                },
              }
            : { userId: uid }),
        });
        const passCounts = await settings.pass(client, index.sinkFor(claim.userId), ctx.signal);
        for (const [k, v] of Object.entries(passCounts)) counts[k] = (counts[k] ?? 0) + v;
        return uid;
      };

      for (;;) {
        if (aborted()) break;
        const [claim] = await claimDueIndexUsers(db, {
          owner,
          dueBefore: started,
          now: ctx.now(),
          leaseMs,
          limit: 1,
          ...(ctx.focus === undefined ? {} : { userIds: ctx.focus }),
        });
        if (claim === undefined) break;
        add("claimed");
        try {
          idp ??= await settings.idp();
        } catch (err) {
          await releaseIndexLease(db, owner, claim.userId);
          throw new JobFailure(`the identity provider cannot be used: ${describeError(err)}`, counts, {
            cause: err,
          });
        }
        try {
          const uid = await passOf(claim, idp);
          await finishIndexPass(db, owner, claim.userId, {
            at: ctx.now(),
            nextRunAt: ctx.now(),
            ...(uid === undefined ? {} : { nextcloudUid: uid }),
          });
          add("passes");
        } catch (err) {
          if (aborted()) {
            // Stopped half-way: what was written stays; the user is due again at once.
            await releaseIndexLease(db, owner, claim.userId);
            break;
          }
          const revoked = err instanceof GatewayError && err.code === "invalid_grant";
          add(revoked ? "revoked" : "failed");
          const error = revoked
            ? "offline access ended (the grant was revoked); connect again on the account page"
            : describeError(err).slice(0, 1000);
          ctx.log.warn({ userId: claim.userId, err: error }, "search-index: a user's pass failed");
          await finishIndexPass(db, owner, claim.userId, {
            at: ctx.now(),
            nextRunAt: new Date(ctx.now().getTime() + retryAfterMs),
            error,
          });
        }
      }
      return counts;
    },
  };
}
