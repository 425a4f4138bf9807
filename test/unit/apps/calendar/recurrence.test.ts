import { describe, expect, it } from "vitest";
import { expandOccurrences } from "../../../../src/apps/calendar/recurrence.ts";
import { at, fixture } from "./fixtures.ts";

const berlin = "Europe/Berlin";

function starts(ics: string, from: string, to: string, zone = berlin, display?: "user") {
  const opts = { from: at(from), to: at(to), zone, ...(display ? { display } : {}) };
  return expandOccurrences(ics, opts).occurrences.map((o) => o.start.value);
}

describe("expandOccurrences", () => {
  it("keeps a weekly meeting at 10:00 wall-clock across the Europe/Berlin DST change, with the offset of each instant", () => {
    const ics = fixture("weekly-berlin-nextcloud.ics");
    expect(starts(ics, "2026-10-13T00:00:00+02:00", "2026-10-29T00:00:00+01:00")).toEqual([
      "2026-10-13T10:00:00+02:00",
      "2026-10-20T10:00:00+02:00",
      "2026-10-27T10:00:00+01:00",
    ]);
  });

  it("drops the EXDATE instance and puts the moved override in place of the generated one", () => {
    const ics = fixture("weekly-berlin-nextcloud.ics");
    const { occurrences, truncated } = expandOccurrences(ics, {
      from: at("2026-10-31T00:00:00+01:00"),
      to: at("2026-11-18T00:00:00+01:00"),
      zone: berlin,
    });
    expect(truncated).toBe(false);
    expect(occurrences.map((o) => [o.start.value, o.end.value, o.summary, o.overridden])).toEqual([
      ["2026-11-12T14:00:00+01:00", "2026-11-12T15:00:00+01:00", "Team sync (moved to Thursday)", true],
      ["2026-11-17T10:00:00+01:00", "2026-11-17T11:00:00+01:00", "Team sync", false],
    ]);
    expect(occurrences[0]?.recurrenceId).toBe("2026-11-10T10:00:00+01:00");
    expect(occurrences[0]?.location).toBe("Room Havel");
    expect(occurrences[0]?.start.timeZone).toBe(berlin);
  });

  it("finds an instance moved into the range from a date after it", () => {
    const ics = fixture("weekly-berlin-nextcloud.ics").replace(
      "DTSTART;TZID=Europe/Berlin:20261112T140000\nDTEND;TZID=Europe/Berlin:20261112T150000",
      "DTSTART;TZID=Europe/Berlin:20261021T140000\nDTEND;TZID=Europe/Berlin:20261021T150000",
    );
    const found = expandOccurrences(ics, {
      from: at("2026-10-21T00:00:00+02:00"),
      to: at("2026-10-22T00:00:00+02:00"),
      zone: berlin,
    }).occurrences;
    expect(found.map((o) => [o.start.value, o.recurrenceId])).toEqual([
      ["2026-10-21T14:00:00+02:00", "2026-11-10T10:00:00+01:00"],
    ]);
  });

  it("expands a daily COUNT rule across the spring DST change (iOS export)", () => {
    const ics = fixture("daily-count-ios.ics");
    expect(starts(ics, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")).toEqual([
      "2026-03-25T08:30:00+01:00",
      "2026-03-26T08:30:00+01:00",
      "2026-03-27T08:30:00+01:00",
      "2026-03-28T08:30:00+01:00",
      "2026-03-29T08:30:00+02:00",
      "2026-03-30T08:30:00+02:00",
      "2026-03-31T08:30:00+02:00",
    ]);
  });

  it("expands a monthly last-Friday rule with an RDATE and an UNTIL in UTC that includes the last instance", () => {
    const ics = fixture("monthly-byday-thunderbird.ics");
    expect(starts(ics, "2026-09-01T00:00:00Z", "2027-03-01T00:00:00Z")).toEqual([
      "2026-09-25T16:00:00+02:00",
      "2026-10-30T16:00:00+01:00",
      "2026-11-05T16:00:00+01:00",
      "2026-11-27T16:00:00+01:00",
      "2026-12-25T16:00:00+01:00",
    ]);
  });

  it("ends a series one minute before its last instance when UNTIL in UTC says so", () => {
    const ics = fixture("monthly-byday-thunderbird.ics").replace(
      "UNTIL=20261225T150000Z",
      "UNTIL=20261225T145900Z",
    );
    expect(starts(ics, "2026-12-01T00:00:00Z", "2027-03-01T00:00:00Z")).toEqual([]);
  });

  it("reads a non-compliant local UNTIL in the event's zone, not as UTC", () => {
    const base = fixture("monthly-byday-thunderbird.ics");
    const included = base.replace("UNTIL=20261225T150000Z", "UNTIL=20261225T160000");
    const excluded = base.replace("UNTIL=20261225T150000Z", "UNTIL=20261225T155900");
    expect(starts(included, "2026-12-01T00:00:00Z", "2027-03-01T00:00:00Z")).toEqual([
      "2026-12-25T16:00:00+01:00",
    ]);
    expect(starts(excluded, "2026-12-01T00:00:00Z", "2027-03-01T00:00:00Z")).toEqual([]);
  });

  it("lists an all-day multi-day event as dates on each day it covers, and not on the day after", () => {
    const ics = fixture("allday-multiday.ics");
    const [trip] = expandOccurrences(ics, {
      from: at("2026-10-25T12:00:00+01:00"),
      to: at("2026-10-25T13:00:00+01:00"),
      zone: berlin,
    }).occurrences;
    expect(trip?.start).toEqual({ value: "2026-10-23", allDay: true, floating: false, timeZone: null });
    expect(trip?.end.value).toBe("2026-10-26");
    expect(trip?.transparency).toBe("TRANSPARENT");
    expect(starts(ics, "2026-10-26T00:00:00+01:00", "2026-10-27T00:00:00+01:00")).toEqual([]);
  });

  it("reads a floating time in the user's zone and labels it floating", () => {
    const ics = fixture("floating.ics");
    const inBerlin = expandOccurrences(ics, {
      from: at("2026-10-20T00:00:00Z"),
      to: at("2026-10-21T00:00:00Z"),
      zone: berlin,
    }).occurrences[0];
    expect(inBerlin?.start).toEqual({
      value: "2026-10-20T09:00:00+02:00",
      allDay: false,
      floating: true,
      timeZone: null,
    });
    // 13:00Z is 09:00 in New York but 15:00 in Berlin: only the New York reading falls in the range.
    expect(starts(ics, "2026-10-20T12:30:00Z", "2026-10-20T13:15:00Z", "America/New_York")).toEqual([
      "2026-10-20T09:00:00-04:00",
    ]);
    expect(starts(ics, "2026-10-20T12:30:00Z", "2026-10-20T13:15:00Z", berlin)).toEqual([]);
  });

  it("shows a New York meeting in the event's zone or in Berlin time, between the two DST ends", () => {
    const ics = fixture("new-york-weekly.ics");
    const range = ["2026-10-26T00:00:00+01:00", "2026-11-04T00:00:00+01:00"] as const;
    expect(starts(ics, ...range)).toEqual(["2026-10-27T09:00:00-04:00", "2026-11-03T09:00:00-05:00"]);
    // EU time changed on Oct 25, US time on Nov 1: the gap is 5 hours first, then 6 again.
    expect(starts(ics, ...range, berlin, "user")).toEqual([
      "2026-10-27T14:00:00+01:00",
      "2026-11-03T15:00:00+01:00",
    ]);
  });

  it("uses the library's zone data when the object has no VTIMEZONE", () => {
    const ics = fixture("missing-vtimezone.ics");
    const found = expandOccurrences(ics, {
      from: at("2026-10-01T00:00:00Z"),
      to: at("2026-11-01T00:00:00Z"),
      zone: "America/New_York",
    }).occurrences;
    expect(found.map((o) => [o.start.value, o.start.timeZone, o.start.floating])).toEqual([
      ["2026-10-20T10:00:00+02:00", berlin, false],
      ["2026-10-27T10:00:00+01:00", berlin, false],
    ]);
  });

  it("stops at the limit and says the list was cut", () => {
    const ics = fixture("weekly-berlin-nextcloud.ics");
    const result = expandOccurrences(ics, {
      from: at("2026-10-01T00:00:00Z"),
      to: at("2036-10-01T00:00:00Z"),
      zone: berlin,
      maxOccurrences: 3,
    });
    expect(result.occurrences.map((o) => o.start.value)).toEqual([
      "2026-10-06T10:00:00+02:00",
      "2026-10-13T10:00:00+02:00",
      "2026-10-20T10:00:00+02:00",
    ]);
    expect(result.truncated).toBe(true);
  });

  it("rejects an unknown user zone with a message naming it", () => {
    expect(() =>
      expandOccurrences(fixture("floating.ics"), { from: 0, to: 1, zone: "Mars/Olympus" }),
    ).toThrow(/zone "Mars\/Olympus" is not a known IANA time zone/);
  });
});
