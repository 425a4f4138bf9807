// Talk (spreed) for the stand-in: the OCS routes of RoomController (v4 rooms and participants),
// ChatController (v1 chat, read marker) and ReactionController (v1 reactions), answering in the shapes
// of spreed.openapi.json with Talk's statuses: a user who is not a participant gets 404 (Talk's
// RequireParticipant / getRoomForUserByToken), a history page with nothing left gets 304. OCS routes
// have no #[CORS] rule, so the strict CORS mode does not touch them. State is in memory (talk-model.ts).
import type { IncomingMessage } from "node:http";
import { sendOcs } from "../ocs.ts";
import { readBody } from "../respond.ts";
import {
  markRead,
  reactor,
  renderParticipant,
  renderReactions,
  renderRoom,
  renderWithParent,
  ROOM_TYPE,
  TalkStore,
  type StoredMessage,
  type StoredRoom,
  type TalkPerson,
} from "./talk-model.ts";
import type { OcsRequest, OcsRoute, StandinApp, StandinAppFactory } from "./types.ts";

/** The Talk part of the stand-in, with seeding and inspection helpers for tests. */
export interface TalkStandin extends StandinApp {
  readonly store: TalkStore;
  /** A user Nextcloud knows without a sign-in (e.g. a colleague who never used the gateway). */
  addKnownUser(uid: string, displayName: string): void;
  /** Posts a message as `uid` directly (e.g. a shared file with its rich-object parameters). */
  seedMessage(
    token: string,
    uid: string,
    fields: Pick<StoredMessage, "message"> &
      Partial<Pick<StoredMessage, "messageParameters" | "messageType">>,
  ): number;
}

/** Talk 21's capability (Nextcloud 31), trimmed to what a client checks. */
const FEATURES = [
  "audio",
  "video",
  "chat-v2",
  "conversation-v4",
  "guest-signaling",
  "empty-group-room",
  "rich-object-sharing",
  "chat-replies",
  "mention-flag",
  "chat-read-marker",
  "chat-unread",
  "chat-read-last",
  "reactions",
  "silent-send",
  "chat-reference-id",
  "room-description",
  "direct-mention-flag",
  "unified-search",
];

const MAX_LENGTH = 32000;

type Body = Record<string, unknown>;

async function params(req: IncomingMessage, url: URL): Promise<Body> {
  const out: Body = Object.fromEntries(url.searchParams);
  if (req.method === "GET" || req.method === "HEAD") return out;
  const raw = (await readBody(req)).toString("utf8");
  if (raw === "") return out;
  const type = req.headers["content-type"] ?? "";
  if (type.includes("application/json")) {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed !== null && typeof parsed === "object") Object.assign(out, parsed);
  } else {
    Object.assign(out, Object.fromEntries(new URLSearchParams(raw)));
  }
  return out;
}

const int = (v: unknown, fallback: number): number => {
  const n = typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : NaN;
  return Number.isInteger(n) ? n : fallback;
};
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

