import { describe, expect, it } from "vitest";
import { createEvent, updateEvent } from "../../../../src/apps/calendar/event-write.ts";
import { parseCalendarObject } from "../../../../src/apps/calendar/ical.ts";
import { expandOccurrences } from "../../../../src/apps/calendar/recurrence.ts";
import type { CalendarEvent } from "../../../../src/apps/calendar/schema.ts";
import { at, fixture } from "./fixtures.ts";

const now = new Date("2026-10-01T12:00:00Z");
const zone = "Europe/Berlin";

function master(ics: string): CalendarEvent {
  const parsed = parseCalendarObject(ics, { zone });
  if (parsed.kind !== "event") throw new Error("expected an event");
  return parsed.master;
}

function starts(ics: string, from: string, to: string): string[] {
  return expandOccurrences(ics, { from: at(from), to: at(to), zone }).occurrences.map((o) => o.start.value);
}

describe("createEvent", () => {
  it("writes a weekly event in Berlin with its VTIMEZONE, people and a reminder, readable back", () => {
    const { uid, ics } = createEvent(
      {
        summary: "Planning",
        start: "2026-10-20T10:00",
        end: "2026-10-20T11:30",
        timeZone: zone,
        location: "Room 1, east wing",
        organizer: { email: "alice@example.com", name: "Alice Adams" },
        attendees: [{ email: "bob@example.com", name: "Bob Brown" }],
        rrule: "FREQ=WEEKLY;COUNT=3",
        alarms: [{ minutesBefore: 30 }],
      },
      { now, uid: "fixed-uid-1" },
    );
    expect(uid).toBe("fixed-uid-1");
    expect(ics).toContain("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin");
    expect(ics).toContain("DTSTART;TZID=Europe/Berlin:20261020T100000");
    expect(ics).toContain("DTSTAMP:20261001T120000Z");
    const event = master(ics);
    expect(event).toMatchObject({
      uid: "fixed-uid-1",
      summary: "Planning",
      location: "Room 1, east wing",
      duration: "PT1H30M",
      sequence: 0,
      organizer: { email: "alice@example.com", name: "Alice Adams" },
      attendees: [
        {
          email: "bob@example.com",
          name: "Bob Brown",
          role: "REQ-PARTICIPANT",
          partstat: "NEEDS-ACTION",
          rsvp: true,
        },
      ],
      alarms: [{ action: "DISPLAY", trigger: "-PT30M", relatedTo: "start", description: "Planning" }],
    });
    expect(starts(ics, "2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z")).toEqual([
      "2026-10-20T10:00:00+02:00",
      "2026-10-27T10:00:00+01:00",
      "2026-11-03T10:00:00+01:00",
    ]);
  });

  it("makes a one-day all-day event end on the next day when no end is given", () => {
    const event = master(createEvent({ summary: "Holiday", start: "2026-12-24" }, { now }).ics);
    expect([event.start.value, event.end.value, event.start.allDay]).toEqual([
      "2026-12-24",
      "2026-12-25",
      true,
    ]);
  });

  it("stores a time given with an offset at the same instant in the event's zone", () => {
    const event = master(
      createEvent(
        { summary: "Call", start: "2026-10-20T08:00:00Z", duration: "PT30M", timeZone: zone },
        { now },
      ).ics,
    );
    expect([event.start.value, event.end.value]).toEqual([
      "2026-10-20T10:00:00+02:00",
      "2026-10-20T10:30:00+02:00",
    ]);
  });

  it("turns a date UNTIL into the end of that day in UTC, so the last day's instance stays", () => {
    const { ics } = createEvent(
      {
        summary: "Daily",
        start: "2026-10-24T10:00",
        duration: "PT15M",
        timeZone: zone,
        rrule: "FREQ=DAILY;UNTIL=20261026",
      },
      { now },
    );
    expect(ics).toContain("UNTIL=20261026T225959Z");
    expect(starts(ics, "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")).toEqual([
      "2026-10-24T10:00:00+02:00",
      "2026-10-25T10:00:00+01:00",
      "2026-10-26T10:00:00+01:00",
    ]);
  });

  it("refuses bad input with a message naming the field and the fix", () => {
    expect(() =>
      createEvent({ summary: "x", start: "2026-10-20T10:00", end: "2026-10-20T09:00", timeZone: zone }),
    ).toThrow(/end must be after start/);
    expect(() => createEvent({ summary: "x", start: "2026-10-20T10:00", timeZone: "Berlin" })).toThrow(
      /timeZone "Berlin" is not a known IANA time zone/,
    );
    expect(() => createEvent({ summary: "x", start: "2026-02-30T10:00", timeZone: zone })).toThrow(
      /start "2026-02-30T10:00" is not valid/,
    );
    expect(() => createEvent({ summary: "x", start: "2026-10-20T10:00", rrule: "FREQ=SOMETIMES" })).toThrow(
      /rrule "FREQ=SOMETIMES" is not valid/,
    );
    expect(() => createEvent({ summary: "x", start: "2026-10-20", allDay: false })).toThrow(
      /needs a time of day/,
    );
  });
});

