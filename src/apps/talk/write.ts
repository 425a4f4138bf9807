// The talk tools that change data: send a message (optionally a reply), mark read, create a
// conversation, add participants, add and remove a reaction.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { badArguments, explained, nextcloudOf, toolMaker, type ToolContext } from "../../mcp/index.ts";
import { NextcloudError } from "../../nextcloud/index.ts";
import {
  addParticipant,
  createRoom,
  getRoom,
  markRead,
  reactions,
  sendMessage,
  type TalkRoom,
} from "./client.ts";
import { noConversation } from "./read.ts";
import { conversationLine, messageLine, toConversation, toMessage } from "./render.ts";
import { conversationSchema, messageIdField, messageSchema, tokenField, userIdField } from "./schema.ts";

const tool = toolMaker("talk");

/** talk_send_message: posts a message, optionally as a reply. */
export const talkSendMessage = tool.write({
  name: "talk_send_message",
  title: "Send a Talk message",
  description:
    'Posts a message in a conversation, optionally as a reply. Mention someone with @"user id" (ids from talk_get_conversation).',
  input: z.object({
    token: tokenField,
    message: z
      .string()
      .trim()
      .min(1, "The message is empty.")
      .max(32000, "A Talk message has at most 32,000 characters.")
      .describe("The text (Markdown)."),
    replyTo: messageIdField.optional().describe("Reply to this message id."),
    silent: z.boolean().default(false).describe("Send without notifying the others."),
  }),
  output: z.object({ token: z.string(), message: messageSchema }),
  destructive: false,
  idempotent: false,
  async handler(args, ctx) {
    const sent = await explained(
      sendMessage(
        nextcloudOf(ctx),
        args.token,
        {
          message: args.message,
          ...(args.replyTo === undefined ? {} : { replyTo: args.replyTo }),
          ...(args.silent ? { silent: true } : {}),
          // Lets Talk clients match the message to this send (64 hex characters, like theirs).
          referenceId: randomBytes(32).toString("hex"),
        },
        ctx.signal,
      ),
      {
        not_found: noConversation(args.token),
        bad_response:
          args.replyTo === undefined
            ? "Talk refused the message."
            : `Talk refused the reply: message ${String(args.replyTo)} is not one you can reply to in this conversation (a system message, or not there). Nothing was sent.`,
        forbidden: `You may not write in conversation "${args.token}" (read-only, or the lobby is on).`,
        too_large: "The message is too long for this Nextcloud; nothing was sent.",
      },
    );
    return { token: args.token, message: toMessage(sent) };
  },
  text: (o) => `Sent: ${messageLine(o.message)}`,
});

/** talk_mark_read: moves the read marker. */
export const talkMarkRead = tool.write({
  name: "talk_mark_read",
  title: "Mark Talk messages read",
  description: "Marks a conversation read, up to `messageId` or entirely.",
  input: z.object({
    token: tokenField,
    messageId: messageIdField.optional().describe("Read up to this message; all when absent."),
  }),
  output: z.object({ conversation: conversationSchema }),
  destructive: false,
  idempotent: true,
  async handler(args, ctx) {
    const room = await explained(markRead(nextcloudOf(ctx), args.token, args.messageId ?? null, ctx.signal), {
      not_found: noConversation(args.token),
    });
    return { conversation: toConversation(room) };
  },
  text: (o) => `Marked read: ${conversationLine(o.conversation).slice(2)}`,
});

/** The outcome of adding users one by one: who is in, who could not be added and why. */
interface Added {
  added: string[];
  notAdded: { id: string; reason: string }[];
}

async function addUsers(ctx: ToolContext, token: string, users: readonly string[]): Promise<Added> {
  const out: Added = { added: [], notAdded: [] };
  for (const id of new Set(users)) {
    try {
      await addParticipant(nextcloudOf(ctx), token, id, ctx.signal);
      out.added.push(id);
    } catch (err) {
      if (!(err instanceof NextcloudError)) throw err;
      const reason =
        err.kind === "not_found"
          ? "no Nextcloud user with this id"
          : err.kind === "forbidden"
            ? "only moderators can add participants"
            : err.message;
      out.notAdded.push({ id, reason });
    }
  }
  return out;
}

const addedOutput = {
  added: z.array(z.string()).describe("user ids now in the conversation"),
  notAdded: z.array(z.object({ id: z.string(), reason: z.string() })),
};

