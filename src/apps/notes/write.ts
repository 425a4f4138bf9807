// The notes tools that change notes: create, update (guarded by the etag), append, delete.
import { z } from "zod";
import { GatewayError } from "../../errors.ts";
import { NextcloudError } from "../../nextcloud/index.ts";
import { appended, MAX_CONTENT_BYTES, noteConflict, noteEtag, utf8Bytes } from "./model.ts";
import {
  categoryInput,
  contentInput,
  noteIdInput,
  noteLine,
  noteSummary,
  storedCategory,
  storedTitle,
  summaryOf,
  titleInput,
  tools,
} from "./schema.ts";
import { withNotes } from "./store.ts";

/** How often notes_append re-reads a note that changed between its read and its write. */
const APPEND_ATTEMPTS = 3;

const changedNote = z.object({ note: noteSummary.describe("The note as it is now, with its new etag.") });
const isConflict = (err: unknown) => err instanceof NextcloudError && err.kind === "precondition_failed";

/** Creates a note. */
export const notesCreate = tools.write({
  name: "notes_create",
  title: "Create a note",
  description:
    "Creates a new note in the user's Nextcloud Notes with a title, text and optional category. " +
    "Use it when the user asks to write something down. Returns the new note's id, its title as " +
    'stored (a title already used in the category gets " (2)" appended) and its etag. To add to an ' +
    "existing note use notes_append; to change one use notes_update.",
  input: z.object({
    title: titleInput,
    content: contentInput.default("").describe("The note's text, usually Markdown; at most 1 MiB."),
    category: categoryInput
      .default("")
      .describe('The category (a folder in the notes folder); "/" separates sub-categories. Default: none.'),
  }),
  output: changedNote,
  destructive: false,
  idempotent: false,
  handler: (args, ctx) =>
    withNotes(ctx, "notes_create", async (store) => {
      const note = await store.create({
        title: storedTitle(args.title),
        category: storedCategory(args.category),
        content: args.content,
      });
      return { note: summaryOf(note, note.content) };
    }),
  text: (o) => `Created note ${noteLine(o.note)}, etag ${o.note.etag}.`,
});

/** Changes a note's title, text or category. */
export const notesUpdate = tools.write({
  name: "notes_update",
  title: "Update a note",
  description:
    "Changes an existing note: any of its title, text (replaced as a whole) and category (moving it). " +
    "Pass the etag from notes_get so that the change applies only if the note was not changed since you " +
    "read it; if it was, nothing is changed and the error shows the current version (etag, title and " +
    "text) so you can redo the change on it. Returns the note's new etag. To add text at the end " +
    "without replacing it, use notes_append.",
  input: z
    .object({
      id: noteIdInput,
      title: titleInput
        .optional()
        .describe(
          `The new title, at most 200 characters; file-name characters are removed and a title already used in the category gets " (2)".`,
        ),
      content: contentInput.optional().describe("The note's new text, replacing the old; at most 1 MiB."),
      category: categoryInput.optional().describe('The new category; "" moves the note out of any category.'),
      etag: z
        .string()
        .max(200)
        .optional()
        .describe(
          "The etag you read with the note (notes_get, notes_list); the change is refused if the note " +
            "has changed since. Strongly recommended; without it the change overwrites whatever is there.",
        ),
    })
    .refine((a) => a.title !== undefined || a.content !== undefined || a.category !== undefined, {
      message: "Give at least one of title, content or category to change.",
    }),
  output: changedNote,
  destructive: true,
  idempotent: true,
  handler: (args, ctx) =>
    withNotes(ctx, "notes_update", async (store) => {
      const current = await store.get(args.id);
      if (args.etag !== undefined && args.etag.replace(/^(W\/)?"|"$/g, "") !== noteEtag(current.note)) {
        throw noteConflict(current.note);
      }
      const note = await store.update(current, {
        ...(args.title === undefined ? {} : { title: storedTitle(args.title) }),
        ...(args.content === undefined ? {} : { content: args.content }),
        ...(args.category === undefined ? {} : { category: storedCategory(args.category) }),
      });
      return { note: summaryOf(note, note.content) };
    }),
  text: (o) => `Updated note ${noteLine(o.note)}, etag ${o.note.etag}.`,
});

/** Adds text at the end of a note. */
export const notesAppend = tools.write({
  name: "notes_append",
  title: "Append to a note",
  description:
    "Adds text at the end of an existing note, on a new line, keeping what is there. Use it for " +
    "logs, journals, lists and anything the user wants added rather than rewritten; no etag is needed, " +
    "and a change someone makes at the same time is kept. Returns the note's new etag.",
  input: z.object({
    id: noteIdInput,
    text: contentInput
      .refine((t) => t !== "", { message: "The text to append cannot be empty." })
      .describe("The text to add at the end of the note (it starts on a new line); at most 1 MiB."),
  }),
  output: changedNote,
  destructive: false,
  idempotent: false,
  handler: (args, ctx) =>
    withNotes(ctx, "notes_append", async (store) => {
      for (let attempt = 1; ; attempt++) {
        const current = await store.get(args.id);
        const content = appended(current.note.content, args.text);
        if (utf8Bytes(content) > MAX_CONTENT_BYTES) {
          throw new GatewayError(
            "invalid_request",
            `Note ${String(args.id)} would grow past 1 MiB; create a new note with notes_create instead.`,
          );
        }
        try {
          const note = await store.update(current, { content });
          return { note: summaryOf(note, note.content) };
        } catch (err) {
          if (!isConflict(err)) throw err;
          if (attempt === APPEND_ATTEMPTS) {
            throw new GatewayError(
              "temporarily_unavailable",
              `Note ${String(args.id)} kept changing while the text was being appended; nothing was appended. Try again.`,
              { cause: err },
            );
          }
        }
      }
    }),
  text: (o) => `Appended to note ${noteLine(o.note)}, etag ${o.note.etag}.`,
});

/** Deletes a note. */
export const notesDelete = tools.write({
  name: "notes_delete",
  title: "Delete a note",
  description:
    "Deletes one of the user's notes by id (Nextcloud keeps it in the trash bin for a while). Ask the " +
    "user before deleting. Returns the id, title and category of the deleted note.",
  input: z.object({ id: noteIdInput }),
  output: z.object({
    id: z.number().int().describe("The deleted note's id."),
    title: z.string().describe("The deleted note's title."),
    category: z.string().describe('The deleted note\'s category ("" for none).'),
  }),
  destructive: true,
  idempotent: true,
  handler: (args, ctx) =>
    withNotes(ctx, "notes_delete", async (store) => {
      const current = await store.get(args.id);
      await store.delete(current);
      const { id, title, category } = current.note;
      return { id, title, category };
    }),
  text: (o) => `Deleted note #${String(o.id)} "${o.title}"${o.category === "" ? "" : ` from ${o.category}`}.`,
});
