// One indexing pass over a user's files and notes, against the stand-in's real WebDAV with a real
// exchanged Nextcloud token, into the index on the real PostgreSQL: a word of a note's body and of a
// file's content is found; a second pass over an unchanged tree costs one request; a change costs
// the requests of the changed path only; deleted files and folders leave the index.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { crawlFiles, type IndexSink } from "../../../src/apps/search/crawl.ts";
import { createNextcloudClient, type NextcloudClient } from "../../../src/nextcloud/index.ts";
import { migrate, openStore, SearchIndex, upsertUser, type Store } from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { nextcloudTokens } from "../standin/support.ts";

const { issuer } = inject("keycloak");
let nc: NextcloudStandin;
let client: NextcloudClient;
let database: { url: string; drop(): Promise<void> };
let store: Store;
let index: SearchIndex;
let userId: string;
let uid: string;
let sink: IndexSink;

const OPTIONS = { notesFolder: "/Notes", maxFileBytes: 64 * 1024 };

beforeAll(async () => {
  const browser: Browser = await launchBrowser();
  let token: string;
  try {
    token = (await nextcloudTokens(browser, DEMO_USERS.alice)).nextcloud;
  } finally {
    await browser.close();
  }
  uid = claims(token).sub ?? "";
  nc = await startNextcloudStandin({ issuer, audience: "nextcloud" });
  client = createNextcloudClient({ baseUrl: nc.url, token: () => token, timeoutMs: 10_000 });
  database = await createTestDatabase(inject("pgAdminUrl"), "crawl");
  store = await openStore({ backend: "postgres", url: database.url, poolMax: 2 });
  await migrate(store);
  index = new SearchIndex(store.db, "english");
  userId = (await upsertUser(store.db, { issuer, subject: uid })).id;
  sink = {
    itemsIn: (source, container) => index.itemsIn(userId, source, container),
    upsert: (items) => index.upsert(userId, items),
    remove: (source, keys) => index.remove(userId, source, keys),
    removeContainer: (source, container) => index.removeContainer(userId, source, container),
    syncToken: (scope) => index.syncToken(userId, "files", scope),
    setSyncToken: (scope, token) => index.setSyncToken(userId, "files", scope, token),
    forgetSync: (scope) => index.forgetSync(userId, "files", scope),
    foldersBelow: (folder) => index.foldersBelow(userId, folder),
  };
  await nc.seed(uid, {
    "Notes/Work/Release plan.md": "# Release plan\nWe decided to ship on Friday.",
    "Projects/minutes.txt": "Minutes: the board approved the budget.",
    "Projects/Deep/inner.md": "A pelican sits in a deep folder.",
    "Photos/cat.png": new Uint8Array([137, 80, 78, 71]),
    ...Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`Archive/${String(i)}.txt`, `entry ${String(i)}`]),
    ),
  });
}, 300_000);

afterAll(async () => {
  await store.close();
  await database.drop();
  await nc.stop();
});

const keys = async (q: string) =>
  (await index.search(userId, q, { limit: 50 })).map((h) => `${h.source}:${h.title}`);

describe("an indexing pass over files and notes", () => {
  it("indexes notes by their id and text files by their path, finding words of their bodies", async () => {
    const counts = await crawlFiles(client.files, sink, OPTIONS);
    expect(counts).toMatchObject({ foldersSkipped: 0, indexed: 24, removed: 0 });
    expect(await keys("decided")).toEqual(["notes:Release plan"]);
    expect(await keys("approved budget")).toEqual(["files:minutes.txt"]);
    expect(await keys("pelican")).toEqual(["files:inner.md"]);
    const [note] = await index.search(userId, "friday", { limit: 1 });
    expect(Number(note?.key)).toBeGreaterThan(0);
    // The picture is found by name only.
    expect(await keys("cat")).toEqual(["files:cat.png"]);
  });

  it("costs one request when nothing changed", async () => {
    nc.resetRequests();
    const counts = await crawlFiles(client.files, sink, OPTIONS);
    expect(counts).toMatchObject({ requests: 1, foldersSkipped: 1, read: 0, indexed: 0 });
    expect(nc.requests()).toHaveLength(1);
  });

  it("reads only the changed path: the folders above the change and the changed file", async () => {
    await writeFile(
      join(nc.filesRoot(uid), "Projects", "Deep", "inner.md"),
      "A flamingo replaced the pelican.",
    );
    nc.resetRequests();
    const counts = await crawlFiles(client.files, sink, OPTIONS);
    // stat /, list /, list /Projects, list /Projects/Deep, read inner.md; Notes, Photos, Archive skipped.
    expect(counts).toMatchObject({ folders: 3, read: 1, indexed: 1 });
    expect(nc.requests()).toHaveLength(5);
    expect(await keys("flamingo")).toEqual(["files:inner.md"]);
  });

  it("removes deleted files and folders from the index", async () => {
    await rm(join(nc.filesRoot(uid), "Projects", "Deep"), { recursive: true });
    await rm(join(nc.filesRoot(uid), "Notes", "Work", "Release plan.md"));
    await mkdir(join(nc.filesRoot(uid), "Empty"));
    const counts = await crawlFiles(client.files, sink, OPTIONS);
    expect(counts.removed).toBe(2);
    expect(await keys("flamingo")).toEqual([]);
    expect(await keys("decided")).toEqual([]);
    expect(await index.foldersBelow(userId, "/Projects")).toEqual([]);
    expect(await keys("approved")).toEqual(["files:minutes.txt"]);
  });
});
