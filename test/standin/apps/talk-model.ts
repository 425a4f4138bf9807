// Talk (spreed) in memory for the stand-in: conversations, attendees, chat messages with replies,
// mentions and reactions, and their rendering in the shapes of spreed.openapi.json (Room,
// Participant, ChatMessageWithParent, Reaction), as Talk 21 (Nextcloud 31) answers them. The
// routes that serve this are in talk.ts.
import { randomInt } from "node:crypto";

/** Conversation types (Talk's Room::TYPE_*). */
export const ROOM_TYPE = { oneToOne: 1, group: 2, public: 3 } as const;
/** Participant types (Participant::OWNER, MODERATOR, USER). */
const OWNER = 1;
const USER = 3;
/** Attendee permissions: all (254) for owners and moderators, all but lobby-ignore (246) for users. */
const PERMISSIONS_ALL = 254;
const PERMISSIONS_USER = 246;

export interface TalkPerson {
  uid: string;
  displayName: string;
}

interface Attendee {
  attendeeId: number;
  uid: string;
  displayName: string;
  participantType: number;
  lastReadMessage: number;
}

interface Reactor {
  uid: string;
  displayName: string;
  timestamp: number;
}

/** A chat message as stored (the raw text; mentions become placeholders when rendered). */
export interface StoredMessage {
  id: number;
  roomId: number;
  actorId: string;
  actorDisplayName: string;
  timestamp: number;
  message: string;
  /** Parameters stored with system messages and shared objects; comments get theirs from mentions. */
  messageParameters: Record<string, Record<string, string>>;
  systemMessage: string;
  messageType: "comment" | "system" | "object_shared";
  parentId: number;
  referenceId: string;
  silent: boolean;
  reactions: Map<string, Map<string, Reactor>>;
}

export interface StoredRoom {
  id: number;
  token: string;
  type: number;
  name: string;
  description: string;
  attendees: Map<string, Attendee>;
  lastActivity: number;
}

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

/** The conversations and messages of one stand-in. */
export class TalkStore {
  readonly rooms = new Map<string, StoredRoom>();
  readonly messages: StoredMessage[] = [];
  #nextRoomId = 1;
  #nextAttendeeId = 1;
  #nextMessageId = 1;

  readonly now: () => number;

  constructor(now: () => number = () => Math.floor(Date.now() / 1000)) {
    this.now = now;
  }

  /** Creates a conversation owned by `owner`, with Talk's "conversation_created" system message. */
  createRoom(type: number, name: string, owner: TalkPerson, other?: TalkPerson): StoredRoom {
    let token = "";
    for (let i = 0; i < 8; i++) token += TOKEN_CHARS[randomInt(TOKEN_CHARS.length)] ?? "a";
    const room: StoredRoom = {
      id: this.#nextRoomId++,
      token,
      type,
      name,
      description: "",
      attendees: new Map(),
      lastActivity: this.now(),
    };
    this.rooms.set(token, room);
    this.#attend(room, owner, OWNER);
    this.system(room, owner, "conversation_created", "{actor} created the conversation", {});
    if (other !== undefined) this.#attend(room, other, OWNER);
    return room;
  }

  /** The one-to-one conversation of two users, if there is one. */
  oneToOne(a: string, b: string): StoredRoom | undefined {
    return [...this.rooms.values()].find(
      (r) => r.type === ROOM_TYPE.oneToOne && r.attendees.has(a) && r.attendees.has(b),
    );
  }

  /** Adds a user (a participant of type user) with the "user_added" system message; false if already in. */
  addUser(room: StoredRoom, by: TalkPerson, user: TalkPerson): boolean {
    if (room.attendees.has(user.uid)) return false;
    this.#attend(room, user, USER);
    this.system(room, by, "user_added", "{actor} added {user}", {
      user: { type: "user", id: user.uid, name: user.displayName },
    });
    return true;
  }

