// The notes tools end to end: real sign-in, the real Keycloak token exchange, the Nextcloud stand-in.
// Every tool runs both ways the gateway reaches notes (the Notes API, and the notes folder over
// WebDAV when Nextcloud refuses bearer tokens on app routes) and must give the same results.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NextcloudStandin } from "../../standin/index.ts";
import type { ToolResult } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";

let scene: NextcloudScene;
let standin: NextcloudStandin;
let alice: string;
let bob: string;
let aliceReadOnly: string;

beforeAll(async () => {
  scene = await startNextcloudScene();
  standin = scene.standin;
  alice = await scene.signIn("alice");
  bob = await scene.signIn("bob");
  aliceReadOnly = await scene.signIn("alice", "openid mcp:tools");
});
afterAll(async () => {
  await scene.stop();
});

const call = (as: string, name: string, args: Record<string, unknown> = {}) => scene.call(as, name, args);

/** A note as the tools return it. */
interface NoteOut {
  id: number;
  title: string;
  category: string;
  modified: number;
  favorite: boolean;
  etag: string;
  content?: string;
}
interface Changed {
  note: NoteOut;
}
interface Listed {
  notes: NoteOut[];
  total: number;
  offset: number;
  nextOffset?: number;
}
interface Found {
  matches: (NoteOut & { matchedIn: string[]; excerpt: string })[];
  total: number;
}

/** The structured result of a call that must succeed. */
async function ok<T = Record<string, unknown>>(
  as: string,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const r = await call(as, name, args);
  expect(r.isError, r.content[0]?.text).toBeFalsy();
  return r.structuredContent as T;
}

/** The text of a call that must fail as a tool error. */
async function fails(as: string, name: string, args: Record<string, unknown>): Promise<string> {
  const r: ToolResult = await call(as, name, args);
  expect(r.isError).toBe(true);
  return r.content[0]?.text ?? "";
}

type Via = "notes-api" | "webdav";
const modes: { via: Via; refuseBearer: boolean }[] = [
  { via: "notes-api", refuseBearer: false },
  { via: "webdav", refuseBearer: true },
];

/**
 * What each way produced, with what must differ between runs (ids, etags, times) replaced by stable
 * labels, so the two ways can be compared as a whole.
 */
const observed: Record<Via, unknown[]> = { "notes-api": [], webdav: [] };

function normalise(value: unknown, ids: Map<number, string>): unknown {
  const label = (id: number) => {
    if (!ids.has(id)) ids.set(id, `note${String(ids.size + 1)}`);
    return ids.get(id);
  };
  if (typeof value === "string") {
    return value
      .replace(/\b[0-9a-f]{32}\b/g, "<etag>")
      .replace(/modified [\d-]+ [\d:]+ UTC/g, "modified <t>")
      .replace(/(#|id |Note )(\d+)\b/g, (_, pre: string, id: string) => `${pre}${label(Number(id)) ?? ""}`);
  }
  if (Array.isArray(value)) {
    // Notes changed within the same second may come in either order; compare them as a set.
    const key = (v: unknown) => JSON.stringify(v);
    return value.map((v) => normalise(v, ids)).sort((a, b) => key(a).localeCompare(key(b)));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === "id" && typeof v === "number"
          ? label(v)
          : k === "modified" && typeof v === "number" && v > 1_600_000_000
            ? "<modified>"
            : normalise(v, ids),
      ]),
    );
  }
  return value;
}

