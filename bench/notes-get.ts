// The gateway's overhead per tool call: `notes_get` through the real gateway (a child process running
// `node src/main.ts serve`, embedded database) against the same note fetched directly from the
// Nextcloud stand-in's Notes API, one request at a time. Real parts: Keycloak (the test harness's
// cached distribution with the project's realm and demo users), alice's sign-in on Keycloak's login
// page in headless Chromium, Keycloak's token exchange. The gateway caches the exchanged token per
// MCP token, so after the first call the overhead is the gateway's own work plus one loopback hop.
//
// While `notes_get` is not listed (it is new), the bench measures `whoami` against OCS cloud/user
// the same way, and says so. Traffic goes to 127.0.0.1/localhost only; Keycloak, the stand-in, the
// gateway child and the browser are stopped at the end, on failure and on Ctrl-C / SIGTERM.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { decodeJwt } from "jose";
import * as oidc from "openid-client";
import type { TestKeycloak } from "../test/harness/keycloak.ts";
import { contentionNote, cpuSample, othersCores } from "./cpu.ts";
import { buildDist, imageEnv } from "./footprint.ts";
import { describe, DIST_ENTRY, snippet, SOURCE_ENTRY, startGatewayProcess } from "./gateway-process.ts";
import { runLoad, type LoadClient, type LoadResult } from "./load.ts";
import { metric, type Metric, type SectionResult } from "./report.ts";
import { withResources, type Resources } from "./resources.ts";
import { startStandinChild, type StandinChild } from "./standin-child.ts";
import { summarize, type Summary } from "./stats.ts";

export interface ToolCallSettings {
  /** Measured calls per path (gateway and direct), alternating. */
  readonly calls: number;
  /** Unmeasured calls per path before the measured ones. */
  readonly warmup: number;
  /** Closed-loop clients of the throughput loop (0: no throughput loop). */
  readonly concurrency: number;
  /** The throughput loop's warm-up and measured window per path, ms. */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The throughput loop's HTTP client (`--client`): raw (the lightest), node:http or fetch. */
  readonly client: LoadClient;
  /**
   * Which gateway (`--gateway`): `src` runs `node src/main.ts serve` with Node's own heap settings;
   * `image` runs the build (`dist/main.js`) with the Dockerfile's NODE_OPTIONS and malloc setting.
   */
  readonly gateway: "src" | "image";
}

export const TOOL_CALL_DEFAULTS: ToolCallSettings = {
  client: "raw",
  // Enough calls for a p99 of 30 samples, after enough for the JIT to have optimised the path.
  calls: 3000,
  warmup: 1000,
  gateway: "src",
  concurrency: 16,
  warmupMs: 2000,
  durationMs: 8000,
};
export const MAX_CALLS = 5000;
/** The budget of the design: gateway overhead per tool call, p50, against a direct call. */
const OVERHEAD_BUDGET_MS = 1;
/** Issue 11 §3: time added over a direct call, p99 at 1 client. */
const OVERHEAD_P99_BUDGET_MS = 3;
/** Issue 11 §3: notes read through the gateway at 16 clients, the stand-in in its own process. */
const RATE_BUDGET = 1500;
/** Bound on the measured loop (warm-up included); well inside the realm's 300 s token lifetime. */
const LOOP_LIMIT_MS = 120_000;
const REQUEST_TIMEOUT_MS = 10_000;
const GATEWAY_START_TIMEOUT_MS = 60_000;

const PROTOCOL_VERSION = "2025-11-25";
const SCOPE = "openid mcp:tools mcp:write";
const NOTE_FILE = "Notes/Bench.md";

/** A note of ordinary size (about 1.5 KB of Markdown). */
const NOTE_TEXT = [
  "# Bench",
  "",
  "A note of ordinary size for the notes_get benchmark.",
  "",
  ...Array.from(
    { length: 24 },
    (_, i) => `- item ${String(i + 1)}: the quick brown fox jumps over the lazy dog`,
  ),
  "",
].join("\n");

type Tool = "notes_get" | "whoami";

