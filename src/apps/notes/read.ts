// The read-only notes tools: list, search, get.
import { z } from "zod";
import { excerpt, indexOfIgnoringCase } from "./model.ts";
import { mapLimited } from "../../mcp/index.ts";
import {
  categoryInput,
  noteIdInput,
  noteLine,
  noteSummary,
  noteWithContent,
  storedCategory,
  summaryOf,
  tools,
} from "./schema.ts";
import { withNotes, type NoteEntry } from "./store.ts";

/** Parallel content reads (one request each when notes come from files). */
const READS = 8;

// Ties (same second) by title, category and id, so the order does not depend on how notes are reached.
const newestFirst = (a: NoteEntry, b: NoteEntry) =>
  b.modified - a.modified ||
  a.title.localeCompare(b.title) ||
  a.category.localeCompare(b.category) ||
  a.id - b.id;

/** Lists the user's notes, newest first, a page at a time. */
export const notesList = tools.read({
  name: "notes_list",
  title: "List notes",
  description:
    "Lists the user's notes in Nextcloud Notes, most recently changed first, a page at a time. For each " +
    "note it returns the id, title, category, modification time, favourite flag and etag, but not the " +
    "text unless includeContent is true. Use it to browse notes or find a note's id; to find notes by " +
    "words they contain use notes_search, to read one note use notes_get. When nextOffset is present, " +
    "call again with offset=nextOffset for the next page.",
  input: z.object({
    category: categoryInput
      .optional()
      .describe('Only notes in exactly this category ("" for notes without one); all notes if omitted.'),
    offset: z
      .number()
      .int()
      .min(0, "The offset cannot be negative.")
      .default(0)
      .describe("How many notes to skip, for paging; 0 (the default) starts with the newest note."),
    limit: z
      .number()
      .int()
      .min(1, "The limit must be at least 1.")
      .max(200, "The limit may be at most 200.")
      .default(50)
      .describe("The most notes to return (1-200, default 50)."),
    includeContent: z
      .boolean()
      .default(false)
      .describe("Also return each note's text (default false: titles and metadata only)."),
  }),
  output: z.object({
    notes: z
      .array(
        noteSummary.extend({ content: z.string().optional().describe("The note's text, if asked for.") }),
      )
      .describe("The notes of this page, most recently changed first."),
    total: z.number().int().describe("How many notes match in all (across every page)."),
    offset: z.number().int().describe("The offset of this page."),
    nextOffset: z.number().int().optional().describe("The offset of the next page; absent on the last page."),
  }),
  handler: (args, ctx) =>
    withNotes(ctx, "notes_list", async (store) => {
      const category = args.category === undefined ? undefined : storedCategory(args.category);
      const all = (await store.list(category)).sort(newestFirst);
      const page = all.slice(args.offset, args.offset + args.limit);
      const notes = await mapLimited(page, READS, async (n) => {
        const content = await n.content();
        return { ...summaryOf(n, content), ...(args.includeContent ? { content } : {}) };
      });
      const next = args.offset + args.limit;
      return {
        notes,
        total: all.length,
        offset: args.offset,
        ...(next < all.length ? { nextOffset: next } : {}),
      };
    }),
  text: (o) =>
    [
      o.total === 0
        ? "No notes."
        : `Notes ${String(o.offset + 1)}-${String(o.offset + o.notes.length)} of ${String(o.total)}:`,
      ...o.notes.map((n) => `- ${noteLine(n)}${n.content === undefined ? "" : `\n${indent(n.content)}`}`),
      ...(o.nextOffset === undefined ? [] : [`More: call again with offset ${String(o.nextOffset)}.`]),
    ].join("\n"),
});

/** Finds notes whose title or text contains a string. */
export const notesSearch = tools.read({
  name: "notes_search",
  title: "Search notes",
  description:
    "Finds the user's notes whose title or text contains the given words (as one string, ignoring " +
    "case), most recently changed first. Returns for each match its id, title, category, modification " +
    "time, etag, where it matched and a short excerpt around the first match. Use it to find a note " +
    "when you know what it is about; then read it in full with notes_get.",
  input: z.object({
    query: z
      .string()
      .min(1, "The query cannot be empty.")
      .max(200, "The query may have at most 200 characters.")
      .describe("The text to look for, e.g. a word or phrase; case does not matter."),
    category: categoryInput
      .optional()
      .describe('Only search notes in exactly this category ("" for notes without one).'),
    limit: z
      .number()
      .int()
      .min(1, "The limit must be at least 1.")
      .max(100, "The limit may be at most 100.")
      .default(20)
      .describe("The most matches to return (1-100, default 20)."),
  }),
  output: z.object({
    matches: z
      .array(
        noteSummary.extend({
          matchedIn: z
            .array(z.enum(["title", "content"]))
            .describe("Where the query occurs: the title, the content or both."),
          excerpt: z.string().describe("About 160 characters of the text around the first match."),
        }),
      )
      .describe("The matching notes, most recently changed first."),
    total: z.number().int().describe("How many notes match in all; more than returned when limited."),
  }),
  handler: (args, ctx) =>
    withNotes(ctx, "notes_search", async (store) => {
      const category = args.category === undefined ? undefined : storedCategory(args.category);
      const all = (await store.list(category)).sort(newestFirst);
      const found = await mapLimited(all, READS, async (n) => {
        const content = await n.content();
        const inTitle = indexOfIgnoringCase(n.title, args.query) >= 0;
        const at = indexOfIgnoringCase(content, args.query);
        if (!inTitle && at < 0) return undefined;
        const matchedIn: ("title" | "content")[] = [];
        if (inTitle) matchedIn.push("title");
        if (at >= 0) matchedIn.push("content");
        return { ...summaryOf(n, content), matchedIn, excerpt: excerpt(content, at) };
      });
      const matches = found.filter((m) => m !== undefined);
      return { matches: matches.slice(0, args.limit), total: matches.length };
    }),
  text: (o) =>
    [
      o.total === 0
        ? "No note matches."
        : `${String(o.total)} note${o.total === 1 ? "" : "s"} match${o.matches.length < o.total ? ` (showing ${String(o.matches.length)})` : ""}:`,
      ...o.matches.map((m) => `- ${noteLine(m)}${m.excerpt === "" ? "" : `\n  ${m.excerpt}`}`),
    ].join("\n"),
});

/** Reads one note. */
export const notesGet = tools.read({
  name: "notes_get",
  title: "Read a note",
  description:
    "Returns one of the user's notes by id: its title, category, modification time, favourite flag, " +
    "full text and etag. Use it to read a note before answering from it or before changing it with " +
    "notes_update (pass the etag along). Find ids with notes_list or notes_search.",
  input: z.object({ id: noteIdInput }),
  output: noteWithContent,
  handler: (args, ctx) =>
    withNotes(ctx, "notes_get", async (store) => {
      const { note } = await store.get(args.id);
      return { ...summaryOf(note, note.content), content: note.content };
    }),
  text: (o) => `${noteLine(o)}, etag ${o.etag}\n\n${o.content}`,
});

function indent(s: string): string {
  return s
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}
