// One indexing pass over a user's files and notes, over WebDAV: a folder whose ETag did not change
// since the last pass is skipped with everything below it (Nextcloud changes a folder's ETag when
// anything inside changes), so a pass over an unchanged tree costs one PROPFIND. Text files
// (Markdown, plain text, CSV, JSON…) and documents (PDF, Office: extract.ts) up to a size bound
// are read and indexed (a document whose text cannot be had by name only); files in the user's
// Notes folder are indexed as notes under their file id, which is the Notes app's note id.
// Deleted files and folders leave the index in the same pass.
import type { FileInfo, WebDavClient } from "../../nextcloud/index.ts";
import { documentKind, extractLimits, extractText } from "./extract.ts";

/** One item for the index (the store's IndexedItem, declared here: apps do not import the store). */
export interface CrawledItem {
  source: "files" | "notes";
  key: string;
  title: string;
  body: string;
  container: string;
  etag: string | null;
  modifiedAt: Date | null;
}

/** Where a pass writes, bound to one user (SearchIndex with the user id fills it in). */
export interface IndexSink {
  itemsIn(source: "files" | "notes", container: string): Promise<Map<string, string | null>>;
  upsert(items: readonly CrawledItem[]): Promise<void>;
  remove(source: "files" | "notes", keys: readonly string[]): Promise<number>;
  removeContainer(source: "files" | "notes", container: string): Promise<number>;
  syncToken(scope: string): Promise<string | undefined>;
  setSyncToken(scope: string, token: string): Promise<void>;
  forgetSync(scope: string): Promise<void>;
  /** Folders below `folder` (at any depth) that have items or a sync token. */
  foldersBelow(folder: string): Promise<string[]>;
}

export interface CrawlOptions {
  /** The user's Notes folder ("/Notes"), or undefined when the Notes app is off. */
  notesFolder: string | undefined;
  /** Larger files are indexed by name only. */
  maxFileBytes: number;
  /** Stops between folders when aborted; what was done stays done. */
  signal?: AbortSignal;
}

/** What a pass did, for job_runs. */
export interface CrawlCounts {
  folders: number;
  foldersSkipped: number;
  read: number;
  indexed: number;
  removed: number;
  requests: number;
  /** Documents indexed by name only: corrupt, encrypted, a zip bomb, or past their time. */
  extractErrors: number;
}

const TEXT_EXTENSIONS = /\.(md|markdown|txt|text|csv|tsv|json|ya?ml|xml|html?|org|rst|adoc|log|ini|toml)$/i;

/** Whether a file's content is text the index can take as is. */
export function isText(info: Pick<FileInfo, "name" | "contentType">): boolean {
  const type = (info.contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return type.startsWith("text/") || type === "application/json" || TEXT_EXTENSIONS.test(info.name);
}

const within = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);
const parentOf = (path: string) => path.slice(0, path.lastIndexOf("/")) || "/";

/** A note's title as the Notes app shows it: the file name without its extension. */
const noteTitle = (name: string) => name.replace(/\.(md|txt)$/i, "");

/** One pass over the tree from "/"; see the file comment. */
export async function crawlFiles(
  files: WebDavClient,
  sink: IndexSink,
  options: CrawlOptions,
): Promise<CrawlCounts> {
  const counts: CrawlCounts = {
    folders: 0,
    foldersSkipped: 0,
    read: 0,
    indexed: 0,
    removed: 0,
    requests: 0,
    extractErrors: 0,
  };
  const limits = extractLimits(options.maxFileBytes);
  const decoder = new TextDecoder("utf-8", { fatal: false });
  const notes = options.notesFolder;

  const visit = async (folder: string, etag: string | null): Promise<void> => {
    options.signal?.throwIfAborted();
    if (etag !== null && (await sink.syncToken(folder)) === etag) {
      counts.foldersSkipped++;
      return;
    }
    counts.folders++;
    counts.requests++;
    const children = (await files.list(folder, { limit: Number.MAX_SAFE_INTEGER })).items;
    const inNotes = notes !== undefined && within(folder, notes);
    const source = inNotes ? "notes" : "files";
    const known = await sink.itemsIn(source, folder);
    const seen = new Set<string>();
    const batch: CrawledItem[] = [];
    for (const child of children) {
      if (child.type !== "file") continue;
      const noteFile = inNotes && /\.(md|txt)$/i.test(child.name) && child.fileId !== null;
      const key = noteFile ? String(child.fileId) : child.path;
      seen.add(key);
      if (inNotes && !noteFile) continue;
      if (child.etag !== null && known.get(key) === child.etag) continue;
      let body = "";
      const document = isText(child) ? undefined : documentKind(child.name);
      if ((document !== undefined || isText(child)) && child.size <= options.maxFileBytes) {
        counts.requests++;
        counts.read++;
        const { content } = await files.read(child.path, { maxBytes: options.maxFileBytes });
        if (document === undefined) body = decoder.decode(content);
        else {
          const text = await extractText(document, content, limits);
          if (text.ok) body = text.text;
          else counts.extractErrors++;
        }
      }
      batch.push({
        source,
        key,
        title: noteFile ? noteTitle(child.name) : child.name,
        body,
        container: folder,
        etag: child.etag,
        modifiedAt: child.lastModified === null ? null : new Date(child.lastModified),
      });
    }
    await sink.upsert(batch);
    counts.indexed += batch.length;
    counts.removed += await sink.remove(
      source,
      [...known.keys()].filter((k) => !seen.has(k)),
    );
    // Subfolders that went away: their items and sync state go too.
    const subfolders = children.filter((c) => c.type === "directory");
    const present = new Set(subfolders.map((c) => c.path));
    const former = (await sink.foldersBelow(folder)).filter((p) => parentOf(p) === folder && !present.has(p));
    for (const gone of former) {
      counts.removed +=
        (await sink.removeContainer("files", gone)) + (await sink.removeContainer("notes", gone));
      await sink.forgetSync(gone);
    }
    for (const sub of subfolders) await visit(sub.path, sub.etag);
    // Only now: a pass that stops half-way reads this folder again next time.
    if (etag !== null) await sink.setSyncToken(folder, etag);
  };

  counts.requests++;
  const root = await files.stat("/");
  await visit("/", root.etag);
  return counts;
}