interface Request {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** What is wrong with a 200 response's body, or undefined. */
  readonly check: (body: string) => string | undefined;
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** The `result` of a JSON-RPC response, or what is wrong with it. */
function rpcResult(body: string): Record<string, unknown> | string {
  const parsed = parse(body) as { result?: unknown; error?: unknown } | undefined;
  if (parsed === undefined) return "the body is not JSON";
  if (parsed.error !== undefined) return `JSON-RPC error ${JSON.stringify(parsed.error)}`;
  if (typeof parsed.result !== "object" || parsed.result === null) return "the body has no result";
  return parsed.result as Record<string, unknown>;
}

/** The structured content of a successful tools/call, or what is wrong with the response. */
function toolOutput(body: string): Record<string, unknown> | string {
  const result = rpcResult(body);
  if (typeof result === "string") return result;
  if (result.isError === true) return `the tool failed: ${snippet(JSON.stringify(result.content))}`;
  const out = result.structuredContent;
  if (typeof out !== "object" || out === null) return "the result has no structuredContent";
  return out as Record<string, unknown>;
}

/** One request, timed from sending to the last byte of the body. */
async function timed(r: Request): Promise<{ ms: number; problem?: string }> {
  const started = performance.now();
  let status: number;
  let text: string;
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      ...(r.body === undefined ? {} : { body: r.body }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    return { ms: performance.now() - started, problem: `request failed: ${describe(err)}` };
  }
  const ms = performance.now() - started;
  if (status !== 200) return { ms, problem: `HTTP ${status}: ${snippet(text)}` };
  const problem = r.check(text);
  return problem === undefined ? { ms } : { ms, problem };
}

/** CPU time (user + system) of a Linux process in ms from /proc, or undefined elsewhere. */
function procCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of the line (utime, stime) in clock ticks, 100 per second on Linux.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

interface PathResult {
  readonly latency: Summary;
}

export async function runNotesGet(settings: ToolCallSettings = TOOL_CALL_DEFAULTS): Promise<SectionResult> {
  return withResources("Keycloak, the stand-in and the gateway", (resources) =>
    measureToolCall(settings, resources),
  );
}

function progress(message: string): void {
  process.stderr.write(`bench:   ${message}\n`);
}

async function measureToolCall(settings: ToolCallSettings, resources: Resources): Promise<SectionResult> {
  // Loaded here, not at the top: the other benches should not pay for Playwright and the harness.
  const { chromiumPath, launchBrowser } = await import("../test/harness/browser.ts");
  const { startKeycloak, testRealmEnv } = await import("../test/harness/keycloak.ts");
  const { freePort } = await import("../test/harness/wait.ts");
  const { DEMO_USERS, signIn } = await import("../test/integration/support/oauth.ts");

  chromiumPath(); // fails early, naming the package to install, before Keycloak takes a minute to start

  const gatewayPort = await freePort();
  const standinPort = await freePort();
  const gatewayUrl = `http://localhost:${String(gatewayPort)}`;
  progress("starting Keycloak (the harness's distribution; 30–60 s, more on a busy machine)…");
  const kcStarted = performance.now();
  const kc: TestKeycloak = await startKeycloak(
    testRealmEnv(gatewayUrl, `http://127.0.0.1:${String(standinPort)}`),
  );
  // Its stop signals Keycloak's process group synchronously before waiting: fine for a signal handler too.
  resources.add("Keycloak", () => kc.stop());
  const kcSeconds = (performance.now() - kcStarted) / 1000;

  resources.check();
  // In its own process: the bench's load generator must not share an event loop with it.
  const standin: StandinChild = await startStandinChild({
    issuer: kc.issuer,
    audience: "nextcloud",
    port: standinPort,
  });
  resources.add(
    "the Nextcloud stand-in",
    () => standin.stop(),
    () => {
      standin.kill();
    },
  );

  const dataDir = await mkdtemp(path.join(tmpdir(), "ncmcp-bench-"));
  resources.add("the data directory", () => rm(dataDir, { recursive: true, force: true }));
  const image = settings.gateway === "image" ? await imageEnv() : undefined;
  if (image !== undefined) await buildDist();
  progress(
    image === undefined
      ? "starting the gateway (node src/main.ts serve)…"
      : `starting the built gateway (node dist/main.js serve, ${JSON.stringify(image)})…`,
  );
  const gateway = await startGatewayProcess({
    entry: image === undefined ? SOURCE_ENTRY : DIST_ENTRY,
    port: gatewayPort,
    env: {
      GATEWAY_PUBLIC_URL: gatewayUrl,
      OIDC_ISSUER: kc.issuer,
      OIDC_CLIENT_SECRET: kc.realmEnv.MCP_GATEWAY_CLIENT_SECRET,
      NEXTCLOUD_URL: standin.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: "silent",
      // One user drives the throughput loop; the per-user limit (600/min) would answer 429 to it.
      RATE_LIMIT_MCP_PER_USER: "0",
      ...image,
      // e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway (bench/README.md).
      ...(process.env.BENCH_GATEWAY_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS }
        : {}),
    },
    pollMs: 250,
    timeoutMs: GATEWAY_START_TIMEOUT_MS,
  });
  resources.add(
    "the gateway",
    () => gateway.stop(),
    () => gateway.child.kill("SIGKILL"),
  );

