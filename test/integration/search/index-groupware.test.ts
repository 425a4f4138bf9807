// The content index of calendars, tasks, contacts and Deck cards, end to end: alice and bob grant
// offline access at the real Keycloak, `jobs run search-index` indexes what the stand-in serves
// (CalDAV and CardDAV by Radicale, Deck from memory), and the `search` tool finds an event by a word in
// its description, a task, a contact by its organisation and a Deck card by its description, from the
// index, each with the tool call that opens it. A second pass with nothing changed costs the
// sync-collection REPORTs (and the Deck board list); edits and deletions reach the index; a deleted
// event never comes back from search; bob never sees alice's items.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GrantStore,
  Sealer,
  type OfflineGrant,
  type SearchIndex,
  type Store,
} from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { runGatewayCli } from "../../harness/process.ts";
import type { DeckStandin } from "../../standin/apps/deck.ts";
import type { Card, Stack } from "../../standin/apps/deck-store.ts";
import { ics } from "../../standin/groupware-seed.ts";
import type { NextcloudStandin } from "../../standin/index.ts";
import { realGrants } from "../jobs/grants-support.ts";
import type { TestGateway } from "../support/gateway.ts";
import { callTool } from "../support/mcp-call.ts";
import { claims } from "../support/oauth.ts";
import { jobEnv, k1, mcpTokens, searchTool, startSearchScene, type SearchScene } from "./support.ts";

interface Hit {
  provider: string;
  title: string;
  id: string | number;
  snippet: string | null;
  open: { tool: string; arguments: Record<string, unknown> } | null;
}
interface Found {
  source: string;
  hits: Hit[];
}

let scene: SearchScene;
let nc: NextcloudStandin;
let gw: TestGateway;
let store: Store;
let index: SearchIndex;
let env: Record<string, string>;
let alice: string;
let bob: string;
let aliceGrant: OfflineGrant;
let bobGrant: OfflineGrant;
let aliceUid: string;
let bobUid: string;
let deckCard: Card;

const event = (uid: string, summary: string, description: string) =>
  ics([
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20261001T080000Z",
    "DTSTART:20261020T090000Z",
    "DTEND:20261020T100000Z",
    `SUMMARY:${summary}`,
    `DESCRIPTION:${description}`,
    "LOCATION:Room 4.01",
    "END:VEVENT",
  ]);
const vcard = (uid: string, fn: string, org: string) =>
  `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${fn}\r\nORG:${org}\r\nEMAIL:${uid}@example.com\r\nEND:VCARD\r\n`;

const search = (token: string, query: string) => searchTool<Found>(gw.gateway.url, token, { query });

async function call(token: string, name: string, args: Record<string, unknown>) {
  const r = await callTool(gw.gateway.url, token, name, args);
  expect(r.isError, r.content[0]?.text).toBeFalsy();
  return r.structuredContent as Record<string, unknown>;
}

async function runIndex(): Promise<Record<string, number>> {
  const run = await runGatewayCli(["jobs", "run", "search-index"], env);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const errors = await store.db.selectFrom("search_index_users").select("last_error").execute();
  const last = await store.db
    .selectFrom("job_runs")
    .select("counts")
    .where("job", "=", "search-index")
    .orderBy("id", "desc")
    .executeTakeFirstOrThrow();
  expect(last.counts.failed, JSON.stringify(errors)).toBe(0);
  return last.counts;
}

const titles = async (userId: string, q: string) =>
  (await index.search(userId, q, { limit: 10 })).map((h) => `${h.source}:${h.key}`);

function seedDeck(uid: string, title: string, description: string): Card {
  const deck = nc.app<DeckStandin>("deck").store;
  const board = deck.createBoard(uid, "Launch", "0082c9");
  const stack: Stack = {
    id: deck.nextId(),
    boardId: board.id,
    title: "To do",
    order: 0,
    deletedAt: 0,
    lastModified: Math.floor(Date.now() / 1000),
    version: 1,
  };
  deck.stacks.set(stack.id, stack);
  const card: Card = {
    id: deck.nextId(),
    stackId: stack.id,
    title,
    description,
    type: "plain",
    owner: uid,
    order: 0,
    archived: false,
    done: null,
    duedate: null,
    deletedAt: 0,
    createdAt: Math.floor(Date.now() / 1000),
    lastModified: Math.floor(Date.now() / 1000),
    version: 1,
    labels: [],
    assigned: [],
  };
  deck.cards.set(card.id, card);
  deck.touchCard(card);
  return card;
}

