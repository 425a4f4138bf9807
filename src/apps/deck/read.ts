// The Deck tools that change nothing: boards (with an ETag and If-Modified-Since), one board with its
// lists and cards, one card in full with its attachments, and a card's comments.
import { z } from "zod";
import { badArguments, pageInput, pageOf, pageOutput, toolMaker } from "../../mcp/index.ts";
import { boardArg, cardArg, deckOf, stackArg } from "./common.ts";
import {
  attachmentOf,
  attachmentSchema,
  boardSummary,
  boardSummarySchema,
  cardOut,
  cardSchema,
  cardSummary,
  commentOf,
  commentSchema,
  labelOf,
  labelSchema,
  membersOf,
  stackSchema,
} from "./schema.ts";

const tool = toolMaker("deck");

/** deck_list_boards: the boards the user owns or that are shared with them. */
export const deckListBoards = tool.read({
  name: "deck_list_boards",
  title: "List Deck boards",
  description:
    "Lists the Deck boards you own or that are shared with you, with your permissions. Pass the `etag` " +
    "of an earlier call to learn cheaply whether anything changed.",
  input: z.object({
    modifiedSince: z.string().max(40).optional().describe("Only boards changed after this ISO 8601 time."),
    etag: z
      .string()
      .max(200)
      .optional()
      .describe("The `etag` of an earlier answer: `unchanged` if still current."),
    includeDeleted: z.boolean().default(false).describe("Also deleted boards (to restore one)."),
    details: z.boolean().default(false).describe("Also each board's labels and people."),
    ...pageInput("boards", 50, 200),
  }),
  output: z.object({
    unchanged: z.boolean().describe("True when `etag` was still current: no boards are returned."),
    etag: z.string().nullable(),
    boards: z.array(
      boardSummarySchema.extend({
        labels: z.array(z.string()).optional().describe("With `details`: label titles."),
        people: z.array(z.string()).optional().describe("With `details`: owner and members (user ids)."),
      }),
    ),
    ...pageOutput,
  }),
  async handler(args, ctx) {
    let since: Date | undefined;
    if (args.modifiedSince !== undefined) {
      since = new Date(args.modifiedSince);
      if (Number.isNaN(since.getTime()))
        throw badArguments(
          `modifiedSince "${args.modifiedSince}" is not an ISO 8601 time, e.g. 2026-05-01T09:00:00Z.`,
        );
    }
    const { deck } = await deckOf(ctx);
    const got = await deck.listBoards({
      details: args.details,
      ...(since === undefined ? {} : { since }),
      ...(args.etag === undefined ? {} : { etag: args.etag }),
    });
    if (got.notModified)
      return { unchanged: true, etag: got.etag, boards: [], offset: 0, total: 0, nextOffset: null };
    const all = got.value
      .map((b) => ({
        ...boardSummary(b),
        ...(args.details
          ? { labels: (b.labels ?? []).map((l) => l.title), people: membersOf(b).map((m) => m.uid) }
          : {}),
      }))
      .filter((b) => args.includeDeleted || !b.deleted)
      .sort((a, b) => a.title.localeCompare(b.title) || a.id - b.id);
    const page = pageOf(all, args.offset, args.limit);
    return {
      unchanged: false,
      etag: got.etag,
      boards: page.items,
      offset: page.offset,
      total: page.total,
      nextOffset: page.nextOffset,
    };
  },
  text: (o) =>
    o.unchanged
      ? `Unchanged since etag ${o.etag ?? ""}.`
      : o.total === 0
        ? "No boards."
        : o.boards
            .map(
              (b) =>
                `- ${b.title} (id ${String(b.id)}${b.archived ? ", archived" : ""}${b.deleted ? ", deleted" : ""}; ${b.permissions.join("/")})`,
            )
            .join("\n"),
});

