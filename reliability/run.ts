// `npm run reliability`: runs the reliability scenarios, writes reliability/results/latest.{json,md}
// and prints the Markdown. Each scenario is an integration test file under
// test/integration/reliability/ (real Keycloak, PostgreSQL, the stand-in, gateways; loopback only),
// so the CI subset also runs in the ordinary `npm test`. This runner starts vitest on the chosen
// files with a JSON reporter, collects the figures the scenarios recorded (figures.ts), and builds
// the same report as the benchmarks (bench/report.ts). Exit code 1 when a scenario failed.
//
// To add a scenario: write its test file (recording figures with `Figures`) and add it to SCENARIOS.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cpuSample, othersCores } from "../bench/cpu.ts";
import {
  buildReport,
  machineFacts,
  metric,
  renderMarkdown,
  writeReport,
  type Section,
  type Wording,
} from "../bench/report.ts";

interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Relative to the repository. */
  readonly file: string;
  /** Short enough (well under a minute once Keycloak runs) for every CI run. */
  readonly ci: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: "nextcloud-faults",
    title: "Nextcloud slow, 429 and 503 (fault proxy in front of the stand-in)",
    file: "test/integration/reliability/nextcloud-faults.test.ts",
    ci: true,
  },
  {
    id: "fuzz-smoke",
    title: "Bad input: arbitrary tool arguments from the input schemas, malformed HTTP on /mcp",
    file: "test/integration/reliability/fuzz-smoke.test.ts",
    ci: true,
  },
  {
    id: "postgres-restart",
    title: "PostgreSQL stopped and started under a running gateway (readiness, MCP calls, jobs, data)",
    file: "test/integration/reliability/postgres-restart.test.ts",
    ci: true,
  },
  {
    id: "keepalive-kill",
    title:
      "Keepalive replica killed with SIGKILL: the refresh window, and one of two replicas over 1,000 grants",
    file: "test/integration/reliability/keepalive-kill.test.ts",
    ci: true,
  },
  {
    id: "index-kill",
    title: "search-index replica killed with SIGKILL mid-pass: two replicas over four users, the take-over",
    file: "test/integration/reliability/index-kill.test.ts",
    ci: true,
  },
  {
    id: "keycloak-down",
    title: "Keycloak unreachable (refused, then silent) and back, then a JWKS key rotation",
    file: "test/integration/reliability/keycloak-down.test.ts",
    ci: true,
  },
  {
    id: "slow-clients",
    title: "Slow-loris headers and bodies (200 connections each) and oversized bodies",
    file: "test/integration/reliability/slow-clients.test.ts",
    ci: true,
  },
  {
    id: "rolling-restart",
    title: "Rolling restart: SIGTERM to each of two replicas behind a round-robin proxy under traffic",
    file: "test/integration/reliability/rolling-restart.test.ts",
    ci: true,
  },
  {
    id: "rolling-restart-jobs",
    title:
      "SIGTERM to a replica while keepalive runs: the run drains and hands over; a stuck job waits no longer than the grace",
    file: "test/integration/reliability/rolling-restart-jobs.test.ts",
    ci: true,
  },
  {
    id: "load",
    title: "Load: 1,000 concurrent MCP clients (distinct Keycloak users) on mixed traffic",
    file: "test/integration/reliability/load.test.ts",
    ci: false,
  },
];

const WORDING: Wording = { heading: "Gateway reliability", one: "scenario", many: "scenarios" };
/** The whole run's bound: Keycloak's start (1–2 min on a busy machine) and every scenario. */
const RUN_LIMIT_MS = 20 * 60_000;
const REPO = fileURLToPath(new URL("../", import.meta.url));
const VITEST = path.join(REPO, "node_modules", "vitest", "vitest.mjs");

const USAGE = `Usage: npm run reliability -- [options]

  --only <ids>   Comma-separated scenarios to run: ${SCENARIOS.map((s) => s.id).join(", ")} (default: all)
  --ci           Only the scenarios CI runs (${SCENARIOS.filter((s) => s.ci)
    .map((s) => s.id)
    .join(", ")})
  -h, --help
`;

function usageError(message: string): never {
  process.stderr.write(`reliability: ${message}\n\n${USAGE}`);
  process.exit(2);
}

interface AssertionResult {
  title: string;
  fullName?: string;
  status: string;
  duration?: number | null;
  failureMessages?: string[];
}
interface FileResult {
  name: string;
  status: string;
  message?: string;
  assertionResults: AssertionResult[];
}

