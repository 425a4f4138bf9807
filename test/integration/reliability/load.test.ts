// Reliability scenario "load": many concurrent MCP clients, each a distinct user with a real
// Keycloak token (users created in a realm of this scenario's own through the admin API, tokens from
// the password grant: scenario-realm.ts), on mixed traffic against one gateway process: tools/list,
// reads (notes_list), writes (notes_create, notes_delete) and now and then a large note (1 MiB).
//
// The run itself is the first test; each promise is a test of its own after it, so the report says
// which promise failed and why: no protocol error, no 5xx, no tool error, RSS flat, the gateway's own
// connections (to Nextcloud, Keycloak, PostgreSQL) flat, and no connection held that nobody uses.
// Sockets are sampled by peer (load-sockets.ts): the clients' keep-alive connections to the gateway
// follow the clients' own agent, so they are reported, and checked only against what the clients
// hold open; flatness is asserted on what the gateway controls.
//
// Users arrive over the ramp (RELIABILITY_LOAD_RAMP_SECONDS, a sixth of the run: 100 s in a full run),
// the way people sign in, not all in the same second. A burst (ramp 0) is served too: the gateway has
// at most 32 exchanges in flight at the IdP and the others wait their turn (ADR 0027); at warm-up the
// last users then wait as long as Keycloak needs for all of them.
//
// Writes keep each user's notes bounded (a write deletes the user's oldest own note once it holds
// three), so that the work of a notes_list, which reads every note, stays the same through the run.
// Before, each user gathered about 40 notes and often a 1 MiB one; notes_list got slower as the run
// went on, more requests were in flight at once, and the open sockets grew with them (486 → 921).
//
// Runs on demand only (`npm run reliability -- --only load`): it is skipped in the ordinary test run.
// Size: RELIABILITY_LOAD_CLIENTS (1,000), RELIABILITY_LOAD_SECONDS (600 in a full run, else 60),
// RELIABILITY_LOAD_THINK_MS (each client's pause between calls, 3,000 ms: 1,000 clients then send
// about 330 requests a second), RELIABILITY_LOAD_RAMP_SECONDS (default a sixth of the run);
// RELIABILITY_LOAD_TRACE=<file> appends every 5 s sample to the file as a JSON line.
import { appendFileSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createScenarioRealm, type ScenarioRealm } from "../../harness/scenario-realm.ts";
import { freePort, waitFor } from "../../harness/wait.ts";
import { Figures } from "./figures.ts";
import { realmReplicaEnv, startGatewayProcess, type GatewayProcess } from "./gateway-process.ts";
import { halves, metricValue, pct, rssMb, socketsOf, type PeerPorts, type Sample } from "./load-sockets.ts";
import { startStandinProcess } from "./load-standin.ts";
import { describeAnswer, toolCall, toolsList, type McpAnswer } from "./mcp-client.ts";

const RUN = process.env.RELIABILITY_LOAD === "1";
const CLIENTS = Number(process.env.RELIABILITY_LOAD_CLIENTS ?? "1000");
const SECONDS = Number(
  process.env.RELIABILITY_LOAD_SECONDS ?? (process.env.RELIABILITY_FULL === "1" ? "600" : "60"),
);
const THINK_MS = Number(process.env.RELIABILITY_LOAD_THINK_MS ?? "3000");
/** A file to append each sample to as a JSON line (RELIABILITY_LOAD_TRACE), for diagnosis. */
const TRACE = process.env.RELIABILITY_LOAD_TRACE;
const RAMP_SECONDS = Number(process.env.RELIABILITY_LOAD_RAMP_SECONDS ?? String(SECONDS / 6));
/** Warm-up: the first third (users arriving, every user's first exchange and capability fetch, JIT). */
const WARM_MS = (SECONDS * 1000) / 3;
const LARGE = "x".repeat(1024 * 1024);
/** Notes a client keeps; a write beyond deletes its oldest. */
const KEPT_NOTES = 3;
/** The gateway's PostgreSQL pool (DATABASE_POOL_MAX default). */
const POOL_MAX = 10;

const figures = new Figures("load");
const stops: (() => Promise<unknown>)[] = [];
let realm: ScenarioRealm;
let gw: GatewayProcess;
let dbUrl: string;
let ports: PeerPorts;
const tokens: string[] = [];

