// The typed Nextcloud client: OCS, the DAV layer and WebDAV files, the Notes API, capabilities and the bearer probe,
// one error model (NextcloudError) and bounded HTTP. It takes a token source and knows nothing
// about token exchange; the caller supplies the user's Nextcloud-audience token.
import {
  CapabilitiesCache,
  fetchCurrentUser,
  type Capabilities,
  type NextcloudUser,
} from "./capabilities.ts";
import type { NextcloudClientOptions } from "./http.ts";
import { NotesClient } from "./notes.ts";
import { ocsRequest, type OcsCallOptions } from "./ocs.ts";
import { ProbeCache, type BearerProbe } from "./probe.ts";
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
export { errorFromResponse, NextcloudError, parseRetryAfter, type NextcloudErrorKind } from "./errors.ts";
export { send, type NextcloudClientOptions, type NextcloudRequest, type NextcloudResponse } from "./http.ts";
export { NotesClient, type ListNotesOptions, type Note, type NotePatch, type NotesPage } from "./notes.ts";
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
export { probeBearer, ProbeCache, type BearerProbe, type ProbeOutcome } from "./probe.ts";
export { WebDavClient, type FileInfo, type FilePage } from "./webdav.ts";

/** Caches shared by every client of the process (probes per instance; capabilities see capabilities.ts). */
const sharedCapabilities = new CapabilitiesCache();
const sharedProbes = new ProbeCache();

/** One user's view of one Nextcloud. */
export interface NextcloudClient {
  readonly options: NextcloudClientOptions;
  ocs(method: "GET" | "POST" | "PUT" | "DELETE", route: string, o?: OcsCallOptions): Promise<unknown>;
  /** The capabilities as this user sees them (apps and app settings are per user); cached per user. */
  capabilities(): Promise<Capabilities>;
  /** The signed-in user from OCS cloud/user (the real uid, possibly hashed by user_oidc); cached. */
  user(): Promise<NextcloudUser>;
  /** Which route classes accept bearer tokens, cached per base URL. */
  probe(): Promise<BearerProbe>;
  readonly files: WebDavClient;
  readonly notes: NotesClient;
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
  caches: { capabilities?: CapabilitiesCache; probes?: ProbeCache } = {},
): NextcloudClient {
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
  return {
    options,
    ocs: (method, route, o) => ocsRequest(options, method, route, o),
    capabilities: async () =>
      (caches.capabilities ?? sharedCapabilities).get(options, options.userKey ?? `uid:${await userId()}`),
    user: getUser,
    probe: async () => (caches.probes ?? sharedProbes).get(options, await userId()),
    files: new WebDavClient(options, userId),
    notes: new NotesClient(options),
  };
}
