// No growth over a long run (issue 11 §3): the built gateway (`node dist/main.js serve`, the embedded
// default, the image's NODE_OPTIONS and MALLOC_MMAP_THRESHOLD_) answers `requests` mixed requests: tools/list, and whoami tool
// calls that go to Nextcloud with the exchanged token from the gateway's cache (re-exchanged when it
// expires, every 5 minutes). The stand-in runs in a process of its own; the IdP is the bench's local
// OIDC provider (footprint.ts). RSS (VmRSS) is taken after the warm-up (the first 5 %, at least
// 10,000 requests) and at the end, each after 3 s without requests; the budget is growth ≤ 10 %.
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { contentionNote, cpuSample, othersCores } from "./cpu.ts";
import { buildDist, freePort, imageEnv, rssMiB, startDist, startLocalIdp } from "./footprint.ts";
import { createBenchIdp, keycloakClaims } from "./idp.ts";
import { metric, type Metric, type SectionResult } from "./report.ts";
import { withResources, type Resources } from "./resources.ts";
import { startStandinChild } from "./standin-child.ts";

export interface SoakSettings {
  /** Requests in all, warm-up included. */
  readonly requests: number;
  readonly concurrency: number;
}

export const SOAK_DEFAULTS: SoakSettings = { requests: 1_000_000, concurrency: 8 };
export const MIN_SOAK_REQUESTS = 1000;
export const MAX_SOAK_REQUESTS = 10_000_000;
const GROWTH_BUDGET_PERCENT = 10;
const SETTLE_MS = 3000;
const PROTOCOL_VERSION = "2025-11-25";

