// Which tool opens a unified-search hit: read from the entries real providers build (files' path
// attribute; the deep links of Notes, Calendar, Tasks and Contacts), and nothing for links that do
// not have the expected shape, so a hit never points a model at the wrong item.
import { describe, expect, it } from "vitest";
import { contactRef, openHint } from "../../../../src/apps/search/open.ts";
import type { SearchEntry } from "../../../../src/apps/search/unified.ts";

const entry = (e: Partial<SearchEntry>): SearchEntry => ({
  title: "T",
  subline: "",
  resourceUrl: "",
  icon: "",
  attributes: {},
  ...e,
});
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("openHint", () => {
  it("opens files by their path attribute, folders with files_list", () => {
    expect(openHint("files", entry({ attributes: { fileId: "7", path: "/Docs/a b.md" } }))).toEqual({
      tool: "files_read",
      arguments: { path: "/Docs/a b.md" },
      id: "/Docs/a b.md",
    });
    expect(openHint("files", entry({ icon: "icon-folder", attributes: { path: "Docs" } }))).toEqual({
      tool: "files_list",
      arguments: { path: "/Docs" },
      id: "/Docs",
    });
    expect(openHint("files", entry({ attributes: { fileId: "7" } }))).toBeUndefined();
  });

  it("opens notes by the id in the Notes deep link", () => {
    expect(
      openHint("notes", entry({ resourceUrl: "https://nc.example/index.php/apps/notes/note/42" })),
    ).toEqual({
      tool: "notes_get",
      arguments: { id: 42 },
      id: 42,
    });
    for (const url of [
      "https://nc.example/apps/notes/note/x",
      "https://nc.example/apps/notes/",
      "/apps/deck/note/4",
    ])
      expect(openHint("notes", entry({ resourceUrl: url }))).toBeUndefined();
  });

  it("opens events by the calendar object in the Calendar deep link, decoding names", () => {
    const dav = "/remote.php/dav/calendars/alice/work/team%20sync.ics";
    expect(
      openHint(
        "calendar",
        entry({ resourceUrl: `https://nc.example/index.php/apps/calendar/edit/${b64(dav)}` }),
      ),
    ).toEqual({ tool: "calendar_events", arguments: { id: "work/team sync.ics" }, id: "work/team sync.ics" });
    const notCalendar = b64("/remote.php/dav/files/alice/x.ics");
    expect(
      openHint("calendar", entry({ resourceUrl: `/apps/calendar/edit/${notCalendar}` })),
    ).toBeUndefined();
    expect(openHint("calendar", entry({ resourceUrl: "/apps/calendar/dayGridMonth/now" }))).toBeUndefined();
  });

  it("gives tasks their object id and a listing that finds them by title", () => {
    expect(
      openHint(
        "tasks",
        entry({ title: "Buy milk", resourceUrl: "/index.php/apps/tasks/calendars/todo/tasks/milk.ics" }),
      ),
    ).toEqual({
      tool: "calendar_tasks",
      arguments: { query: "Buy milk", status: "all" },
      id: "todo/milk.ics",
    });
    expect(openHint("tasks", entry({ resourceUrl: "/index.php/apps/tasks/calendars/todo" }))).toBeUndefined();
  });

  it("has no tool for providers the gateway does not read", () => {
    expect(openHint("settings", entry({ resourceUrl: "/settings/user" }))).toBeUndefined();
  });
});

describe("contactRef", () => {
  it("reads the UID and address book of the Contacts deep link, the last ~ separating them", () => {
    expect(
      contactRef(
        entry({ resourceUrl: "https://nc/index.php/apps/contacts/direct/contact/a~b%40x~contacts" }),
      ),
    ).toEqual({ uid: "a~b@x", book: "contacts" });
    for (const url of [
      "/apps/contacts/direct/contact/nouid",
      "/apps/contacts/direct/contact/~book",
      "/apps/contacts/direct/contact/uid~",
    ])
      expect(contactRef(entry({ resourceUrl: url }))).toBeUndefined();
  });
});
