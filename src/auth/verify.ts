import type { AuthInfo } from "@modelcontextprotocol/server";
import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from "jose";
import { describeError, GatewayError } from "../errors.ts";
import { parseScopes } from "./scopes.ts";

/**
 * Signature algorithms accepted on access tokens: asymmetric only, never `none` and never HMAC
 * (a shared secret would let anyone holding the JWKS mint tokens).
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1
 */
export const ALLOWED_ALGORITHMS = Object.freeze([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const);

/** Clock skew tolerated on `exp` and `nbf`, in seconds. @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4 */
export const CLOCK_TOLERANCE_SECONDS = 60;

/** The one client-facing description of a rejected token: the client never learns which check failed. */
export const INVALID_TOKEN_DESCRIPTION = "The access token is invalid or expired.";

/** The client-facing description when the IdP's keys cannot be loaded (a 503, not the token's fault). */
export const KEYS_UNAVAILABLE_DESCRIPTION = "The access token cannot be verified right now; try again later.";

/** What a token must say to be accepted here. */
export interface TokenExpectations {
  /** The IdP issuer; `iss` must equal it exactly. */
  issuer: string;
  /** The gateway's resource URL; `aud` must contain it (one trailing slash and any fragment aside). */
  audience: string;
  /**
   * The gateway's own client id: a token whose `azp` (or `client_id`) names it was obtained by the
   * gateway for itself (client credentials, as `check` does), not by a user's MCP client: refused.
   */
  ownClientId?: string;
}

/** An access token that passed every check, reduced to what the gateway uses. */
export interface VerifiedToken {
  readonly subject: string;
  readonly issuer: string;
  /** `azp`, else `client_id`, else "". */
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly audience: readonly string[];
  /** `exp`, seconds since the epoch. */
  readonly expiresAt: number;
  /** `iat`, seconds since the epoch, when present. */
  readonly issuedAt?: number;
  readonly claims: Readonly<JWTPayload>;
}

function invalidToken(detail: string, cause?: unknown): GatewayError {
  return new GatewayError("invalid_token", INVALID_TOKEN_DESCRIPTION, { detail, cause });
}

// Claim and header values are attacker-controlled: shown JSON-quoted and bounded, never the token.
function show(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = JSON.stringify(Array.isArray(value) ? value.slice(0, 5) : value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function headerParameter(token: string, name: "alg" | "kid"): string | undefined {
  try {
    const value = decodeProtectedHeader(token)[name];
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The token's `iss` as it claims it, before any check; undefined when absent, not a string or unreadable. */
function claimedIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

// The resource identifier without its fragment and one trailing slash, as the MCP SDK compares it.
function comparableResource(value: string): string {
  const hash = value.indexOf("#");
  return (hash === -1 ? value : value.slice(0, hash)).replace(/\/$/, "");
}

/**
 * Media types a JWS `typ` header may carry on an access token: RFC 9068's `at+jwt` and the plain
 * `JWT` that Keycloak writes (or no `typ` at all). Compared case-insensitively without the
 * `application/` prefix, as RFC 7515 §4.1.9 says. A logout token (`logout+jwt`), a security event
 * (`secevent+jwt`) or anything else signed by the same IdP is not an access token.
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.1
 */
export const ACCESS_TOKEN_HEADER_TYPES = Object.freeze(["jwt", "at+jwt"] as const);

/**
 * The `typ` claim Keycloak puts in its access tokens; its ID, refresh and logout tokens say `ID`,
 * `Refresh` and `Logout`, and a DPoP-bound token says `DPoP` (not usable as a bearer token,
 * RFC 9449 §7.1). A token without the claim (other IdPs) is accepted.
 */
export const ACCESS_TOKEN_TYP_CLAIM = "Bearer";

function headerTypeProblem(typ: unknown): string | undefined {
  if (typ === undefined) return undefined;
  const accepted =
    typeof typ === "string" &&
    (ACCESS_TOKEN_HEADER_TYPES as readonly string[]).includes(
      typ.toLowerCase().replace(/^application\//, ""),
    );
  return accepted ? undefined : `typ header ${show(typ)} is not an access token type`;
}

function typClaimProblem(typ: unknown): string | undefined {
  if (typ === undefined || typ === ACCESS_TOKEN_TYP_CLAIM) return undefined;
  return `typ claim ${show(typ)} is not ${ACCESS_TOKEN_TYP_CLAIM}`;
}

function audienceOf(aud: unknown): string[] {
  if (typeof aud === "string") return [aud];
  if (Array.isArray(aud)) return (aud as unknown[]).filter((a): a is string => typeof a === "string");
  return [];
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === "string" && v !== "");
}

/**
 * The checks jose does not do for us, on a payload whose signature, `iss`, `exp` and `nbf` passed:
 * returns the verified token, or the name of the failed check.
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
function readClaims(
  payload: JWTPayload,
  header: ProtectedHeaderParameters,
  expectations: TokenExpectations,
): VerifiedToken | string {
  const typProblem = headerTypeProblem(header.typ) ?? typClaimProblem(payload.typ);
  if (typProblem !== undefined) return typProblem;
  const audience = audienceOf(payload.aud);
  const expected = comparableResource(expectations.audience);
  if (!audience.some((a) => comparableResource(a) === expected)) {
    return audience.length === 0
      ? "aud missing"
      : `aud ${show(audience)} does not contain ${expectations.audience}`;
  }
  if (typeof payload.sub !== "string" || payload.sub === "") return "sub is not a non-empty string";
  // JSON.parse turns 1e999 into Infinity, which jose accepts as a number.
  if (typeof payload.exp !== "number" || !Number.isFinite(payload.exp)) return "exp is not a finite number";
  const clientId = firstString(payload.azp, payload.client_id) ?? "";
  if (expectations.ownClientId !== undefined && clientId === expectations.ownClientId) {
    return `azp ${show(clientId)} is the gateway's own client: a token it obtained for itself, not a user's sign-in`;
  }
  const claims = Object.freeze({ ...payload });
  return Object.freeze({
    subject: payload.sub,
    issuer: expectations.issuer,
    clientId,
    scopes: Object.freeze(parseScopes(payload.scope)),
    audience: Object.freeze(audience),
    expiresAt: payload.exp,
    ...(typeof payload.iat === "number" ? { issuedAt: payload.iat } : {}),
    claims,
  });
}

// Maps what jwtVerify threw to a GatewayError naming the failed check. Key-set failures (timeout,
// unreachable or broken JWKS) are not the token's fault: a 503, so clients retry instead of re-authorising.
function toGatewayError(
  err: unknown,
  token: string,
  expectations: TokenExpectations,
  now: number,
): GatewayError {
  const nowSeconds = Math.floor(now / 1000);
  // Claim errors carry the whole payload (sub, email…); they are not kept as the cause, which a
  // logger's error serializer would print.
  if (err instanceof errors.JWTExpired) {
    return invalidToken(
      `expired (exp ${show(err.payload.exp)}, now ${nowSeconds}, leeway ${CLOCK_TOLERANCE_SECONDS} s)`,
    );
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === "missing") return invalidToken(`${err.claim} missing`);
    if (err.reason === "invalid") return invalidToken(`${err.claim} invalid (${err.message})`);
    if (err.claim === "iss") {
      return invalidToken(
        `iss mismatch (got ${show(err.payload.iss)}, expected ${show(expectations.issuer)})`,
      );
    }
    if (err.claim === "nbf") {
      return invalidToken(
        `not yet valid (nbf ${show(err.payload.nbf)}, now ${nowSeconds}, leeway ${CLOCK_TOLERANCE_SECONDS} s)`,
      );
    }
    return invalidToken(`${err.claim} check failed (${err.message})`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return invalidToken(`alg ${show(headerParameter(token, "alg"))} not allowed`, err);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalidToken("signature invalid", err);
  if (err instanceof errors.JWKSNoMatchingKey) {
    const kid = headerParameter(token, "kid");
    return invalidToken(
      kid === undefined ? "unknown kid (none given, no key matches)" : `unknown kid ${show(kid)}`,
      err,
    );
  }
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return invalidToken("ambiguous kid (several keys match)", err);
  if (err instanceof errors.JWSInvalid) return invalidToken(`malformed JWS (${err.message})`, err);
  if (err instanceof errors.JWTInvalid) return invalidToken(`malformed JWT (${err.message})`, err);
  if (err instanceof errors.JOSENotSupported) return invalidToken(`not supported (${err.message})`, err);
  return new GatewayError("temporarily_unavailable", KEYS_UNAVAILABLE_DESCRIPTION, {
    detail: `signing keys unavailable (${describeError(err)})`,
    cause: err,
  });
}

/**
 * Verifies an access token issued for this gateway: signature against `getKey` (a jose JWKS) with an
 * asymmetric algorithm, `iss` exactly, the token type (`typ` header and claim), `aud` containing the
 * resource URL, `exp` (required, finite) and `nbf` with {@link CLOCK_TOLERANCE_SECONDS} leeway, and a
 * string `sub`. `now` is in milliseconds.
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 * @throws GatewayError `invalid_token` (401) naming the failed check in `detail`, or
 *   `temporarily_unavailable` (503) when the key set cannot be loaded.
 */
export async function verifyAccessToken(
  token: string,
  expectations: TokenExpectations,
  getKey: JWTVerifyGetKey,
  now: number = Date.now(),
): Promise<VerifiedToken> {
  // A token of another issuer is refused before any key is looked up: its kid is unknown here, and
  // an unknown kid while the key set cools down is answered 503 ("try again"), which would send the
  // client round in circles instead of telling it the token is not for this gateway.
  const iss = claimedIssuer(token);
  if (iss !== undefined && iss !== expectations.issuer) {
    throw invalidToken(`iss mismatch (got ${show(iss)}, expected ${show(expectations.issuer)})`);
  }
  let payload: JWTPayload;
  let header: ProtectedHeaderParameters;
  try {
    ({ payload, protectedHeader: header } = await jwtVerify(token, getKey, {
      algorithms: [...ALLOWED_ALGORITHMS],
      issuer: expectations.issuer,
      requiredClaims: ["exp", "sub"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now),
    }));
  } catch (err) {
    throw toGatewayError(err, token, expectations, now);
  }
  const verified = readClaims(payload, header, expectations);
  if (typeof verified === "string") throw invalidToken(verified);
  return verified;
}

/**
 * The MCP SDK's view of a verified token, bound to the gateway's resource URL.
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 */
export function toAuthInfo(verified: VerifiedToken, token: string, resourceUrl: string | URL): AuthInfo {
  return {
    token,
    clientId: verified.clientId,
    scopes: [...verified.scopes],
    expiresAt: verified.expiresAt,
    resource: new URL(resourceUrl),
    extra: { subject: verified.subject, issuer: verified.issuer },
  };
}
