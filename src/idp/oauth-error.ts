import * as oidc from "openid-client";
import { describeError, GatewayError } from "../errors.ts";

/** An OAuth error answer of the IdP, reduced to what the gateway acts on. */
export interface OAuthErrorAnswer {
  status: number;
  error: string;
  description: string | undefined;
}

/** True when the IdP says it is down or busy (5xx, 429, `temporarily_unavailable`, `server_error`): try later. */
export function idpUnavailable(answer: OAuthErrorAnswer): boolean {
  return (
    answer.status >= 500 ||
    answer.status === 429 ||
    answer.error === "temporarily_unavailable" ||
    answer.error === "server_error"
  );
}

/** `<at>: <status> <error> "<description>"` for the log; the description is cut at 300 characters. */
export function answerDetail(at: string, answer: OAuthErrorAnswer): string {
  return `${at}: ${answer.status} ${answer.error}${answer.description ? ` "${answer.description.slice(0, 300)}"` : ""}`;
}

/** `error "description"`, as the IdP answered (client-authentication answers carry no secret). */
export function answerText(answer: { error: string; description?: string | undefined }): string {
  return `${answer.error}${answer.description ? ` "${answer.description}"` : ""}`;
}

/** Extracts `error`/`error_description` from openid-client's ResponseBodyError; undefined for other failures. */
export function oauthErrorOf(err: unknown): OAuthErrorAnswer | undefined {
  if (err instanceof oidc.ResponseBodyError) {
    return { status: err.status, error: err.error, description: err.error_description };
  }
  return undefined;
}

// A 401 answered with a WWW-Authenticate challenge (client_secret_basic at some IdPs) instead of a body.
export function challengeOf(err: unknown): OAuthErrorAnswer | undefined {
  if (!(err instanceof oidc.WWWAuthenticateChallengeError)) return undefined;
  const parameters = err.cause.find((c) => c.parameters.error !== undefined)?.parameters;
  return {
    status: err.status,
    error: parameters?.error ?? (err.status === 401 ? "invalid_client" : "server_error"),
    description: parameters?.error_description,
  };
}

// The HTTP status of an answer openid-client could not use (5xx bodies, even OAuth JSON, land here).
function unusableStatus(err: unknown): number | undefined {
  if (!(err instanceof oidc.ClientError)) return undefined;
  if (err.code !== "OAUTH_RESPONSE_IS_NOT_CONFORM" && err.code !== "OAUTH_RESPONSE_IS_NOT_JSON")
    return undefined;
  return err.cause instanceof Response ? err.cause.status : undefined;
}

/** True when the IdP could not be reached or did not answer in time, or answered 5xx/429 without an OAuth body. */
export function transportFailure(err: unknown): boolean {
  if (err instanceof oidc.ClientError) {
    if (err.code === "OAUTH_TIMEOUT" || err.code === "OAUTH_ABORT") return true;
    const status = unusableStatus(err);
    if (status !== undefined) return status >= 500 || status === 429;
    return false;
  }
  // fetch rejects with a TypeError for network failures; oauth4webapi's argument errors carry a code.
  if (err instanceof TypeError) {
    const code = (err as { code?: unknown }).code;
    return !(typeof code === "string" && code.startsWith("ERR_INVALID_ARG"));
  }
  return err instanceof DOMException && (err.name === "TimeoutError" || err.name === "AbortError");
}

/**
 * A failure the IdP answered without an OAuth error (or did not answer at all), as the error to
 * throw: `temporarily_unavailable` with `unreachable` for network failures, timeouts and 5xx/429,
 * else `server_error` with `unusable`. `at` names the request for the log.
 */
export function nonOAuthFailure(
  err: unknown,
  at: string,
  unreachable: string,
  unusable: string,
): GatewayError {
  const status = unusableStatus(err);
  const detail = `${at}: ${status === undefined ? "" : `${status} `}${describeError(err)}`;
  return transportFailure(err)
    ? new GatewayError("temporarily_unavailable", unreachable, { detail, cause: err })
    : new GatewayError("server_error", unusable, { detail, cause: err });
}
