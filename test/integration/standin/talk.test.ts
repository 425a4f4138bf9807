// Contract test of the stand-in's Talk (spreed) part with real Keycloak tokens: every response it
// gives the gateway's calls validates against spreed.openapi.json (ajv), and it behaves like Talk
// where a client notices: 404 for a user who is not a participant, 304 when history has nothing
// older, `X-Chat-Last-Given` as the next cursor, reactions 201 then 200, unread counts.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import type { TalkStandin } from "../../standin/apps/talk.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { nextcloudTokens, type UserTokens } from "./support.ts";
import { talkContract } from "./talk-contract.ts";

const { validate, component } = talkContract();
let alice: UserTokens;
let bob: UserTokens;
let nc: NextcloudStandin;

beforeAll(async () => {
  const browser: Browser = await launchBrowser();
  try {
    alice = await nextcloudTokens(browser, DEMO_USERS.alice);
    bob = await nextcloudTokens(browser, DEMO_USERS.bob);
  } finally {
    await browser.close();
  }
  nc = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
});
afterAll(async () => {
  await nc.stop();
});

const uid = (t: UserTokens) => claims(t.nextcloud).sub ?? "";

async function ocs(
  as: UserTokens,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: { ocs: { data: unknown } } | undefined }> {
  const res = await fetch(`${nc.url}/ocs/v2.php/apps/spreed/api/${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${as.nextcloud}`,
      "OCS-APIRequest": "true",
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text === "" ? undefined : (JSON.parse(text) as { ocs: { data: unknown } }),
  };
}

/** The spec's complaints about a response; empty when it conforms. */
function contract(path: string, method: string, r: { status: number; body: unknown }): string[] {
  return validate(path, method, r.status, r.body);
}

