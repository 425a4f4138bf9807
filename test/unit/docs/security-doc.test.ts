// docs/security.md stays true: every route of the HTTP app has a row in its Endpoints table, every
// row names a route that exists, and every test file it cites exists. A new endpoint without a row
// fails here.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { allTools, createApp, createMetricsApp, type AppDeps } from "../../../src/app.ts";
import { createTokenVerifier } from "../../../src/auth/index.ts";
import { loadConfig } from "../../../src/config/index.ts";
import { createLogger } from "../../../src/log.ts";
import { ToolRegistry } from "../../../src/mcp/index.ts";
import type { Kysely } from "kysely";
import { webhookCounts } from "../../../src/http/webhooks.ts";
import type { Database, Store } from "../../../src/store/index.ts";

const root = new URL("../../../", import.meta.url);
const doc = readFileSync(new URL("docs/security.md", root), "utf8");

function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  expect(start, `docs/security.md has a "## ${title}" section`).toBeGreaterThan(-1);
  const end = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

/** Every method and path the app routes, with the browser routes and the metrics listener. */
function routes(): string[] {
  const config = loadConfig({
    GATEWAY_PUBLIC_URL: "https://mcp.example.com",
    OIDC_ISSUER: "https://sso.example.com/realms/nextcloud-mcp",
    OIDC_CLIENT_SECRET: "x",
    DATABASE_URL: "postgres://u:p@localhost/db",
    SEALING_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
    NEXTCLOUD_URL: "https://cloud.example.com",
    SEARCH_INDEX_ENABLED: "true",
    WEBHOOK_SECRET: "w".repeat(32),
  });
  const unused = () => Promise.reject(new Error("not used while listing routes"));
  const deps: AppDeps = {
    config,
    log: createLogger("silent"),
    readiness: {
      shuttingDown: () => false,
      idp: () => ({ discovery: "loaded", jwks: "loaded" }),
      database: () => Promise.resolve({ ok: true }),
    },
    verifier: createTokenVerifier({
      issuer: config.oidc.issuer,
      audience: config.resourceUrl,
      getKey: unused,
    }),
    registry: new ToolRegistry(allTools),
    // Registering routes touches no dependency; nothing here is called.
    web: {
      config,
      store: {} as Store,
      idp: unused,
      offline: undefined,
      keepalive: { idleShare: 0.5, idleTimeoutSeconds: 2_592_000 },
    },
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- never queried while listing routes
    webhooks: { db: {} as Kysely<Database>, counts: webhookCounts() },
  };
  const all = [...createApp(deps).routes, ...createMetricsApp(deps).routes];
  // Middleware is registered as ALL; an endpoint is a route with a method.
  return [...new Set(all.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))].sort();
}

describe("docs/security.md", () => {
  it("has an Endpoints row for every route of the app, and no row for a route that does not exist", () => {
    const rows = section("Endpoints")
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .map((line) => /^\| `([A-Z]+ \/[^`]*)`/.exec(line)?.[1]);
    expect(rows).not.toContain(undefined);
    const documented = [...new Set(rows)].sort();
    const actual = routes();
    expect(actual.length).toBeGreaterThan(10);
    expect(
      actual.filter((r) => !documented.includes(r)),
      "routes without a row in docs/security.md",
    ).toEqual([]);
    expect(
      documented.filter((r) => !actual.includes(r ?? "")),
      "rows for routes the app does not have",
    ).toEqual([]);
  });

  it("names only test files that exist", () => {
    const cited = [...doc.matchAll(/\btest\/[A-Za-z0-9_\-./]+\.ts\b/g)].map((m) => m[0]);
    expect(cited.length).toBeGreaterThan(20);
    expect(cited.filter((path) => !existsSync(new URL(path, root)))).toEqual([]);
  });

  it("gives every attack row a rule and either a test file or (pending)", () => {
    const rows = section("Attacks and the rules that stop them")
      .split("\n")
      .filter((line) => line.startsWith("| ") && !line.startsWith("| attack") && !line.startsWith("| ---"));
    expect(rows.length).toBeGreaterThan(25);
    for (const row of rows) {
      const cells = row.split(" | ").map((c) => c.replace(/^\| |\|$/g, "").trim());
      expect(cells, row).toHaveLength(3);
      expect(cells[1], row).not.toBe("");
      expect(cells[2] === "(pending)" || /test\/\S+\.ts/.test(cells[2] ?? ""), row).toBe(true);
    }
  });
});
