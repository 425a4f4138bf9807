// `nextcloud-mcp-gateway jobs run <name>`: an operator runs a job by hand; the run is recorded.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase } from "../../harness/postgres.ts";
import { runGatewayCli } from "../../harness/process.ts";

const kc = inject("keycloak");
const realmEnv = inject("realmEnv");
let db: { url: string; drop(): Promise<void> };
const env = () => ({
  GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
  OIDC_ISSUER: kc.issuer,
  OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
  DATABASE_URL: db.url,
});

beforeAll(async () => {
  db = await createTestDatabase(inject("pgAdminUrl"), "clijobs");
  expect((await runGatewayCli(["migrate"], env())).code).toBe(0);
});
afterAll(async () => {
  await db.drop();
});

describe("jobs run", () => {
  it("runs housekeeping now and records the run", async () => {
    const r = await runGatewayCli(["jobs", "run", "housekeeping"], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^housekeeping: ok \{"logoutTokens":0,"jobRuns":0,"auditEvents":0,"revokedGrants":0\}$/m,
    );
    const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
    try {
      const rows = await sql<{ job: string; outcome: string }[]>`select job, outcome from job_runs`;
      expect(rows).toEqual([{ job: "housekeeping", outcome: "ok" }]);
    } finally {
      await sql.end();
    }
  });

  it("names the jobs there are when asked for an unknown one", async () => {
    const r = await runGatewayCli(["jobs", "run", "keepalive-everything"], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown job "keepalive-everything"; the jobs are: housekeeping/);
  });

  it("refuses an invalid schedule at start, naming the variable", async () => {
    const r = await runGatewayCli(["jobs", "run", "housekeeping"], {
      ...env(),
      HOUSEKEEPING_SCHEDULE: "hourly",
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HOUSEKEEPING_SCHEDULE: not a cron expression/);
  });
});
