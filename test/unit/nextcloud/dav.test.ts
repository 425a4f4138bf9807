// The multistatus parser of the DAV layer: namespaces resolved by URI (not by prefix), statuses per
// propstat, raw property elements kept for CalDAV/CardDAV, and hrefs mapped back only under the root.
import { describe, expect, it } from "vitest";
import { DAV_NS, hrefNames, OC_NS, parseMultistatus, propOf } from "../../../src/nextcloud/dav.ts";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";

const CAL = "urn:ietf:params:xml:ns:caldav";

const BODY = `<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:x="http://owncloud.org/ns">
 <response>
  <href>/remote.php/dav/calendars/alice/work/e%201.ics</href>
  <propstat><prop><getetag>"abc"</getetag><x:fileid>42</x:fileid>
   <C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><![CDATA[BEGIN:VCALENDAR
END:VCALENDAR
]]></C:calendar-data>
   <resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat>
  <propstat><prop><x:favorite/></prop><status>HTTP/1.1 404 Not Found</status></propstat>
 </response>
 <response><href>/remote.php/dav/calendars/alice/gone.ics</href><status>HTTP/1.1 404 Not Found</status></response>
</multistatus>`;

describe("parseMultistatus", () => {
  it("resolves namespaces by URI and keeps each propstat's status", () => {
    const [first, second] = parseMultistatus(BODY);
    if (first === undefined) throw new Error("no response parsed");
    expect(first.href).toBe("/remote.php/dav/calendars/alice/work/e%201.ics");
    expect(first.propstats.map((p) => p.status)).toEqual([200, 404]);
    expect(propOf(first, DAV_NS, "getetag")?.text).toBe('"abc"');
    expect(propOf(first, OC_NS, "fileid")?.text).toBe("42");
    expect(propOf(first, CAL, "calendar-data")?.text).toBe("BEGIN:VCALENDAR\nEND:VCALENDAR\n");
    expect(
      propOf(first, DAV_NS, "resourcetype")?.children.find((c) => c.name === "collection" && c.ns === DAV_NS),
    ).toBeDefined();
    expect(propOf(first, OC_NS, "favorite")).toBeUndefined(); // only in the 404 propstat
    expect(second).toEqual({ href: "/remote.php/dav/calendars/alice/gone.ics", status: 404, propstats: [] });
  });

  it("decodes entities but refuses a DOCTYPE (entity expansion) and anything not a multistatus", () => {
    const withEntity = BODY.replace('"abc"', "a&amp;b&lt;");
    const [parsed] = parseMultistatus(withEntity);
    expect(parsed && propOf(parsed, DAV_NS, "getetag")?.text).toBe("a&b<");
    const bomb = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><d:multistatus xmlns:d="DAV:"/>`;
    expect(() => parseMultistatus(bomb)).toThrow(NextcloudError);
    expect(() => parseMultistatus(`<d:error xmlns:d="DAV:"/>`)).toThrow(/not a WebDAV multistatus/);
    expect(() => parseMultistatus(`<multistatus/>`)).toThrow(/not a WebDAV multistatus/);
  });
});

describe("hrefNames", () => {
  const root = "/remote.php/dav/files/alice";
  it("maps hrefs under the root (path or absolute, any base path) to decoded names", () => {
    expect(hrefNames("https://c.example", root, `${root}/A%20b/c%23d.md`)).toEqual(["A b", "c#d.md"]);
    expect(hrefNames("https://c.example/nc/", root, `https://c.example/nc${root}/`)).toEqual([]);
  });
  it("gives nothing for hrefs outside the root", () => {
    expect(hrefNames("https://c.example", root, "/remote.php/dav/files/bob/x")).toBeUndefined();
    expect(hrefNames("https://c.example", root, "/remote.php/dav/files/alice2/x")).toBeUndefined();
    expect(hrefNames("https://c.example", root, `https://evil.example${root}/x`)).toBeUndefined();
    expect(hrefNames("https://c.example", root, `${root}/a%2Fb`)).toBeUndefined();
  });
});
