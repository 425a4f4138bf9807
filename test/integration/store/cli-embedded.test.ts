// The CLI without DATABASE_URL, as someone trying the gateway on one machine runs it: `serve` creates
// the embedded database in DATA_DIR and becomes ready, a second process on the same directory is
// refused with a clear message, and `check` reports the embedded database and where it lives.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { gatewayCli, runGatewayCli, waitForReady } from "../../harness/process.ts";
import { freePort } from "../../harness/wait.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";

const kc = inject("keycloak");
const realmEnv = inject("realmEnv");
const root = mkdtempSync(join(tmpdir(), "ncmcp-cli-embedded-"));
const dataDir = join(root, "data");
let nextcloud: NextcloudStandin;
beforeAll(async () => {
  nextcloud = await startNextcloudStandin({ issuer: kc.issuer, audience: "nextcloud" });
});
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await nextcloud.stop();
});

function env(over: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
    OIDC_ISSUER: kc.issuer,
    OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
    DATA_DIR: dataDir,
    NEXTCLOUD_URL: nextcloud.url,
    OUTBOUND_TIMEOUT_MS: "3000",
    ...over,
  };
}

const pgliteDir = join(dataDir, "pglite");

describe("nextcloud-mcp-gateway without DATABASE_URL", () => {
  it("`check` says the embedded database does not exist yet, without creating it", async () => {
    const r = await runGatewayCli(["check"], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `^ok {4}database +embedded database \\(PGlite\\) in ${pgliteDir} not created yet; \`serve\` or \`migrate\` creates it$`,
        "m",
      ),
    );
    expect(r.stdout).toMatch(/^FAIL {2}database schema +\d+ migration\(s\) pending \(0001_initial\.sql[,)]/m);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("`serve` creates the database in DATA_DIR, becomes ready, keeps a second process out, and drains on SIGTERM", async () => {
    const port = await freePort();
    const gw = gatewayCli(["serve"], env({ PORT: String(port) }));
    try {
      // The first start creates the database (initdb), which takes seconds.
      const ready = await waitForReady(gw, port, 120_000);
      expect(ready).toEqual({
        status: "ready",
        checks: { database: { status: "ok" }, idp: { status: "ok" } },
      });
      expect(existsSync(join(pgliteDir, "PG_VERSION"))).toBe(true);

      const second = await runGatewayCli(["serve"], env({ PORT: String(await freePort()) }));
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        new RegExp(
          `gateway failed to start: the embedded database in ${dataDir} is in use by another gateway process \\(pid ${gw.proc.pid} on host `,
        ),
      );
      const check = await runGatewayCli(["check"], env());
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(
        /^FAIL {2}database +the embedded database in .* is in use by another gateway process .*; check DATA_DIR, or set DATABASE_URL to use PostgreSQL$/m,
      );
    } finally {
      gw.kill("SIGTERM");
    }
    expect(await gw.exited).toBe(0);
    const lines = gw
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; dataDir?: string });
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "using the embedded database (PGlite): one process only; set DATABASE_URL for production",
        dataDir: pgliteDir,
      }),
    );
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(["database schema up to date", "gateway listening", "shutdown complete"]),
    );
    expect(existsSync(join(dataDir, "pglite.lock"))).toBe(false);
  }, 240_000);

  it("`check` then reports the embedded database, its directory and an up-to-date schema", async () => {
    const r = await runGatewayCli(["check"], env());
    expect(r.stdout).toMatch(
      new RegExp(`^ok {4}database +embedded database \\(PGlite\\) in ${pgliteDir}$`, "m"),
    );
    expect(r.stdout).toMatch(/^ok {4}database schema +up to date$/m);
    expect(r.code).toBe(0);
  });
});
