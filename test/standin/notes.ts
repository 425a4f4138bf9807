// The Notes app API v1 of the stand-in. Notes are Markdown files `<notes_path>/<category>/<title>.md`
// in the user's files (exactly like the Notes app), so the same notes are visible over WebDAV.
// Ids are the files' inode numbers, which is also what the stand-in reports as `oc:fileid`.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join, relative, sep } from "node:path";
import { readBody, sendJson } from "./respond.ts";

const API_VERSIONS = { "X-Notes-API-Versions": "0.2, 1.3, 1.4" };

/** A note as the Notes app returns it. */
export interface Note {
  id: number;
  etag: string;
  readonly: boolean;
  content: string;
  title: string;
  category: string;
  favorite: boolean;
  modified: number;
  error: boolean;
  errorType: string;
}

/** Where one user's notes live, and the per-user state the Notes app keeps outside the files. */
export interface NotesContext {
  /** `<dataDir>/<uid>/files` */
  filesRoot: string;
  /** `notes_path` of the capabilities, relative to filesRoot. */
  notesPath: string;
  /** File ids marked as favourites (the Notes app keeps these as a tag, not in the file). */
  favorites: Set<number>;
}

interface NoteFile {
  path: string;
  id: number;
  modified: number;
  category: string;
  title: string;
}

function noteEtag(n: Omit<Note, "etag">): string {
  const { id, content, title, category, favorite, modified } = n;
  return createHash("md5")
    .update(JSON.stringify({ id, content, title, category, favorite, modified }))
    .digest("hex");
}

/** PHP `DateTime::RFC2822`, as Nextcloud's AppFramework writes Last-Modified. */
function rfc2822(seconds: number): string {
  return new Date(seconds * 1000).toUTCString().replace("GMT", "+0000");
}

function safeName(s: string): string {
  return s
    .replace(/[*|/\\:"<>?\n\r\t]/g, "")
    .replace(/^\.+/, "")
    .trim()
    .slice(0, 200);
}

function safeCategory(s: string): string {
  return s
    .split("/")
    .map((seg) => safeName(seg))
    .filter((seg) => seg !== "")
    .join("/");
}

function titleFromContent(content: string): string {
  const first = content.split("\n").find((l) => l.trim() !== "") ?? "";
  return safeName(first.replace(/^#+\s*/, "")) || "New note";
}

async function scan(ctx: NotesContext): Promise<NoteFile[]> {
  const base = join(ctx.filesRoot, ctx.notesPath);
  const out: NoteFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && /\.(md|txt)$/.test(e.name)) {
        const st = await stat(p);
        const category = relative(base, dirname(p)).split(sep).join("/");
        out.push({
          path: p,
          id: st.ino,
          modified: Math.floor(st.mtimeMs / 1000),
          category,
          title: e.name.replace(/\.(md|txt)$/, ""),
        });
      }
    }
  };
  await walk(base);
  return out;
}

async function load(ctx: NotesContext, f: NoteFile): Promise<Note> {
  const content = await readFile(f.path, "utf8");
  const n = {
    id: f.id,
    readonly: false,
    content,
    title: f.title,
    category: f.category,
    favorite: ctx.favorites.has(f.id),
    modified: f.modified,
    error: false,
    errorType: "",
  };
  return { ...n, etag: noteEtag(n) };
}

function pick(note: Note, exclude: string[]): Partial<Note> {
  return Object.fromEntries(Object.entries(note).filter(([k]) => !exclude.includes(k)));
}

/** A free file name for a title in a category folder, numbered " (2)" … like the Notes app. */
async function freePath(ctx: NotesContext, category: string, title: string, self?: string): Promise<string> {
  const dir = join(ctx.filesRoot, ctx.notesPath, ...category.split("/").filter(Boolean));
  for (let i = 1; ; i++) {
    const p = join(dir, `${i === 1 ? title : `${title} (${String(i)})`}.md`);
    if (p === self) return p;
    const exists = await stat(p).then(
      () => true,
      () => false,
    );
    if (!exists) return p;
  }
}

async function params(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const merged: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const body = await readBody(req);
  if (body.length > 0 && (req.headers["content-type"] ?? "").includes("json")) {
    // Nextcloud's Request ignores a body that is not JSON (json_decode gives null): no parameters.
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      parsed = undefined;
    }
    if (parsed !== null && typeof parsed === "object") Object.assign(merged, parsed);
  }
  return merged;
}

