// Nextcloud's CORSMiddleware on `#[CORS]` app routes (Notes API, Deck, Tables v1), for bearer
// requests: the middleware returns early when `Request::passesCSRFCheck()` is true, otherwise it logs
// the session out and answers 401 "CORS requires basic auth" (no basic credentials are sent).
//
// - "honour-header": Nextcloud 31 and later (nextcloud/server PR 46760): passesCSRFCheck() is true for
//   any request with a non-empty `OCS-APIRequest` header, so bearer requests with it are served.
// - "strict": Nextcloud 30 and older (passesCSRFCheck() needs a CSRF token a bearer client never has),
//   or a proxy in front of 31+ that strips the header: every bearer request is refused.
import type { IncomingMessage } from "node:http";

export type CorsMode = "honour-header" | "strict";

/** Whether a bearer-authenticated request to a `#[CORS]` route is refused with "CORS requires basic auth". */
export function corsRefusesBearer(req: IncomingMessage, mode: CorsMode): boolean {
  if (mode === "strict") return true;
  const header = req.headers["ocs-apirequest"];
  const value = Array.isArray(header) ? header.join("") : (header ?? "");
  return value === "";
}
