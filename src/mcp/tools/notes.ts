// Notes tools (Notes API v1, with a WebDAV fallback on the notes folder).
import type { AnyToolDefinition } from "../registry.ts";

/** The notes tools, in the order tools/list shows them. */
export const notesTools: readonly AnyToolDefinition[] = [];
