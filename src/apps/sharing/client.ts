// The OCS Share API v1 and the sharee search over the transport's OCS call, with Nextcloud's own
// refusal messages (the share manager's words are meant for users) passed on to the model.
import {
  NextcloudError,
  normalizePath,
  pathProblem,
  pathRefused,
  type NextcloudClient,
} from "../../nextcloud/index.ts";
import { reword } from "../../mcp/index.ts";
import { policyOf, shareOf, shareesOf, type Share, type Sharee, type SharingPolicy } from "./model.ts";

const API = "apps/files_sharing/api/v1";

/** A user path for the Share API ("/Documents/a.md"), refused before any request when it could escape. */
export function sharePath(raw: string): string {
  const problem = pathProblem(raw);
  if (problem !== undefined) throw pathRefused("path", raw, problem);
  return normalizePath(raw);
}

/** What Nextcloud said when it refused (its OCS message), if it said anything. */
export function nextcloudSaid(err: NextcloudError): string | undefined {
  const said = err.detail?.replace(/^Nextcloud said: /, "");
  return said === undefined || said === err.detail ? undefined : said;
}

/**
 * Runs a Share API call; a refusal (400, 403, 404) becomes an error carrying Nextcloud's reason and
 * the `hint` for the situations a tool can explain better (keyed by a phrase of Nextcloud's message).
 */
async function refusals<T>(call: Promise<T>, what: string, hints: Record<string, string> = {}): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (!(err instanceof NextcloudError) || err.httpStatus === undefined) throw err;
    if (err.httpStatus < 400 || err.httpStatus >= 500 || err.httpStatus === 401) throw err;
    const said = nextcloudSaid(err);
    if (said === undefined) throw err;
    const hint = Object.entries(hints).find(([phrase]) => said.includes(phrase))?.[1];
    throw reword(err, hint ?? `Nextcloud refused to ${what}: ${said}. Nothing was changed.`);
  }
}

const records = (data: unknown): Record<string, unknown>[] =>
  Array.isArray(data) ? (data as Record<string, unknown>[]) : [];

/** The sharing policy as this user's capabilities state it. */
export async function sharingPolicy(nc: NextcloudClient): Promise<SharingPolicy> {
  return policyOf((await nc.capabilities()).raw);
}

/** Which shares `GET /shares` returns. */
export interface ShareQuery {
  path?: string;
  sharedWithMe?: boolean;
  reshares?: boolean;
  subfiles?: boolean;
}

/**
 * `GET /shares`: the user's shares, those of a path, of a folder's items (subfiles), or the shares
 * others made with the user (sharedWithMe). Nextcloud does not page this list.
 * @see https://docs.nextcloud.com/server/latest/developer_manual/client_apis/OCS/ocs-share-api.html
 */
export async function listShares(nc: NextcloudClient, q: ShareQuery, signal: AbortSignal): Promise<Share[]> {
  const params: Record<string, string> = {};
  if (q.path !== undefined) params.path = q.path;
  if (q.sharedWithMe === true) params.shared_with_me = "true";
  if (q.reshares === true) params.reshares = "true";
  if (q.subfiles === true) params.subfiles = "true";
  const data = await refusals(
    nc.ocs("GET", `${API}/shares`, { params, what: "the shares", signal }),
    "list the shares",
    {
      "Wrong path": `No file or folder at ${q.path ?? "/"}; use files_list to see what is there.`,
      "Not a directory": `${q.path ?? "/"} is a file; subfiles lists the shares of a folder's items.`,
    },
  );
  return records(data).map(shareOf);
}

const noShare = (id: string) =>
  `No share with id ${id} that you can see; sharing_list lists yours (sharedWithMe: the ones you received).`;

/** `GET /shares/{id}` (Nextcloud answers a list of one). */
export async function getShare(nc: NextcloudClient, id: string, signal: AbortSignal): Promise<Share> {
  const data = await refusals(
    nc.ocs("GET", `${API}/shares/${encodeURIComponent(id)}`, { what: `share ${id}`, signal }),
    `read share ${id}`,
    { "Wrong share ID": noShare(id) },
  );
  const first = records(data)[0];
  if (first === undefined) throw new NextcloudError("not_found", noShare(id), { httpStatus: 404 });
  return shareOf(first);
}

/** The body of `POST /shares`; `password` is sent to Nextcloud only. */
export interface NewShare {
  path: string;
  shareType: number;
  shareWith?: string;
  permissions?: number;
  password?: string;
  expireDate?: string;
  note?: string;
  label?: string;
}

/** `POST /shares`. */
export async function createShare(nc: NextcloudClient, body: NewShare, signal: AbortSignal): Promise<Share> {
  const who = body.shareWith ?? "";
  const data = await refusals(
    nc.ocs("POST", `${API}/shares`, { body, what: `sharing ${body.path}`, signal }),
    `share ${body.path}`,
    {
      "Wrong path": `No file or folder at ${body.path}; use files_list to see what is there. Nothing was shared.`,
      "valid account": `No account "${who}"; find the recipient with sharing_find_sharees and pass its shareWith. Nothing was shared.`,
      "valid group": `No group "${who}"; find it with sharing_find_sharees and pass its shareWith. Nothing was shared.`,
      "already shared": `${body.path} is already shared with ${who}; change that share with sharing_update (sharing_list with path shows it).`,
    },
  );
  return shareOf(data as Record<string, unknown>);
}

/** The body of `PUT /shares/{id}`: "" removes a password or an expiry date. */
export interface ShareChange {
  permissions?: number;
  password?: string;
  expireDate?: string;
  note?: string;
}

/** `PUT /shares/{id}`, every change in one request (Nextcloud 17 and later). */
export async function updateShare(
  nc: NextcloudClient,
  id: string,
  change: ShareChange,
  signal: AbortSignal,
): Promise<Share> {
  const data = await refusals(
    nc.ocs("PUT", `${API}/shares/${encodeURIComponent(id)}`, { body: change, what: `share ${id}`, signal }),
    `change share ${id}`,
    {
      "Wrong share ID": noShare(id),
      "incoming shares": `Share ${id} was shared with you; only its owner can change it. Nothing was changed.`,
    },
  );
  return shareOf(data as Record<string, unknown>);
}

/** `DELETE /shares/{id}`; for a share received through a group, it leaves the share. */
export async function deleteShare(nc: NextcloudClient, id: string, signal: AbortSignal): Promise<void> {
  await refusals(
    nc.ocs("DELETE", `${API}/shares/${encodeURIComponent(id)}`, { what: `share ${id}`, signal }),
    `delete share ${id}`,
    {
      "Wrong share ID": noShare(id),
    },
  );
}

/** `GET /sharees`: users, groups and email addresses to share with, found by name. */
export async function findSharees(
  nc: NextcloudClient,
  q: { search: string; itemType: "file" | "folder"; limit: number; lookup: boolean },
  signal: AbortSignal,
): Promise<Sharee[]> {
  const data = await refusals(
    nc.ocs("GET", `${API}/sharees`, {
      params: { search: q.search, itemType: q.itemType, perPage: q.limit, lookup: q.lookup ? 1 : 0 },
      what: "the sharee search",
      signal,
    }),
    "search for recipients",
  );
  return shareesOf(data).slice(0, q.limit);
}
