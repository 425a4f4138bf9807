// What the calendar, contacts and Deck passes of the content index share: the sink they write to
// (declared here: apps do not import the store), their counts, and the incremental sync of one DAV
// collection (RFC 6578): the changed members fetched in batches, the removed ones dropped, the token
// kept only once everything it covers is in the index; an unknown token starts that collection over;
// and the pass over a DAV home of such collections (calendars, address books).
import {
  NextcloudError,
  syncCollection,
  type DavTree,
  type NextcloudClient,
  type SyncResult,
} from "../../nextcloud/index.ts";

/** The sources kept per collection. */
export type CollectionSource = "calendar" | "tasks" | "contacts" | "deck";

/** One item for the index (the store's IndexedItem for these sources). */
export interface CollectionItem {
  source: CollectionSource;
  /** What the app's tools take: "calendar/object.ics", "book/card.vcf", "board/stack/card". */
  key: string;
  title: string;
  body: string;
  /** The calendar, address book or board (as text) the item is in. */
  container: string;
  etag: string | null;
  modifiedAt: Date | null;
}

/** Where a pass writes, bound to one user (the store's CollectionIndexSink). */
export interface CollectionSink {
  itemsIn(source: CollectionSource, container: string): Promise<Map<string, string | null>>;
  containers(source: CollectionSource): Promise<string[]>;
  upsert(items: readonly CollectionItem[]): Promise<void>;
  remove(source: CollectionSource, keys: readonly string[]): Promise<number>;
  removeContainer(source: CollectionSource, container: string): Promise<number>;
  syncToken(kind: string, scope: string): Promise<string | undefined>;
  setSyncToken(kind: string, scope: string, token: string): Promise<void>;
  forgetSync(kind: string, scope: string): Promise<void>;
  syncScopes(kind: string): Promise<string[]>;
}

/** What a pass did, for job_runs (summed with the file crawl's counts under the same names). */
export type PassCounts = Record<string, number>;

/** Adds `n` to a count. */
export function count(counts: PassCounts, name: string, n = 1): void {
  counts[name] = (counts[name] ?? 0) + n;
}

/** Members fetched per multiget. */
const BATCH = 100;

/** One DAV collection to bring up to date. */
export interface DavCollection {
  /** The sync token's kind in search_sync ("calendar", "contacts"). */
  kind: string;
  /** The sources whose items live in this collection. */
  sources: readonly CollectionSource[];
  /** The collection's name: the items' container and the sync scope. */
  container: string;
  /** sync-collection since a token ("" for every member). */
  sync(token: string): Promise<SyncResult>;
  /** The named members with their data (multiget). */
  fetch(names: readonly string[]): Promise<{ name: string; etag: string | null; data: string }[]>;
  /** The index item of a member; undefined when it holds nothing to index. */
  item(name: string, etag: string | null, data: string): CollectionItem | undefined;
}

/** Removes a collection's items and its token (it was deleted, or can no longer be read). */
export async function dropCollection(
  sink: CollectionSink,
  kind: string,
  sources: readonly CollectionSource[],
  container: string,
  counts: PassCounts,
): Promise<void> {
  for (const source of sources) count(counts, "removed", await sink.removeContainer(source, container));
  await sink.forgetSync(kind, container);
}

/**
 * Brings one collection's items up to date: a sync-collection REPORT since the stored token, a
 * multiget of what changed, the removed members dropped; see the file comment.
 */
