// CalDAV and CardDAV of the Nextcloud stand-in (Radicale behind the user_oidc-style front) with real
// Keycloak exchange tokens: Nextcloud's paths and hrefs, discovery, recurring events across the DST
// change, ETag preconditions, sync tokens, address book queries, users kept apart, and the switch
// that turns calendars or contacts off.
import { request } from "node:http";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { nextcloudTokens, type UserTokens } from "./support.ts";

let browser: Browser;
let alice: UserTokens;
let bob: UserTokens;
let aliceUid: string;
let bobUid: string;
let nc: NextcloudStandin;

beforeAll(async () => {
  browser = await launchBrowser();
  alice = await nextcloudTokens(browser, DEMO_USERS.alice);
  bob = await nextcloudTokens(browser, DEMO_USERS.bob);
  await browser.close();
  aliceUid = claims(alice.nextcloud).sub ?? "";
  bobUid = claims(bob.nextcloud).sub ?? "";
  nc = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
  await nc.seedDemoGroupware(aliceUid, "alice");
  await nc.seedDemoGroupware(bobUid, "bob");
});
afterAll(async () => {
  await nc.stop();
});

const CAL = () => `/remote.php/dav/calendars/${aliceUid}`;
const BOOK = () => `/remote.php/dav/addressbooks/users/${aliceUid}`;

