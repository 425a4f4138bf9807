// The files app: the user's files over WebDAV (src/nextcloud/webdav.ts), with paths confined to the
// user's root by the transport's guard. Tools: list.ts (list, stat, search), read.ts, write.ts.
import { defineGroup, type AnyToolDefinition } from "../../mcp/index.ts";
import { filesList, filesSearch, filesStat } from "./list.ts";
import { filesRead } from "./read.ts";
import { filesCopy, filesDelete, filesMkdir, filesMove, filesWrite } from "./write.ts";

/** The files tools, in the order tools/list shows them. */
export const filesTools: readonly AnyToolDefinition[] = [
  filesList,
  filesStat,
  filesRead,
  filesSearch,
  filesWrite,
  filesMkdir,
  filesMove,
  filesCopy,
  filesDelete,
];

/** The files app: there wherever Nextcloud is. */
export const filesGroup = defineGroup({
  id: "files",
  title: "Files",
  description: "Browse, read, search, write, move, copy and delete the user's files (WebDAV).",
  available: () => Promise.resolve(true),
  tools: filesTools,
});
