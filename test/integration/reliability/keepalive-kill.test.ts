// Reliability scenario "keepalive-kill": a keepalive replica killed with SIGKILL.
// Real parts: Keycloak (a realm of the scenario's own with the shipped realm's refresh token
// rotation and reuse settings, see own-realm.ts: offline tokens by the thousand through the password
// grant, since browser sign-ins take seconds each), PostgreSQL, and the gateway as child processes
// (`jobs run grants-keepalive`, the same job `serve` schedules).
//
// 1. The narrow window: the IdP has answered a refresh (the old refresh token is spent) and the
//    process dies before the rotated token is committed. GATEWAY_FAULT_HOLD_AFTER_REFRESH holds the
//    process exactly there; it is killed; the next run uses the stored (old) token again. Measured
//    with the real Keycloak: with a reuse allowance of 0 it answers invalid_grant and the grant is
//    lost (the user must connect again); with 1 (what the realm ships, ADR 0018) it is refreshed and
//    stays alive.
// 2. Two replicas over many grants, one killed mid-run: the other finishes its share; once the dead
//    one's leases end (5 minutes; the scenario moves lease_until into the past instead of waiting),
//    the next run takes its grants over. Every grant refreshed exactly once, none revoked, none lost.
import path from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { OfflineGrant, Store } from "../../../src/store/index.ts";
import { gatewayCli, type Child } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";
import {
  auditPerGrant,
  lastAuditId,
  renewedDaysAgo,
  storedToken,
  type TokenOf,
} from "../jobs/grants-support.ts";
import { Figures } from "./figures.ts";
import { heldAfterRefresh, jobRanOk, leasedBy, startGrantsScene, type GrantsScene } from "./jobs-support.ts";

/**
 * Grants of the two-replica run: 1,000 (the figure; about 6 minutes on 2 busy cores, most of it
 * obtaining the offline tokens), 200 where CI is set, RELIABILITY_KILL_GRANTS to choose.
 */
const GRANTS = Number(process.env.RELIABILITY_KILL_GRANTS ?? (process.env.CI ? 200 : 1000));
const DUE_DAYS = 20;
const figures = new Figures("keepalive-kill");
let scene: GrantsScene;
let store: Store;
const children: Child[] = [];

beforeAll(async () => {
  scene = await startGrantsScene("kill", 4);
  ({ store } = scene);
});

afterAll(async () => {
  figures.flush();
  for (const c of children) c.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await scene.stop();
}, 120_000);

/** Stores `tokens` as grants, each under a user of its own (one active grant per user), all due. */
async function seed(tokens: readonly TokenOf[], prefix: string): Promise<OfflineGrant[]> {
  const saved = await scene.seed(tokens, prefix);
  await renewedDaysAgo(
    store,
    saved.map((g) => g.id),
    DUE_DAYS,
  );
  return saved;
}

function keepalive(extra: Record<string, string> = {}): Child {
  const child = gatewayCli(["jobs", "run", "grants-keepalive"], {
    ...scene.env,
    KEEPALIVE_CONCURRENCY: "4",
    LOG_LEVEL: "warn",
    ...extra,
  });
  children.push(child);
  return child;
}

const ranOk = (child: Child) => jobRanOk(child, "grants-keepalive");

/** Ends the leases `child` held now (as if its lease time had passed); the ids of those grants. */
async function expireLeasesOf(child: Child): Promise<string[]> {
  const rows = await store.db
    .updateTable("offline_grants")
    .set({ lease_until: new Date(Date.now() - 1000) })
    .where("lease_owner", "like", leasedBy(child))
    .returning("id")
    .execute();
  return rows.map((r) => r.id);
}

async function statusOf(id: string): Promise<string | undefined> {
  const row = await store.db
    .selectFrom("offline_grants")
    .select("status")
    .where("id", "=", id)
    .executeTakeFirst();
  return row?.status;
}

/** Holds a run after Keycloak answered the grant's refresh, kills it there, and runs keepalive again. */
async function killInTheWindow(label: string) {
  const [token] = await scene.realm.offlineTokens(1);
  if (!token) throw new Error("no token");
  const [grant] = await seed([token], label);
  if (!grant) throw new Error("no grant");
  const mark = await lastAuditId(store);
  const marker = path.join(scene.work, `${label}.hold`);
  const held = keepalive({
    NODE_ENV: "test",
    GATEWAY_FAULT_HOLD_AFTER_REFRESH: marker,
    KEEPALIVE_CONCURRENCY: "1",
  });
  const heldGrant = await heldAfterRefresh(marker, {
    abort: () => (held.proc.exitCode === null ? undefined : `it exited: ${held.stderr()}`),
  });
  expect(heldGrant).toBe(grant.id);
  held.kill("SIGKILL");
  expect(await held.exited).toBe("SIGKILL");
  // Nothing of that refresh was committed: the old (now spent) token is what the row holds.
  expect(await storedToken(store, grant, scene.sealer.open.bind(scene.sealer))).toBe(token.rt);
  expect(await auditPerGrant(store, "refresh", mark)).toEqual(new Map());
  expect(await expireLeasesOf(held)).toHaveLength(1);
  const counts = await ranOk(keepalive());
  return { grant, token, counts, refreshes: await auditPerGrant(store, "refresh", mark) };
}

