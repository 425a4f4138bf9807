// Demo calendars, task lists and address books for tests and the sandbox, on fixed dates in late 2026
// so that tests stay stable: a weekly series in Europe/Berlin across the DST change of 2026-10-25
// (with EXDATE, RDATE and one moved instance), all-day, floating and UTC events, attendees, tasks in
// every state, and vCard 3.0 and 4.0 contacts (one with a photo).
import { escapeXml } from "./respond.ts";

/** A calendar to create (MKCALENDAR) with its objects (`<name>.ics` → iCalendar text). */
export interface SeedCalendar {
  uri: string;
  displayName?: string;
  /** supported-calendar-component-set; Radicale's default is all of them. */
  components?: ("VEVENT" | "VTODO" | "VJOURNAL")[];
  color?: string;
  objects?: Record<string, string>;
}

/** An address book to create (extended MKCOL) with its cards (`<name>.vcf` → vCard text). */
export interface SeedAddressBook {
  uri: string;
  displayName?: string;
  cards?: Record<string, string>;
}

const crlf = (lines: string[]) => `${lines.join("\r\n")}\r\n`;

const BERLIN = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0200",
  "TZNAME:CEST",
  "DTSTART:19700329T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "TZNAME:CET",
  "DTSTART:19701025T030000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

/** A VCALENDAR around components (each a list of lines); with the Berlin zone when one uses it. */
export function ics(...components: string[][]): string {
  const zone = components.some((c) => c.some((l) => l.includes("TZID=Europe/Berlin"))) ? BERLIN : [];
  return crlf([
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//nextcloud-mcp-gateway//stand-in seed//EN",
    "CALSCALE:GREGORIAN",
    ...zone,
    ...components.flat(),
    "END:VCALENDAR",
  ]);
}

const STAMP = "DTSTAMP:20261101T120000Z";

/**
 * The weekly "Team sync", Wednesdays 10:00-10:30 Europe/Berlin from 2026-10-07, 10 occurrences:
 * 10-07, (10-14 excluded), 10-21 (CEST, 08:00Z), 10-28 (CET, 09:00Z), 11-04 moved to 11:00-11:45,
 * 11-11 … 12-09, plus an extra date (RDATE) on Friday 10-30 14:00.
 */
export const TEAM_SYNC = ics(
  [
    "BEGIN:VEVENT",
    "UID:team-sync@standin.example",
    STAMP,
    "SUMMARY:Team sync",
    "LOCATION:Room 4.01",
    "DTSTART;TZID=Europe/Berlin:20261007T100000",
    "DTEND;TZID=Europe/Berlin:20261007T103000",
    "RRULE:FREQ=WEEKLY;COUNT=10",
    "EXDATE;TZID=Europe/Berlin:20261014T100000",
    "RDATE;TZID=Europe/Berlin:20261030T140000",
    "END:VEVENT",
  ],
  [
    "BEGIN:VEVENT",
    "UID:team-sync@standin.example",
    STAMP,
    "RECURRENCE-ID;TZID=Europe/Berlin:20261104T100000",
    "SUMMARY:Team sync (moved)",
    "LOCATION:Room 4.01",
    "DTSTART;TZID=Europe/Berlin:20261104T110000",
    "DTEND;TZID=Europe/Berlin:20261104T114500",
    "END:VEVENT",
  ],
);

