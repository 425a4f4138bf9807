import { describe, expect, it } from "vitest";
import type { CalendarInfo } from "../../../../src/apps/calendar/client.ts";
import { parseCalendarObject } from "../../../../src/apps/calendar/ical.ts";
import {
  calendarsFor,
  instantInput,
  objectId,
  rangeInput,
  readable,
  splitId,
  userZone,
} from "../../../../src/apps/calendar/tool-kit.ts";

const cal = (name: string, components: CalendarInfo["components"], timeZone: string | null = null) => ({
  name,
  displayName: name,
  color: null,
  ctag: null,
  components,
  timeZone,
});
const calendars: CalendarInfo[] = [
  cal("personal", ["VEVENT"]),
  cal("tasks", ["VTODO"], "Europe/Berlin"),
  cal("work", ["VEVENT", "VTODO"], "America/New_York"),
];

describe("object ids", () => {
  it("joins and splits <calendar>/<file>", () => {
    expect(splitId(objectId("work", "a b.ics"))).toEqual(["work", "a b.ics"]);
  });

  it("refuses ids that are not exactly two names", () => {
    for (const bad of ["team-sync.ics", "a/b/c.ics", "/x.ics", "work/", ""]) {
      expect(() => splitId(bad), bad).toThrow(/is not an object id/);
    }
  });
});

describe("userZone", () => {
  it("takes the caller's zone, else the first calendar's, else UTC", () => {
    expect(userZone("Asia/Tokyo", calendars)).toBe("Asia/Tokyo");
    expect(userZone(undefined, calendars)).toBe("Europe/Berlin");
    expect(userZone(undefined, [calendars[0] as CalendarInfo])).toBe("UTC");
  });

  it("names an unknown zone", () => {
    expect(() => userZone("Mars/Olympus", calendars)).toThrow(/timeZone "Mars\/Olympus" is not a known IANA/);
  });
});

describe("calendarsFor", () => {
  it("keeps the calendars holding the component, or the ones named", () => {
    expect(calendarsFor(calendars, "VEVENT", undefined).map((c) => c.name)).toEqual(["personal", "work"]);
    expect(calendarsFor(calendars, "VTODO", undefined).map((c) => c.name)).toEqual(["tasks", "work"]);
    expect(calendarsFor(calendars, "VEVENT", ["tasks"]).map((c) => c.name)).toEqual(["tasks"]);
  });

  it("names calendars that do not exist", () => {
    expect(() => calendarsFor(calendars, "VEVENT", ["work", "nope", "gone"])).toThrow(
      /No calendar named "nope", "gone"/,
    );
  });
});

describe("times and ranges", () => {
  it("reads dates and wall-clock times in the zone, and times with an offset as given", () => {
    expect(instantInput("2026-10-25", "from", "Europe/Berlin")).toBe(Date.parse("2026-10-24T22:00:00Z"));
    // After the clocks went back: 10:00 in Berlin is 09:00 UTC.
    expect(instantInput("2026-10-28T10:00", "from", "Europe/Berlin")).toBe(
      Date.parse("2026-10-28T09:00:00Z"),
    );
    expect(instantInput("2026-10-28T10:00+05:00", "from", "Europe/Berlin")).toBe(
      Date.parse("2026-10-28T05:00:00Z"),
    );
    expect(() => instantInput("next week", "from", "UTC")).toThrow(/from "next week" is not valid/);
  });

  it("defaults the range to now + days and bounds its length", () => {
    const before = Date.now();
    const r = rangeInput(undefined, undefined, "UTC", 14);
    expect(r.from).toBeGreaterThanOrEqual(before);
    expect(r.to - r.from).toBe(14 * 86_400_000);
    expect(rangeInput("2026-01-01", "2026-01-02", "UTC", 7)).toEqual({
      from: Date.parse("2026-01-01T00:00:00Z"),
      to: Date.parse("2026-01-02T00:00:00Z"),
    });
    expect(() => rangeInput("2026-01-02", "2026-01-01", "UTC", 7)).toThrow(/to must be after from/);
    expect(() => rangeInput("2026-01-01", "2027-06-01", "UTC", 7)).toThrow(/at most 366 days/);
  });
});

describe("readable", () => {
  const where = { calendar: "work", name: "broken.ics" };

  it("leaves out an object that cannot be read, and logs where it is", () => {
    const warned: object[] = [];
    const log = {
      info: () => undefined,
      error: () => undefined,
      warn: (f: object) => {
        warned.push(f);
      },
    };
    expect(
      readable(log, where, () => parseCalendarObject("BEGIN:VCARD\r\nEND:VCARD\r\n", { zone: "UTC" })),
    ).toBe(undefined);
    expect(warned).toEqual([expect.objectContaining({ calendar: "work", name: "broken.ics" })]);
  });

  it("lets other failures through", () => {
    const log = { info: () => undefined, error: () => undefined, warn: () => undefined };
    const fails = () => {
      readable(log, where, () => {
        throw new Error("bug");
      });
    };
    expect(fails).toThrow("bug");
  });
});
