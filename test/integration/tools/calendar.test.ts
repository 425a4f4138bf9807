// The calendar tools end to end: real sign-in, the real Keycloak token exchange, and Radicale behind
// the Nextcloud stand-in. Recurring events across the 2026-10-25 DST change, all-day and floating
// times, search, one event in full, free time, tasks, calendars, stale ETags that change nothing,
// users kept apart, and the tools shown only when the user has a calendar home.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ToolResult } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

let scene: NextcloudScene;
let alice: string;
let bob: string;

beforeAll(async () => {
  scene = await startNextcloudScene();
  alice = await scene.signIn("alice");
  bob = await scene.signIn("bob");
  await scene.standin.seedDemoGroupware(claims(alice).sub ?? "", "alice");
  await scene.standin.seedDemoGroupware(claims(bob).sub ?? "", "bob");
});
afterAll(async () => {
  await scene.stop();
});

interface Row {
  id: string;
  etag: string;
  calendar: string;
  uid: string;
  recurrenceId: string | null;
  summary: string | null;
  location: string | null;
  start: string;
  end: string;
  allDay: boolean;
  status: string | null;
  recurring: boolean;
}
interface Events {
  timeZone: string;
  events: Row[];
  truncated: boolean;
  total: number;
  nextOffset: number | null;
}
interface Task {
  id: string;
  etag: string;
  summary: string | null;
  status: string | null;
  due: string | null;
  completed: string | null;
}
interface Saved {
  id: string;
  etag: string;
  uid: string;
  created: boolean;
}

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

const BERLIN = "Europe/Berlin";
const events = (as: string, args: Record<string, unknown>) => ok<Events>(as, "calendar_events", args);

