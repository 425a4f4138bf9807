// files_read: a text file's content inline, within a size limit; a binary file as a resource link.
import type { ContentBlock } from "@modelcontextprotocol/server";
import { z } from "zod";
import { NextcloudError } from "../../nextcloud/index.ts";
import { nextcloudOf } from "../../mcp/index.ts";
import {
  explained,
  fileUri,
  formatBytes,
  notFound,
  pathField,
  toEntry,
  userPath,
  type Entry,
  tools,
} from "./common.ts";

/** Bytes returned inline unless the caller asks for more. */
export const DEFAULT_READ_BYTES = 256 * 1024;
/** The most a caller may ask for. */
export const MAX_READ_BYTES = 2 * 1024 * 1024;
/** How much of a file is searched for a NUL byte to tell binary from text. */
const SNIFF_BYTES = 8192;

const TEXT_TYPES = new Set([
  "application/json",
  "application/xml",
  "application/javascript",
  "application/ecmascript",
  "application/x-javascript",
  "application/typescript",
  "application/x-sh",
  "application/x-shellscript",
  "application/yaml",
  "application/x-yaml",
  "application/toml",
  "application/sql",
  "application/x-php",
  "application/x-httpd-php",
  "application/x-python",
  "application/x-perl",
  "application/x-ruby",
  "application/x-tex",
  "application/x-latex",
  "application/csv",
  "application/x-ndjson",
  "application/x-subrip",
  "application/rtf",
]);

/**
 * What a MIME type says about a file: certainly text, certainly binary (media, fonts, PDF, archives,
 * office documents), or unknown (e.g. `application/octet-stream`), when only the content can tell.
 */
export function contentKind(contentType: string | null): "text" | "binary" | "unknown" {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type.startsWith("text/") || TEXT_TYPES.has(type) || /\+(json|xml|yaml)$/.test(type)) return "text";
  if (/^(image|audio|video|font|model)\//.test(type)) return "binary";
  if (
    /^application\/(pdf|zip|gzip|x-gzip|x-tar|x-bzip2|x-xz|x-7z-compressed|x-rar-compressed|vnd\.rar|msword|wasm|java-archive|x-msdownload|x-executable|x-iso9660-image|vnd\..*)$/.test(
      type,
    )
  ) {
    return "binary";
  }
  return "unknown";
}

/** True when the start of the content holds a NUL byte, which text files do not contain. */
export function looksBinary(content: Uint8Array): boolean {
  return content.subarray(0, SNIFF_BYTES).includes(0);
}

const output = z.object({
  path: z.string().describe("The file that was read."),
  name: z.string().describe("The file name."),
  size: z.number().describe("The file's size in bytes."),
  contentType: z.string().nullable().describe("The file's MIME type, if Nextcloud knows it."),
  modified: z.string().nullable().describe("When the file last changed (ISO 8601, UTC)."),
  etag: z
    .string()
    .nullable()
    .describe(
      "The version tag of what was read; pass it as `etag` to files_write to update this version only.",
    ),
  binary: z
    .boolean()
    .describe("True when the file is binary: `content` is then null and the result carries a resource link."),
  content: z.string().nullable().describe("The file's text (UTF-8), or null for a binary file."),
  uri: z
    .string()
    .describe(
      "A reference to the file (nextcloud://files/<path>); it names the file but cannot be fetched through this server.",
    ),
});

type ReadOutput = z.output<typeof output>;

function tooLarge(path: string, size: number | undefined, max: number): NextcloudError {
  const what = size === undefined ? "is larger than" : `is ${formatBytes(size)}, more than`;
  const next =
    size !== undefined && size <= MAX_READ_BYTES
      ? ` To read it, call files_read again with maxBytes ${String(size)}.`
      : ` Files over ${formatBytes(MAX_READ_BYTES)} cannot be read through this tool; open it in Nextcloud instead.`;
  return new NextcloudError(
    "too_large",
    `${path} ${what} maxBytes (${formatBytes(max)}); nothing was returned.${next}`,
  );
}

/** Reads a file: text inline, binary as a reference. */
export const filesRead = tools.read({
  name: "files_read",
  title: "Read a file",
  description:
    "Returns the text content of a file in the user's Nextcloud (decoded as UTF-8), with its etag for " +
    `a later files_write. Files larger than maxBytes (default ${formatBytes(DEFAULT_READ_BYTES)}, at most ` +
    `${formatBytes(MAX_READ_BYTES)}) are refused with their size, never truncated: call again with a larger ` +
    "maxBytes. A binary file (an image, PDF, archive or office document by its MIME type, or any file " +
    "with a NUL byte) is not returned inline: the result has `binary: true`, `content: null` and a " +
    "resource link whose nextcloud://files/<path> URI is only a reference to the file; it cannot be read " +
    "through this server. Changes nothing.",
  input: z.object({
    path: pathField("The file to read", "file"),
    maxBytes: z
      .number()
      .int()
      .min(1)
      .max(MAX_READ_BYTES)
      .default(DEFAULT_READ_BYTES)
      .describe(
        `The largest file to return, in bytes (default ${String(DEFAULT_READ_BYTES)}, at most ${String(MAX_READ_BYTES)}); a larger file is refused.`,
      ),
  }),
  output,
  async handler(args, ctx): Promise<ReadOutput> {
    const path = userPath(args.path);
    const files = nextcloudOf(ctx).files;
    const info = toEntry(await explained(files.stat(path), { not_found: notFound(path) }));
    if (info.type === "folder") {
      throw new NextcloudError("invalid_path", `${path} is a folder; use files_list to see what is in it.`);
    }
    const kind = contentKind(info.contentType);
    if (kind === "binary") return binary(info);
    if (info.size > args.maxBytes) throw tooLarge(path, info.size, args.maxBytes);
    const read = await explained(files.read(path, { maxBytes: args.maxBytes }), {
      not_found: notFound(path),
      too_large: tooLarge(path, undefined, args.maxBytes).description,
    });
    const current = { ...info, size: read.content.byteLength, etag: read.etag ?? info.etag };
    if (looksBinary(read.content)) return binary(current);
    return {
      ...common(current),
      binary: false,
      content: new TextDecoder().decode(read.content),
    };
  },
  text: (o) =>
    o.binary
      ? `${o.path} is a binary file (${o.contentType ?? "unknown type"}, ${formatBytes(o.size)}); its content is not shown. Reference: ${o.uri}`
      : `${o.path} (${formatBytes(o.size)}${o.etag === null ? "" : `, etag ${o.etag}`}):\n\n${o.content ?? ""}`,
  content: (o): ContentBlock[] =>
    o.binary
      ? [
          {
            type: "resource_link",
            uri: o.uri,
            name: o.name,
            ...(o.contentType === null ? {} : { mimeType: o.contentType }),
            size: o.size,
          },
        ]
      : [],
});

function common(e: Entry): Omit<ReadOutput, "binary" | "content"> {
  return {
    path: e.path,
    name: e.name,
    size: e.size,
    contentType: e.contentType,
    modified: e.modified,
    etag: e.etag,
    uri: fileUri(e.path),
  };
}

function binary(e: Entry): ReadOutput {
  return { ...common(e), binary: true, content: null };
}