describe.each(modes)("notes tools via $via", ({ via, refuseBearer }) => {
  const ids = new Map<number, string>();
  const seen = <T>(v: T): T => {
    observed[via].push(normalise(v, ids));
    return v;
  };
  let trip: { id: number; etag: string };
  let trip2: { id: number };
  let groceries: { id: number };

  beforeAll(() => {
    standin.setAppRoutesRefuseBearer(refuseBearer);
  });

  it("creates notes, making titles file-safe and numbering a title already used", async () => {
    const a = await ok<Changed>(alice, "notes_create", {
      title: "Trip: Lisbon?",
      content: "# Trip\nPack the blue Umbrella.",
      category: "Travel/2025",
    });
    seen(a);
    expect(a.note).toMatchObject({ title: "Trip Lisbon", category: "Travel/2025", favorite: false });
    expect(a.note.etag).toMatch(/^[0-9a-f]{32}$/);
    trip = a.note;
    const b = await ok<Changed>(alice, "notes_create", {
      title: "Trip Lisbon",
      content: "second",
      category: "Travel/2025",
    });
    seen(b);
    expect(b.note.title).toBe("Trip Lisbon (2)");
    expect(b.note.id).not.toBe(a.note.id);
    trip2 = b.note;
    const c = await call(alice, "notes_create", { title: "Groceries", content: "milk\neggs" });
    seen(c);
    expect(c.content[0]?.text).toMatch(/^Created note #\d+ "Groceries", modified/);
    groceries = c.structuredContent?.note as { id: number };
    expect(c.structuredContent?.note).toMatchObject({ category: "" });
  });

  it("lists notes newest first, without content unless asked, a page at a time", async () => {
    const all = seen(await ok<Listed>(alice, "notes_list"));
    expect(all.total).toBe(3);
    expect(all.nextOffset).toBeUndefined();
    const byId = (x: number, y: number) => x - y;
    expect(all.notes.map((n) => n.id).sort(byId)).toEqual([trip.id, trip2.id, groceries.id].sort(byId));
    for (const n of all.notes) expect(n).not.toHaveProperty("content");
    const modified = all.notes.map((n) => n.modified);
    expect(modified).toEqual([...modified].sort((x, y) => y - x));

    const travel = seen(
      await ok<Listed>(alice, "notes_list", { category: "Travel/2025", includeContent: true }),
    );
    expect(travel.notes.map((n) => n.title).sort()).toEqual(["Trip Lisbon", "Trip Lisbon (2)"]);
    expect(travel.notes.find((n) => n.title === "Trip Lisbon")?.content).toBe(
      "# Trip\nPack the blue Umbrella.",
    );

    // Which notes fall on which page depends on their modification seconds; compare only the shape.
    const first = await ok<Listed>(alice, "notes_list", { limit: 2 });
    expect(first).toMatchObject({ total: 3, offset: 0, nextOffset: 2 });
    expect(first.notes).toHaveLength(2);
    const rest = await ok<Listed>(alice, "notes_list", { limit: 2, offset: 2 });
    seen([first.nextOffset, first.notes.length, rest.nextOffset, rest.notes.length]);
    expect(rest.notes).toHaveLength(1);
    expect(rest.nextOffset).toBeUndefined();
    expect([...first.notes, ...rest.notes]).toEqual(all.notes);
  });

  it("gets a note with its content and the same etag the list shows", async () => {
    const got = seen(await ok<NoteOut>(alice, "notes_get", { id: trip.id }));
    expect(got).toMatchObject({
      id: trip.id,
      title: "Trip Lisbon",
      content: "# Trip\nPack the blue Umbrella.",
    });
    expect(got.etag).toBe(trip.etag);
    const listed = await ok<Listed>(alice, "notes_list", { category: "Travel/2025" });
    expect(listed.notes.find((n) => n.id === trip.id)?.etag).toBe(trip.etag);
  });

  it("searches titles and content ignoring case, with an excerpt", async () => {
    const byContent = seen(await ok<Found>(alice, "notes_search", { query: "BLUE umbrella" }));
    expect(byContent.total).toBe(1);
    expect(byContent.matches[0]).toMatchObject({ id: trip.id, matchedIn: ["content"], etag: trip.etag });
    expect(byContent.matches[0]?.excerpt).toContain("Pack the blue Umbrella.");
    const byTitle = await ok<Found>(alice, "notes_search", { query: "lisbon", limit: 1 });
    seen([byTitle.total, byTitle.matches.length, byTitle.matches[0]?.matchedIn]);
    expect(byTitle).toMatchObject({ total: 2 });
    expect(byTitle.matches).toHaveLength(1);
    expect(byTitle.matches[0]?.matchedIn).toEqual(["title"]);
    expect(seen(await ok<Found>(alice, "notes_search", { query: "nothing like this" }))).toEqual({
      matches: [],
      total: 0,
    });
  });

  it("updates with the current etag and refuses a stale one, changing nothing", async () => {
    const updated = seen(
      await ok<Changed>(alice, "notes_update", {
        id: trip.id,
        etag: trip.etag,
        content: "Pack the red coat.",
      }),
    );
    expect(updated.note.etag).not.toBe(trip.etag);
    const conflict = seen(
      await fails(alice, "notes_update", { id: trip.id, etag: trip.etag, content: "stale write" }),
    );
    expect(conflict).toContain(`Note ${String(trip.id)} was changed since you read it; nothing was changed.`);
    expect(conflict).toContain(updated.note.etag);
    expect(conflict).toContain('title "Trip Lisbon"');
    expect(conflict).toContain("Pack the red coat.");
    expect(await ok<NoteOut>(alice, "notes_get", { id: trip.id })).toMatchObject({
      content: "Pack the red coat.",
      etag: updated.note.etag,
    });

    const moved = seen(
      await ok<Changed>(alice, "notes_update", { id: trip.id, title: "Lisbon", category: "Travel/Done" }),
    );
    expect(moved.note).toMatchObject({ id: trip.id, title: "Lisbon", category: "Travel/Done" });
    expect(await ok<NoteOut>(alice, "notes_get", { id: trip.id })).toMatchObject({
      title: "Lisbon",
      category: "Travel/Done",
      content: "Pack the red coat.",
    });
  });

  it("appends on a new line, keeping the text", async () => {
    const r = seen(await ok<Changed>(alice, "notes_append", { id: groceries.id, text: "bread" }));
    expect(r.note.id).toBe(groceries.id);
    seen(await ok<Changed>(alice, "notes_append", { id: groceries.id, text: "- butter\n" }));
    expect((await ok<NoteOut>(alice, "notes_get", { id: groceries.id })).content).toBe(
      "milk\neggs\nbread\n- butter\n",
    );
  });

  it("keeps alice's notes from bob: list, get by id and search", async () => {
    const list = await ok<Listed>(bob, "notes_list");
    expect(list.notes.map((n) => n.id)).not.toContain(groceries.id);
    expect(await fails(bob, "notes_get", { id: groceries.id })).toBe(
      `No note with id ${String(groceries.id)} (it may have been deleted); use notes_list to find it.`,
    );
    expect(await ok<Found>(bob, "notes_search", { query: "milk" })).toEqual({ matches: [], total: 0 });
    await fails(bob, "notes_append", { id: groceries.id, text: "from bob" });
    await fails(bob, "notes_delete", { id: groceries.id });
    expect((await ok<NoteOut>(alice, "notes_get", { id: groceries.id })).content).toBe(
      "milk\neggs\nbread\n- butter\n",
    );
  });

  it("deletes notes; a deleted note is not found", async () => {
    const deleted = seen(await ok(alice, "notes_delete", { id: trip2.id }));
    expect(deleted).toEqual({ id: trip2.id, title: "Trip Lisbon (2)", category: "Travel/2025" });
    const gone = seen(await fails(alice, "notes_get", { id: trip2.id }));
    expect(gone).toBe(
      `No note with id ${String(trip2.id)} (it may have been deleted); use notes_list to find it.`,
    );
    seen(await fails(alice, "notes_update", { id: trip2.id, content: "x" }));
    seen(await fails(alice, "notes_delete", { id: trip2.id }));
    for (const id of [trip.id, groceries.id]) await ok(alice, "notes_delete", { id });
    expect(seen(await ok<Listed>(alice, "notes_list"))).toEqual({ notes: [], total: 0, offset: 0 });
  });
});

describe("notes tools across both ways", () => {
  it("gave identical results via the Notes API and via WebDAV", () => {
    expect(observed["notes-api"].length).toBeGreaterThanOrEqual(20);
    expect(observed.webdav).toEqual(observed["notes-api"]);
  });

  it("finds a note created one way the other way, with the same id, content and etag", async () => {
    standin.setAppRoutesRefuseBearer(false);
    const viaApi = (
      await ok<Changed>(alice, "notes_create", { title: "Made via API", content: "one", category: "X" })
    ).note;
    standin.setAppRoutesRefuseBearer(true);
    const viaDav = (await ok<Changed>(alice, "notes_create", { title: "Made via WebDAV", content: "two" }))
      .note;
    const davView = {
      api: await ok<NoteOut>(alice, "notes_get", { id: viaApi.id }),
      dav: await ok<NoteOut>(alice, "notes_get", { id: viaDav.id }),
      list: await ok<Listed>(alice, "notes_list"),
    };
    standin.setAppRoutesRefuseBearer(false);
    const apiView = {
      api: await ok<NoteOut>(alice, "notes_get", { id: viaApi.id }),
      dav: await ok<NoteOut>(alice, "notes_get", { id: viaDav.id }),
      list: await ok<Listed>(alice, "notes_list"),
    };
    expect(davView).toEqual(apiView);
    expect(apiView.api).toMatchObject({ ...viaApi, content: "one" });
    expect(apiView.dav).toMatchObject({ ...viaDav, content: "two" });

    // An etag read one way guards an update made the other way.
    standin.setAppRoutesRefuseBearer(true);
    await ok<Changed>(alice, "notes_update", { id: viaApi.id, etag: viaApi.etag, content: "one, edited" });
    standin.setAppRoutesRefuseBearer(false);
    expect(
      await fails(alice, "notes_update", { id: viaApi.id, etag: viaApi.etag, content: "lost" }),
    ).toContain("one, edited");
    for (const id of [viaApi.id, viaDav.id]) await ok(alice, "notes_delete", { id });
  });

  it("refuses bad input with a message naming the limit", async () => {
    expect(await fails(alice, "notes_create", { title: "t".repeat(201) })).toContain(
      "The title may have at most 200 characters.",
    );
    expect(
      await fails(alice, "notes_create", { title: "big", content: "x".repeat(1024 * 1024 + 1) }),
    ).toContain("The content may be at most 1 MiB");
    expect(await fails(alice, "notes_create", { title: " ./ " })).toContain(
      "The title needs at least one character",
    );
    expect(await fails(alice, "notes_update", { id: 1 })).toContain(
      "Give at least one of title, content or category to change.",
    );
    expect(await fails(alice, "notes_get", { id: -3 })).toContain("The note id is a positive number.");
  });

  it("shows a token without mcp:write only the read-only notes tools, and refuses it a write", async () => {
    const names = (await scene.listTools(aliceReadOnly)).filter((n) => n.startsWith("notes_"));
    expect(names).toEqual(["notes_get", "notes_list", "notes_search"]);
    expect((await scene.listTools(alice)).filter((n) => n.startsWith("notes_"))).toEqual([
      "notes_append",
      "notes_create",
      "notes_delete",
      "notes_get",
      "notes_list",
      "notes_search",
      "notes_update",
    ]);
    await expect(call(aliceReadOnly, "notes_create", { title: "nope" })).rejects.toThrow(/answered 403/);
    expect((await ok<Listed>(aliceReadOnly, "notes_list")).notes).toEqual([]);
  });

  it("never sent the MCP tokens to Nextcloud", () => {
    expect(standin.seenTokens.length).toBeGreaterThan(0);
    for (const t of [alice, bob, aliceReadOnly]) expect(standin.seenTokens).not.toContain(t);
  });
});
