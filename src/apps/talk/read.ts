// The talk tools that change nothing: conversations, one conversation with its participants,
// messages (history pages and newer messages, never waiting), who reacted to a message.
import { z } from "zod";
import {
  badArguments,
  explained,
  nextcloudOf,
  pageInput,
  pageOf,
  pageText,
  pageOutput,
  toolMaker,
} from "../../mcp/index.ts";
import { getRoom, listParticipants, listRooms, reactions, readMessages } from "./client.ts";
import {
  conversationLine,
  isVisible,
  messageLine,
  toConversation,
  toMessage,
  toParticipant,
} from "./render.ts";
import {
  conversationSchema,
  messageIdField,
  messageSchema,
  participantSchema,
  tokenField,
} from "./schema.ts";

const tool = toolMaker("talk");

/** The error for a token the user cannot see: Talk answers 404 to non-participants. */
export const noConversation = (token: string) =>
  `No conversation "${token}" for you: it does not exist or you are not a participant. talk_list_conversations lists yours.`;

/** talk_list_conversations: the user's conversations, most recent first. */
export const talkListConversations = tool.read({
  name: "talk_list_conversations",
  title: "List Talk conversations",
  description: "Lists the user's Talk conversations, most recently active first, with unread counts.",
  input: z.object({
    query: z.string().max(200).optional().describe("Only conversations whose name contains this."),
    unreadOnly: z.boolean().default(false).describe("Only conversations with unread messages."),
    ...pageInput("conversations", 25, 100),
  }),
  output: z.object({ conversations: z.array(conversationSchema), ...pageOutput }),
  async handler(args, ctx) {
    const q = args.query?.toLowerCase() ?? "";
    const all = (await listRooms(nextcloudOf(ctx), ctx.signal))
      .map(toConversation)
      .filter((c) => c.name.toLowerCase().includes(q) && (!args.unreadOnly || c.unreadMessages > 0))
      .sort(
        (a, b) =>
          (b.lastActivity ?? "").localeCompare(a.lastActivity ?? "") || a.token.localeCompare(b.token),
      );
    const page = pageOf(all, args.offset, args.limit);
    return { conversations: page.items, offset: page.offset, total: page.total, nextOffset: page.nextOffset };
  },
  text: (o) => pageText(o, o.conversations, "conversation", "No conversations.", conversationLine),
});

/** talk_get_conversation: one conversation and its participants. */
export const talkGetConversation = tool.read({
  name: "talk_get_conversation",
  title: "Get a Talk conversation",
  description:
    "One conversation with its participants (their ids serve for mentions and talk_add_participants).",
  input: z.object({ token: tokenField }),
  output: z.object({ conversation: conversationSchema, participants: z.array(participantSchema) }),
  async handler(args, ctx) {
    const nc = nextcloudOf(ctx);
    const [room, people] = await explained(
      Promise.all([getRoom(nc, args.token, ctx.signal), listParticipants(nc, args.token, ctx.signal)]),
      { not_found: noConversation(args.token) },
    );
    return { conversation: toConversation(room), participants: people.map(toParticipant) };
  },
  text: (o) =>
    `${conversationLine(o.conversation).slice(2)}\nParticipants:\n${o.participants.map((p) => `- ${p.name} (${p.id}, ${p.role})`).join("\n")}`,
});

/** talk_read_messages: a page of a conversation's messages, oldest first. */
export const talkReadMessages = tool.read({
  name: "talk_read_messages",
  title: "Read Talk messages",
  description:
    "Reads a conversation's messages, oldest first: the newest page by default, older ones with `before`, " +
    "newer ones with `after` (never waits). Does not mark them read (talk_mark_read does).",
  input: z.object({
    token: tokenField,
    before: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Messages older than this id (nextBefore of a page)."),
    after: z.number().int().min(0).optional().describe("Messages newer than this id (nextAfter of a page)."),
    limit: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(30)
      .describe("At most this many messages (1-100, default 30)."),
  }),
  output: z.object({
    token: z.string(),
    messages: z.array(messageSchema),
    nextBefore: z.number().int().nullable().describe("`before` for older messages; null when there are none"),
    nextAfter: z
      .number()
      .int()
      .nullable()
      .describe("`after` for newer messages; null when this page reached the newest"),
  }),
  async handler(args, ctx) {
    if (args.before !== undefined && args.after !== undefined)
      throw badArguments("Give `before` (older messages) or `after` (newer messages), not both.");
    const page = await explained(
      readMessages(
        nextcloudOf(ctx),
        args.token,
        {
          limit: args.limit,
          ...(args.before === undefined ? {} : { before: args.before }),
          ...(args.after === undefined ? {} : { after: args.after }),
        },
        ctx.signal,
      ),
      { not_found: noConversation(args.token) },
    );
    const full = page.messages.length >= args.limit && page.lastGiven !== null;
    const future = args.after !== undefined;
    const raw = future ? page.messages : [...page.messages].reverse();
    const ids = raw.map((m) => m.id);
    const oldest = ids[0] ?? null;
    const newest = ids.at(-1) ?? null;
    return {
      token: args.token,
      messages: raw.filter(isVisible).map(toMessage),
      // Older messages exist before a page of newer ones, and newer ones after a page of older ones.
      nextBefore: future ? oldest : full ? page.lastGiven : null,
      nextAfter: future ? (full ? page.lastGiven : null) : args.before === undefined ? null : newest,
    };
  },
  text: (o) =>
    o.messages.length === 0
      ? "No messages."
      : `${o.messages.map(messageLine).join("\n")}${o.nextBefore === null ? "" : `\nOlder: before ${String(o.nextBefore)}.`}${o.nextAfter === null ? "" : `\nNewer: after ${String(o.nextAfter)}.`}`,
});

/** talk_list_reactions: who reacted to a message with what. */
export const talkListReactions = tool.read({
  name: "talk_list_reactions",
  title: "List reactions",
  description: "Who reacted to a message, by emoji.",
  input: z.object({
    token: tokenField,
    messageId: messageIdField,
    reaction: z.string().min(1).max(20).optional().describe("Only this emoji."),
  }),
  output: z.object({
    reactions: z.array(z.object({ reaction: z.string(), count: z.number().int(), by: z.array(z.string()) })),
  }),
  async handler(args, ctx) {
    const data = await explained(
      reactions(nextcloudOf(ctx), "GET", args.token, args.messageId, args.reaction, ctx.signal),
      { not_found: `No message ${String(args.messageId)} in a conversation "${args.token}" of yours.` },
    );
    return {
      reactions: Object.entries(data).map(([reaction, who]) => ({
        reaction,
        count: who.length,
        by: who.map((w) => w.actorDisplayName || w.actorId),
      })),
    };
  },
  text: (o) =>
    o.reactions.length === 0
      ? "No reactions."
      : o.reactions.map((r) => `${r.reaction} ${String(r.count)}: ${r.by.join(", ")}`).join("\n"),
});
