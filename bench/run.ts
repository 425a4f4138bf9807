// `npm run bench`: runs the benches in order, writes bench/results/latest.{json,md} and prints the
// Markdown. Budgets are reported, not asserted: the exit code is 1 only when a bench broke
// (wrong responses, a crashed child, an exception). Progress goes to stderr, the report to stdout.
//
// To add a bench: write a module whose function returns a SectionResult (metrics built with
// `metric()`, notes, failures) and add an entry to BENCHES.
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cpuSample, othersCores } from "./cpu.ts";
import {
  BACKENDS,
  FOOTPRINT_DEFAULTS,
  MAX_FOOTPRINT_CALLS,
  runFootprint,
  type Backend,
} from "./footprint.ts";
import { KEEPALIVE_DEFAULTS, MAX_GRANTS, MAX_KEEPALIVE_CONCURRENCY, runKeepalive } from "./keepalive.ts";
import { LOAD_CLIENTS, MAX_CONCURRENCY, MAX_SECONDS, type LoadClient } from "./load.ts";
import { MAX_CALLS, runNotesGet, TOOL_CALL_DEFAULTS } from "./notes-get.ts";
import {
  INDEX_BACKENDS,
  INDEX_DEFAULTS,
  MAX_INDEX_ITEMS,
  runIndexBench,
  type IndexBackend,
} from "./search-index.ts";
import {
  buildReport,
  machineFacts,
  renderMarkdown,
  writeReport,
  type Section,
  type SectionResult,
} from "./report.ts";
import { runServerBuild, SERVER_BUILD_DEFAULTS } from "./server-build.ts";
import { MAX_SOAK_REQUESTS, MIN_SOAK_REQUESTS, runSoak, SOAK_DEFAULTS } from "./soak.ts";
import { runTokenCheck, TOKEN_CHECK_DEFAULTS } from "./token-check.ts";
import { runToolListSize } from "./tool-list-size.ts";
import { HTTP_LOAD_DEFAULTS, runToolsList } from "./tools-list.ts";

const USAGE = `Usage: npm run bench -- [options]

  --only <ids>               Comma-separated benches to run: tool-list-size, token, server-build, tools-list, notes-get, keepalive, footprint, index, soak
                             (default: all but soak, which runs only when named)
  --client <raw|http|fetch>  HTTP load generator: raw (default: HTTP/1.1 on node:net, the least CPU per
                             request), node:http, or fetch (undici, the most)
  --gateway <src|image>      notes-get: node src/main.ts with Node's heap defaults (default), or the
                             built dist/main.js with the Dockerfile's NODE_OPTIONS and malloc setting
  --concurrency <n>          HTTP workers (default ${HTTP_LOAD_DEFAULTS.concurrency}, at most ${MAX_CONCURRENCY})
  --warmup <seconds>         HTTP warm-up per loop (default ${HTTP_LOAD_DEFAULTS.warmupMs / 1000})
  --duration <seconds>       HTTP measured window per loop (default ${HTTP_LOAD_DEFAULTS.durationMs / 1000})
  --iterations <n>           Uncached token checks per round (default ${TOKEN_CHECK_DEFAULTS.iterations})
  --cached-iterations <n>    Cached token checks in total (default ${TOKEN_CHECK_DEFAULTS.cachedIterations})
  --rounds <n>               Token-check rounds (default ${TOKEN_CHECK_DEFAULTS.rounds})
  --calls <n>                notes-get: measured calls per path (default ${TOOL_CALL_DEFAULTS.calls}, at most ${MAX_CALLS})
  --call-warmup <n>          notes-get: warm-up calls per path (default ${TOOL_CALL_DEFAULTS.warmup})
  --notes-concurrency <n>    notes-get: clients of the throughput loop, 0 for none (default ${TOOL_CALL_DEFAULTS.concurrency});
                             its warm-up and window are --warmup and --duration
  --grants <n>               keepalive: real offline grants to refresh (default ${KEEPALIVE_DEFAULTS.grants}, at most ${MAX_GRANTS})
  --keepalive-concurrency <list>
                             keepalive: KEEPALIVE_CONCURRENCY per run, comma-separated, one run each
                             (default ${KEEPALIVE_DEFAULTS.concurrency.join(",")}, each at most ${MAX_KEEPALIVE_CONCURRENCY})
  --footprint-calls <n>      footprint: tools/list calls under load, plus a fifth as many whoami (default ${FOOTPRINT_DEFAULTS.calls})
  --soak-requests <n>        soak: mixed requests in all, warm-up included (default ${SOAK_DEFAULTS.requests}, at least ${MIN_SOAK_REQUESTS})
  --backends <list>          footprint: pglite, postgres or both, comma-separated (default ${BACKENDS.join(",")})
  --index-crawl <n>          index: notes and files in the stand-in for the two passes (default ${INDEX_DEFAULTS.crawlItems})
  --index-items <n>          index: items seeded for the search latency (default ${INDEX_DEFAULTS.searchItems})
  --index-queries <n>        index: measured queries per backend (default ${INDEX_DEFAULTS.queries})
  --index-backends <list>    index: postgres, pglite or both for the search latency (default ${INDEX_BACKENDS.join(",")})
  -h, --help
`;

