// The Notes app: its API v1 client (client.ts) with a fallback to the notes folder over WebDAV
// (dav.ts) when Nextcloud refuses bearer tokens on app routes; one store interface (store.ts) for both.
import { defineGroup, type AnyToolDefinition } from "../../mcp/index.ts";
import { notesGet, notesList, notesSearch } from "./read.ts";
import { notesAppend, notesCreate, notesDelete, notesUpdate } from "./write.ts";

/** The notes tools, in the order tools/list shows them. */
export const notesTools: readonly AnyToolDefinition[] = [
  notesList,
  notesSearch,
  notesGet,
  notesCreate,
  notesUpdate,
  notesAppend,
  notesDelete,
];

/** The Notes app: there when the user's capabilities carry `notes`. */
export const notesGroup = defineGroup({
  id: "notes",
  title: "Notes",
  description: "List, search, read, create, change and delete the user's notes (Nextcloud Notes).",
  available: async (nextcloud) => (await nextcloud.capabilities()).notes !== undefined,
  tools: notesTools,
});
