// How busy the machine was while a bench ran, apart from the bench's own processes: a bench on a
// machine shared with other work measures less than the code can do, and the report should say so.
import os from "node:os";
import { performance } from "node:perf_hooks";

export interface CpuSample {
  readonly atMs: number;
  /** CPU time spent on all cores (not idle, not iowait), in ms, from the kernel's counters. */
  readonly machineBusyMs: number;
  /** CPU time of this process, in ms. */
  readonly ownMs: number;
}

export function cpuSample(): CpuSample {
  let busy = 0;
  for (const { times } of os.cpus()) busy += times.user + times.nice + times.sys + times.irq;
  const own = process.cpuUsage();
  return { atMs: performance.now(), machineBusyMs: busy, ownMs: (own.user + own.system) / 1000 };
}

/**
 * Cores kept busy by other processes between two samples: the machine's busy time minus this
 * process's and `otherBenchMs` (e.g. a child the bench started), over the wall time. Coarse: the
 * kernel counts in 10 ms ticks.
 */
export function othersCores(start: CpuSample, end: CpuSample, otherBenchMs = 0): number {
  const wallMs = end.atMs - start.atMs;
  if (wallMs <= 0) return 0;
  const others = end.machineBusyMs - start.machineBusyMs - (end.ownMs - start.ownMs) - otherBenchMs;
  return Math.max(0, others / wallMs);
}

/** A note for the report when other processes took a noticeable share of the CPU, else undefined. */
export function contentionNote(what: string, cores: number): string | undefined {
  if (cores < 0.15) return undefined;
  return `Other processes kept ${cores.toFixed(2)} of the ${os.availableParallelism()} cores busy during ${what}: the numbers are pessimistic; rerun on an idle machine before comparing with the budgets.`;
}