interface Settings {
  readonly client: LoadClient;
  readonly concurrency: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly iterations: number;
  readonly cachedIterations: number;
  readonly rounds: number;
  readonly calls: number;
  readonly callWarmup: number;
  readonly notesConcurrency: number;
  readonly notesGateway: "src" | "image";
  readonly grants: number;
  readonly keepaliveConcurrency: readonly number[];
  readonly footprintCalls: number;
  readonly soakRequests: number;
  readonly backends: readonly Backend[];
  readonly indexCrawl: number;
  readonly indexItems: number;
  readonly indexQueries: number;
  readonly indexBackends: readonly IndexBackend[];
}

interface Bench {
  readonly id: string;
  readonly title: string;
  run(settings: Settings): Promise<SectionResult>;
}

const BENCHES: readonly Bench[] = [
  {
    id: "tool-list-size",
    title: "tools/list size: what the tool list costs a model's context",
    run: () => runToolListSize(),
  },
  {
    id: "token",
    title: "Token check (in-process)",
    run: (s) =>
      runTokenCheck({ iterations: s.iterations, rounds: s.rounds, cachedIterations: s.cachedIterations }),
  },
  {
    id: "server-build",
    title: "Per-request MCP server build (in-process)",
    run: () => runServerBuild(SERVER_BUILD_DEFAULTS),
  },
  {
    id: "tools-list",
    title: "tools/list over HTTP (loopback)",
    run: (s) =>
      runToolsList({
        client: s.client,
        concurrency: s.concurrency,
        warmupMs: s.warmupSeconds * 1000,
        durationMs: s.durationSeconds * 1000,
      }),
  },
  {
    id: "notes-get",
    title: "notes_get through the gateway vs. direct to Nextcloud (real Keycloak, stand-in)",
    run: (s) =>
      runNotesGet({
        client: s.client,
        calls: s.calls,
        warmup: s.callWarmup,
        concurrency: s.notesConcurrency,
        gateway: s.notesGateway,
        warmupMs: s.warmupSeconds * 1000,
        durationMs: s.durationSeconds * 1000,
      }),
  },
  {
    id: "keepalive",
    title: "grants-keepalive over real offline grants (real Keycloak, PostgreSQL)",
    run: (s) => runKeepalive({ grants: s.grants, concurrency: s.keepaliveConcurrency }),
  },
  {
    id: "footprint",
    title: "Resident memory and start-up of the built gateway (dist/), per database backend",
    run: (s) =>
      runFootprint({
        calls: s.footprintCalls,
        concurrency: FOOTPRINT_DEFAULTS.concurrency,
        backends: s.backends,
      }),
  },
  {
    id: "index",
    title: "Content index: indexing passes over the stand-in, search latency and size (PostgreSQL, PGlite)",
    run: (s) =>
      runIndexBench({
        crawlItems: s.indexCrawl,
        searchItems: s.indexItems,
        queries: s.indexQueries,
        backends: s.indexBackends,
      }),
  },
  {
    id: "soak",
    title:
      "Soak: RSS of the built gateway over mixed requests (embedded database, stand-in in its own process)",
    run: (s) => runSoak({ requests: s.soakRequests, concurrency: SOAK_DEFAULTS.concurrency }),
  },
];

