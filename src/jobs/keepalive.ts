import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { describeError, GatewayError } from "../errors.ts";
import type { Idp } from "../idp/discovery.ts";
import { refreshAtIdp } from "../idp/refresh.ts";
import { GrantStore } from "../store/grants.ts";
import { claimDueGrants, countDueGrants, releaseGrantLeases } from "../store/leases.ts";
import type { Sealer } from "../store/sealing.ts";
import { JobFailure, type Job } from "./run.ts";

/** How one grant of a keepalive run ended. */
export type KeepaliveOutcome = "refreshed" | "revoked" | "failed" | "gone";

/** What {@link keepaliveJob} needs. */
export interface KeepaliveSettings {
  /** The key ring that opens and re-seals the stored refresh tokens. */
  sealer: Sealer;
  /** The IdP as the gateway client; loaded only once a grant is due. */
  idp: () => Promise<Idp>;
  /** The IdP's offline session idle timeout (OFFLINE_IDLE_TIMEOUT_SECONDS). */
  offlineIdleTimeoutSeconds: number;
  /** A grant idle for longer than this share of the timeout is due (KEEPALIVE_IDLE_SHARE). */
  idleShare: number;
  /** Refreshes in flight at the IdP at most, per replica (KEEPALIVE_CONCURRENCY). */
  concurrency: number;
  /** How long a claimed grant stays leased to this run; default 5 minutes. */
  leaseMs?: number;
  /** Grants claimed per statement; default twice the concurrency. */
  batchSize?: number;
  /** Stop after this many failed refreshes in a row (an IdP that is down); default max(10, 2 × concurrency). */
  maxFailuresInARow?: number;
  /**
   * Called after the IdP answered a grant's refresh, before the rotated token is committed: the
   * reliability suite's fault-injection hook (GATEWAY_FAULT_HOLD_AFTER_REFRESH); unset otherwise.
   */
  afterIdpAnswer?: (grantId: string) => Promise<void>;
  /** Called after each grant with how it ended and how long GrantStore.refresh took (bench, tests). */
  onGrant?: (event: { grantId: string; outcome: KeepaliveOutcome; ms: number }) => void;
}

export const KEEPALIVE_LEASE_MS = 5 * 60_000;

/** How long a grant may stay idle (not refreshed) before `grants-keepalive` refreshes it, in ms. */
export function keepaliveIdleMs(idleShare: number, offlineIdleTimeoutSeconds: number): number {
  return idleShare * offlineIdleTimeoutSeconds * 1000;
}

/**
 * `grants-keepalive`: refreshes every active grant that has been idle (not refreshed) for longer
 * than `idleShare` × the IdP's offline idle timeout, so that the IdP does not let it expire. Not a
 * singleton: every replica runs it and claims grants in batches under a lease (`FOR UPDATE SKIP
 * LOCKED`, see claimDueGrants), so replicas share the work and no grant is refreshed twice; the
 * leases of a crashed replica end after `leaseMs` and another replica takes the grants over. At
 * most `concurrency` refreshes per replica are in flight at the IdP. Each refresh goes through
 * GrantStore.refresh (row lock; the rotated token is stored first).
 *
 * Counts: `due` (active grants due as the run started, on all replicas), `claimed` (by this run),
 * `refreshed`, `revoked` (the IdP answered invalid_grant; the grant is now revoked with the
 * reason), `failed` (any other error; the grant stays active and keeps its lease until it ends, so
 * it is retried by a later run rather than at once), `gone` (revoked or deleted meanwhile by
 * someone else). A failed grant does not fail the run; the run fails when the database fails, the
 * IdP cannot be loaded, or `maxFailuresInARow` refreshes fail in a row (then it stops claiming).
 * When the scheduler stops, the run stops claiming, lets the refreshes in flight finish (never
 * aborting one: the IdP may already have rotated the token) and releases the leases it did not use.
 */
