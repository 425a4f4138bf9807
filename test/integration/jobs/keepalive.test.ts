// grants-keepalive against the real Keycloak and PostgreSQL: only grants that are due are refreshed,
// each exactly once even when two replicas (two pools, or two gateway processes) run the job at the
// same moment; a lease held by a live replica is respected and an expired one taken over; a grant
// revoked at Keycloak becomes revoked with the reason; an unreachable IdP fails grants, not the run.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { refreshAtIdp, type Idp } from "../../../src/idp/index.ts";
import {
  keepaliveJob,
  runJob,
  startScheduler,
  type JobContext,
  type KeepaliveSettings,
} from "../../../src/jobs/index.ts";
import { createLogger } from "../../../src/log.ts";
import {
  GrantStore,
  migrate,
  openStore,
  Sealer,
  type OfflineGrant,
  type Store,
} from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { gatewayCli } from "../../harness/process.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { freePort } from "../../harness/wait.ts";
import { backends, useMigratedStore } from "../store/backends.ts";
import { idpWithTokenEndpoint, loadIdp } from "../tokens/support.ts";
import {
  auditPerGrant,
  fakeGrants,
  lastAuditId,
  realGrants,
  renewedDaysAgo,
  revokeAtKeycloak,
  rowsOf,
  sealingKey,
  sealingKeysEnv,
  storedToken,
} from "./grants-support.ts";
import { startTokenGate } from "./token-gate.ts";

const kc = inject("keycloak");
const realmEnv = inject("realmEnv");
const k1 = sealingKey("k1");
const sealer = new Sealer([k1]);
const THIRTY_DAYS = 2_592_000;
/** Idle for 20 of 30 days: due at the default share of 0.5. */
const DUE = 20;
/** Idle for 1 day: not due. */
const FRESH = 1;

const ctxFor = (store: Store, replica: string): JobContext => ({
  store,
  log: createLogger("silent"),
  now: () => new Date(),
  replica,
});

function job(idp: () => Promise<Idp>, more: Partial<KeepaliveSettings> = {}) {
  return keepaliveJob({
    sealer,
    idp,
    offlineIdleTimeoutSeconds: THIRTY_DAYS,
    idleShare: 0.5,
    concurrency: 2,
    ...more,
  });
}

const ids = (grants: readonly OfflineGrant[]) => grants.map((g) => g.id);

