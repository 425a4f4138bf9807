// The talk tools end to end: real sign-in, the real Keycloak token exchange, the stand-in's Talk
// (spreed OCS API in memory). alice and bob chat: a mention, a reply, a reaction, read markers,
// history pages; a user who is not a participant reads nothing; strict CORS mode changes nothing
// (Talk's routes are OCS routes, never CORS-refused).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TalkStandin } from "../../standin/apps/talk.ts";
import type { ToolResult } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

interface Conversation {
  token: string;
  name: string;
  type: string;
  role: string;
  unreadMessages: number;
  unreadMention: boolean;
  lastMessage: string | null;
}
interface Message {
  id: number;
  author: string;
  text: string;
  system: boolean;
  replyTo: { id: number; author: string | null; text: string } | null;
  reactions: Record<string, number>;
  myReactions: string[];
}
interface Page {
  messages: Message[];
  nextBefore: number | null;
  nextAfter: number | null;
}

let scene: NextcloudScene;
let alice: string;
let bob: string;
let bobId: string;
let talk: TalkStandin;

beforeAll(async () => {
  scene = await startNextcloudScene();
  alice = await scene.signIn("alice");
  bob = await scene.signIn("bob");
  bobId = claims(bob).sub ?? "";
  talk = scene.standin.app<TalkStandin>("spreed");
});
afterAll(async () => {
  await scene.stop();
});

async function ok<T>(as: string, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = await scene.call(as, name, args);
  expect(r.isError, r.content[0]?.text).toBeFalsy();
  return r.structuredContent as T;
}

async function fails(as: string, name: string, args: Record<string, unknown>): Promise<string> {
  const r: ToolResult = await scene.call(as, name, args);
  expect(r.isError, JSON.stringify(r.structuredContent)).toBe(true);
  return r.content[0]?.text ?? "";
}

const conversations = async (as: string) =>
  (await ok<{ conversations: Conversation[] }>(as, "talk_list_conversations")).conversations;

