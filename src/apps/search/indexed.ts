// The `search` tool on the user's content index (issue 10 §2): the index answers, and every hit is
// checked against Nextcloud with the user's own token before it is shown (verify on read). A hit
// that is gone or no longer readable leaves the index at once, and its folder is read again by the
// next pass; a hit that cannot be checked (Nextcloud slow or failing) is left out of this answer.
import { NextcloudError, type NextcloudClient } from "../../nextcloud/index.ts";
import type { SearchIndexContext } from "../../mcp/index.ts";
import {
  GROUPWARE_SOURCES,
  groupwareHit,
  verifyGroupware,
  type GroupwareSource,
} from "./indexed-groupware.ts";

/** What the index answers for: the sources it holds. */
export const INDEXED_SOURCES = ["files", "notes", ...GROUPWARE_SOURCES] as const;
export type IndexedSource = (typeof INDEXED_SOURCES)[number];

/** One verified hit of the index, in the tool's hit shape. */
export interface IndexedHit {
  provider: IndexedSource;
  title: string;
  subline: string;
  url: string;
  id: string | number;
  open: { tool: string; arguments: Record<string, string | number> };
  snippet: string;
}

/** Checks at once at most this many hits. */
const PARALLEL = 6;

type Verdict = "ok" | "gone" | "unchecked";

const isGroupware = (source: string): source is GroupwareSource =>
  (GROUPWARE_SOURCES as readonly string[]).includes(source);

/** Whether the item behind a hit still exists and is readable with the user's token. */
async function verify(
  nc: NextcloudClient,
  hit: { source: string; key: string; title: string; container: string },
): Promise<Verdict> {
  if (isGroupware(hit.source)) return verifyGroupware(nc, { source: hit.source, key: hit.key });
  const check = async (path: string): Promise<Verdict> => {
    try {
      await nc.files.stat(path);
      return "ok";
    } catch (err) {
      if (!(err instanceof NextcloudError)) throw err;
      if (err.kind === "unauthorized" || err.kind === "bearer_refused") throw err;
      return err.kind === "not_found" || err.kind === "forbidden" ? "gone" : "unchecked";
    }
  };
  if (hit.source === "files") return check(hit.key);
  // A note is a .md or .txt file named by its title in its category folder.
  const folder = hit.container === "/" ? "" : hit.container;
  const md = await check(`${folder}/${hit.title}.md`);
  return md === "gone" ? check(`${folder}/${hit.title}.txt`) : md;
}

/**
 * One page of the user's index for `query`, each hit verified; `nextOffset` is where the next page
 * starts (undefined when there is none), counting the hits dropped on this page.
 */
export async function searchIndexed(
  nc: NextcloudClient,
  index: SearchIndexContext,
  o: { query: string; sources: readonly IndexedSource[]; limit: number; offset: number },
): Promise<{ hits: IndexedHit[]; dropped: number; unchecked: number; nextOffset: number | undefined }> {
  const rows = await index.search(o.query, { limit: o.limit + 1, offset: o.offset, sources: o.sources });
  const page = rows.slice(0, o.limit);
  const verdicts: Verdict[] = new Array<Verdict>(page.length);
  let next = 0;
  const worker = async () => {
    while (next < page.length) {
      const i = next++;
      const hit = page[i];
      if (hit !== undefined) verdicts[i] = await verify(nc, hit);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, page.length) }, worker));
  const base = nc.options.baseUrl.replace(/\/+$/, "");
  const hits: IndexedHit[] = [];
  let dropped = 0;
  let unchecked = 0;
  for (const [i, hit] of page.entries()) {
    if (verdicts[i] === "gone") {
      dropped++;
      await index.drop(hit);
      continue;
    }
    if (verdicts[i] !== "ok") {
      unchecked++;
      continue;
    }
    if (isGroupware(hit.source)) {
      hits.push({
        provider: hit.source,
        title: hit.title,
        subline: hit.container,
        ...groupwareHit(base, await nc.userId(), { ...hit, source: hit.source }),
        snippet: hit.snippet,
      });
      continue;
    }
    const notes = hit.source === "notes";
    const name = hit.key.slice(hit.key.lastIndexOf("/") + 1);
    hits.push({
      provider: notes ? "notes" : "files",
      title: hit.title,
      subline: hit.container,
      url: notes
        ? `${base}/index.php/apps/notes/note/${hit.key}`
        : `${base}/index.php/apps/files/?dir=${encodeURIComponent(hit.container)}&scrollto=${encodeURIComponent(name)}`,
      id: notes ? Number(hit.key) : hit.key,
      open: notes
        ? { tool: "notes_get", arguments: { id: Number(hit.key) } }
        : { tool: "files_read", arguments: { path: hit.key } },
      snippet: hit.snippet,
    });
  }
  return {
    hits,
    dropped,
    unchecked,
    nextOffset: rows.length > o.limit ? o.offset + o.limit - dropped : undefined,
  };
}