describe("grants-keepalive with real offline tokens (PostgreSQL, Keycloak)", () => {
  let browser: Browser;
  let database: { url: string; drop(): Promise<void> };
  let store: Store;
  let grants: GrantStore;
  let idp: Idp;
  /** Grants with real offline tokens of alice and bob, alive at Keycloak. */
  let real: OfflineGrant[] = [];
  let fakeCount = 0;

  beforeAll(async () => {
    browser = await launchBrowser();
    database = await createTestDatabase(inject("pgAdminUrl"), "keepalive");
    store = await openStore({ backend: "postgres", url: database.url, poolMax: 6 });
    await migrate(store);
    grants = new GrantStore(store.db, sealer);
    idp = await loadIdp();
    real = await realGrants(browser, store, grants, 8);
    await browser.close();
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });
  beforeEach(async () => {
    // Nothing due unless a test says so.
    await renewedDaysAgo(store, ids(real), FRESH);
  });

  /** The grants still alive at Keycloak: each refreshes once more through the store. */
  async function expectAlive(list: readonly OfflineGrant[]) {
    for (const g of list) {
      await expect(grants.refresh(g.id, (rt) => refreshAtIdp(idp, rt))).resolves.toMatchObject({
        accessToken: expect.stringMatching(/^eyJ/) as unknown,
      });
    }
  }

  it("refreshes only the grants that are due, each once, and they still refresh afterwards", async () => {
    const due = real.slice(0, 4);
    const notDue = real.slice(4);
    await renewedDaysAgo(store, ids(due), DUE);
    const before = await rowsOf(store, ids(real));
    const mark = await lastAuditId(store);

    const result = await runJob(
      job(() => Promise.resolve(idp)),
      ctxFor(store, "r1"),
    );
    expect(result).toEqual({
      job: "grants-keepalive",
      outcome: "ok",
      counts: { due: 4, claimed: 4, refreshed: 4, revoked: 0, failed: 0, gone: 0 },
    });
    const refreshes = await auditPerGrant(store, "refresh", mark);
    expect(Object.fromEntries(refreshes)).toEqual(Object.fromEntries(due.map((g) => [g.id, 1])));
    const after = await rowsOf(store, ids(real));
    for (const g of due) {
      const row = after.get(g.id);
      expect(row?.last_refreshed_at?.getTime()).toBeGreaterThan(Date.now() - 60_000);
      // Keycloak rotated the token; the store kept the new one and released the lease.
      expect(row?.refresh_token_sealed).not.toEqual(before.get(g.id)?.refresh_token_sealed);
      expect(row).toMatchObject({ status: "active", lease_owner: null, lease_until: null });
    }
    for (const g of notDue) expect(after.get(g.id)).toEqual(before.get(g.id));

    const [run] = await store.db
      .selectFrom("job_runs")
      .selectAll()
      .where("job", "=", "grants-keepalive")
      .orderBy("id", "desc")
      .limit(1)
      .execute();
    expect(run).toMatchObject({ replica: "r1", outcome: "ok", error: null, counts: result.counts });
    await expectAlive(due);
  });

  it("shares the work between two replicas (two pools) running at the same moment: each grant once", async () => {
    const other = await openStore({ backend: "postgres", url: database.url, poolMax: 3 });
    try {
      await renewedDaysAgo(store, ids(real), DUE);
      const mark = await lastAuditId(store);
      // A barrier instead of luck: a replica loads the IdP only once it has claimed a grant, and
      // neither gets it before both have asked, so both hold a lease before either refreshes.
      const claimed = { a: Promise.withResolvers<true>(), b: Promise.withResolvers<true>() };
      const gated = (me: "a" | "b", other: "a" | "b") =>
        job(
          async () => {
            claimed[me].resolve(true);
            await claimed[other].promise;
            return idp;
          },
          { concurrency: 1 },
        );
      const [a, b] = await Promise.all([
        runJob(gated("a", "b"), ctxFor(store, "a")),
        runJob(gated("b", "a"), ctxFor(other, "b")),
      ]);
      expect([a.outcome, b.outcome]).toEqual(["ok", "ok"]);
      expect((a.counts.claimed ?? 0) + (b.counts.claimed ?? 0)).toBe(real.length);
      expect((a.counts.refreshed ?? 0) + (b.counts.refreshed ?? 0)).toBe(real.length);
      // Both did part of the work: they ran side by side, not one after the other.
      expect(a.counts.claimed).toBeGreaterThan(0);
      expect(b.counts.claimed).toBeGreaterThan(0);
      const refreshes = await auditPerGrant(store, "refresh", mark);
      expect(Object.fromEntries(refreshes)).toEqual(Object.fromEntries(real.map((g) => [g.id, 1])));
      await expectAlive(real);
    } finally {
      await other.close();
    }
  });

  it("two gateway processes running `jobs run grants-keepalive` at once handle each grant exactly once", async () => {
    await renewedDaysAgo(store, ids(real), DUE);
    // A few grants Keycloak answers invalid_grant for: both outcomes, counted across the processes.
    const fake = await fakeGrants(store, grants, 4, `cli-${fakeCount++}`);
    await renewedDaysAgo(store, ids(fake), DUE);
    const mark = await lastAuditId(store);
    const env = {
      GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
      OIDC_ISSUER: kc.issuer,
      OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
      DATABASE_URL: database.url,
      SEALING_KEYS: sealingKeysEnv(k1),
      KEEPALIVE_CONCURRENCY: "1",
      LOG_LEVEL: "warn",
    };
    const tokens = await Promise.all(real.map((g) => storedToken(store, g, sealer.open.bind(sealer))));
    // A process asks Keycloak's token endpoint only after it has claimed a grant, one refresh at a
    // time (KEEPALIVE_CONCURRENCY 1): the gate holds those requests until two wait at once, so both
    // processes have claimed grants before either refreshes one, however they are scheduled.
    const gate = await startTokenGate(2);
    const children = [
      gatewayCli(["jobs", "run", "grants-keepalive"], { ...env, ...gate.env }),
      gatewayCli(["jobs", "run", "grants-keepalive"], { ...env, ...gate.env }),
    ];
    // A process that ends while the gate is closed must not leave the other waiting.
    for (const c of children) {
      void c.exited.then(() => {
        gate.open();
      });
    }
    const codes = await Promise.all(children.map((c) => c.exited)).finally(() => gate.close());
    expect(gate.held).toBe(2);
    const output = children.map((c) => c.stdout() + c.stderr()).join("\n");
    expect(codes, output).toEqual([0, 0]);
    for (const c of children) expect(c.stdout()).toMatch(/^grants-keepalive: ok \{"due":\d+,"claimed":\d+,/m);
    for (const t of tokens) expect(output).not.toContain(t);
    expect(output).not.toContain(realmEnv.MCP_GATEWAY_CLIENT_SECRET);

    const runs = await store.db
      .selectFrom("job_runs")
      .selectAll()
      .where("job", "=", "grants-keepalive")
      .where("started_at", ">", new Date(Date.now() - 120_000))
      .where("replica", "like", "%:%")
      .execute();
    expect(runs.map((r) => r.outcome)).toEqual(["ok", "ok"]);
    expect(new Set(runs.map((r) => r.replica)).size).toBe(2);
    const sum = (k: string) => runs.reduce((n, r) => n + (r.counts[k] ?? 0), 0);
    expect(sum("claimed")).toBe(real.length + fake.length);
    expect(sum("refreshed")).toBe(real.length);
    expect(sum("revoked")).toBe(fake.length);
    expect(runs.every((r) => (r.counts.claimed ?? 0) > 0)).toBe(true);

    expect(Object.fromEntries(await auditPerGrant(store, "refresh", mark))).toEqual(
      Object.fromEntries(real.map((g) => [g.id, 1])),
    );
    expect(Object.fromEntries(await auditPerGrant(store, "revoke", mark))).toEqual(
      Object.fromEntries(fake.map((g) => [g.id, 1])),
    );
    await expectAlive(real);
  });

  it("skips a grant leased by a live replica and takes over one whose replica crashed", async () => {
    const [held, orphaned] = real as [OfflineGrant, OfflineGrant];
    await renewedDaysAgo(store, [held.id, orphaned.id], DUE);
    const now = Date.now();
    await store.db
      .updateTable("offline_grants")
      .set({ lease_owner: "live-replica/1", lease_until: new Date(now + 120_000) })
      .where("id", "=", held.id)
      .execute();
    await store.db
      .updateTable("offline_grants")
      .set({ lease_owner: "crashed-replica/2", lease_until: new Date(now - 1000) })
      .where("id", "=", orphaned.id)
      .execute();
    const before = await rowsOf(store, [held.id]);
    const mark = await lastAuditId(store);

    const result = await runJob(
      job(() => Promise.resolve(idp)),
      ctxFor(store, "r1"),
    );
    expect(result.counts).toEqual({ due: 2, claimed: 1, refreshed: 1, revoked: 0, failed: 0, gone: 0 });
    expect(Object.fromEntries(await auditPerGrant(store, "refresh", mark))).toEqual({ [orphaned.id]: 1 });
    const after = await rowsOf(store, [held.id, orphaned.id]);
    expect(after.get(held.id)).toEqual(before.get(held.id));
    expect(after.get(orphaned.id)).toMatchObject({ lease_owner: null, lease_until: null });
    await expectAlive([orphaned]);
  });

  it("marks a grant revoked at Keycloak as revoked, with the reason, and counts it", async () => {
    const victim = real.at(-1) as OfflineGrant;
    real = real.slice(0, -1);
    await revokeAtKeycloak(await storedToken(store, victim, sealer.open.bind(sealer)));
    await renewedDaysAgo(store, [victim.id], DUE);
    const mark = await lastAuditId(store);

    const result = await runJob(
      job(() => Promise.resolve(idp)),
      ctxFor(store, "r1"),
    );
    expect(result).toMatchObject({
      outcome: "ok",
      counts: { due: 1, claimed: 1, refreshed: 0, revoked: 1, failed: 0 },
    });
    const row = (await rowsOf(store, [victim.id])).get(victim.id);
    expect(row?.status).toBe("revoked");
    expect(row?.revoked_reason).toMatch(/^the identity provider answered invalid_grant/);
    expect(row?.lease_owner).toBeNull();
    expect(Object.fromEntries(await auditPerGrant(store, "revoke", mark))).toEqual({ [victim.id]: 1 });
  });
});

describe("refreshAtIdp", () => {
  it("passes Keycloak's invalid_grant on unchanged, for the grant store to revoke the grant", async () => {
    const err = await refreshAtIdp(await loadIdp(), "not-a-refresh-token").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).not.toBeInstanceOf(GatewayError);
    expect((err as { error?: unknown }).error).toBe("invalid_grant");
  });

  it("names OIDC_CLIENT_SECRET when Keycloak refuses the gateway's client credentials", async () => {
    const err = await refreshAtIdp(await loadIdp("mcp-gateway", "wrong-secret"), "not-a-refresh-token").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe("server_error");
    expect((err as GatewayError).description).toMatch(
      /OIDC_CLIENT_ID \(mcp-gateway\) and OIDC_CLIENT_SECRET/,
    );
    expect((err as GatewayError).detail).toMatch(/401 (invalid|unauthorized)_client/);
  });
});