async function dav(
  token: string | undefined,
  method: string,
  path: string,
  options: { depth?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${nc.url}${path}`, {
    method,
    redirect: "manual",
    headers: {
      ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
      ...(options.depth === undefined ? {} : { Depth: options.depth }),
      ...(options.body === undefined ? {} : { "Content-Type": "application/xml; charset=utf-8" }),
      ...options.headers,
    },
    body: options.body,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A request whose path goes out byte for byte (fetch would resolve `%2e%2e` before sending). */
function rawDav(token: string, method: string, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(nc.url);
    const headers = { Authorization: `Bearer ${token}`, Depth: "1" };
    const r = request({ host: hostname, port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    r.on("error", reject);
    r.end();
  });
}

/** The href of each `<response>` of a multistatus. */
function hrefs(xml: string): string[] {
  return [...xml.matchAll(/<(?:\w+:)?response>\s*<(?:\w+:)?href>([^<]*)</g)].map((m) => m[1] ?? "");
}

const PROPFIND = `<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:resourcetype/><d:displayname/><d:getetag/><c:supported-calendar-component-set/><d:current-user-principal/><c:calendar-home-set/><card:addressbook-home-set/></d:prop></d:propfind>`;

function eventsBetween(start: string, end: string, prop = "<d:getetag/>"): string {
  return `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>${prop}</d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="${start}" end="${end}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`;
}

function syncCollection(token: string): string {
  return `<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`;
}

describe("discovery", () => {
  it("redirects /.well-known/caldav and carddav to /remote.php/dav/ without a token", async () => {
    for (const which of ["caldav", "carddav"]) {
      const res = await dav(undefined, "PROPFIND", `/.well-known/${which}`);
      expect(res.status).toBe(301);
      expect(res.headers.get("location")).toBe("/remote.php/dav/");
    }
  });

  it("names the principal on /remote.php/dav/ and the two homes on the principal", async () => {
    const root = await dav(alice.nextcloud, "PROPFIND", "/remote.php/dav/", { depth: "0", body: PROPFIND });
    expect(root.status).toBe(207);
    const principal = `/remote.php/dav/principals/users/${aliceUid}/`;
    expect(root.text).toMatch(new RegExp(`current-user-principal><d:href>${principal}</d:href>`));

    const p = await dav(alice.nextcloud, "PROPFIND", principal, { depth: "0", body: PROPFIND });
    expect(p.status).toBe(207);
    expect(hrefs(p.text)).toEqual([principal]);
    expect(p.text).toContain(`<cal:calendar-home-set><d:href>${CAL()}/</d:href></cal:calendar-home-set>`);
    expect(p.text).toContain(
      `<card:addressbook-home-set><d:href>${BOOK()}/</d:href></card:addressbook-home-set>`,
    );
  });

  it("answers 401 without a token and for the MCP token (aud is not nextcloud)", async () => {
    expect((await dav(undefined, "PROPFIND", `${CAL()}/`, { depth: "0" })).status).toBe(401);
    expect((await dav(alice.mcp, "PROPFIND", `${CAL()}/`, { depth: "0" })).status).toBe(401);
  });
});

describe("calendars", () => {
  it("lists alice's calendars under Nextcloud's calendar home, and no address book", async () => {
    const res = await dav(alice.nextcloud, "PROPFIND", `${CAL()}/`, { depth: "1", body: PROPFIND });
    expect(res.status).toBe(207);
    expect(hrefs(res.text).sort()).toEqual(
      [`${CAL()}/`, `${CAL()}/personal/`, `${CAL()}/tasks/`, `${CAL()}/work/`].sort(),
    );
    expect(res.text).toContain("<displayname>Work</displayname>");
    expect(res.text).toMatch(/<href>[^<]*\/tasks\/<\/href>[\s\S]*?<C:comp name="VTODO" \/>/);
    // The principal is Nextcloud's, not Radicale's home.
    expect(res.text).toContain(`<href>/remote.php/dav/principals/users/${aliceUid}/</href>`);
    expect(res.text).not.toMatch(/<(?:\w+:)?addressbook\s*\/>/);
  });

  it("finds the weekly series by time range on both sides of the DST change, and honours EXDATE", async () => {
    const query = async (start: string, end: string) =>
      hrefs(
        (
          await dav(alice.nextcloud, "REPORT", `${CAL()}/work/`, {
            depth: "1",
            body: eventsBetween(start, end),
          })
        ).text,
      );
    const series = `${CAL()}/work/team-sync.ics`;
    // 2026-10-21 10:00 CEST = 08:00Z; 2026-10-28 10:00 CET = 09:00Z.
    expect(await query("20261021T080000Z", "20261021T081500Z")).toEqual([series]);
    expect(await query("20261028T090000Z", "20261028T091500Z")).toEqual([series]);
    expect(await query("20261028T080000Z", "20261028T083000Z")).toEqual([]);
    // 2026-10-14 is excluded; the RDATE adds Friday 2026-10-30 14:00 CET = 13:00Z.
    expect(await query("20261014T080000Z", "20261014T090000Z")).toEqual([]);
    expect(await query("20261030T130000Z", "20261030T131500Z")).toEqual([series]);
    // The moved instance: 2026-11-04 11:00 CET = 10:00Z, no longer at 09:00Z.
    expect(await query("20261104T100000Z", "20261104T101500Z")).toEqual([series]);
    expect(await query("20261104T090000Z", "20261104T093000Z")).toEqual([]);
  });

  it("returns the seeded events of December with their data (all-day, floating, attendees)", async () => {
    const res = await dav(alice.nextcloud, "REPORT", `${CAL()}/personal/`, {
      depth: "1",
      body: eventsBetween("20261201T000000Z", "20261231T000000Z", "<d:getetag/><c:calendar-data/>"),
    });
    expect(res.status).toBe(207);
    expect(hrefs(res.text).sort()).toEqual([
      `${CAL()}/personal/christmas-eve.ics`,
      `${CAL()}/personal/morning-run.ics`,
    ]);
    expect(res.text).toContain("DTSTART;VALUE=DATE:20261224");
    expect(res.text).toContain("DTSTART:20261212T070000");
    const work = await dav(alice.nextcloud, "REPORT", `${CAL()}/work/`, {
      depth: "1",
      body: eventsBetween("20261210T000000Z", "20261211T000000Z", "<c:calendar-data/>"),
    });
    expect(hrefs(work.text)).toEqual([`${CAL()}/work/project-review.ics`]);
    // Radicale stores what vobject serialises: properties reordered, lines folded at 75 octets.
    const unfolded = work.text.replace(/\r?\n[ \t]/g, "");
    expect(unfolded).toContain("ORGANIZER;CN=Alice Example:mailto:alice@example.test");
    expect(unfolded).toMatch(/ATTENDEE;[^\n]*CN=Bob Example[^\n]*:mailto:bob@example.test/);
  });

  it("refuses a PUT with a stale If-Match with 412 and changes nothing", async () => {
    const path = `${CAL()}/personal/morning-run.ics`;
    const before = await dav(alice.nextcloud, "GET", path);
    expect(before.status).toBe(200);
    const etag = before.headers.get("etag") ?? "";
    expect(etag).toMatch(/^".+"$/);
    const changed = before.text.replace("SUMMARY:Morning run", "SUMMARY:Evening run");

    const stale = await dav(alice.nextcloud, "PUT", path, {
      headers: { "Content-Type": "text/calendar; charset=utf-8", "If-Match": '"not-the-etag"' },
      body: changed,
    });
    expect(stale.status).toBe(412);
    const after = await dav(alice.nextcloud, "GET", path);
    expect(after.text).toBe(before.text);
    expect(after.headers.get("etag")).toBe(etag);

    const exists = await dav(alice.nextcloud, "PUT", path, {
      headers: { "Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*" },
      body: changed,
    });
    expect(exists.status).toBe(412);

    const fresh = await dav(alice.nextcloud, "PUT", path, {
      headers: { "Content-Type": "text/calendar; charset=utf-8", "If-Match": etag },
      body: changed,
    });
    expect(fresh.status).toBeGreaterThanOrEqual(200);
    expect(fresh.status).toBeLessThan(300);
    expect(fresh.headers.get("etag")).not.toBe(etag);
    expect((await dav(alice.nextcloud, "GET", path)).text).toContain("SUMMARY:Evening run");
  });

  it("moves an event within alice's calendars (Destination under Nextcloud's prefix)", async () => {
    const from = `${CAL()}/work/release-call.ics`;
    const to = `${CAL()}/personal/release-call.ics`;
    const moved = await dav(alice.nextcloud, "MOVE", from, { headers: { Destination: `${nc.url}${to}` } });
    expect(moved.status).toBe(201);
    expect((await dav(alice.nextcloud, "GET", from)).status).toBe(404);
    const got = await dav(alice.nextcloud, "GET", to);
    expect(got.status).toBe(200);
    expect(got.text).toContain("SUMMARY:Release call");
  });

  it("creates a calendar with MKCALENDAR and lists it", async () => {
    const body = `<?xml version="1.0"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>Holidays</d:displayname></d:prop></d:set></c:mkcalendar>`;
    const made = await dav(alice.nextcloud, "MKCALENDAR", `${CAL()}/holidays/`, { body });
    expect(made.status).toBe(201);
    const list = await dav(alice.nextcloud, "PROPFIND", `${CAL()}/`, { depth: "1", body: PROPFIND });
    expect(hrefs(list.text)).toContain(`${CAL()}/holidays/`);
    expect(list.text).toContain("<displayname>Holidays</displayname>");
  });

  it("gives a sync token and, given it back, only what changed since", async () => {
    const first = await dav(alice.nextcloud, "REPORT", `${CAL()}/work/`, {
      depth: "0",
      body: syncCollection(""),
    });
    expect(first.status).toBe(207);
    const token = /<(?:\w+:)?sync-token>([^<]+)</.exec(first.text)?.[1] ?? "";
    expect(token).not.toBe("");
    expect(hrefs(first.text)).toContain(`${CAL()}/work/team-sync.ics`);

    const put = await dav(alice.nextcloud, "PUT", `${CAL()}/work/standup.ics`, {
      headers: { "Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*" },
      body: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:standup@test\r\nDTSTAMP:20261205T090000Z\r\nDTSTART:20261207T080000Z\r\nDTEND:20261207T081500Z\r\nSUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    });
    expect(put.status).toBe(201);
    const next = await dav(alice.nextcloud, "REPORT", `${CAL()}/work/`, {
      depth: "0",
      body: syncCollection(token),
    });
    expect(next.status).toBe(207);
    expect(hrefs(next.text)).toEqual([`${CAL()}/work/standup.ics`]);
    expect(/<(?:\w+:)?sync-token>([^<]+)</.exec(next.text)?.[1]).not.toBe(token);
  });
});

describe("contacts", () => {
  it("lists the address book under Nextcloud's address book home, and no calendar", async () => {
    const res = await dav(alice.nextcloud, "PROPFIND", `${BOOK()}/`, { depth: "1", body: PROPFIND });
    expect(res.status).toBe(207);
    expect(hrefs(res.text).sort()).toEqual([`${BOOK()}/`, `${BOOK()}/contacts/`]);
    expect(res.text).toContain("<displayname>Contacts</displayname>");
  });

  it("finds a contact by email with addressbook-query, and serves vCard 3.0 and 4.0 as stored", async () => {
    const query = `<?xml version="1.0"?><card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/></d:prop><card:filter><card:prop-filter name="EMAIL"><card:text-match collation="i;unicode-casemap" match-type="equals">carol@example.com</card:text-match></card:prop-filter></card:filter></card:addressbook-query>`;
    const res = await dav(alice.nextcloud, "REPORT", `${BOOK()}/contacts/`, { depth: "1", body: query });
    expect(res.status).toBe(207);
    expect(hrefs(res.text)).toEqual([`${BOOK()}/contacts/carol.vcf`]);
    expect(res.text).toContain("FN:Carol Jones");

    const dave = await dav(alice.nextcloud, "GET", `${BOOK()}/contacts/dave.vcf`);
    expect(dave.status).toBe(200);
    expect(dave.text).toContain("VERSION:4.0");
    const erin = await dav(alice.nextcloud, "GET", `${BOOK()}/contacts/erin.vcf`);
    expect(erin.text).toContain("VERSION:3.0");
    expect(erin.text).toMatch(/PHOTO;[^:]*:iVBORw0KGgo/);
  });
});

describe("users kept apart", () => {
  it("bob gets 404 on alice's calendar home, calendars, events, address book and principal", async () => {
    const paths = [
      `${CAL()}/`,
      `${CAL()}/work/`,
      `${CAL()}/work/team-sync.ics`,
      `${BOOK()}/`,
      `${BOOK()}/contacts/carol.vcf`,
      `/remote.php/dav/principals/users/${aliceUid}/`,
    ];
    for (const path of paths) {
      const method = path.endsWith("/") ? "PROPFIND" : "GET";
      const res = await dav(bob.nextcloud, method, path, { depth: "0" });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.text).not.toMatch(/Team sync|Carol/);
    }
    const report = await dav(bob.nextcloud, "REPORT", `${CAL()}/work/`, {
      depth: "1",
      body: eventsBetween("20260101T000000Z", "20280101T000000Z", "<c:calendar-data/>"),
    });
    expect(report.status).toBe(404);
    expect(report.text).not.toContain("Team sync");
  });

  it("bob cannot write into alice's calendar or move his event there; her data is unchanged", async () => {
    const before = await dav(alice.nextcloud, "PROPFIND", `${CAL()}/work/`, { depth: "1", body: PROPFIND });
    const put = await dav(bob.nextcloud, "PUT", `${CAL()}/work/intruder.ics`, {
      headers: { "Content-Type": "text/calendar; charset=utf-8" },
      body: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:x@t\r\nDTSTAMP:20261205T090000Z\r\nDTSTART:20261207T080000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    });
    expect(put.status).toBe(404);
    const del = await dav(bob.nextcloud, "DELETE", `${CAL()}/work/team-sync.ics`);
    expect(del.status).toBe(404);
    const move = await dav(
      bob.nextcloud,
      "MOVE",
      `/remote.php/dav/calendars/${bobUid}/personal/dentist.ics`,
      {
        headers: { Destination: `${nc.url}${CAL()}/work/dentist.ics` },
      },
    );
    expect(move.status).toBe(403);
    const after = await dav(alice.nextcloud, "PROPFIND", `${CAL()}/work/`, { depth: "1", body: PROPFIND });
    expect(hrefs(after.text).sort()).toEqual(hrefs(before.text).sort());
    expect(
      (await dav(bob.nextcloud, "GET", `/remote.php/dav/calendars/${bobUid}/personal/dentist.ics`)).status,
    ).toBe(200);
  });

  it("takes the user from the token only: a client's X-Remote-User or X-Script-Name changes nothing", async () => {
    const forged = { "X-Remote-User": bobUid, "X-Script-Name": "/remote.php/dav/calendars" };
    const bobs = await dav(alice.nextcloud, "PROPFIND", `/remote.php/dav/calendars/${bobUid}/personal/`, {
      depth: "1",
      headers: forged,
    });
    expect(bobs.status).toBe(404);
    expect(bobs.text).not.toContain("dentist");
    const own = await dav(alice.nextcloud, "PROPFIND", `${CAL()}/`, { depth: "1", headers: forged });
    expect(own.status).toBe(207);
    expect(hrefs(own.text)).toContain(`${CAL()}/work/`);
  });

  it("refuses encoded dot segments and slashes that would leave the user's home", async () => {
    for (const path of [
      `${CAL()}/%2e%2e/${bobUid}/personal/`,
      `${CAL()}/work/..%2F..%2F${bobUid}%2Fpersonal/`,
      `${CAL()}/%2e%2e%2F${bobUid}/personal/`,
      `${BOOK()}/%2E%2E/${bobUid}/contacts/`,
    ]) {
      // The URL parser resolves %2e%2e (then bob's home answers 404); an encoded slash is refused.
      const res = await rawDav(alice.nextcloud, "PROPFIND", path);
      expect({ path, refused: [403, 404].includes(res.status) }).toEqual({ path, refused: true });
      expect(res.text).not.toMatch(/dentist|Alice Example/);
    }
  });

  it("bob sees only his own calendar and address book", async () => {
    const cal = await dav(bob.nextcloud, "PROPFIND", `/remote.php/dav/calendars/${bobUid}/`, { depth: "1" });
    expect(hrefs(cal.text).sort()).toEqual([
      `/remote.php/dav/calendars/${bobUid}/`,
      `/remote.php/dav/calendars/${bobUid}/personal/`,
    ]);
    const book = await dav(
      bob.nextcloud,
      "REPORT",
      `/remote.php/dav/addressbooks/users/${bobUid}/contacts/`,
      {
        depth: "1",
        body: `<?xml version="1.0"?><card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><card:address-data/></d:prop></card:addressbook-query>`,
      },
    );
    expect(book.text).toContain("FN:Alice Example");
    expect(book.text).not.toContain("Carol");
  });
});

