// Paths inside the user's Nextcloud files: normalised to "/a/b" and confined to the user's root.
import { NextcloudError } from "./errors.ts";

/**
 * Normalises a user-supplied path to "/seg/seg" ("" and "/" are the root). Refuses "..", NUL and
 * backslashes before any request is made, so no path can leave the user's root.
 */
export function normalizePath(path: string): string {
  if (path.includes("\0") || path.includes("\\")) {
    throw new NextcloudError(
      "invalid_path",
      `The path "${path}" contains characters Nextcloud does not allow.`,
    );
  }
  const segs = path.split("/").filter((s) => s !== "" && s !== ".");
  if (segs.includes("..")) {
    throw new NextcloudError(
      "invalid_path",
      `The path "${path}" uses "..": paths must stay inside your Nextcloud files; give the full path from your root.`,
    );
  }
  return `/${segs.join("/")}`;
}

/** Percent-encodes each segment of a normalised path for a URL. */
export function encodePath(path: string): string {
  return normalizePath(path)
    .split("/")
    .map((s) => encodeURIComponent(s))
    .join("/");
}
