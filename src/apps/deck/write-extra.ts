// The Deck tools for what hangs on a card: comments (Deck's OCS API) and attachments (a file from the
// user's files, uploaded as Deck's "file" attachment).
import { z } from "zod";
import { badArguments, explained, nextcloudOf, toolMaker } from "../../mcp/index.ts";
import { NextcloudError } from "../../nextcloud/index.ts";
import { boardArg, cardArg, deckOf, id, stackArg } from "./common.ts";
import { attachmentOf, attachmentSchema, commentOf, commentSchema } from "./schema.ts";

const tool = toolMaker("deck");

/** The largest file deck_attachment uploads (Deck's own limit is the server's upload_max_filesize). */
export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;

/** deck_comment: write, edit and delete comments on a card. */
export const deckComment = tool.write({
  name: "deck_comment",
  title: "Comment on a Deck card",
  description:
    "Writes a comment on a card (`replyTo` a comment id to answer it), edits or deletes one of your own comments.",
  destructive: true,
  idempotent: false,
  input: z.object({
    action: z.enum(["create", "update", "delete"]).describe("What to do."),
    card: cardArg,
    comment: id("The comment.").optional().describe("The comment (update, delete)."),
    message: z
      .string()
      .trim()
      .min(1)
      .max(1000, "Deck comments are at most 1000 characters.")
      .optional()
      .describe("create, update: the text."),
    replyTo: id("The comment.").optional().describe("create: the comment this answers."),
  }),
  output: z.object({ action: z.string(), comment: commentSchema.nullable() }),
  async handler(args, ctx) {
    const { deck } = await deckOf(ctx);
    if (args.action === "create") {
      if (args.message === undefined) throw badArguments("A comment needs a `message`.");
      return {
        action: "created",
        comment: commentOf(await deck.createComment(args.card, args.message, args.replyTo)),
      };
    }
    if (args.comment === undefined) throw badArguments(`Action ${args.action} needs the \`comment\` id.`);
    if (args.action === "delete") {
      await deck.deleteComment(args.card, args.comment);
      return { action: "deleted", comment: null };
    }
    if (args.message === undefined) throw badArguments("Editing a comment needs the new `message`.");
    return {
      action: "updated",
      comment: commentOf(await deck.updateComment(args.card, args.comment, args.message)),
    };
  },
  text: (o) => (o.comment === null ? `Comment ${o.action}.` : `Comment ${String(o.comment.id)} ${o.action}.`),
});

/** deck_attachment: attach a file from the user's files to a card, or remove an attachment. */
export const deckAttachment = tool.write({
  name: "deck_attachment",
  title: "Attach a file to a Deck card",
  description:
    "attach: uploads a file from your files (`path`) to the card (Deck keeps it in your Deck folder and " +
    "shares it with the board); delete: removes attachment `attachment` from the card.",
  destructive: true,
  idempotent: false,
  input: z.object({
    action: z.enum(["attach", "delete"]).describe("What to do."),
    board: boardArg,
    stack: stackArg,
    card: cardArg,
    path: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe("attach: the file in your files, e.g. /Documents/plan.pdf."),
    attachment: id("The attachment.").optional().describe("delete: the attachment id (deck_get_card)."),
  }),
  output: z.object({ action: z.string(), attachment: attachmentSchema }),
  async handler(args, ctx) {
    const { deck, cap } = await deckOf(ctx);
    if (!cap.apiVersions.includes("1.1"))
      throw new NextcloudError(
        "not_found",
        `This Deck (${cap.version}) predates file attachments (API 1.1, Deck 1.3); ask the administrator to update Deck.`,
      );
    if (args.action === "delete") {
      if (args.attachment === undefined) throw badArguments("Deleting needs the `attachment` id.");
      const list = await deck.listAttachments(args.board, args.stack, args.card);
      const found = list.find((a) => a.id === args.attachment);
      if (found === undefined)
        throw badArguments(
          `Card ${String(args.card)} has no attachment ${String(args.attachment)}; deck_get_card lists them.`,
        );
      await deck.deleteAttachment(args.board, args.stack, args.card, found.id, found.type);
      return { action: "deleted", attachment: attachmentOf(found) };
    }
    if (args.path === undefined) throw badArguments("Attaching needs the `path` of a file in your files.");
    const files = nextcloudOf(ctx).files;
    const info = await explained(files.stat(args.path), {
      not_found: `No file at ${args.path} in your files; files_list shows what is there.`,
    });
    if (info.type !== "file") throw badArguments(`${args.path} is a folder; attach a file.`);
    if (info.size > MAX_ATTACHMENT_BYTES)
      throw badArguments(
        `${args.path} is ${String(info.size)} bytes; the gateway attaches files up to ${String(MAX_ATTACHMENT_BYTES)} bytes.`,
      );
    const file = await files.read(args.path, { maxBytes: MAX_ATTACHMENT_BYTES });
    const created = await deck.attachFile(args.board, args.stack, args.card, {
      name: info.name,
      content: file.content,
      contentType: info.contentType ?? file.contentType ?? "application/octet-stream",
    });
    return { action: "attached", attachment: attachmentOf(created) };
  },
  text: (o) => `Attachment "${o.attachment.name}" (id ${String(o.attachment.id)}) ${o.action}.`,
});