export async function syncDavCollection(
  c: DavCollection,
  sink: CollectionSink,
  counts: PassCounts,
  signal?: AbortSignal,
): Promise<void> {
  const stored = (await sink.syncToken(c.kind, c.container)) ?? "";
  count(counts, "requests");
  let result = await c.sync(stored);
  let full = stored === "";
  if (result.status === "invalid_token") {
    count(counts, "resyncs");
    full = true;
    count(counts, "requests");
    result = await c.sync("");
    if (result.status === "invalid_token")
      throw new Error(`${c.container}: the server refuses an empty sync token`);
  }
  if (result.status === "gone") {
    await dropCollection(sink, c.kind, c.sources, c.container, counts);
    return;
  }
  count(counts, "collections");
  const prefix = `${c.container}/`;
  // Every item of this collection, whichever source it is indexed under.
  const known = new Map<string, { source: CollectionSource; etag: string | null }>();
  for (const source of c.sources) {
    for (const [key, etag] of await sink.itemsIn(source, c.container)) known.set(key, { source, etag });
  }
  const gone = new Set(result.removed.map((n) => prefix + n));
  if (full) {
    const listed = new Set(result.changed.map((m) => prefix + m.name));
    for (const key of known.keys()) if (!listed.has(key)) gone.add(key);
  }
  const stale = result.changed.filter((m) => m.etag === null || known.get(prefix + m.name)?.etag !== m.etag);
  for (let i = 0; i < stale.length; i += BATCH) {
    signal?.throwIfAborted();
    const names = stale.slice(i, i + BATCH).map((m) => m.name);
    count(counts, "requests");
    const fetched = await c.fetch(names);
    const got = new Set(fetched.map((f) => f.name));
    // Gone between the sync and the multiget: the next sync reports it removed; drop it now.
    for (const n of names) if (!got.has(n)) gone.add(prefix + n);
    const items: CollectionItem[] = [];
    for (const f of fetched) {
      const item = c.item(f.name, f.etag, f.data);
      const before = known.get(prefix + f.name);
      if (item === undefined) {
        count(counts, "skipped");
        if (before !== undefined) gone.add(prefix + f.name);
        continue;
      }
      // The same object under another source (an event turned into a task): the old row goes.
      if (before !== undefined && before.source !== item.source) {
        count(counts, "removed", await sink.remove(before.source, [item.key]));
      }
      items.push(item);
    }
    await sink.upsert(items);
    count(counts, "indexed", items.length);
  }
  for (const source of c.sources) {
    const keys = [...gone].filter((k) => known.get(k)?.source === source);
    count(counts, "removed", await sink.remove(source, keys));
  }
  // Only now: a pass that stops half-way syncs this collection again from the old token.
  await sink.setSyncToken(c.kind, c.container, result.token);
}

/**
 * Drops the collections of `kind` that the last pass saw and that are no longer listed (deleted, or
 * no longer shared with the user).
 */
export async function dropUnlisted(
  sink: CollectionSink,
  kind: string,
  sources: readonly CollectionSource[],
  listed: ReadonlySet<string>,
  counts: PassCounts,
): Promise<void> {
  const seen = new Set(await sink.syncScopes(kind));
  for (const source of sources) for (const c of await sink.containers(source)) seen.add(c);
  for (const container of seen) {
    if (!listed.has(container)) await dropCollection(sink, kind, sources, container, counts);
  }
}

/** A user's DAV home of collections (calendars, address books) as a pass indexes it. */
export interface DavHome {
  /** The sync token's kind in search_sync. */
  kind: string;
  /** The sources whose items live in these collections. */
  sources: readonly CollectionSource[];
  tree: DavTree;
  /** What one collection is called in messages ("calendar", "address book"). */
  noun: string;
  /** The names of the collections to index; NextcloudError not_found when the user has no home. */
  list(): Promise<string[]>;
  /** The named members of a collection with their data (multiget). */
  fetch(
    container: string,
    names: readonly string[],
  ): Promise<{ name: string; etag: string | null; data: string }[]>;
  /** The index item of a member; undefined when it holds nothing to index. */
  item(container: string, name: string, etag: string | null, data: string): CollectionItem | undefined;
}

/**
 * Brings every collection of the user's DAV home up to date: lists them, drops those the last pass
 * saw and that are no longer listed, then syncs each (syncDavCollection). No home (the app is off
 * for the user) lists none, so nothing of theirs stays indexed.
 */
export async function syncDavHome(
  nc: NextcloudClient,
  uid: string,
  home: DavHome,
  sink: CollectionSink,
  signal?: AbortSignal,
): Promise<PassCounts> {
  const counts: PassCounts = { requests: 0 };
  count(counts, "requests");
  let containers: string[];
  try {
    containers = await home.list();
  } catch (err) {
    if (!(err instanceof NextcloudError && err.kind === "not_found")) throw err;
    containers = [];
  }
  await dropUnlisted(sink, home.kind, home.sources, new Set(containers), counts);
  for (const container of containers) {
    signal?.throwIfAborted();
    await syncDavCollection(
      {
        kind: home.kind,
        sources: home.sources,
        container,
        sync: (token) =>
          syncCollection(nc.options, {
            tree: home.tree,
            uid,
            path: [container],
            token,
            what: `${home.noun} "${container}"`,
            ...(signal === undefined ? {} : { signal }),
          }),
        fetch: (names) => home.fetch(container, names),
        item: (name, etag, data) => home.item(container, name, etag, data),
      },
      sink,
      counts,
      signal,
    );
  }
  return counts;
}