it("the refresh window with no reuse allowance (the realm before ADR 0018): the killed refresh loses the grant", async () => {
  await scene.realm.setReuse(0);
  try {
    const r = await killInTheWindow("reuse0");
    expect(r.counts).toMatchObject({ claimed: 1, refreshed: 0, revoked: 1 });
    expect(await statusOf(r.grant.id)).toBe("revoked");
    const row = await store.db
      .selectFrom("offline_grants")
      .select("revoked_reason")
      .where("id", "=", r.grant.id)
      .executeTakeFirstOrThrow();
    expect(row.revoked_reason).toContain("invalid_grant");
    figures.note(`reuse 0: the grant killed in the window was revoked: ${row.revoked_reason ?? ""}`);
    figures.add("window.reuse0.lost", "Reuse 0: grants lost after a kill in the refresh window (of 1)", 1);
  } finally {
    await scene.realm.setReuse(scene.realm.shippedReuse);
  }
});

it("the refresh window with the shipped reuse allowance of one: the next run retries the old token and keeps the grant", async () => {
  expect(scene.realm.shippedReuse).toBe(1);
  const r = await killInTheWindow("reuse1");
  expect(r.counts).toMatchObject({ claimed: 1, refreshed: 1, revoked: 0 });
  expect(Object.fromEntries(r.refreshes)).toEqual({ [r.grant.id]: 1 });
  expect(await statusOf(r.grant.id)).toBe("active");
  // The token stored now is alive: one more run refreshes it again.
  const stored = await storedToken(store, r.grant, scene.sealer.open.bind(scene.sealer));
  expect(stored).not.toBe(r.token.rt);
  await renewedDaysAgo(store, [r.grant.id], DUE_DAYS);
  expect(await ranOk(keepalive())).toMatchObject({ refreshed: 1, revoked: 0 });
  figures.add("window.reuse1.lost", "Reuse 1: grants lost after a kill in the refresh window (of 1)", 0);
});

it(`two replicas over ${String(GRANTS)} grants, one killed with SIGKILL mid-run: every grant refreshed exactly once, none revoked, none lost`, async () => {
  const seedStarted = performance.now();
  const tokens = await scene.realm.offlineTokens(GRANTS);
  const all = await seed(tokens, "many");
  figures.add(
    "seed",
    `Offline tokens obtained and stored (${String(GRANTS)})`,
    performance.now() - seedStarted,
    "ms",
  );
  const mark = await lastAuditId(store);
  const started = performance.now();
  const [victim, survivor] = [keepalive(), keepalive()];
  // Mid-run: a tenth of the grants refreshed, and the victim has some claimed.
  await waitFor(
    "a tenth of the grants refreshed with the victim holding leases",
    async () => {
      const done = (await auditPerGrant(store, "refresh", mark)).size;
      const held = await store.db
        .selectFrom("offline_grants")
        .select("id")
        .where("lease_owner", "like", leasedBy(victim))
        .executeTakeFirst();
      return done >= GRANTS / 10 && held !== undefined ? true : undefined;
    },
    {
      timeoutMs: 120_000,
      intervalMs: 100,
      abort: () => (victim.proc.exitCode === null ? undefined : "the victim finished first"),
    },
  );
  victim.kill("SIGKILL");
  expect(await victim.exited).toBe("SIGKILL");
  const survived = await ranOk(survivor);
  // A grant the victim refreshed and committed just before the kill may still carry its lease (the
  // lease is released after the commit): it is not due any more, so the take-over leaves it alone.
  const heldByVictim = await expireLeasesOf(victim);
  const refreshedBefore = await auditPerGrant(store, "refresh", mark);
  const orphaned = heldByVictim.filter((id) => !refreshedBefore.has(id)).length;
  figures.add("orphaned", "Grants the killed replica held (taken over after their lease)", orphaned);
  const takeover = await ranOk(keepalive());
  expect(takeover.claimed).toBe(orphaned);
  figures.add(
    "run",
    `Both runs and the take-over, ${String(GRANTS)} grants`,
    performance.now() - started,
    "ms",
  );

  const refreshes = await auditPerGrant(store, "refresh", mark);
  const counts = [...refreshes.values()];
  expect(refreshes.size).toBe(GRANTS);
  expect(counts.every((n) => n === 1)).toBe(true);
  expect(await auditPerGrant(store, "revoke", mark)).toEqual(new Map());
  const rows = await store.db
    .selectFrom("offline_grants")
    .select(["id", "status", "lease_owner", "lease_until"])
    .where(
      "id",
      "in",
      all.map((g) => g.id),
    )
    .execute();
  expect(rows.filter((r) => r.status === "active")).toHaveLength(GRANTS);
  // Every live replica released its leases. The only ones left are those the killed replica never
  // released: on grants it had refreshed and committed just before the kill (so not due, and nobody
  // claims them), expired.
  const neverReleased = new Set(heldByVictim.filter((id) => refreshedBefore.has(id)));
  const leased = rows.filter((r) => r.lease_owner !== null);
  expect(leased.filter((r) => !neverReleased.has(r.id))).toEqual([]);
  expect(leased.filter((r) => r.lease_until !== null && r.lease_until.getTime() > Date.now())).toEqual([]);
  figures.add(
    "refreshed.once",
    `Grants refreshed exactly once (of ${String(GRANTS)})`,
    counts.filter((n) => n === 1).length,
  );
  figures.add("revoked", "Grants revoked", 0);
  figures.add("survivor.refreshed", "Refreshed by the surviving replica's run", survived.refreshed ?? 0);

  // The stored tokens are alive: a run over a sample of them, made due again, refreshes each.
  const sample = all.slice(0, 20).map((g) => g.id);
  await renewedDaysAgo(store, sample, DUE_DAYS);
  expect(await ranOk(keepalive())).toMatchObject({
    claimed: sample.length,
    refreshed: sample.length,
    revoked: 0,
  });
}, 600_000);
