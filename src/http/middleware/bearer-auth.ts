import type { Context, MiddlewareHandler } from "hono";
import {
  extractBearerToken,
  type OtherTokenMethod,
  missingScopes,
  toAuthInfo,
  tokenDigest,
  wwwAuthenticate,
  type TokenVerifier,
} from "../../auth/index.ts";
import { GatewayError } from "../../errors.ts";
import { subjectHash } from "../../log.ts";
import type { AppEnv } from "../env.ts";

/** Settings of {@link bearerAuth}. */
export interface BearerAuthSettings {
  verifier: TokenVerifier;
  resourceUrl: string;
  resourceMetadataUrl: string;
  /** Scopes every request needs (`mcp:tools`). */
  requiredScopes: readonly string[];
  /** Scopes the challenge to an unauthenticated or invalid request names: what clients sign in with. */
  signInScopes: readonly string[];
}

const FORM = "application/x-www-form-urlencoded";

// RFC 6750 §2.2 and §2.3: the other two places a client may put its token. The form body is read
// from a clone (the MCP transport reads the request later); bodyLimit has bounded it already.
async function otherTokenMethods(c: Context<AppEnv>): Promise<OtherTokenMethod[]> {
  const methods: OtherTokenMethod[] = [];
  const url = c.req.url;
  if (url.includes("?") && new URL(url).searchParams.has("access_token")) methods.push("query");
  const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type === FORM && c.req.raw.body !== null) {
    const form = new URLSearchParams(await c.req.raw.clone().text());
    if (form.has("access_token")) methods.push("form body");
  }
  return methods;
}

/**
 * Verifies the bearer token of every request and puts the result in the context (`auth`). No or
 * bad token: 401 with a challenge that points at the protected resource metadata; an `access_token`
 * in the query or a form body (another method, or a second one): 400 `invalid_request`; a token
 * without the base scope: 403 `insufficient_scope`; the IdP's keys unavailable: 503 with Retry-After.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 */
export function bearerAuth(settings: BearerAuthSettings): MiddlewareHandler<AppEnv> {
  const challenge = (
    error?: "invalid_request" | "invalid_token" | "insufficient_scope",
    description?: string,
    scopes = error === "insufficient_scope" ? settings.requiredScopes : settings.signInScopes,
  ) => wwwAuthenticate({ resourceMetadataUrl: settings.resourceMetadataUrl, scopes, error, description });

  return async function bearerAuthMiddleware(c, next) {
    const log = c.get("log");
    let token: string | undefined;
    try {
      token = extractBearerToken(c.req.header("authorization"), await otherTokenMethods(c));
      if (token === undefined) {
        // RFC 6750 §3.1: a request without credentials gets no error code, in the challenge or here.
        return c.json({ message: "Sign in: this endpoint needs an OAuth access token." }, 401, {
          "www-authenticate": challenge(),
        });
      }
      // Computed once: the verified-token cache and the exchange cache are both keyed by it.
      const digest = tokenDigest(token);
      const verified = await settings.verifier.verify(token, digest);
      const missing = missingScopes(verified.scopes, settings.requiredScopes);
      if (missing.length > 0) {
        log.info(
          { sub: subjectHash(verified.issuer, verified.subject), missing },
          "token lacks required scope",
        );
        const description = `The token lacks the scope ${missing.join(" ")}.`;
        return c.json({ error: "insufficient_scope", error_description: description }, 403, {
          "www-authenticate": challenge("insufficient_scope", description),
        });
      }
      c.set("auth", { verified, info: toAuthInfo(verified, token, settings.resourceUrl), digest });
    } catch (err) {
      if (err instanceof GatewayError && err.code === "invalid_token") {
        log.info({ reason: err.detail }, "token rejected");
        return c.json({ error: err.code, error_description: err.description }, 401, {
          "www-authenticate": challenge("invalid_token", err.description),
        });
      }
      if (err instanceof GatewayError && err.code === "invalid_request") {
        log.info({ reason: err.detail }, "token sent by more than one method, or not in the header");
        return c.json({ error: err.code, error_description: err.description }, 400, {
          "www-authenticate": challenge("invalid_request", err.description),
        });
      }
      if (err instanceof GatewayError && err.code === "temporarily_unavailable") {
        log.warn({ reason: err.detail }, "cannot verify tokens now");
        return c.json({ error: err.code, error_description: err.description }, 503, { "retry-after": "5" });
      }
      throw err;
    }
    await next();
    return undefined;
  };
}
