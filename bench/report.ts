// The report every bench feeds: metric records grouped in sections, machine facts, and the two
// renderings (bench/results/latest.json for tools, latest.md for people).
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** A budget from the design: the metric must stay at or below (or at or above) `value`. */
export interface Budget {
  readonly op: "<=" | ">=";
  readonly value: number;
}

/** One measured number. `budget` and `pass` are null for numbers reported for information only. */
export interface Metric {
  /** Stable key for tools comparing runs, e.g. `token.uncached.mean`. */
  readonly id: string;
  /** What the Markdown table shows. */
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly budget: Budget | null;
  readonly pass: boolean | null;
}

/** What one bench returns: its metrics, notes for the reader, and why the bench itself broke (if it did). */
export interface SectionResult {
  readonly metrics: readonly Metric[];
  readonly notes: readonly string[];
  /** Non-empty when the measurement is not trustworthy (wrong responses, crashed server…): exit code 1. */
  readonly failures: readonly string[];
}

/** A section of the report: one bench's result under its id and title. */
export interface Section extends SectionResult {
  readonly id: string;
  readonly title: string;
  readonly seconds: number;
}

export interface Machine {
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly date: string;
  /** Cores other processes kept busy during one second before the benches started. */
  readonly busyCoresBeforeStart: number;
  /** 1- and 5-minute load averages as the benches started and as they ended (other work skews results). */
  readonly loadAverageStart: readonly number[];
  readonly loadAverageEnd: readonly number[];
}

export interface Report {
  readonly machine: Machine;
  readonly command: string;
  readonly settings: Readonly<Record<string, string | number>>;
  readonly sections: readonly Section[];
  /** Warnings about the run as a whole (e.g. a busy machine). */
  readonly notes: readonly string[];
  /** False when any bench broke (failures); budgets missed do not make it false. */
  readonly ok: boolean;
  /** True when every budgeted metric passed. */
  readonly budgetsMet: boolean;
}

/** A metric, with `pass` computed from the budget. */
export function metric(id: string, label: string, value: number, unit: string, budget?: Budget): Metric {
  const pass =
    budget === undefined
      ? null
      : Number.isFinite(value) && (budget.op === "<=" ? value <= budget.value : value >= budget.value);
  return { id, label, value, unit, budget: budget ?? null, pass };
}

function loadAverage(): number[] {
  return os
    .loadavg()
    .slice(0, 2)
    .map((x) => Math.round(x * 100) / 100);
}

/**
 * Machine facts as the run starts, given how busy other processes kept it just before;
 * {@link buildReport} adds the load average at the end.
 */
export function machineFacts(busyCoresBeforeStart: number): Omit<Machine, "loadAverageEnd"> {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: os.platform(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    date: new Date().toISOString(),
    busyCoresBeforeStart: Math.round(busyCoresBeforeStart * 100) / 100,
    loadAverageStart: loadAverage(),
  };
}

export function buildReport(
  start: Omit<Machine, "loadAverageEnd">,
  sections: readonly Section[],
  command: string,
  settings: Readonly<Record<string, string | number>>,
): Report {
  const machine: Machine = { ...start, loadAverageEnd: loadAverage() };
  const notes: string[] = [];
  if (machine.busyCoresBeforeStart >= 0.15) {
    notes.push(
      `The machine was not idle: other processes kept ${machine.busyCoresBeforeStart} of ${machine.cores} cores busy just before the benches started. Each section says how much they took during its measurement; numbers taken under contention are pessimistic.`,
    );
  }
  return {
    machine,
    command,
    settings,
    sections,
    notes,
    ok: sections.every((s) => s.failures.length === 0),
    budgetsMet: sections.every((s) => s.metrics.every((m) => m.pass !== false)),
  };
}

/** A number with three or four significant digits and thousands separators. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs === 0 || Number.isInteger(value) || abs >= 1000 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function withUnit(value: number, unit: string): string {
  return unit === "" ? formatNumber(value) : `${formatNumber(value)} ${unit}`;
}

function verdict(m: Metric): string {
  if (m.pass === null) return "—";
  return m.pass ? "pass" : "**MISS**";
}

/** How a suite reusing this report names itself (the reliability suite does). */
export interface Wording {
  readonly heading: string;
  /** Singular and plural of what a section is: "bench"/"benches", "scenario"/"scenarios". */
  readonly one: string;
  readonly many: string;
}

const BENCH_WORDING: Wording = { heading: "Gateway benchmarks", one: "bench", many: "benches" };

export function renderMarkdown(report: Report, wording: Wording = BENCH_WORDING): string {
  const heading = wording.heading;
  const { machine } = report;
  const lines = [
    `# ${heading}`,
    "",
    `Machine: Node ${machine.node} on ${machine.platform}/${machine.arch}, ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.date}; ${machine.busyCoresBeforeStart} cores busy with other work before start; load average ${machine.loadAverageStart.join("/")} at start, ${machine.loadAverageEnd.join("/")} at end (1/5 min)`,
    "",
    `Command: \`${report.command}\``,
    "",
    `Settings: ${Object.entries(report.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}`,
    "",
    report.ok
      ? `Result: the ${wording.many} ran cleanly; ${report.budgetsMet ? "every budget is met" : "**some budgets are missed**"}.`
      : `Result: **a ${wording.one} broke** (see its failures); its numbers are not trustworthy.`,
    ...report.notes.flatMap((n) => ["", `> ${n}`]),
  ];
  for (const section of report.sections) {
    lines.push("", `## ${section.title}`, "");
    if (section.metrics.length === 0) lines.push(`(no metrics: the ${wording.one} did not get that far)`);
    else lines.push("| Metric | Value | Budget | Verdict |", "|---|---:|---:|---|");
    for (const m of section.metrics) {
      const budget =
        m.budget === null ? "—" : `${m.budget.op === "<=" ? "≤" : "≥"} ${withUnit(m.budget.value, m.unit)}`;
      lines.push(`| ${m.label} | ${withUnit(m.value, m.unit)} | ${budget} | ${verdict(m)} |`);
    }
    if (section.failures.length > 0) {
      lines.push("", "Failures:", "");
      for (const failure of section.failures) {
        const [first = "", ...rest] = failure.trimEnd().split("\n");
        lines.push(`- ${first}`);
        if (rest.length > 0) lines.push("", "  ```text", ...rest.map((l) => `  ${l}`), "  ```");
      }
    }
    if (section.notes.length > 0) {
      lines.push("", "Notes:", "", ...section.notes.map((n) => `- ${n}`));
    }
    lines.push("", `(${formatNumber(section.seconds)} s)`);
  }
  return `${lines.join("\n")}\n`;
}

/** Writes `latest.json` and `latest.md` into `dir`; returns their paths. */
export async function writeReport(
  report: Report,
  dir: string,
  wording?: Wording,
): Promise<{ json: string; md: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, "latest.json");
  const md = path.join(dir, "latest.md");
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(md, renderMarkdown(report, wording));
  return { json, md };
}
