import { describe, expect, it } from "vitest";
import { freeBusy } from "../../../../src/apps/calendar/freebusy.ts";
import { expandOccurrences } from "../../../../src/apps/calendar/recurrence.ts";
import { at, fixture } from "./fixtures.ts";

const zone = "Europe/Berlin";

function occurrences(name: string, from: string, to: string) {
  return expandOccurrences(fixture(name), { from: at(from), to: at(to), zone }).occurrences;
}

describe("freeBusy", () => {
  it("merges busy time from several calendars and finds free slots in working hours on the DST day after", () => {
    const from = "2026-10-27T00:00:00+01:00";
    const to = "2026-10-28T00:00:00+01:00";
    const team = occurrences("weekly-berlin-nextcloud.ics", from, to); // 10:00-11:00
    const ny = occurrences("new-york-weekly.ics", from, to); // 14:00-14:30 Berlin time
    const overlapping = team.map((o) => ({
      ...o,
      start: { ...o.start, value: "2026-10-27T10:30:00+01:00" },
      end: { ...o.end, value: "2026-10-27T12:00:00+01:00" },
    }));
    const result = freeBusy([...team, ...ny, ...overlapping], {
      from: at(from),
      to: at(to),
      zone,
      minMinutes: 60,
    });
    expect(result.busy).toEqual([
      { start: "2026-10-27T10:00:00+01:00", end: "2026-10-27T12:00:00+01:00" },
      { start: "2026-10-27T14:00:00+01:00", end: "2026-10-27T14:30:00+01:00" },
    ]);
    expect(result.free).toEqual([
      { start: "2026-10-27T09:00:00+01:00", end: "2026-10-27T10:00:00+01:00" },
      { start: "2026-10-27T12:00:00+01:00", end: "2026-10-27T14:00:00+01:00" },
      { start: "2026-10-27T14:30:00+01:00", end: "2026-10-27T17:00:00+01:00" },
    ]);
  });

  it("ignores transparent and cancelled events and skips the weekend", () => {
    const from = "2026-10-23T00:00:00+02:00"; // Friday, start of the all-day trip (TRANSP:TRANSPARENT)
    const to = "2026-10-27T00:00:00+01:00";
    const trip = occurrences("allday-multiday.ics", from, to);
    const cancelled = occurrences(
      "weekly-berlin-nextcloud.ics",
      "2026-10-20T00:00:00+02:00",
      "2026-10-21T00:00:00+02:00",
    ).map((o) => ({
      ...o,
      status: "CANCELLED",
      start: { ...o.start, value: "2026-10-23T10:00:00+02:00" },
      end: { ...o.end, value: "2026-10-23T11:00:00+02:00" },
    }));
    const result = freeBusy([...trip, ...cancelled], { from: at(from), to: at(to), zone });
    expect(result.busy).toEqual([]);
    expect(result.free).toEqual([
      { start: "2026-10-23T09:00:00+02:00", end: "2026-10-23T17:00:00+02:00" },
      { start: "2026-10-26T09:00:00+01:00", end: "2026-10-26T17:00:00+01:00" },
    ]);
  });

  it("counts an opaque all-day event as busy from midnight to midnight in the user's zone", () => {
    const from = "2026-10-23T00:00:00+02:00";
    const to = "2026-10-24T00:00:00+02:00";
    const trip = occurrences("allday-multiday.ics", from, to).map((o) => ({
      ...o,
      transparency: "OPAQUE" as const,
    }));
    const result = freeBusy(trip, { from: at(from), to: at(to), zone, workingHours: null });
    expect(result).toEqual({
      busy: [{ start: "2026-10-23T00:00:00+02:00", end: "2026-10-24T00:00:00+02:00" }],
      free: [],
    });
  });

  it("rejects working hours that end before they start", () => {
    expect(() =>
      freeBusy([], {
        from: 0,
        to: 86_400_000,
        zone,
        workingHours: { start: "17:00", end: "09:00", days: [1] },
      }),
    ).toThrow(/workingHours.end must be after workingHours.start/);
  });
});