export function keepaliveJob(settings: KeepaliveSettings): Job {
  const leaseMs = settings.leaseMs ?? KEEPALIVE_LEASE_MS;
  const concurrency = Math.max(1, settings.concurrency);
  const batchSize = settings.batchSize ?? 2 * concurrency;
  const maxFailuresInARow = settings.maxFailuresInARow ?? Math.max(10, 2 * concurrency);
  const idleMs = keepaliveIdleMs(settings.idleShare, settings.offlineIdleTimeoutSeconds);
  return {
    name: "grants-keepalive",
    async run(ctx) {
      const { db } = ctx.store;
      const dueBefore = new Date(ctx.now().getTime() - idleMs);
      // Unique per run, so that a lease is never mistaken for another run's on the same replica.
      const owner = `${ctx.replica}/${randomUUID().slice(0, 8)}`;
      const grants = new GrantStore(db, settings.sealer);
      const counts = {
        due: await countDueGrants(db, dueBefore),
        claimed: 0,
        refreshed: 0,
        revoked: 0,
        failed: 0,
        gone: 0,
      };
      const queue: string[] = [];
      const unused: string[] = [];
      const attempted = new Set<string>();
      let exhausted = false;
      let claiming: Promise<void> | undefined;
      let broken: Error | undefined;
      let failuresInARow = 0;
      let lastFailure = "";
      let idp: Promise<Idp> | undefined;
      const stopped = () => broken !== undefined || ctx.signal?.aborted === true;

      const claimMore = async () => {
        const ids = await claimDueGrants(db, {
          owner,
          dueBefore,
          now: ctx.now(),
          leaseMs,
          limit: batchSize,
        });
        // A grant whose refresh failed earlier in this run, claimed again because its lease ended,
        // is not tried again in this run; the new lease holds it back as the old one did.
        const fresh = ids.filter((id) => !attempted.has(id));
        for (const id of fresh) attempted.add(id);
        counts.claimed += fresh.length;
        queue.push(...fresh);
        if (fresh.length === 0) exhausted = true;
      };

      const next = async (): Promise<string | undefined> => {
        for (;;) {
          if (stopped()) return undefined;
          if (queue.length <= concurrency && !exhausted) {
            claiming ??= claimMore()
              .catch((err: unknown) => {
                broken ??= new Error(`claiming due grants: ${describeError(err)}`, { cause: err });
              })
              .finally(() => {
                claiming = undefined;
              });
          }
          const id = queue.shift();
          if (id !== undefined) return id;
          if (claiming === undefined) return undefined;
          await claiming;
        }
      };

      const refreshOne = async (grantId: string, loaded: Idp) => {
        const started = performance.now();
        let outcome: KeepaliveOutcome;
        try {
          const { afterIdpAnswer } = settings;
          await grants.refresh(grantId, async (refreshToken) => {
            const answer = await refreshAtIdp(loaded, refreshToken);
            await afterIdpAnswer?.(grantId);
            return answer;
          });
          outcome = "refreshed";
        } catch (err) {
          if (err instanceof GatewayError && err.code === "invalid_grant") {
            // With a cause the IdP said so just now; without, the grant was revoked or deleted meanwhile.
            outcome = err.cause === undefined ? "gone" : "revoked";
            if (outcome === "revoked") {
              ctx.log.info({ grantId, err: describeError(err) }, "keepalive: the IdP revoked a grant");
            }
          } else {
            outcome = "failed";
            lastFailure = describeError(err);
            ctx.log.warn(
              { grantId, err: lastFailure, retryAfterMs: leaseMs },
              "keepalive: refreshing a grant failed; it stays active and is retried after its lease ends",
            );
          }
        }
        const ms = performance.now() - started;
        counts[outcome]++;
        failuresInARow = outcome === "failed" ? failuresInARow + 1 : 0;
        if (failuresInARow >= maxFailuresInARow && broken === undefined) {
          broken = new Error(
            `stopped after ${failuresInARow} refreshes in a row failed; the last: ${lastFailure}`,
          );
        }
        // A failed grant keeps its lease: no replica retries it before the lease ends.
        if (outcome !== "failed") await releaseGrantLeases(db, owner, [grantId]);
        settings.onGrant?.({ grantId, outcome, ms });
      };

      const worker = async () => {
        for (let id = await next(); id !== undefined; id = await next()) {
          idp ??= settings.idp();
          let loaded: Idp;
          try {
            loaded = await idp;
          } catch (err) {
            broken ??= new Error(`the identity provider cannot be used: ${describeError(err)}`, {
              cause: err,
            });
            unused.push(id);
            return;
          }
          try {
            await refreshOne(id, loaded);
          } catch (err) {
            broken ??= new Error(`releasing a grant's lease: ${describeError(err)}`, { cause: err });
            return;
          }
        }
      };

      await Promise.all(Array.from({ length: concurrency }, worker));
      await claiming;
      unused.push(...queue.splice(0));
      if (unused.length > 0) {
        try {
          await releaseGrantLeases(db, owner, unused);
        } catch (err) {
          // They end by themselves after leaseMs.
          ctx.log.warn({ err: describeError(err), grants: unused.length }, "keepalive: leases not released");
        }
      }
      if (counts.failed > 0) {
        ctx.log.warn(
          { failed: counts.failed, last: lastFailure },
          "keepalive: some grants could not be refreshed; they stay active and are retried by a later run",
        );
      }
      if (broken !== undefined) throw new JobFailure(broken.message, counts);
      return counts;
    },
  };
}