/** talk_create_conversation: a one-to-one, group or public conversation. */
export const talkCreateConversation = tool.write({
  name: "talk_create_conversation",
  title: "Create a Talk conversation",
  description:
    "Creates a one-to-one conversation with one user (or returns the existing one), or a group or public " +
    "(link) conversation with a name and users. Takes Nextcloud user ids.",
  input: z.object({
    type: z.enum(["one-to-one", "group", "public"]).describe("public: anyone with the link can join."),
    name: z.string().trim().min(1).max(255).optional().describe("Required for group and public."),
    users: z
      .array(userIdField)
      .max(50)
      .default([])
      .describe("User ids to invite (exactly one for one-to-one)."),
  }),
  output: z.object({ conversation: conversationSchema, ...addedOutput }),
  destructive: false,
  idempotent: false,
  async handler(args, ctx) {
    const nc = nextcloudOf(ctx);
    if (args.type === "one-to-one") {
      const [other, ...rest] = args.users;
      if (other === undefined || rest.length > 0)
        throw badArguments("A one-to-one conversation takes exactly one user id in `users`.");
      const room: TalkRoom = await explained(createRoom(nc, { roomType: 1, invite: other }, ctx.signal), {
        not_found: `No Nextcloud user with the id "${other}"; nothing was created.`,
        forbidden: "You cannot start a one-to-one conversation with yourself or this user.",
      });
      return { conversation: toConversation(room), added: [other], notAdded: [] };
    }
    if (args.name === undefined) throw badArguments(`A ${args.type} conversation needs a \`name\`.`);
    const room = await explained(
      createRoom(nc, { roomType: args.type === "group" ? 2 : 3, roomName: args.name }, ctx.signal),
      { forbidden: "Your Nextcloud does not allow you to create conversations." },
    );
    const added = await addUsers(ctx, room.token, args.users);
    return { conversation: toConversation(room), ...added };
  },
  text: (o) =>
    `Conversation: ${conversationLine(o.conversation).slice(2)}${o.notAdded.length === 0 ? "" : `\nNot added: ${o.notAdded.map((n) => `${n.id} (${n.reason})`).join(", ")}`}`,
});

/** talk_add_participants: adds users to a group or public conversation. */
export const talkAddParticipants = tool.write({
  name: "talk_add_participants",
  title: "Add people to a Talk conversation",
  description: "Adds users (Nextcloud user ids) to a group or public conversation you moderate.",
  input: z.object({
    token: tokenField,
    users: z.array(userIdField).min(1).max(50).describe("User ids to add."),
  }),
  output: z.object(addedOutput),
  destructive: false,
  idempotent: true,
  async handler(args, ctx) {
    // Talk answers 404 both for a conversation the user is not in and for an unknown user: tell them apart.
    const room = toConversation(
      await explained(getRoom(nextcloudOf(ctx), args.token, ctx.signal), {
        not_found: noConversation(args.token),
      }),
    );
    if (room.role !== "owner" && room.role !== "moderator")
      throw badArguments(
        `Only moderators can add people to "${room.name}"; ask its owner. Nothing was changed.`,
      );
    if (room.type === "one-to-one")
      throw badArguments(
        "A one-to-one conversation takes no more people; create a group conversation instead.",
      );
    return addUsers(ctx, args.token, args.users);
  },
  text: (o) =>
    `Added: ${o.added.join(", ") || "nobody"}${o.notAdded.length === 0 ? "" : `\nNot added: ${o.notAdded.map((n) => `${n.id} (${n.reason})`).join(", ")}`}`,
});

const reactionInput = z.object({
  token: tokenField,
  messageId: messageIdField,
  reaction: z.string().trim().min(1).max(20).describe('One emoji, e.g. "👍".'),
});
const reactionOutput = z.object({
  reactions: z.record(z.string(), z.number().int()).describe("emoji → count"),
});
const counts = (data: Record<string, unknown[]>) =>
  Object.fromEntries(Object.entries(data).map(([emoji, who]) => [emoji, who.length]));

/** talk_react: adds the user's reaction to a message. */
export const talkReact = tool.write({
  name: "talk_react",
  title: "React to a message",
  description: "Adds your emoji reaction to a message.",
  input: reactionInput,
  output: reactionOutput,
  destructive: false,
  idempotent: true,
  async handler(args, ctx) {
    const data = await explained(
      reactions(nextcloudOf(ctx), "POST", args.token, args.messageId, args.reaction, ctx.signal),
      {
        not_found: `No message ${String(args.messageId)} in a conversation "${args.token}" of yours.`,
        bad_response: `Talk does not allow reacting to message ${String(args.messageId)} (system messages take no reactions).`,
      },
    );
    return { reactions: counts(data) };
  },
  text: (o) => `Reactions now: ${JSON.stringify(o.reactions)}`,
});

/** talk_unreact: removes the user's reaction from a message. */
export const talkUnreact = tool.write({
  name: "talk_unreact",
  title: "Remove a reaction",
  description: "Removes your emoji reaction from a message.",
  input: reactionInput,
  output: reactionOutput,
  destructive: true,
  idempotent: true,
  async handler(args, ctx) {
    const data = await explained(
      reactions(nextcloudOf(ctx), "DELETE", args.token, args.messageId, args.reaction, ctx.signal),
      {
        not_found: `You have no ${args.reaction} reaction on message ${String(args.messageId)} in "${args.token}" (or no such message).`,
      },
    );
    return { reactions: counts(data) };
  },
  text: (o) => `Reactions now: ${JSON.stringify(o.reactions)}`,
});
