import { describe, expect, it } from "vitest";
import { parseCalendarObject } from "../../../../src/apps/calendar/ical.ts";
import { searchEvents } from "../../../../src/apps/calendar/search.ts";
import type { CalendarEvent } from "../../../../src/apps/calendar/schema.ts";
import { fixture } from "./fixtures.ts";

const events: CalendarEvent[] = [
  "weekly-berlin-nextcloud.ics",
  "new-york-weekly.ics",
  "allday-multiday.ics",
].flatMap((name) => {
  const parsed = parseCalendarObject(fixture(name), { zone: "Europe/Berlin" });
  return parsed.kind === "event" ? [parsed.master, ...parsed.overrides] : [];
});

const summaries = (query: string) => searchEvents(events, query).map((e) => e.summary);

describe("searchEvents", () => {
  it("finds events by summary, description, location and attendees, ignoring case", () => {
    expect(summaries("CONFERENCE")).toEqual(["Conference trip"]);
    expect(summaries("your numbers")).toEqual(["Team sync"]);
    expect(summaries("havel")).toEqual(["Team sync (moved to Thursday)"]);
    expect(summaries("bob@example.com")).toEqual(["Team sync"]);
    expect(summaries("alice")).toEqual(["Team sync", "New York stand-up"]);
    expect(summaries("dana stand-up")).toEqual(["New York stand-up"]);
  });

  it("finds nothing when one word is missing, and ignores accents", () => {
    expect(summaries("team lunch")).toEqual([]);
    const renamed = events.map((e) =>
      e.summary === "Conference trip" ? { ...e, summary: "Reise nach München" } : e,
    );
    expect(searchEvents(renamed, "munchen").map((e) => e.summary)).toEqual(["Reise nach München"]);
  });
});
