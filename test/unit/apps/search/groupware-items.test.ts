// What the content index keeps of an event, a task, a contact and a Deck card: the words a user
// searches for (a description, a location, an attendee, an organisation, a phone) and the key the
// app's own tools open the item with.
import { describe, expect, it } from "vitest";
import { calendarItem } from "../../../../src/apps/search/crawl-calendar.ts";
import { contactItem } from "../../../../src/apps/search/crawl-contacts.ts";
import { boardVersion, deckItem } from "../../../../src/apps/search/crawl-deck.ts";

const crlf = (lines: string[]) => `${lines.join("\r\n")}\r\n`;
const vcalendar = (...lines: string[]) =>
  crlf(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", ...lines, "END:VCALENDAR"]);

const EVENT = vcalendar(
  "BEGIN:VEVENT",
  "UID:retro@example.com",
  "DTSTAMP:20261001T080000Z",
  "LAST-MODIFIED:20261002T090000Z",
  "DTSTART:20261007T100000Z",
  "DTEND:20261007T110000Z",
  "RRULE:FREQ=WEEKLY",
  "SUMMARY:Sprint retro",
  "DESCRIPTION:We talk about the pelican\\, the budget\\nand the roadmap.",
  "LOCATION:Room 4.01",
  "ORGANIZER;CN=Ann Lee:mailto:ann@example.com",
  "ATTENDEE;CN=Bo Chen;PARTSTAT=ACCEPTED:mailto:bo@example.com",
  "CATEGORIES:Team,Planning",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "UID:retro@example.com",
  "DTSTAMP:20261001T080000Z",
  "RECURRENCE-ID:20261014T100000Z",
  "DTSTART:20261014T120000Z",
  "DTEND:20261014T130000Z",
  "SUMMARY:Sprint retro (moved)",
  "LOCATION:Canteen",
  "END:VEVENT",
);

describe("calendarItem", () => {
  it("keeps an event's summary as its title and what it says as its body, under its object id", () => {
    const item = calendarItem("work", "retro.ics", '"e1"', EVENT);
    expect(item).toMatchObject({
      source: "calendar",
      key: "work/retro.ics",
      title: "Sprint retro",
      container: "work",
      etag: '"e1"',
      modifiedAt: new Date("2026-10-02T09:00:00Z"),
    });
    const body = item?.body ?? "";
    expect(body).toContain("We talk about the pelican, the budget\nand the roadmap.");
    expect(body).toContain("Room 4.01");
    expect(body).toContain("Ann Lee <ann@example.com>");
    expect(body).toContain("Bo Chen <bo@example.com>");
    expect(body).toContain("Team, Planning");
    // What a moved instance says differently is found too.
    expect(body).toContain("Sprint retro (moved)");
    expect(body).toContain("Canteen");
  });

  it("indexes a task under tasks, with its description", () => {
    const item = calendarItem(
      "todo",
      "t1.ics",
      null,
      vcalendar(
        "BEGIN:VTODO",
        "UID:t1",
        "DTSTAMP:20261001T080000Z",
        "SUMMARY:Renew the passport",
        "DESCRIPTION:Bring two photos",
        "STATUS:NEEDS-ACTION",
        "END:VTODO",
      ),
    );
    expect(item).toMatchObject({
      source: "tasks",
      key: "todo/t1.ics",
      title: "Renew the passport",
      body: "Bring two photos",
      modifiedAt: new Date("2026-10-01T08:00:00Z"),
    });
  });

  it("names an event without a summary by its object, and skips what holds no event or task", () => {
    const bare = vcalendar("BEGIN:VEVENT", "UID:x", "DTSTART:20261007T100000Z", "END:VEVENT");
    expect(calendarItem("work", "x.ics", null, bare)).toMatchObject({ title: "x", body: "" });
    const journal = vcalendar("BEGIN:VJOURNAL", "UID:j", "SUMMARY:Diary", "END:VJOURNAL");
    expect(calendarItem("work", "j.ics", null, journal)).toBeUndefined();
    expect(calendarItem("work", "bad.ics", null, "not a calendar")).toBeUndefined();
  });
});

describe("contactItem", () => {
  it("keeps a vCard 3.0 contact's name as its title and organisation, emails, phones, note as its body", () => {
    const vcf = crlf([
      "BEGIN:VCARD",
      "VERSION:3.0",
      "UID:c1",
      "FN:Dana Scully",
      "N:Scully;Dana;;;",
      "ORG:Federal Bureau;X-Files",
      "TITLE:Special Agent",
      "EMAIL;TYPE=WORK:dana@fbi.example",
      "TEL;TYPE=CELL:+1 202 555 0100",
      "ADR;TYPE=WORK:;;935 Pennsylvania Ave;Washington;DC;20535;USA",
      "NOTE:Trusts science.",
      "CATEGORIES:Work",
      "REV:20261003T101500Z",
      "END:VCARD",
    ]);
    const item = contactItem("contacts", "c1.vcf", '"k"', vcf);
    expect(item).toMatchObject({
      source: "contacts",
      key: "contacts/c1.vcf",
      title: "Dana Scully",
      container: "contacts",
      etag: '"k"',
      modifiedAt: new Date("2026-10-03T10:15:00Z"),
    });
    expect(item?.body.split("\n")).toEqual([
      "Federal Bureau",
      "X-Files",
      "Special Agent",
      "dana@fbi.example",
      "+1 202 555 0100",
      "935 Pennsylvania Ave, 20535, Washington, DC, USA",
      "Trusts science.",
      "Work",
    ]);
  });

  it("titles a vCard 4.0 without FN by its name parts, else its organisation", () => {
    const named = crlf(["BEGIN:VCARD", "VERSION:4.0", "UID:c2", "N:Mulder;Fox;William;;", "END:VCARD"]);
    expect(contactItem("b", "c2.vcf", null, named)?.title).toBe("Fox William Mulder");
    const org = crlf(["BEGIN:VCARD", "VERSION:4.0", "UID:c3", "ORG:Lone Gunmen", "END:VCARD"]);
    expect(contactItem("b", "c3.vcf", null, org)).toMatchObject({
      title: "Lone Gunmen",
      body: "Lone Gunmen",
    });
    expect(contactItem("b", "bad.vcf", null, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")).toBeUndefined();
  });
});

describe("deckItem and boardVersion", () => {
  it("keeps a card's title and description under board/stack/card, with its ETag", () => {
    const item = deckItem(
      7,
      { id: 3, title: "Doing", boardId: 7 },
      {
        id: 42,
        title: "Ship it",
        description: " Needs the **release notes** ",
        stackId: 3,
        lastModified: 1_790_000_000,
        ETag: '"abc"',
      },
    );
    expect(item).toEqual({
      source: "deck",
      key: "7/3/42",
      title: "Ship it",
      body: "Needs the **release notes**",
      container: "7",
      etag: "abc",
      modifiedAt: new Date(1_790_000_000_000),
    });
  });

  it("tells a board's changes by its ETag, else by lastModified", () => {
    expect(boardVersion({ id: 1, title: "B", ETag: '"e9"', lastModified: 5 })).toBe("e9");
    expect(boardVersion({ id: 1, title: "B", lastModified: 5 })).toBe("m5");
    expect(boardVersion({ id: 1, title: "B" })).toBeUndefined();
  });
});
