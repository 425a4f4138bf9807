import type { Handler } from "hono";
import type { AppEnv } from "./env.ts";

/** One counter or gauge as Prometheus shows it. */
export interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge";
  value: number;
  /** Label values of this series (e.g. `{ reason: "outside_root" }`); series of one name share HELP/TYPE. */
  labels?: Record<string, string>;
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

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
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(",");
      const series = `${m.name}${labels === "" ? "" : `{${labels}}`} ${m.value}`;
      if (described.has(m.name)) return [series];
      described.add(m.name);
      return [`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, series];
    });
    return c.body(`${lines.join("\n")}\n`, 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    });
  };
}
