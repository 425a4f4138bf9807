import type { Handler } from "hono";
import type { AppEnv } from "./env.ts";

/** One counter or gauge as Prometheus shows it. */
export interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge";
  value: number;
  /** Label values of this sample; samples of one name share its HELP and TYPE lines. */
  labels?: Record<string, string>;
}

/**
 * `/metrics` in the Prometheus text exposition format: the counters of this replica (token
 * verification cache, token exchanges). Values are read when scraped; nothing here is per user.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export function metricsEndpoint(collect: () => readonly Metric[]): Handler<AppEnv> {
  return function metricsHandler(c) {
    const described = new Set<string>();
    const lines = collect().flatMap((m) => {
      const labels = Object.entries(m.labels ?? {})
        .map(([k, v]) => `${k}="${v}"`)
        .join(",");
      const sample = `${m.name}${labels === "" ? "" : `{${labels}}`} ${m.value}`;
      if (described.has(m.name)) return [sample];
      described.add(m.name);
      return [`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, sample];
    });
    return c.body(`${lines.join("\n")}\n`, 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    });
  };
}
