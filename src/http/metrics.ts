import { createHash, timingSafeEqual } from "node:crypto";
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

/** Options of {@link metricsEndpoint}. */
export interface MetricsOptions {
  /** When set, a scrape must carry `Authorization: Bearer <token>` (METRICS_TOKEN). */
  token?: string | undefined;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

// Digests of equal length, so the comparison takes the same time whatever the caller sent. No
// header compares "" (METRICS_TOKEN has at least 32 characters, so it never matches).
function sameToken(expected: Buffer, authorization: string | undefined): boolean {
  const match = /^Bearer +(\S+)$/i.exec(authorization?.trim() ?? "");
  return timingSafeEqual(expected, digest(match?.[1] ?? ""));
}

/**
 * `/metrics` in the Prometheus text exposition format: the counters of this replica (token
 * verification cache, token exchanges). Values are read when scraped; nothing here is per user.
 * With a token, other requests get 401 with `WWW-Authenticate: Bearer realm="metrics"` and no numbers.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function metricsEndpoint(
  collect: () => readonly Metric[],
  options: MetricsOptions = {},
): Handler<AppEnv> {
  const expected = options.token === undefined ? undefined : digest(options.token);
  return function metricsHandler(c) {
    if (expected !== undefined && !sameToken(expected, c.req.header("authorization"))) {
      return c.json(
        { error: "invalid_token", error_description: "/metrics needs the METRICS_TOKEN as a bearer token." },
        401,
        { "www-authenticate": 'Bearer realm="metrics"', "cache-control": "no-store" },
      );
    }
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
