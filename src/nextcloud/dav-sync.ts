// WebDAV collection synchronisation (RFC 6578): what changed in one collection of a user's DAV tree
// since a sync token, as member names with their ETags and the names removed. Calendars and address
// books (Nextcloud's Sabre, Radicale) support it; the token is opaque and kept by the caller.
import { childOf, DAV_NS, davRequest, hrefNames, parseMultistatus, parseXml, propOf } from "./dav.ts";
import { NextcloudError } from "./errors.ts";
import type { DavTree } from "./guard.ts";
import { davRoot } from "./guard.ts";
import type { NextcloudClientOptions } from "./http.ts";

/** What changed in a collection since a token. */
export interface SyncChanges {
  /** The token to send next time. */
  token: string;
  /** Members added or changed (every member when synced from no token), with their ETags. */
  changed: { name: string; etag: string | null }[];
  /** Members removed since the token. */
  removed: string[];
}

/** A collection as `syncCollection` finds it. */
export type SyncResult =
  | ({ status: "ok" } & SyncChanges)
  /** The server no longer knows the token (403/409 DAV:valid-sync-token): sync again from none. */
  | { status: "invalid_token" }
  /** The collection is not there (404), or no longer readable without a token (403). */
  | { status: "gone" };

/** Rounds of a truncated answer (507 on the collection) followed before giving up. */
const MAX_ROUNDS = 100;

const body = (token: string) =>
  `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:">` +
  `<d:sync-token>${token.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`)}</d:sync-token>` +
  `<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`;

/**
 * The changes of one collection (`path` below the user's root in `tree`) since `token` ("" for all
 * members), following truncated answers (RFC 6578 §3.6) until complete.
 * @see https://www.rfc-editor.org/rfc/rfc6578#section-3.2
 */
export async function syncCollection(
  client: NextcloudClientOptions,
  o: {
    tree: DavTree;
    uid: string;
    path: readonly string[];
    token: string;
    what: string;
    signal?: AbortSignal;
  },
): Promise<SyncResult> {
  const root = davRoot(o.tree, o.uid);
  const changed = new Map<string, string | null>();
  const removed = new Set<string>();
  let token = o.token;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const res = await davRequest(client, {
      method: "REPORT",
      tree: o.tree,
      uid: o.uid,
      path: o.path,
      collection: true,
      what: o.what,
      depth: "0",
      contentType: "application/xml; charset=utf-8",
      body: body(token),
      accept: [207, 403, 404, 409],
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    if (res.status === 404) return { status: "gone" };
    if (res.status === 403 || res.status === 409) {
      return token === "" ? { status: "gone" } : { status: "invalid_token" };
    }
    const text = res.text();
    const next = childOf(parseXml(text), DAV_NS, "sync-token")?.text.trim() ?? "";
    let truncated = false;
    for (const r of parseMultistatus(text)) {
      const names = hrefNames(client.baseUrl, root, r.href);
      if (names === undefined) continue;
      const own = names.length === o.path.length && names.every((n, i) => n === o.path[i]);
      if (own) {
        if (r.status === 507) truncated = true;
        continue;
      }
      const name = names[o.path.length];
      if (names.length !== o.path.length + 1 || name === undefined) continue;
      if (!o.path.every((p, i) => names[i] === p)) continue;
      if (r.status === 404) {
        removed.add(name);
        changed.delete(name);
      } else {
        removed.delete(name);
        changed.set(name, propOf(r, DAV_NS, "getetag")?.text.trim() || null);
      }
    }
    if (next === "") {
      throw new NextcloudError(
        "bad_response",
        `Nextcloud answered the sync of ${o.what} without a sync token.`,
      );
    }
    token = next;
    if (!truncated) {
      return {
        status: "ok",
        token,
        changed: [...changed].map(([name, etag]) => ({ name, etag })),
        removed: [...removed],
      };
    }
  }
  return { status: "invalid_token" };
}