const str = (v: unknown): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
const bool = (v: unknown): boolean | undefined =>
  v === undefined ? undefined : v === true || v === 1 || v === "1" || v === "true";

/** The Notes app's per-user settings, as stored (only what differs from the defaults). */
interface StoredSettings {
  notesPath?: string;
  fileSuffix?: string;
  noteMode?: "edit" | "preview" | "rich";
}

// Per user (keyed by the user's files root, unique per stand-in), like the app's user config value.
const settingsByRoot = new Map<string, StoredSettings>();

function settingsOf(ctx: NotesContext): StoredSettings {
  let s = settingsByRoot.get(ctx.filesRoot);
  if (!s) settingsByRoot.set(ctx.filesRoot, (s = {}));
  return s;
}

/**
 * What the Notes app's SettingsService keeps of a PUT: unknown keys dropped; `notesPath` with `.`
 * and empty segments dropped and `..` removing the segment before it; `fileSuffix` `.md`, `.txt` or
 * a custom suffix reduced to `[A-Za-z0-9.-]` without leading dots (empty: `.md`); `noteMode` one of
 * edit, preview, rich, else the default. The stand-in keeps `notesPath` for the Notes API (the
 * capability's `notes_path` stays the configured one) and echoes the others: its notes stay `.md`.
 */
function validSettings(p: Record<string, unknown>): StoredSettings {
  const out: StoredSettings = {};
  if (typeof p.notesPath === "string") {
    const path: string[] = [];
    for (const part of p.notesPath.split(/[/\\]/)) {
      if (part === "..") path.pop();
      else if (part !== "" && part !== ".") path.push(part);
    }
    out.notesPath = path.join("/");
  }
  if (typeof p.fileSuffix === "string") {
    const custom = p.fileSuffix.replace(/[^A-Za-z0-9.-]/g, "").replace(/^\.+/, "");
    out.fileSuffix = p.fileSuffix === ".md" || p.fileSuffix === ".txt" ? p.fileSuffix : `.${custom || "md"}`;
  }
  if (typeof p.noteMode === "string") {
    out.noteMode = p.noteMode === "preview" || p.noteMode === "rich" ? p.noteMode : "edit";
  }
  return out;
}

/** The settings as `GET /settings` shows them: stored values over the defaults. */
function publicSettings(ctx: NotesContext): Required<StoredSettings> {
  const s = settingsOf(ctx);
  return {
    notesPath: s.notesPath ?? ctx.notesPath,
    fileSuffix: s.fileSuffix ?? ".md",
    noteMode: s.noteMode ?? "edit",
  };
}

function notFound(res: ServerResponse): void {
  sendJson(res, 404, { errorType: "Exception" }, API_VERSIONS);
}