/** Alice's demo data: calendars "personal", "work", the task list "tasks", the book "contacts". */
export const ALICE_CALENDARS: SeedCalendar[] = [
  {
    uri: "personal",
    displayName: "Personal",
    components: ["VEVENT"],
    color: "#0082c9",
    objects: {
      "christmas-eve.ics": ics([
        "BEGIN:VEVENT",
        "UID:christmas-eve@standin.example",
        STAMP,
        "SUMMARY:Christmas Eve",
        "DTSTART;VALUE=DATE:20261224",
        "DTEND;VALUE=DATE:20261225",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
      ]),
      "morning-run.ics": ics([
        "BEGIN:VEVENT",
        "UID:morning-run@standin.example",
        STAMP,
        "SUMMARY:Morning run",
        "DESCRIPTION:Floating time: 07:00 wherever alice is.",
        "DTSTART:20261212T070000",
        "DTEND:20261212T080000",
        "END:VEVENT",
      ]),
    },
  },
  {
    uri: "work",
    displayName: "Work",
    components: ["VEVENT"],
    color: "#e9322d",
    objects: {
      "team-sync.ics": TEAM_SYNC,
      "project-review.ics": ics([
        "BEGIN:VEVENT",
        "UID:project-review@standin.example",
        STAMP,
        "SUMMARY:Project review",
        "DESCRIPTION:Quarterly review of the gateway project.",
        "DTSTART;TZID=Europe/Berlin:20261210T150000",
        "DTEND;TZID=Europe/Berlin:20261210T160000",
        "ORGANIZER;CN=Alice Example:mailto:alice@example.test",
        "ATTENDEE;CN=Alice Example;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:alice@example.test",
        "ATTENDEE;CN=Bob Example;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:bob@example.test",
        "ATTENDEE;CN=Carol Jones;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:carol@example.com",
        "END:VEVENT",
      ]),
      "release-call.ics": ics([
        "BEGIN:VEVENT",
        "UID:release-call@standin.example",
        STAMP,
        "SUMMARY:Release call",
        "DTSTART:20261208T130000Z",
        "DTEND:20261208T133000Z",
        "END:VEVENT",
      ]),
    },
  },
  {
    uri: "tasks",
    displayName: "Tasks",
    components: ["VTODO"],
    color: "#46ba61",
    objects: {
      "buy-gifts.ics": ics([
        "BEGIN:VTODO",
        "UID:buy-gifts@standin.example",
        STAMP,
        "SUMMARY:Buy gifts",
        "STATUS:NEEDS-ACTION",
        "END:VTODO",
      ]),
      "expense-report.ics": ics([
        "BEGIN:VTODO",
        "UID:expense-report@standin.example",
        STAMP,
        "SUMMARY:Submit expense report",
        "PRIORITY:1",
        "DUE;TZID=Europe/Berlin:20261211T170000",
        "STATUS:NEEDS-ACTION",
        "END:VTODO",
      ]),
      "call-plumber.ics": ics([
        "BEGIN:VTODO",
        "UID:call-plumber@standin.example",
        STAMP,
        "SUMMARY:Call the plumber",
        "DUE:20261201T120000Z",
        "STATUS:NEEDS-ACTION",
        "END:VTODO",
      ]),
      "renew-passport.ics": ics([
        "BEGIN:VTODO",
        "UID:renew-passport@standin.example",
        STAMP,
        "SUMMARY:Renew passport",
        "DUE;VALUE=DATE:20270115",
        "STATUS:IN-PROCESS",
        "PERCENT-COMPLETE:30",
        "END:VTODO",
      ]),
      "book-flights.ics": ics([
        "BEGIN:VTODO",
        "UID:book-flights@standin.example",
        STAMP,
        "SUMMARY:Book flights",
        "DUE;TZID=Europe/Berlin:20261130T180000",
        "STATUS:COMPLETED",
        "COMPLETED:20261128T093000Z",
        "PERCENT-COMPLETE:100",
        "END:VTODO",
      ]),
    },
  },
];

/** A 1×1 PNG, the photo of one demo contact. */
export const PHOTO_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