describe("turning calendars or contacts off", () => {
  it("makes the home answer 404 and the principal drop its home set, and back on", async () => {
    const principal = `/remote.php/dav/principals/users/${aliceUid}/`;
    nc.setGroupware({ calendar: false });
    try {
      expect((await dav(alice.nextcloud, "PROPFIND", `${CAL()}/`, { depth: "0" })).status).toBe(404);
      expect((await dav(alice.nextcloud, "PROPFIND", `${BOOK()}/`, { depth: "0" })).status).toBe(207);
      const p = await dav(alice.nextcloud, "PROPFIND", principal, { depth: "0", body: PROPFIND });
      expect(p.text).not.toContain(`${CAL()}/`);
      expect(p.text).toContain(`${BOOK()}/`);
      nc.setGroupware({ contacts: false });
      expect((await dav(alice.nextcloud, "PROPFIND", `${BOOK()}/`, { depth: "0" })).status).toBe(404);
    } finally {
      nc.setGroupware({ calendar: true, contacts: true });
    }
    expect((await dav(alice.nextcloud, "PROPFIND", `${CAL()}/`, { depth: "0" })).status).toBe(207);
    expect((await dav(alice.nextcloud, "PROPFIND", `${BOOK()}/`, { depth: "0" })).status).toBe(207);
  });
});
