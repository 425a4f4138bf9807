import type { Handler } from "hono";
import type { IdpReachability, IdpStatus } from "../idp/index.ts";
import type { AppEnv } from "./env.ts";

/** What readiness depends on; each probe is cheap and bounded. */
export interface ReadinessProbes {
  /** True while the process is draining for shutdown. */
  shuttingDown(): boolean;
  database(): Promise<{ ok: boolean; error?: string }>;
  idp(): IdpStatus;
  /**
   * The gateway's own client authentication at the IdP (cached by the caller, not probed per
   * request); asked only once discovery has loaded. A transient failure (IdP unreachable) does not
   * make the replica unready: every replica shares the IdP, and discovery stays loaded.
   */
  idpClient?(): Promise<{ ok: boolean; message: string; transient?: boolean }>;
  /**
   * Whether the IdP answered lately (never waits for it). An unreachable IdP is reported in the
   * body (`checks.idp.status` "unreachable") without making the replica unready, for the same
   * reason: tokens already seen keep verifying, and every replica shares the IdP.
   */
  idpReachability?(): IdpReachability;
}

/** `/healthz`: the process is alive and serving HTTP. Never touches dependencies. */
export const healthz: Handler<AppEnv> = (c) => c.json({ status: "ok" });

/**
 * `/readyz`: 200 when the database answers with an up-to-date schema, the IdP's discovery and
 * JWKS are loaded and the IdP accepts the gateway's client credentials; an IdP that does not answer
 * any more is reported (`checks.idp.status` "unreachable") but leaves the replica ready. Anyone can ask, so the body names only the checks and whether each passed; what
 * failed (hosts, error numbers, migration counts) goes to the log.
 */
export function readyz(probes: ReadinessProbes): Handler<AppEnv> {
  return async function readyzHandler(c) {
    const database = await probes.database();
    const idp = probes.idp();
    const loaded = idp.discovery === "loaded" && idp.jwks === "loaded";
    const client = loaded ? await probes.idpClient?.() : undefined;
    const clientRefused = client !== undefined && !client.ok && client.transient !== true;
    const idpOk = loaded && !clientRefused;
    const reach = loaded ? probes.idpReachability?.() : undefined;
    const unreachable = reach?.reachable === false;
    if (unreachable && idpOk) {
      c.get("log").warn({ idp: { error: reach.error } }, "identity provider unreachable");
    }
    const draining = probes.shuttingDown();
    const ready = database.ok && idpOk && !draining;
    if (!ready) {
      c.get("log").warn(
        {
          shuttingDown: draining,
          ...(database.ok ? {} : { database: database.error ?? "failed" }),
          ...(idpOk
            ? {}
            : {
                idp: {
                  discovery: idp.discovery,
                  jwks: idp.jwks,
                  ...(clientRefused ? { client: client.message } : {}),
                  error: idp.error,
                },
              }),
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
          idp: { status: idpOk ? (unreachable ? "unreachable" : "ok") : "failed" },
        },
      },
      ready ? 200 : 503,
      { "cache-control": "no-store" },
    );
  };
}
