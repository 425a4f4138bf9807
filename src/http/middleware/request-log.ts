import type { MiddlewareHandler } from "hono";
import type { Logger } from "../../log.ts";
import type { AppEnv } from "../env.ts";

/**
 * Gives each request a child logger carrying its request id (set by hono's requestId middleware)
 * and logs one line when the response is ready. Only the path is logged: query strings can carry
 * OAuth codes and state.
 */
export function requestLog(log: Logger): MiddlewareHandler<AppEnv> {
  return async function requestLogMiddleware(c, next) {
    const started = performance.now();
    const child = log.child({ reqId: c.get("requestId") });
    c.set("log", child);
    await next();
    const status = c.res.status;
    const line = {
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    // Probes first: a 503 from /readyz is an answer (not ready), logged by the handler as "not
    // ready" at warn, never an error that alerts would page on.
    if (c.req.path === "/healthz" || c.req.path === "/readyz") child.debug(line, "request");
    else if (status >= 500) child.error(line, "request failed");
    else child.info(line, "request");
  };
}
