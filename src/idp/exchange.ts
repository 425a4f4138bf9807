import { decodeJwt } from "jose";
import * as oidc from "openid-client";
import { GatewayError, type GatewayErrorCode } from "../errors.ts";
import { tokenEndpointOf, type Idp } from "./discovery.ts";
import {
  answerDetail,
  answerText,
  challengeOf,
  idpUnavailable,
  nonOAuthFailure,
  oauthErrorOf,
} from "./oauth-error.ts";
import { untilAborted } from "../abort.ts";

const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";

/** The token type URI of an access token (RFC 8693 §3). */
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

/** Lifetime assumed for an exchanged token that states none (no `expires_in`, not a JWT with `exp`). */
export const FALLBACK_LIFETIME_SECONDS = 60;

/** What to ask the IdP for: the audience (a client id in Keycloak, an AS audience in Okta) and scopes. */
export interface ExchangeRequest {
  audience: string;
  /** Space-separated scopes, e.g. the client scope whose audience mapper adds `audience`. */
  scope?: string;
}

/** Per-call options of {@link exchangeToken}. */
export interface ExchangeOptions {
  /** Stops waiting for the answer; the request itself stays bounded by the IdP client's timeout. */
  signal?: AbortSignal;
  /** Clock in milliseconds since the epoch, for `expiresAt`. */
  now?: () => number;
}

/** An access token obtained by token exchange. The IdP's other response members are dropped. */
export interface ExchangedToken {
  readonly accessToken: string;
  /** Seconds since the epoch: from `expires_in`, else the JWT's `exp`, else now + 60 s. */
  readonly expiresAt: number;
  readonly issuedTokenType: string;
  /** The scopes granted, when the IdP says. */
  readonly scope?: string;
}