beforeAll(async () => {
  scene = await startSearchScene();
  ({ nc, gw, store, index } = scene);
  const browser: Browser = await launchBrowser();
  try {
    [aliceGrant, bobGrant] = (await realGrants(
      browser,
      store,
      new GrantStore(store.db, new Sealer([k1])),
      2,
    )) as [OfflineGrant, OfflineGrant];
    ({ alice, bob } = await mcpTokens(browser, ["alice", "bob"], "openid mcp:tools mcp:write"));
  } finally {
    await browser.close();
  }
  aliceUid = claims(alice).sub ?? "";
  bobUid = claims(bob).sub ?? "";
  await nc.seedCalendar(aliceUid, {
    uri: "work",
    displayName: "Work",
    objects: {
      "review.ics": event("review@example.com", "Quarterly review", "Bring the zeppelin figures"),
      "offsite.ics": event("offsite@example.com", "Offsite", "Hiking near the glacier"),
    },
  });
  await nc.seedCalendar(aliceUid, {
    uri: "trips",
    displayName: "Trips",
    objects: { "lisbon.ics": event("lisbon@example.com", "Lisbon", "Tram 28 and pastel de nata") },
  });
  await nc.seedCalendar(aliceUid, {
    uri: "todo",
    displayName: "Tasks",
    components: ["VTODO"],
    objects: {
      "passport.ics": ics([
        "BEGIN:VTODO",
        "UID:passport@example.com",
        "DTSTAMP:20261001T080000Z",
        "SUMMARY:Renew the passport",
        "DESCRIPTION:Bring two biometric photos",
        "END:VTODO",
      ]),
    },
  });
  await nc.seedAddressBook(aliceUid, {
    uri: "contacts",
    displayName: "Contacts",
    cards: { "dana.vcf": vcard("dana", "Dana Scully", "Zanzibar Trading") },
  });
  deckCard = seedDeck(aliceUid, "Write the launch post", "Mention the aardvark mascot");
  await nc.seedCalendar(bobUid, {
    uri: "personal",
    objects: { "lunch.ics": event("lunch@example.com", "Lunch", "Ramen with the kumquat team") },
  });
  env = jobEnv(gw.databaseUrl, nc.url);
}, 300_000);

afterAll(async () => {
  await scene.stop();
});

