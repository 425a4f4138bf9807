// Reliability scenario "load": many concurrent MCP clients, each a distinct user with a real
// Keycloak token (users created in a realm of this scenario's own through the admin API, tokens from
// the password grant: scenario-realm.ts), on mixed traffic against one gateway process: tools/list,
// reads (notes_list), writes (notes_create) and now and then a large note (1 MiB). Promises: no
// protocol error, no 5xx, no failed tool call; latency percentiles reported; the gateway's RSS and
// open sockets flat after warm-up (sampled from /proc); database connections sampled.
//
// Runs on demand only (`npm run reliability -- --only load`): it is skipped in the ordinary test run.
// Size: RELIABILITY_LOAD_CLIENTS (1,000), RELIABILITY_LOAD_SECONDS (600 in a full run, else 60),
// RELIABILITY_LOAD_THINK_MS (each client's pause between calls, 3,000 ms: 1,000 clients then send
// about 330 requests a second).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase } from "../../harness/postgres.ts";
import { createScenarioRealm, type ScenarioRealm } from "../../harness/scenario-realm.ts";
import { freePort } from "../../harness/wait.ts";
import { startNextcloudStandin } from "../../standin/index.ts";
import { Figures } from "./figures.ts";
import { startGatewayProcess, type GatewayProcess } from "./gateway-process.ts";
import { describeAnswer, toolCall, toolsList, type McpAnswer } from "./mcp-client.ts";

const RUN = process.env.RELIABILITY_LOAD === "1";
const CLIENTS = Number(process.env.RELIABILITY_LOAD_CLIENTS ?? "1000");
const SECONDS = Number(
  process.env.RELIABILITY_LOAD_SECONDS ?? (process.env.RELIABILITY_FULL === "1" ? "600" : "60"),
);
const THINK_MS = Number(process.env.RELIABILITY_LOAD_THINK_MS ?? "3000");
const LARGE = "x".repeat(1024 * 1024);

const figures = new Figures("load");
const stops: (() => Promise<unknown>)[] = [];
let realm: ScenarioRealm;
let gw: GatewayProcess;
let dbUrl: string;
const tokens: string[] = [];