  #attend(room: StoredRoom, person: TalkPerson, participantType: number): void {
    const lastId = this.lastMessageId(room);
    room.attendees.set(person.uid, {
      attendeeId: this.#nextAttendeeId++,
      uid: person.uid,
      displayName: person.displayName,
      participantType,
      lastReadMessage: lastId,
    });
  }

  /** Stores a system message by `actor`. */
  system(
    room: StoredRoom,
    actor: TalkPerson,
    systemMessage: string,
    message: string,
    params: Record<string, Record<string, string>>,
  ): StoredMessage {
    return this.#store(room, actor, {
      message,
      messageParameters: { actor: { type: "user", id: actor.uid, name: actor.displayName }, ...params },
      systemMessage,
      messageType: "system",
      parentId: 0,
      referenceId: "",
      silent: false,
    });
  }

  /** Stores a chat message; sending moves the sender's read marker to it, as Talk does. */
  post(
    room: StoredRoom,
    actor: TalkPerson,
    fields: Partial<
      Pick<StoredMessage, "messageParameters" | "messageType" | "parentId" | "referenceId" | "silent">
    > & {
      message: string;
    },
  ): StoredMessage {
    const stored = this.#store(room, actor, {
      messageParameters: {},
      systemMessage: "",
      messageType: "comment",
      parentId: 0,
      referenceId: "",
      silent: false,
      ...fields,
    });
    const attendee = room.attendees.get(actor.uid);
    if (attendee !== undefined) attendee.lastReadMessage = stored.id;
    return stored;
  }

  #store(
    room: StoredRoom,
    actor: TalkPerson,
    fields: Omit<StoredMessage, "id" | "roomId" | "actorId" | "actorDisplayName" | "timestamp" | "reactions">,
  ): StoredMessage {
    const stored: StoredMessage = {
      id: this.#nextMessageId++,
      roomId: room.id,
      actorId: actor.uid,
      actorDisplayName: actor.displayName,
      timestamp: this.now(),
      reactions: new Map(),
      ...fields,
    };
    this.messages.push(stored);
    room.lastActivity = stored.timestamp;
    return stored;
  }

  /** The messages of a room, oldest first. */
  messagesOf(room: StoredRoom): StoredMessage[] {
    return this.messages.filter((m) => m.roomId === room.id);
  }

  lastMessageId(room: StoredRoom): number {
    return this.messagesOf(room).at(-1)?.id ?? 0;
  }

  message(room: StoredRoom, id: number): StoredMessage | undefined {
    return this.messages.find((m) => m.roomId === room.id && m.id === id);
  }

  /** The rooms `uid` takes part in. */
  roomsOf(uid: string): StoredRoom[] {
    return [...this.rooms.values()].filter((r) => r.attendees.has(uid));
  }
}

/** Placeholders and parameters of a comment's `@mentions` (`@uid`, `@"uid"`, `@all`), as Talk's parser makes them. */
export function parseMentions(
  text: string,
  room: StoredRoom,
  known: (uid: string) => TalkPerson | undefined,
  roomName: string,
): { message: string; parameters: Record<string, Record<string, string>> } {
  const parameters: Record<string, Record<string, string>> = {};
  const byId = new Map<string, string>();
  let users = 0;
  const message = text.replace(
    /(^|\s)@(?:"([^"]+)"|([a-zA-Z0-9_.@\-']+))/g,
    (whole, lead: string, quoted: string | undefined, plain: string | undefined) => {
      const id = quoted ?? plain ?? "";
      let key = byId.get(id);
      if (key === undefined) {
        if (id === "all") {
          key = "mention-call1";
          parameters[key] = { type: "call", id: room.token, name: roomName };
        } else {
          const person = known(id);
          if (person === undefined) return whole;
          key = `mention-user${String(++users)}`;
          parameters[key] = {
            type: "user",
            id: person.uid,
            name: person.displayName,
            "mention-id": person.uid,
          };
        }
        byId.set(id, key);
      }
      return `${lead}{${key}}`;
    },
  );
  return { message, parameters };
}

/** Whether a stored comment mentions `uid` (directly, or through @all). */
export function mentions(m: StoredMessage, uid: string): { any: boolean; direct: boolean } {
  if (m.messageType !== "comment") return { any: false, direct: false };
  const direct = m.message.includes(`@${uid}`) || m.message.includes(`@"${uid}"`);
  return { any: direct || /(^|\s)@all\b/.test(m.message), direct };
}

/** A Talk `ChatMessage` for the viewer `uid` (no parent). */
export function renderMessage(
  store: TalkStore,
  room: StoredRoom,
  m: StoredMessage,
  uid: string,
  known: (uid: string) => TalkPerson | undefined,
): Record<string, unknown> {
  const parsed =
    m.messageType === "comment"
      ? parseMentions(m.message, room, known, roomDisplayName(room, uid))
      : { message: m.message, parameters: {} };
  const reactions: Record<string, number> = {};
  const self: string[] = [];
  for (const [emoji, who] of m.reactions) {
    if (who.size === 0) continue;
    reactions[emoji] = who.size;
    if (who.has(uid)) self.push(emoji);
  }
  const comment = m.messageType !== "system";
  return {
    id: m.id,
    token: room.token,
    actorType: "users",
    actorId: m.actorId,
    actorDisplayName: m.actorDisplayName,
    timestamp: m.timestamp,
    message: parsed.message,
    messageParameters: { ...m.messageParameters, ...parsed.parameters },
    systemMessage: m.systemMessage,
    messageType: m.messageType,
    isReplyable: comment,
    referenceId: m.referenceId,
    reactions,
    ...(self.length > 0 ? { reactionsSelf: self } : {}),
    expirationTimestamp: 0,
    markdown: comment,
    ...(m.silent ? { silent: true } : {}),
  };
}

/** The message with its `parent` (one level), as the chat endpoints answer it. */
export function renderWithParent(
  store: TalkStore,
  room: StoredRoom,
  m: StoredMessage,
  uid: string,
  known: (uid: string) => TalkPerson | undefined,
): Record<string, unknown> {
  const out = renderMessage(store, room, m, uid, known);
  if (m.parentId !== 0) {
    const parent = store.message(room, m.parentId);
    out.parent =
      parent === undefined
        ? { id: m.parentId, deleted: true }
        : renderMessage(store, room, parent, uid, known);
  }
  return out;
}

