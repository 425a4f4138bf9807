// Paths inside a user's Nextcloud tree: one validator for every segment, normalisation to "/a/b",
// and the one encoder that turns segments into URL path text. No library encodes a user's path.
import { pathRefused } from "./guard.ts";

/** Longest file or folder name accepted, in characters (Nextcloud refuses names above 250 bytes). */
export const MAX_SEGMENT_LENGTH = 255;
/** Longest path accepted, in characters. */
export const MAX_PATH_LENGTH = 4096;

// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Percent-escapes that decode to ".", "/" or "\" after one or more rounds of decoding (any case). */
const ENCODED_SEPARATOR = /%(?:25)*(?:2e|2f|5c)/i;

/**
 * Why a single name (one path segment) cannot be used, or undefined when it can. A name is refused
 * when it is empty, "." or "..", holds a slash, backslash or control character, is too long, holds
 * a percent-escape of ".", "/" or "\" (at any depth of encoding, so no proxy that decodes twice can
 * make a separator of it), or is a look-alike that Unicode compatibility normalisation (NFKC) turns
 * into a dot segment or a separator (e.g. "．．", "／", "＼").
 */
export function segmentProblem(segment: string): string | undefined {
  if (segment === "") return "has an empty name (two slashes in a row)";
  if (segment === "." || segment === "..") {
    return `contains "${segment}": paths start at the root of your Nextcloud files and cannot go up; give the full path instead, e.g. "/Documents/a.md" (files_list on "/" shows the top-level folders)`;
  }
  if (segment.includes("\0")) return "contains a NUL character, which no file name may contain";
  if (segment.includes("\\")) {
    return 'contains a backslash; Nextcloud paths use forward slashes, e.g. "/Documents/a.md"';
  }
  if (segment.includes("/")) return 'has a "/" inside a name';
  if (CONTROL.test(segment)) return "contains a control character, which no file name may contain";
  if (segment.length > MAX_SEGMENT_LENGTH) {
    return `has a name longer than ${String(MAX_SEGMENT_LENGTH)} characters`;
  }
  if (ENCODED_SEPARATOR.test(segment)) {
    return 'contains a percent-encoded ".", "/" or "\\" (such as %2e or %2f); write the characters themselves, or "/" between folders';
  }
  const compat = segment.normalize("NFKC");
  if (compat === "." || compat === ".." || /[/\\]/.test(compat)) {
    return `contains a character that looks like a dot or a slash (${describeLookAlikes(segment)}); use plain "/" between folders`;
  }
  return undefined;
}

function describeLookAlikes(segment: string): string {
  // Code points, not grapheme clusters: each look-alike is one code point.
  const odd = Array.from(segment).filter((ch) => ch !== "." && /[./\\]/.test(ch.normalize("NFKC")));
  return [...new Set(odd)]
    .map((ch) => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`)
    .join(", ");
}

/**
 * Why a user-supplied path cannot be used, or undefined. Empty segments and "." segments (as in
 * "a//b/./c/") are tidied away by normalisation; every other segment must pass segmentProblem.
 */
export function pathProblem(path: string): string | undefined {
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${String(MAX_PATH_LENGTH)} characters`;
  // NUL and backslashes first, with their own message, wherever they are.
  if (path.includes("\0")) return segmentProblem("\0");
  if (path.includes("\\")) return segmentProblem("\\");
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    const problem = segmentProblem(seg);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** The segments of a checked path ("/" gives none). */
export function pathSegments(path: string): string[] {
  const problem = pathProblem(path);
  if (problem !== undefined) throw pathRefused("path", path, problem);
  return path.split("/").filter((s) => s !== "" && s !== ".");
}

/**
 * Normalises a user-supplied path to "/seg/seg" ("" and "/" are the root). Refuses, before any
 * request is made, every path with a segment that could leave the user's root (see segmentProblem).
 */
export function normalizePath(path: string): string {
  return `/${pathSegments(path).join("/")}`;
}

/**
 * The one encoder: each segment checked, then percent-encoded with encodeURIComponent and joined
 * with "/" ("/a%20b/c"); no segments give "". Throws invalid_path for a segment that is not a name.
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-3.3
 */
export function encodeSegments(segments: readonly string[]): string {
  let out = "";
  for (const seg of segments) {
    const problem = segmentProblem(seg);
    if (problem !== undefined) throw pathRefused("name", seg, problem);
    out += `/${encodeURIComponent(seg)}`;
  }
  return out;
}

/** Percent-encodes each segment of a user path for a URL ("/" gives ""). */
export function encodePath(path: string): string {
  return encodeSegments(pathSegments(path));
}