function gatewayOption(value: string | undefined): "src" | "image" {
  if (value === undefined) return TOOL_CALL_DEFAULTS.gateway;
  if (value === "src" || value === "image") return value;
  usageError(`--gateway must be src or image, got "${value}"`);
}

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function numberOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    usageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function describeError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        only: { type: "string" },
        client: { type: "string" },
        concurrency: { type: "string" },
        warmup: { type: "string" },
        duration: { type: "string" },
        iterations: { type: "string" },
        "cached-iterations": { type: "string" },
        rounds: { type: "string" },
        calls: { type: "string" },
        "call-warmup": { type: "string" },
        "notes-concurrency": { type: "string" },
        gateway: { type: "string" },
        grants: { type: "string" },
        "keepalive-concurrency": { type: "string" },
        "footprint-calls": { type: "string" },
        "soak-requests": { type: "string" },
        backends: { type: "string" },
        "index-crawl": { type: "string" },
        "index-items": { type: "string" },
        "index-queries": { type: "string" },
        "index-backends": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const client = (values.client ?? HTTP_LOAD_DEFAULTS.client) as LoadClient;
  if (!LOAD_CLIENTS.includes(client)) usageError(`--client must be one of ${LOAD_CLIENTS.join(", ")}`);
  const settings: Settings = {
    client,
    concurrency: Math.round(
      numberOption("concurrency", values.concurrency, HTTP_LOAD_DEFAULTS.concurrency, 1, MAX_CONCURRENCY),
    ),
    warmupSeconds: numberOption(
      "warmup",
      values.warmup,
      HTTP_LOAD_DEFAULTS.warmupMs / 1000,
      0,
      MAX_SECONDS / 4,
    ),
    durationSeconds: numberOption(
      "duration",
      values.duration,
      HTTP_LOAD_DEFAULTS.durationMs / 1000,
      0.5,
      MAX_SECONDS / 2,
    ),
    iterations: Math.round(
      numberOption("iterations", values.iterations, TOKEN_CHECK_DEFAULTS.iterations, 10, 1_000_000),
    ),
    cachedIterations: Math.round(
      numberOption(
        "cached-iterations",
        values["cached-iterations"],
        TOKEN_CHECK_DEFAULTS.cachedIterations,
        100,
        50_000_000,
      ),
    ),
    rounds: Math.round(numberOption("rounds", values.rounds, TOKEN_CHECK_DEFAULTS.rounds, 1, 100)),
    calls: Math.round(numberOption("calls", values.calls, TOOL_CALL_DEFAULTS.calls, 10, MAX_CALLS)),
    callWarmup: Math.round(
      numberOption("call-warmup", values["call-warmup"], TOOL_CALL_DEFAULTS.warmup, 0, MAX_CALLS),
    ),
    notesConcurrency: Math.round(
      numberOption(
        "notes-concurrency",
        values["notes-concurrency"],
        TOOL_CALL_DEFAULTS.concurrency,
        0,
        MAX_CONCURRENCY,
      ),
    ),
    notesGateway: gatewayOption(values.gateway),
    grants: Math.round(numberOption("grants", values.grants, KEEPALIVE_DEFAULTS.grants, 1, MAX_GRANTS)),
    keepaliveConcurrency:
      values["keepalive-concurrency"] === undefined
        ? KEEPALIVE_DEFAULTS.concurrency
        : values["keepalive-concurrency"]
            .split(",")
            .map((c) =>
              Math.round(numberOption("keepalive-concurrency", c.trim(), 0, 1, MAX_KEEPALIVE_CONCURRENCY)),
            ),
    footprintCalls: Math.round(
      numberOption(
        "footprint-calls",
        values["footprint-calls"],
        FOOTPRINT_DEFAULTS.calls,
        10,
        MAX_FOOTPRINT_CALLS,
      ),
    ),
    soakRequests: Math.round(
      numberOption(
        "soak-requests",
        values["soak-requests"],
        SOAK_DEFAULTS.requests,
        MIN_SOAK_REQUESTS,
        MAX_SOAK_REQUESTS,
      ),
    ),
    backends:
      values.backends === undefined
        ? FOOTPRINT_DEFAULTS.backends
        : values.backends.split(",").map((b) => {
            const name = b.trim() as Backend;
            if (!BACKENDS.includes(name))
              usageError(`--backends takes ${BACKENDS.join(", ")}, got ${JSON.stringify(b)}`);
            return name;
          }),
    indexCrawl: Math.round(
      numberOption("index-crawl", values["index-crawl"], INDEX_DEFAULTS.crawlItems, 10, MAX_INDEX_ITEMS),
    ),
    indexItems: Math.round(
      numberOption("index-items", values["index-items"], INDEX_DEFAULTS.searchItems, 100, MAX_INDEX_ITEMS),
    ),
    indexQueries: Math.round(
      numberOption("index-queries", values["index-queries"], INDEX_DEFAULTS.queries, 10, 100_000),
    ),
    indexBackends:
      values["index-backends"] === undefined
        ? INDEX_DEFAULTS.backends
        : values["index-backends"].split(",").map((b) => {
            const name = b.trim() as IndexBackend;
            if (!INDEX_BACKENDS.includes(name))
              usageError(`--index-backends takes ${INDEX_BACKENDS.join(", ")}, got ${JSON.stringify(b)}`);
            return name;
          }),
  };
  const only = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only?.filter((id) => !BENCHES.some((b) => b.id === id)) ?? [];
  if (unknown.length > 0) usageError(`unknown bench ${unknown.join(", ")}`);
  // The soak runs for tens of minutes at its default count: only when named.
  const selected = BENCHES.filter((b) => (only === undefined ? b.id !== "soak" : only.includes(b.id)));

  // How busy the machine is without us: one second of nothing, measured.
  const idleStart = cpuSample();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const machine = machineFacts(othersCores(idleStart, cpuSample()));
  const sections: Section[] = [];
  for (const bench of selected) {
    process.stderr.write(`bench: ${bench.title}…\n`);
    const started = performance.now();
    let result: SectionResult;
    try {
      result = await bench.run(settings);
    } catch (err) {
      process.stderr.write(`bench: ${bench.id} threw: ${describeError(err)}\n`);
      const message = err instanceof Error ? err.message : String(err);
      result = { metrics: [], notes: [], failures: [`the bench threw: ${message}`] };
    }
    sections.push({
      id: bench.id,
      title: bench.title,
      seconds: (performance.now() - started) / 1000,
      ...result,
    });
  }

  const invokedByNpm = process.env.npm_lifecycle_event === "bench";
  const command = `${invokedByNpm ? "npm run bench" : "node bench/run.ts"}${
    argv.length === 0 ? "" : `${invokedByNpm ? " --" : ""} ${argv.join(" ")}`
  }`;
  const report = buildReport(machine, sections, command, {
    client: settings.client,
    concurrency: settings.concurrency,
    warmupSeconds: settings.warmupSeconds,
    durationSeconds: settings.durationSeconds,
    iterations: settings.iterations,
    rounds: settings.rounds,
    cachedIterations: settings.cachedIterations,
    calls: settings.calls,
    callWarmup: settings.callWarmup,
    notesConcurrency: settings.notesConcurrency,
    gateway: settings.notesGateway,
    grants: settings.grants,
    keepaliveConcurrency: settings.keepaliveConcurrency.join(","),
    footprintCalls: settings.footprintCalls,
    soakRequests: settings.soakRequests,
    backends: settings.backends.join(","),
    indexCrawl: settings.indexCrawl,
    indexItems: settings.indexItems,
    indexQueries: settings.indexQueries,
    indexBackends: settings.indexBackends.join(","),
    benches: selected.map((b) => b.id).join(","),
  });
  const files = await writeReport(report, fileURLToPath(new URL("./results/", import.meta.url)));
  process.stdout.write(renderMarkdown(report));
  process.stderr.write(`bench: wrote ${files.json} and ${files.md}\n`);
  if (!report.ok) process.stderr.write("bench: a bench broke; see Failures above\n");
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${describeError(err)}\n`);
    process.exit(1);
  },
);
