// What a model reads of Talk: placeholders rendered from messageParameters, hidden system messages
// left out, conversations and messages mapped to the tools' shapes, the token rule.
import { describe, expect, it } from "vitest";
import type { TalkMessage, TalkRoom } from "../../../../src/apps/talk/client.ts";
import {
  conversationLine,
  isVisible,
  messageLine,
  renderRich,
  toConversation,
  toMessage,
} from "../../../../src/apps/talk/render.ts";
import { tokenField } from "../../../../src/apps/talk/schema.ts";

const message = (over: Partial<TalkMessage> = {}): TalkMessage => ({
  id: 7,
  actorType: "users",
  actorId: "alice",
  actorDisplayName: "Alice Demo",
  timestamp: 1_780_000_000,
  message: "hello",
  messageParameters: [],
  systemMessage: "",
  messageType: "comment",
  reactions: [],
  ...over,
});

describe("rendering rich-object placeholders", () => {
  it("renders mentions as @Name, actors and users by name, files with their path", () => {
    expect(
      renderRich("Hi {mention-user1} and {mention-call1}, see {file}", {
        "mention-user1": { type: "user", id: "bob", name: "Bob Demo", "mention-id": "bob" },
        "mention-call1": { type: "call", id: "abcd1234", name: "Launch" },
        file: { type: "file", id: "42", name: "plan.pdf", path: "Talk/plan.pdf" },
      }),
    ).toBe("Hi @Bob Demo and @Launch, see plan.pdf (Talk/plan.pdf)");
    expect(
      renderRich("{actor} added {user}", {
        actor: { type: "user", id: "alice", name: "Alice Demo" },
        user: { type: "user", id: "bob", name: "Bob Demo" },
      }),
    ).toBe("Alice Demo added Bob Demo");
  });

  it("falls back to the id, keeps placeholders without a parameter, and takes Talk's empty list", () => {
    expect(renderRich("{actor} shared {object}", { actor: { type: "guest", id: "guest/x" } })).toBe(
      "guest/x shared {object}",
    );
    expect(renderRich("literal {braces} stay", [])).toBe("literal {braces} stay");
    expect(renderRich("{file}", { file: { type: "file", id: "1", name: "a.txt", path: "a.txt" } })).toBe(
      "a.txt",
    );
    expect(renderRich("at {geo}", { geo: { type: "geo-location", id: "geo:1,2", name: "Office" } })).toBe(
      "at Office (location)",
    );
  });
});

describe("messages", () => {
  it("maps a reply with reactions, and a reply to a deleted message", () => {
    const m = toMessage(
      message({
        message: "Yes {mention-user1}",
        messageParameters: { "mention-user1": { type: "user", id: "alice", name: "Alice Demo" } },
        reactions: { "👍": 2 },
        reactionsSelf: ["👍"],
        parent: message({ id: 3, message: "Ready?", actorDisplayName: "Bob Demo" }),
      }),
    );
    expect(m).toMatchObject({
      id: 7,
      author: "Alice Demo",
      text: "Yes @Alice Demo",
      system: false,
      replyTo: { id: 3, author: "Bob Demo", text: "Ready?" },
      reactions: { "👍": 2 },
      myReactions: ["👍"],
      time: "2026-05-28T20:26:40.000Z",
    });
    expect(messageLine(m)).toBe(
      "#7 2026-05-28T20:26:40.000Z Alice Demo: Yes @Alice Demo (reply to #3) [👍2]",
    );
    expect(toMessage(message({ parent: { id: 2, deleted: true } })).replyTo).toEqual({
      id: 2,
      author: null,
      text: "(message deleted)",
    });
  });

  it("hides the system messages Talk clients hide, and keeps the others", () => {
    expect(isVisible(message({ messageType: "system", systemMessage: "reaction" }))).toBe(false);
    expect(isVisible(message({ messageType: "system", systemMessage: "message_deleted" }))).toBe(false);
    expect(isVisible(message({ messageType: "system", systemMessage: "user_added" }))).toBe(true);
    expect(isVisible(message())).toBe(true);
  });
});

describe("conversations", () => {
  const room: TalkRoom = {
    token: "abcd1234",
    type: 2,
    name: "launch",
    displayName: "Launch",
    participantType: 3,
    readOnly: 0,
    unreadMessages: 2,
    unreadMention: true,
    lastActivity: 1_780_000_000,
    lastReadMessage: 5,
    lastMessage: message({
      message: "see {file}",
      messageParameters: { file: { type: "file", id: "1", name: "x.pdf" } },
    }),
  };

  it("maps type, role, unread state and the last message rendered", () => {
    const c = toConversation(room);
    expect(c).toMatchObject({
      token: "abcd1234",
      name: "Launch",
      type: "group",
      role: "user",
      unreadMessages: 2,
      unreadMention: true,
      lastMessage: "Alice Demo: see x.pdf",
    });
    expect(conversationLine(c)).toBe("- Launch (group, token abcd1234, 2 unread (mentioned))");
    expect(toConversation({ ...room, type: 6, lastMessage: [], participantType: 1 })).toMatchObject({
      type: "note-to-self",
      role: "owner",
      lastMessage: null,
    });
  });

  it("takes only Talk's token shape, so a token can never leave the route", () => {
    expect(tokenField.parse("abcd1234")).toBe("abcd1234");
    for (const bad of ["abc", "ABCD1234", "../room", "abcd/1234", "a".repeat(31)]) {
      expect(tokenField.safeParse(bad).success, bad).toBe(false);
    }
  });
});
