// The one guard in front of every request to Nextcloud: the final URL (after URL resolution) is on
// the configured origin and base path, in canonical form, and a request into a per-user DAV tree
// stays under the root it declared; the same for a `Destination` header. Refusals are counted.
import { NextcloudError } from "./errors.ts";
import { encodeSegments, segmentProblem } from "./paths.ts";

/** Why a request was refused before it was sent (the `reason` label of the refusal counter). */
export type RefusalReason = "bad_path" | "off_origin" | "bad_segment" | "outside_root" | "no_root";

/** The per-user DAV trees of Nextcloud's `/remote.php/dav` (RFC 4918, 4791, 6352 collections). */
export type DavTree = "files" | "calendars" | "addressbooks" | "trashbin" | "versions" | "uploads";

const refusals: Record<RefusalReason, number> = {
  bad_path: 0,
  off_origin: 0,
  bad_segment: 0,
  outside_root: 0,
  no_root: 0,
};

/** How many requests this process refused to send, by reason (for /metrics). */
export function refusedRequests(): Readonly<Record<RefusalReason, number>> {
  return { ...refusals };
}

/**
 * Counts and returns the refusal of a user-supplied path by the segment rules (paths.ts), before any
 * URL is built: `The <field> "<raw>" <problem>; nothing was done.`
 */
export function pathRefused(field: string, raw: string, problem: string): NextcloudError {
  refusals.bad_path++;
  return new NextcloudError(
    "invalid_path",
    `The ${field} ${JSON.stringify(raw)} ${problem}; nothing was done.`,
  );
}

/**
 * The root of one user's DAV tree below the base path, e.g. "/remote.php/dav/files/alice" or
 * "/remote.php/dav/addressbooks/users/alice".
 * @see https://docs.nextcloud.com/server/latest/developer_manual/client_apis/WebDAV/basic.html
 */
export function davRoot(tree: DavTree, uid: string): string {
  return `/remote.php/dav${tree === "addressbooks" ? "/addressbooks/users" : `/${tree}`}${encodeSegments([uid])}`;
}

/** A pathname (below the base path) inside some user's DAV tree, including the legacy /webdav. */
const USER_TREE =
  /^\/remote\.php\/(?:webdav(?:\/|$)|dav\/(?:files|calendars|addressbooks|trashbin|versions|uploads)(?:\/|$))/i;
/** The shape of a root made by davRoot. */
const ROOT_SHAPE =
  /^\/remote\.php\/dav\/(?:(?:files|calendars|trashbin|versions|uploads)|addressbooks\/users)\/[^/]+$/;

/** What the guard needs of a request. */
export interface GuardedRequest {
  /** Path below the base URL, starting with "/", with its query string. */
  path: string;
  /** For a request into a per-user DAV tree: the root it must stay under (from davRoot). */
  root?: string;
  headers?: Record<string, string>;
  what: string;
}

/**
 * Checks a request and returns the URL to send it to. Refuses (NextcloudError "invalid_path",
 * counted) a URL that resolves off the configured origin or base path, that URL resolution would
 * change (dot segments, backslashes, "//"), whose decoded segments hold a separator or dot segment,
 * a request into a per-user DAV tree that declared no root or leaves it, and a `Destination` that
 * does any of these.
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-5.2.4
 */
export function guardRequest(baseUrl: string, req: GuardedRequest): URL {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const url = checkUrl(base, basePath, req.path, req.what, "request");
  const rel = url.pathname.slice(basePath.length);
  if (req.root === undefined) {
    if (USER_TREE.test(rel)) {
      throw refuse(
        "no_root",
        req.what,
        "the request goes into a user's DAV tree without saying whose root it must stay under",
      );
    }
  } else {
    if (!ROOT_SHAPE.test(req.root))
      throw refuse("no_root", req.what, `"${req.root}" is not a user's DAV root`);
    if (!under(url.pathname, basePath + req.root)) {
      throw refuse("outside_root", req.what, "the path leaves your own Nextcloud folder");
    }
  }
  const destination = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === "destination")?.[1];
  if (destination !== undefined) {
    if (req.root === undefined) {
      throw refuse("no_root", req.what, "a Destination is only allowed inside a user's DAV tree");
    }
    const target = checkUrl(base, basePath, destination, req.what, "destination");
    if (!under(target.pathname, basePath + req.root)) {
      throw refuse("outside_root", req.what, "the destination leaves your own Nextcloud folder");
    }
  }
  return url;
}

const under = (pathname: string, root: string) => pathname === root || pathname.startsWith(`${root}/`);

/** The resolved URL of `raw` (a path below the base path, or for a Destination an absolute URL). */
function checkUrl(base: URL, basePath: string, raw: string, what: string, role: string): URL {
  let expected: string;
  if (role === "destination" && /^[a-z][a-z0-9+.-]*:/i.test(raw)) {
    expected = raw;
  } else if (raw.startsWith("/")) {
    expected = `${base.origin}${basePath}${raw}`;
  } else {
    throw refuse("bad_segment", what, `the ${role} path does not start with "/"`);
  }
  let url: URL;
  try {
    url = new URL(expected);
  } catch {
    throw refuse("bad_segment", what, `the ${role} is not a valid URL`);
  }
  if (url.origin !== base.origin || !(url.pathname === basePath || url.pathname.startsWith(`${basePath}/`))) {
    throw refuse("off_origin", what, `the ${role} leaves the configured Nextcloud`);
  }
  // URL resolution must change nothing: no dot segments removed, no "\" turned into "/", no "#".
  if (url.href !== expected || url.hash !== "") {
    throw refuse("bad_segment", what, `the ${role} is not in canonical form (dot segments or backslashes)`);
  }
  const segs = url.pathname.split("/").slice(1);
  for (const [i, seg] of segs.entries()) {
    if (seg === "" && i === segs.length - 1) continue; // a collection's trailing slash
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      throw refuse("bad_segment", what, `the ${role} has a malformed percent-escape`);
    }
    const problem = segmentProblem(decoded);
    if (problem !== undefined) {
      throw refuse("bad_segment", what, `a name in the ${role} ${problem}`);
    }
  }
  return url;
}

function refuse(reason: RefusalReason, what: string, why: string): NextcloudError {
  refusals[reason]++;
  return new NextcloudError(
    "invalid_path",
    `The gateway refused to send the request for ${what}: ${why}. Nothing was sent to Nextcloud; use a path inside your own files, e.g. "/Documents/a.md".`,
    { detail: `guard: ${reason}` },
  );
}
