// The transport every app shares: bounded HTTP, OCS, the DAV layer and WebDAV files, capabilities,
// the route probe, the path rules and the one guard, and one error model (NextcloudError). It takes a token source
// and knows nothing about token exchange; the caller supplies the user's Nextcloud-audience token.
import {
  CapabilitiesCache,
  fetchCurrentUser,
  type Capabilities,
  type NextcloudUser,
} from "./capabilities.ts";
import type { NextcloudClientOptions } from "./http.ts";
import { ocsRequest, type OcsCallOptions } from "./ocs.ts";
import { expectedByVersion, RouteProbe, type RouteClass } from "./routes.ts";
import { WebDavClient } from "./webdav.ts";

export {
  CapabilitiesCache,
  fetchCapabilities,
  fetchCurrentUser,
  type Capabilities,
  type NextcloudUser,
} from "./capabilities.ts";
export {
  childOf,
  clark,
  DAV_NS,
  davMultistatus,
  davRequest,
  hrefNames,
  NC_NS,
  OC_NS,
  parseMultistatus,
  parseXml,
  propOf,
  type DavPropstat,
  type DavRequest,
  type DavResponse,
  type XmlElement,
} from "./dav.ts";
export { syncCollection, type SyncChanges, type SyncResult } from "./dav-sync.ts";
export {
  bearerRefused,
  errorFromResponse,
  NextcloudError,
  parseRetryAfter,
  type NextcloudErrorKind,
} from "./errors.ts";
export { send, type NextcloudClientOptions, type NextcloudRequest, type NextcloudResponse } from "./http.ts";
export { ocsRequest, type OcsCallOptions } from "./ocs.ts";
export {
  davRoot,
  guardRequest,
  pathRefused,
  refusedRequests,
  type DavTree,
  type RefusalReason,
} from "./guard.ts";
export {
  encodePath,
  encodeSegments,
  MAX_PATH_LENGTH,
  MAX_SEGMENT_LENGTH,
  normalizePath,
  pathProblem,
  pathSegments,
  segmentProblem,
} from "./paths.ts";
export {
  expectedByVersion,
  ROUTE_RECHECK_MS,
  RouteProbe,
  type RouteClass,
  type RouteVerdict,
} from "./routes.ts";
export { WebDavClient, type FileInfo, type FilePage } from "./webdav.ts";

/** The capabilities cache shared by every client of the process (see capabilities.ts). */
const sharedCapabilities = new CapabilitiesCache();
/** The route probe shared by every client of the process (see routes.ts). */
const sharedRoutes = new RouteProbe();

/** One user's view of one Nextcloud. */
export interface NextcloudClient {
  readonly options: NextcloudClientOptions;
  ocs(method: "GET" | "POST" | "PUT" | "DELETE", route: string, o?: OcsCallOptions): Promise<unknown>;
  /** The capabilities as this user sees them (apps and app settings are per user); cached per user. */
  capabilities(): Promise<Capabilities>;
  /** The signed-in user from OCS cloud/user (the real uid, possibly hashed by user_oidc); cached. */
  user(): Promise<NextcloudUser>;
  /** The user's uid for DAV paths: the one the client was made with, else user()'s (no request then). */
  userId(): Promise<string>;
  /** The user's files over WebDAV (the files app, and the notes app without its API). */
  readonly files: WebDavClient;
  /**
   * Whether to try a route class now (routes.ts): false while this instance's last refusal is fresh,
   * and, before anything was learnt, when its version refuses the class (Nextcloud 30 and older on
   * `#[CORS]` routes). Requests record what they learn (`routeClass` on a request, or any refusal).
   */
  routeUsable(routeClass: RouteClass): Promise<boolean>;
}

/**
 * Creates a client. `userId` may be given when already known (e.g. cached by the caller);
 * otherwise it is read once from OCS cloud/user.
 * @see https://docs.nextcloud.com/server/latest/developer_manual/client_apis/
 */
export function createNextcloudClient(
  options: NextcloudClientOptions & {
    userId?: string;
    onUser?: (user: NextcloudUser) => void;
    /** A stable key of the token's user for per-user caches (e.g. the token subject); the uid otherwise. */
    userKey?: string;
  },
  caches: { capabilities?: CapabilitiesCache } = {},
): NextcloudClient {
  const routes = options.routes ?? sharedRoutes;
  options = { ...options, routes };
  let user: Promise<NextcloudUser> | undefined;
  const getUser = (): Promise<NextcloudUser> => {
    user ??= fetchCurrentUser(options).then((u) => {
      options.onUser?.(u);
      return u;
    });
    user.catch(() => {
      user = undefined;
    });
    return user;
  };
  const userId = async (): Promise<string> => options.userId ?? (await getUser()).id;
  const capabilities = async () =>
    (caches.capabilities ?? sharedCapabilities).get(options, options.userKey ?? `uid:${await userId()}`);
  return {
    options,
    ocs: (method, route, o) => ocsRequest(options, method, route, o),
    capabilities,
    user: getUser,
    userId,
    files: new WebDavClient(options, userId),
    async routeUsable(routeClass) {
      if (!routes.known(options.baseUrl, routeClass)) {
        // The version is read once per instance (capabilities are cached); unreadable: try the route.
        const major = await capabilities().then(
          (c) => c.version.major,
          () => undefined,
        );
        if (major !== undefined && expectedByVersion(routeClass, major) === "refused") {
          routes.record(options.baseUrl, routeClass, "refused", `Nextcloud ${String(major)} refuses it`);
        }
      }
      return routes.shouldTry(options.baseUrl, routeClass);
    },
  };
}