  progress("signing alice in through Keycloak's login page (headless Chromium)…");
  const discover = (clientId: string, auth: oidc.ClientAuth) =>
    oidc.discovery(new URL(kc.issuer), clientId, undefined, auth, {
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the bench's Keycloak is plain http on loopback
      execute: [oidc.allowInsecureRequests],
    });
  resources.check();
  const browser = await launchBrowser();
  resources.add("Chromium", () => browser.close());
  let mcpToken: string;
  try {
    const callback = await freePort();
    const tokens = await signIn(browser, {
      config: await discover("mcp-client", oidc.None()),
      redirectUri: `http://127.0.0.1:${String(callback)}/callback`,
      scope: SCOPE,
      user: DEMO_USERS.alice,
    });
    mcpToken = tokens.access_token;
  } finally {
    await browser.close(); // no need to keep it during the measurement
  }
  const uid = decodeJwt(mcpToken).sub;
  if (uid === undefined) throw new Error("alice's MCP token has no sub");

  // The baseline's token: what the gateway's broker obtains, obtained once here the same way.
  const gatewayClient = await discover(
    "mcp-gateway",
    oidc.ClientSecretPost(kc.realmEnv.MCP_GATEWAY_CLIENT_SECRET),
  );
  const exchanged = await oidc.genericGrantRequest(
    gatewayClient,
    "urn:ietf:params:oauth:grant-type:token-exchange",
    {
      subject_token: mcpToken,
      subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
      audience: "nextcloud",
      scope: "nextcloud-audience",
    },
  );
  const directToken = exchanged.access_token;
  resources.check();

