// Notes tools (Notes API v1, with a WebDAV fallback on the notes folder).
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
