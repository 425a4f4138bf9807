import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../env.ts";

/** Settings of {@link declaredBodyLimit}, as hono's `bodyLimit` takes them. */
export interface BodyLimitSettings {
  maxSize: number;
  onError: (c: Context<AppEnv>) => Response | Promise<Response>;
}

/**
 * hono's `bodyLimit`, without touching the body when its length is declared: a request with a
 * `Content-Length` (and no `Transfer-Encoding`) over `maxSize` is refused, one within it passes
 * (node's parser reads exactly that many bytes); any other request is counted by hono's `bodyLimit`
 * as it streams. hono's checks `c.req.raw.body` first, which makes @hono/node-server build a full
 * web Request and a body stream for every request.
 */
export function declaredBodyLimit(settings: BodyLimitSettings): MiddlewareHandler<AppEnv> {
  const streamed = bodyLimit(settings);
  return function bodyLimitMiddleware(c, next) {
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      return Number.parseInt(length || "0", 10) > settings.maxSize
        ? Promise.resolve(settings.onError(c))
        : next();
    }
    return streamed(c, next);
  };
}
