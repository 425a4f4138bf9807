// The Deck tools that change cards: create, update, move, reorder, archive, done, delete; and
// labels and people on a card.
import { z } from "zod";
import { badArguments, toolMaker, type ToolContext } from "../../mcp/index.ts";
import type { DeckClient } from "./client.ts";
import { boardArg, cardArg, deckOf, etagArg, refuseStale, stackArg } from "./common.ts";
import {
  cardOut,
  cardSchema,
  cardUpdateBody,
  isoDate,
  membersOf,
  resolveLabels,
  resolveUsers,
  type RawCard,
} from "./schema.ts";

const tool = toolMaker("deck");

const dateArg = z
  .string()
  .max(40)
  .nullable()
  .optional()
  .describe("Due date, ISO 8601 (2026-05-01T17:00:00+02:00 or 2026-05-01); null clears it.");

function dueOf(input: string | null | undefined): string | null | undefined {
  if (input === undefined || input === null) return input;
  const iso = isoDate(input);
  if (iso === undefined)
    throw badArguments(`dueDate "${input}" is not an ISO 8601 date, e.g. 2026-05-01T17:00:00Z.`);
  return iso;
}

async function readCard(
  deck: DeckClient,
  board: number,
  stack: number,
  card: number,
): Promise<{ card: RawCard; etag: string | null }> {
  const got = await deck.getCard(board, stack, card);
  if (got.notModified) throw new Error("Deck answered 304 without a conditional request");
  return { card: got.value, etag: got.etag };
}

/** deck_card: every change of one card but labels and people. */
export const deckCard = tool.write({
  name: "deck_card",
  title: "Change a Deck card",
  description:
    "create (in `stack`: `title`, `description`, `dueDate`), update (title/description/dueDate), " +
    "move (to `toStack`, on `toBoard` if another board), reorder (`order` in its list), archive, " +
    "unarchive, done, undone, delete. Pass `etag` from deck_get_card to refuse a stale update.",
  destructive: true,
  idempotent: false,
  input: z.object({
    action: z
      .enum(["create", "update", "move", "reorder", "archive", "unarchive", "done", "undone", "delete"])
      .describe("What to do."),
    board: boardArg,
    stack: stackArg,
    card: cardArg.optional().describe("The card (all actions but create)."),
    title: z.string().trim().min(1).max(255).optional().describe("create, update: the title."),
    description: z.string().max(100_000).optional().describe("Markdown."),
    dueDate: dateArg,
    toStack: z.number().int().positive().optional().describe("move: the target list."),
    toBoard: z.number().int().positive().optional().describe("move: the target board when not `board`."),
    order: z.number().int().min(0).max(100_000).optional().describe("Position in the list, 0 is the top."),
    etag: etagArg,
  }),
  output: z.object({ action: z.string(), card: cardSchema }),
  async handler(args, ctx) {
    const { deck } = await deckOf(ctx);
    const { board, stack } = args;
    const due = dueOf(args.dueDate);
    if (args.action === "create") {
      if (args.title === undefined) throw badArguments("Creating a card needs a `title`.");
      const created = await deck.createCard(board, stack, {
        title: args.title,
        description: args.description ?? "",
        duedate: due ?? null,
        order: args.order ?? 999,
      });
      return { action: "created", card: cardOut(created, board, created.ETag ?? null) };
    }
    if (args.card === undefined) throw badArguments(`Action ${args.action} needs the \`card\` id.`);
    const card = args.card;
    const { card: current, etag } = await readCard(deck, board, stack, card);
    refuseStale(`Card ${String(card)}`, args.etag, etag);
    const after = async (b: number, s: number) => {
      const { card: c, etag: e } = await readCard(deck, b, s, card);
      return cardOut(c, b, e);
    };
    switch (args.action) {
      case "update": {
        const changes: Record<string, unknown> = {
          ...(args.title === undefined ? {} : { title: args.title }),
          ...(args.description === undefined ? {} : { description: args.description }),
          ...(due === undefined ? {} : { duedate: due }),
        };
        if (Object.keys(changes).length === 0)
          throw badArguments("Updating a card needs a `title`, `description` or `dueDate`.");
        await deck.updateCard(board, stack, card, cardUpdateBody(current, changes));
        return { action: "updated", card: await after(board, stack) };
      }
      case "done":
      case "undone": {
        const done = args.action === "done" ? new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00") : null;
        await deck.updateCard(board, stack, card, cardUpdateBody(current, { done }));
        return {
          action: args.action === "done" ? "marked done" : "marked not done",
          card: await after(board, stack),
        };
      }
      case "move":
      case "reorder": {
        const toStack = args.action === "move" ? args.toStack : stack;
        if (toStack === undefined)
          throw badArguments("Moving a card needs `toStack` (and `toBoard` for another board).");
        const toBoard = args.toBoard ?? board;
        if (toBoard !== board) {
          // Across boards Deck's update moves the card and carries its labels over by title.
          await deck.updateCard(toBoard, toStack, card, cardUpdateBody(current, {}));
          if (args.order !== undefined)
            await deck.cardAction(toBoard, toStack, card, "reorder", { stackId: toStack, order: args.order });
        } else {
          if (args.action === "reorder" && args.order === undefined)
            throw badArguments("Reordering a card needs an `order`.");
          await deck.cardAction(board, toStack, card, "reorder", {
            stackId: toStack,
            order: args.order ?? 999,
          });
        }
        return {
          action: args.action === "move" ? "moved" : "reordered",
          card: await after(toBoard, toStack),
        };
      }
      case "archive":
      case "unarchive":
        await deck.cardAction(board, stack, card, args.action);
        return { action: `${args.action}d`, card: await after(board, stack) };
      case "delete": {
        const deleted = await deck.deleteCard(board, stack, card);
        return { action: "deleted", card: cardOut(deleted, board, null) };
      }
    }
  },
  text: (o) =>
    `Card "${o.card.title}" (id ${String(o.card.id)}, list ${String(o.card.stackId)}) ${o.action}.`,
});