describe("chatting in Talk", () => {
  it("lists the talk tools, and bob starts with no conversations", async () => {
    const tools = (await scene.listTools(alice)).filter((t) => t.startsWith("talk_"));
    expect(tools).toHaveLength(10);
    expect(await conversations(bob)).toEqual([]);
  });

  it("alice creates a group with bob and mentions him; bob reads it rendered, replies and reacts; alice sees both", async () => {
    const created = await ok<{ conversation: Conversation; added: string[]; notAdded: unknown[] }>(
      alice,
      "talk_create_conversation",
      { type: "group", name: "Launch", users: [bobId, "nobody-here"] },
    );
    expect(created.conversation).toMatchObject({ name: "Launch", type: "group", role: "owner" });
    expect(created.added).toEqual([bobId]);
    expect(created.notAdded).toEqual([{ id: "nobody-here", reason: "no Nextcloud user with this id" }]);
    const token = created.conversation.token;

    await ok(alice, "talk_send_message", { token, message: `Hi @"${bobId}", ready for launch?` });

    const bobs = await conversations(bob);
    expect(bobs).toEqual([
      expect.objectContaining({
        token,
        name: "Launch",
        role: "user",
        unreadMessages: 1,
        unreadMention: true,
      }),
    ]);
    expect(bobs[0]?.lastMessage).toBe("Alice Demo: Hi @Bob Demo, ready for launch?");

    const read = await ok<Page>(bob, "talk_read_messages", { token });
    expect(read.messages.map((m) => [m.system, m.author, m.text])).toEqual([
      [true, "Alice Demo", "Alice Demo created the conversation"],
      [true, "Alice Demo", "Alice Demo added Bob Demo"],
      [false, "Alice Demo", "Hi @Bob Demo, ready for launch?"],
    ]);
    const question = read.messages[2]?.id ?? 0;

    const reply = await ok<{ message: Message }>(bob, "talk_send_message", {
      token,
      message: "Ready!",
      replyTo: question,
    });
    expect(reply.message.replyTo).toEqual({
      id: question,
      author: "Alice Demo",
      text: "Hi @Bob Demo, ready for launch?",
    });
    expect(await ok(bob, "talk_react", { token, messageId: question, reaction: "👍" })).toEqual({
      reactions: { "👍": 1 },
    });

    const seen = await ok<Page>(alice, "talk_read_messages", { token, limit: 2 });
    expect(seen.messages.map((m) => m.text)).toEqual(["Hi @Bob Demo, ready for launch?", "Ready!"]);
    expect(seen.messages[0]).toMatchObject({ reactions: { "👍": 1 }, myReactions: [] });
    expect(seen.messages[1]).toMatchObject({ author: "Bob Demo", replyTo: { id: question } });
    expect(await ok(alice, "talk_list_reactions", { token, messageId: question })).toEqual({
      reactions: [{ reaction: "👍", count: 1, by: ["Bob Demo"] }],
    });

    // bob takes it back; a second removal says what is wrong.
    expect(await ok(bob, "talk_unreact", { token, messageId: question, reaction: "👍" })).toEqual({
      reactions: {},
    });
    expect(await fails(bob, "talk_unreact", { token, messageId: question, reaction: "👍" })).toContain(
      "You have no 👍 reaction",
    );
    expect(
      await fails(bob, "talk_react", { token, messageId: read.messages[0]?.id ?? 0, reaction: "👍" }),
    ).toContain("system messages take no reactions");

    // A shared file in the chat reads as its name and path.
    talk.seedMessage(token, claims(alice).sub ?? "", {
      message: "{file}",
      messageParameters: { file: { type: "file", id: "42", name: "plan.pdf", path: "Talk/plan.pdf" } },
    });
    const latest = await ok<Page>(bob, "talk_read_messages", { token, limit: 1 });
    expect(latest.messages.map((m) => m.text)).toEqual(["plan.pdf (Talk/plan.pdf)"]);
  });

  it("marking as read clears the unread count for that user only", async () => {
    const { conversation } = await ok<{ conversation: Conversation }>(alice, "talk_create_conversation", {
      type: "group",
      name: "Unread",
      users: [bobId],
    });
    const token = conversation.token;
    const first = await ok<{ message: Message }>(alice, "talk_send_message", { token, message: "one" });
    await ok(alice, "talk_send_message", { token, message: "two" });
    const unread = async (as: string) =>
      (await conversations(as)).find((c) => c.token === token)?.unreadMessages;
    expect(await unread(bob)).toBe(2);
    expect(await unread(alice)).toBe(0);

    // Reading does not mark read; marking up to the first message leaves one unread.
    await ok(bob, "talk_read_messages", { token });
    expect(await unread(bob)).toBe(2);
    await ok(bob, "talk_mark_read", { token, messageId: first.message.id });
    expect(await unread(bob)).toBe(1);
    const all = await ok<{ conversation: Conversation }>(bob, "talk_mark_read", { token });
    expect(all.conversation.unreadMessages).toBe(0);
    expect(await unread(bob)).toBe(0);
  });

  it("pages through history with before, and reads newer messages with after", async () => {
    const { conversation } = await ok<{ conversation: Conversation }>(alice, "talk_create_conversation", {
      type: "public",
      name: "History",
    });
    expect(conversation.type).toBe("public");
    const token = conversation.token;
    for (let i = 1; i <= 7; i++) await ok(alice, "talk_send_message", { token, message: `m${String(i)}` });

    const texts: string[][] = [];
    let before: number | null | undefined;
    for (let pages = 0; pages < 5; pages++) {
      const page: Page = await ok<Page>(alice, "talk_read_messages", {
        token,
        limit: 3,
        ...(before === undefined || before === null ? {} : { before }),
      });
      texts.push(page.messages.map((m) => m.text));
      before = page.nextBefore;
      if (before === null) break;
    }
    expect(texts).toEqual([
      ["m5", "m6", "m7"],
      ["m2", "m3", "m4"],
      ["Alice Demo created the conversation", "m1"],
    ]);

    const m4 = (await ok<Page>(alice, "talk_read_messages", { token, limit: 4 })).messages[0];
    expect(m4?.text).toBe("m4");
    const newer = await ok<Page>(alice, "talk_read_messages", { token, after: m4?.id ?? 0, limit: 2 });
    expect(newer.messages.map((m) => m.text)).toEqual(["m5", "m6"]);
    const rest = await ok<Page>(alice, "talk_read_messages", {
      token,
      after: newer.nextAfter ?? 0,
      limit: 2,
    });
    expect(rest.messages.map((m) => m.text)).toEqual(["m7"]);
    expect(rest.nextAfter).toBeNull();
    expect(await fails(alice, "talk_read_messages", { token, before: 5, after: 1 })).toContain("not both");
    // No read ever held a request open (Talk's long poll), nor moved the read marker.
    const reads = scene.standin
      .requests()
      .filter((r) => r.method === "GET" && r.rawPath.includes("/api/v1/chat/"));
    expect(reads.length).toBeGreaterThan(0);
    for (const r of reads) {
      const q = new URL(r.rawPath, "http://x").searchParams;
      expect([q.get("timeout"), q.get("setReadMarker")], r.rawPath).toEqual(["0", "0"]);
    }
  });

  it("one-to-one: created once, found again, named after the other user", async () => {
    const first = await ok<{ conversation: Conversation }>(alice, "talk_create_conversation", {
      type: "one-to-one",
      users: [bobId],
    });
    expect(first.conversation).toMatchObject({ type: "one-to-one", name: "Bob Demo" });
    const again = await ok<{ conversation: Conversation }>(alice, "talk_create_conversation", {
      type: "one-to-one",
      users: [bobId],
    });
    expect(again.conversation.token).toBe(first.conversation.token);
    expect((await conversations(bob)).find((c) => c.token === first.conversation.token)?.name).toBe(
      "Alice Demo",
    );
    expect(await fails(alice, "talk_create_conversation", { type: "one-to-one", users: [] })).toContain(
      "exactly one user id",
    );
    expect(await fails(alice, "talk_create_conversation", { type: "group", users: [bobId] })).toContain(
      "needs a `name`",
    );
  });
});

