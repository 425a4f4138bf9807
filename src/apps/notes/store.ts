// Where the notes tools read and write notes: the Notes API, or, when Nextcloud refuses bearer
// tokens on its `#[CORS]` routes (Nextcloud 30 and older, or a proxy that strips the OCS-APIRequest
// header), the notes folder over WebDAV. The tools see one interface and cannot tell the two apart;
// only the log says which one served a call.
import { NextcloudError, type NextcloudClient, type RouteClass } from "../../nextcloud/index.ts";
import { type ToolContext, nextcloudOf } from "../../mcp/index.ts";
import type { StoredNote } from "./model.ts";
import { notesApiStore } from "./api.ts";
import { notesFolderStore } from "./dav.ts";

/** The Notes API's controller methods are `#[CORS]` (nextcloud/notes NotesApiController). */
const NOTES_API_ROUTE: RouteClass = "cors-app-route";

/** A listed note whose content is read only when asked for (over WebDAV it costs a request). */
export interface NoteEntry extends Omit<StoredNote, "content"> {
  content(): Promise<string>;
}

/** A note as read for a change: `version` is the back end's own precondition (If-Match) value. */
export interface LoadedNote {
  note: StoredNote;
  version: string;
  /** The note's file path in the user's files (WebDAV only; "" for the Notes API). */
  path: string;
}

/** What a change may set. */
export interface NoteChanges {
  title?: string;
  category?: string;
  content?: string;
}

/** One way of reaching the user's notes. */
export interface NotesStore {
  readonly via: "notes-api" | "webdav";
  /** Whether this store has changed anything yet (a store that has must not be retried another way). */
  readonly changed: boolean;
  /** Every note, optionally only those of one category (exact match). */
  list(category?: string): Promise<NoteEntry[]>;
  /** One note with its content; the "not found" error names the id. */
  get(id: number): Promise<LoadedNote>;
  /** Creates a note; a title already taken in the category gets " (2)", " (3)"… like the Notes app. */
  create(fields: Required<NoteChanges>): Promise<StoredNote>;
  /** Changes a note only if it is still at `current.version`; otherwise throws noteConflict. */
  update(current: LoadedNote, changes: NoteChanges): Promise<StoredNote>;
  delete(current: LoadedNote): Promise<void>;
}

/**
 * Runs `work` on the Notes API and, if Nextcloud refuses the bearer token there before anything was
 * changed, again on the notes folder over WebDAV. The refusal is remembered per instance (the route
 * probe of src/nextcloud), so later calls go to WebDAV at once until the probe tries the API again;
 * on Nextcloud 30 and older the version says so before the first call. Logs which way served the
 * call (never a token).
 */
export async function withNotes<T>(
  ctx: ToolContext,
  tool: string,
  work: (store: NotesStore) => Promise<T>,
): Promise<T> {
  const nextcloud = nextcloudOf(ctx);
  if (await nextcloud.routeUsable(NOTES_API_ROUTE)) {
    const api = notesApiStore(nextcloud);
    try {
      const result = await work(api);
      nextcloud.options.routes?.record(
        nextcloud.options.baseUrl,
        NOTES_API_ROUTE,
        "accepted",
        "the Notes API served",
      );
      ctx.log.info({ tool, via: api.via }, "notes served by the Notes API");
      return result;
    } catch (err) {
      if (!(err instanceof NextcloudError && err.kind === "bearer_refused") || api.changed) throw err;
    }
  }
  ctx.log.info(
    { tool, via: "webdav" },
    "the Notes API refuses bearer tokens; serving notes from the notes folder over WebDAV",
  );
  return work(notesFolderStore(nextcloud.files, await notesPath(nextcloud)));
}

/** The user's notes folder as the capabilities name it ("Notes" when they do not). */
async function notesPath(nextcloud: NextcloudClient): Promise<string> {
  const path = (await nextcloud.capabilities()).notes?.notes_path;
  return typeof path === "string" && path.trim() !== "" ? path : "Notes";
}