/** Runs vitest on `files`; resolves its exit code (or null when it had to be killed). */
function runVitest(
  files: readonly string[],
  jsonFile: string,
  figuresDir: string,
  full: boolean,
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        VITEST,
        "run",
        "--project",
        "integration",
        "--reporter=default",
        "--reporter=json",
        `--outputFile.json=${jsonFile}`,
        ...files,
      ],
      {
        cwd: REPO,
        // vitest's own output is progress: stderr, so stdout carries only the report.
        stdio: ["ignore", process.stderr, process.stderr],
        // RELIABILITY_FULL: the scenarios' full durations (Keycloak down 60 s, …); --ci runs the short ones.
        env: { ...process.env, RELIABILITY_FIGURES_DIR: figuresDir, RELIABILITY_FULL: full ? "1" : "0" },
        detached: true,
      },
    );
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const limit = setTimeout(() => {
      process.stderr.write(`reliability: the run passed ${RUN_LIMIT_MS / 60_000} min; stopping it\n`);
      killGroup("SIGTERM");
      setTimeout(() => {
        killGroup("SIGKILL");
      }, 10_000).unref();
    }, RUN_LIMIT_MS);
    const onSignal = (signal: NodeJS.Signals) => {
      killGroup(signal);
      process.stderr.write(`\nreliability: ${signal} received; no results written\n`);
      process.exit(130);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(limit);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(code);
    });
  });
}

function firstLine(text: string): string {
  return text.split("\n").find((l) => l.trim() !== "") ?? text;
}

function sectionOf(
  scenario: Scenario,
  file: FileResult | undefined,
  figuresDir: string,
  seconds: number,
): Section {
  const figuresFile = path.join(figuresDir, `${scenario.id}.json`);
  const recorded = existsSync(figuresFile)
    ? (JSON.parse(readFileSync(figuresFile, "utf8")) as {
        figures: { id: string; label: string; value: number; unit: string }[];
        notes: string[];
      })
    : { figures: [], notes: [] };
  const tests = file?.assertionResults ?? [];
  const passed = tests.filter((t) => t.status === "passed");
  const failed = tests.filter((t) => t.status === "failed");
  const failures = [
    ...(file === undefined ? ["the scenario did not run (no result from vitest)"] : []),
    ...(file !== undefined && tests.length === 0
      ? [`the scenario did not start: ${file.message ?? "?"}`]
      : []),
    ...failed.map((t) => `${t.title}: ${firstLine(t.failureMessages?.[0] ?? "failed")}`),
  ];
  return {
    id: scenario.id,
    title: scenario.title,
    seconds,
    metrics: [
      metric(`${scenario.id}.checks`, "Checks passed", passed.length, "", { op: ">=", value: tests.length }),
      ...recorded.figures.map((f) => metric(f.id, f.label, f.value, f.unit)),
    ],
    notes: [
      ...tests.map((t) => `${t.status === "passed" ? "pass" : t.status}: ${t.title}`),
      ...recorded.notes,
    ],
    failures,
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        only: { type: "string" },
        ci: { type: "boolean" },
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
  const only = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) usageError(`unknown scenario ${unknown.join(", ")}`);
  const selected = SCENARIOS.filter(
    (s) => (only === undefined || only.includes(s.id)) && (values.ci !== true || s.ci),
  );
  if (selected.length === 0) usageError("no scenario selected");
  // The load scenario is skipped unless asked for (it is no part of the ordinary test run).
  if (selected.some((s) => s.id === "load")) process.env.RELIABILITY_LOAD = "1";

  const idleStart = cpuSample();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const machine = machineFacts(othersCores(idleStart, cpuSample()));

  const work = await mkdtemp(path.join(tmpdir(), "ncmcp-reliability-"));
  try {
    const jsonFile = path.join(work, "vitest.json");
    const figuresDir = path.join(work, "figures");
    process.stderr.write(`reliability: ${selected.map((s) => s.id).join(", ")}…\n`);
    const started = performance.now();
    const code = await runVitest(
      selected.map((s) => s.file),
      jsonFile,
      figuresDir,
      values.ci !== true,
    );
    const seconds = (performance.now() - started) / 1000;
    const results = existsSync(jsonFile)
      ? (JSON.parse(readFileSync(jsonFile, "utf8")) as { testResults: FileResult[] }).testResults
      : [];
    const sections = selected.map((s) =>
      sectionOf(
        s,
        results.find((r) => path.resolve(r.name) === path.join(REPO, s.file)),
        figuresDir,
        // vitest runs the files in one process; each section shows the whole run's time.
        seconds,
      ),
    );
    if (code !== 0 && sections.every((s) => s.failures.length === 0)) {
      sections.push({
        id: "run",
        title: "The run itself",
        seconds,
        metrics: [],
        notes: existsSync(figuresDir) ? readdirSync(figuresDir) : [],
        failures: [`vitest exited with ${code === null ? "a signal" : String(code)}`],
      });
    }
    const invokedByNpm = process.env.npm_lifecycle_event === "reliability";
    const command = `${invokedByNpm ? "npm run reliability" : "node reliability/run.ts"}${
      argv.length === 0 ? "" : `${invokedByNpm ? " --" : ""} ${argv.join(" ")}`
    }`;
    const report = buildReport(machine, sections, command, {
      scenarios: selected.map((s) => s.id).join(","),
    });
    const files = await writeReport(report, path.join(REPO, "reliability", "results"), WORDING);
    process.stdout.write(renderMarkdown(report, WORDING));
    process.stderr.write(`reliability: wrote ${files.json} and ${files.md}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`reliability: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