export const talkApp: StandinAppFactory = (services) => {
  const store = new TalkStore();
  const extra = new Map<string, TalkPerson>();
  const known = (uid: string): TalkPerson | undefined => {
    const u = services.user(uid);
    return u === undefined ? extra.get(uid) : { uid: u.uid, displayName: u.displayName };
  };
  const person = (r: OcsRequest): TalkPerson => ({ uid: r.user.uid, displayName: r.user.displayName });
  const ok = (r: OcsRequest, status: number, data: unknown) => {
    sendOcs(r.req, r.res, r.url, r.version, status, data);
  };

  /** The room of the route's token if the user takes part in it; otherwise Talk's 404 is sent. */
  const participantRoom = (r: OcsRequest): StoredRoom | undefined => {
    const room = store.rooms.get(r.match[1] ?? "");
    if (room === undefined || !room.attendees.has(r.user.uid)) {
      ok(r, 404, []);
      return undefined;
    }
    return room;
  };

  const rooms: OcsRoute = {
    pattern: /^apps\/spreed\/api\/v4\/room$/,
    async handle(r) {
      if (r.req.method === "GET") {
        const list = store.roomsOf(r.user.uid).map((room) => renderRoom(store, room, r.user.uid, known));
        ok(r, 200, list);
        return;
      }
      if (r.req.method !== "POST") {
        ok(r, 405, []);
        return;
      }
      const p = await params(r.req, r.url);
      const type = int(p.roomType, ROOM_TYPE.group);
      const me = person(r);
      if (type === ROOM_TYPE.oneToOne) {
        const target = known(str(p.invite));
        if (target === undefined) {
          ok(r, 404, { error: "invite" });
          return;
        }
        if (target.uid === me.uid) {
          ok(r, 403, { error: "invite" });
          return;
        }
        const existing = store.oneToOne(me.uid, target.uid);
        if (existing !== undefined) {
          ok(r, 200, renderRoom(store, existing, me.uid, known));
          return;
        }
        const room = store.createRoom(type, target.uid, me, target);
        ok(r, 201, renderRoom(store, room, me.uid, known));
        return;
      }
      if (type !== ROOM_TYPE.group && type !== ROOM_TYPE.public) {
        ok(r, 400, { error: "type" });
        return;
      }
      const name = str(p.roomName).trim();
      if (name === "" || name.length > 255) {
        ok(r, 400, { error: "name" });
        return;
      }
      const room = store.createRoom(type, name, me);
      ok(r, 201, renderRoom(store, room, me.uid, known));
    },
  };

  const room: OcsRoute = {
    pattern: /^apps\/spreed\/api\/v4\/room\/([a-z0-9]{4,30})$/,
    handle(r) {
      if (r.req.method !== "GET") {
        ok(r, 405, []);
        return;
      }
      const found = participantRoom(r);
      if (found !== undefined) ok(r, 200, renderRoom(store, found, r.user.uid, known));
    },
  };

  const participants: OcsRoute = {
    pattern: /^apps\/spreed\/api\/v4\/room\/([a-z0-9]{4,30})\/participants$/,
    async handle(r) {
      const found = participantRoom(r);
      if (found === undefined) return;
      if (r.req.method === "GET") {
        ok(
          r,
          200,
          [...found.attendees.keys()].map((uid) => renderParticipant(found, uid)),
        );
        return;
      }
      if (r.req.method !== "POST") {
        ok(r, 405, []);
        return;
      }
      // RequireLoggedInModeratorParticipant: only owners and moderators add people.
      if ((found.attendees.get(r.user.uid)?.participantType ?? 9) > 2) {
        ok(r, 403, []);
        return;
      }
      if (found.type === ROOM_TYPE.oneToOne) {
        ok(r, 400, { error: "room-type" });
        return;
      }
      const p = await params(r.req, r.url);
      const source = str(p.source) || "users";
      if (source !== "users") {
        ok(r, 400, { error: "source" });
        return;
      }
      const user = known(str(p.newParticipant));
      if (user === undefined) {
        ok(r, 404, { error: "new-participant" });
        return;
      }
      store.addUser(found, person(r), user);
      // The spec's data is an object (`type` only when a one-to-one room changed type).
      ok(r, 200, {});
    },
  };

  const chat: OcsRoute = {
    pattern: /^apps\/spreed\/api\/v1\/chat\/([a-z0-9]{4,30})$/,
    async handle(r) {
      const found = participantRoom(r);
      if (found === undefined) return;
      const me = person(r);
      if (r.req.method === "POST") {
        const p = await params(r.req, r.url);
        const text = str(p.message);
        if (text.trim() === "") {
          ok(r, 400, { error: "message" });
          return;
        }
        if (text.length > MAX_LENGTH) {
          ok(r, 413, { error: "message" });
          return;
        }
        const replyTo = int(p.replyTo, 0);
        if (replyTo !== 0) {
          const parent = store.message(found, replyTo);
          if (parent === undefined || parent.messageType === "system") {
            ok(r, 400, { error: "reply-to" });
            return;
          }
        }
        const posted = store.post(found, me, {
          message: text,
          parentId: replyTo,
          referenceId: str(p.referenceId),
          silent: p.silent === true || p.silent === "1" || p.silent === "true",
        });
        ok(r, 201, renderWithParent(store, found, posted, me.uid, known));
        return;
      }
      if (r.req.method !== "GET") {
        ok(r, 405, []);
        return;
      }
      const q = r.url.searchParams;
      const future = q.get("lookIntoFuture") === "1";
      const limit = Math.min(200, Math.max(1, int(q.get("limit"), 100)));
      const lastKnown = int(q.get("lastKnownMessageId"), 0);
      const includeLast = q.get("includeLastKnown") === "1";
      // A tool must never hold a request open: the stand-in answers only non-blocking reads.
      if (future && int(q.get("timeout"), 30) !== 0) {
        throw new Error("the stand-in does not long-poll: send timeout=0 with lookIntoFuture=1");
      }
      const all = store.messagesOf(found);
      let page: StoredMessage[];
      if (future) {
        page = all.filter((m) => (includeLast ? m.id >= lastKnown : m.id > lastKnown)).slice(0, limit);
        const a = found.attendees.get(me.uid);
        if (q.get("setReadMarker") !== "0" && a !== undefined && lastKnown > a.lastReadMessage) {
          a.lastReadMessage = lastKnown;
        }
      } else {
        const before = lastKnown === 0 ? Number.MAX_SAFE_INTEGER : lastKnown;
        page = all
          .filter((m) => (includeLast ? m.id <= before : m.id < before))
          .reverse()
          .slice(0, limit);
      }
      if (page.length === 0) {
        r.res.writeHead(304);
        r.res.end();
        return;
      }
      r.res.setHeader("X-Chat-Last-Given", String(page.at(-1)?.id ?? 0));
      r.res.setHeader(
        "X-Chat-Last-Common-Read",
        String(Math.min(...[...found.attendees.values()].map((a) => a.lastReadMessage))),
      );
      ok(
        r,
        200,
        page.map((m) => renderWithParent(store, found, m, me.uid, known)),
      );
    },
  };

  const read: OcsRoute = {
    pattern: /^apps\/spreed\/api\/v1\/chat\/([a-z0-9]{4,30})\/read$/,
    async handle(r) {
      const found = participantRoom(r);
      if (found === undefined) return;
      if (r.req.method === "POST") {
        const p = await params(r.req, r.url);
        const id =
          p.lastReadMessage === undefined || p.lastReadMessage === null ? null : int(p.lastReadMessage, 0);
        markRead(store, found, r.user.uid, id);
      } else if (r.req.method === "DELETE") {
        // Mark unread: the marker goes to the message before the last one.
        const ids = store.messagesOf(found).map((m) => m.id);
        markRead(store, found, r.user.uid, ids.at(-2) ?? 0);
      } else {
        ok(r, 405, []);
        return;
      }
      ok(r, 200, renderRoom(store, found, r.user.uid, known));
    },
  };

  const reaction: OcsRoute = {
    pattern: /^apps\/spreed\/api\/v1\/reaction\/([a-z0-9]{4,30})\/(\d+)$/,
    async handle(r) {
      const found = participantRoom(r);
      if (found === undefined) return;
      const message = store.message(found, Number(r.match[2]));
      const p = await params(r.req, r.url);
      const emoji = str(p.reaction);
      if (message === undefined) {
        ok(r, 404, []);
        return;
      }
      const me = person(r);
      if (r.req.method === "GET") {
        ok(r, 200, renderReactions(message, emoji === "" ? undefined : emoji));
        return;
      }
      if (r.req.method === "POST") {
        if (message.messageType === "system" || emoji === "") {
          ok(r, 400, []);
          return;
        }
        const who = message.reactions.get(emoji) ?? new Map<string, ReturnType<typeof reactor>>();
        message.reactions.set(emoji, who);
        const existed = who.has(me.uid);
        if (!existed) who.set(me.uid, reactor(me, Math.floor(Date.now() / 1000)));
        ok(r, existed ? 200 : 201, renderReactions(message));
        return;
      }
      if (r.req.method === "DELETE") {
        const who = message.reactions.get(emoji);
        if (who?.has(me.uid) !== true) {
          ok(r, 404, []);
          return;
        }
        who.delete(me.uid);
        ok(r, 200, renderReactions(message));
        return;
      }
      ok(r, 405, []);
    },
  };

  const app: TalkStandin = {
    id: "spreed",
    store,
    capabilities: () => ({
      spreed: {
        features: FEATURES,
        "features-local": ["chat-read-last", "favorites", "archived-conversations-v2"],
        config: {
          attachments: { allowed: true, folder: "/Talk" },
          call: {
            enabled: true,
            "breakout-rooms": true,
            recording: false,
            "recording-consent": 0,
            "supported-reactions": ["❤️", "🎉", "👏", "👋", "👍", "👎", "🔥", "😂", "🤩", "🤔", "😲", "😥"],
            "predefined-backgrounds": [],
            "can-upload-background": false,
            "sip-enabled": false,
            "sip-dialout-enabled": false,
            "can-enable-sip": false,
          },
          chat: {
            "max-length": MAX_LENGTH,
            "read-privacy": 0,
            "has-translation-providers": false,
            "typing-privacy": 0,
          },
          conversations: { "can-create": true },
          federation: {
            enabled: false,
            "incoming-enabled": false,
            "outgoing-enabled": false,
            "only-trusted-servers": true,
          },
          previews: { "max-gif-size": 3145728 },
          signaling: { "session-ping-limit": 200 },
        },
        "config-local": { chat: ["read-privacy"] },
        version: "21.0.4",
      },
    }),
    ocsRoutes: [rooms, room, participants, chat, read, reaction],
    addKnownUser(uid, displayName) {
      extra.set(uid, { uid, displayName });
    },
    seedMessage(token, uid, fields) {
      const found = store.rooms.get(token);
      const who = known(uid);
      if (found === undefined || who === undefined)
        throw new Error(`seedMessage: no room ${token} or user ${uid}`);
      return store.post(found, who, fields).id;
    },
  };
  return app;
};
