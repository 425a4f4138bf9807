// Issue 13 §1: the notes tools on each kind of Nextcloud, counting what reaches the stand-in. The
// Notes API is a `#[CORS]` app route: Nextcloud 30 refuses bearer tokens there whatever the headers,
// 31+ accepts them when the OCS-APIRequest header reaches it, and a proxy that strips the header makes
// 31+ refuse them too. The gateway remembers a refusal per instance (the route probe, clock injected
// here), so an instance that refuses costs one refused request per interval, not one per call, and an
// instance upgraded or fixed later is noticed after the interval.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTE_RECHECK_MS, RouteProbe } from "../../../src/nextcloud/index.ts";
import type { NextcloudStandin } from "../../standin/index.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

interface NoteOut {
  id: number;
  title: string;
  content?: string;
}

/** Counts the requests of a step: to the Notes API, and to the notes folder over WebDAV. */
function traffic(standin: NextcloudStandin, uid: string) {
  const requests = standin.requests();
  return {
    api: requests.filter((r) => /^\/index\.php\/apps\/notes\/api\//.test(r.rawPath)).length,
    webdav: requests.filter((r) =>
      r.rawPath.startsWith(`/remote.php/dav/files/${encodeURIComponent(uid)}/Notes`),
    ).length,
  };
}

async function sceneWith(version: string, probe: RouteProbe) {
  const scene = await startNextcloudScene({ version }, { routeProbe: probe });
  const alice = await scene.signIn("alice");
  const uid = claims(alice).sub ?? "";
  /** Runs one tool call and returns its result with the traffic it caused. */
  const step = async (name: string, args: Record<string, unknown> = {}) => {
    scene.standin.resetRequests();
    const r = await scene.call(alice, name, args);
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    return { result: r.structuredContent as Record<string, unknown>, ...traffic(scene.standin, uid) };
  };
  return { scene, step };
}

describe("on Nextcloud 30, then upgraded, then behind a proxy that strips the header", () => {
  let t = 1_000_000;
  const probe = new RouteProbe({ now: () => t });
  let scene: NextcloudScene;
  let step: Awaited<ReturnType<typeof sceneWith>>["step"];

  beforeAll(async () => {
    ({ scene, step } = await sceneWith("30.0.12", probe));
  });
  afterAll(async () => {
    await scene.stop();
  });

  it("Nextcloud 30: the notes folder over WebDAV from the first call, without a request to the Notes API", async () => {
    const created = await step("notes_create", { title: "On thirty", content: "via WebDAV" });
    expect(created).toMatchObject({ api: 0, result: { note: { title: "On thirty" } } });
    expect(created.webdav).toBeGreaterThan(0);
    const id = (created.result.note as NoteOut).id;
    expect(await step("notes_get", { id })).toMatchObject({ api: 0, result: { content: "via WebDAV" } });
    expect((await step("notes_list")).api).toBe(0);
  });

  it("tries the Notes API once per interval (still refused), then WebDAV again without asking", async () => {
    t += ROUTE_RECHECK_MS;
    const retried = await step("notes_list");
    expect(retried.api).toBe(1);
    expect(retried.webdav).toBeGreaterThan(0);
    expect((retried.result.notes as NoteOut[]).map((n) => n.title)).toEqual(["On thirty"]);
    expect((await step("notes_list")).api).toBe(0);
    t += ROUTE_RECHECK_MS - 1;
    expect((await step("notes_list")).api).toBe(0);
  });

  it("notices an upgrade to 31 at the next interval and uses the Notes API from then on", async () => {
    scene.standin.setNextcloudVersion("31.0.9");
    expect((await step("notes_list")).api).toBe(0);
    t += 1;
    const upgraded = await step("notes_list");
    expect(upgraded).toMatchObject({ api: 1, webdav: 0 });
    expect((upgraded.result.notes as NoteOut[]).map((n) => n.title)).toEqual(["On thirty"]);
    const created = await step("notes_create", { title: "On thirty-one", content: "via the API" });
    expect(created).toMatchObject({ webdav: 0, result: { note: { title: "On thirty-one" } } });
    expect(created.api).toBeGreaterThan(0);
  });

  it("behind a proxy that strips OCS-APIRequest: one refused request, then WebDAV until the proxy is fixed", async () => {
    scene.standin.setCorsMode("strict");
    try {
      const first = await step("notes_list");
      expect(first.api).toBe(1);
      expect(first.webdav).toBeGreaterThan(0);
      expect((first.result.notes as NoteOut[]).map((n) => n.title).sort()).toEqual([
        "On thirty",
        "On thirty-one",
      ]);
      for (let i = 0; i < 3; i++) expect((await step("notes_list")).api).toBe(0);
    } finally {
      scene.standin.setCorsMode("honour-header");
    }
    t += ROUTE_RECHECK_MS;
    expect(await step("notes_list")).toMatchObject({ api: 1, webdav: 0 });
  });
});

describe("on Nextcloud 31 with the header reaching it", () => {
  const probe = new RouteProbe({ now: () => 0 });
  let scene: NextcloudScene;
  let step: Awaited<ReturnType<typeof sceneWith>>["step"];

  beforeAll(async () => {
    ({ scene, step } = await sceneWith("31.0.9", probe));
  });
  afterAll(async () => {
    await scene.stop();
  });

  it("uses the Notes API from the first call and never the notes folder", async () => {
    const created = await step("notes_create", { title: "Straight in", content: "api" });
    expect(created.webdav).toBe(0);
    expect(created.api).toBeGreaterThan(0);
    const listed = await step("notes_list");
    expect(listed).toMatchObject({ webdav: 0, api: 1 });
    expect((listed.result.notes as NoteOut[]).map((n) => n.title)).toEqual(["Straight in"]);
  });
});