function progress(message: string): void {
  process.stderr.write(`bench:   ${message}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends requests `from` to `to` (exclusive), `concurrency` at a time over node:http keep-alive. */
async function drive(
  origin: string,
  token: string,
  from: number,
  to: number,
  concurrency: number,
  onProgress: (done: number) => void,
): Promise<{ failures: string[]; lists: number; calls: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(`${origin}/mcp`);
  const bodies = {
    list: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    whoami: JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "whoami", arguments: {} },
    }),
  };
  const headers = {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": PROTOCOL_VERSION,
  };
  const failures: string[] = [];
  let next = from;
  let lists = 0;
  let calls = 0;
  const send = (body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        url,
        { method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(body) } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            resolve({ status: res.statusCode ?? 0, text });
          });
          res.on("error", reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error("no answer within 30 s")));
      req.on("error", reject);
      req.end(body);
    });
  const worker = async () => {
    while (failures.length === 0) {
      const i = next++;
      if (i >= to) return;
      const isCall = i % 2 === 1;
      try {
        const { status, text } = await send(isCall ? bodies.whoami : bodies.list);
        const ok =
          status === 200 &&
          (isCall ? text.includes('"userId"') && !text.includes('"isError":true') : text.includes('"tools"'));
        if (!ok)
          failures.push(
            `request ${String(i)} (${isCall ? "whoami" : "tools/list"}) answered ${String(status)}: ${text.slice(0, 300)}`,
          );
        else if (isCall) calls++;
        else lists++;
      } catch (err) {
        failures.push(`request ${String(i)}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (i % 10_000 === 0) onProgress(i);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { failures, lists, calls };
}

async function measure(settings: SoakSettings, resources: Resources): Promise<SectionResult> {
  if (process.platform !== "linux") {
    return { metrics: [], notes: ["soak needs Linux (/proc/<pid>/status)"], failures: [] };
  }
  await buildDist();
  const key = await createBenchIdp();
  const idp = await startLocalIdp(key);
  resources.add("the bench IdP", () => idp.stop());
  const standin = await startStandinChild({
    issuer: idp.issuer,
    audience: "nextcloud",
    calendar: false,
    contacts: false,
  });
  resources.add(
    "the Nextcloud stand-in",
    () => standin.stop(),
    () => {
      standin.kill();
    },
  );
  const processEnv = await imageEnv();
  const dataDir = await mkdtemp(path.join(tmpdir(), "ncmcp-soak-"));
  resources.add("the data directory", () => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const env: Record<string, string> = {
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_SECRET: "bench-secret",
    NEXTCLOUD_URL: standin.url,
    LOG_LEVEL: "silent",
    RATE_LIMIT_MCP_PER_USER: "0",
    DATA_DIR: dataDir,
    GATEWAY_PUBLIC_URL: `http://127.0.0.1:${String(port)}`,
    ...processEnv,
  };
  progress("starting the gateway (node dist/main.js serve, embedded database)…");
  const gw = await startDist(port, env);
  resources.add(
    "the gateway",
    () => gw.stop(),
    () => gw.child.kill("SIGKILL"),
  );
  const now = Math.floor(Date.now() / 1000);
  // Valid for the whole soak (the exchanged token the gateway caches expires after 5 minutes).
  const token = await key.sign({
    ...keycloakClaims(`${env.GATEWAY_PUBLIC_URL ?? ""}/mcp`, now),
    exp: now + 6 * 3600,
    iss: idp.issuer,
  });
  const warmup = Math.min(settings.requests, Math.max(10_000, Math.round(settings.requests * 0.05)));
  const rssSamples: number[] = [];
  const sampler = setInterval(() => {
    void rssMiB(gw.pid).then(
      (v) => rssSamples.push(v),
      () => undefined,
    );
  }, 1000);
  resources.add("the RSS sampler", () => {
    clearInterval(sampler);
    return Promise.resolve();
  });
  let lastShown = 0;
  const show = (done: number) => {
    if (done - lastShown >= 100_000) {
      lastShown = done;
      void rssMiB(gw.pid).then(
        (v) => {
          progress(`${String(done)} requests, RSS ${v.toFixed(0)} MiB`);
        },
        () => undefined,
      );
    }
  };

  progress(`warm-up: ${String(warmup)} requests…`);
  const warm = await drive(gw.origin, token, 0, warmup, settings.concurrency, show);
  if (warm.failures.length > 0)
    return { metrics: [], notes: [], failures: [`warm-up: ${warm.failures[0] ?? ""}`] };
  await sleep(SETTLE_MS);
  const rssWarm = await rssMiB(gw.pid);
  const standinWarm = await rssMiB(standin.pid);
  const retainedWarm = await standin.retained();

  progress(
    `soak: ${String(settings.requests - warmup)} requests at ${String(settings.concurrency)} concurrent…`,
  );
  const cpuStart = cpuSample();
  const started = performance.now();
  const soak = await drive(gw.origin, token, warmup, settings.requests, settings.concurrency, show);
  const seconds = (performance.now() - started) / 1000;
  const others = othersCores(cpuStart, cpuSample());
  clearInterval(sampler);
  if (soak.failures.length > 0)
    return { metrics: [], notes: [], failures: [`soak: ${soak.failures[0] ?? ""}`] };
  const rssLoadPeak = Math.max(...rssSamples);
  await sleep(SETTLE_MS);
  const rssEnd = await rssMiB(gw.pid);
  const standinEnd = await rssMiB(standin.pid);
  const retainedEnd = await standin.retained();
  const growth = ((rssEnd - rssWarm) / rssWarm) * 100;
  const soaked = settings.requests - warmup;

  const metrics: Metric[] = [
    metric("soak.requests", "Requests (warm-up included)", settings.requests, ""),
    metric("soak.rate", "Requests/s during the soak", Math.round(soaked / seconds), "req/s"),
    metric("soak.rss.warm", "Gateway RSS after the warm-up (3 s idle)", Math.round(rssWarm), "MiB"),
    metric(
      "soak.rss.peak",
      "Gateway RSS peak during the soak (sampled every second)",
      Math.round(rssLoadPeak),
      "MiB",
    ),
    metric("soak.rss.end", "Gateway RSS after the soak (3 s idle)", Math.round(rssEnd), "MiB"),
    metric("soak.rss.growth", "Gateway RSS growth, end vs after warm-up", Number(growth.toFixed(1)), "%", {
      op: "<=",
      value: GROWTH_BUDGET_PERCENT,
    }),
    metric("soak.standin.rss.warm", "Stand-in RSS after the warm-up", Math.round(standinWarm), "MiB"),
    metric("soak.standin.rss.end", "Stand-in RSS after the soak", Math.round(standinEnd), "MiB"),
    metric(
      "soak.standin.retained",
      "Stand-in: entries kept of the requests served (end)",
      retainedEnd.requests + retainedEnd.seenTokens + retainedEnd.distinctTokens,
      "",
    ),
    metric("soak.others_cores", "Other processes' CPU meanwhile", others, "cores"),
  ];
  const notes = [
    `The built gateway (\`node dist/main.js serve\`, embedded database in a temporary DATA_DIR, LOG_LEVEL=silent, the image's process settings ${JSON.stringify(processEnv)}); ${String(settings.requests)} requests, half tools/list and half whoami tool calls (OCS cloud/user at the stand-in with the exchanged token from the gateway's cache), ${String(settings.concurrency)} concurrent over node:http keep-alive. Warm-up: the first ${String(warmup)}. ${String(idp.exchanges())} token exchange(s) in all.`,
    `The stand-in runs in a process of its own (bench/standin-child.ts); it kept ${JSON.stringify(retainedWarm)} after the warm-up and ${JSON.stringify(retainedEnd)} at the end.`,
    ...[contentionNote("the soak", others)].filter((n) => n !== undefined),
  ];
  return { metrics, notes, failures: [] };
}

export function runSoak(settings: SoakSettings = SOAK_DEFAULTS): Promise<SectionResult> {
  return withResources("the gateway, the stand-in, the IdP", (resources) => measure(settings, resources));
}
