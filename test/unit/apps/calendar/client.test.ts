import { describe, expect, it } from "vitest";
import { utcStamp, xmlText } from "../../../../src/apps/calendar/client.ts";

describe("CalDAV request text", () => {
  it("escapes what would break or change an XML body", () => {
    expect(xmlText(`a<b>&"c"'d`)).toBe("a&#60;b&#62;&#38;&#34;c&#34;&#39;d");
    expect(xmlText("Büro 📅")).toBe("Büro 📅");
  });

  it("writes time-range instants as iCalendar UTC text", () => {
    expect(utcStamp(Date.parse("2026-10-25T01:30:00.250Z"))).toBe("20261025T013000Z");
  });
});
