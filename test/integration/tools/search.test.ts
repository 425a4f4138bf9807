// The search tool, live, end to end: real sign-in, the real Keycloak exchange, the stand-in's unified
// search over what alice and bob stored (files, notes, Radicale calendars, tasks and contacts). What a
// user notices: hits from every app in one answer, each hit's `open` call reading the item, paging,
// filters passed only to providers that take them, bob never finding alice's items, clear errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnifiedSearchStandin } from "../../standin/apps/unified-search.ts";
import type { ToolResult } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

interface Hit {
  provider: string;
  title: string;
  subline: string;
  url: string;
  id: string | number | null;
  open: { tool: string; arguments: Record<string, unknown> } | null;
}
interface Status {
  id: string;
  status: string;
  hits: number;
  more: boolean;
  message: string | null;
}
interface Found {
  query: string;
  source: string;
  hits: Hit[];
  providers: Status[];
  nextCursor: string | null;
}

let scene: NextcloudScene;
let alice: string;
let bob: string;
let searches: UnifiedSearchStandin["searches"];

beforeAll(async () => {
  scene = await startNextcloudScene();
  alice = await scene.signIn("alice");
  bob = await scene.signIn("bob");
  const aliceUid = claims(alice).sub ?? "";
  await scene.standin.seedDemoGroupware(aliceUid, "alice");
  await scene.standin.seedDemoGroupware(claims(bob).sub ?? "", "bob");
  await scene.standin.seed(aliceUid, {
    "Projects/gateway-review.md": "# Review\nThe review of the gateway.",
    "Projects/budget-2026.txt": "numbers",
    "Notes/Work/Release plan.md": "# Release plan\nWe decided to ship the review build on Friday.",
    ...Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`Archive/report-${String(i)}.txt`, "x"])),
  });
  searches = scene.standin.app<UnifiedSearchStandin>("search").searches;
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

describe("search (live, Nextcloud's unified search)", () => {
  it("finds items of every app in one answer, and each hit's open call reads the item", async () => {
    const found = await ok<Found>(alice, "search", { query: "review" });
    expect(found.source).toBe("live");
    const by = (p: string) => found.hits.filter((h) => h.provider === p);
    expect(by("files").map((h) => h.title)).toEqual(["gateway-review.md"]);
    expect(by("files")[0]?.open).toEqual({
      tool: "files_read",
      arguments: { path: "/Projects/gateway-review.md" },
    });
    // The note matched by its body, not its title.
    expect(by("notes").map((h) => h.title)).toEqual(["Release plan"]);
    expect(by("calendar").map((h) => h.title)).toEqual(["Project review"]);
    expect(by("calendar")[0]?.id).toBe("work/project-review.ics");
    // The event's own start, not a DTSTART of the calendar's time zone definition.
    expect(by("calendar")[0]?.subline).not.toMatch(/^1970/);
    expect(found.providers.find((p) => p.id === "settings")).toMatchObject({ status: "ok", hits: 0 });

    for (const hit of [...by("files"), ...by("notes"), ...by("calendar")]) {
      const opened = await scene.call(alice, hit.open?.tool ?? "", hit.open?.arguments ?? {});
      expect(opened.isError, `${hit.provider}: ${opened.content[0]?.text ?? ""}`).toBeFalsy();
      expect(JSON.stringify(opened.structuredContent)).toMatch(/review/i);
    }
  });

  it("resolves contact hits to the ids the contacts tools take, and finds tasks", async () => {
    const carol = await ok<Found>(alice, "search", { query: "carol", apps: ["contacts"] });
    expect(carol.hits).toHaveLength(1);
    expect(carol.hits[0]).toMatchObject({
      title: "Carol Jones",
      subline: "carol@example.com",
      id: "carol.vcf",
      open: { tool: "contacts_get", arguments: { book: "contacts", id: "carol.vcf" } },
    });
    const got = await scene.call(alice, "contacts_get", carol.hits[0]?.open?.arguments ?? {});
    expect(got.isError).toBeFalsy();
    expect(JSON.stringify(got.structuredContent)).toContain("Carol Jones");

    const tasks = await ok<Found>(alice, "search", { query: "passport", apps: ["tasks"] });
    expect(tasks.hits.map((h) => [h.title, h.id])).toEqual([["Renew passport", "tasks/renew-passport.ics"]]);
    const listed = await scene.call(
      alice,
      tasks.hits[0]?.open?.tool ?? "",
      tasks.hits[0]?.open?.arguments ?? {},
    );
    expect(JSON.stringify(listed.structuredContent)).toContain("tasks/renew-passport.ics");
  });

  it("pages with one cursor that carries each provider's own, and refuses it for another query", async () => {
    const first = await ok<Found>(alice, "search", { query: "report", apps: ["files"], limit: 3 });
    expect(first.hits).toHaveLength(3);
    expect(first.providers[0]).toMatchObject({ id: "files", more: true });
    const seen = new Set(first.hits.map((h) => h.title));
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const next: Found = await ok<Found>(alice, "search", {
        query: "report",
        apps: ["files"],
        limit: 3,
        cursor,
      });
      for (const h of next.hits) {
        expect(seen.has(h.title), `${h.title} came twice`).toBe(false);
        seen.add(h.title);
      }
      cursor = next.nextCursor;
    }
    expect([...seen].sort()).toEqual(Array.from({ length: 7 }, (_, i) => `report-${String(i)}.txt`));

    expect(
      await fails(alice, "search", { query: "budget", apps: ["files"], limit: 3, cursor: first.nextCursor }),
    ).toMatch(/cursor belongs to another search/);
    expect(await fails(alice, "search", { query: "report", cursor: "not-a-cursor" })).toMatch(
      /not a cursor from search/,
    );
  });

  it("passes a filter only to providers that announce it, and says which it skipped", async () => {
    searches.length = 0;
    const found = await ok<Found>(alice, "search", { query: "review", since: "2000-01-01" });
    expect(found.providers.find((p) => p.id === "notes")).toMatchObject({
      status: "skipped",
      message: "does not support the since filter",
    });
    expect(searches.map((s) => s.provider)).not.toContain("notes");
    expect(searches.find((s) => s.provider === "files")?.params.since).toBe("2000-01-01");
    expect(found.hits.some((h) => h.provider === "files")).toBe(true);

    const future = await ok<Found>(alice, "search", {
      query: "review",
      apps: ["files"],
      since: "2999-01-01",
    });
    expect(future.hits).toEqual([]);
  });

  it("never shows bob alice's items", async () => {
    const found = await ok<Found>(bob, "search", { query: "review" });
    expect(found.hits).toEqual([]);
    const dentist = await ok<Found>(bob, "search", { query: "dentist" });
    expect(dentist.hits.map((h) => h.title)).toEqual(["Bob's dentist appointment"]);
    const aliceDentist = await ok<Found>(alice, "search", { query: "dentist" });
    expect(aliceDentist.hits).toEqual([]);
  });

  it("names what was wrong: unknown providers (listing the real ones), bad dates, an empty query", async () => {
    expect(await fails(alice, "search", { query: "x", apps: ["deck", "files"] })).toMatch(
      /No search provider "deck" in this Nextcloud; the providers are: settings, notes, files, contacts, calendar, tasks/,
    );
    expect(await fails(alice, "search", { query: "x", since: "last week" })).toMatch(
      /since must be a date like "2026-11-01".*got "last week"/,
    );
    expect(await fails(alice, "search", { query: "   " })).toMatch(/query/);
  });
});
