// The files tools that look: list, stat and search (reading is in read.ts, changes in write.ts).
import { z } from "zod";
import { NextcloudError } from "../../nextcloud/index.ts";
import { nextcloudOf } from "../../mcp/index.ts";
import {
  entryLine,
  entrySchema,
  explained,
  folderField,
  formatBytes,
  notFound,
  parentOf,
  pathField,
  toEntry,
  userPath,
  tools,
} from "./common.ts";

/** A folder's entries, a page at a time. */
export const filesList = tools.read({
  name: "files_list",
  title: "List a folder",
  description:
    "Lists the files and folders directly inside a folder of the user's Nextcloud (not recursive), " +
    "folders first, then by name, with each entry's path, size, modification time, etag and file id. " +
    'Start with "/" to see the top level. Long folders come in pages: when `nextOffset` is set, call ' +
    "again with that offset. To find a file by name anywhere, use files_search instead. Changes nothing. " +
    'Paths in every files tool start at the root of the user\'s files ("/"), use "/" between folders, and may ' +
    'not contain "..", backslashes or percent-escapes such as %2e.',
  input: z.object({
    path: folderField("The folder to list"),
    offset: z.number().int().min(0).default(0).describe("How many entries to skip (for the next page)."),
    limit: z.number().int().min(1).max(500).default(100).describe("At most this many entries (1-500)."),
  }),
  output: z.object({
    path: z.string().describe("The folder that was listed."),
    items: z.array(entrySchema).describe("The entries of this page, folders first, then by name."),
    offset: z.number().describe("How many entries were skipped before this page."),
    total: z.number().describe("How many entries the folder has in all."),
    nextOffset: z
      .number()
      .nullable()
      .describe("The `offset` for the next page, or null when this page is the last."),
  }),
  async handler(args, ctx) {
    const path = userPath(args.path);
    const files = nextcloudOf(ctx).files;
    const page = await explained(files.list(path, { offset: args.offset, limit: args.limit }), {
      not_found: `No folder at ${path}; use files_list on ${parentOf(path)} to see what is there.`,
    });
    // The listing of a file is the file itself; a folder's own entry is never among its children.
    const only = page.items[0];
    if (page.total === 1 && only?.type === "file" && only.path === path) {
      throw new NextcloudError(
        "invalid_path",
        `${path} is a file, not a folder; use files_read to read it or files_stat for its details.`,
      );
    }
    return {
      path,
      items: page.items.map(toEntry),
      offset: args.offset,
      total: page.total,
      nextOffset: page.nextOffset ?? null,
    };
  },
  text(o) {
    if (o.total === 0) return `${o.path} is an empty folder.`;
    if (o.items.length === 0)
      return `${o.path} has ${String(o.total)} entries; none from offset ${String(o.offset)}.`;
    const range = `${String(o.offset + 1)}-${String(o.offset + o.items.length)} of ${String(o.total)}`;
    const more =
      o.nextOffset === null ? "" : `\nMore: call files_list again with offset ${String(o.nextOffset)}.`;
    return `${o.path} (entries ${range}):\n${o.items.map((e) => `- ${entryLine(e)}`).join("\n")}${more}`;
  },
});

/** One file's or folder's details. */
export const filesStat = tools.read({
  name: "files_stat",
  title: "File or folder details",
  description:
    "Shows the details of one file or folder in the user's Nextcloud: type, size, modification time, " +
    "MIME type, etag, file id and permissions. Use it to check that a path exists, or to get the current " +
    "etag before files_write or files_delete. Changes nothing.",
  input: z.object({ path: pathField("The file or folder", "file") }),
  output: entrySchema,
  async handler(args, ctx) {
    const path = userPath(args.path);
    return toEntry(await explained(nextcloudOf(ctx).files.stat(path), { not_found: notFound(path) }));
  },
  text: (e) =>
    [
      `${e.type === "folder" ? "Folder" : "File"} ${e.path}`,
      `Size: ${formatBytes(e.size)}`,
      ...(e.contentType === null ? [] : [`Type: ${e.contentType}`]),
      ...(e.modified === null ? [] : [`Modified: ${e.modified}`]),
      ...(e.etag === null ? [] : [`Etag: ${e.etag}`]),
      ...(e.fileId === null ? [] : [`File id: ${String(e.fileId)}`]),
      ...(e.permissions === null ? [] : [`Permissions: ${e.permissions}`]),
    ].join("\n"),
});

/** Files and folders by name, anywhere below a folder. */
export const filesSearch = tools.read({
  name: "files_search",
  title: "Search files by name",
  description:
    "Finds files and folders in the user's Nextcloud whose name contains the given text " +
    "(case-insensitive; the name only, not the content), in a folder and all its subfolders " +
    "(the whole of the user's files by default). Returns up to `limit` matches with their paths; " +
    "`more` says whether there were further matches (narrow the text or the folder then). Changes nothing.",
  input: z.object({
    query: z.string().min(1).max(200).describe('Text the name must contain, e.g. "report" or ".pdf".'),
    folder: folderField("The folder to search in (with its subfolders)"),
    limit: z.number().int().min(1).max(200).default(50).describe("At most this many matches (1-200)."),
  }),
  output: z.object({
    query: z.string().describe("The text that was searched for."),
    folder: z.string().describe("The folder that was searched, with its subfolders."),
    items: z.array(entrySchema).describe("The matching files and folders."),
    more: z.boolean().describe("Whether there are more matches than `limit`."),
  }),
  async handler(args, ctx) {
    const folder = userPath(args.folder, "folder");
    // One more than asked, to know whether there are more (DAV SEARCH gives no total).
    const hits = await explained(
      nextcloudOf(ctx).files.search(args.query, { folder, limit: args.limit + 1 }),
      {
        not_found: `No folder at ${folder} to search in; use files_list on ${parentOf(folder)} to see what is there.`,
      },
    );
    return {
      query: args.query,
      folder,
      items: hits.slice(0, args.limit).map(toEntry),
      more: hits.length > args.limit,
    };
  },
  text(o) {
    const where = o.folder === "/" ? "" : ` in ${o.folder}`;
    if (o.items.length === 0) return `No file or folder name contains "${o.query}"${where}.`;
    const more = o.more ? "\nThere are more matches; narrow the query or the folder." : "";
    return `Names containing "${o.query}"${where}:\n${o.items.map((e) => `- ${entryLine(e)}`).join("\n")}${more}`;
  },
});
