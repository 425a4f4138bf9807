import type { MiddlewareHandler } from "hono";
import { isLoopbackHost } from "../../config/index.ts";
import type { AppEnv } from "../env.ts";

/** Settings of {@link originGuard}. */
export interface OriginGuardSettings {
  /** The gateway's public base URL; its origin is always allowed. */
  publicUrl: string;
  /** Extra allowed origins; `scheme://host:*` allows any port. */
  allowedOrigins: readonly string[];
  /** The address the server listens on; on loopback the Host header is checked too. */
  listenHost: string;
}

/**
 * True when `origin` is the public origin, matches one of the allowed ones, or (when the gateway
 * listens on loopback) is itself a loopback origin: pages of other sites cannot have one.
 */
export function originAllowed(origin: string, settings: OriginGuardSettings): boolean {
  if (origin === new URL(settings.publicUrl).origin) return true;
  if (
    isLoopbackHost(settings.listenHost) &&
    URL.canParse(origin) &&
    isLoopbackHost(new URL(origin).hostname)
  ) {
    return true;
  }
  return settings.allowedOrigins.some((allowed) => {
    if (allowed.endsWith(":*")) {
      const base = allowed.slice(0, -2);
      return (
        origin === base || (origin.startsWith(`${base}:`) && /^\d+$/.test(origin.slice(base.length + 1)))
      );
    }
    return origin === allowed;
  });
}

function hostName(hostHeader: string): string {
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return "";
  }
}

/**
 * Refuses requests whose `Origin` is not allowed (MCP Streamable HTTP: servers MUST validate
 * Origin) and, when listening on loopback, whose `Host` is not a loopback name or the public host:
 * both stop DNS-rebinding attacks from web pages. Answers 403 with a JSON error naming the header.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 */
export function originGuard(settings: OriginGuardSettings): MiddlewareHandler<AppEnv> {
  const publicHost = new URL(settings.publicUrl).hostname;
  const checkHost = isLoopbackHost(settings.listenHost);
  return async function originGuardMiddleware(c, next) {
    const origin = c.req.header("origin");
    if (origin !== undefined && origin !== "null" && !originAllowed(origin, settings)) {
      c.get("log").warn({ origin }, "origin not allowed");
      return c.json(
        {
          error: "forbidden",
          error_description:
            "This Origin may not call the gateway; the operator can allow it in ALLOWED_ORIGINS.",
        },
        403,
      );
    }
    if (origin === "null") {
      return c.json(
        { error: "forbidden", error_description: "Requests from opaque origins are not allowed." },
        403,
      );
    }
    if (checkHost) {
      const host = hostName(c.req.header("host") ?? "");
      if (!isLoopbackHost(host) && host !== publicHost) {
        c.get("log").warn({ host: c.req.header("host") }, "host not allowed");
        return c.json({ error: "forbidden", error_description: "This Host is not served here." }, 403);
      }
    }
    await next();
    return undefined;
  };
}