describe("updateEvent", () => {
  const original = fixture("weekly-berlin-nextcloud.ics");

  it("changes only the given field and keeps X- properties, the alarm, the override and the VTIMEZONE", () => {
    const ics = updateEvent(original, { summary: "Team sync (new name)" }, { now });
    expect(ics).toContain("X-NC-GROUP-ID:7");
    expect(ics).toContain("X-CUSTOM-FLAG:keep-me");
    const parsed = parseCalendarObject(ics, { zone });
    if (parsed.kind !== "event") throw new Error("expected an event");
    expect(parsed.master).toMatchObject({
      summary: "Team sync (new name)",
      location: "Room Spree, 3rd floor",
      sequence: 3,
      lastModified: "2026-10-01T12:00:00Z",
      rrule: "FREQ=WEEKLY;BYDAY=TU",
      exdates: ["2026-11-03T10:00:00+01:00"],
    });
    expect(parsed.master.alarms).toHaveLength(1);
    expect(parsed.master.attendees.map((a) => a.partstat)).toEqual(["ACCEPTED", "NEEDS-ACTION", "TENTATIVE"]);
    expect(parsed.overrides.map((o) => [o.summary, o.start.value])).toEqual([
      ["Team sync (moved to Thursday)", "2026-11-12T14:00:00+01:00"],
    ]);
  });

  it("moves the start and keeps the length when no end is given", () => {
    const event = master(updateEvent(original, { start: "2026-10-06T09:30" }, { now }));
    expect([event.start.value, event.end.value]).toEqual([
      "2026-10-06T09:30:00+02:00",
      "2026-10-06T10:30:00+02:00",
    ]);
  });

  it("keeps the wall-clock time and adds the VTIMEZONE when only the zone changes", () => {
    const ics = updateEvent(original, { timeZone: "America/New_York" }, { now });
    expect(ics).toContain("TZID:America/New_York");
    expect(master(ics).start).toMatchObject({
      value: "2026-10-06T10:00:00-04:00",
      timeZone: "America/New_York",
    });
  });

  it("keeps people's answers when the attendee list changes, and invites new people as NEEDS-ACTION", () => {
    const event = master(
      updateEvent(
        original,
        {
          attendees: [{ email: "ALICE@example.com" }, { email: "dave@example.com", role: "OPT-PARTICIPANT" }],
        },
        { now },
      ),
    );
    expect(event.attendees.map((a) => [a.email, a.partstat, a.role])).toEqual([
      ["alice@example.com", "ACCEPTED", "CHAIR"],
      ["dave@example.com", "NEEDS-ACTION", "OPT-PARTICIPANT"],
    ]);
  });

  it("changes one instance of a series as an override, leaving the others", () => {
    const ics = updateEvent(
      original,
      { start: "2026-10-20T15:00", location: "Online" },
      { now, recurrenceId: "2026-10-20T10:00:00+02:00" },
    );
    const found = expandOccurrences(ics, {
      from: at("2026-10-13T00:00:00+02:00"),
      to: at("2026-10-28T00:00:00+01:00"),
      zone,
    }).occurrences;
    expect(found.map((o) => [o.start.value, o.end.value, o.location, o.overridden])).toEqual([
      ["2026-10-13T10:00:00+02:00", "2026-10-13T11:00:00+02:00", "Room Spree, 3rd floor", false],
      ["2026-10-20T15:00:00+02:00", "2026-10-20T16:00:00+02:00", "Online", true],
      ["2026-10-27T10:00:00+01:00", "2026-10-27T11:00:00+01:00", "Room Spree, 3rd floor", false],
    ]);
    expect(() => updateEvent(original, { summary: "x" }, { recurrenceId: "2026-10-21T10:00" })).toThrow(
      /no occurrence at recurrenceId/,
    );
  });

  it("removes a field given as null and refuses to change a task as an event", () => {
    expect(master(updateEvent(original, { location: null }, { now })).location).toBeNull();
    expect(() => updateEvent(fixture("task-nextcloud.ics"), { summary: "x" })).toThrow(
      /is a task, not an event/,
    );
  });
});