describe("Talk in the stand-in", () => {
  it("advertises the spreed capability in the spec's shape", async () => {
    const res = await fetch(`${nc.url}/ocs/v2.php/cloud/capabilities?format=json`, {
      headers: { Authorization: `Bearer ${alice.nextcloud}`, "OCS-APIRequest": "true" },
    });
    const caps = ((await res.json()) as { ocs: { data: { capabilities: Record<string, unknown> } } }).ocs.data
      .capabilities;
    expect(component("Capabilities", caps.spreed)).toEqual([]);
    expect(caps.spreed).toMatchObject({
      features: expect.arrayContaining(["conversation-v4", "reactions"]) as unknown,
    });
    nc.setAppEnabled(uid(bob), "spreed", false);
    try {
      const off = await fetch(`${nc.url}/ocs/v2.php/cloud/capabilities?format=json`, {
        headers: { Authorization: `Bearer ${bob.nextcloud}`, "OCS-APIRequest": "true" },
      });
      const bobCaps = ((await off.json()) as { ocs: { data: { capabilities: Record<string, unknown> } } }).ocs
        .data.capabilities;
      expect(bobCaps.spreed).toBeUndefined();
      expect((await ocs(bob, "GET", "v4/room")).status).toBe(404);
    } finally {
      nc.setAppEnabled(uid(bob), "spreed", true);
    }
  });

  it("creates rooms, adds participants, chats, reacts and marks read in the spec's shapes", async () => {
    // bob signs in once, so Nextcloud knows him.
    const none = await ocs(bob, "GET", "v4/room");
    expect(contract("/room", "get", none)).toEqual([]);
    expect(none.body?.ocs.data).toEqual([]);

    const created = await ocs(alice, "POST", "v4/room", { roomType: 2, roomName: "Launch" });
    expect(created.status).toBe(201);
    expect(contract("/room", "post", created)).toEqual([]);
    const token = (created.body?.ocs.data as { token: string }).token;

    const added = await ocs(alice, "POST", `v4/room/${token}/participants`, { newParticipant: uid(bob) });
    expect(added.status).toBe(200);
    expect(contract("/room/{token}/participants", "post", added)).toEqual([]);
    const unknown = await ocs(alice, "POST", `v4/room/${token}/participants`, { newParticipant: "nobody" });
    expect(unknown.status).toBe(404);
    expect(contract("/room/{token}/participants", "post", unknown)).toEqual([]);

    const people = await ocs(bob, "GET", `v4/room/${token}/participants`);
    expect(contract("/room/{token}/participants", "get", people)).toEqual([]);
    expect((people.body?.ocs.data as { actorId: string }[]).map((p) => p.actorId).sort()).toEqual(
      [uid(alice), uid(bob)].sort(),
    );

    const sent = await ocs(alice, "POST", `v1/chat/${token}`, { message: `Hi @"${uid(bob)}", ready?` });
    expect(sent.status).toBe(201);
    expect(contract("/chat/{token}", "post", sent)).toEqual([]);
    const first = sent.body?.ocs.data as { id: number; message: string; messageParameters: unknown };
    expect(first.message).toBe("Hi {mention-user1}, ready?");
    expect(first.messageParameters).toEqual({
      "mention-user1": { type: "user", id: uid(bob), name: "Bob Demo", "mention-id": uid(bob) },
    });

    const bobRoom = await ocs(bob, "GET", `v4/room/${token}`);
    expect(contract("/room/{token}", "get", bobRoom)).toEqual([]);
    expect(bobRoom.body?.ocs.data).toMatchObject({
      unreadMessages: 1,
      unreadMention: true,
      unreadMentionDirect: true,
    });

    const reply = await ocs(bob, "POST", `v1/chat/${token}`, { message: "Yes!", replyTo: first.id });
    expect(contract("/chat/{token}", "post", reply)).toEqual([]);
    expect(reply.body?.ocs.data).toMatchObject({ parent: { id: first.id } });
    const badReply = await ocs(bob, "POST", `v1/chat/${token}`, { message: "x", replyTo: 99999 });
    expect(badReply.status).toBe(400);
    expect(contract("/chat/{token}", "post", badReply)).toEqual([]);

    const react = await ocs(bob, "POST", `v1/reaction/${token}/${String(first.id)}`, { reaction: "👍" });
    expect(react.status).toBe(201);
    expect(contract("/reaction/{token}/{messageId}", "post", react)).toEqual([]);
    const again = await ocs(bob, "POST", `v1/reaction/${token}/${String(first.id)}`, { reaction: "👍" });
    expect(again.status).toBe(200);
    const list = await ocs(alice, "GET", `v1/reaction/${token}/${String(first.id)}`);
    expect(contract("/reaction/{token}/{messageId}", "get", list)).toEqual([]);
    expect(list.body?.ocs.data).toMatchObject({
      "👍": [{ actorId: uid(bob), actorDisplayName: "Bob Demo" }],
    });
    const removed = await ocs(
      bob,
      "DELETE",
      `v1/reaction/${token}/${String(first.id)}?reaction=${encodeURIComponent("👍")}`,
    );
    expect(removed.status).toBe(200);
    expect(contract("/reaction/{token}/{messageId}", "delete", removed)).toEqual([]);
    expect(removed.body?.ocs.data).toEqual({});

    const history = await ocs(alice, "GET", `v1/chat/${token}?lookIntoFuture=0&limit=2`);
    expect(history.status).toBe(200);
    expect(contract("/chat/{token}", "get", history)).toEqual([]);
    const ids = (history.body?.ocs.data as { id: number }[]).map((m) => m.id);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBeGreaterThan(ids[1] ?? 0);
    expect(history.headers.get("x-chat-last-given")).toBe(String(ids[1]));

    const read = await ocs(alice, "POST", `v1/chat/${token}/read`, { lastReadMessage: null });
    expect(contract("/chat/{token}/read", "post", read)).toEqual([]);
    expect(read.body?.ocs.data).toMatchObject({ unreadMessages: 0 });
  });

  it("answers 304 when history has nothing older, and 404 to a user who is not a participant", async () => {
    const created = await ocs(alice, "POST", "v4/room", { roomType: 2, roomName: "Alone" });
    const token = (created.body?.ocs.data as { token: string }).token;
    const { store } = nc.app<TalkStandin>("spreed");
    const room = store.rooms.get(token);
    const oldest = room === undefined ? -1 : (store.messagesOf(room)[0]?.id ?? -1);
    const nothing = await ocs(
      alice,
      "GET",
      `v1/chat/${token}?lookIntoFuture=0&lastKnownMessageId=${String(oldest)}`,
    );
    expect(nothing.status).toBe(304);
    for (const path of [
      `v4/room/${token}`,
      `v4/room/${token}/participants`,
      `v1/chat/${token}?lookIntoFuture=0`,
    ]) {
      const r = await ocs(bob, "GET", path);
      expect(r.status, path).toBe(404);
    }
    expect(contract("/room/{token}", "get", await ocs(bob, "GET", `v4/room/${token}`))).toEqual([]);
  });
});
