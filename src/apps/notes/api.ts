// The notes through the Notes app's REST API v1: one request per operation, If-Match on updates.
import { NextcloudError, type NextcloudClient } from "../../nextcloud/index.ts";
import { NotesClient, type Note } from "./client.ts";
import { noteConflict, noteNotFound, type StoredNote } from "./model.ts";
import type { LoadedNote, NoteChanges, NotesStore } from "./store.ts";

const CHUNK = 50;

function stored(n: Note): StoredNote {
  return {
    id: n.id,
    title: n.title,
    category: n.category,
    modified: n.modified,
    favorite: n.favorite,
    content: n.content,
  };
}

function notFoundAs(id: number) {
  return (err: unknown): never => {
    if (err instanceof NextcloudError && err.kind === "not_found") throw noteNotFound(id, err);
    throw err;
  };
}

/**
 * A NotesStore on the Notes API v1.
 * @see https://github.com/nextcloud/notes/blob/main/docs/api/v1.md
 */
export function notesApiStore(nextcloud: NextcloudClient): NotesStore {
  const notes = new NotesClient(nextcloud.options);
  let changed = false;
  return {
    via: "notes-api",
    get changed() {
      return changed;
    },
    async list(category) {
      const all = await notes.listAll({ chunkSize: CHUNK, ...(category === undefined ? {} : { category }) });
      return all.map((n) => {
        const { content, ...rest } = stored(n);
        return { ...rest, content: () => Promise.resolve(content) };
      });
    },
    async get(id): Promise<LoadedNote> {
      const n = await notes.get(id).catch(notFoundAs(id));
      return { note: stored(n), version: n.etag, path: "" };
    },
    async create(fields) {
      const n = await notes.create(fields);
      changed = true;
      return stored(n);
    },
    async update(current, changes: NoteChanges) {
      const id = current.note.id;
      try {
        const n = await notes.update(id, changes, { ifMatch: current.version });
        changed = true;
        return stored(n);
      } catch (err) {
        if (err instanceof NextcloudError && err.kind === "precondition_failed") {
          const now = err.current as Note | undefined;
          throw noteConflict(now === undefined ? (await this.get(id)).note : stored(now), err);
        }
        return notFoundAs(id)(err);
      }
    },
    async delete(current) {
      await notes.delete(current.note.id).catch(notFoundAs(current.note.id));
      changed = true;
    },
  };
}
