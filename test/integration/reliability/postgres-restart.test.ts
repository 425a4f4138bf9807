// Reliability scenario "postgres-restart": the gateway's PostgreSQL is stopped and started again.
// Real parts: a PostgreSQL server of the scenario's own (so it can be stopped; same port after the
// start), Keycloak (sign-in, token exchange, offline tokens), the gateway in its own process (`serve`,
// scheduler on, grants-keepalive every 2 s), the Nextcloud stand-in. What operators and users see
// is asserted: /readyz false within seconds of the stop and true again after the start without a
// gateway restart; MCP calls that need no database keep working meanwhile; scheduled jobs fail to
// run while it is down, the process stays up, and they run again after the start (two real grants
// made due then are refreshed exactly once each); no grant, user or job record is lost or
// duplicated; and the gateway still stops cleanly on SIGTERM.
//
// Defect found and fixed: every query ran on a reserve()d postgres.js connection (kysely-postgres-js),
// and postgres.js 3.4.9 puts a released connection back among the open ones even when its socket
// closed while it was reserved: the next query written to it threw an uncaught TypeError
// (connection.js nextWrite, `socket.write` on null) and the process died; after surviving that, its
// shutdown hung. The store no longer reserves connections (src/store/postgres-dialect.ts).
import { performance } from "node:perf_hooks";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { GrantStore, openStore, Sealer, type OfflineGrant, type Store } from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { gatewayCli, waitForReady, type Child } from "../../harness/process.ts";
import {
  createTestDatabase,
  startRestartablePostgres,
  type RestartablePostgres,
} from "../../harness/postgres.ts";
import { freePort, waitFor } from "../../harness/wait.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import {
  auditPerGrant,
  fakeGrants,
  lastAuditId,
  realGrants,
  renewedDaysAgo,
  sealingKey,
  sealingKeysEnv,
} from "../jobs/grants-support.ts";
import { callTool, listToolNames } from "../support/mcp-call.ts";
import { mcpTokens } from "../search/support.ts";
import { Figures } from "./figures.ts";

/** Grants not due: they must come through untouched. */
const GRANTS = 20;
/** Idle for 20 of 30 days: due at the default share of 0.5. */
const DUE_DAYS = 20;
const key = sealingKey("k1");
const figures = new Figures("postgres-restart");
let pg: RestartablePostgres;
let database: { url: string; drop(): Promise<void> };
let standin: NextcloudStandin;
let gw: Child;
let gwUrl: string;
let browser: Browser;
let store: Store;
let alice: string;
let idle: OfflineGrant[];
let real: OfflineGrant[];

beforeAll(async () => {
  const kc = inject("keycloak");
  const realmEnv = inject("realmEnv");
  pg = await startRestartablePostgres();
  database = await createTestDatabase(pg.adminUrl, "pgr");
  standin = await startNextcloudStandin({ issuer: kc.issuer, audience: "nextcloud" });
  const port = await freePort();
  gwUrl = `http://127.0.0.1:${String(port)}`;
  gw = gatewayCli(["serve"], {
    GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
    PORT: String(port),
    OIDC_ISSUER: kc.issuer,
    OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
    DATABASE_URL: database.url,
    NEXTCLOUD_URL: standin.url,
    MCP_DEFAULT_APPS: "notes",
    SEALING_KEYS: sealingKeysEnv(key),
    KEEPALIVE_SCHEDULE: "*/2 * * * * *",
    LOG_LEVEL: "info",
  });
  await waitForReady(gw, port, 60_000);
  // The scenario's own look at the gateway's database: a separate pool, as an operator's psql would be.
  store = await openStore({ backend: "postgres", url: database.url, poolMax: 2 });
  const grants = new GrantStore(store.db, new Sealer([key]));
  idle = await fakeGrants(store, grants, GRANTS, "restart");
  browser = await launchBrowser();
  real = await realGrants(browser, store, grants, 2);
  ({ alice } = await mcpTokens(browser, ["alice"], "openid mcp:tools mcp:write"));
});

afterAll(async () => {
  figures.flush();
  await browser.close();
  await store.close();
  gw.kill("SIGKILL");
  await gw.exited;
  await standin.stop();
  await database.drop().catch(() => undefined);
  await pg.stop();
}, 120_000);

