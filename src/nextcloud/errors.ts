// One error model for every Nextcloud call: HTTP statuses (and OCS status codes) become a
// NextcloudError, a GatewayError whose description tells the user what to do next.
import { GatewayError, type GatewayErrorCode } from "../errors.ts";

/** What went wrong, as a closed set the tools can branch on. */
export type NextcloudErrorKind =
  | "unauthorized"
  | "bearer_refused"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "precondition_failed"
  | "locked"
  | "rate_limited"
  | "maintenance"
  | "quota"
  | "unavailable"
  | "timeout"
  | "too_large"
  | "invalid_path"
  | "bad_response";

/** A failed Nextcloud call; `current` carries the server's version of a resource after a 412. */
export class NextcloudError extends GatewayError {
  readonly kind: NextcloudErrorKind;
  /** The HTTP status Nextcloud answered with, when it answered. */
  readonly httpStatus: number | undefined;
  /** How long Nextcloud asked us to wait (Retry-After), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** The current server version of the resource (Notes API 412 body), when known. */
  readonly current: unknown;

  constructor(
    kind: NextcloudErrorKind,
    description: string,
    options: {
      httpStatus?: number;
      retryAfterMs?: number;
      current?: unknown;
      detail?: string;
      cause?: unknown;
    } = {},
  ) {
    const [code, status] = CODES[kind];
    super(code, description, {
      status,
      ...(options.detail === undefined ? {} : { detail: options.detail }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = "NextcloudError";
    this.kind = kind;
    this.httpStatus = options.httpStatus;
    this.retryAfterMs = options.retryAfterMs;
    this.current = options.current;
  }
}

const CODES: Record<NextcloudErrorKind, [GatewayErrorCode, number]> = {
  unauthorized: ["invalid_token", 401],
  bearer_refused: ["access_denied", 403],
  forbidden: ["access_denied", 403],
  not_found: ["invalid_request", 404],
  conflict: ["invalid_request", 409],
  precondition_failed: ["invalid_request", 412],
  locked: ["temporarily_unavailable", 423],
  rate_limited: ["temporarily_unavailable", 429],
  maintenance: ["temporarily_unavailable", 503],
  quota: ["invalid_request", 507],
  unavailable: ["temporarily_unavailable", 502],
  timeout: ["temporarily_unavailable", 504],
  too_large: ["invalid_request", 413],
  invalid_path: ["invalid_request", 400],
  bad_response: ["server_error", 502],
};

/**
 * `Retry-After` (RFC 9110 §10.2.3) in milliseconds: delay-seconds or an HTTP date.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Maps a Nextcloud HTTP answer to a NextcloudError. `what` names the resource for the message
 * (e.g. `file "/a.txt"`); `message` is Nextcloud's own message when it sent one.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-15
 */
export function errorFromResponse(
  status: number,
  headers: Headers,
  what: string,
  options: { message?: string; current?: unknown } = {},
): NextcloudError {
  const retryAfterMs = parseRetryAfter(headers.get("retry-after"));
  const base = {
    httpStatus: status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(options.message === undefined ? {} : { detail: `Nextcloud said: ${options.message}` }),
  };
  const wait = retryAfterMs === undefined ? "" : ` Try again in ${String(Math.ceil(retryAfterMs / 1000))} s.`;
  switch (status) {
    case 401:
      if (options.message?.includes("CORS requires basic auth")) return bearerRefused(what, base);
      return new NextcloudError(
        "unauthorized",
        `Nextcloud did not accept your sign-in for ${what}. Sign in again; if it keeps happening, the administrator must enable bearer tokens in user_oidc (--check-bearer=1) and check its client id.`,
        base,
      );
    case 403:
      return new NextcloudError("forbidden", `You do not have permission for ${what} in Nextcloud.`, base);
    case 404:
      // "Nextcloud did not find …" reads right for "the capabilities" and "your notes" alike.
      return new NextcloudError("not_found", `Nextcloud did not find ${what}.`, base);
    case 405:
    case 409:
      return new NextcloudError(
        "conflict",
        `${capital(what)} conflicts with what is in Nextcloud (for example a missing parent folder or an existing item).`,
        base,
      );
    case 412:
      return new NextcloudError(
        "precondition_failed",
        `${capital(what)} was changed in Nextcloud since you read it, or the target already exists; nothing was changed. Read it again and retry.`,
        { ...base, ...(options.current === undefined ? {} : { current: options.current }) },
      );
    case 413:
      return new NextcloudError("too_large", `${capital(what)} is too large for Nextcloud.`, base);
    case 423:
      return new NextcloudError(
        "locked",
        `${capital(what)} is locked in Nextcloud by someone else.${wait}`,
        base,
      );
    case 429:
      return new NextcloudError(
        "rate_limited",
        `Nextcloud is rate limiting requests.${wait || " Try again later."}`,
        base,
      );
    case 507:
      return new NextcloudError(
        "quota",
        `Your Nextcloud storage quota is exhausted; free some space for ${what}.`,
        base,
      );
    default:
      if (status === 503 && headers.get("x-nextcloud-maintenance-mode") === "1") {
        return new NextcloudError(
          "maintenance",
          `Nextcloud is in maintenance mode.${wait || " Try again later."}`,
          base,
        );
      }
      if (status >= 500) {
        return new NextcloudError(
          "unavailable",
          `Nextcloud failed (${String(status)}) on ${what}.${wait}`,
          base,
        );
      }
      return new NextcloudError("bad_response", `Nextcloud refused ${what} (${String(status)}).`, base);
  }
}

/**
 * The refusal of a single-sign-on (bearer) token on a `#[CORS]` app route (Notes API, Deck, Tables
 * v1): Nextcloud's CORSMiddleware answered 401 "CORS requires basic auth". The description names the
 * fix for the administrator; tools branch on `kind === "bearer_refused"`.
 * @see https://github.com/nextcloud/server/pull/46760
 */
export function bearerRefused(
  what: string,
  options: { httpStatus?: number; retryAfterMs?: number; detail?: string } = {},
): NextcloudError {
  return new NextcloudError(
    "bearer_refused",
    `Nextcloud refused your single-sign-on token for ${what}, an app route. Nextcloud accepts these tokens on app routes only from version 31, and only when the "OCS-APIRequest: true" header reaches it (the gateway always sends it). Tell the Nextcloud administrator: on Nextcloud 31 or later, make sure no reverse proxy or load balancer strips the OCS-APIRequest header; on Nextcloud 30 or older, upgrade to 31 or later, or apply user_oidc PR 1221 or server PR 55878.`,
    { httpStatus: options.httpStatus ?? 401, ...options },
  );
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
