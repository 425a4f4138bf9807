// Shapes of the talk tools: the inputs every tool shares (a conversation token, a message id) and
// the structured outputs (conversation, participant, message).
import { z } from "zod";

/** A conversation token as Talk makes them (its routes accept nothing else). */
export const tokenField = z
  .string()
  .regex(
    /^[a-z0-9]{4,30}$/,
    "A conversation token is 4-30 lowercase letters and digits, e.g. from talk_list_conversations.",
  )
  .describe("The conversation's token (from talk_list_conversations).");

/** A message id. */
export const messageIdField = z.number().int().min(1).describe("The message id (from talk_read_messages).");

/** A Nextcloud user id. */
export const userIdField = z.string().min(1).max(255);

export const conversationSchema = z.object({
  token: z.string(),
  name: z.string(),
  type: z.enum(["one-to-one", "group", "public", "changelog", "former one-to-one", "note-to-self", "other"]),
  description: z.string(),
  role: z.enum(["owner", "moderator", "user", "guest", "none"]).describe("the user's role in it"),
  readOnly: z.boolean(),
  unreadMessages: z.number().int(),
  unreadMention: z.boolean().describe("an unread message mentions the user"),
  lastReadMessage: z.number().int().describe("id of the last message the user read"),
  lastActivity: z.string().nullable().describe("ISO 8601 UTC"),
  lastMessage: z.string().nullable().describe('"Author: text" of the newest message'),
});
/** A conversation as the talk tools return it. */
export type Conversation = z.infer<typeof conversationSchema>;

export const participantSchema = z.object({
  id: z.string().describe('user id (for mentions: @"id")'),
  kind: z.string().describe("users, guests, groups, emails…"),
  name: z.string(),
  role: z.enum(["owner", "moderator", "user", "guest", "none"]),
});
/** A participant as the talk tools return it. */
export type Participant = z.infer<typeof participantSchema>;

export const messageSchema = z.object({
  id: z.number().int(),
  author: z.string(),
  authorId: z.string(),
  time: z.string().nullable().describe("ISO 8601 UTC"),
  text: z.string().describe("with mentions, files and other placeholders rendered"),
  system: z.boolean().describe("a system message (someone joined, created the conversation…)"),
  replyTo: z.object({ id: z.number().int(), author: z.string().nullable(), text: z.string() }).nullable(),
  reactions: z.record(z.string(), z.number().int()).describe("emoji → count"),
  myReactions: z.array(z.string()),
});
/** A message as the talk tools return it. */
export type Message = z.infer<typeof messageSchema>;
