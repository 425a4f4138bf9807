// The CLI as an operator runs it: `check` diagnoses the real IdP and database, `serve` becomes
// ready, answers health checks, and drains on SIGTERM; no secret ever reaches the output.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase } from "../harness/postgres.ts";
import { gatewayCli, runGatewayCli, waitForReady } from "../harness/process.ts";
import { freePort, waitFor } from "../harness/wait.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../standin/index.ts";

const kc = inject("keycloak");
const realmEnv = inject("realmEnv");
let db: { url: string; drop(): Promise<void> };
let nextcloud: NextcloudStandin;

function env(over: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
    OIDC_ISSUER: kc.issuer,
    OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
    DATABASE_URL: db.url,
    NEXTCLOUD_URL: nextcloud.url,
    OUTBOUND_TIMEOUT_MS: "3000",
    ...over,
  };
}

beforeAll(async () => {
  db = await createTestDatabase(inject("pgAdminUrl"), "cli");
  nextcloud = await startNextcloudStandin({ issuer: kc.issuer, audience: "nextcloud" });
});
afterAll(async () => {
  await db.drop();
  await nextcloud.stop();
});

describe("nextcloud-mcp-gateway check", () => {
  it("names the pending migrations, then passes after `migrate`", async () => {
    const before = await runGatewayCli(["check"], env());
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(
      /^FAIL {2}database schema +\d+ migration\(s\) pending \(0001_initial\.sql(, \d{4}_[a-z0-9_]+\.sql)*\); run `nextcloud-mcp-gateway migrate`$/m,
    );
    expect(before.stdout).toMatch(
      /^ok {4}idp client +client mcp-gateway authenticates and may exchange tokens$/m,
    );

    const migrated = await runGatewayCli(["migrate"], env());
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain('"msg":"migrations applied"');

    const after = await runGatewayCli(["check"], env());
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^ok {4}offline access +off: SEALING_KEYS is not set/m);
    const key = `k1:${Buffer.alloc(32, 7).toString("base64")}`;
    const on = await runGatewayCli(["check"], env({ SEALING_KEYS: key }));
    expect(on.stdout).toMatch(/^ok {4}offline access +on, keys k1 \(k1 seals\); 0 grant\(s\), 0 active$/m);
    expect(on.stdout).not.toContain(key.slice(3));
    expect(
      after.stdout
        .trim()
        .split("\n")
        .every((l) => l.startsWith("ok")),
    ).toBe(true);
  });

  it("reports Nextcloud: its version and apps, a missing NEXTCLOUD_URL, an unreachable one", async () => {
    const ok = await runGatewayCli(["check"], env());
    expect(ok.stdout).toMatch(
      new RegExp(`^ok {4}nextcloud +Nextcloud [0-9.]+ at ${nextcloud.url} \\(notes\\)$`, "m"),
    );
    const unset = await runGatewayCli(["check"], env({ NEXTCLOUD_URL: "" }));
    expect(unset.code).toBe(1);
    expect(unset.stdout).toMatch(
      /^FAIL {2}nextcloud +NEXTCLOUD_URL is not set: the gateway offers no Nextcloud tools$/m,
    );
    const down = await runGatewayCli(
      ["check"],
      env({ NEXTCLOUD_URL: `http://127.0.0.1:${await freePort()}` }),
    );
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(
      /^FAIL {2}nextcloud +.*check NEXTCLOUD_URL and that Nextcloud is reachable from here$/m,
    );
  });

  it("says the client secret is wrong without printing it", async () => {
    const wrong = "definitely-the-wrong-secret-123";
    const r = await runGatewayCli(["check"], env({ OIDC_CLIENT_SECRET: wrong }));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^FAIL {2}idp client .*check OIDC_CLIENT_ID \(mcp-gateway\) and OIDC_CLIENT_SECRET$/m,
    );
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });

  it("reports an unreachable IdP and an unreachable database", async () => {
    const closed = await freePort();
    const r = await runGatewayCli(
      ["check"],
      env({
        OIDC_ISSUER: `http://127.0.0.1:${closed}/realms/x`,
        DATABASE_URL: `postgres://u:pw-not-shown@127.0.0.1:${closed}/db`,
      }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}idp discovery .*check OIDC_ISSUER/m);
    expect(r.stdout).toMatch(/^FAIL {2}database .*check DATABASE_URL/m);
    expect(r.stdout).not.toContain("pw-not-shown");
  });

  it("lists every configuration problem and exits 2", async () => {
    const r = await runGatewayCli(["check"], { OIDC_ISSUER: "nope", PORT: "0", DATABASE_URL: "mysql://x/y" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Configuration is invalid \(5 problems\)/);
    for (const name of ["GATEWAY_PUBLIC_URL", "PORT", "OIDC_ISSUER", "OIDC_CLIENT_SECRET", "DATABASE_URL"]) {
      expect(r.stderr).toMatch(new RegExp(`^ {2}- ${name}: `, "m"));
    }
  });

  it("rejects an unknown command with the usage", async () => {
    const r = await runGatewayCli(["serv"], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command: serv/);
    expect(r.stderr).toMatch(/Commands:/);
  });
});