async function readyz(): Promise<{ status: number; database: string | undefined }> {
  const res = await fetch(`${gwUrl}/readyz`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { checks?: { database?: { status?: string } } };
  return { status: res.status, database: body.checks?.database?.status };
}

/** Everything the database holds about people, grants and jobs, keyed by row id. */
async function snapshot() {
  const users = await store.db.selectFrom("users").selectAll().orderBy("id").execute();
  const grants = await store.db
    .selectFrom("offline_grants")
    .select(["id", "user_id", "status", "refresh_token_sealed", "key_id", "last_refreshed_at"])
    .orderBy("id")
    .execute();
  const runs = await store.db
    .selectFrom("job_runs")
    .select(["id", "job", "replica", "started_at", "finished_at", "outcome"])
    .orderBy("id")
    .execute();
  const audit = await store.db.selectFrom("audit_events").select(["id", "action"]).orderBy("id").execute();
  return { users, grants, runs, audit };
}

const couldNotRun = () =>
  gw
    .stdout()
    .split("\n")
    .filter((l) => l.includes("job could not run")).length;

it("survives a PostgreSQL restart: not ready while it is down, MCP keeps answering, jobs pause and resume, nothing lost", async () => {
  expect(await readyz()).toEqual({ status: 200, database: "ok" });
  const before = await callTool(gwUrl, alice, "notes_list");
  expect(before.isError, before.content[0]?.text).toBeFalsy();
  // At least one scheduled keepalive run recorded before the stop.
  await waitFor("a keepalive run recorded", async () =>
    (await store.db.selectFrom("job_runs").select("id").where("outcome", "=", "ok").executeTakeFirst()) ===
    undefined
      ? undefined
      : true,
  );
  const kept = await snapshot();
  const failedBefore = couldNotRun();

  const stoppedAt = performance.now();
  pg.stopServer();
  const notReady = await waitFor(
    "/readyz to report the database failed",
    async () => {
      const r = await readyz();
      return r.status === 503 && r.database === "failed" ? performance.now() - stoppedAt : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  figures.add("readyz.false", "/readyz false after the stop", notReady, "ms");

  // While PostgreSQL is down: tools/list and a Nextcloud tool need no database.
  const listed = await listToolNames(gwUrl, alice);
  expect(listed).toContain("notes_list");
  const during = await callTool(gwUrl, alice, "notes_list");
  expect(during.isError, during.content[0]?.text).toBeFalsy();
  const created = await callTool(gwUrl, alice, "notes_create", { title: "Written while PG was down" });
  expect(created.isError, created.content[0]?.text).toBeFalsy();
  // Jobs pause: the scheduler's runs cannot start (not even be recorded), and the process stays up.
  await waitFor("a scheduled run to fail while PostgreSQL is down", () =>
    couldNotRun() > failedBefore ? true : undefined,
  );
  expect(gw.proc.exitCode, gw.stderr()).toBeNull();
  figures.add("mcp.calls", "MCP calls answered while PostgreSQL was down (of 3)", 3);

  const startedAt = performance.now();
  pg.startServer();
  const ready = await waitFor(
    "/readyz to be ready again without a gateway restart",
    async () => ((await readyz()).status === 200 ? performance.now() - startedAt : undefined),
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  figures.add("readyz.true", "/readyz true again after the start", ready, "ms");
  expect(gw.proc.exitCode, gw.stderr()).toBeNull();

  // Nothing lost or duplicated: every user and grant as it was; every job run and audit event kept.
  const after = await snapshot();
  expect(after.users).toEqual(kept.users);
  expect(after.grants).toEqual(kept.grants);
  const runIds = new Set(after.runs.map((r) => r.id));
  expect(kept.runs.every((r) => runIds.has(r.id))).toBe(true);
  // A run in flight at the stop cannot record its end; every other one is unchanged.
  const unfinished = kept.runs.filter((r) => r.finished_at === null).map((r) => r.id);
  expect(
    after.runs.filter((r) => kept.runs.some((k) => k.id === r.id && !unfinished.includes(k.id))),
  ).toEqual(kept.runs.filter((r) => !unfinished.includes(r.id)));
  expect(after.audit.slice(0, kept.audit.length)).toEqual(kept.audit);
  expect(after.grants.filter((g) => g.status === "active")).toHaveLength(GRANTS + real.length);
  figures.add("grants.kept", `Grants kept (of ${String(GRANTS + real.length)})`, after.grants.length);

  // Jobs resume: two real grants made due now are refreshed by the scheduled runs, once each.
  const mark = await lastAuditId(store);
  const dueAt = new Date();
  await renewedDaysAgo(
    store,
    real.map((g) => g.id),
    DUE_DAYS,
  );
  const resumed = await waitFor(
    "both due grants refreshed by a scheduled run",
    async () => {
      const per = await auditPerGrant(store, "refresh", mark);
      return real.every((g) => per.has(g.id)) ? performance.now() - startedAt : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  figures.add("jobs.resumed", "Due grants refreshed after the start (2 real grants)", resumed, "ms");
  const refreshedAt = new Date();
  // A later run finds nothing more to do: still exactly one refresh each, nothing revoked.
  await waitFor("a keepalive run that started after the refreshes to finish", async () =>
    (await store.db
      .selectFrom("job_runs")
      .select("id")
      .where("job", "=", "grants-keepalive")
      .where("started_at", ">", refreshedAt)
      .where("outcome", "=", "ok")
      .executeTakeFirst()) === undefined
      ? undefined
      : true,
  );
  expect(Object.fromEntries(await auditPerGrant(store, "refresh", mark))).toEqual(
    Object.fromEntries(real.map((g) => [g.id, 1])),
  );
  expect(await auditPerGrant(store, "revoke", mark)).toEqual(new Map());
  const okRuns = await store.db
    .selectFrom("job_runs")
    .select("id")
    .where("started_at", ">", dueAt)
    .where("outcome", "=", "ok")
    .execute();
  expect(okRuns.length).toBeGreaterThan(0);
  figures.add("jobs.unfinished", "Job runs in flight at the stop (end not recorded)", unfinished.length);
  expect(idle.every((g) => after.grants.some((r) => r.id === g.id && r.status === "active"))).toBe(true);

  const afterCall = await callTool(gwUrl, alice, "notes_list");
  expect(afterCall.isError, afterCall.content[0]?.text).toBeFalsy();

  // The gateway still shuts down by itself (it used to hang after a restart).
  const stopAt = performance.now();
  gw.kill("SIGTERM");
  const code = await waitFor(
    "the gateway to exit after SIGTERM",
    () => (gw.proc.exitCode === null && gw.proc.signalCode === null ? undefined : gw.exited),
    {
      timeoutMs: 30_000,
    },
  );
  expect(code, gw.stderr()).toBe(0);
  figures.add("shutdown", "Shutdown after SIGTERM", performance.now() - stopAt, "ms");
  expect(gw.stdout() + gw.stderr()).not.toContain("TypeError");
});
