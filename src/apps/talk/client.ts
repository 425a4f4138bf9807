// The Talk (spreed) OCS API: conversations (API v4), participants, chat (API v1, never long-polled:
// history with lookIntoFuture=0, newer messages with timeout=0), the read marker and reactions.
// @see https://nextcloud-talk.readthedocs.io/en/latest/
import { NextcloudError, send, type NextcloudClient } from "../../nextcloud/index.ts";

const ROOM = "apps/spreed/api/v4/room";
const CHAT = "apps/spreed/api/v1/chat";
const REACTION = "apps/spreed/api/v1/reaction";

/** A rich-object parameter of a message (`{type, id, name, …}`, all strings in Talk). */
export type RichParameter = Record<string, unknown>;

/** The fields of Talk's `ChatMessage` the gateway reads. */
export interface TalkMessage {
  id: number;
  actorType: string;
  actorId: string;
  actorDisplayName: string;
  timestamp: number;
  message: string;
  messageParameters: Record<string, RichParameter> | unknown[];
  systemMessage: string;
  messageType: string;
  reactions?: Record<string, number> | unknown[];
  reactionsSelf?: string[];
  silent?: boolean;
  parent?: TalkMessage | { id: number; deleted: true };
}

/** The fields of Talk's `Room` the gateway reads. */
export interface TalkRoom {
  token: string;
  type: number;
  name: string;
  displayName: string;
  description?: string;
  participantType: number;
  readOnly: number;
  unreadMessages: number;
  unreadMention: boolean;
  lastActivity: number;
  lastReadMessage: number;
  lastMessage?: TalkMessage | unknown[];
}

/** The fields of Talk's `Participant` the gateway reads. */
export interface TalkParticipant {
  actorType: string;
  actorId: string;
  displayName: string;
  participantType: number;
}

/** Who reacted with what (Talk's `Reaction` lists by emoji). */
export type TalkReactions = Record<
  string,
  { actorType: string; actorId: string; actorDisplayName: string }[]
>;

const room = (token: string) => `${ROOM}/${token}`;
const what = (token: string) => `conversation ${token}`;

/** The user's conversations. */
export async function listRooms(nc: NextcloudClient, signal: AbortSignal): Promise<TalkRoom[]> {
  const data = await nc.ocs("GET", ROOM, {
    params: { noStatusUpdate: 1, includeLastMessage: 1 },
    what: "your Talk conversations",
    signal,
  });
  return Array.isArray(data) ? (data as TalkRoom[]) : [];
}

/** One conversation. */
export async function getRoom(nc: NextcloudClient, token: string, signal: AbortSignal): Promise<TalkRoom> {
  return (await nc.ocs("GET", room(token), { what: what(token), signal })) as TalkRoom;
}

/** The participants of a conversation. */
export async function listParticipants(
  nc: NextcloudClient,
  token: string,
  signal: AbortSignal,
): Promise<TalkParticipant[]> {
  const data = await nc.ocs("GET", `${room(token)}/participants`, { what: what(token), signal });
  return Array.isArray(data) ? (data as TalkParticipant[]) : [];
}

/** Creates a conversation (one-to-one with `invite`, or group/public named `roomName`). */
export async function createRoom(
  nc: NextcloudClient,
  body: { roomType: number; invite?: string; roomName?: string },
  signal: AbortSignal,
): Promise<TalkRoom> {
  return (await nc.ocs("POST", ROOM, { body, what: "the new conversation", signal })) as TalkRoom;
}

/** Adds a user to a conversation (moderators only). */
export async function addParticipant(
  nc: NextcloudClient,
  token: string,
  userId: string,
  signal: AbortSignal,
): Promise<void> {
  await nc.ocs("POST", `${room(token)}/participants`, {
    body: { newParticipant: userId, source: "users" },
    what: `user "${userId}" in ${what(token)}`,
    signal,
  });
}

/** A page of messages and the cursor Talk gives for the next one (`X-Chat-Last-Given`). */
export interface MessagePage {
  messages: TalkMessage[];
  lastGiven: number | null;
}

/**
 * Messages older than `before` (newest first; `before` 0 means from the newest), or newer than
 * `after` (oldest first). Never waits for new messages (timeout=0) and never moves the read marker.
 */
export async function readMessages(
  nc: NextcloudClient,
  token: string,
  o: { before?: number; after?: number; limit: number },
  signal: AbortSignal,
): Promise<MessagePage> {
  const future = o.after !== undefined;
  const query = new URLSearchParams({
    format: "json",
    lookIntoFuture: future ? "1" : "0",
    limit: String(o.limit),
    lastKnownMessageId: String((future ? o.after : o.before) ?? 0),
    timeout: "0",
    setReadMarker: "0",
    noStatusUpdate: "1",
    markNotificationsAsRead: "0",
  });
  const res = await send(nc.options, {
    method: "GET",
    path: `/ocs/v2.php/${CHAT}/${token}?${query.toString()}`,
    what: `the messages of ${what(token)}`,
    headers: { Accept: "application/json" },
    accept: [304],
    signal,
  });
  if (res.status === 304) return { messages: [], lastGiven: null };
  let data: unknown;
  try {
    data = (res.json() as { ocs?: { data?: unknown } }).ocs?.data;
  } catch (err) {
    throw new NextcloudError(
      "bad_response",
      `Nextcloud answered the messages of ${what(token)} with no JSON.`,
      {
        cause: err,
      },
    );
  }
  const given = Number(res.headers.get("x-chat-last-given") ?? NaN);
  return {
    messages: Array.isArray(data) ? (data as TalkMessage[]) : [],
    lastGiven: Number.isInteger(given) ? given : null,
  };
}

/** Posts a message, optionally as a reply; returns it as Talk stored it. */
export async function sendMessage(
  nc: NextcloudClient,
  token: string,
  body: { message: string; replyTo?: number; silent?: boolean; referenceId: string },
  signal: AbortSignal,
): Promise<TalkMessage> {
  return (await nc.ocs("POST", `${CHAT}/${token}`, {
    body,
    what: `a message in ${what(token)}`,
    signal,
  })) as TalkMessage;
}

/** Moves the user's read marker to `messageId` (the newest message when null); returns the room. */
export async function markRead(
  nc: NextcloudClient,
  token: string,
  messageId: number | null,
  signal: AbortSignal,
): Promise<TalkRoom> {
  return (await nc.ocs("POST", `${CHAT}/${token}/read`, {
    body: { lastReadMessage: messageId },
    what: what(token),
    signal,
  })) as TalkRoom;
}

/** Lists, adds or removes reactions on a message; every call answers the message's reactions. */
export async function reactions(
  nc: NextcloudClient,
  method: "GET" | "POST" | "DELETE",
  token: string,
  messageId: number,
  reaction: string | undefined,
  signal: AbortSignal,
): Promise<TalkReactions> {
  const path = `${REACTION}/${token}/${String(messageId)}`;
  const data = await nc.ocs(method, path, {
    ...(reaction === undefined ? {} : method === "POST" ? { body: { reaction } } : { params: { reaction } }),
    what: `message ${String(messageId)} in ${what(token)}`,
    signal,
  });
  return data !== null && typeof data === "object" && !Array.isArray(data) ? (data as TalkReactions) : {};
}
