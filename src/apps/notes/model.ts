// What the notes tools share whichever way they reach the notes: the note shape, how titles and
// categories become file names, the gateway's version tag (etag) and the search excerpt.
import { createHash } from "node:crypto";
import { NextcloudError } from "../../nextcloud/index.ts";

/** A note as both back ends (Notes API, notes folder over WebDAV) describe it. */
export interface StoredNote {
  /** The note's file id in Nextcloud, which the Notes app uses as the note id. */
  id: number;
  title: string;
  /** "" when the note sits directly in the notes folder; "/" separates sub-folders. */
  category: string;
  /** Unix seconds. */
  modified: number;
  favorite: boolean;
  content: string;
}

/** Longest title, in characters (the title is the note's file name). */
export const MAX_TITLE = 200;
/** Largest note content, in UTF-8 bytes. */
export const MAX_CONTENT_BYTES = 1024 * 1024;
/** Longest category path, in characters. */
export const MAX_CATEGORY = 500;

// The characters the Notes app removes from titles (NoteUtil::sanitisePath), plus control characters.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must go
const ILLEGAL = /[*|/\\:"<>?\u0000-\u001f\u007f]/g;

/**
 * A title as the Notes app stores it: without the characters file names cannot hold, and without
 * leading or trailing spaces and dots (which would make hidden or Windows-illegal names).
 */
export function safeTitle(title: string): string {
  return title.replace(ILLEGAL, "").replace(/^[\s.]+|[\s.]+$/g, "");
}

/** A category path with each segment made safe like a title and empty segments dropped. */
export function safeCategory(category: string): string {
  return category
    .split("/")
    .map((segment) => safeTitle(segment))
    .filter((segment) => segment !== "")
    .join("/");
}

/** UTF-8 size of a string, in bytes. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/**
 * The gateway's version tag of a note: a hash of everything a tool shows about it (id, title,
 * category, modification time, content). Both back ends compute it from the same values, so a tag
 * read one way can be checked the other way; it is not the Notes API's own etag.
 */
export function noteEtag(n: StoredNote): string {
  return createHash("md5")
    .update(JSON.stringify([n.id, n.title, n.category, n.modified, n.content]))
    .digest("hex");
}

/** The note's text with `text` added on a new line (no blank line is inserted). */
export function appended(content: string, text: string): string {
  if (content === "" || content.endsWith("\n")) return content + text;
  return `${content}\n${text}`;
}

/** Where `query` first occurs in `s`, ignoring case, or -1. */
export function indexOfIgnoringCase(s: string, query: string): number {
  const escaped = query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(escaped, "iu").exec(s)?.index ?? -1;
}

/** About `width` characters of `content` around position `at` on one line, "…" where cut. */
export function excerpt(content: string, at: number, width = 160): string {
  const start = Math.max(0, at < 0 ? 0 : at - Math.floor(width / 3));
  const end = Math.min(content.length, start + width);
  const inner = content.slice(start, end).replace(/\s+/g, " ").trim();
  return `${start > 0 ? "…" : ""}${inner}${end < content.length ? "…" : ""}`;
}

/** `s` cut to `max` characters, with a note saying how much was left out. */
export function truncated(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… [${String(s.length - max)} more characters]`;
}

/** The error for an id that names no note of this user. */
export function noteNotFound(id: number, cause?: unknown): NextcloudError {
  return new NextcloudError(
    "not_found",
    `No note with id ${String(id)} (it may have been deleted); use notes_list to find it.`,
    { httpStatus: 404, ...(cause === undefined ? {} : { cause }) },
  );
}

/**
 * The error for a change refused because the note changed meanwhile; it carries the current
 * version so the model can merge and retry without another read.
 */
export function noteConflict(current: StoredNote, cause?: unknown): NextcloudError {
  return new NextcloudError(
    "precondition_failed",
    [
      `Note ${String(current.id)} was changed since you read it; nothing was changed.`,
      `Its current version has etag "${noteEtag(current)}", title "${current.title}"` +
        `${current.category === "" ? "" : `, category "${current.category}"`} and content:`,
      truncated(current.content, 2000),
      "Apply your change to this version and retry with its etag.",
    ].join("\n"),
    { httpStatus: 412, current, ...(cause === undefined ? {} : { cause }) },
  );
}