  await standin.seed(uid, { [NOTE_FILE]: NOTE_TEXT });
  const directHeaders = {
    authorization: `Bearer ${directToken}`,
    accept: "application/json",
    "ocs-apirequest": "true",
  };
  const notesList = await fetch(`${standin.url}/index.php/apps/notes/api/v1/notes?exclude=content`, {
    headers: directHeaders,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const listText = await notesList.text();
  const listedNotes = parse(listText) as { id?: unknown; title?: unknown }[] | undefined;
  const noteId = Array.isArray(listedNotes) ? listedNotes.find((n) => n.title === "Bench")?.id : undefined;
  if (notesList.status !== 200 || typeof noteId !== "number") {
    throw new Error(
      `the stand-in did not list the seeded note (HTTP ${notesList.status}): ${snippet(listText)}`,
    );
  }

  const mcpHeaders = {
    authorization: `Bearer ${mcpToken}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": PROTOCOL_VERSION,
  };
  const toolsList = await fetch(`${gateway.origin}/mcp`, {
    method: "POST",
    headers: mcpHeaders,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const listBody = await toolsList.text();
  const listResult = toolsList.status === 200 ? rpcResult(listBody) : `HTTP ${toolsList.status}`;
  if (typeof listResult === "string") {
    throw new Error(`tools/list through the gateway failed (${listResult}): ${snippet(listBody)}`);
  }
  const toolNames = Array.isArray(listResult.tools)
    ? (listResult.tools as { name?: unknown }[]).map((t) => String(t.name))
    : [];
  const tool: Tool = toolNames.includes("notes_get") ? "notes_get" : "whoami";
  if (!toolNames.includes(tool)) {
    throw new Error(`neither notes_get nor whoami is in alice's tools/list (${toolNames.join(", ")})`);
  }

  const gatewayRequest: Request = {
    url: `${gateway.origin}/mcp`,
    method: "POST",
    headers: mcpHeaders,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: tool, arguments: tool === "notes_get" ? { id: noteId } : {} },
    }),
    check: (body) => {
      const out = toolOutput(body);
      if (typeof out === "string") return out;
      if (tool === "notes_get") return out.content === NOTE_TEXT ? undefined : "the note's content differs";
      return out.userId === uid ? undefined : `whoami answered userId ${String(out.userId)}, not ${uid}`;
    },
  };
  const directRequest: Request =
    tool === "notes_get"
      ? {
          url: `${standin.url}/index.php/apps/notes/api/v1/notes/${String(noteId)}`,
          method: "GET",
          headers: directHeaders,
          check: (body) =>
            (parse(body) as { content?: unknown } | undefined)?.content === NOTE_TEXT
              ? undefined
              : "the note's content differs",
        }
      : {
          url: `${standin.url}/ocs/v2.php/cloud/user?format=json`,
          method: "GET",
          headers: directHeaders,
          check: (body) =>
            (parse(body) as { ocs?: { data?: { id?: unknown } } } | undefined)?.ocs?.data?.id === uid
              ? undefined
              : "OCS cloud/user did not answer alice's user id",
        };

  // The first call: tools/list may already have had the token exchanged (to learn the capabilities).
  const seenBeforeFirst = (await standin.tokenUses()).size;
  const first = await timed(gatewayRequest);
  if (first.problem !== undefined) throw new Error(`the first ${tool} through the gateway: ${first.problem}`);
  const exchangedInFirst = (await standin.tokenUses()).size > seenBeforeFirst;
  const firstDirect = await timed(directRequest);
  if (firstDirect.problem !== undefined) throw new Error(`the first direct request: ${firstDirect.problem}`);

  progress(
    `${tool}: ${settings.warmup} warm-up then ${settings.calls} measured calls per path, one at a time…`,
  );
  const gatewayMs: number[] = [];
  const directMs: number[] = [];
  const failures: string[] = [];
  const loopDeadline = performance.now() + LOOP_LIMIT_MS;
  /** Requests with the gateway's tokens the stand-in had seen when the measured calls began. */
  const gatewayUses = (uses: Map<string, number>) =>
    [...uses].filter(([t]) => t !== directToken).reduce((sum, [, n]) => sum + n, 0);
  let seenAtWindow = 0;
  let cpuStart = cpuSample();
  let childCpuStart: number | undefined;
  const total = settings.warmup + settings.calls;
  let stopped: string | undefined;
  for (let i = 0; i < total && stopped === undefined; i++) {
    resources.check();
    if (i === settings.warmup) {
      seenAtWindow = gatewayUses(await standin.tokenUses());
      childCpuStart = procCpuMs(gateway.child.pid);
      cpuStart = cpuSample();
    }
    // Alternate the order (AB BA …) so that drift in the machine's load hits both paths alike.
    const order: ["gateway" | "direct", Request, number[]][] = [
      ["gateway", gatewayRequest, gatewayMs],
      ["direct", directRequest, directMs],
    ];
    if (i % 2 === 1) order.reverse();
    for (const [name, request, samples] of order) {
      const r = await timed(request);
      if (r.problem !== undefined) {
        stopped = `${name} ${tool}, call ${String(i + 1)}: ${r.problem}`;
        break;
      }
      if (i >= settings.warmup) samples.push(r.ms);
    }
    if (stopped === undefined && performance.now() > loopDeadline) {
      stopped = `the calls took longer than ${String(LOOP_LIMIT_MS / 1000)} s; stopped after ${String(i + 1)} of ${String(total)} (lower --calls)`;
    }
  }
  if (stopped !== undefined) failures.push(stopped);
  const cpuEnd = cpuSample();
  const childCpuEnd = procCpuMs(gateway.child.pid);
  const childCpuMs =
    childCpuStart === undefined || childCpuEnd === undefined ? undefined : childCpuEnd - childCpuStart;
  const others = othersCores(cpuStart, cpuEnd, childCpuMs ?? 0);

  // Which tokens reached the stand-in over the gateway path: every one but the baseline's.
  const usesAfterCalls = await standin.tokenUses();
  const gatewayTokens = new Set([...usesAfterCalls.keys()].filter((t) => t !== directToken));
  const upstreamInWindow = gatewayUses(usesAfterCalls) - seenAtWindow;

  // Throughput: `concurrency` closed-loop clients, gateway then direct, the stand-in in its own process.
  let gatewayLoad: LoadResult | undefined;
  let directLoad: LoadResult | undefined;
  let gatewayLoadCpuMs: number | undefined;
  let standinLoadCpuMs: number | undefined;
  if (settings.concurrency > 0 && failures.length === 0) {
    progress(
      `${tool}: ${String(settings.concurrency)} clients, ${String(settings.durationMs / 1000)} s per path (gateway, then direct)…`,
    );
    const loop = (name: string, r: Request, onWindowStart?: () => void, onWindowEnd?: () => void) =>
      runLoad({
        client: settings.client,
        name,
        url: r.url,
        method: r.method,
        headers: r.headers,
        ...(r.body === undefined ? {} : { body: r.body }),
        concurrency: settings.concurrency,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
        check: r.check,
        ...(onWindowStart === undefined ? {} : { onWindowStart }),
        ...(onWindowEnd === undefined ? {} : { onWindowEnd }),
      });
    let gwCpu0: number | undefined;
    let siCpu0: number | undefined;
    gatewayLoad = await loop(
      `${tool} through the gateway`,
      gatewayRequest,
      () => {
        gwCpu0 = procCpuMs(gateway.child.pid);
        siCpu0 = procCpuMs(standin.pid);
      },
      () => {
        const gw1 = procCpuMs(gateway.child.pid);
        const si1 = procCpuMs(standin.pid);
        gatewayLoadCpuMs = gw1 === undefined || gwCpu0 === undefined ? undefined : gw1 - gwCpu0;
        standinLoadCpuMs = si1 === undefined || siCpu0 === undefined ? undefined : si1 - siCpu0;
      },
    );
    for (const problem of gatewayLoad.problems)
      failures.push(`${tool} through the gateway at load: ${problem}`);
    resources.check();
    directLoad = await loop(`${tool} direct`, directRequest);
    for (const problem of directLoad.problems) failures.push(`${tool} direct at load: ${problem}`);
  }
  const exited = gateway.child.exitCode !== null || gateway.child.signalCode !== null;
  if (exited) failures.push(`the gateway exited during the run; stderr:\n${gateway.stderrTail()}`);

  const g: PathResult = { latency: summarize(gatewayMs) };
  const d: PathResult = { latency: summarize(directMs) };
  const calls = g.latency.count;
  const prefix = `tool_call.${tool}`;
  const label = tool;
  const metrics: Metric[] = [
    metric(`${prefix}.direct.p50`, `${label} direct to Nextcloud, latency p50`, d.latency.p50, "ms"),
    metric(`${prefix}.direct.p99`, `${label} direct to Nextcloud, latency p99`, d.latency.p99, "ms"),
    metric(`${prefix}.gateway.p50`, `${label} through the gateway, latency p50`, g.latency.p50, "ms"),
    metric(`${prefix}.gateway.p99`, `${label} through the gateway, latency p99`, g.latency.p99, "ms"),
    metric(
      `${prefix}.overhead.p50`,
      `${label} gateway overhead p50 (gateway − direct)`,
      g.latency.p50 - d.latency.p50,
      "ms",
      { op: "<=", value: OVERHEAD_BUDGET_MS },
    ),
    metric(
      `${prefix}.overhead.p99`,
      `${label} gateway overhead p99 (gateway − direct)`,
      g.latency.p99 - d.latency.p99,
      "ms",
      { op: "<=", value: OVERHEAD_P99_BUDGET_MS },
    ),
    metric(`${prefix}.first_call`, `${label} first call through the gateway`, first.ms, "ms"),
    metric(`${prefix}.exchanges`, "Token exchanges by the gateway (whole run)", gatewayTokens.size, "", {
      op: "<=",
      value: 1,
    }),
    metric(
      `${prefix}.upstream_per_call`,
      "Gateway requests to Nextcloud per call",
      calls > 0 ? upstreamInWindow / calls : Number.NaN,
      "",
    ),
    ...(childCpuMs === undefined
      ? []
      : [
          metric(
            `${prefix}.gateway_cpu_per_call`,
            `${label} gateway CPU per call`,
            calls > 0 ? (childCpuMs / calls) * 1000 : Number.NaN,
            "µs",
          ),
        ]),
    metric(`${prefix}.calls`, "Measured calls per path", calls, ""),
    ...(gatewayLoad === undefined || directLoad === undefined
      ? []
      : [
          metric(
            `${prefix}.gateway.rate`,
            `${label} through the gateway at ${String(settings.concurrency)} clients`,
            gatewayLoad.rps,
            "req/s",
            tool === "notes_get" ? { op: ">=", value: RATE_BUDGET } : undefined,
          ),
          metric(
            `${prefix}.gateway.rate.p99`,
            `${label} through the gateway at ${String(settings.concurrency)} clients, latency p99`,
            gatewayLoad.latencyMs.p99,
            "ms",
          ),
          metric(
            `${prefix}.direct.rate`,
            `${label} direct at ${String(settings.concurrency)} clients`,
            directLoad.rps,
            "req/s",
          ),
          ...(gatewayLoadCpuMs === undefined || standinLoadCpuMs === undefined
            ? []
            : [
                metric(
                  `${prefix}.gateway.rate.cpu`,
                  "Gateway CPU at load (share of one core)",
                  (gatewayLoadCpuMs / gatewayLoad.windowSeconds / 1000) * 100,
                  "%",
                ),
                metric(
                  `${prefix}.standin.rate.cpu`,
                  "Stand-in CPU at load (share of one core)",
                  (standinLoadCpuMs / gatewayLoad.windowSeconds / 1000) * 100,
                  "%",
                ),
                metric(
                  `${prefix}.client.rate.cpu`,
                  "Load generator CPU at load (share of one core)",
                  gatewayLoad.clientCpuPercent,
                  "%",
                ),
              ]),
        ]),
    metric(`${prefix}.others_cores`, "Other processes' CPU meanwhile", others, "cores"),
  ];
  const notes = [
    tool === "notes_get"
      ? `Tool: notes_get (note ${String(noteId)}, ${String(Buffer.byteLength(NOTE_TEXT))} bytes of Markdown seeded as ${NOTE_FILE}); baseline: GET /index.php/apps/notes/api/v1/notes/${String(noteId)} on the stand-in.`
      : `Tool: **whoami**, because notes_get is not in alice's tools/list yet (${toolNames.join(", ")}); baseline: GET /ocs/v2.php/cloud/user?format=json on the stand-in. Rerun once notes_get is registered.`,
    `Setup: Keycloak ${kc.source} (started in ${kcSeconds.toFixed(0)} s) with the project's realm; alice signed in through Keycloak's login page in headless Chromium (client mcp-client, scope "${SCOPE}"); the gateway as a child process (${image === undefined ? "`node src/main.ts serve` with Node's heap defaults" : `the build, \`node dist/main.js serve\`, with the image's ${JSON.stringify(image)}`}, embedded database, LOG_LEVEL=silent) on 127.0.0.1; the Nextcloud stand-in in a process of its own (bench/standin-child.ts).`,
    `Latency: ${String(settings.warmup)} warm-up then ${String(calls)} measured calls per path, one request at a time over fetch keep-alive, the two paths alternating (AB BA …); each call timed from sending to the last byte of the response. The overhead is the difference of the two percentiles, not a percentile of differences.`,
    `The baseline uses a Nextcloud token obtained once by the same token exchange (client mcp-gateway, audience nextcloud, scope nextcloud-audience). The gateway path adds: MCP request handling, token verification (cached), the exchanged-token cache lookup, its own HTTP request to the stand-in and a second loopback hop.`,
    `Token exchange: ${String(gatewayTokens.size)} distinct Nextcloud token(s) reached the stand-in from the gateway over the whole run (${exchangedInFirst ? "the first exchange happened in the first tools/call" : "the exchange happened before the first tools/call, e.g. at tools/list"}); 1 means the exchanged token was cached per MCP token. The first call took ${first.ms.toFixed(1)} ms, the first direct request ${firstDirect.ms.toFixed(1)} ms.`,
    `Throughput: ${String(settings.concurrency)} closed-loop clients (${settings.client === "raw" ? "raw HTTP/1.1 on node:net" : settings.client === "http" ? "node:http" : "fetch"} keep-alive) for ${String(settings.warmupMs / 1000)} s warm-up and ${String(settings.durationMs / 1000)} s measured, through the gateway and then direct; the gateway, the stand-in and this load generator are three processes on the machine's cores.`,
    "Keycloak idles during the measurement (nothing is exchanged), but its JVM counts among the other processes.",
    ...[contentionNote("the measured calls", others)].filter((n) => n !== undefined),
  ];
  return { metrics, notes, failures };
}
