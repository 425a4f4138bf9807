// The files tools that change data: write, mkdir, move, copy, delete. Each failure Nextcloud reports
// is reworded into what happened and what to do next, looking at the current state when that helps.
import { z } from "zod";
import { NextcloudError, type WebDavClient } from "../../nextcloud/index.ts";
import { nextcloudOf } from "../../mcp/index.ts";
import {
  badArguments,
  entryLine,
  entrySchema,
  explained,
  formatBytes,
  notFound,
  parentOf,
  pathField,
  reword,
  toEntry,
  userPath,
  type Entry,
  tools,
} from "./common.ts";
import { MAX_READ_BYTES } from "./read.ts";

/** The current state of a path, "missing" when nothing is there, undefined when it cannot be told. */
async function probe(files: WebDavClient, path: string): Promise<Entry | "missing" | undefined> {
  try {
    return toEntry(await files.stat(path));
  } catch (err) {
    return err instanceof NextcloudError && err.kind === "not_found" ? "missing" : undefined;
  }
}

/** Why a write into `path` conflicted: usually a missing parent folder. */
async function parentProblem(files: WebDavClient, path: string, fallback: string): Promise<string> {
  const parent = parentOf(path);
  const state = parent === "/" ? undefined : await probe(files, parent);
  if (state === "missing")
    return `The parent folder ${parent} does not exist; create it with files_mkdir first.`;
  if (state?.type === "file") return `${parent} is a file, not a folder, so nothing can be put inside it.`;
  return fallback;
}

const etagNow = (e: Entry | "missing" | undefined) =>
  e === undefined || e === "missing" || e.etag === null ? "" : ` (current etag ${e.etag})`;

/** Creates or overwrites a text file. */
export const filesWrite = tools.write({
  name: "files_write",
  title: "Write a file",
  description:
    "Creates a text file in the user's Nextcloud, or replaces an existing file's whole content (UTF-8, " +
    `at most ${formatBytes(MAX_READ_BYTES)}). Without options an existing file is overwritten. To change a ` +
    "file safely, read it with files_read and pass its `etag`: if the file changed since, nothing is written " +
    "and the error gives the current etag. Pass `createOnly: true` to write only if no file exists yet. " +
    "The parent folder must exist (create it with files_mkdir). Returns the new etag.",
  input: z.object({
    path: pathField("The file to write", "file"),
    content: z.string().describe("The complete new content of the file, as text."),
    etag: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Only write if the file still has this etag (from files_read, files_stat or files_list); otherwise nothing changes.",
      ),
    createOnly: z
      .boolean()
      .default(false)
      .describe("Only create a new file: if one already exists at the path, nothing changes."),
  }),
  output: z.object({
    path: z.string().describe("The file that was written."),
    created: z.boolean().describe("True if the file was new, false if an existing file was overwritten."),
    size: z.number().describe("Bytes written."),
    etag: z.string().nullable().describe("The file's new etag; pass it to the next files_write."),
    fileId: z.number().nullable().describe("Nextcloud's numeric file id, if Nextcloud returned it."),
  }),
  destructive: true,
  idempotent: true,
  async handler(args, ctx) {
    const path = userPath(args.path);
    if (path === "/") throw badArguments("files_write needs a file path, not the root folder.");
    if (args.etag !== undefined && args.createOnly) {
      throw badArguments(
        "Pass either etag (update that version of an existing file) or createOnly (create a new file), not both.",
      );
    }
    const bytes = new TextEncoder().encode(args.content);
    if (bytes.byteLength > MAX_READ_BYTES) {
      throw badArguments(
        `The content is ${String(bytes.byteLength)} bytes; files_write takes at most ${String(MAX_READ_BYTES)} (${formatBytes(MAX_READ_BYTES)}). Nothing was written.`,
      );
    }
    const files = nextcloudOf(ctx).files;
    const conflict = async () => {
      const self = await probe(files, path);
      if (self !== undefined && self !== "missing" && self.type === "folder") {
        return `${path} is a folder; files_write writes files only, so choose a file name inside it.`;
      }
      return parentProblem(
        files,
        path,
        `${path} could not be written: it conflicts with what is in Nextcloud.`,
      );
    };
    const written = await explained(
      files.write(path, bytes, {
        contentType: "text/plain; charset=utf-8",
        ...(args.etag === undefined ? {} : { ifMatch: args.etag }),
        ...(args.createOnly ? { ifNoneMatch: "*" as const } : {}),
      }),
      {
        conflict,
        not_found: conflict,
        async precondition_failed() {
          const now = await probe(files, path);
          if (args.createOnly) {
            return `A file already exists at ${path}${etagNow(now)}; nothing was written. To replace it, read it with files_read and call files_write with its etag, or choose another name.`;
          }
          if (now === "missing") {
            return `${path} no longer exists, so the etag cannot match; nothing was written. Call files_write without etag to create it again.`;
          }
          return `The file changed since you read it${etagNow(now)}; nothing was written. Read it again with files_read and retry with the new etag.`;
        },
      },
    );
    const id = written.fileId === null ? NaN : Number.parseInt(written.fileId, 10);
    return {
      path,
      created: written.created,
      size: bytes.byteLength,
      etag: written.etag,
      fileId: Number.isNaN(id) ? null : id,
    };
  },
  text: (o) =>
    `${o.created ? "Created" : "Overwrote"} ${o.path} (${formatBytes(o.size)}${o.etag === null ? "" : `, etag ${o.etag}`}).`,
});