/** The name a viewer sees: the other user in a one-to-one conversation, else the room's name. */
export function roomDisplayName(room: StoredRoom, uid: string): string {
  if (room.type !== ROOM_TYPE.oneToOne) return room.name;
  const other = [...room.attendees.values()].find((a) => a.uid !== uid);
  return other?.displayName ?? room.name;
}

/** A Talk `Room` as `uid` (a participant) sees it. */
export function renderRoom(
  store: TalkStore,
  room: StoredRoom,
  uid: string,
  known: (uid: string) => TalkPerson | undefined,
): Record<string, unknown> {
  const me = room.attendees.get(uid);
  const messages = store.messagesOf(room);
  const unread =
    me === undefined ? [] : messages.filter((m) => m.id > me.lastReadMessage && m.messageType !== "system");
  const lastRead = me?.lastReadMessage ?? 0;
  const moderator = me !== undefined && me.participantType <= 2;
  const last = messages.at(-1);
  const other = [...room.attendees.values()].find((a) => a.uid !== uid);
  return {
    id: room.id,
    token: room.token,
    type: room.type,
    name: room.type === ROOM_TYPE.oneToOne ? (other?.uid ?? room.name) : room.name,
    displayName: roomDisplayName(room, uid),
    description: room.description,
    objectType: "",
    objectId: "",
    actorType: "users",
    actorId: uid,
    attendeeId: me?.attendeeId ?? 0,
    attendeePermissions: 0,
    attendeePin: "",
    avatarVersion: "",
    breakoutRoomMode: 0,
    breakoutRoomStatus: 0,
    callFlag: 0,
    callPermissions: 0,
    callRecording: 0,
    callStartTime: 0,
    canDeleteConversation: moderator && room.type !== ROOM_TYPE.oneToOne,
    canEnableSIP: false,
    canLeaveConversation: true,
    canStartCall: true,
    defaultPermissions: 0,
    hasCall: false,
    hasPassword: false,
    isCustomAvatar: false,
    isFavorite: false,
    isArchived: false,
    lastActivity: room.lastActivity,
    lastCommonReadMessage: Math.min(...[...room.attendees.values()].map((a) => a.lastReadMessage)),
    lastMessage: last === undefined ? [] : renderMessage(store, room, last, uid, known),
    lastPing: 0,
    lastReadMessage: lastRead,
    listable: 0,
    lobbyState: 0,
    lobbyTimer: 0,
    mentionPermissions: 0,
    messageExpiration: 0,
    notificationCalls: 1,
    notificationLevel: room.type === ROOM_TYPE.oneToOne ? 1 : 2,
    participantFlags: 0,
    participantType: me?.participantType ?? 0,
    permissions: moderator ? PERMISSIONS_ALL : PERMISSIONS_USER,
    readOnly: 0,
    recordingConsent: 0,
    sessionId: "0",
    sipEnabled: 0,
    unreadMention: unread.some((m) => mentions(m, uid).any),
    unreadMentionDirect: unread.some((m) => mentions(m, uid).direct),
    unreadMessages: unread.length,
  };
}

/** A Talk `Participant` entry. */
export function renderParticipant(room: StoredRoom, uid: string): Record<string, unknown> {
  const a = room.attendees.get(uid);
  if (a === undefined) throw new Error(`${uid} is not in ${room.token}`);
  return {
    roomToken: room.token,
    actorType: "users",
    actorId: a.uid,
    attendeeId: a.attendeeId,
    attendeePermissions: 0,
    attendeePin: "",
    displayName: a.displayName,
    inCall: 0,
    lastPing: 0,
    participantType: a.participantType,
    permissions: a.participantType <= 2 ? PERMISSIONS_ALL : PERMISSIONS_USER,
    sessionIds: [],
  };
}

/** The reactions of a message, by emoji, each with who reacted (Talk's `Reaction`). */
export function renderReactions(m: StoredMessage, only?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [emoji, who] of m.reactions) {
    if (who.size === 0 || (only !== undefined && only !== emoji)) continue;
    out[emoji] = [...who.values()].map((r) => ({
      actorType: "users",
      actorId: r.uid,
      actorDisplayName: r.displayName,
      timestamp: r.timestamp,
    }));
  }
  return out;
}

/** Moves `uid`'s read marker to `id` (the last message when null). */
export function markRead(store: TalkStore, room: StoredRoom, uid: string, id: number | null): void {
  const a = room.attendees.get(uid);
  if (a !== undefined) a.lastReadMessage = id ?? store.lastMessageId(room);
}

/** A reactor record for `who` now. */
export function reactor(who: TalkPerson, timestamp: number): Reactor {
  return { uid: who.uid, displayName: who.displayName, timestamp };
}

export { OWNER };
