// The Notes app REST API v1 (`/index.php/apps/notes/api/v1`): plain JSON, ETag/If-Match for safe
// updates (412 carries the current note), chunked listing with a cursor.
import {
  errorFromResponse,
  NextcloudError,
  send,
  type NextcloudClientOptions,
} from "../../nextcloud/index.ts";

const BASE = "/index.php/apps/notes/api/v1";

/** A note (Notes API v1). */
export interface Note {
  id: number;
  /** md5 of the note, unquoted, as in the JSON; send it back as If-Match. */
  etag: string;
  readonly: boolean;
  content: string;
  title: string;
  category: string;
  favorite: boolean;
  /** Unix seconds. */
  modified: number;
}

/** What can change in a note. */
export interface NotePatch {
  title?: string;
  content?: string;
  category?: string;
  favorite?: boolean;
  modified?: number;
}

/** Options of a list call. */
export interface ListNotesOptions {
  category?: string;
  /** Fields to leave out (e.g. ["content"]). */
  exclude?: (keyof Note)[];
  /** Unix seconds: older notes come back as `{ id }` only. */
  pruneBefore?: number;
  chunkSize?: number;
  chunkCursor?: string;
}

/** One page of notes; `cursor` is set while more chunks are pending. */
export interface NotesPage {
  notes: (Partial<Note> & { id: number })[];
  cursor?: string;
  pending?: number;
  etag?: string;
  lastModified?: string;
}

function query(o: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}

function asNote(value: unknown, what: string): Note {
  const n = value as Partial<Note> | null;
  if (typeof n?.id !== "number" || typeof n.etag !== "string") {
    throw new NextcloudError("bad_response", `Nextcloud answered ${what} without a note.`);
  }
  return n as Note;
}

const json = { Accept: "application/json", "Content-Type": "application/json" };

/**
 * Notes API v1 client.
 * @see https://github.com/nextcloud/notes/blob/main/docs/api/v1.md
 */
export class NotesClient {
  readonly #client: NextcloudClientOptions;

  constructor(client: NextcloudClientOptions) {
    this.#client = client;
  }

  /** One page (or all notes when no chunkSize is given). */
  async list(o: ListNotesOptions = {}): Promise<NotesPage> {
    const res = await send(this.#client, {
      method: "GET",
      path: `${BASE}/notes${query({
        category: o.category,
        exclude: o.exclude?.join(","),
        pruneBefore: o.pruneBefore,
        chunkSize: o.chunkSize,
        chunkCursor: o.chunkCursor,
      })}`,
      what: "your notes",
      headers: { Accept: "application/json" },
    });
    const notes = res.json();
    if (!Array.isArray(notes))
      throw new NextcloudError("bad_response", "Nextcloud's note list is not a list.");
    const h = (name: string) => res.headers.get(name) ?? undefined;
    const pending = h("x-notes-chunk-pending");
    const page: NotesPage = { notes: notes as NotesPage["notes"] };
    const cursor = h("x-notes-chunk-cursor");
    if (cursor !== undefined) page.cursor = cursor;
    if (pending !== undefined) page.pending = Number(pending);
    const etag = h("etag");
    if (etag !== undefined) page.etag = etag;
    const lastModified = h("last-modified");
    if (lastModified !== undefined) page.lastModified = lastModified;
    return page;
  }

  /** Every note, following chunk cursors; the stubs of the last chunk are dropped. */
  async listAll(o: Omit<ListNotesOptions, "chunkCursor"> & { chunkSize?: number } = {}): Promise<Note[]> {
    const out: Note[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10_000; i++) {
      const page = await this.list({
        ...o,
        chunkSize: o.chunkSize ?? 100,
        ...(cursor === undefined ? {} : { chunkCursor: cursor }),
      });
      for (const n of page.notes) if ("etag" in n || "title" in n) out.push(n as Note);
      if (page.cursor === undefined) return out;
      cursor = page.cursor;
    }
    throw new NextcloudError("bad_response", "Nextcloud's note list did not end.");
  }

  async get(id: number): Promise<Note> {
    const what = `note ${String(id)}`;
    const res = await send(this.#client, {
      method: "GET",
      path: `${BASE}/notes/${String(id)}`,
      what,
      headers: { Accept: "application/json" },
    });
    return asNote(res.json(), what);
  }

  /** Creates a note (the Notes app answers 200, not 201). */
  async create(note: NotePatch): Promise<Note> {
    const res = await send(this.#client, {
      method: "POST",
      path: `${BASE}/notes`,
      what: "the new note",
      headers: json,
      body: JSON.stringify(note),
    });
    return asNote(res.json(), "the new note");
  }

  /**
   * Updates a note. With `ifMatch` (the note's etag) a concurrent change is refused: nothing is
   * written and the NextcloudError (kind "precondition_failed") carries the current note.
   */
  async update(id: number, patch: NotePatch, o: { ifMatch?: string } = {}): Promise<Note> {
    const what = `note ${String(id)}`;
    const res = await send(this.#client, {
      method: "PUT",
      path: `${BASE}/notes/${String(id)}`,
      what,
      headers: {
        ...json,
        ...(o.ifMatch === undefined ? {} : { "If-Match": `"${o.ifMatch.replace(/^"|"$/g, "")}"` }),
      },
      body: JSON.stringify(patch),
      accept: [412],
    });
    if (res.status === 412) {
      const current = asNote(res.json(), what);
      throw errorFromResponse(412, res.headers, what, { current });
    }
    return asNote(res.json(), what);
  }

  async delete(id: number): Promise<void> {
    await send(this.#client, {
      method: "DELETE",
      path: `${BASE}/notes/${String(id)}`,
      what: `note ${String(id)}`,
      headers: { Accept: "application/json" },
    });
  }

  /** The user's Notes settings (notesPath, fileSuffix); read-only, also used to probe the route. */
  async settings(): Promise<{ notesPath: string; fileSuffix: string }> {
    const res = await send(this.#client, {
      method: "GET",
      path: `${BASE}/settings`,
      what: "your Notes settings",
      headers: { Accept: "application/json" },
    });
    return res.json() as { notesPath: string; fileSuffix: string };
  }
}
