import type { GatewayErrorCode } from "../errors.ts";

/** The error codes a bearer challenge may carry. @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 */
export type ChallengeError = Extract<
  GatewayErrorCode,
  "invalid_request" | "invalid_token" | "insufficient_scope"
>;

/** What goes into a `WWW-Authenticate: Bearer` challenge. */
export interface ChallengeOptions {
  /** The protected resource metadata URL. @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1 */
  resourceMetadataUrl: string | URL;
  /** Scopes needed for the request; an empty list leaves out the `scope` attribute. */
  scopes: readonly string[];
  /** Left out when the request carried no credentials (RFC 6750 §3.1). */
  error?: ChallengeError | undefined;
  /** Human-readable text; sent only together with `error`, reduced to the characters RFC 6749 allows. */
  description?: string | undefined;
}

// quoted-string (RFC 9110 §5.6.4) restricted to ASCII: header values outside Latin-1 are rejected
// by fetch's Headers, and control characters could split the header.
function quote(value: string): string {
  return `"${value.replace(/[^\t\x20-\x7e]/g, "").replace(/["\\]/g, "\\$&")}"`;
}

// RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
function descriptionChars(value: string): string {
  return value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "");
}

/**
 * Builds a `WWW-Authenticate` value such as
 * `Bearer resource_metadata="…", scope="mcp:tools", error="invalid_token", error_description="…"`.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 */
export function wwwAuthenticate(options: ChallengeOptions): string {
  const params = [`resource_metadata=${quote(String(options.resourceMetadataUrl))}`];
  // MCP 2026-07-28: offline_access SHOULD NOT be challenged for; refresh is the client's business.
  const scopes = [...new Set(options.scopes)].filter((s) => s !== "" && s !== "offline_access");
  if (scopes.length > 0) params.push(`scope=${quote(scopes.join(" "))}`);
  if (options.error !== undefined) {
    params.push(`error=${quote(options.error)}`);
    const description = descriptionChars(options.description ?? "");
    if (description !== "") params.push(`error_description=${quote(description)}`);
  }
  return `Bearer ${params.join(", ")}`;
}
