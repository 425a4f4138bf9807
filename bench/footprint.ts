// Resident memory and start-up of the gateway as operators run it: the built dist/ (`node
// dist/main.js serve`) in a child process, on the embedded database (PGlite, a temporary DATA_DIR)
// and on PostgreSQL (the test harness's throwaway server). RSS is the child's VmRSS from
// /proc/<pid>/status. Start-up is spawn → first 200 from /readyz (database with current schema,
// IdP discovery and JWKS, the client's own authentication at the IdP).
//
// The IdP is a small OIDC provider served by this process on 127.0.0.1 (discovery, JWKS with the
// bench key, a token endpoint answering the readiness probe and RFC 8693 exchanges): the gateway
// takes the same code path as with Keycloak, without Keycloak's minute of start and its gigabyte
// on a shared 2-core machine. Nextcloud is the stand-in (test/standin), trusting that IdP.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { decodeJwt, jwtVerify, createLocalJWKSet } from "jose";
import { createBenchIdp, keycloakClaims, GATEWAY_CLIENT_ID, type BenchIdp } from "./idp.ts";
import { metric, type Metric, type SectionResult } from "./report.ts";
import { DIST_ENTRY, startGatewayProcess, type GatewayProcess } from "./gateway-process.ts";
import { withResources, type Resources } from "./resources.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const START_TIMEOUT_MS = 60_000;
const PROTOCOL_VERSION = "2025-11-25";
const MiB = 1024;
/** Starts per backend on an existing database; start-up is their median. */
const STARTS = 5;

export type Backend = "pglite" | "postgres";
export const BACKENDS: readonly Backend[] = ["pglite", "postgres"];

export interface FootprintSettings {
  /** tools/list calls under load; a fifth as many whoami calls go along. */
  readonly calls: number;
  readonly concurrency: number;
  readonly backends: readonly Backend[];
}

export const FOOTPRINT_DEFAULTS: FootprintSettings = { calls: 4000, concurrency: 8, backends: BACKENDS };
export const MAX_FOOTPRINT_CALLS = 1_000_000;

/** The targets of issue 11 §3, per backend (MiB, ms). */
const BUDGETS: Record<Backend, { idle: number; load: number; startup: number }> = {
  pglite: { idle: 150, load: 200, startup: 1000 },
  postgres: { idle: 100, load: 150, startup: 1000 },
};

function progress(message: string): void {
  process.stderr.write(`bench:   ${message}\n`);
}