/** Handles `/index.php/apps/notes/api/v1/...` for an authenticated user. */
export async function handleNotes(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  rest: string,
  ctx: NotesContext,
): Promise<void> {
  const method = req.method ?? "GET";
  const p = await params(req, url);
  const exclude = (str(p.exclude) ?? "").split(",").filter(Boolean);

  if (rest === "settings" && (method === "GET" || method === "PUT")) {
    const stored = settingsOf(ctx);
    if (method === "PUT") Object.assign(stored, validSettings(p));
    sendJson(res, 200, publicSettings(ctx), API_VERSIONS);
    return;
  }
  if (settingsOf(ctx).notesPath !== undefined) ctx = { ...ctx, notesPath: publicSettings(ctx).notesPath };
  if (rest === "notes" && method === "GET") {
    await listNotes(req, res, p, exclude, ctx);
    return;
  }
  if (rest === "notes" && method === "POST") {
    const content = str(p.content) ?? "";
    const category = safeCategory(str(p.category) ?? "");
    const title = safeName(str(p.title) ?? "") || titleFromContent(content);
    const path = await freePath(ctx, category, title);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
    const modified = Number(str(p.modified) ?? 0);
    if (modified > 0) await utimes(path, modified, modified);
    const st = await stat(path);
    if (bool(p.favorite) === true) ctx.favorites.add(st.ino);
    const f = (await scan(ctx)).find((n) => n.id === st.ino);
    if (!f) throw new Error("created note not found");
    sendJson(res, 200, pick(await load(ctx, f), exclude), API_VERSIONS);
    return;
  }
  const m = /^notes\/(\d+)$/.exec(rest);
  if (!m) {
    sendJson(res, 404, { message: "Not found" });
    return;
  }
  const id = Number(m[1]);
  const file = (await scan(ctx)).find((n) => n.id === id);
  if (!file) {
    notFound(res);
    return;
  }
  const note = await load(ctx, file);
  if (method === "GET") {
    if (req.headers["if-none-match"]?.trim() === `"${note.etag}"`) {
      res.writeHead(304, { ETag: `"${note.etag}"` });
      res.end();
      return;
    }
    sendJson(res, 200, pick(note, exclude), { ...API_VERSIONS, ETag: `"${note.etag}"` });
    return;
  }
  if (method === "DELETE") {
    await rm(file.path);
    ctx.favorites.delete(id);
    sendJson(res, 200, [], API_VERSIONS);
    return;
  }
  if (method === "PUT") {
    const ifMatch = req.headers["if-match"];
    if (
      ifMatch !== undefined &&
      !ifMatch
        .split(",")
        .map((s) => s.trim())
        .includes(`"${note.etag}"`)
    ) {
      sendJson(res, 412, note, { ...API_VERSIONS, ETag: `"${note.etag}"` });
      return;
    }
    let path = file.path;
    const category = str(p.category) === undefined ? note.category : safeCategory(str(p.category) ?? "");
    const titleParam = str(p.title);
    const title = titleParam === undefined ? note.title : safeName(titleParam) || note.title;
    if (category !== note.category || title !== note.title) {
      const target = await freePath(ctx, category, title, path);
      if (target !== path) {
        await mkdir(dirname(target), { recursive: true });
        await rename(path, target);
        path = target;
      }
    }
    const content = str(p.content);
    if (content !== undefined) await writeFile(path, content);
    const modified = Number(str(p.modified) ?? 0);
    if (modified > 0) await utimes(path, modified, modified);
    const fav = bool(p.favorite);
    if (fav === true) ctx.favorites.add(id);
    if (fav === false) ctx.favorites.delete(id);
    const updated = (await scan(ctx)).find((n) => n.id === id);
    if (!updated) throw new Error("updated note not found");
    const out = await load(ctx, updated);
    sendJson(res, 200, pick(out, exclude), { ...API_VERSIONS, ETag: `"${out.etag}"` });
    return;
  }
  sendJson(res, 405, { message: "Method not allowed" });
}

async function listNotes(
  req: IncomingMessage,
  res: ServerResponse,
  p: Record<string, unknown>,
  exclude: string[],
  ctx: NotesContext,
): Promise<void> {
  const category = str(p.category);
  const pruneBefore = Number(str(p.pruneBefore) ?? 0);
  const chunkSize = Number(str(p.chunkSize) ?? 0);
  const cursor = /^(\d+)-(\d+)-(\d+)$/.exec(str(p.chunkCursor) ?? "");
  const timeStart = cursor ? Number(cursor[1]) : Math.floor(Date.now() / 1000);
  const all = (await scan(ctx))
    .filter((n) => category === undefined || n.category === category)
    .sort((a, b) => a.modified - b.modified || a.id - b.id);
  const after = cursor
    ? all.filter(
        (n) =>
          n.modified > Number(cursor[2]) || (n.modified === Number(cursor[2]) && n.id > Number(cursor[3])),
      )
    : all;
  const chunk = chunkSize > 0 ? after.slice(0, chunkSize) : after;
  const pending = after.length - chunk.length;
  const data: Partial<Note>[] = [];
  for (const f of chunk) {
    data.push(f.modified < pruneBefore ? { id: f.id } : pick(await load(ctx, f), exclude));
  }
  const headers: Record<string, string> = { ...API_VERSIONS, "Last-Modified": rfc2822(timeStart) };
  const last = chunk.at(-1);
  if (pending > 0 && last) {
    headers["X-Notes-Chunk-Cursor"] = `${String(timeStart)}-${String(last.modified)}-${String(last.id)}`;
    headers["X-Notes-Chunk-Pending"] = String(pending);
  } else if (chunkSize > 0) {
    // The last chunk names every other note by id, so that clients can detect deletions.
    const inChunk = new Set(chunk.map((n) => n.id));
    for (const n of all) if (!inChunk.has(n.id)) data.push({ id: n.id });
  }
  const etag = `"${createHash("md5").update(JSON.stringify(data)).digest("hex")}"`;
  if (req.headers["if-none-match"]?.trim() === etag) {
    res.writeHead(304, { ETag: etag });
    res.end();
    return;
  }
  sendJson(res, 200, data, { ...headers, ETag: etag });
}