describe("who can read what", () => {
  it("a user who is not a participant can neither read, write, react nor add people; nothing changes", async () => {
    talk.addKnownUser("carol", "Carol Colleague");
    const { conversation } = await ok<{ conversation: Conversation }>(alice, "talk_create_conversation", {
      type: "group",
      name: "Alice and Carol",
      users: ["carol"],
    });
    const token = conversation.token;
    const secret = await ok<{ message: Message }>(alice, "talk_send_message", { token, message: "just us" });
    const stored = talk.store.messages.length;

    expect((await conversations(bob)).map((c) => c.token)).not.toContain(token);
    for (const [name, args] of [
      ["talk_read_messages", { token }],
      ["talk_get_conversation", { token }],
      ["talk_send_message", { token, message: "let me in" }],
      ["talk_list_reactions", { token, messageId: secret.message.id }],
      ["talk_react", { token, messageId: secret.message.id, reaction: "👀" }],
      ["talk_add_participants", { token, users: [bobId] }],
      ["talk_mark_read", { token }],
    ] as const) {
      const text = await fails(bob, name, args);
      expect(text, name).toMatch(/not a participant|of yours/);
      expect(text).not.toContain("just us");
    }
    expect(talk.store.messages.length).toBe(stored);
    expect(talk.store.rooms.get(token)?.attendees.has(bobId)).toBe(false);
  });

  it("a participant who is not a moderator cannot add people", async () => {
    const { conversation } = await ok<{ conversation: Conversation }>(alice, "talk_create_conversation", {
      type: "group",
      name: "Moderated",
      users: [bobId],
    });
    expect(
      await fails(bob, "talk_add_participants", { token: conversation.token, users: ["carol"] }),
    ).toContain("Only moderators");
  });

  it("refuses a token that is not Talk's shape before any request", async () => {
    scene.standin.resetRequests();
    expect(await fails(alice, "talk_read_messages", { token: "../../cloud/user" })).toContain(
      "4-30 lowercase letters and digits",
    );
    expect(scene.standin.requests().some((r) => r.rawPath.includes("cloud/user"))).toBe(false);
  });
});

describe("strict CORS mode", () => {
  it("does not touch Talk: its OCS routes keep working with bearer tokens", async () => {
    scene.standin.setCorsMode("strict");
    try {
      const { conversation } = await ok<{ conversation: Conversation }>(alice, "talk_create_conversation", {
        type: "group",
        name: "Strict",
        users: [bobId],
      });
      await ok(alice, "talk_send_message", { token: conversation.token, message: "still here" });
      const page = await ok<Page>(bob, "talk_read_messages", { token: conversation.token, limit: 1 });
      expect(page.messages.map((m) => m.text)).toEqual(["still here"]);
    } finally {
      scene.standin.setCorsMode("honour-header");
    }
  });
});
