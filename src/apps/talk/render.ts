// Talk's messages and conversations as a model reads them: rich-object placeholders (`{actor}`,
// `{file}`, `{mention-user1}` with their messageParameters) rendered to text, system messages that
// Talk clients hide left out, and the shapes the talk tools return. Pure functions.
import type { RichParameter, TalkMessage, TalkParticipant, TalkRoom } from "./client.ts";
import type { Conversation, Message, Participant } from "./schema.ts";

/** System messages Talk clients never show (they only update other messages). */
const HIDDEN_SYSTEM = new Set([
  "reaction",
  "reaction_deleted",
  "reaction_revoked",
  "poll_voted",
  "message_deleted",
  "message_edited",
  "thread_created",
]);

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** One parameter as text: a mention as `@Name`, a file as its name (with its path when known), else its name. */
export function renderParameter(key: string, p: RichParameter): string {
  const name = str(p.name) ?? str(p.id) ?? key;
  if (key.startsWith("mention-")) return `@${name}`;
  if (p.type === "file") {
    const path = str(p.path);
    return path === undefined || path === name ? name : `${name} (${path})`;
  }
  if (p.type === "geo-location") return `${name} (location)`;
  return name;
}

/**
 * A message with its `{placeholders}` replaced by their parameters' text; placeholders without a
 * parameter stay as they are (Talk leaves them, and they may be literal text).
 * @see https://github.com/nextcloud/server/blob/master/lib/public/RichObjectStrings/Definitions.php
 */
export function renderRich(message: string, parameters: TalkMessage["messageParameters"]): string {
  const params = Array.isArray(parameters) ? {} : parameters;
  return message.replace(/\{([A-Za-z0-9_-]+)\}/g, (whole, key: string) => {
    const p = params[key];
    return p !== undefined && typeof p === "object" ? renderParameter(key, p) : whole;
  });
}

/** Whether a message is one a Talk client shows. */
export function isVisible(m: TalkMessage): boolean {
  return !(m.messageType === "system" && HIDDEN_SYSTEM.has(m.systemMessage));
}

const iso = (seconds: number): string | null => (seconds > 0 ? new Date(seconds * 1000).toISOString() : null);

function reactionsOf(m: TalkMessage): Record<string, number> {
  return Array.isArray(m.reactions) || m.reactions === undefined ? {} : m.reactions;
}

/** A message as the talk tools return it. */
export function toMessage(m: TalkMessage): Message {
  const parent = m.parent;
  return {
    id: m.id,
    author: m.actorDisplayName || m.actorId,
    authorId: m.actorId,
    time: iso(m.timestamp),
    text:
      m.messageType === "comment_deleted" ? "(message deleted)" : renderRich(m.message, m.messageParameters),
    system: m.messageType === "system",
    replyTo:
      parent === undefined
        ? null
        : "deleted" in parent
          ? { id: parent.id, author: null, text: "(message deleted)" }
          : {
              id: parent.id,
              author: parent.actorDisplayName || parent.actorId,
              text: renderRich(parent.message, parent.messageParameters),
            },
    reactions: reactionsOf(m),
    myReactions: m.reactionsSelf ?? [],
  };
}

const ROOM_TYPES: Record<number, Conversation["type"]> = {
  1: "one-to-one",
  2: "group",
  3: "public",
  4: "changelog",
  5: "former one-to-one",
  6: "note-to-self",
};

const ROLES: Record<number, Participant["role"]> = {
  1: "owner",
  2: "moderator",
  3: "user",
  4: "guest",
  5: "user",
  6: "moderator",
};

/** A conversation as the talk tools return it. */
export function toConversation(r: TalkRoom): Conversation {
  const last = Array.isArray(r.lastMessage) || r.lastMessage === undefined ? null : r.lastMessage;
  return {
    token: r.token,
    name: r.displayName || r.name,
    type: ROOM_TYPES[r.type] ?? "other",
    description: r.description ?? "",
    role: ROLES[r.participantType] ?? "none",
    readOnly: r.readOnly === 1,
    unreadMessages: r.unreadMessages,
    unreadMention: r.unreadMention,
    lastReadMessage: r.lastReadMessage,
    lastActivity: iso(r.lastActivity),
    lastMessage:
      last === null
        ? null
        : `${last.actorDisplayName || last.actorId}: ${renderRich(last.message, last.messageParameters)}`,
  };
}

/** A participant as the talk tools return it. */
export function toParticipant(p: TalkParticipant): Participant {
  return { id: p.actorId, kind: p.actorType, name: p.displayName, role: ROLES[p.participantType] ?? "none" };
}

/** One line of a message for the text result. */
export function messageLine(m: Message): string {
  const reply = m.replyTo === null ? "" : ` (reply to #${String(m.replyTo.id)})`;
  const reacts = Object.entries(m.reactions)
    .map(([e, n]) => `${e}${String(n)}`)
    .join(" ");
  const who = m.system ? "*" : `${m.author}:`;
  return `#${String(m.id)} ${m.time ?? ""} ${who} ${m.text}${reply}${reacts === "" ? "" : ` [${reacts}]`}`;
}

/** One line of a conversation for the text result. */
export function conversationLine(c: Conversation): string {
  const unread =
    c.unreadMessages > 0
      ? `, ${String(c.unreadMessages)} unread${c.unreadMention ? " (mentioned)" : ""}`
      : "";
  return `- ${c.name} (${c.type}, token ${c.token}${unread})`;
}