describe.each(backends())("grants-keepalive when things fail, on $name", (backend) => {
  let store: Store;
  let grants: GrantStore;
  let unreachable: Idp;
  useMigratedStore(backend, (s) => {
    store = s;
  });
  beforeEach(async () => {
    grants = new GrantStore(store.db, sealer);
    unreachable = idpWithTokenEndpoint(await loadIdp(), `http://127.0.0.1:${await freePort()}/token`);
  });

  it("counts grants the IdP cannot be reached for as failed, keeps them active and leased, and the run ok", async () => {
    const list = await fakeGrants(store, grants, 3);
    await renewedDaysAgo(store, ids(list), DUE);
    const result = await runJob(
      job(() => Promise.resolve(unreachable)),
      ctxFor(store, "r1"),
    );
    expect(result).toEqual({
      job: "grants-keepalive",
      outcome: "ok",
      counts: { due: 3, claimed: 3, refreshed: 0, revoked: 0, failed: 3, gone: 0 },
    });
    for (const row of (await rowsOf(store, ids(list))).values()) {
      expect(row.status).toBe("active");
      expect(row.lease_owner).toMatch(/^r1\//);
      // Held back for the lease (5 minutes), so that no replica retries it at once.
      expect(row.lease_until?.getTime()).toBeGreaterThan(Date.now() + 4 * 60_000);
    }
    const again = await runJob(
      job(() => Promise.resolve(unreachable)),
      ctxFor(store, "r2"),
    );
    expect(again.counts).toMatchObject({ due: 3, claimed: 0, failed: 0 });
  });

  it("stops and records the run failed when refreshes keep failing in a row, releasing what it did not try", async () => {
    const list = await fakeGrants(store, grants, 5);
    await renewedDaysAgo(store, ids(list), DUE);
    const result = await runJob(
      job(() => Promise.resolve(unreachable), { concurrency: 1, maxFailuresInARow: 2 }),
      ctxFor(store, "r1"),
    );
    expect(result.outcome).toBe("failed");
    expect(result.error).toMatch(
      /^stopped after 2 refreshes in a row failed; the last: temporarily_unavailable: The identity provider is unreachable.*ECONNREFUSED/,
    );
    expect(result.counts).toMatchObject({ due: 5, failed: 2, refreshed: 0 });
    const rows = [...(await rowsOf(store, ids(list))).values()];
    expect(rows.filter((r) => r.lease_owner !== null)).toHaveLength(2);
    const [run] = await store.db.selectFrom("job_runs").selectAll().execute();
    expect(run).toMatchObject({ outcome: "failed", counts: result.counts });
  });

  it("fails the run, and frees the grants, when the IdP cannot be loaded", async () => {
    const list = await fakeGrants(store, grants, 2);
    await renewedDaysAgo(store, ids(list), DUE);
    const result = await runJob(
      job(() => Promise.reject(new Error("discovery at https://sso.example.com: fetch failed"))),
      ctxFor(store, "r1"),
    );
    expect(result).toMatchObject({
      outcome: "failed",
      error: "the identity provider cannot be used: discovery at https://sso.example.com: fetch failed",
    });
    for (const row of (await rowsOf(store, ids(list))).values()) expect(row.lease_owner).toBeNull();
  });

  it("stops claiming when the scheduler stops, and frees the grants it did not get to", async () => {
    const list = await fakeGrants(store, grants, 6);
    await renewedDaysAgo(store, ids(list), DUE);
    let stopping: Promise<void> | undefined;
    const scheduler = startScheduler(
      [
        {
          job: job(() => Promise.resolve(unreachable), {
            concurrency: 1,
            onGrant: () => {
              stopping ??= scheduler.stop();
            },
          }),
          schedule: "0 0 1 1 *",
        },
      ],
      ctxFor(store, "r1"),
    );
    const result = await scheduler.tick("grants-keepalive");
    await stopping;
    expect(result).toMatchObject({ outcome: "ok", counts: { due: 6, failed: 1, refreshed: 0 } });
    const rows = [...(await rowsOf(store, ids(list))).values()];
    expect(rows.filter((r) => r.lease_owner !== null)).toHaveLength(1);
  });
});