/** deck_get_board: one board with its labels, people, lists and cards. */
export const deckGetBoard = tool.read({
  name: "deck_get_board",
  title: "Get a Deck board",
  description:
    "One board with its labels, people, lists (stacks) and their cards (archived cards only with " +
    "`archived: true`). Ids found here go to the other deck tools.",
  input: z.object({
    board: boardArg,
    archived: z.boolean().default(false).describe("Show the archived cards instead of the active ones."),
    etag: z
      .string()
      .max(200)
      .optional()
      .describe("The board's `etag` from earlier: `unchanged` if still current."),
  }),
  output: z.object({
    unchanged: z.boolean(),
    etag: z.string().nullable(),
    board: boardSummarySchema.nullable(),
    labels: z.array(labelSchema),
    people: z.array(z.object({ uid: z.string(), displayName: z.string(), permissions: z.array(z.string()) })),
    stacks: z.array(stackSchema),
  }),
  async handler(args, ctx) {
    const { deck } = await deckOf(ctx);
    const got = await deck.getBoard(args.board, args.etag);
    if (got.notModified)
      return { unchanged: true, etag: got.etag, board: null, labels: [], people: [], stacks: [] };
    const stacks = await deck.listStacks(args.board, args.archived);
    return {
      unchanged: false,
      etag: got.etag,
      board: boardSummary(got.value),
      labels: (got.value.labels ?? []).map(labelOf),
      people: membersOf(got.value),
      stacks: stacks
        .sort((a, b) => (a.order ?? 0) - (b.order ?? 0) || a.id - b.id)
        .map((s) => ({
          id: s.id,
          title: s.title,
          order: s.order ?? 0,
          cards: (s.cards ?? []).map(cardSummary),
        })),
    };
  },
  text: (o) => {
    if (o.unchanged || o.board === null) return `Unchanged since etag ${o.etag ?? ""}.`;
    const lines = [`${o.board.title} (board ${String(o.board.id)})`];
    for (const s of o.stacks) {
      lines.push(`## ${s.title} (list ${String(s.id)})`);
      for (const c of s.cards)
        lines.push(
          `- ${c.title} (card ${String(c.id)}${c.dueDate === null ? "" : `, due ${c.dueDate}`}${c.done === null ? "" : ", done"})`,
        );
    }
    return lines.join("\n");
  },
});

/** deck_get_card: one card in full, with its etag and attachments. */
export const deckGetCard = tool.read({
  name: "deck_get_card",
  title: "Get a Deck card",
  description: "One card in full: description, due date, labels, assignees, attachments, and its etag.",
  input: z.object({ board: boardArg, stack: stackArg, card: cardArg }),
  output: z.object({ card: cardSchema, attachments: z.array(attachmentSchema) }),
  async handler(args, ctx) {
    const { deck } = await deckOf(ctx);
    const got = await deck.getCard(args.board, args.stack, args.card);
    if (got.notModified) throw new Error("Deck answered 304 without a conditional request");
    const attachments = await deck.listAttachments(args.board, args.stack, args.card);
    return {
      card: cardOut(got.value, args.board, got.etag),
      attachments: attachments.filter((a) => (a.deletedAt ?? 0) === 0).map(attachmentOf),
    };
  },
  text: (o) =>
    [
      `${o.card.title} (card ${String(o.card.id)}, list ${String(o.card.stackId)}, etag ${o.card.etag ?? "none"})`,
      o.card.description,
      o.card.dueDate === null ? "" : `Due: ${o.card.dueDate}`,
      o.card.done === null ? "" : `Done: ${o.card.done}`,
      o.card.labels.length === 0 ? "" : `Labels: ${o.card.labels.map((l) => l.title).join(", ")}`,
      o.card.assignees.length === 0
        ? ""
        : `Assigned: ${o.card.assignees.map((a) => a.displayName).join(", ")}`,
      o.attachments.length === 0
        ? ""
        : `Attachments: ${o.attachments.map((a) => `${a.name} (${String(a.id)})`).join(", ")}`,
    ]
      .filter((l) => l !== "")
      .join("\n"),
});

/** deck_list_comments: a card's comments, newest first. */
export const deckListComments = tool.read({
  name: "deck_list_comments",
  title: "List a card's comments",
  description: "The comments on a Deck card, newest first.",
  input: z.object({ card: cardArg, ...pageInput("comments", 20, 100) }),
  output: z.object({
    comments: z.array(commentSchema),
    offset: z.number().int(),
    nextOffset: z
      .number()
      .int()
      .nullable()
      .describe("The `offset` of the next page, or null when this was the last."),
  }),
  async handler(args, ctx) {
    const { deck } = await deckOf(ctx);
    // One more than asked tells whether another page exists (Deck's list gives no total).
    const got = await deck.listComments(args.card, args.limit + 1, args.offset);
    return {
      comments: got.slice(0, args.limit).map(commentOf),
      offset: args.offset,
      nextOffset: got.length > args.limit ? args.offset + args.limit : null,
    };
  },
  text: (o) =>
    o.comments.length === 0
      ? "No comments."
      : o.comments
          .map((c) => `- ${c.authorName} (${c.created}, id ${String(c.id)}): ${c.message}`)
          .join("\n"),
});
