// Notes tools (Notes API v1, with a WebDAV fallback on the notes folder).
import { defineGroup } from "../group.ts";
import type { AnyToolDefinition } from "../registry.ts";
import { notesGet, notesList, notesSearch } from "./notes-read.ts";
import { notesAppend, notesCreate, notesDelete, notesUpdate } from "./notes-write.ts";

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