/** Creates a folder. */
export const filesMkdir = tools.write({
  name: "files_mkdir",
  title: "Create a folder",
  description:
    "Creates a folder in the user's Nextcloud. Its parent folder must exist: create nested folders one " +
    "level at a time. If the folder already exists, nothing changes and `created` is false.",
  input: z.object({ path: pathField("The folder to create", "folder") }),
  output: z.object({
    created: z.boolean().describe("True if the folder was created, false if it already existed."),
    item: entrySchema.describe("The folder."),
  }),
  destructive: false,
  idempotent: true,
  async handler(args, ctx) {
    const path = userPath(args.path);
    const files = nextcloudOf(ctx).files;
    let created = true;
    try {
      await files.mkdir(path);
    } catch (err) {
      if (!(err instanceof NextcloudError) || !["conflict", "not_found"].includes(err.kind)) throw err;
      const now = await probe(files, path);
      if (now === undefined || now === "missing") {
        throw reword(
          err,
          await parentProblem(
            files,
            path,
            `${path} could not be created: it conflicts with what is in Nextcloud.`,
          ),
        );
      } else if (now.type === "file") {
        throw new NextcloudError(
          "conflict",
          `A file already exists at ${path}; choose another name for the folder.`,
        );
      }
      created = false;
    }
    return { created, item: toEntry(await explained(files.stat(path), { not_found: notFound(path) })) };
  },
  text: (o) => `${o.created ? "Created folder" : "Folder already existed:"} ${entryLine(o.item)}`,
});

function transferTool(op: "move" | "copy") {
  const verb = op === "move" ? "moved" : "copied";
  return tools.write({
    name: `files_${op}`,
    title: op === "move" ? "Move or rename" : "Copy",
    description:
      (op === "move"
        ? "Moves or renames a file or folder in the user's Nextcloud (a folder with everything in it). "
        : "Copies a file or folder in the user's Nextcloud (a folder with everything in it). ") +
      "`to` is the full new path including the name, e.g. from /a.md to /Archive/a.md. The target's parent " +
      "folder must exist. If something already exists at `to`, nothing happens unless `overwrite` is true, " +
      `which replaces it (what was there is lost). Returns the ${op === "move" ? "moved" : "new"} item.`,
    input: z.object({
      from: pathField(`The file or folder to ${op}`, "file"),
      to: pathField("The new path, including the name", "file"),
      overwrite: z
        .boolean()
        .default(false)
        .describe(
          "Replace what already exists at `to` (it is lost); without it, an existing target stops the call.",
        ),
    }),
    output: z.object({
      from: z.string().describe(`The path the item was ${verb} from.`),
      item: entrySchema.describe(`The item at its ${op === "move" ? "new" : "copied"} path.`),
    }),
    destructive: true,
    idempotent: op === "copy",
    async handler(args, ctx) {
      const from = userPath(args.from, "from");
      const to = userPath(args.to, "to");
      if (from === "/" || to === "/") throw badArguments(`The root folder cannot be ${verb} or replaced.`);
      if (from === to) throw badArguments(`from and to are the same path (${from}); nothing was ${verb}.`);
      if (to.startsWith(`${from}/`))
        throw badArguments(`A folder cannot be ${verb} into itself (${from} → ${to}).`);
      const files = nextcloudOf(ctx).files;
      const missing = async () =>
        (await probe(files, from)) === "missing"
          ? notFound(from)
          : `The folder ${parentOf(to)} does not exist; create it with files_mkdir first.`;
      await explained(files[op](from, to, { overwrite: args.overwrite }), {
        not_found: missing,
        conflict: async () =>
          (await probe(files, parentOf(to))) === "missing"
            ? `The folder ${parentOf(to)} does not exist; create it with files_mkdir first.`
            : `${from} could not be ${verb} to ${to}: it conflicts with what is in Nextcloud.`,
        async precondition_failed() {
          const there = await probe(files, to);
          const what = there !== undefined && there !== "missing" ? `A ${there.type}` : "Something";
          return `${what} already exists at ${to}; nothing was ${verb}. Pass overwrite: true to replace it (what is there now is lost), or choose another name.`;
        },
      });
      return { from, item: toEntry(await explained(files.stat(to), { not_found: notFound(to) })) };
    },
    text: (o) => `${op === "move" ? "Moved" : "Copied"} ${o.from} to ${entryLine(o.item)}.`,
  });
}

/** Moves or renames. */
export const filesMove = transferTool("move");
/** Copies. */
export const filesCopy = transferTool("copy");

/** Deletes a file or a folder with everything in it. */
export const filesDelete = tools.write({
  name: "files_delete",
  title: "Delete a file or folder",
  description:
    "Deletes a file, or a folder with everything in it, from the user's Nextcloud (Nextcloud keeps deleted " +
    "items in its trash bin when that app is enabled). Ask the user before deleting. Pass `etag` (from " +
    "files_stat or files_list) to delete only if the item has not changed since.",
  input: z.object({
    path: pathField("The file or folder to delete", "file"),
    etag: z
      .string()
      .min(1)
      .optional()
      .describe("Only delete if the item still has this etag; otherwise nothing changes."),
  }),
  output: z.object({
    path: z.string().describe("The path that was deleted."),
    deleted: z.boolean().describe("Always true: the item is gone."),
  }),
  destructive: true,
  idempotent: true,
  async handler(args, ctx) {
    const path = userPath(args.path);
    if (path === "/") throw badArguments("Your whole Nextcloud root folder cannot be deleted.");
    const files = nextcloudOf(ctx).files;
    await explained(files.delete(path, args.etag === undefined ? {} : { ifMatch: args.etag }), {
      not_found: notFound(path),
      precondition_failed: async () =>
        `${path} changed since you looked at it${etagNow(await probe(files, path))}; nothing was deleted. Check it with files_stat and pass the new etag if it should still go.`,
    });
    return { path, deleted: true };
  },
  text: (o) => `Deleted ${o.path}.`,
});
