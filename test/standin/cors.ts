// Nextcloud's CORSMiddleware::beforeController on `#[CORS]` app routes (Notes API, Deck, Tables v1),
// modelled on nextcloud/server lib/private/AppFramework/Middleware/Security/CORSMiddleware.php and
// lib/private/AppFramework/Http/Request.php (passesCSRFCheck, passesStrictCookieCheck):
//
// 1. A `#[PublicPage]` route without a logged-in session is not checked.
// 2. `Request::passesCSRFCheck()` true: the request goes on (to SecurityMiddleware, which answers
//    "Current user is not logged in" when nobody is).
//    - Nextcloud 31 and later (nextcloud/server PR 46760): true when the strict cookie check passes
//      and the `OCS-APIRequest` header is non-empty (any value, "false" and "0" included). The strict
//      cookie check is a no-op when the header is PHP-truthy (not "" nor "0") or when the request
//      carries neither the session cookie nor `nc_token`; otherwise it needs the
//      `nc_sameSiteCookiestrict` and `nc_sameSiteCookielax` cookies set to "true".
//    - Nextcloud 30 and older: true only with a valid CSRF token (`requesttoken`), which belongs to
//      a browser session a bearer client never has: false here.
// 3. A session flagged `app_api` goes on (what user_oidc PR 1221 sets for bearer logins).
// 4. Otherwise the session is logged out and, without basic credentials (a bearer request has none),
//    the answer is 401 {"message":"CORS requires basic auth"}.
//
// The mode says what reaches Nextcloud: "honour-header" passes the request's headers as they are;
// "strict" stands for a proxy that strips `OCS-APIRequest` (the header never reaches Nextcloud).
import type { IncomingMessage } from "node:http";

export type CorsMode = "honour-header" | "strict";

/** The session cookie's name (PHP's session_name(), Nextcloud's instance id) in the stand-in. */
export const STANDIN_SESSION_COOKIE = "ocstandin0001";

/** What CORSMiddleware looks at besides the request. */
export interface CorsContext {
  /** The Nextcloud major version the stand-in reports. */
  major: number;
  mode: CorsMode;
  /** A valid bearer token logged a user in for this request. */
  loggedIn: boolean;
  /** The controller method is also `#[PublicPage]`. */
  publicPage?: boolean;
  /** The bearer session is flagged `app_api` (user_oidc PR 1221 applied). */
  appApiSession?: boolean;
}

/** The value of a header as PHP's `$_SERVER` sees it ("" when absent; repeated headers joined). */
function header(req: IncomingMessage, name: string, mode: CorsMode): string {
  if (mode === "strict" && name === "ocs-apirequest") return "";
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : (value ?? "");
}

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0) out.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return out;
}

/** PHP's truthiness of a string: "" and "0" are false. */
const phpTruthy = (s: string) => s !== "" && s !== "0";

/** Request::passesStrictCookieCheck() (the stand-in serves plain http, so no `__Host-` prefix). */
function passesStrictCookieCheck(req: IncomingMessage, mode: CorsMode): boolean {
  const jar = cookies(req);
  const required =
    !phpTruthy(header(req, "ocs-apirequest", mode)) &&
    (jar.has(STANDIN_SESSION_COOKIE) || jar.has("nc_token"));
  if (!required) return true;
  return jar.get("nc_sameSiteCookiestrict") === "true" && jar.get("nc_sameSiteCookielax") === "true";
}

/** Request::passesCSRFCheck() for a request without a valid CSRF token. */
export function passesCsrfCheck(req: IncomingMessage, major: number, mode: CorsMode): boolean {
  if (major < 31) return false;
  if (!passesStrictCookieCheck(req, mode)) return false;
  return header(req, "ocs-apirequest", mode) !== "";
}

/** Whether CORSMiddleware answers 401 "CORS requires basic auth" to a request to a `#[CORS]` route. */
export function corsRefuses(req: IncomingMessage, ctx: CorsContext): boolean {
  if (ctx.publicPage === true && !ctx.loggedIn) return false;
  if (passesCsrfCheck(req, ctx.major, ctx.mode)) return false;
  if (ctx.loggedIn && ctx.appApiSession === true) return false;
  return true;
}

/**
 * Whether a bearer-authenticated request to a `#[CORS]` route is refused, on Nextcloud 31 (the
 * stand-in's default version) without the user_oidc patch.
 */
export function corsRefusesBearer(req: IncomingMessage, mode: CorsMode, major = 31): boolean {
  return corsRefuses(req, { major, mode, loggedIn: true });
}

/** The major version of a version string such as "30.0.12" or "31.0.9.1". */
export function majorOf(version: string): number {
  const major = Number(/^(\d+)\./.exec(version)?.[1]);
  if (!Number.isInteger(major)) throw new Error(`not a Nextcloud version: "${version}"`);
  return major;
}
