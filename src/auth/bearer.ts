import { GatewayError } from "../errors.ts";

/** What a client is told when its Authorization header cannot carry a bearer token. */
export const MALFORMED_AUTHORIZATION_DESCRIPTION =
  "The request must carry an access token as 'Authorization: Bearer <token>'.";

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

// Only well-known scheme names are echoed into the detail: a client that sends its token without a
// scheme would otherwise have the token itself logged as the "scheme".
const KNOWN_SCHEMES = new Set(["basic", "digest", "dpop", "negotiate", "ntlm", "token", "mac", "hoba"]);

/** What a client is told when it sends the token other than in the header, or more than once. */
export const ONE_METHOD_DESCRIPTION =
  "Send the access token once, in the Authorization header only (RFC 6750 section 2).";

/** Where else than the Authorization header a request carried an `access_token`. */
export type OtherTokenMethod = "query" | "form body";

function malformed(detail: string): GatewayError {
  return new GatewayError("invalid_token", MALFORMED_AUTHORIZATION_DESCRIPTION, { detail });
}

/**
 * Reads the bearer token from an Authorization header value: `undefined` when there is no header,
 * the token for `Bearer <b64token>` (scheme case-insensitive), otherwise a 401 `invalid_token`.
 * `otherMethods` names where else the request carried an `access_token` parameter: the gateway takes
 * the header only (its metadata says `bearer_methods_supported: ["header"]`), and RFC 6750 forbids
 * more than one method, so any other method is a 400 `invalid_request`, checked first.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @throws GatewayError `invalid_request` when `otherMethods` is not empty; `invalid_token` for another
 *   scheme or a malformed value. The detail never holds the value.
 */
export function extractBearerToken(
  authorizationHeader: string | undefined | null,
  otherMethods: readonly OtherTokenMethod[] = [],
): string | undefined {
  const hasHeader = authorizationHeader !== undefined && authorizationHeader !== null;
  if (otherMethods.length > 0) {
    const where = `access_token in the ${otherMethods.join(" and the ")}`;
    throw new GatewayError("invalid_request", ONE_METHOD_DESCRIPTION, {
      detail: hasHeader ? `${where} besides the Authorization header` : `${where}, not in the header`,
    });
  }
  if (!hasHeader) return undefined;
  const value = authorizationHeader.trim();
  if (value === "") throw malformed("empty Authorization header");
  const space = value.indexOf(" ");
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== "bearer") {
    const named = KNOWN_SCHEMES.has(scheme.toLowerCase()) ? ` ${scheme}` : "";
    throw malformed(`authorization scheme${named} is not Bearer`);
  }
  // credentials = "Bearer" 1*SP b64token
  const token = space === -1 ? "" : value.slice(space + 1).replace(/^ +/, "");
  if (token === "") throw malformed("Bearer scheme without a token");
  if (!B64TOKEN.test(token)) throw malformed("Bearer token is not a b64token (RFC 6750 §2.1)");
  return token;
}
