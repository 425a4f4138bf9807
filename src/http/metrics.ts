import type { Handler } from "hono";
import type { AppEnv } from "./env.ts";

/** One counter or gauge as Prometheus shows it. */
export interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge";
  value: number;
}

/**
 * `/metrics` in the Prometheus text exposition format: the counters of this replica (token
 * verification cache, token exchanges). Values are read when scraped; nothing here is per user.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export function metricsEndpoint(collect: () => readonly Metric[]): Handler<AppEnv> {
  return function metricsHandler(c) {
    const lines = collect().flatMap((m) => [
      `# HELP ${m.name} ${m.help}`,
      `# TYPE ${m.name} ${m.type}`,
      `${m.name} ${m.value}`,
    ]);
    return c.body(`${lines.join("\n")}\n`, 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    });
  };
}
