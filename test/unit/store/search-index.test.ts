// The content index on the embedded database (PGlite): what a user finds, ranked, with the matched
// words marked; that a user never finds another user's items; the sync state the next pass relies
// on; and deleting a user's index. The same SQL runs on PostgreSQL (sql/0004_search_index.sql).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  migrate,
  nameQuery,
  openStore,
  prefixQuery,
  SearchIndex,
  upsertUser,
  type IndexedItem,
  type Store,
} from "../../../src/store/index.ts";

let dir: string;
let store: Store;
let index: SearchIndex;
let alice: string;
let bob: string;

const item = (i: Partial<IndexedItem> & Pick<IndexedItem, "key" | "title" | "body">): IndexedItem => ({
  source: "notes",
  container: "",
  etag: `"${i.key}"`,
  modifiedAt: new Date("2026-11-01T10:00:00Z"),
  ...i,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ncmcp-unit-index-"));
  store = await openStore({ backend: "pglite", dataDir: dir });
  await migrate(store);
  index = new SearchIndex(store.db, "english");
  alice = (await upsertUser(store.db, { issuer: "https://idp.test", subject: "alice" })).id;
  bob = (await upsertUser(store.db, { issuer: "https://idp.test", subject: "bob" })).id;
  await index.upsert(alice, [
    item({
      key: "1",
      title: "Release plan",
      body: "We decided to ship the gateway on Friday.",
      container: "Work",
    }),
    item({ key: "2", title: "Groceries", body: "milk, bread, a gateway cake" }),
    item({
      source: "files",
      key: "/Projects/decisions.md",
      title: "decisions.md",
      body: "Decision log: the gateway decision was made in October.",
      container: "/Projects",
    }),
  ]);
  await index.upsert(bob, [
    item({ key: "9", title: "Bob's gateway notes", body: "gateway gateway gateway" }),
  ]);
}, 60_000);

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("searching the index", () => {
  it("finds a note by a word of its body, stemmed, with the words marked in the snippet", async () => {
    const hits = await index.search(alice, "decide ship", { limit: 10 });
    expect(hits.map((h) => h.key)).toEqual(["1"]);
    expect(hits[0]?.snippet).toContain("«decided»");
    expect(hits[0]?.snippet).toContain("«ship»");
    expect(hits[0]).toMatchObject({ source: "notes", title: "Release plan", container: "Work", etag: '"1"' });
  });

  it("finds every matching item of the user, and never another user's items", async () => {
    const hits = await index.search(alice, "gateway", { limit: 10 });
    expect(hits.map((h) => h.key).sort()).toEqual(["/Projects/decisions.md", "1", "2"]);
    expect(hits.every((h) => h.key !== "9")).toBe(true);
    expect((await index.search(bob, "decided", { limit: 10 })).length).toBe(0);
  });

  it("takes web-search syntax: phrases and excluded words; and sources", async () => {
    expect((await index.search(alice, '"gateway cake"', { limit: 10 })).map((h) => h.key)).toEqual(["2"]);
    expect((await index.search(alice, "gateway -cake -friday", { limit: 10 })).map((h) => h.key)).toEqual([
      "/Projects/decisions.md",
    ]);
    expect(
      (await index.search(alice, "gateway", { limit: 10, sources: ["files"] })).map((h) => h.key),
    ).toEqual(["/Projects/decisions.md"]);
  });

  it("falls back to prefixes when the words as typed find nothing, and pages", async () => {
    expect((await index.search(alice, "grocer", { limit: 10 })).map((h) => h.key)).toEqual(["2"]);
    const first = await index.search(alice, "gateway", { limit: 2 });
    const second = await index.search(alice, "gateway", { limit: 2, offset: 2 });
    expect(new Set([...first, ...second].map((h) => h.key)).size).toBe(3);
  });

  it("answers nonsense and empty queries with nothing rather than an error", async () => {
    for (const q of ["", "   ", "&|!():*", "'\"", "-"]) {
      expect(await index.search(alice, q, { limit: 10 })).toEqual([]);
    }
    expect(prefixQuery("Ünïcode, words!")).toBe("ünïcode:* & words:*");
    expect(prefixQuery("&|!")).toBeUndefined();
    expect(prefixQuery('typ -quartr -"old plan"')).toBe("typ:* & !(quartr:*) & !(old:* <-> plan:*)");
    expect(prefixQuery("-cake")).toBeUndefined();
  });

  it("replaces an item on a second upsert and removes items and whole folders", async () => {
    await index.upsert(alice, [item({ key: "2", title: "Groceries", body: "only apples now" })]);
    expect(await index.search(alice, "cake", { limit: 10 })).toEqual([]);
    expect((await index.search(alice, "apples", { limit: 10 })).map((h) => h.key)).toEqual(["2"]);
    await index.upsert(alice, [
      item({ source: "files", key: "/Old/a.txt", title: "a.txt", body: "apples", container: "/Old" }),
      item({ source: "files", key: "/Old/Sub/b.txt", title: "b.txt", body: "apples", container: "/Old/Sub" }),
      item({ source: "files", key: "/Older/c.txt", title: "c.txt", body: "apples", container: "/Older" }),
    ]);
    expect(await index.removeContainer(alice, "files", "/Old")).toBe(2);
    expect(
      (await index.search(alice, "apples", { limit: 10, sources: ["files"] })).map((h) => h.key),
    ).toEqual(["/Older/c.txt"]);
    expect(await index.remove(alice, "files", ["/Older/c.txt", "/nope"])).toBe(1);
  });
});