describe("calendars", () => {
  it("lists alice's calendars and task list with their components", async () => {
    const { calendars } = await ok<{
      calendars: { name: string; displayName: string; components: string[] }[];
    }>(alice, "calendar_list_calendars");
    const byName = Object.fromEntries(calendars.map((c) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(["personal", "tasks", "work"]);
    expect(byName.work?.displayName).toBe("Work");
    expect(byName.tasks?.components).toEqual(["VTODO"]);
  });

  it("creates a calendar with a zone, renames it and deletes it", async () => {
    const made = await ok<{ calendar: { name: string; timeZone: string | null; displayName: string } }>(
      alice,
      "calendar_manage_calendar",
      { action: "create", name: "holidays", displayName: "Holidays", timeZone: "America/New_York" },
    );
    expect(made.calendar).toMatchObject({
      name: "holidays",
      displayName: "Holidays",
      timeZone: "America/New_York",
    });
    // The calendar's zone is the default zone of listings that only look at it.
    const listed = await events(alice, { calendars: ["holidays"], from: "2026-12-01", to: "2026-12-02" });
    expect(listed.timeZone).toBe("America/New_York");

    const renamed = await ok<{ calendar: { displayName: string } }>(alice, "calendar_manage_calendar", {
      action: "update",
      name: "holidays",
      displayName: "Days off",
      color: "#112233",
    });
    expect(renamed.calendar.displayName).toBe("Days off");

    await ok(alice, "calendar_manage_calendar", { action: "delete", name: "holidays" });
    const { calendars } = await ok<{ calendars: { name: string }[] }>(alice, "calendar_list_calendars");
    expect(calendars.map((c) => c.name)).not.toContain("holidays");
  });

  it("refuses a bad calendar name and an existing one, changing nothing", async () => {
    expect(await fails(alice, "calendar_manage_calendar", { action: "create", name: "../x" })).toMatch(
      /name "\.\.\/x" must be/,
    );
    expect(await fails(alice, "calendar_manage_calendar", { action: "create", name: "work" })).toMatch(
      /already exists/,
    );
    const listed = await events(alice, {
      calendars: ["work"],
      from: "2026-12-08",
      to: "2026-12-09",
      timeZone: BERLIN,
    });
    expect(listed.events.map((e) => e.summary)).toEqual(["Release call"]);
  });
});

describe("events", () => {
  it("expands the weekly series across the DST change with EXDATE, RDATE and the moved instance", async () => {
    const listed = await events(alice, {
      calendars: ["work"],
      from: "2026-10-05",
      to: "2026-11-09",
      timeZone: BERLIN,
    });
    expect(listed.timeZone).toBe(BERLIN);
    expect(listed.events.map((e) => [e.start, e.end, e.summary])).toEqual([
      ["2026-10-07T10:00:00+02:00", "2026-10-07T10:30:00+02:00", "Team sync"],
      // 10-14 is excluded; the clocks go back on 10-25: 10:00 stays 10:00, the offset changes.
      ["2026-10-21T10:00:00+02:00", "2026-10-21T10:30:00+02:00", "Team sync"],
      ["2026-10-28T10:00:00+01:00", "2026-10-28T10:30:00+01:00", "Team sync"],
      ["2026-10-30T14:00:00+01:00", "2026-10-30T14:30:00+01:00", "Team sync"],
      ["2026-11-04T11:00:00+01:00", "2026-11-04T11:45:00+01:00", "Team sync (moved)"],
    ]);
    expect(new Set(listed.events.map((e) => e.id))).toEqual(new Set(["work/team-sync.ics"]));
    expect(listed.events.every((e) => e.recurring && e.recurrenceId !== null)).toBe(true);
  });

  it("shows the same instants in UTC when the user's zone is UTC", async () => {
    const listed = await events(alice, {
      calendars: ["work"],
      from: "2026-10-20",
      to: "2026-10-29",
      timeZone: "UTC",
    });
    expect(listed.events.map((e) => e.start)).toEqual(["2026-10-21T08:00:00Z", "2026-10-28T09:00:00Z"]);
  });

  it("lists all-day and floating events in the user's zone", async () => {
    const listed = await events(alice, {
      calendars: ["personal"],
      from: "2026-12-01",
      to: "2026-12-31",
      timeZone: BERLIN,
    });
    expect(listed.events.map((e) => [e.summary, e.start, e.allDay])).toEqual([
      ["Morning run", "2026-12-12T07:00:00+01:00", false],
      ["Christmas Eve", "2026-12-24", true],
    ]);
  });

  it("pages a listing with offset and nextOffset", async () => {
    const args = { calendars: ["work"], from: "2026-10-05", to: "2026-12-31", timeZone: BERLIN, limit: 4 };
    const first = await events(alice, args);
    expect(first.events).toHaveLength(4);
    expect(first.nextOffset).toBe(4);
    const rest = await events(alice, { ...args, offset: 4, limit: 50 });
    expect(rest.nextOffset).toBeNull();
    expect(first.total).toBe(rest.total);
    expect(rest.events.at(-1)?.summary).toBe("Project review");
  });

  it("finds events by words in their text or people", async () => {
    const found = await events(alice, {
      query: "carol review",
      from: "2026-10-01",
      to: "2027-01-01",
      timeZone: BERLIN,
    });
    expect(found.events.map((e) => e.id)).toEqual(["work/project-review.ics"]);
    const none = await events(alice, { query: "nothing-like-this", from: "2026-10-01", to: "2027-01-01" });
    expect(none.events).toEqual([]);
  });

  it("reads one event in full with its organizer and attendees", async () => {
    const one = await events(alice, { id: "work/project-review.ics", timeZone: BERLIN });
    const event = one.events[0] as unknown as {
      etag: string;
      organizer: { email: string };
      attendees: { email: string; partstat: string | null }[];
      start: { value: string };
      changedInstances: unknown[];
    };
    expect(event.organizer.email).toBe("alice@example.test");
    expect(event.attendees.map((a) => [a.email, a.partstat])).toEqual([
      ["alice@example.test", "ACCEPTED"],
      ["bob@example.test", "ACCEPTED"],
      ["carol@example.com", "NEEDS-ACTION"],
    ]);
    expect(event.start.value).toBe("2026-12-10T15:00:00+01:00");
    expect(event.etag).toMatch(/\S/);
  });

  it("creates, changes and deletes an event; a stale etag changes nothing", async () => {
    const made = await ok<Saved>(alice, "calendar_save_event", {
      calendar: "work",
      summary: "Budget meeting",
      start: "2026-12-15T10:00",
      end: "2026-12-15T11:00",
      timeZone: BERLIN,
      location: "Room 1",
      attendees: [{ email: "carol@example.com", name: "Carol Jones" }],
      alarms: [15],
    });
    expect(made.created).toBe(true);
    expect(made.id).toMatch(/^work\/.+\.ics$/);
    const range = { calendars: ["work"], from: "2026-12-15", to: "2026-12-16", timeZone: BERLIN };
    const listed = await events(alice, range);
    expect(listed.events.map((e) => [e.summary, e.start, e.end, e.etag])).toEqual([
      ["Budget meeting", "2026-12-15T10:00:00+01:00", "2026-12-15T11:00:00+01:00", made.etag],
    ]);

    const changed = await ok<Saved>(alice, "calendar_save_event", {
      id: made.id,
      etag: made.etag,
      summary: "Budget meeting (final)",
      start: "2026-12-15T14:00",
      clear: ["location"],
    });
    expect(changed.etag).not.toBe(made.etag);

    // The first etag is stale now: neither a change nor a delete with it does anything.
    expect(
      await fails(alice, "calendar_save_event", { id: made.id, etag: made.etag, summary: "Lost update" }),
    ).toMatch(/stale.*nothing was changed/);
    expect(await fails(alice, "calendar_delete", { id: made.id, etag: made.etag })).toMatch(
      /nothing was changed/,
    );
    const full = (await events(alice, { id: made.id, timeZone: BERLIN })).events[0] as unknown as {
      summary: string;
      location: string | null;
      start: { value: string };
      end: { value: string };
      organizer: { email: string } | null;
    };
    expect(full.summary).toBe("Budget meeting (final)");
    expect(full.location).toBeNull();
    expect(full.start.value).toBe("2026-12-15T14:00:00+01:00");
    expect(full.end.value).toBe("2026-12-15T15:00:00+01:00");
    expect(full.organizer?.email).toBe("alice@example.test");

    await ok(alice, "calendar_delete", { id: made.id, etag: changed.etag });
    expect((await events(alice, range)).events).toEqual([]);
    expect(await fails(alice, "calendar_events", { id: made.id })).toMatch(/Nothing at id/);
  });

  it("lists upcoming events by default, and a new timed event lasts an hour", async () => {
    // Tomorrow at 09:00 UTC, whatever day the test runs.
    const day = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const made = await ok<Saved>(alice, "calendar_save_event", {
      summary: "Upcoming check",
      start: `${day}T09:00`,
      timeZone: "UTC",
    });
    expect(made.id).toMatch(/^personal\//);
    const upcoming = await events(alice, { timeZone: "UTC" });
    expect(
      upcoming.events.filter((e) => e.summary === "Upcoming check").map((e) => [e.start, e.end]),
    ).toEqual([[`${day}T09:00:00Z`, `${day}T10:00:00Z`]]);
    await ok(alice, "calendar_delete", { id: made.id, etag: made.etag });
  });

  it("changes one instance of a series and leaves the others", async () => {
    const range = { calendars: ["work"], from: "2026-11-10", to: "2026-11-26", timeZone: BERLIN };
    const before = await events(alice, range);
    const target = before.events.find((e) => e.start.startsWith("2026-11-18"));
    expect(target?.recurrenceId).toBeTruthy();
    await ok<Saved>(alice, "calendar_save_event", {
      id: target?.id,
      etag: target?.etag,
      recurrenceId: target?.recurrenceId,
      location: "Room 5.12",
      start: "2026-11-18T12:00",
      end: "2026-11-18T12:30",
    });
    const after = await events(alice, range);
    expect(after.events.map((e) => [e.start, e.location])).toEqual([
      ["2026-11-11T10:00:00+01:00", "Room 4.01"],
      ["2026-11-18T12:00:00+01:00", "Room 5.12"],
      ["2026-11-25T10:00:00+01:00", "Room 4.01"],
    ]);
  });

  it("finds free time across calendars inside working hours", async () => {
    const r = await ok<{ busy: string[]; free: string[] }>(alice, "calendar_free_time", {
      from: "2026-12-10",
      to: "2026-12-11",
      timeZone: BERLIN,
    });
    expect(r.busy).toEqual(["2026-12-10T15:00:00+01:00/2026-12-10T16:00:00+01:00"]);
    expect(r.free).toEqual([
      "2026-12-10T09:00:00+01:00/2026-12-10T15:00:00+01:00",
      "2026-12-10T16:00:00+01:00/2026-12-10T17:00:00+01:00",
    ]);
    // A transparent all-day event (Christmas Eve) blocks nothing.
    const xmas = await ok<{ busy: string[] }>(alice, "calendar_free_time", {
      from: "2026-12-24",
      to: "2026-12-25",
      timeZone: BERLIN,
      hours: "00:00-24:00",
      days: [1, 2, 3, 4, 5, 6, 7],
    });
    expect(xmas.busy).toEqual([]);
  });

  it("refuses bad input with a message naming it", async () => {
    expect(await fails(alice, "calendar_events", { timeZone: "Mars/Olympus" })).toMatch(
      /Mars\/Olympus.*IANA/,
    );
    expect(await fails(alice, "calendar_events", { from: "tomorrow" })).toMatch(
      /from "tomorrow" is not valid/,
    );
    expect(await fails(alice, "calendar_events", { from: "2026-01-01", to: "2028-01-01" })).toMatch(
      /366 days/,
    );
    expect(await fails(alice, "calendar_events", { calendars: ["nope"] })).toMatch(
      /No calendar named "nope"/,
    );
    expect(await fails(alice, "calendar_save_event", { calendar: "work", summary: "No start" })).toMatch(
      /start/,
    );
    expect(await fails(alice, "calendar_save_event", { id: "work/team-sync.ics", summary: "x" })).toMatch(
      /etag is required/,
    );
    expect(await fails(alice, "calendar_delete", { id: "team-sync.ics", etag: '"x"' })).toMatch(
      /not an object id/,
    );
    expect(await fails(alice, "calendar_free_time", { hours: "9-5" })).toMatch(/hours "9-5" must look like/);
    // A name that would climb out of the user's calendar home is refused before any request.
    expect(await fails(alice, "calendar_delete", { id: "../release-call.ics", etag: '"x"' })).toMatch(
      /nothing was done/,
    );
    expect((await events(alice, { id: "work/release-call.ics" })).events).toHaveLength(1);
  });
});

describe("tasks", () => {
  it("lists open tasks soonest due first, completed ones, and those due before a time", async () => {
    const open = await ok<{ tasks: Task[] }>(alice, "calendar_tasks", { timeZone: BERLIN });
    expect(open.tasks.map((t) => t.summary)).toEqual([
      "Call the plumber",
      "Submit expense report",
      "Renew passport",
      "Buy gifts",
    ]);
    const done = await ok<{ tasks: Task[] }>(alice, "calendar_tasks", { status: "completed" });
    expect(done.tasks.map((t) => t.summary)).toEqual(["Book flights"]);
    const overdue = await ok<{ tasks: Task[] }>(alice, "calendar_tasks", {
      dueBefore: "2026-12-05",
      timeZone: BERLIN,
    });
    expect(overdue.tasks.map((t) => [t.summary, t.due])).toEqual([
      ["Call the plumber", "2026-12-01T12:00:00Z"],
    ]);
  });

  it("creates, completes, reopens and deletes a task; a stale etag changes nothing", async () => {
    const made = await ok<Saved>(alice, "calendar_save_task", {
      summary: "Water the plants",
      due: "2026-12-20T18:00",
      timeZone: BERLIN,
      priority: 2,
    });
    expect(made.id).toMatch(/^tasks\//);
    const find = async (status: string) =>
      (await ok<{ tasks: Task[] }>(alice, "calendar_tasks", { status, query: "plants" })).tasks;
    expect((await find("open")).map((t) => t.due)).toEqual(["2026-12-20T18:00:00+01:00"]);

    const completed = await ok<Saved>(alice, "calendar_save_task", {
      id: made.id,
      etag: made.etag,
      status: "COMPLETED",
    });
    expect(await find("open")).toEqual([]);
    const [doneTask] = await find("completed");
    expect(doneTask?.completed).toMatch(/^\d{4}-/);

    expect(
      await fails(alice, "calendar_save_task", { id: made.id, etag: made.etag, summary: "Lost" }),
    ).toMatch(/nothing was changed/);
    const reopened = await ok<Saved>(alice, "calendar_save_task", {
      id: made.id,
      etag: completed.etag,
      status: "NEEDS-ACTION",
      clear: ["due"],
    });
    const [open] = await find("open");
    expect(open).toMatchObject({
      summary: "Water the plants",
      status: "NEEDS-ACTION",
      due: null,
      completed: null,
    });

    await ok(alice, "calendar_delete", { id: made.id, etag: reopened.etag });
    expect(await find("all")).toEqual([]);
  });
});

describe("users kept apart", () => {
  it("bob sees only his calendars and never alice's events", async () => {
    const { calendars } = await ok<{ calendars: { name: string }[] }>(bob, "calendar_list_calendars");
    expect(calendars.map((c) => c.name)).toEqual(["personal"]);
    const listed = await events(bob, { from: "2026-10-01", to: "2027-01-01", timeZone: BERLIN });
    expect(listed.events.map((e) => e.summary)).toEqual(["Bob's dentist appointment"]);
    expect(await fails(bob, "calendar_events", { id: "work/team-sync.ics" })).toMatch(/Nothing at id/);
    expect(await fails(bob, "calendar_events", { calendars: ["work"] })).toMatch(/No calendar named "work"/);
    const aliceEvent = (await events(alice, { id: "work/release-call.ics" })).events[0];
    expect(
      await fails(bob, "calendar_delete", { id: "work/release-call.ics", etag: aliceEvent?.etag }),
    ).toMatch(/Nothing at id/);
    expect((await events(alice, { id: "work/release-call.ics" })).events).toHaveLength(1);
  });
});

describe("availability", () => {
  it("lists the calendar tools only for users with a calendar home", async () => {
    expect((await scene.listTools(alice)).filter((n) => n.startsWith("calendar_")).sort()).toEqual([
      "calendar_delete",
      "calendar_events",
      "calendar_free_time",
      "calendar_list_calendars",
      "calendar_manage_calendar",
      "calendar_save_event",
      "calendar_save_task",
      "calendar_tasks",
    ]);
    // A fresh gateway (the answer is cached per user for five minutes) on a Nextcloud without calendars.
    const off = await startNextcloudScene({ calendar: false });
    try {
      const token = await off.signIn("alice");
      const names = await off.listTools(token);
      expect(names.some((n) => n.startsWith("calendar_"))).toBe(false);
      expect(names).toContain("notes_list");
      off.standin.setGroupware({ calendar: true });
      const bobToken = await off.signIn("bob");
      expect(await off.listTools(bobToken)).toContain("calendar_events");
    } finally {
      await off.stop();
    }
  });
});
