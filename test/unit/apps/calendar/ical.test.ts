import { describe, expect, it } from "vitest";
import { parseCalendarObject } from "../../../../src/apps/calendar/ical.ts";
import { fixture } from "./fixtures.ts";

describe("parseCalendarObject", () => {
  it("reads a Nextcloud event series with attendees, organizer, alarm, recurrence and its override", () => {
    const parsed = parseCalendarObject(fixture("weekly-berlin-nextcloud.ics"), { zone: "Europe/Berlin" });
    if (parsed.kind !== "event") throw new Error("expected an event");
    const { master, overrides } = parsed;
    expect(parsed.uid).toBe("3f1c2b9e-7d4a-4e0b-9a51-team-sync");
    expect(master).toMatchObject({
      summary: "Team sync",
      location: "Room Spree, 3rd floor",
      description: "Weekly status round.\nBring your numbers.",
      status: "CONFIRMED",
      categories: ["Work", "Meetings"],
      start: {
        value: "2026-10-06T10:00:00+02:00",
        allDay: false,
        floating: false,
        timeZone: "Europe/Berlin",
      },
      end: { value: "2026-10-06T11:00:00+02:00" },
      duration: "PT1H",
      rrule: "FREQ=WEEKLY;BYDAY=TU",
      exdates: ["2026-11-03T10:00:00+01:00"],
      transparency: "OPAQUE",
      sequence: 2,
      lastModified: "2026-09-15T08:20:03Z",
      organizer: { email: "alice@example.com", name: "Alice Adams" },
      alarms: [{ action: "DISPLAY", trigger: "-PT15M", relatedTo: "start", description: "Team sync" }],
    });
    expect(master.attendees).toEqual([
      { email: "alice@example.com", name: "Alice Adams", role: "CHAIR", partstat: "ACCEPTED", rsvp: false },
      {
        email: "bob@example.com",
        name: "Bob Brown",
        role: "REQ-PARTICIPANT",
        partstat: "NEEDS-ACTION",
        rsvp: true,
      },
      {
        email: "carol@example.org",
        name: "Carol Chen",
        role: "OPT-PARTICIPANT",
        partstat: "TENTATIVE",
        rsvp: false,
      },
    ]);
    expect(overrides.map((o) => [o.recurrenceId?.value, o.start.value, o.summary])).toEqual([
      ["2026-11-10T10:00:00+01:00", "2026-11-12T14:00:00+01:00", "Team sync (moved to Thursday)"],
    ]);
  });

  it("reads an all-day event as dates with an exclusive end", () => {
    const parsed = parseCalendarObject(fixture("allday-multiday.ics"), { zone: "Europe/Berlin" });
    expect(parsed.master.start).toEqual({
      value: "2026-10-23",
      allDay: true,
      floating: false,
      timeZone: null,
    });
    expect(parsed.kind === "event" && parsed.master.end.value).toBe("2026-10-26");
    expect(parsed.kind === "event" && parsed.master.duration).toBe("P3D");
  });

  it("reads a Nextcloud Tasks VTODO with due, priority and percent complete", () => {
    const parsed = parseCalendarObject(fixture("task-nextcloud.ics"), { zone: "Europe/Berlin" });
    if (parsed.kind !== "task") throw new Error("expected a task");
    expect(parsed.master).toMatchObject({
      summary: "Write quarterly report",
      description: "Numbers from Bob, text from Carol",
      due: { value: "2026-10-30T17:00:00+01:00", timeZone: "Europe/Berlin" },
      priority: 1,
      percentComplete: 40,
      status: "NEEDS-ACTION",
      completed: null,
      start: null,
    });
  });

  it("says what is wrong with text that is not iCalendar", () => {
    expect(() => parseCalendarObject("hello", { zone: "UTC" })).toThrow(/not valid iCalendar/);
    expect(() => parseCalendarObject("BEGIN:VCARD\nVERSION:4.0\nFN:x\nEND:VCARD\n", { zone: "UTC" })).toThrow(
      /must start with BEGIN:VCALENDAR, not BEGIN:VCARD/,
    );
    expect(() =>
      parseCalendarObject("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n", { zone: "UTC" }),
    ).toThrow(/no VEVENT or VTODO/);
  });
});
