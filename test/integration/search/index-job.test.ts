// `jobs run search-index` as an operator runs it: gateway processes with real offline grants of alice
// and bob at the real Keycloak, the stand-in's WebDAV with real exchanged tokens, and PostgreSQL. A
// user who granted offline access gets their notes and files indexed; an unchanged tree then costs
// one files request per user (and one per app home); two processes at once never index one user twice (leases).
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  GrantStore,
  Sealer,
  type OfflineGrant,
  type SearchIndex,
  type Store,
} from "../../../src/store/index.ts";
import { gatewayCli, runGatewayCli } from "../../harness/process.ts";
import type { NextcloudStandin } from "../../standin/index.ts";
import { revokeAtKeycloak } from "../jobs/grants-support.ts";
import { startTokenGate } from "../jobs/token-gate.ts";
import { jobEnv, k1, startJobScene, type JobScene } from "./support.ts";

const realmEnv = inject("realmEnv");
const sealer = new Sealer([k1]);

let scene: JobScene;
let store: Store;
let nc: NextcloudStandin;
let index: SearchIndex;
let alice: OfflineGrant;
let bob: OfflineGrant;
let env: Record<string, string>;
const subjects = new Map<string, string>();

beforeAll(async () => {
  scene = await startJobScene("searchjob", 2);
  ({ store, nc, index } = scene);
  [alice, bob] = scene.grants as [OfflineGrant, OfflineGrant];
  const users = await store.db.selectFrom("users").select(["id", "subject"]).execute();
  for (const u of users) subjects.set(u.id, u.subject);
  await nc.seed(subjects.get(alice.user_id) ?? "", {
    "Notes/Work/Release plan.md": "# Release plan\nWe decided to ship on Friday.",
    "Projects/minutes.txt": "Minutes: the board approved the budget.",
  });
  await nc.seed(subjects.get(bob.user_id) ?? "", {
    "Recipes/soup.md": "A pumpkin soup with ginger.",
  });
  env = jobEnv(scene.databaseUrl, nc.url);
}, 300_000);

afterAll(async () => {
  await scene.stop();
});

const titles = async (userId: string, q: string) =>
  (await index.search(userId, q, { limit: 10 })).map((h) => `${h.source}:${h.title}`);

/** The counts of the newest `search-index` runs. */
async function lastRuns(n: number) {
  return store.db
    .selectFrom("job_runs")
    .select(["outcome", "counts", "replica", "error"])
    .where("job", "=", "search-index")
    .orderBy("id", "desc")
    .limit(n)
    .execute();
}

describe("the search-index job", () => {
  it("indexes the notes and files of each user who granted offline access, each into their own index", async () => {
    const run = await runGatewayCli(["jobs", "run", "search-index"], env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^search-index: ok \{/m);
    const [last] = await lastRuns(1);
    const errors = await store.db.selectFrom("search_index_users").select("last_error").execute();
    expect(last?.counts, JSON.stringify(errors)).toMatchObject({
      claimed: 2,
      passes: 2,
      failed: 0,
      indexed: 3,
    });
    expect(await titles(alice.user_id, "decided")).toEqual(["notes:Release plan"]);
    expect(await titles(alice.user_id, "approved budget")).toEqual(["files:minutes.txt"]);
    expect(await titles(bob.user_id, "pumpkin")).toEqual(["files:soup.md"]);
    // Nobody finds another's words.
    expect(await titles(bob.user_id, "decided")).toEqual([]);
    expect(await titles(alice.user_id, "pumpkin")).toEqual([]);
    for (const g of [alice, bob]) {
      expect(await index.status(g.user_id)).toMatchObject({
        readyAt: expect.any(Date) as unknown,
        lastError: null,
      });
    }
  });

  it("costs one files request per user when nothing changed, besides one per app the user has", async () => {
    nc.resetRequests();
    const run = await runGatewayCli(["jobs", "run", "search-index"], env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const seen = nc
      .requests()
      .map((r) => `${r.method} ${r.rawPath.replace(/[0-9a-f-]{36}/g, "<uid>")}`)
      .sort();
    const perUser = [
      // the files: the root folder's ETag, unchanged
      "PROPFIND /remote.php/dav/files/<uid>",
      // which apps the user has, and the Notes folder from the Notes settings
      "GET /ocs/v2.php/cloud/capabilities?format=json",
      "GET /index.php/apps/notes/api/v1/settings",
      // the calendar and address book homes (no calendar, no book), the Deck board list (304)
      "PROPFIND /remote.php/dav/calendars/<uid>/",
      "PROPFIND /remote.php/dav/addressbooks/users/<uid>/",
      "GET /index.php/apps/deck/api/v1.1/boards",
    ];
    expect(seen).toEqual([...perUser, ...perUser].sort());
    const [last] = await lastRuns(1);
    expect(last?.counts).toMatchObject({ passes: 2, indexed: 0, removed: 0, foldersSkipped: 2 });
  });

  it("two processes at once never index one user twice", async () => {
    // Forget what was seen, so each user's pass reads their whole tree again.
    await store.db.deleteFrom("search_sync").execute();
    nc.resetRequests();
    // Each process refreshes a grant only after it claimed its user: the gate holds the refreshes
    // until two wait at once, so both processes hold a user before either indexes.
    const gate = await startTokenGate(2);
    const children = [
      gatewayCli(["jobs", "run", "search-index"], { ...env, ...gate.env }),
      gatewayCli(["jobs", "run", "search-index"], { ...env, ...gate.env }),
    ];
    for (const c of children) {
      void c.exited.then(() => {
        gate.open();
      });
    }
    const codes = await Promise.all(children.map((c) => c.exited)).finally(() => gate.close());
    const output = children.map((c) => c.stdout() + c.stderr()).join("\n");
    expect(codes, output).toEqual([0, 0]);
    expect(output).not.toContain(realmEnv.MCP_GATEWAY_CLIENT_SECRET);
    const runs = await lastRuns(2);
    expect(runs.map((r) => r.outcome)).toEqual(["ok", "ok"]);
    expect(runs.map((r) => r.counts.passes).sort()).toEqual([1, 1]);
    // Each user's root folder was listed once: by one process only.
    const rootLists = nc
      .requests()
      .filter((r) => r.method === "PROPFIND" && /\/remote\.php\/dav\/files\/[^/]+\/?$/.test(r.rawPath));
    expect(rootLists).toHaveLength(4); // per user: the stat of "/" and its listing
    expect(await titles(alice.user_id, "decided")).toEqual(["notes:Release plan"]);
  });

  it("disconnecting offline access deletes the user's index, and the job leaves them alone", async () => {
    await new GrantStore(store.db, sealer).disconnect(bob.user_id, revokeAtKeycloak);
    expect(await index.status(bob.user_id)).toBeUndefined();
    expect(await titles(bob.user_id, "pumpkin")).toEqual([]);
    expect(await index.foldersBelow(bob.user_id, "/")).toEqual([]);
    const run = await runGatewayCli(["jobs", "run", "search-index"], env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await index.status(bob.user_id)).toBeUndefined();
    expect(await titles(alice.user_id, "decided")).toEqual(["notes:Release plan"]);
  });
});
