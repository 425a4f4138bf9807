// The zod fields the notes tools share (inputs with their limits, the note as tools return it) and
// the one-line text rendering of a note.
import { z } from "zod";
import { toolMaker } from "../../mcp/index.ts";
import {
  MAX_CATEGORY,
  MAX_CONTENT_BYTES,
  MAX_TITLE,
  noteEtag,
  safeCategory,
  safeTitle,
  utf8Bytes,
  type StoredNote,
} from "./model.ts";

/** Read-only tools need only mcp:tools; the others also mcp:write. */
/** The makers of the notes tools: prefix `notes_`, scopes and annotations from read or write. */
export const tools = toolMaker("notes");

export const noteIdInput = z
  .number()
  .int("The note id is a whole number.")
  .positive("The note id is a positive number.")
  .describe("The note's numeric id, as notes_list, notes_search or notes_create return it.");

export const titleInput = z
  .string()
  .max(MAX_TITLE, `The title may have at most ${String(MAX_TITLE)} characters.`)
  .refine((t) => safeTitle(t) !== "", {
    message: 'The title needs at least one character other than spaces, dots and \\ / : * ? " < > |.',
  })
  .describe(
    `The note's title, at most ${String(MAX_TITLE)} characters. It is also the note's file name, so ` +
      'the characters \\ / : * ? " < > | and leading or trailing spaces and dots are removed. If another ' +
      'note in the category has the same title, " (2)" (or the next free number) is added.',
  );

export const categoryInput = z
  .string()
  .max(MAX_CATEGORY, `The category may have at most ${String(MAX_CATEGORY)} characters.`)
  .describe(
    'The category (a folder in the user\'s notes folder); "/" separates sub-categories, e.g. ' +
      '"Work/Meetings". An empty string means no category. Unknown categories are created.',
  );

export const contentInput = z
  .string()
  .refine((c) => utf8Bytes(c) <= MAX_CONTENT_BYTES, {
    message: "The content may be at most 1 MiB (1,048,576 bytes in UTF-8).",
  })
  .describe("The note's text, usually Markdown; at most 1 MiB.");

/** A title as it will be stored. */
export const storedTitle = (title: string) => safeTitle(title);
/** A category as it will be stored. */
export const storedCategory = (category: string) => safeCategory(category);

const noteFields = {
  id: z
    .number()
    .int()
    .describe("The note's id; pass it to notes_get, notes_update, notes_append or notes_delete."),
  title: z.string().describe("The note's title (also its file name without the .md suffix)."),
  category: z.string().describe('The note\'s category; "" for none, "/" separates sub-categories.'),
  modified: z.number().int().describe("When the note last changed, in Unix seconds."),
  favorite: z.boolean().describe("Whether the user starred the note in the Notes app."),
  etag: z
    .string()
    .describe(
      "The note's version tag. Pass it to notes_update so that the change applies only if nobody " +
        "changed the note since; it changes whenever the note does.",
    ),
};

/** A note without its content, as lists and changes return it. */
export const noteSummary = z.object(noteFields).describe("A note, without its content.");

/** A note with its content. */
export const noteWithContent = z
  .object({ ...noteFields, content: z.string().describe("The note's text (usually Markdown).") })
  .describe("A note with its content.");

export type NoteSummary = z.output<typeof noteSummary>;

/** The summary of a note, with its etag. */
export function summaryOf(n: Omit<StoredNote, "content">, content: string): NoteSummary {
  const { id, title, category, modified, favorite } = n;
  return { id, title, category, modified, favorite, etag: noteEtag({ ...n, content }) };
}

/** `#12 "Plans" in Work, modified 2025-01-31 10:00 UTC` */
export function noteLine(n: NoteSummary): string {
  const when = new Date(n.modified * 1000).toISOString().slice(0, 16).replace("T", " ");
  return `#${String(n.id)} "${n.title}"${n.category === "" ? "" : ` in ${n.category}`}${n.favorite ? " ★" : ""}, modified ${when} UTC`;
}
