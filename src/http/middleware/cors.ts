import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../env.ts";

/** Settings of {@link corsHeaders}: hono's `cors` options, with the origin decided by a function. */
export interface CorsSettings {
  /** The origin to allow (echoed), or null to allow none. */
  origin: (origin: string) => string | null;
  allowMethods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  /** Preflight cache lifetime, seconds. */
  maxAge: number;
}

/**
 * CORS for an API route: preflights are hono's `cors`; on every other request the same headers
 * (`Access-Control-Allow-Origin` for an allowed origin, `Access-Control-Expose-Headers`,
 * `Vary: Origin`) are set on the response once it exists. hono's `cors` sets them on `c.res` before
 * the handler runs, which makes hono rebuild the handler's response around a stream of its body
 * (and node-server then copy that stream): on /mcp that was a tenth of a call's CPU.
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 */
export function corsHeaders(settings: CorsSettings): MiddlewareHandler<AppEnv> {
  const preflight = cors({
    origin: (origin) => settings.origin(origin),
    allowMethods: [...settings.allowMethods],
    allowHeaders: [...settings.allowHeaders],
    exposeHeaders: [...settings.exposeHeaders],
    maxAge: settings.maxAge,
  });
  const expose = settings.exposeHeaders.join(",");
  return async function corsMiddleware(c, next) {
    if (c.req.method === "OPTIONS") return preflight(c, next);
    await next();
    // The response's own headers, changed in place (c.header() would rebuild the response).
    const headers = c.res.headers;
    const allowed = settings.origin(c.req.header("origin") ?? "");
    if (allowed) headers.set("Access-Control-Allow-Origin", allowed);
    if (expose !== "") headers.set("Access-Control-Expose-Headers", expose);
    headers.append("Vary", "Origin");
    return undefined;
  };
}