describe("nextcloud-mcp-gateway serve", () => {
  it("becomes ready with the real IdP and database, then drains and exits on SIGTERM", async () => {
    const port = await freePort();
    const gw = gatewayCli(["serve"], env({ PORT: String(port) }));
    try {
      const ready = await waitForReady(gw, port);
      expect(ready).toEqual({
        status: "ready",
        checks: { database: { status: "ok" }, idp: { status: "ok" } },
      });
      const health = await fetch(`http://127.0.0.1:${port}/healthz`, {
        headers: { "x-request-id": "req-42" },
      });
      expect(health.status).toBe(200);
      expect(health.headers.get("x-request-id")).toBe("req-42");
    } finally {
      gw.kill("SIGTERM");
    }
    expect(await gw.exited).toBe(0);
    const lines = gw
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; level: string; reqId?: string });
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(["gateway listening", "identity provider loaded", "shutdown complete"]),
    );
    expect(gw.stdout()).not.toContain(realmEnv.MCP_GATEWAY_CLIENT_SECRET);
  });

  it("is alive but not ready while the database is unreachable", async () => {
    const port = await freePort();
    const closed = await freePort();
    const gw = gatewayCli(
      ["serve", "--no-migrate"],
      env({ PORT: String(port), DATABASE_URL: `postgres://u:p@127.0.0.1:${closed}/db` }),
    );
    try {
      const body = await waitFor("gateway /readyz 503 with the IdP loaded", async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        const json = (await res.json()) as {
          checks: { idp: { status: string }; database: { status: string; error?: string } };
        };
        return res.status === 503 && json.checks.idp.status === "ok" ? json : undefined;
      });
      // Anyone may ask: the answer names the failed check, the reason is in the log only.
      expect(body.checks.database).toEqual({ status: "failed" });
      expect(JSON.stringify(body)).not.toContain(String(closed));
      await waitFor("the readiness detail in the log", () =>
        gw.stdout().includes("PostgreSQL does not answer") ? true : undefined,
      );
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      gw.kill("SIGTERM");
    }
    expect(await gw.exited).toBe(0);
  });

  it("serves /metrics on METRICS_PORT only, never on the public port", async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const gw = gatewayCli(
      ["serve", "--no-migrate"],
      env({ PORT: String(port), METRICS_PORT: String(metricsPort), METRICS_HOST: "127.0.0.1" }),
    );
    try {
      const scrape = await waitFor(
        "metrics listener answering",
        async () => {
          const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined);
          return res?.status === 200 ? await res.text() : undefined;
        },
        { abort: () => (gw.proc.exitCode === null ? undefined : `gateway exited: ${gw.stderr()}`) },
      );
      expect(scrape).toMatch(/^gateway_token_verify_cache_misses_total 0$/m);
      await waitFor("public listener answering", async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      });
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
      for (const path of ["/healthz", "/readyz", "/mcp"]) {
        expect((await fetch(`http://127.0.0.1:${metricsPort}${path}`)).status, path).toBe(404);
      }
    } finally {
      gw.kill("SIGTERM");
    }
    expect(await gw.exited).toBe(0);
  });

  it("refuses to start when migrations cannot run, and says why", async () => {
    const closed = await freePort();
    const r = await runGatewayCli(
      ["serve"],
      env({ PORT: String(await freePort()), DATABASE_URL: `postgres://u:p@127.0.0.1:${closed}/db` }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gateway failed to start: .*database migration failed/);
  });
});
