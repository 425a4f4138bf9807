// PENDING reliability scenario "postgres-restart" (not in the test run, not in `npm run reliability`):
// it found a defect not fixed yet. Every kysely query of the gateway runs on a postgres.js reserve()d
// connection (kysely-postgres-js), and postgres.js 3.4.9 throws an uncaught TypeError from nextWrite()
// (connection.js:255, socket null) on a reserved connection whose server went away
// (porsager/postgres#1208, #1154; fixes in PRs #1168, #1209, unreleased): the process can die after a
// PostgreSQL restart, and here the gateway's shutdown hangs after it. The test's own assertions pass.
// Move it to test/integration/reliability/ and add it to reliability/run.ts once the store no longer
// reserves a connection per query (or postgres.js ships the fix).
//
// Reliability scenario "postgres-restart": the gateway's PostgreSQL is stopped and started again.
// Real parts: a PostgreSQL server of the scenario's own (so it can be stopped), Keycloak (sign-in and
// token exchange), the gateway, the Nextcloud stand-in. What operators and users would see is
// asserted: /readyz turns false within seconds of the stop and true again after the start without
// restarting the gateway, MCP calls that need no database keep working meanwhile, and the stored
// grants are all there afterwards.
import { performance } from "node:perf_hooks";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { GrantStore, openStore, Sealer, type OfflineGrant, type Store } from "../../src/store/index.ts";
import { launchBrowser } from "../../test/harness/browser.ts";
import { startRestartablePostgres, type RestartablePostgres } from "../../test/harness/postgres.ts";
import { waitFor } from "../../test/harness/wait.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../test/standin/index.ts";
import { fakeGrants, sealingKey, sealingKeysEnv } from "../../test/integration/jobs/grants-support.ts";
import { startTestGateway, type TestGateway } from "../../test/integration/support/gateway.ts";
import { callTool, listToolNames } from "../../test/integration/support/mcp-call.ts";
import { clientConfig, DEMO_USERS, signIn } from "../../test/integration/support/oauth.ts";
import { Figures } from "../../test/integration/reliability/figures.ts";

const GRANTS = 20;
const key = sealingKey("k1");
const figures = new Figures("postgres-restart");
let pg: RestartablePostgres;
let standin: NextcloudStandin;
let gw: TestGateway;
let browser: Browser;
let store: Store;
let alice: string;
let saved: OfflineGrant[];

beforeAll(async () => {
  pg = await startRestartablePostgres();
  standin = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
  gw = await startTestGateway({
    pgAdminUrl: pg.adminUrl,
    env: { NEXTCLOUD_URL: standin.url, MCP_DEFAULT_APPS: "notes", SEALING_KEYS: sealingKeysEnv(key) },
  });
  // The scenario's own look at the gateway's database: a separate pool, as an operator's psql would be.
  store = await openStore({ backend: "postgres", url: gw.databaseUrl, poolMax: 2 });
  saved = await fakeGrants(store, new GrantStore(store.db, new Sealer([key])), GRANTS, "restart");
  browser = await launchBrowser();
  alice = (
    await signIn(browser, {
      config: await clientConfig("mcp-client"),
      redirectUri: "http://127.0.0.1:38140/callback",
      scope: "openid mcp:tools mcp:write",
      user: DEMO_USERS.alice,
    })
  ).access_token;
});

afterAll(async () => {
  figures.flush();
  await browser.close();
  await store.close();
  // Hangs today after the restart (see the header): bounded, so the scenario reports instead of hanging.
  await Promise.race([gw.stop(), new Promise((resolve) => setTimeout(resolve, 30_000))]);
  await standin.stop();
  await pg.stop();
}, 120_000);

async function readyz(): Promise<{ status: number; database: string | undefined }> {
  const res = await fetch(`${gw.gateway.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { checks?: { database?: { status?: string } } };
  return { status: res.status, database: body.checks?.database?.status };
}

it("survives a PostgreSQL restart: not ready while it is down, MCP keeps answering, back by itself, nothing lost", async () => {
  expect(await readyz()).toEqual({ status: 200, database: "ok" });
  const before = await callTool(gw.gateway.url, alice, "notes_list");
  expect(before.isError, before.content[0]?.text).toBeFalsy();

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
  const listed = await listToolNames(gw.gateway.url, alice);
  expect(listed).toContain("notes_list");
  const during = await callTool(gw.gateway.url, alice, "notes_list");
  expect(during.isError, during.content[0]?.text).toBeFalsy();
  const created = await callTool(gw.gateway.url, alice, "notes_create", {
    title: "Written while PG was down",
  });
  expect(created.isError, created.content[0]?.text).toBeFalsy();

  const startedAt = performance.now();
  pg.startServer();
  const ready = await waitFor(
    "/readyz to be ready again without a gateway restart",
    async () => ((await readyz()).status === 200 ? performance.now() - startedAt : undefined),
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  figures.add("readyz.true", "/readyz true again after the start", ready, "ms");

  const rows = await store.db.selectFrom("offline_grants").select(["id", "status"]).execute();
  const byId = new Map(rows.map((r) => [r.id, r.status]));
  expect(saved.every((g) => byId.get(g.id) === "active")).toBe(true);
  expect(rows).toHaveLength(GRANTS);
  figures.add(
    "grants.kept",
    `Grants kept (of ${String(GRANTS)})`,
    saved.filter((g) => byId.has(g.id)).length,
  );

  const after = await callTool(gw.gateway.url, alice, "notes_list");
  expect(after.isError, after.content[0]?.text).toBeFalsy();
});
