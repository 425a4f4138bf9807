// tools/list throughput over real HTTP on loopback: the gateway in a child process (bench/server.ts),
// this process driving closed-loop load through fetch with keep-alive. The same loop against
// GET /healthz gives the HTTP stack's own ceiling, without auth and MCP.
import os from "node:os";
import { createBenchIdp, keycloakClaims } from "./idp.ts";
import { contentionNote, cpuSample, othersCores, type CpuSample } from "./cpu.ts";
import { startGatewayChild, type GatewayChild, type ServerStats } from "./child.ts";
import { runLoad, type LoadClient, type LoadOptions, type LoadResult } from "./load.ts";
import { metric, type Metric, type SectionResult } from "./report.ts";

export interface HttpLoadSettings {
  readonly client: LoadClient;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export const HTTP_LOAD_DEFAULTS: HttpLoadSettings = {
  client: "raw",
  concurrency: 32,
  warmupMs: 2000,
  durationMs: 8000,
};

const PROTOCOL_VERSION = "2025-11-25";
const TOOLS_LIST = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });

/** The names of the tools in a tools/list response body, or a description of what is wrong with it. */
function toolNames(body: string): string[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return "the body is not JSON";
  }
  const tools = (parsed as { result?: { tools?: unknown } } | null)?.result?.tools;
  if (!Array.isArray(tools) || tools.length === 0) return "the body has no result.tools (or an empty list)";
  return (tools as { name?: unknown }[]).map((t) => String(t.name));
}

interface Measured {
  readonly load: LoadResult;
  /** The gateway process's CPU over the window, in % of one core. */
  readonly serverCpuPercent: number;
  /** Cores kept busy by processes other than the bench and the gateway during the window. */
  readonly othersCores: number;
  readonly server: { readonly before: ServerStats; readonly after: ServerStats };
}

async function measure(
  child: GatewayChild,
  options: Omit<LoadOptions, "onWindowStart" | "onWindowEnd">,
): Promise<Measured> {
  let before: Promise<ServerStats> | undefined;
  let after: Promise<ServerStats> | undefined;
  let cpuStart: CpuSample | undefined;
  let cpuEnd: CpuSample | undefined;
  const load = await runLoad({
    ...options,
    onWindowStart: () => {
      cpuStart = cpuSample();
      before = child.stats();
      before.catch(() => undefined); // awaited below; do not let it count as unhandled meanwhile
    },
    onWindowEnd: () => {
      cpuEnd = cpuSample();
      after = child.stats();
      after.catch(() => undefined);
    },
  });
  // Both are set unless the run stopped on a failure during warm-up; then sample now (CPU is moot).
  const b = await (before ?? child.stats());
  const a = await (after ?? child.stats());
  const cpuMs = (a.cpuUserUs - b.cpuUserUs + (a.cpuSystemUs - b.cpuSystemUs)) / 1000;
  const wallMs = a.atMs - b.atMs;
  return {
    load,
    serverCpuPercent: wallMs > 0 ? (cpuMs / wallMs) * 100 : 0,
    othersCores: cpuStart === undefined || cpuEnd === undefined ? 0 : othersCores(cpuStart, cpuEnd, cpuMs),
    server: { before: b, after: a },
  };
}

function loadMetrics(prefix: string, label: string, m: Measured, budgetRps?: number): Metric[] {
  const { load } = m;
  return [
    metric(
      `${prefix}.rps`,
      `${label} throughput`,
      load.rps,
      "req/s",
      budgetRps === undefined ? undefined : { op: ">=", value: budgetRps },
    ),
    metric(`${prefix}.p50`, `${label} latency p50`, load.latencyMs.p50, "ms"),
    metric(`${prefix}.p99`, `${label} latency p99`, load.latencyMs.p99, "ms"),
    metric(`${prefix}.non2xx`, `${label} non-2xx responses`, load.non2xx, "", { op: "<=", value: 0 }),
    metric(`${prefix}.failures`, `${label} other failures (bad body, errors)`, load.otherFailures, "", {
      op: "<=",
      value: 0,
    }),
    metric(`${prefix}.server_cpu`, `${label} gateway CPU (of one core)`, m.serverCpuPercent, "%"),
    metric(
      `${prefix}.server_cpu_per_request`,
      `${label} gateway CPU per request`,
      load.rps > 0 ? (m.serverCpuPercent / 100 / load.rps) * 1e6 : Number.NaN,
      "µs",
    ),
    metric(`${prefix}.client_cpu`, `${label} load generator CPU (of one core)`, load.clientCpuPercent, "%"),
    metric(`${prefix}.others_cores`, `${label} other processes' CPU meanwhile`, m.othersCores, "cores"),
  ];
}