export const ALICE_ADDRESS_BOOKS: SeedAddressBook[] = [
  {
    uri: "contacts",
    displayName: "Contacts",
    cards: {
      "carol.vcf": crlf([
        "BEGIN:VCARD",
        "VERSION:3.0",
        "UID:carol@standin.example",
        "FN:Carol Jones",
        "N:Jones;Carol;;;",
        "EMAIL;TYPE=INTERNET,WORK:carol@example.com",
        "TEL;TYPE=CELL:+49 170 1234567",
        "ORG:Example GmbH;Sales",
        "TITLE:Account manager",
        "END:VCARD",
      ]),
      "dave.vcf": crlf([
        "BEGIN:VCARD",
        "VERSION:4.0",
        "UID:urn:uuid:2f0c4e1a-8d1b-4c55-9c1e-0d5b3c2a7e41",
        "FN:Dave Miller",
        "N:Miller;Dave;;;",
        "EMAIL;TYPE=home:dave@example.org",
        'TEL;VALUE=uri;TYPE="voice,cell":tel:+1-555-0100',
        "ORG:Acme Inc.",
        "BDAY:19850412",
        "END:VCARD",
      ]),
      "erin.vcf": crlf([
        "BEGIN:VCARD",
        "VERSION:3.0",
        "UID:erin@standin.example",
        "FN:Erin Photo",
        "N:Photo;Erin;;;",
        "EMAIL;TYPE=INTERNET:erin@example.net",
        "TEL;TYPE=WORK,VOICE:+44 20 7946 0958",
        "ORG:Lens & Light Ltd",
        `PHOTO;ENCODING=b;TYPE=PNG:${PHOTO_PNG_BASE64}`,
        "END:VCARD",
      ]),
    },
  },
];

export const BOB_CALENDARS: SeedCalendar[] = [
  {
    uri: "personal",
    displayName: "Personal",
    components: ["VEVENT", "VTODO"],
    objects: {
      "dentist.ics": ics([
        "BEGIN:VEVENT",
        "UID:bob-dentist@standin.example",
        STAMP,
        "SUMMARY:Bob's dentist appointment",
        "DTSTART;TZID=Europe/Berlin:20261209T090000",
        "DTEND;TZID=Europe/Berlin:20261209T094500",
        "END:VEVENT",
      ]),
    },
  },
];

export const BOB_ADDRESS_BOOKS: SeedAddressBook[] = [
  {
    uri: "contacts",
    displayName: "Contacts",
    cards: {
      "alice.vcf": crlf([
        "BEGIN:VCARD",
        "VERSION:4.0",
        "UID:urn:uuid:6a1d3f0e-2b7c-4f5e-8a9d-1c2b3a4d5e6f",
        "FN:Alice Example",
        "N:Example;Alice;;;",
        "EMAIL:alice@example.test",
        "END:VCARD",
      ]),
    },
  },
];

/** The demo data of a demo user. */
export const DEMO_GROUPWARE: Record<
  "alice" | "bob",
  { calendars: SeedCalendar[]; addressBooks: SeedAddressBook[] }
> = {
  alice: { calendars: ALICE_CALENDARS, addressBooks: ALICE_ADDRESS_BOOKS },
  bob: { calendars: BOB_CALENDARS, addressBooks: BOB_ADDRESS_BOOKS },
};

/** The MKCALENDAR body for a seed calendar (RFC 4791 §5.3.1). */
export function mkcalendarBody(c: SeedCalendar): string {
  const comps = (c.components ?? []).map((name) => `<C:comp name="${name}"/>`).join("");
  return (
    `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop>` +
    (c.displayName === undefined ? "" : `<D:displayname>${escapeXml(c.displayName)}</D:displayname>`) +
    (comps === ""
      ? ""
      : `<C:supported-calendar-component-set>${comps}</C:supported-calendar-component-set>`) +
    (c.color === undefined ? "" : `<A:calendar-color>${escapeXml(c.color)}</A:calendar-color>`) +
    `</D:prop></D:set></C:mkcalendar>`
  );
}

/** The extended MKCOL body for a seed address book (RFC 5689). */
export function mkcolAddressBookBody(b: SeedAddressBook): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>` +
    `<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>` +
    (b.displayName === undefined ? "" : `<D:displayname>${escapeXml(b.displayName)}</D:displayname>`) +
    `</D:prop></D:set></D:mkcol>`
  );
}