describe("the content index of calendars, tasks, contacts and Deck", () => {
  it("finds an event by its description, a task, a contact by its organisation and a Deck card, from the index", async () => {
    const counts = await runIndex();
    expect(counts).toMatchObject({ passes: 2, indexed: 7, removed: 0 });
    const event = await search(alice, "zeppelin");
    expect(event.o.source).toBe("index");
    expect(event.r.content[0]?.text).toContain("from the content index");
    expect(event.o.hits).toEqual([
      expect.objectContaining({
        provider: "calendar",
        title: "Quarterly review",
        id: "work/review.ics",
        open: { tool: "calendar_events", arguments: { id: "work/review.ics" } },
        snippet: expect.stringContaining("«zeppelin»") as unknown,
      }),
    ]);
    // The open hint is a call that works.
    const opened = await call(alice, "calendar_events", { id: "work/review.ics" });
    expect(opened.events).toEqual([expect.objectContaining({ summary: "Quarterly review" })]);

    const task = await search(alice, "biometric");
    expect(task.o.hits).toEqual([
      expect.objectContaining({
        provider: "tasks",
        title: "Renew the passport",
        open: { tool: "calendar_tasks", arguments: { query: "Renew the passport", status: "all" } },
      }),
    ]);

    const contact = await search(alice, "Zanzibar");
    expect(contact.o.hits).toEqual([
      expect.objectContaining({
        provider: "contacts",
        title: "Dana Scully",
        open: { tool: "contacts_get", arguments: { book: "contacts", id: "dana.vcf" } },
      }),
    ]);
    expect(await call(alice, "contacts_get", { book: "contacts", id: "dana.vcf" })).toMatchObject({
      contact: { organization: "Zanzibar Trading" },
    });

    const card = await search(alice, "aardvark");
    const deckArgs = {
      board: expect.any(Number) as unknown,
      stack: expect.any(Number) as unknown,
      card: deckCard.id,
    };
    expect(card.o.hits).toEqual([
      expect.objectContaining({
        provider: "deck",
        title: "Write the launch post",
        open: { tool: "deck_get_card", arguments: deckArgs },
      }),
    ]);
    const open = card.o.hits[0]?.open;
    expect(await call(alice, "deck_get_card", open?.arguments ?? {})).toMatchObject({
      card: { title: "Write the launch post" },
    });
  });

  it("bob never sees alice's items, and finds his own", async () => {
    for (const word of ["zeppelin", "biometric", "Zanzibar", "aardvark"]) {
      const { o } = await search(bob, word);
      expect(o).toMatchObject({ source: "index", hits: [] });
    }
    expect((await search(bob, "kumquat")).o.hits.map((h) => h.title)).toEqual(["Lunch"]);
    expect(await titles(aliceGrant.user_id, "kumquat")).toEqual([]);
  });

  it("a second pass with nothing changed makes only the sync-collection REPORTs and changes nothing", async () => {
    nc.resetRequests();
    const counts = await runIndex();
    expect(counts).toMatchObject({ passes: 2, indexed: 0, removed: 0 });
    const groupware = nc
      .requests()
      .filter((r) => /\/remote\.php\/dav\/(calendars|addressbooks)\/|\/apps\/deck\//.test(r.rawPath))
      .map((r) => `${r.method} ${r.rawPath.replace(/[0-9a-f-]{36}/g, "<uid>")}`)
      .sort();
    expect(groupware).toEqual(
      [
        // alice: the calendar home, one sync-collection per calendar; the book home, one per book
        "PROPFIND /remote.php/dav/calendars/<uid>/",
        "REPORT /remote.php/dav/calendars/<uid>/work/",
        "REPORT /remote.php/dav/calendars/<uid>/trips/",
        "REPORT /remote.php/dav/calendars/<uid>/todo/",
        "PROPFIND /remote.php/dav/addressbooks/users/<uid>/",
        "REPORT /remote.php/dav/addressbooks/users/<uid>/contacts/",
        "GET /index.php/apps/deck/api/v1.1/boards",
        // bob
        "PROPFIND /remote.php/dav/calendars/<uid>/",
        "REPORT /remote.php/dav/calendars/<uid>/personal/",
        "PROPFIND /remote.php/dav/addressbooks/users/<uid>/",
        "GET /index.php/apps/deck/api/v1.1/boards",
      ].sort(),
    );
  });

  it("re-indexes an edited event and a changed card; a deleted event and a deleted calendar leave the index", async () => {
    const [review] = (await call(alice, "calendar_events", { id: "work/review.ics" })).events as {
      etag: string;
    }[];
    await call(alice, "calendar_save_event", {
      id: "work/review.ics",
      etag: review?.etag,
      description: "Bring the walrus figures",
    });
    const [offsite] = (await call(alice, "calendar_events", { id: "work/offsite.ics" })).events as {
      etag: string;
    }[];
    await call(alice, "calendar_delete", { id: "work/offsite.ics", etag: offsite?.etag });
    await call(alice, "calendar_manage_calendar", { action: "delete", name: "trips" });
    const deck = nc.app<DeckStandin>("deck").store;
    deckCard.description = "Mention the pangolin mascot";
    deck.touchCard(deckCard);

    const counts = await runIndex();
    expect(counts).toMatchObject({ indexed: 2, removed: 2 });
    expect(await titles(aliceGrant.user_id, "walrus")).toEqual(["calendar:work/review.ics"]);
    expect(await titles(aliceGrant.user_id, "zeppelin")).toEqual([]);
    expect(await titles(aliceGrant.user_id, "glacier")).toEqual([]);
    expect(await titles(aliceGrant.user_id, "nata")).toEqual([]);
    expect(await index.syncToken(aliceGrant.user_id, "calendar", "trips")).toBeUndefined();
    expect(await titles(aliceGrant.user_id, "pangolin")).toHaveLength(1);
    expect(await titles(aliceGrant.user_id, "aardvark")).toEqual([]);
    expect((await search(alice, "walrus")).o.hits.map((h) => h.id)).toEqual(["work/review.ics"]);
  });

  it("never returns an event deleted since it was indexed (verify on read), and resyncs its calendar", async () => {
    const [review] = (await call(alice, "calendar_events", { id: "work/review.ics" })).events as {
      etag: string;
    }[];
    await call(alice, "calendar_delete", { id: "work/review.ics", etag: review?.etag });
    const { o } = await search(alice, "walrus");
    expect(o).toMatchObject({ source: "index", hits: [] });
    // Gone from the index, not only from this answer; its calendar is read from scratch next time.
    expect(await titles(aliceGrant.user_id, "walrus")).toEqual([]);
    expect(await index.syncToken(aliceGrant.user_id, "calendar", "work")).toBeUndefined();
    const counts = await runIndex();
    expect(counts).toMatchObject({ indexed: 0, removed: 0 });
    expect((await search(alice, "walrus")).o.hits).toEqual([]);
  });

  it("starts a calendar over when the server no longer knows its sync token", async () => {
    await nc.seedCalendar(aliceUid, {
      uri: "later",
      objects: { "gala.ics": event("gala@example.com", "Gala", "Black tie and a marimba band") },
    });
    await index.setSyncToken(aliceGrant.user_id, "calendar", "todo", "http://radicale.org/ns/sync/unknown");
    const counts = await runIndex();
    expect(counts).toMatchObject({ resyncs: 1, indexed: 1, removed: 0 });
    expect(await titles(aliceGrant.user_id, "marimba")).toEqual(["calendar:later/gala.ics"]);
    expect(await titles(aliceGrant.user_id, "biometric")).toEqual(["tasks:todo/passport.ics"]);
    expect(await index.syncToken(aliceGrant.user_id, "calendar", "todo")).toMatch(
      /^http:\/\/radicale\.org\/ns\/sync\//,
    );
  });

  it("takes the Notes folder from the Notes settings, and indexes no notes for a user without Notes", async () => {
    nc.setNotesPath(aliceUid, "Notizen");
    await nc.seed(aliceUid, { "Notizen/Idee.md": "Eine Idee mit einem Okapi." });
    await nc.seed(bobUid, { "Notes/plan.md": "A plan with a narwhal." });
    nc.setNotesEnabled(bobUid, false);
    nc.resetRequests();
    await runIndex();
    // Asked of the Notes app once, for alice only: bob has no Notes.
    expect(nc.requests().filter((r) => r.rawPath === "/index.php/apps/notes/api/v1/settings")).toHaveLength(
      1,
    );
    expect(
      (await index.search(aliceGrant.user_id, "okapi", { limit: 5 })).map((h) => [h.source, h.title]),
    ).toEqual([["notes", "Idee"]]);
    expect(
      (await index.search(bobGrant.user_id, "narwhal", { limit: 5 })).map((h) => [h.source, h.key]),
    ).toEqual([["files", "/Notes/plan.md"]]);
  });

  it("when app routes refuse bearer tokens, the pass still completes: Notes folder from the capability, Deck kept", async () => {
    nc.setAppRoutesRefuseBearer(true);
    try {
      const counts = await runIndex();
      expect(counts).toMatchObject({ passes: 2, removed: 0 });
      expect(counts.appsRefused).toBeGreaterThanOrEqual(1);
      expect(
        (await index.search(aliceGrant.user_id, "okapi", { limit: 5 })).map((h) => [h.source, h.title]),
      ).toEqual([["notes", "Idee"]]);
      expect(await titles(aliceGrant.user_id, "pangolin")).toHaveLength(1);
    } finally {
      nc.setAppRoutesRefuseBearer(false);
    }
  });

  it("an app the user no longer has takes its items out of the index", async () => {
    nc.setAppEnabled(aliceUid, "deck", false);
    nc.setGroupware({ contacts: false });
    nc.resetRequests();
    const counts = await runIndex();
    expect(counts).toMatchObject({ indexed: 0, removed: 2 });
    expect(await titles(aliceGrant.user_id, "pangolin")).toEqual([]);
    expect(await titles(aliceGrant.user_id, "Zanzibar")).toEqual([]);
    expect(await index.syncToken(aliceGrant.user_id, "contacts", "contacts")).toBeUndefined();
    expect(await titles(aliceGrant.user_id, "biometric")).toEqual(["tasks:todo/passport.ics"]);
    // Deck is not asked for alice's boards any more (bob still has Deck).
    expect(nc.requests().filter((r) => r.rawPath.startsWith("/index.php/apps/deck/"))).toHaveLength(1);
  });
});