/** Which side limited a loop, judged from the CPU each used (one event loop each). */
function bottleneck(label: string, m: Measured): string {
  const server = Math.round(m.serverCpuPercent);
  const client = Math.round(m.load.clientCpuPercent);
  const perRequest = m.load.rps > 0 ? (m.serverCpuPercent / 100 / m.load.rps) * 1e6 : Number.NaN;
  const ceiling = Number.isFinite(perRequest) ? Math.round(1e6 / perRequest) : Number.NaN;
  if (server >= 85) {
    return `${label}: the gateway was saturated (${server} % of a core, GC threads included; load generator ${client} %): the throughput is the gateway's own, at ${Math.round(perRequest)} µs of gateway CPU per request.`;
  }
  if (client >= 85) {
    return `${label}: the load generator was saturated (${client} % of a core) while the gateway used ${server} %: the throughput is the generator's ceiling, a lower bound for the gateway (${Math.round(perRequest)} µs of gateway CPU per request would allow about ${ceiling.toLocaleString("en-US")} req/s on a free core).`;
  }
  return `${label}: neither side was saturated (gateway ${server} %, generator ${client} % of a core): other processes or scheduling limited the run; treat the throughput as a lower bound.`;
}

export async function runToolsList(settings: HttpLoadSettings = HTTP_LOAD_DEFAULTS): Promise<SectionResult> {
  const idp = await createBenchIdp();
  const child = await startGatewayChild({ publicJwk: idp.publicJwk });
  try {
    const token = await idp.sign(keycloakClaims(child.resourceUrl, Math.floor(Date.now() / 1000)));
    const host = `127.0.0.1:${child.port}`;
    const mcpHeaders = {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": PROTOCOL_VERSION,
      host,
    };

    // One request first: a clear message when the setup is wrong, and what the list holds.
    const probe = await fetch(`${child.origin}/mcp`, {
      method: "POST",
      headers: mcpHeaders,
      body: TOOLS_LIST,
    });
    const probeBody = await probe.text();
    const names = toolNames(probeBody);
    if (probe.status !== 200 || typeof names === "string") {
      const why = probe.status === 200 ? String(names) : `HTTP ${probe.status}`;
      return {
        metrics: [],
        notes: [],
        failures: [`the first tools/list was refused (${why}): ${probeBody.slice(0, 300)}`],
      };
    }

    const common = {
      client: settings.client,
      concurrency: settings.concurrency,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
    };
    process.stderr.write(`bench:   tools/list, ${settings.concurrency} workers…\n`);
    const tools = await measure(child, {
      ...common,
      name: "tools/list",
      url: `${child.origin}/mcp`,
      method: "POST",
      headers: mcpHeaders,
      body: TOOLS_LIST,
      check: (body) => {
        const r = toolNames(body);
        return typeof r === "string" ? r : undefined;
      },
    });
    const failures = [...tools.load.problems];
    let health: Measured | undefined;
    if (failures.length === 0) {
      process.stderr.write(`bench:   GET /healthz, ${settings.concurrency} workers…\n`);
      health = await measure(child, {
        ...common,
        name: "healthz",
        url: `${child.origin}/healthz`,
        method: "GET",
        headers: { host },
        check: (body) => (body.includes('"ok"') ? undefined : "the body does not say ok"),
      });
      failures.push(...health.load.problems);
    }

    const { before, after } = tools.server;
    const cores = os.availableParallelism();
    const notes = [
      `Gateway: createApp in a child process (one event loop), silent logger, stub readiness, ${names.length} tool(s) listed (${names.join(", ")}), ${Buffer.byteLength(probeBody)}-byte response.`,
      `Load: this process, ${settings.concurrency} closed-loop workers over ${settings.client === "fetch" ? "fetch (undici)" : settings.client === "raw" ? "raw HTTP/1.1 (node:net)" : "node:http"} keep-alive connections to 127.0.0.1, ${settings.warmupMs / 1000} s warm-up then ${settings.durationMs / 1000} s measured; latency is per request as the client sees it (queueing in the client included).`,
      `Token verification is cached after the first request, as for a real client reusing its token: ${after.hits - before.hits} cache hits and ${after.misses - before.misses} misses in the tools/list window.`,
      `The load generator and the gateway share this machine's ${cores} cores, one event loop each (plus GC and libuv threads); their CPU use tells which side limited each loop. "Gateway CPU per request" (all its threads) depends least on the generator.`,
      bottleneck("tools/list", tools),
      ...(health === undefined ? [] : [bottleneck("GET /healthz", health)]),
      ...[
        contentionNote("the tools/list window", tools.othersCores),
        health === undefined ? undefined : contentionNote("the /healthz window", health.othersCores),
      ].filter((n) => n !== undefined),
      "Not included: the request log line the gateway writes per /mcp request at LOG_LEVEL=info (silent here), TLS and a reverse proxy.",
    ];
    return {
      metrics: [
        ...loadMetrics("http.tools_list", "tools/list", tools, 3000),
        ...(health === undefined ? [] : loadMetrics("http.healthz", "GET /healthz", health)),
      ],
      notes,
      failures,
    };
  } finally {
    await child.stop();
  }
}