describe.skipIf(!RUN)("load", () => {
  beforeAll(async () => {
    const kc = inject("keycloak");
    const port = await freePort();
    const gatewayUrl = `http://localhost:${String(port)}`;
    realm = await createScenarioRealm({
      keycloak: kc,
      name: "rel-load",
      gatewayUrl,
      nextcloudUrl: "http://localhost:9",
      // The tokens must outlive the run (the clients do not refresh them).
      accessTokenLifespan: SECONDS + 900,
    });
    stops.push(() => realm.delete());
    const started = performance.now();
    const users = await realm.addUsers("load", CLIENTS, 8);
    figures.add(
      "setup.users",
      `${String(CLIENTS)} users created through the admin API in`,
      (performance.now() - started) / 1000,
      "s",
    );
    let next = 0;
    const fetchTokens = async () => {
      while (next < users.length) {
        const u = users[next++];
        if (u) tokens.push(await realm.token(u));
      }
    };
    await Promise.all(Array.from({ length: 8 }, fetchTokens));
    const standin = await startNextcloudStandin({ issuer: realm.issuer, audience: "nextcloud" });
    stops.push(() => standin.stop());
    const db = await createTestDatabase(inject("pgAdminUrl"), "gw");
    dbUrl = db.url;
    stops.push(() => db.drop());
    gw = await startGatewayProcess(
      {
        GATEWAY_PUBLIC_URL: gatewayUrl,
        OIDC_ISSUER: realm.issuer,
        OIDC_CLIENT_SECRET: realm.gatewayClientSecret,
        DATABASE_URL: db.url,
        NEXTCLOUD_URL: standin.url,
        MCP_DEFAULT_APPS: "notes",
        // All clients come from 127.0.0.1; the per-IP limit is for anonymous requests only.
        RATE_LIMIT_ANONYMOUS_PER_IP: "0",
        RATE_LIMIT_ANONYMOUS_GLOBAL: "0",
      },
      { port },
    );
    stops.push(() => gw.stop());
  }, 1_200_000);

  afterAll(async () => {
    figures.flush();
    for (const stop of stops.reverse()) await stop();
  });

  function sample(pid: number) {
    const status = readFileSync(`/proc/${String(pid)}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
    let sockets = 0;
    for (const fd of readdirSync(`/proc/${String(pid)}/fd`)) {
      try {
        if (readlinkSync(`/proc/${String(pid)}/fd/${fd}`).startsWith("socket:")) sockets++;
      } catch {
        // closed meanwhile
      }
    }
    return { rssMb: rssKb / 1024, sockets };
  }

  const pct = (sorted: number[], p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

  it(
    `${String(CLIENTS)} clients for ${String(SECONDS)} s: no protocol error, no 5xx, flat memory and sockets`,
    { timeout: (SECONDS + 300) * 1000 },
    async () => {
      const pid = gw.child.proc.pid;
      if (pid === undefined) throw new Error("no pid");
      const latencies: Record<string, number[]> = {
        "tools/list": [],
        notes_list: [],
        notes_create: [],
        large: [],
      };
      const problems: string[] = [];
      let toolErrors = 0;
      let status5xx = 0;
      let protocolErrors = 0;
      const samples: { at: number; rssMb: number; sockets: number; dbConnections: number }[] = [];
      const started = performance.now();
      const endAt = started + SECONDS * 1000;
      const sql = postgres(dbUrl, { max: 1, onnotice: () => undefined });
      const dbName = new URL(dbUrl).pathname.slice(1);
      const sampler = setInterval(() => {
        const s = sample(pid);
        void sql`select count(*)::int as n from pg_stat_activity where datname = ${dbName}`.then((rows) => {
          samples.push({
            at: performance.now() - started,
            ...s,
            dbConnections: (rows[0] as { n: number }).n,
          });
        });
      }, 5000);
      const record = (op: string, a: McpAnswer) => {
        latencies[op]?.push(a.ms);
        if (a.status >= 500 || a.status === 0) status5xx++;
        if (a.status !== 200 || a.error !== undefined || a.result === undefined) {
          protocolErrors++;
          if (problems.length < 20) problems.push(`${op}: ${describeAnswer(a)}`);
        } else if (a.result.isError === true) {
          toolErrors++;
          if (problems.length < 20) problems.push(`${op}: ${describeAnswer(a)}`);
        }
      };
      const client = async (token: string, n: number) => {
        // Spread the starts over the first think time.
        await new Promise((r) => setTimeout(r, Math.random() * THINK_MS));
        for (let round = 0; performance.now() < endAt; round++) {
          const pick = Math.random();
          if (pick < 0.4) record("tools/list", await toolsList(gw.url, token));
          else if (pick < 0.8) record("notes_list", await toolCall(gw.url, token, "notes_list"));
          else if (pick < 0.995)
            record(
              "notes_create",
              await toolCall(gw.url, token, "notes_create", {
                title: `load ${String(n)}-${String(round)}`,
                content: "load",
              }),
            );
          else
            record(
              "large",
              await toolCall(gw.url, token, "notes_create", {
                title: `large ${String(n)}-${String(round)}`,
                content: LARGE,
              }),
            );
          await new Promise((r) => setTimeout(r, THINK_MS * (0.5 + Math.random())));
        }
      };
      try {
        await Promise.all(tokens.map((t, i) => client(t, i)));
      } finally {
        clearInterval(sampler);
        await sql.end();
      }
      const all = Object.values(latencies)
        .flat()
        .sort((a, b) => a - b);
      figures.add("clients", "Concurrent clients (distinct users and tokens)", CLIENTS, "");
      figures.add("seconds", "Duration", SECONDS, "s");
      figures.add("requests", "Requests", all.length, "");
      figures.add("rate", "Requests per second", all.length / SECONDS, "/s");
      figures.add(
        "protocol-errors",
        "Protocol errors (not a JSON-RPC result, or not HTTP 200)",
        protocolErrors,
        "",
      );
      figures.add("5xx", "5xx answers or connection failures", status5xx, "");
      figures.add("tool-errors", "Tool calls answered with a tool error", toolErrors, "");
      figures.add("p50", "Latency p50, all requests", pct(all, 50), "ms");
      figures.add("p99", "Latency p99, all requests", pct(all, 99), "ms");
      for (const [op, values] of Object.entries(latencies)) {
        const sorted = values.sort((a, b) => a - b);
        if (sorted.length > 0)
          figures.add(
            `p99.${op}`,
            `Latency p99, ${op} (${String(sorted.length)} requests)`,
            pct(sorted, 99),
            "ms",
          );
      }
      // Warm-up: the first third of the run (every user's first exchange and capability fetch, JIT).
      const warm = samples.filter((s) => s.at > (SECONDS * 1000) / 3);
      const half = Math.floor(warm.length / 2);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const rssEarly = mean(warm.slice(0, half).map((s) => s.rssMb));
      const rssLate = mean(warm.slice(half).map((s) => s.rssMb));
      const sockEarly = mean(warm.slice(0, half).map((s) => s.sockets));
      const sockLate = mean(warm.slice(half).map((s) => s.sockets));
      figures.add("rss.early", "Gateway RSS after warm-up, first half (mean)", rssEarly, "MB");
      figures.add("rss.late", "Gateway RSS after warm-up, second half (mean)", rssLate, "MB");
      figures.add("rss.max", "Gateway RSS, highest sample", Math.max(...samples.map((s) => s.rssMb)), "MB");
      figures.add("sockets.early", "Gateway open sockets after warm-up, first half (mean)", sockEarly, "");
      figures.add("sockets.late", "Gateway open sockets after warm-up, second half (mean)", sockLate, "");
      figures.add(
        "db.max",
        "Database connections of the gateway, highest sample (pool max 10)",
        Math.max(...samples.map((s) => s.dbConnections)),
        "",
      );
      figures.note(
        `Think time ${String(THINK_MS)} ms (×0.5–1.5) per client; mix 40 % tools/list, 40 % notes_list, 19.5 % notes_create, 0.5 % a 1 MiB note.`,
      );
      expect(problems).toEqual([]);
      expect(protocolErrors).toBe(0);
      expect(status5xx).toBe(0);
      // Flat: the second half of the run after warm-up holds no more than a quarter more than the first.
      expect(rssLate).toBeLessThan(rssEarly * 1.25 + 16);
      expect(sockLate).toBeLessThan(sockEarly * 1.25 + 16);
    },
  );
});