describe("finding names by similarity", () => {
  beforeAll(async () => {
    await index.upsert(alice, [
      item({
        source: "files",
        key: "/Reports/Quarterly report.md",
        title: "Quarterly report.md",
        body: "Revenue grew.",
      }),
      item({ key: "20", title: "Typos", body: "I always write quartrly, never quarterly." }),
    ]);
  });

  it("finds a misspelt or partial name, below every item that matches by its words", async () => {
    expect((await index.search(alice, "quartrly", { limit: 10 })).map((h) => h.key)).toEqual([
      "20",
      "/Reports/Quarterly report.md",
    ]);
    expect((await index.search(alice, "Qarterly reprt", { limit: 10 })).map((h) => h.key)).toEqual([
      "/Reports/Quarterly report.md",
    ]);
    expect((await index.search(bob, "quartrly", { limit: 10 })).map((h) => h.key)).toEqual([]);
  });

  it("finds no name by an excluded word, nor by a name that is not alike", async () => {
    expect((await index.search(alice, "typos -quartrly", { limit: 10 })).map((h) => h.key)).toEqual([]);
    expect(await index.search(alice, "budgetary", { limit: 10 })).toEqual([]);
  });

  it("takes the words of a query that a name may resemble", () => {
    expect(nameQuery('"Quartrly report" -draft OR budget -"old plan"')).toEqual({
      like: "Quartrly report budget",
      exclude: 'draft or "old plan"',
    });
    expect(nameQuery("typos")).toEqual({ like: "typos", exclude: undefined });
    expect(nameQuery("ab")).toBeUndefined();
    expect(nameQuery("-excluded")).toBeUndefined();
    expect(nameQuery("a.b")).toBeUndefined();
  });
});

describe("sync state and the user's index", () => {
  it("keeps one token per collection, and forgets a folder with what is below it", async () => {
    await index.setSyncToken(alice, "files", "/A", "etag-a");
    await index.setSyncToken(alice, "files", "/A/B", "etag-b");
    await index.setSyncToken(alice, "files", "/AB", "etag-ab");
    await index.setSyncToken(alice, "files", "/A", "etag-a2");
    expect(await index.syncToken(alice, "files", "/A")).toBe("etag-a2");
    expect(await index.syncToken(bob, "files", "/A")).toBeUndefined();
    await index.forgetSync(alice, "files", "/A");
    expect(await index.syncToken(alice, "files", "/A/B")).toBeUndefined();
    expect(await index.syncToken(alice, "files", "/AB")).toBe("etag-ab");
  });

  it("reports status, pauses, and deletes everything of one user only", async () => {
    expect(await index.status(bob)).toBeUndefined();
    await index.setPaused(bob, true);
    expect(await index.status(bob)).toMatchObject({ items: 1, paused: true, readyAt: null });
    await index.setPaused(bob, false);
    expect((await index.status(bob))?.paused).toBe(false);
    const aliceBefore = await index.search(alice, "gateway", { limit: 10 });
    expect(await index.deleteAll(bob)).toBe(1);
    expect(await index.status(bob)).toBeUndefined();
    expect(await index.search(bob, "gateway", { limit: 10 })).toEqual([]);
    expect(await index.search(alice, "gateway", { limit: 10 })).toEqual(aliceBefore);
  });
});
