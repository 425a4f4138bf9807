// Which route classes of a Nextcloud instance take bearer tokens, learnt per instance: a refusal is
// remembered for a bounded time (then the route is tried once more, so an instance upgraded or
// patched later is noticed), and the version can say so before the first request. Only `#[CORS]`
// app routes (Notes API, Deck, Tables v1) differ between instances: OCS and DAV take bearer tokens
// wherever user_oidc validates them. See docs/nextcloud-compatibility.md and ADR 0016.
import { BoundedCache } from "../cache.ts";

/** A class of Nextcloud routes whose acceptance of bearer tokens depends on the instance. */
export type RouteClass = "cors-app-route";

/** How long a refusal is trusted before the route is tried again. */
export const ROUTE_RECHECK_MS = 10 * 60_000;

/** What is known of a route class on one instance. */
export interface RouteVerdict {
  state: "accepted" | "refused" | "unknown";
  /** Why, for logs and `check`: "refused by Nextcloud", "Nextcloud 30 refuses…". */
  reason?: string;
  /** When the route is tried again (refused only), in milliseconds since the epoch. */
  recheckAt?: number;
}

interface Entry {
  state: "accepted" | "refused";
  at: number;
  reason: string;
}

/**
 * Whether Nextcloud `major` accepts bearer tokens on a route class, by its sources: on `#[CORS]`
 * routes `Request::passesCSRFCheck()` accepts the `OCS-APIRequest` header only from Nextcloud 31
 * (nextcloud/server PR 46760); older versions refuse them unless user_oidc or the server is patched.
 */
export function expectedByVersion(routeClass: RouteClass, major: number): "accepted" | "refused" {
  const firstAccepting: Record<RouteClass, number> = { "cors-app-route": 31 };
  return major >= firstAccepting[routeClass] ? "accepted" : "refused";
}

/**
 * Per-instance memory of route classes (one process; each replica learns on its own, which costs
 * each at most one refused request per interval). Keys are base URLs without trailing slashes.
 */
export class RouteProbe {
  readonly recheckMs: number;
  readonly #now: () => number;
  readonly #entries: BoundedCache<string, Entry>;

  constructor(o: { recheckMs?: number; now?: () => number; maxInstances?: number } = {}) {
    this.recheckMs = o.recheckMs ?? ROUTE_RECHECK_MS;
    this.#now = o.now ?? Date.now;
    this.#entries = new BoundedCache({ maxEntries: o.maxInstances ?? 1000 });
  }

  /** What is known; a refusal older than `recheckMs` reads as "unknown" (time to try again). */
  verdict(baseUrl: string, routeClass: RouteClass): RouteVerdict {
    const entry = this.#entries.get(key(baseUrl, routeClass));
    if (entry === undefined) return { state: "unknown" };
    if (entry.state === "accepted") return { state: "accepted", reason: entry.reason };
    const recheckAt = entry.at + this.recheckMs;
    return this.#now() < recheckAt
      ? { state: "refused", reason: entry.reason, recheckAt }
      : { state: "unknown", reason: `${entry.reason}; trying again` };
  }

  /** Whether the route class should be tried now: not while a refusal is fresh. */
  shouldTry(baseUrl: string, routeClass: RouteClass): boolean {
    return this.verdict(baseUrl, routeClass).state !== "refused";
  }

  /** Whether anything was ever recorded for the instance (the version is consulted only before). */
  known(baseUrl: string, routeClass: RouteClass): boolean {
    return this.#entries.get(key(baseUrl, routeClass)) !== undefined;
  }

  /** Records what a request (or the version) showed. */
  record(baseUrl: string, routeClass: RouteClass, state: "accepted" | "refused", reason: string): void {
    this.#entries.set(key(baseUrl, routeClass), { state, at: this.#now(), reason });
  }
}

function key(baseUrl: string, routeClass: RouteClass): string {
  return `${baseUrl.replace(/\/+$/, "")}\n${routeClass}`;
}