/** VmRSS of a process in MiB, from /proc (Linux). */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${String(pid)}/status`);
  return Number(kb) / MiB;
}

export interface LocalIdp {
  readonly issuer: string;
  readonly exchanges: () => number;
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = "";
  req.setEncoding("utf8");
  for await (const chunk of req) body += chunk as string;
  return body;
}

/** Discovery, JWKS and a token endpoint on 127.0.0.1, signing with the bench key. */
export async function startLocalIdp(key: BenchIdp): Promise<LocalIdp> {
  let exchanges = 0;
  let issuer = "";
  const jwks = createLocalJWKSet({ keys: [key.publicJwk] });
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", issuer);
      if (req.method === "GET" && url.pathname.endsWith("/.well-known/openid-configuration")) {
        json(res, 200, {
          issuer,
          authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
          token_endpoint: `${issuer}/protocol/openid-connect/token`,
          jwks_uri: `${issuer}/protocol/openid-connect/certs`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
          grant_types_supported: ["authorization_code", "urn:ietf:params:oauth:grant-type:token-exchange"],
          token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
          code_challenge_methods_supported: ["S256"],
        });
        return;
      }
      if (req.method === "GET" && url.pathname.endsWith("/certs")) {
        json(res, 200, { keys: [key.publicJwk] });
        return;
      }
      if (req.method === "POST" && url.pathname.endsWith("/token")) {
        const form = new URLSearchParams(await readBody(req));
        if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:token-exchange") {
          json(res, 400, { error: "unsupported_grant_type" });
          return;
        }
        const subject = form.get("subject_token") ?? "";
        let sub: string;
        try {
          const { payload } = await jwtVerify(subject, jwks, { issuer });
          sub = String(payload.sub);
        } catch {
          json(res, 400, { error: "invalid_token", error_description: "invalid subject token" });
          return;
        }
        exchanges += 1;
        const now = Math.floor(Date.now() / 1000);
        const claims = decodeJwt(subject);
        const token = await key.sign({
          ...claims,
          iat: now,
          exp: now + 300,
          sub,
          aud: form.get("audience") ?? "nextcloud",
          azp: GATEWAY_CLIENT_ID,
        });
        json(res, 200, {
          access_token: token,
          issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
          token_type: "Bearer",
          expires_in: 300,
        });
        return;
      }
      json(res, 404, { error: "not_found" });
    })().catch((err: unknown) => {
      json(res, 500, { error: "server_error", error_description: String(err) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/realms/bench`;
  return {
    issuer,
    exchanges: () => exchanges,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

export type Started = GatewayProcess;

/** `node dist/main.js serve` with only the given configuration; waits for /readyz 200 (polled every 10 ms). */
export function startDist(port: number, env: Record<string, string>): Promise<Started> {
  return startGatewayProcess({ entry: DIST_ENTRY, port, env, pollMs: 10, timeoutMs: START_TIMEOUT_MS });
}

/** The process settings the image gives the gateway (Dockerfile `ENV`), which the bench applies too. */
export const IMAGE_ENV_KEYS = ["NODE_OPTIONS", "MALLOC_MMAP_THRESHOLD_"] as const;

/**
 * The values of {@link IMAGE_ENV_KEYS} in the Dockerfile's `ENV` lines (`KEY="value"` or `KEY=value`),
 * so that the bench measures what operators run; `BENCH_<KEY>` overrides one ("" for unset).
 */
export async function imageEnv(): Promise<Record<string, string>> {
  const dockerfile = await readFile(path.join(REPO, "Dockerfile"), "utf8");
  const env: Record<string, string> = {};
  for (const key of IMAGE_ENV_KEYS) {
    const override = process.env[`BENCH_${key}`];
    const fromImage = new RegExp(`^\\s*(?:ENV\\s+)?${key}=(?:"([^"]*)"|(\\S*))`, "m").exec(dockerfile);
    const value = override ?? fromImage?.[1] ?? fromImage?.[2] ?? "";
    if (value !== "") env[key] = value;
  }
  return env;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Sends `calls` tools/list and calls/5 whoami, `concurrency` at a time; samples RSS every 100 ms. */
async function load(
  gw: Started,
  token: string,
  settings: FootprintSettings,
): Promise<{ peak: number; end: number; failures: string[]; seconds: number }> {
  const host = new URL(gw.origin).host;
  const headers = {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": PROTOCOL_VERSION,
    host,
  };
  const list = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
  const whoami = JSON.stringify({
    jsonrpc: "2.0",
    id: 2,
    method: "tools/call",
    params: { name: "whoami", arguments: {} },
  });
  const failures: string[] = [];
  let peak = await rssMiB(gw.pid);
  const sampler = setInterval(() => {
    void rssMiB(gw.pid).then(
      (v) => {
        peak = Math.max(peak, v);
      },
      () => undefined,
    );
  }, 100);
  let next = 0;
  const total = settings.calls + Math.floor(settings.calls / 5);
  const started = performance.now();
  const worker = async () => {
    while (failures.length === 0) {
      const i = next++;
      if (i >= total) return;
      const isWhoami = i % 6 === 5;
      const res = await fetch(`${gw.origin}/mcp`, {
        method: "POST",
        headers,
        body: isWhoami ? whoami : list,
      });
      const body = await res.text();
      const ok =
        res.status === 200 &&
        (isWhoami ? body.includes('"userId"') && !body.includes('"isError":true') : body.includes('"tools"'));
      if (!ok)
        failures.push(
          `${isWhoami ? "whoami" : "tools/list"} answered ${String(res.status)}: ${body.slice(0, 300)}`,
        );
    }
  };
  try {
    await Promise.all(Array.from({ length: settings.concurrency }, worker));
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const end = await rssMiB(gw.pid);
  return { peak: Math.max(peak, end), end, failures, seconds };
}

/** Builds dist/ as `npm run build` does (rolldown.config.ts). */
export async function buildDist(): Promise<void> {
  progress("building dist/ (rolldown -c rolldown.config.ts, as npm run build)…");
  await new Promise<void>((resolve, reject) => {
    const build = spawn(
      process.execPath,
      [path.join(REPO, "node_modules/rolldown/bin/cli.mjs"), "-c", "rolldown.config.ts"],
      {
        cwd: REPO,
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    build.once("exit", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`npm run build failed (rolldown exit ${String(code)})`));
    });
  });
}

async function measure(settings: FootprintSettings, resources: Resources): Promise<SectionResult> {
  if (process.platform !== "linux") {
    return { metrics: [], notes: ["footprint needs Linux (/proc/<pid>/status)"], failures: [] };
  }
  const { startNextcloudStandin } = await import("../test/standin/index.ts");
  const metrics: Metric[] = [];
  const notes: string[] = [];

  await buildDist();

  const key = await createBenchIdp();
  const idp = await startLocalIdp(key);
  resources.add("the bench IdP", () => idp.stop());
  const standin = await startNextcloudStandin({
    issuer: idp.issuer,
    audience: "nextcloud",
    calendar: false,
    contacts: false,
  });
  resources.add("the Nextcloud stand-in", () => standin.stop());

  const processEnv = await imageEnv();
  for (const backend of settings.backends) {
    resources.check();
    const budget = BUDGETS[backend];
    const env: Record<string, string> = {
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_SECRET: "bench-secret",
      NEXTCLOUD_URL: standin.url,
      LOG_LEVEL: "silent",
      // The load is one user's; the per-user limit (600/min) would answer 429 to it.
      RATE_LIMIT_MCP_PER_USER: "0",
      ...processEnv,
    };
    let what: string;
    if (backend === "pglite") {
      const dataDir = await mkdtemp(path.join(tmpdir(), "ncmcp-footprint-"));
      resources.add("the data directory", () => rm(dataDir, { recursive: true, force: true }));
      env.DATA_DIR = dataDir;
      what = "embedded database (PGlite) in a temporary DATA_DIR";
    } else {
      const { createTestDatabase, startPostgres } = await import("../test/harness/postgres.ts");
      progress("starting PostgreSQL (test harness)…");
      const pg = await startPostgres();
      resources.add("PostgreSQL", () => pg.stop());
      const db = await createTestDatabase(pg.adminUrl, "footprint");
      resources.add("the bench database", () => db.drop());
      env.DATABASE_URL = db.url;
      what = `PostgreSQL (${pg.source})`;
    }
    const port = await freePort();
    env.GATEWAY_PUBLIC_URL = `http://127.0.0.1:${String(port)}`;

    // First start: creates the database (PGlite's initdb) and applies the migrations.
    progress(`${backend}: first start (creates and migrates the database)…`);
    const first = await startDist(port, env);
    await first.stop();
    metrics.push(
      metric(
        `startup.${backend}.first`,
        `${backend}: first start to ready (creates the database)`,
        Math.round(first.readyMs),
        "ms",
      ),
    );

    // Start-up varies with what else the machine runs: the median of a few starts, the last kept.
    progress(`${backend}: ${String(STARTS)} starts, idle, load…`);
    const readyTimes: number[] = [];
    for (let i = 1; i < STARTS; i++) {
      resources.check();
      const earlier = await startDist(port, env);
      readyTimes.push(earlier.readyMs);
      await earlier.stop();
    }
    const gw = await startDist(port, env);
    readyTimes.push(gw.readyMs);
    resources.add(
      `the gateway (${backend})`,
      () => gw.stop(),
      () => gw.child.kill("SIGKILL"),
    );
    const sorted = [...readyTimes].sort((a, b) => a - b);
    metrics.push(
      metric(
        `startup.${backend}`,
        `${backend}: start-up to ready (dist/, existing database; median of ${String(STARTS)})`,
        Math.round(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN),
        "ms",
        { op: "<=", value: budget.startup },
      ),
    );
    metrics.push(
      metric(
        `startup.${backend}.min`,
        `${backend}: fastest start-up to ready`,
        Math.round(sorted[0] ?? Number.NaN),
        "ms",
      ),
    );
    const atReady = await rssMiB(gw.pid);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const idle = await rssMiB(gw.pid);
    metrics.push(metric(`rss-ready.${backend}`, `${backend}: RSS when ready`, Math.round(atReady), "MiB"));
    metrics.push(
      metric(`rss-idle.${backend}`, `${backend}: RSS idle (3 s after ready)`, Math.round(idle), "MiB", {
        op: "<=",
        value: budget.idle,
      }),
    );
    const now = Math.floor(Date.now() / 1000);
    const token = await key.sign({
      ...keycloakClaims(`${env.GATEWAY_PUBLIC_URL}/mcp`, now),
      iss: idp.issuer,
    });
    const run = await load(gw, token, settings);
    if (run.failures.length > 0) {
      return { metrics, notes, failures: [`${backend}: ${run.failures[0] ?? ""}`] };
    }
    const calls = settings.calls + Math.floor(settings.calls / 5);
    metrics.push(
      metric(
        `rss-load.${backend}`,
        `${backend}: RSS peak under load (${String(calls)} calls)`,
        Math.round(run.peak),
        "MiB",
        {
          op: "<=",
          value: budget.load,
        },
      ),
    );
    metrics.push(
      metric(`rss-after-load.${backend}`, `${backend}: RSS after the load`, Math.round(run.end), "MiB"),
    );
    metrics.push(
      metric(
        `load.${backend}.rate`,
        `${backend}: calls/s during the load`,
        Math.round(calls / run.seconds),
        "req/s",
      ),
    );
    notes.push(
      `${backend}: ${what}; load = ${String(settings.calls)} tools/list + ${String(Math.floor(settings.calls / 5))} whoami (token exchange, stand-in) at ${String(settings.concurrency)} concurrent, RSS sampled every 100 ms.`,
    );
    await gw.stop();
  }
  notes.push(
    `The gateway runs from dist/ as \`node dist/main.js serve\` with the image's process settings from the Dockerfile (${JSON.stringify(processEnv)}; BENCH_<KEY> overrides one, "" unsets it). The IdP is a local OIDC provider in the bench process (discovery, JWKS, RFC 8693 exchange), not Keycloak.`,
  );
  notes.push(`token exchanges the IdP answered: ${String(idp.exchanges())}`);
  return { metrics, notes, failures: [] };
}

export function runFootprint(settings: FootprintSettings = FOOTPRINT_DEFAULTS): Promise<SectionResult> {
  return withResources("the gateway, the stand-in, PostgreSQL", (resources) => measure(settings, resources));
}
