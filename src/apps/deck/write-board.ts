// The Deck tools that change boards, their lists (stacks) and their labels.
import { z } from "zod";
import { badArguments, explained, toolMaker } from "../../mcp/index.ts";
import { NextcloudError } from "../../nextcloud/index.ts";
import { boardArg, deckOf, etagArg, id, refuseStale } from "./common.ts";
import { boardSummary, boardSummarySchema, labelOf, labelSchema } from "./schema.ts";

const tool = toolMaker("deck");

const CANNOT_CREATE =
  "Your Nextcloud administrator has limited who may create Deck boards, and you are not among them (Deck's capability canCreateBoards is false). Ask them, or use a board someone shares with you.";

const color = z
  .string()
  .regex(/^#?[0-9a-fA-F]{6}$/, "A color is 6 hex digits, e.g. 0082c9.")
  .transform((c) => c.replace(/^#/, "").toLowerCase());
const title = (max: number) => z.string().trim().min(1, "The title cannot be empty.").max(max);
const need = <T>(value: T | undefined, message: string): T => {
  if (value === undefined) throw badArguments(message);
  return value;
};

/** deck_board: create, rename or recolor, archive, delete and restore boards. */
export const deckBoard = tool.write({
  name: "deck_board",
  title: "Change a Deck board",
  description:
    "Creates a board (`title`, optional `color`), updates one (`title`/`color`), archives or " +
    "unarchives, deletes (restorable) or restores a deleted board.",
  destructive: true,
  idempotent: false,
  input: z.object({
    action: z.enum(["create", "update", "archive", "unarchive", "delete", "restore"]).describe("What to do."),
    board: boardArg.optional().describe("The board (all actions but create)."),
    title: title(100).optional().describe("create, update: the title."),
    color: color.optional().describe("6 hex digits, e.g. 0082c9."),
    etag: etagArg,
  }),
  output: z.object({ action: z.string(), board: boardSummarySchema }),
  async handler(args, ctx) {
    const { deck, cap } = await deckOf(ctx);
    if (args.action === "create") {
      if (!cap.canCreateBoards) throw new NextcloudError("forbidden", CANNOT_CREATE);
      const t = need(args.title, "Creating a board needs a `title`.");
      // The capability is cached for a minute: Deck's own 403 gets the same explanation.
      const created = await explained(deck.createBoard(t, args.color ?? "0082c9"), {
        forbidden: CANNOT_CREATE,
      });
      return { action: "created", board: boardSummary(created) };
    }
    const board = need(args.board, `Action ${args.action} needs the \`board\` id.`);
    if (args.action === "delete")
      return { action: "deleted", board: boardSummary(await deck.deleteBoard(board)) };
    if (args.action === "restore")
      return { action: "restored", board: boardSummary(await deck.undoDeleteBoard(board)) };
    if (args.action === "update" && args.title === undefined && args.color === undefined)
      throw badArguments("Updating a board needs a new `title` or `color`.");
    // Deck replaces title, color and archived together: read the board, change what was asked.
    const current = await deck.getBoard(board);
    if (current.notModified) throw new Error("Deck answered 304 without a conditional request");
    refuseStale(`Board ${String(board)}`, args.etag, current.etag);
    const b = current.value;
    const updated = await deck.updateBoard(board, {
      title: args.title ?? b.title,
      color: args.color ?? b.color ?? "0082c9",
      archived: args.action === "archive" ? true : args.action === "unarchive" ? false : b.archived === true,
    });
    return { action: args.action === "update" ? "updated" : `${args.action}d`, board: boardSummary(updated) };
  },
  text: (o) => `Board "${o.board.title}" (id ${String(o.board.id)}) ${o.action}.`,
});

/** deck_stack: create, rename, reorder and delete a board's lists. */
export const deckStack = tool.write({
  name: "deck_stack",
  title: "Change a Deck list",
  description:
    "Creates a list (stack) on a board, renames it, moves it to another position (`order`), or deletes it with its cards.",
  destructive: true,
  idempotent: false,
  input: z.object({
    action: z.enum(["create", "rename", "reorder", "delete"]).describe("What to do."),
    board: boardArg,
    stack: id("The list.").optional().describe("The list (all actions but create)."),
    title: title(100).optional().describe("create, rename: the title."),
    order: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .optional()
      .describe("Position; lists show in ascending order."),
  }),
  output: z.object({
    action: z.string(),
    stack: z.object({ id: z.number().int(), title: z.string(), order: z.number().int() }),
  }),
  async handler(args, ctx) {
    const { deck } = await deckOf(ctx);
    const shape = (s: { id: number; title: string; order?: number }) => ({
      id: s.id,
      title: s.title,
      order: s.order ?? 0,
    });
    if (args.action === "create") {
      const t = need(args.title, "Creating a list needs a `title`.");
      let order = args.order;
      if (order === undefined) {
        const stacks = await deck.listStacks(args.board);
        order = stacks.reduce((m, s) => Math.max(m, (s.order ?? 0) + 1), 0);
      }
      return { action: "created", stack: shape(await deck.createStack(args.board, t, order)) };
    }
    const stack = need(args.stack, `Action ${args.action} needs the \`stack\` id.`);
    if (args.action === "delete")
      return { action: "deleted", stack: shape(await deck.deleteStack(args.board, stack)) };
    const current = await deck.getStack(args.board, stack);
    const t = args.action === "rename" ? need(args.title, "Renaming a list needs a `title`.") : current.title;
    const order =
      args.action === "reorder"
        ? need(args.order, "Reordering a list needs an `order`.")
        : (current.order ?? 0);
    return {
      action: args.action === "rename" ? "renamed" : "reordered",
      stack: shape(await deck.updateStack(args.board, stack, { title: t, order })),
    };
  },
  text: (o) => `List "${o.stack.title}" (id ${String(o.stack.id)}) ${o.action}.`,
});

/** deck_label: create, update and delete a board's labels. */
export const deckLabel = tool.write({
  name: "deck_label",
  title: "Change a Deck label",
  description:
    "Creates, updates (`title`/`color`) or deletes a board's label. deck_assign puts labels on cards.",
  destructive: true,
  idempotent: false,
  input: z.object({
    action: z.enum(["create", "update", "delete"]).describe("What to do."),
    board: boardArg,
    label: id("The label.").optional().describe("The label (update, delete)."),
    title: title(100).optional().describe("create, update: the title."),
    color: color.optional().describe("6 hex digits, e.g. 31cc7c."),
  }),
  output: z.object({ action: z.string(), label: labelSchema }),
  async handler(args, ctx) {
    const { deck } = await deckOf(ctx);
    if (args.action === "create") {
      const t = need(args.title, "Creating a label needs a `title`.");
      return {
        action: "created",
        label: labelOf(await deck.createLabel(args.board, t, args.color ?? "31cc7c")),
      };
    }
    const label = need(args.label, `Action ${args.action} needs the \`label\` id.`);
    if (args.action === "delete")
      return { action: "deleted", label: labelOf(await deck.deleteLabel(args.board, label)) };
    if (args.title === undefined && args.color === undefined)
      throw badArguments("Updating a label needs a new `title` or `color`.");
    const current = await deck.getLabel(args.board, label);
    const updated = await deck.updateLabel(args.board, label, {
      title: args.title ?? current.title,
      color: args.color ?? current.color,
    });
    return { action: "updated", label: labelOf(updated) };
  },
  text: (o) => `Label "${o.label.title}" (id ${String(o.label.id)}) ${o.action}.`,
});
