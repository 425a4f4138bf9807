// The notes as the Notes app keeps them: Markdown files `<notes folder>/<category>/<title>.md` in the
// user's files, reached over WebDAV. Used when the Notes API refuses bearer tokens; it gives the
// same notes, ids (file ids) and results as the API.
import {
  NextcloudError,
  normalizePath,
  pathRefused,
  segmentProblem,
  type FileInfo,
  type WebDavClient,
} from "../../nextcloud/index.ts";
import { noteConflict, noteNotFound, type StoredNote } from "./model.ts";
import type { LoadedNote, NotesStore } from "./store.ts";

/** The suffixes the Notes app reads as notes; new notes get ".md". */
const NOTE_FILE = /\.(md|txt)$/;
const CONTENT_TYPE = "text/markdown; charset=utf-8";
/** How many numbered names (" (2)", " (3)"…) to try for a title that is taken. */
const MAX_NUMBERED = 100;

type NoteMeta = Omit<StoredNote, "content">;

const isKind = (err: unknown, kind: NextcloudError["kind"]): err is NextcloudError =>
  err instanceof NextcloudError && err.kind === kind;

function seconds(httpDate: string | null): number {
  const ms = httpDate === null ? NaN : Date.parse(httpDate);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function metaOf(info: FileInfo, category: string): NoteMeta {
  if (info.fileId === null) {
    throw new NextcloudError("bad_response", `Nextcloud did not give the file id of note "${info.path}".`);
  }
  return {
    id: info.fileId,
    title: info.name.replace(NOTE_FILE, ""),
    category,
    modified: seconds(info.lastModified),
    favorite: info.favorite,
  };
}

const numbered = (title: string, i: number) => `${i === 1 ? title : `${title} (${String(i)})`}.md`;

/**
 * A NotesStore on the notes folder over WebDAV (RFC 4918): PROPFIND walks for listing and finding a
 * note by file id, PUT with If-None-Match / If-Match for creating and editing, MOVE for renaming.
 * @see https://docs.nextcloud.com/server/latest/developer_manual/client_apis/WebDAV/basic.html
 */
export function notesFolderStore(files: WebDavClient, notesPath: string): NotesStore {
  const root = normalizePath(notesPath);
  /** The category's folder: "/" makes sub-folders (as in the Notes app), never a folder above the notes folder. */
  const dirOf = (category: string) => {
    if (category === "") return root;
    const dir = normalizePath(`${root}/${category}`);
    if (!dir.startsWith(`${root}/`)) throw pathRefused("category", category, "leaves the notes folder");
    return dir;
  };
  /** A title is one file name: a "/" in it never makes a folder. */
  const checkTitle = (title: string) => {
    const problem = title.includes("/") ? 'has a "/" inside a name' : segmentProblem(`${title}.md`);
    if (problem !== undefined) throw pathRefused("title", title, problem);
  };

  /** Every note file under the notes folder (none when the folder does not exist yet). */
  async function walk(): Promise<{ info: FileInfo; meta: NoteMeta }[]> {
    const out: { info: FileInfo; meta: NoteMeta }[] = [];
    const visit = async (dir: string, category: string): Promise<void> => {
      let items: FileInfo[];
      try {
        items = (await files.list(dir, { limit: Number.MAX_SAFE_INTEGER })).items;
      } catch (err) {
        if (dir === root && isKind(err, "not_found")) return;
        throw err;
      }
      const folders: Promise<void>[] = [];
      for (const info of items) {
        if (info.type === "directory") {
          folders.push(visit(info.path, category === "" ? info.name : `${category}/${info.name}`));
        } else if (NOTE_FILE.test(info.name)) {
          out.push({ info, meta: metaOf(info, category) });
        }
      }
      await Promise.all(folders);
    };
    await visit(root, "");
    return out;
  }

  async function read(path: string, id: number): Promise<{ content: string; etag: string | null }> {
    try {
      const file = await files.read(path);
      return { content: new TextDecoder().decode(file.content), etag: file.etag };
    } catch (err) {
      if (isKind(err, "not_found")) throw noteNotFound(id, err);
      throw err;
    }
  }

  /** Creates the folder and its parents unless it exists (like the Notes app does on demand). */
  async function ensureDir(dir: string): Promise<void> {
    try {
      if ((await files.stat(dir)).type === "directory") return;
    } catch (err) {
      if (!isKind(err, "not_found")) throw err;
    }
    const segs = dir.split("/").filter(Boolean);
    for (let i = 1; i <= segs.length; i++) {
      try {
        await files.mkdir(`/${segs.slice(0, i).join("/")}`);
      } catch (err) {
        // 405: the folder exists already; going top-down, a missing parent cannot be the cause.
        if (!isKind(err, "conflict")) throw err;
      }
    }
  }

  /** The note now at `path`, from a fresh PROPFIND (its id and modification time). */
  async function noteAt(path: string, category: string, content: string): Promise<StoredNote> {
    return { ...metaOf(await files.stat(path), category), content };
  }

  async function get(id: number): Promise<LoadedNote> {
    const found = (await walk()).find((e) => e.meta.id === id);
    if (found === undefined) throw noteNotFound(id);
    const { content, etag } = await read(found.info.path, id);
    return {
      note: { ...found.meta, content },
      version: etag ?? found.info.etag ?? "",
      path: found.info.path,
    };
  }

  return {
    via: "webdav",
    changed: false,
    async list(category) {
      return (await walk())
        .filter((e) => category === undefined || e.meta.category === category)
        .map((e) => ({ ...e.meta, content: async () => (await read(e.info.path, e.meta.id)).content }));
    },
    get,
    async create({ title, category, content }) {
      checkTitle(title);
      const dir = dirOf(category);
      await ensureDir(dir);
      for (let i = 1; i <= MAX_NUMBERED; i++) {
        const path = `${dir}/${numbered(title, i)}`;
        try {
          await files.write(path, content, { ifNoneMatch: "*", contentType: CONTENT_TYPE });
        } catch (err) {
          if (isKind(err, "precondition_failed")) continue;
          throw err;
        }
        return noteAt(path, category, content);
      }
      throw new NextcloudError(
        "conflict",
        `There are already ${String(MAX_NUMBERED)} notes titled "${title}" in this category; choose another title.`,
      );
    },
    async update(current, changes) {
      const id = current.note.id;
      let path = current.path;
      let content = current.note.content;
      const title = changes.title ?? current.note.title;
      const category = changes.category ?? current.note.category;
      const moving = title !== current.note.title || category !== current.note.category;
      // Names are checked before anything is written, so a refused title or category changes nothing.
      const dir = moving ? dirOf(category) : undefined;
      if (moving) checkTitle(title);
      if (changes.content !== undefined) {
        try {
          await files.write(path, changes.content, {
            contentType: CONTENT_TYPE,
            ...(current.version === "" ? {} : { ifMatch: current.version }),
          });
        } catch (err) {
          if (isKind(err, "precondition_failed")) throw noteConflict((await get(id)).note, err);
          if (isKind(err, "not_found")) throw noteNotFound(id, err);
          throw err;
        }
        content = changes.content;
      }
      if (dir !== undefined) {
        await ensureDir(dir);
        path = await moveToFreeName(path, dir, title);
      }
      return noteAt(path, category, content);
    },
    async delete(current) {
      try {
        await files.delete(current.path);
      } catch (err) {
        if (isKind(err, "not_found")) throw noteNotFound(current.note.id, err);
        throw err;
      }
    },
  };

  /** Moves the note to `<dir>/<title>.md`, numbering the name when it is taken; returns the new path. */
  async function moveToFreeName(path: string, dir: string, title: string): Promise<string> {
    for (let i = 1; i <= MAX_NUMBERED; i++) {
      const target = `${dir}/${numbered(title, i)}`;
      if (target === path) return path;
      try {
        await files.move(path, target);
        return target;
      } catch (err) {
        if (!isKind(err, "precondition_failed")) throw err;
      }
    }
    throw new NextcloudError(
      "conflict",
      `There are already ${String(MAX_NUMBERED)} notes titled "${title}" in this category; choose another title.`,
    );
  }
}
