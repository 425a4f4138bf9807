// What the files tools share: user-relative paths checked before any request, the entry schema every
// tool returns; Nextcloud errors are reworded with the kit's `explained`.
import { z } from "zod";
import { badArguments, explained, reword, toolMaker } from "../../mcp/index.ts";
import { normalizePath, pathProblem, pathRefused, type FileInfo } from "../../nextcloud/index.ts";

/** The `nextcloud://files/...` reference to a file; the gateway does not serve it as an MCP resource. */
export const FILE_URI_PREFIX = "nextcloud://files";

/** The description of a path argument, with the rules the model must follow. */
export function pathRules(what: string, kind: "file" | "folder"): string {
  const example = kind === "file" ? "/Documents/report.md" : "/Documents/Projects";
  // Short on purpose: it is repeated in every files tool of tools/list. The rules (no "..", no
  // backslashes or percent-escapes) are in files_list's description and in the error a bad path gets.
  return `${what}, from the root of the user's files, e.g. "${example}".`;
}

/** A path argument. */
export function pathField(what: string, kind: "file" | "folder"): z.ZodString {
  return z.string().max(4096).describe(pathRules(what, kind));
}

/** A folder argument that defaults to the root folder. */
export function folderField(what: string): z.ZodDefault<z.ZodString> {
  return z
    .string()
    .max(4096)
    .default("/")
    .describe(`${pathRules(what, "folder")} Default: "/", the top level.`);
}

/**
 * Checks a user-supplied path and normalises it to "/a/b", refusing before any request what could
 * leave the user's root or that Nextcloud would misread: `..` segments, NUL, backslashes, control
 * characters, percent-encoded dots and slashes, dot and slash look-alikes, over-long names.
 */
export function userPath(raw: string, field = "path"): string {
  const problem = pathProblem(raw);
  if (problem !== undefined) throw pathRefused(field, raw, problem);
  return normalizePath(raw);
}

/** The folder that holds `path` ("/" for top-level items). */
export function parentOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}

/** The reference URI of a file, each segment percent-encoded. */
export function fileUri(path: string): string {
  return `${FILE_URI_PREFIX}${path.split("/").map(encodeURIComponent).join("/")}`;
}

/** One file or folder, as every files tool returns it. */
export const entrySchema = z.object({
  name: z.string().describe("The file or folder name; empty for the root folder."),
  path: z
    .string()
    .describe(
      "The full path from the root of the user's files, e.g. /Documents/a.md; pass it to other files_ tools.",
    ),
  type: z.enum(["file", "folder"]).describe("Whether this is a file or a folder."),
  size: z.number().describe("Size in bytes; for a folder, the total size of everything in it."),
  modified: z.string().nullable().describe("When it last changed (ISO 8601, UTC), if Nextcloud says."),
  etag: z
    .string()
    .nullable()
    .describe(
      "The version tag of this state; pass it as `etag` to files_write or files_delete so they only act if nothing changed since.",
    ),
  fileId: z
    .number()
    .nullable()
    .describe("Nextcloud's numeric file id; it stays the same when the item is renamed or moved."),
  permissions: z
    .string()
    .nullable()
    .describe(
      "Nextcloud permission letters: G readable, W writable (files), C can create files in it, K can create folders in it, D deletable, N renameable, V movable, R reshareable, S shared with the user, M on an external mount.",
    ),
  contentType: z
    .string()
    .nullable()
    .describe("The MIME type of a file, e.g. text/markdown; null for folders."),
});

/** An entry as the tools return it. */
export type Entry = z.output<typeof entrySchema>;

/** Converts the client's FileInfo to the tools' entry (ISO times, "folder" rather than "directory"). */
export function toEntry(info: FileInfo): Entry {
  const at = info.lastModified === null ? NaN : Date.parse(info.lastModified);
  return {
    name: info.name,
    path: info.path,
    type: info.type === "directory" ? "folder" : "file",
    size: info.size,
    modified: Number.isNaN(at) ? info.lastModified : new Date(at).toISOString(),
    etag: info.etag === null ? null : info.etag.replace(/^"|"$/g, ""),
    fileId: info.fileId,
    permissions: info.permissions,
    contentType: info.type === "directory" ? null : info.contentType,
  };
}

/** "1.5 KiB", "12 B": sizes as people read them. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 10 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, "");
  return `${shown} ${units[unit] ?? "B"}`;
}

/** One line per entry in text renderings: path, type or size, modification time. */
export function entryLine(e: Entry): string {
  const kind = e.type === "folder" ? "folder" : formatBytes(e.size);
  return `${e.type === "folder" && e.path !== "/" ? `${e.path}/` : e.path} (${kind}${e.modified ? `, modified ${e.modified}` : ""})`;
}

/** The message for a path that does not exist. */
export function notFound(path: string): string {
  return `No file or folder at ${path}; use files_list on ${parentOf(path)} to see what is there.`;
}

export { badArguments, explained, reword };

/** The makers of the files tools: prefix `files_`, scopes and annotations from read or write. */
export const tools = toolMaker("files");
