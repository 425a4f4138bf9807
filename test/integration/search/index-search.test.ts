// The `search` tool on the content index, end to end: real sign-ins of alice and bob, the real
// exchange, the stand-in, the gateway's PostgreSQL holding their indexes. What a user notices: hits
// come from the index (said so, with the matched words marked) once their index is ready; a file
// deleted since it was indexed never comes back (verify on read drops it, and its folder is read
// again by the next pass); bob never sees alice's hits.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { upsertUser, type SearchIndex, type Store } from "../../../src/store/index.ts";
import type { NextcloudStandin } from "../../standin/index.ts";
import type { TestGateway } from "../support/gateway.ts";
import { callTool } from "../support/mcp-call.ts";
import { claims } from "../support/oauth.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { markIndexReady, mcpTokens, searchTool, startSearchScene, type SearchScene } from "./support.ts";

interface Found {
  source: string;
  hits: { provider: string; title: string; id: string | number; snippet: string | null; open: unknown }[];
  nextCursor: string | null;
}

const { issuer } = inject("keycloak");
let scene: SearchScene;
let nc: NextcloudStandin;
let gw: TestGateway;
let store: Store;
let index: SearchIndex;
let alice: string;
let bob: string;
let aliceId: string;
let bobId: string;
let aliceUid: string;

const search = (token: string, args: Record<string, unknown>) =>
  searchTool<Found>(gw.gateway.url, token, args);

const item = (key: string, body: string) => ({
  source: "files" as const,
  key,
  title: key.slice(key.lastIndexOf("/") + 1),
  body,
  container: key.slice(0, key.lastIndexOf("/")) || "/",
  etag: "e1",
  modifiedAt: null,
});

beforeAll(async () => {
  scene = await startSearchScene();
  ({ nc, gw, store, index } = scene);
  const browser = await launchBrowser();
  try {
    ({ alice, bob } = await mcpTokens(browser, ["alice", "bob"]));
  } finally {
    await browser.close();
  }
  aliceUid = claims(alice).sub ?? "";
  aliceId = (await upsertUser(store.db, { issuer, subject: aliceUid })).id;
  bobId = (await upsertUser(store.db, { issuer, subject: claims(bob).sub ?? "" })).id;
  await nc.seed(aliceUid, {
    "Projects/Deep/inner.md": "A pelican sits in a deep folder.",
    "Projects/gone.md": "A flamingo stood here.",
  });
  // Alice's index as a complete pass left it; bob has none yet.
  await index.upsert(aliceId, [
    item("/Projects/Deep/inner.md", "A pelican sits in a deep folder."),
    item("/Projects/gone.md", "A flamingo stood here."),
  ]);
  for (const scope of ["/", "/Projects", "/Projects/Deep"])
    await index.setSyncToken(aliceId, "files", scope, "t");
  await markIndexReady(store, index, aliceId);
}, 300_000);

afterAll(async () => {
  await scene.stop();
});

describe("search on the content index", () => {
  it("answers from the index once the user's index is ready, saying so, with the matched words marked", async () => {
    const { r, o } = await search(alice, { query: "pelican" });
    expect(o.source).toBe("index");
    expect(o.hits).toEqual([
      expect.objectContaining({
        provider: "files",
        title: "inner.md",
        id: "/Projects/Deep/inner.md",
        open: { tool: "files_read", arguments: { path: "/Projects/Deep/inner.md" } },
        snippet: expect.stringContaining("«pelican»") as unknown,
      }),
    ]);
    expect(r.content[0]?.text).toContain("from the content index");
  });

  it("never returns a file deleted since it was indexed, and makes the next pass read its folder again", async () => {
    await rm(join(nc.filesRoot(aliceUid), "Projects", "gone.md"));
    const { o } = await search(alice, { query: "flamingo" });
    expect(o).toMatchObject({ source: "index", hits: [] });
    // Gone from the index, not only from this answer; the path to it is read again.
    expect(await index.search(aliceId, "flamingo", { limit: 5 })).toEqual([]);
    expect(await index.syncToken(aliceId, "files", "/Projects")).toBeUndefined();
    expect(await index.syncToken(aliceId, "files", "/")).toBeUndefined();
    expect(await index.syncToken(aliceId, "files", "/Projects/Deep")).toBe("t");
    const again = await search(alice, { query: "flamingo" });
    expect(again.o.hits).toEqual([]);
  });

  it("bob never sees alice's hits: live while he has no index, his own index once he has one", async () => {
    const live = await search(bob, { query: "pelican" });
    expect(live.o.source).toBe("live");
    expect(live.o.hits).toEqual([]);
    expect(live.r.content[0]?.text).toContain("live from Nextcloud");
    await markIndexReady(store, index, bobId);
    const own = await search(bob, { query: "pelican" });
    expect(own.o).toMatchObject({ source: "index", hits: [] });
  });

  it("searches live when the search needs what the index does not keep (a filter, another app)", async () => {
    expect((await search(alice, { query: "pelican", since: "2020-01-01" })).o.source).toBe("live");
    expect((await search(alice, { query: "pelican", apps: ["settings"] })).o.source).toBe("live");
    expect((await search(alice, { query: "pelican", apps: ["files"] })).o.source).toBe("index");
  });

  it("offline_access_status reports the index: items, ready, last run, last error", async () => {
    await store.db
      .updateTable("search_index_users")
      .set({ last_run_at: new Date("2026-12-01T10:00:00Z"), last_error: "Nextcloud did not answer" })
      .where("user_id", "=", aliceId)
      .execute();
    const r = await callTool(gw.gateway.url, alice, "offline_access_status", {});
    expect(r.structuredContent).toMatchObject({
      searchIndex: {
        items: 1,
        ready: true,
        paused: false,
        lastRunAt: "2026-12-01T10:00:00.000Z",
        lastError: "Nextcloud did not answer",
      },
    });
    expect(r.content[0]?.text).toContain("Search index: 1 item(s), ready");
  });
});