/** What the run measured, for the checks after it. */
interface RunResult {
  samples: Sample[];
  problems: string[];
  toolErrors: Map<string, number>;
  status5xx: number;
  protocolErrors: number;
  metrics: string;
}
let run: RunResult | undefined;

function mustRun(): RunResult {
  if (run === undefined) throw new Error("the load run itself failed; see its test");
  return run;
}

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
    // In its own process, as Nextcloud is: see load-standin.ts.
    const standin = await startStandinProcess(realm.issuer);
    stops.push(() => standin.stop());
    const env = await realmReplicaEnv(
      { realm, publicUrl: gatewayUrl, nextcloudUrl: standin.url, stops },
      {
        // All clients come from 127.0.0.1; the per-IP limit is for anonymous requests only.
        RATE_LIMIT_ANONYMOUS_PER_IP: "0",
        RATE_LIMIT_ANONYMOUS_GLOBAL: "0",
      },
    );
    dbUrl = env.DATABASE_URL;
    gw = await startGatewayProcess(env, { port });
    stops.push(() => gw.stop());
    ports = {
      listen: port,
      remotes: {
        nextcloud: Number(new URL(standin.url).port),
        keycloak: Number(new URL(kc.url).port),
        postgres: Number(new URL(dbUrl).port),
      },
    };
  }, 1_200_000);

  afterAll(async () => {
    figures.flush();
    for (const stop of stops.reverse()) await stop();
  });

  const pidOf = () => {
    const pid = gw.child.proc.pid;
    if (pid === undefined) throw new Error("no pid");
    return pid;
  };
  /** The gateway's sockets, and the clients' (this process's) connections to the gateway. */
  const socketsNow = () => ({
    gateway: socketsOf(pidOf(), ports),
    clients: socketsOf(process.pid, {
      listen: -1, // the clients listen on nothing
      remotes: { gateway: ports.listen },
    }).byPeer.gateway,
  });
  const metricsNow = async () => (await fetch(`${gw.url}/metrics`)).text();

  it(
    `${String(CLIENTS)} clients for ${String(SECONDS)} s on mixed traffic (the run)`,
    { timeout: (SECONDS + 300) * 1000 },
    async () => {
      const latencies: Record<string, number[]> = {
        "tools/list": [],
        notes_list: [],
        notes_create: [],
        notes_delete: [],
        large: [],
      };
      const problems: string[] = [];
      const toolErrors = new Map<string, number>();
      let status5xx = 0;
      let protocolErrors = 0;
      let inFlight = 0;
      let samplesLost = 0;
      const samples: Sample[] = [];
      const loadStart = loadavg()[0] ?? 0;
      const started = performance.now();
      const endAt = started + SECONDS * 1000;
      const sql = postgres(dbUrl, { max: 1, onnotice: () => undefined });
      const dbName = new URL(dbUrl).pathname.slice(1);
      const sampler = setInterval(() => {
        const at = performance.now() - started;
        const s = socketsNow();
        const rss = rssMb(pidOf());
        const flying = inFlight;
        void Promise.all([
          sql`select count(*)::int as n from pg_stat_activity where datname = ${dbName}`,
          metricsNow(),
        ]).then(
          ([rows, m]) => {
            const sample: Sample = {
              at,
              rssMb: rss,
              sockets: s.gateway,
              clientConnections: s.clients ?? 0,
              inFlight: flying,
              dbConnections: (rows[0] as { n: number }).n,
              exchangesInFlight: metricValue(m, "gateway_token_exchanges_in_flight"),
              exchangesWaiting: metricValue(m, "gateway_token_exchanges_waiting"),
              // Callers waiting for a PostgreSQL pool connection (src/store/postgres-dialect.ts).
              poolWaiting: metricValue(m, "gateway_db_pool_waiting"),
            };
            samples.push(sample);
            // Every sample as a JSON line, for a look at the run over time.
            if (TRACE) appendFileSync(TRACE, `${JSON.stringify(sample)}\n`);
          },
          (err: unknown) => {
            // A sample lost (the gateway too busy to answer /metrics) is no finding of the run.
            samplesLost++;
            if (TRACE) appendFileSync(TRACE, `${JSON.stringify({ at, lost: String(err) })}\n`);
          },
        );
      }, 5000);
      const record = (op: string, a: McpAnswer) => {
        latencies[op]?.push(a.ms);
        if (a.status >= 500 || a.status === 0) status5xx++;
        if (a.status !== 200 || a.error !== undefined || a.result === undefined) {
          protocolErrors++;
          if (problems.length < 20) problems.push(`${op}: ${describeAnswer(a)}`);
        } else if (a.result.isError === true) {
          const text = describeAnswer(a).replace(/^HTTP 200\s+tool error: /, "");
          toolErrors.set(text, (toolErrors.get(text) ?? 0) + 1);
          if (problems.length < 20) problems.push(`${op}: ${describeAnswer(a)}`);
        }
        return a;
      };
      const call = async (op: string, send: () => Promise<McpAnswer>) => {
        inFlight++;
        try {
          return record(op, await send());
        } finally {
          inFlight--;
        }
      };
      const client = async (token: string, n: number) => {
        // Users arrive one after another over the ramp.
        await new Promise((r) => setTimeout(r, (n / CLIENTS) * RAMP_SECONDS * 1000));
        const kept: number[] = [];
        for (let round = 0; performance.now() < endAt; round++) {
          const pick = Math.random();
          if (pick < 0.4) await call("tools/list", () => toolsList(gw.url, token));
          else if (pick < 0.8) await call("notes_list", () => toolCall(gw.url, token, "notes_list"));
          else if (kept.length >= KEPT_NOTES) {
            const id = kept.shift();
            await call("notes_delete", () => toolCall(gw.url, token, "notes_delete", { id }));
          } else {
            const large = pick >= 0.995;
            const a = await call(large ? "large" : "notes_create", () =>
              toolCall(gw.url, token, "notes_create", {
                title: `${large ? "large" : "load"} ${String(n)}-${String(round)}`,
                content: large ? LARGE : "load",
              }),
            );
            const id = (a.result?.structuredContent as { note?: { id?: number } } | undefined)?.note?.id;
            if (id !== undefined) kept.push(id);
          }
          await new Promise((r) => setTimeout(r, THINK_MS * (0.5 + Math.random())));
        }
      };
      try {
        await Promise.all(tokens.map((t, i) => client(t, i)));
      } finally {
        clearInterval(sampler);
        await sql.end();
      }
      const metrics = await metricsNow();
      run = { samples, problems, toolErrors, status5xx, protocolErrors, metrics };

      const all = Object.values(latencies)
        .flat()
        .sort((a, b) => a - b);
      figures.add("clients", "Concurrent clients (distinct users and tokens)", CLIENTS, "");
      figures.add("seconds", "Duration", SECONDS, "s");
      figures.add("ramp", "Users arriving over (ramp)", RAMP_SECONDS, "s");
      figures.add("loadavg.start", "Machine load average (1 min) at the start", loadStart, "");
      figures.add("loadavg.end", "Machine load average (1 min) at the end", loadavg()[0] ?? 0, "");
      figures.add("samples", "Samples taken (every 5 s) / lost", samples.length, "");
      figures.add("samples.lost", "Samples lost (/metrics or PostgreSQL did not answer)", samplesLost, "");
      figures.add("requests", "Requests", all.length, "");
      figures.add("rate", "Requests per second", all.length / SECONDS, "/s");
      figures.add(
        "protocol-errors",
        "Protocol errors (not a JSON-RPC result, or not HTTP 200)",
        protocolErrors,
      );
      figures.add("5xx", "5xx answers or connection failures", status5xx, "");
      figures.add(
        "tool-errors",
        "Tool calls answered with a tool error",
        [...toolErrors.values()].reduce((a, b) => a + b, 0),
      );
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
      const m = (name: string) => metricValue(metrics, name);
      figures.add(
        "exchanges",
        "Token exchanges sent to Keycloak (one per user is right)",
        m("gateway_token_exchanges_total"),
      );
      figures.add("exchange.failures", "Token exchanges failed", m("gateway_token_exchange_failures_total"));
      figures.add(
        "exchange.waits",
        "Token exchanges that waited for a slot (32 in flight at most)",
        m("gateway_token_exchange_waits_total"),
      );
      figures.add(
        "exchange.wait.max",
        "Longest wait of an exchange for its slot",
        m("gateway_token_exchange_wait_seconds_max") * 1000,
        "ms",
      );
      figures.add(
        "exchange.stalls",
        "Waiting exchanges given up (Keycloak answered none for 10 s)",
        m("gateway_token_exchange_stalls_total"),
      );
      const peak = (f: (s: Sample) => number) => Math.max(0, ...samples.map(f));
      figures.add(
        "peak.keycloak",
        "Gateway connections to Keycloak, highest sample",
        peak((s) => s.sockets.byPeer.keycloak ?? 0),
      );
      figures.add(
        "peak.exchanges",
        "Exchanges in flight at Keycloak, highest sample",
        peak((s) => s.exchangesInFlight),
      );
      figures.add(
        "peak.waiting",
        "Exchanges waiting for a slot, highest sample",
        peak((s) => s.exchangesWaiting),
      );
      const warm = samples.filter((s) => s.at > WARM_MS);
      const rss = halves(warm, (s) => s.rssMb);
      figures.add("rss.early", "Gateway RSS after warm-up, first half (mean)", rss.early, "MB");
      figures.add("rss.late", "Gateway RSS after warm-up, second half (mean)", rss.late, "MB");
      figures.add(
        "rss.max",
        "Gateway RSS, highest sample",
        peak((s) => s.rssMb),
        "MB",
      );
      const series: [string, string, (s: Sample) => number][] = [
        ["inflight", "Requests in flight (clients' count)", (s) => s.inFlight],
        ["clients", "Clients' open connections to the gateway", (s) => s.clientConnections],
        ["inbound", "Gateway inbound connections (from clients)", (s) => s.sockets.byPeer.inbound ?? 0],
        ["nextcloud", "Gateway connections to Nextcloud", (s) => s.sockets.byPeer.nextcloud ?? 0],
        ["keycloak", "Gateway connections to Keycloak", (s) => s.sockets.byPeer.keycloak ?? 0],
        ["postgres", "Gateway connections to PostgreSQL", (s) => s.sockets.byPeer.postgres ?? 0],
        ["other", "Gateway other sockets (listening, Unix, other TCP)", (s) => otherSockets(s)],
      ];
      for (const [id, label, f] of series) {
        const h = halves(warm, f);
        figures.add(`${id}.early`, `${label} after warm-up, first half (mean)`, h.early);
        figures.add(`${id}.late`, `${label} after warm-up, second half (mean)`, h.late);
      }
      figures.add(
        "db.max",
        `Database connections of the gateway, highest sample (pool max ${String(POOL_MAX)})`,
        peak((s) => s.dbConnections),
      );
      figures.note(
        `Think time ${String(THINK_MS)} ms (×0.5–1.5) per client; users arrive over ${String(RAMP_SECONDS)} s; warm-up the first ${String(Math.round(WARM_MS / 1000))} s; mix 40 % tools/list, 40 % notes_list, 20 % writes (notes_create, or notes_delete of the user's oldest once it keeps ${String(KEPT_NOTES)}; 0.5 % of calls create a 1 MiB note).`,
      );
      figures.add(
        "pool.waits",
        "Waits for a PostgreSQL pool connection (whole run)",
        m("gateway_db_pool_waits_total"),
      );
      figures.add(
        "pool.wait.max",
        "Longest wait for a PostgreSQL pool connection",
        m("gateway_db_pool_wait_seconds_max") * 1000,
        "ms",
      );
      figures.add(
        "pool.waiting.max",
        "Callers waiting for a pool connection, highest sample",
        peak((s) => s.poolWaiting),
      );
    },
  );

  it("no protocol error, no 5xx", () => {
    const r = mustRun();
    expect(
      r.problems.filter((p) => !p.includes("tool error")),
      "protocol errors or 5xx",
    ).toEqual([]);
    expect(r.protocolErrors).toBe(0);
    expect(r.status5xx).toBe(0);
  });

  it("no tool call fails (an IdP timeout at warm-up would show here)", () => {
    const r = mustRun();
    const m = (name: string) => metricValue(r.metrics, name);
    const why = [...r.toolErrors].map(([text, n]) => `${String(n)} × "${text}"`).join("; ");
    expect(
      why,
      `tool errors: ${why} (exchanges ${String(m("gateway_token_exchanges_total"))}, failed ${String(m("gateway_token_exchange_failures_total"))}, stalled ${String(m("gateway_token_exchange_stalls_total"))})`,
    ).toBe("");
  });

  it("RSS flat after warm-up (second half within a quarter of the first)", () => {
    const rss = halves(
      mustRun().samples.filter((s) => s.at > WARM_MS),
      (s) => s.rssMb,
    );
    expect(rss.late, `RSS ${rss.early.toFixed(0)} → ${rss.late.toFixed(0)} MB`).toBeLessThan(
      rss.early * 1.25 + 16,
    );
  });

  it("the gateway's own connections (Nextcloud, Keycloak, PostgreSQL) flat after warm-up, per request in flight", () => {
    const warm = mustRun().samples.filter((s) => s.at > WARM_MS);
    const own = (s: Sample) =>
      (s.sockets.byPeer.nextcloud ?? 0) + (s.sockets.byPeer.keycloak ?? 0) + (s.sockets.byPeer.postgres ?? 0);
    const sockets = halves(warm, own);
    const load = halves(warm, (s) => s.inFlight);
    // Connections follow the requests in flight; if those grew, the load grew, not a leak: compare
    // connections per request in flight, and say both.
    const perRequest = {
      early: sockets.early / Math.max(1, load.early),
      late: sockets.late / Math.max(1, load.late),
    };
    expect(
      sockets.late <= sockets.early * 1.25 + 16 || perRequest.late <= perRequest.early * 1.25,
      `gateway's own connections ${sockets.early.toFixed(0)} → ${sockets.late.toFixed(0)} while requests in flight went ${load.early.toFixed(0)} → ${load.late.toFixed(0)}`,
    ).toBe(true);
    expect(Math.max(0, ...warm.map((s) => s.sockets.byPeer.postgres ?? 0))).toBeLessThanOrEqual(POOL_MAX);
  });

  it("no connection pool exhaustion (no caller waited for a PostgreSQL connection)", () => {
    const r = mustRun();
    const waits = metricValue(r.metrics, "gateway_db_pool_waits_total");
    expect(
      metricValue(r.metrics, "gateway_db_pool_acquisitions_total"),
      "pool counters on /metrics",
    ).toBeGreaterThan(0);
    expect(
      waits,
      `pool waits (longest ${String(metricValue(r.metrics, "gateway_db_pool_wait_seconds_max"))} s)`,
    ).toBe(0);
    expect(Math.max(0, ...r.samples.map((s) => s.poolWaiting))).toBe(0);
  });

  it("the gateway holds no client connection the clients closed, and closes its own once idle", async () => {
    const warm = mustRun().samples.filter((s) => s.at > WARM_MS);
    // Inbound connections are the clients' to keep: the gateway's side must follow them.
    const extra = halves(warm, (s) => (s.sockets.byPeer.inbound ?? 0) - s.clientConnections);
    expect(extra.late, "gateway inbound connections beyond the clients' open ones (mean)").toBeLessThan(16);
    // The clients stopped: every keep-alive connection, the clients' and the gateway's outbound ones,
    // ends by its idle timeout (a few seconds). A pool per user or per request would keep some.
    const idle = await waitFor(
      "the gateway's connections to close once idle",
      () => {
        const s = socketsOf(pidOf(), ports).byPeer;
        const open = (s.inbound ?? 0) + (s.nextcloud ?? 0) + (s.keycloak ?? 0);
        return open <= 2 ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    ).catch((err: unknown) => {
      const s = socketsOf(pidOf(), ports);
      throw new Error(`${(err as Error).message}: still open ${JSON.stringify(s.states)}`);
    });
    figures.add("idle.postgres", "Gateway connections to PostgreSQL once idle", idle.postgres ?? 0);
  });
});

/** Listening, Unix and unknown TCP sockets of the gateway. */
function otherSockets(s: Sample): number {
  const b = s.sockets.byPeer;
  return (b.listening ?? 0) + (b["non-tcp"] ?? 0) + (b.other ?? 0);
}
