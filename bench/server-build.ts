// Server build: what the per-request MCP server costs to build (CVE-2026-25536 rules out sharing
// one), in-process, over the gateway's real tool registry, as /mcp builds it for every request.
import { performance } from "node:perf_hooks";
import { allTools } from "../src/app.ts";
import { createMcpServer, ToolRegistry, type ToolContext } from "../src/mcp/index.ts";
import { metric, type SectionResult } from "./report.ts";
import { summarize } from "./stats.ts";

export interface ServerBuildOptions {
  /** Servers built and timed one by one. */
  readonly builds: number;
}

export const SERVER_BUILD_DEFAULTS: ServerBuildOptions = { builds: 2000 };

const SCOPES = ["openid", "mcp:tools", "mcp:write"] as const;

function context(): ToolContext {
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  return {
    auth: { token: "bench-token", clientId: "bench", scopes: [...SCOPES], expiresAt: 4_102_444_800 },
    subject: "bench-user",
    scopes: SCOPES,
    signal: new AbortController().signal,
    requestId: "bench",
    log: quiet,
  };
}

/** Times `createMcpServer` over the full registry (every tool visible), one build at a time. */
export function runServerBuild(options: ServerBuildOptions = SERVER_BUILD_DEFAULTS): Promise<SectionResult> {
  const failures: string[] = [];
  const registry = new ToolRegistry(allTools);
  const ctx = context();
  const visible = registry.visible({ scopes: SCOPES, capabilities: "all" }).length;
  if (visible === 0) failures.push("no tool is visible with the scopes openid mcp:tools mcp:write");
  const warmup = Math.min(200, options.builds);
  for (let i = 0; i < warmup; i++) createMcpServer(registry, ctx);
  const samplesUs: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < options.builds; i++) {
    const t0 = performance.now();
    createMcpServer(registry, ctx);
    samplesUs.push((performance.now() - t0) * 1000);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const s = summarize(samplesUs);
  return Promise.resolve({
    metrics: [
      // Part of the ≤ 1 ms p50 the gateway may add over a direct Nextcloud call (DESIGN §8).
      metric("server_build.p50", "build one per-request server, p50", s.p50 / 1000, "ms", {
        op: "<=",
        value: 0.5,
      }),
      metric("server_build.p99", "build one per-request server, p99", s.p99 / 1000, "ms"),
      metric("server_build.cpu", "CPU per build", (cpu.user + cpu.system) / options.builds / 1000, "ms"),
    ],
    notes: [
      `createMcpServer over ToolRegistry(allTools) with every one of the ${visible} tools visible (scopes ${SCOPES.join(" ")}, all capabilities), ${warmup} warm-up builds, then ${options.builds} timed one by one. Schema work belongs in the registry (once at start); a regression that converts schemas per request shows here.`,
    ],
    failures,
  });
}
