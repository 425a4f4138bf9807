import type { Handler } from "hono";
import type { AppEnv } from "./env.ts";

/** The scopes a client may ask for; `mcp:write` is requested by step-up when a tool needs it. */
export const SCOPES_SUPPORTED = ["mcp:tools", "mcp:write"] as const;

/** The path-form metadata URL for a resource URL: the well-known segment goes between host and path. */
export function resourceMetadataUrl(resourceUrl: string): string {
  const u = new URL(resourceUrl);
  const path = u.pathname === "/" ? "" : u.pathname.replace(/\/$/, "");
  return `${u.origin}/.well-known/oauth-protected-resource${path}`;
}

/** The document both well-known paths serve. */
export interface ProtectedResourceSettings {
  resourceUrl: string;
  issuer: string;
  /** The app groups a client can select with `<resource>?apps=<id>,<id>`. */
  toolsets?: readonly { id: string; title: string; description: string }[];
}

/**
 * OAuth 2.0 Protected Resource Metadata for /mcp. `resource` is the configured public URL, never
 * derived from the request's Host header. Public and cacheable, with permissive CORS so browser
 * clients can discover it.
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.2
 */
export function protectedResourceMetadata(settings: ProtectedResourceSettings): Handler<AppEnv> {
  const body = JSON.stringify({
    resource: settings.resourceUrl,
    authorization_servers: [settings.issuer],
    scopes_supported: SCOPES_SUPPORTED,
    bearer_methods_supported: ["header"],
    resource_name: "Nextcloud (MCP gateway)",
    // An extension (RFC 9728 §2 allows more parameters): the toolsets a client can ask for by URL.
    ...(settings.toolsets === undefined || settings.toolsets.length === 0
      ? {}
      : {
          toolsets: settings.toolsets.map((t) => ({
            ...t,
            url: `${settings.resourceUrl}?apps=${t.id}`,
          })),
          toolsets_parameter: "apps",
        }),
  });
  return function protectedResourceHandler(c) {
    return c.body(body, 200, {
      "content-type": "application/json",
      "cache-control": "public, max-age=3600",
      "access-control-allow-origin": "*",
    });
  };
}