/**
 * Exchanges an access token for one issued to `request.audience` (RFC 8693 standard token exchange),
 * authenticating as the gateway client. Never asks for a refresh token and refuses any answer that is
 * not a bearer access token.
 * @throws GatewayError `temporarily_unavailable` (IdP unreachable, timeout, 5xx, 429), `invalid_token`
 *   (the subject token is no longer valid), `access_denied` (the IdP refuses this client for this
 *   token), `server_error` (a setting of the gateway or the realm is wrong; the description names it).
 *   When `options.signal` aborts first, rejects with its reason instead.
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export async function exchangeToken(
  idp: Idp,
  subjectToken: string,
  request: ExchangeRequest,
  options: ExchangeOptions = {},
): Promise<ExchangedToken> {
  const { signal } = options;
  signal?.throwIfAborted();
  const parameters: Record<string, string> = {
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
    audience: request.audience,
  };
  if (request.scope) parameters.scope = request.scope;
  let response: oidc.TokenEndpointResponse;
  try {
    response = await untilAborted(
      oidc.genericGrantRequest(idp.configuration, TOKEN_EXCHANGE, parameters),
      signal,
    );
  } catch (err) {
    if (signal?.aborted === true && err === signal.reason) throw err;
    throw exchangeFailure(err, idp, request);
  }
  return exchangedToken(response, Math.floor((options.now ?? Date.now)() / 1000), idp);
}

function exchangedToken(response: oidc.TokenEndpointResponse, nowSeconds: number, idp: Idp): ExchangedToken {
  const issuedTokenType = response.issued_token_type;
  if (issuedTokenType !== ACCESS_TOKEN_TYPE || response.token_type !== "bearer") {
    throw new GatewayError(
      "server_error",
      "The identity provider answered the token exchange with something other than a bearer access token; it must issue access tokens to the gateway client.",
      {
        detail: `token exchange at ${tokenEndpointOf(idp)}: issued_token_type ${typeof issuedTokenType === "string" ? issuedTokenType : "(none)"}, token_type ${response.token_type}`,
      },
    );
  }
  return {
    accessToken: response.access_token,
    expiresAt: expiresAt(response, nowSeconds),
    issuedTokenType,
    ...(response.scope === undefined ? {} : { scope: response.scope }),
  };
}

function expiresAt(response: oidc.TokenEndpointResponse, nowSeconds: number): number {
  if (response.expires_in !== undefined) return nowSeconds + Math.floor(response.expires_in);
  try {
    const { exp } = decodeJwt(response.access_token);
    if (typeof exp === "number" && Number.isFinite(exp)) return Math.floor(exp);
  } catch {
    // Not a JWT: an opaque token with no stated lifetime.
  }
  return nowSeconds + FALLBACK_LIFETIME_SECONDS;
}

const UNREACHABLE = "The identity provider is unreachable; try again in a moment.";
const SIGN_IN_AGAIN = "Your sign-in is no longer valid; sign in again.";

/** Classifies a failed exchange; descriptions say what to do and never carry a token. */
function exchangeFailure(err: unknown, idp: Idp, request: ExchangeRequest): GatewayError {
  const at = `token exchange at ${tokenEndpointOf(idp)}`;
  const answer = oauthErrorOf(err) ?? challengeOf(err);
  if (!answer) {
    return nonOAuthFailure(
      err,
      at,
      UNREACHABLE,
      "The identity provider answered the token exchange with something the gateway cannot use; the gateway log has the details.",
    );
  }
  const said = answerDetail(at, answer);
  const fail = (code: GatewayErrorCode, text: string) =>
    new GatewayError(code, text, { detail: said, cause: err });
  const description = answer.description ?? "";
  const clientId = idp.configuration.clientMetadata().client_id;
  const scope = request.scope ?? "nextcloud-audience";

  if (idpUnavailable(answer)) return fail("temporarily_unavailable", UNREACHABLE);
  switch (answer.error) {
    case "access_denied":
      return fail(
        "access_denied",
        `The identity provider refused to exchange the sign-in token for a Nextcloud token: the sign-in token must name the gateway client (${clientId}) in its audience. In Keycloak, the mcp:tools client scope needs an audience mapper for the ${clientId} client; with other IdPs, allow ${clientId} to exchange these tokens in the access policy.`,
      );
    case "invalid_grant":
      return fail("invalid_token", SIGN_IN_AGAIN);
    case "invalid_client":
    case "unauthorized_client":
      if (/audience not found|client disabled/i.test(description))
        return fail("server_error", unknownAudience(request));
      if (/public client/i.test(description)) {
        return fail(
          "server_error",
          `The identity provider does not let the gateway client ${clientId} exchange tokens because it is a public client; OIDC_CLIENT_ID must name a confidential client, with its secret in OIDC_CLIENT_SECRET.`,
        );
      }
      // The IdP's own words (Keycloak, wrong secret: unauthorized_client "Invalid client or Invalid
      // client credentials"): a client-authentication answer carries no secret.
      return fail(
        "server_error",
        `The identity provider refused the gateway's client credentials (${answerText(answer)}); the operator must check OIDC_CLIENT_ID (${clientId}) and OIDC_CLIENT_SECRET.`,
      );
    case "unsupported_grant_type":
      return fail("server_error", notEnabled(clientId));
    case "invalid_scope":
      if (/consent/i.test(description)) {
        return fail(
          "server_error",
          `The identity provider wants consent before the gateway client ${clientId} may exchange tokens; in Keycloak, turn off "Consent required" for ${clientId}.`,
        );
      }
      return fail("server_error", audienceNotAvailable(clientId, request.audience, scope));
    case "invalid_target":
      return fail("server_error", unknownAudience(request));
    case "invalid_request":
      if (/not enabled/i.test(description)) return fail("server_error", notEnabled(clientId));
      if (/audience not available/i.test(description)) {
        return fail("server_error", audienceNotAvailable(clientId, request.audience, scope));
      }
      // RFC 8693 §2.2.2 answers invalid_request for a subject token that is invalid or expired.
      if (/invalid token|expired|session|not active|inactive/i.test(description)) {
        return fail("invalid_token", SIGN_IN_AGAIN);
      }
      break;
  }
  return fail(
    "server_error",
    "The identity provider refused the token exchange for Nextcloud; the gateway log has the details.",
  );
}

function notEnabled(clientId: string): string {
  return `Token exchange is not enabled for the gateway client ${clientId} at the identity provider; in Keycloak, turn on "Standard token exchange" for ${clientId} (client attribute standard.token.exchange.enabled).`;
}

function audienceNotAvailable(clientId: string, audience: string, scope: string): string {
  return `The identity provider cannot issue the gateway client ${clientId} a token for the audience "${audience}"; in Keycloak, ${clientId} needs the ${scope} client scope, with an audience mapper that adds ${audience}.`;
}

function unknownAudience(request: ExchangeRequest): string {
  return `The identity provider knows no enabled client "${request.audience}" to issue Nextcloud tokens for; the audience must be the client id that Nextcloud's user_oidc uses.`;
}