const labelRef = z.union([z.number().int().positive(), z.string().trim().min(1).max(100)]);

/** deck_assign: labels and people on a card. */
export const deckAssign = tool.write({
  name: "deck_assign",
  title: "Assign labels and people",
  description:
    "Adds or removes labels (id or title) and assigned users (user id or display name; they must " +
    "be on the board) on a card.",
  destructive: false,
  idempotent: true,
  input: z.object({
    board: boardArg,
    stack: stackArg,
    card: cardArg,
    addLabels: z.array(labelRef).max(20).optional().describe("Labels to put on (id or title)."),
    removeLabels: z.array(labelRef).max(20).optional().describe("Labels to take off."),
    addUsers: z
      .array(z.string().min(1).max(200))
      .max(20)
      .optional()
      .describe("People to assign (user id or name)."),
    removeUsers: z.array(z.string().min(1).max(200)).max(20).optional().describe("People to unassign."),
  }),
  output: z.object({ card: cardSchema }),
  async handler(args, ctx: ToolContext) {
    const { deck } = await deckOf(ctx);
    const { board, stack, card } = args;
    const labels = [...(args.addLabels ?? []), ...(args.removeLabels ?? [])];
    const users = [...(args.addUsers ?? []), ...(args.removeUsers ?? [])];
    if (labels.length + users.length === 0)
      throw badArguments("Give `addLabels`, `removeLabels`, `addUsers` or `removeUsers`.");
    const b = await deck.getBoard(board);
    if (b.notModified) throw new Error("Deck answered 304 without a conditional request");
    const boardLabels = b.value.labels ?? [];
    const members = membersOf(b.value);
    const add = resolveLabels(args.addLabels ?? [], boardLabels);
    const remove = resolveLabels(args.removeLabels ?? [], boardLabels);
    const unknownLabels = [...add.unknown, ...remove.unknown];
    if (unknownLabels.length > 0)
      throw badArguments(
        `No label ${unknownLabels.map((l) => JSON.stringify(l)).join(", ")} on board ${String(board)}; its labels: ${boardLabels.map((l) => `${l.title} (${String(l.id)})`).join(", ") || "none"}. deck_label creates one.`,
      );
    const addU = resolveUsers(args.addUsers ?? [], members);
    const removeU = resolveUsers(args.removeUsers ?? [], members);
    const unknownUsers = [...addU.unknown, ...removeU.unknown];
    if (unknownUsers.length > 0)
      throw badArguments(
        `${unknownUsers.map((u) => JSON.stringify(u)).join(", ")} is not on board ${String(board)}; its people: ${members.map((m) => `${m.displayName} (${m.uid})`).join(", ")}. The board must be shared with them first.`,
      );
    const { card: current } = await readCard(deck, board, stack, card);
    const has = new Set((current.labels ?? []).map((l) => l.id));
    const assigned = new Set(
      (current.assignedUsers ?? []).map((a) => a.participant.uid ?? a.participant.primaryKey),
    );
    for (const labelId of add.ids)
      if (!has.has(labelId)) await deck.cardAction(board, stack, card, "assignLabel", { labelId });
    for (const labelId of remove.ids)
      if (has.has(labelId)) await deck.cardAction(board, stack, card, "removeLabel", { labelId });
    for (const userId of addU.uids)
      if (!assigned.has(userId)) await deck.cardAction(board, stack, card, "assignUser", { userId });
    for (const userId of removeU.uids)
      if (assigned.has(userId)) await deck.cardAction(board, stack, card, "unassignUser", { userId });
    const { card: now, etag } = await readCard(deck, board, stack, card);
    return { card: cardOut(now, board, etag) };
  },
  text: (o) =>
    `Card "${o.card.title}": labels ${o.card.labels.map((l) => l.title).join(", ") || "none"}; assigned ${o.card.assignees.map((a) => a.displayName).join(", ") || "nobody"}.`,
});
