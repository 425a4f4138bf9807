import type { Handler } from "hono";
import type { IdpStatus } from "../idp/index.ts";
import type { AppEnv } from "./env.ts";

/** What readiness depends on; each probe is cheap and bounded. */
export interface ReadinessProbes {
  /** True while the process is draining for shutdown. */
  shuttingDown(): boolean;
  database(): Promise<{ ok: boolean; error?: string }>;
  idp(): IdpStatus;
}

/** `/healthz`: the process is alive and serving HTTP. Never touches dependencies. */
export const healthz: Handler<AppEnv> = (c) => c.json({ status: "ok" });

/**
 * `/readyz`: 200 when the database answers with an up-to-date schema and the IdP's discovery and
 * JWKS are loaded. Anyone can ask, so the body names only the checks and whether each passed; what
 * failed (hosts, error numbers, migration counts) goes to the log.
 */
export function readyz(probes: ReadinessProbes): Handler<AppEnv> {
  return async function readyzHandler(c) {
    const database = await probes.database();
    const idp = probes.idp();
    const idpOk = idp.discovery === "loaded" && idp.jwks === "loaded";
    const draining = probes.shuttingDown();
    const ready = database.ok && idpOk && !draining;
    if (!ready) {
      c.get("log").warn(
        {
          shuttingDown: draining,
          ...(database.ok ? {} : { database: database.error ?? "failed" }),
          ...(idpOk ? {} : { idp: { discovery: idp.discovery, jwks: idp.jwks, error: idp.error } }),
        },
        "not ready",
      );
    }
    return c.json(
      {
        status: ready ? "ready" : "not_ready",
        ...(draining ? { reason: "shutting down" } : {}),
        checks: {
          database: { status: database.ok ? "ok" : "failed" },
          idp: { status: idpOk ? "ok" : "failed" },
        },
      },
      ready ? 200 : 503,
      { "cache-control": "no-store" },
    );
  };
}
