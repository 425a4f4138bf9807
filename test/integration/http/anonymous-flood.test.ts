// Issue 14 §2: anonymous requests once wrote a login_states row each (GET /login, GET /connect),
// without limit. 10,000 of them against a gateway on the real PostgreSQL, with the production
// default limits: the database does not change at all, the flooding address gets 429 with
// Retry-After, and other clients (another address's /login, a signed-in user's /mcp call) are
// served while the flood is being refused. Then the per-user limit on /mcp with real tokens.
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { waitFor } from "../../harness/wait.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";

const FLOOD = 10_000;
const CONCURRENCY = 16;
const FLOODER = "203.0.113.7";

let gw: TestGateway;
let store: Store;
let browser: Browser;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
  gw = await startTestGateway({
    env: {
      SEALING_KEYS: `k1:${randomBytes(32).toString("base64")}`,
      // No job may write while the database is watched; the test's client stands behind a proxy on
      // loopback, so X-Forwarded-For names the client (as behind a load balancer).
      JOBS_ENABLED: "false",
      TRUSTED_PROXIES: "127.0.0.1,::1",
      RATE_LIMIT_MCP_PER_USER: "5",
    },
  });
  store = await openStore({ backend: "postgres", url: gw.databaseUrl, poolMax: 1 });
  browser = await launchBrowser();
  const config = await clientConfig("mcp-client");
  const redirectUri = "http://127.0.0.1:38132/callback";
  const token = async (user: { username: string; password: string }) =>
    (await signIn(browser, { config, redirectUri, scope: "openid mcp:tools", user })).access_token;
  aliceToken = await token(DEMO_USERS.alice);
  bobToken = await token(DEMO_USERS.bob);
});
afterAll(async () => {
  await browser.close();
  await store.close();
  await gw.stop();
});

/** Every table of the gateway's schema with its row count and its size on disk (with indexes, TOAST). */
async function footprint(): Promise<Record<string, { rows: number; bytes: number }>> {
  const { rows: tables } = await sql<{ name: string }>`
    select tablename as name from pg_tables where schemaname = 'public' order by tablename`.execute(store.db);
  const out: Record<string, { rows: number; bytes: number }> = {};
  for (const { name } of tables) {
    const { rows } = await sql<{ rows: string; bytes: string }>`
      select (select count(*) from ${sql.table(name)}) as rows,
             pg_total_relation_size(${name}::regclass) as bytes`.execute(store.db);
    out[name] = { rows: Number(rows[0]?.rows), bytes: Number(rows[0]?.bytes) };
  }
  return out;
}

const from = (address: string) => ({ "x-forwarded-for": address });

function listTools(token: string) {
  return fetch(`${gw.gateway.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
}

async function limitedSoFar(scope: string): Promise<number> {
  const text = await (await fetch(`${gw.gateway.url}/metrics`)).text();
  return Number(new RegExp(`gateway_rate_limited_total\\{scope="${scope}"\\} (\\d+)`).exec(text)?.[1] ?? NaN);
}

describe("10,000 anonymous requests", () => {
  it("leave every table as it was and the gateway answering others", async () => {
    const before = await footprint();
    expect(Object.keys(before)).toEqual(expect.arrayContaining(["users", "offline_grants", "audit_events"]));
    expect(Object.keys(before)).not.toContain("login_states");

    const paths = [
      "/login",
      "/connect",
      "/login?next=connect",
      () => `/oauth/callback?state=${randomBytes(12).toString("base64url")}&code=garbage`,
    ];
    const statuses = new Map<number, number>();
    let badRetryAfter = 0;
    let sent = 0;
    const worker = async () => {
      while (sent < FLOOD) {
        const p = paths[sent++ % paths.length] ?? "/login";
        const res = await fetch(`${gw.gateway.url}${typeof p === "string" ? p : p()}`, {
          redirect: "manual",
          headers: from(FLOODER),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429 && !(Number(res.headers.get("retry-after")) >= 1)) badRetryAfter++;
      }
    };
    const started = Date.now();
    const flood = Promise.all(Array.from({ length: CONCURRENCY }, worker));

    // While the flood is being refused, others are served.
    await waitFor("the flood to be limited", async () =>
      (await limitedSoFar("anonymous_ip")) > 1000 ? true : undefined,
    );
    const other = await fetch(`${gw.gateway.url}/login`, {
      redirect: "manual",
      headers: from("198.51.100.20"),
    });
    expect(other.status).toBe(303);
    expect(new URL(other.headers.get("location") ?? "").searchParams.get("code_challenge_method")).toBe(
      "S256",
    );
    const mcp = await listTools(aliceToken);
    expect(mcp.status).toBe(200);
    const flooder = await fetch(`${gw.gateway.url}/login`, { redirect: "manual", headers: from(FLOODER) });
    expect(flooder.status).toBe(429);
    expect(await flooder.text()).toContain("Too many requests");
    await flood;
    const seconds = Math.ceil((Date.now() - started) / 1000);

    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(FLOOD);
    // The default limit lets an address spend 60 at once and one more a second: the rest is refused.
    expect(FLOOD - (statuses.get(429) ?? 0)).toBeLessThanOrEqual(60 + seconds + 1);
    expect([...statuses.keys()].sort()).toEqual([200, 303, 400, 429].filter((s) => statuses.has(s)));
    expect(badRetryAfter).toBe(0);
    expect(await footprint()).toEqual(before);
    expect(await limitedSoFar("anonymous_ip")).toBeGreaterThanOrEqual(statuses.get(429) ?? 0);
  });
});

describe("the per-user limit on /mcp", () => {
  it("answers 429 with Retry-After to a user over the limit and serves another user", async () => {
    // The limit is 5 a minute: at most 5 are served (fewer if the bucket has not refilled since the
    // call above), then 429.
    let status = 200;
    let served = -1;
    while (status === 200 && served < 10) {
      const res = await listTools(aliceToken);
      status = res.status;
      served++;
      if (status === 429) {
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        const body = (await res.json()) as { error: { message: string } };
        expect(body.error.message).toMatch(/^Too many requests; try again in \d+ seconds?\.$/);
      } else {
        await res.arrayBuffer();
      }
    }
    expect(status).toBe(429);
    expect(served).toBeLessThanOrEqual(5);
    const bob = await listTools(bobToken);
    expect(bob.status).toBe(200);
    expect(await limitedSoFar("mcp_user")).toBeGreaterThanOrEqual(1);
  });
});
