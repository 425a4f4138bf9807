// The calendar part of an indexing pass: every calendar in the user's calendar home, each brought up
// to date with RFC 6578 sync-collection (collections.ts); events are indexed under "calendar", tasks
// under "tasks", by their object id ("calendar/object.ics", what calendar_events takes). A calendar
// that is gone takes its items with it; no calendar home (the app is off) takes them all.
import type { NextcloudClient } from "../../nextcloud/index.ts";
import { readCalendar, seriesComponents, textOf } from "../calendar/ical.ts";
import { CalDavClient } from "../calendar/index.ts";
import type { IcalComponent } from "../calendar/timezone.ts";
import {
  syncDavHome,
  type CollectionItem,
  type CollectionSink,
  type DavHome,
  type PassCounts,
} from "./collections.ts";

/** A calendar user address or URI without its scheme ("mailto:ann@example.com" → "ann@example.com"). */
const address = (value: unknown) => (typeof value === "string" ? value.replace(/^mailto:/i, "") : "");

/** "Name <address>" of an ORGANIZER or ATTENDEE property. */
function person(c: IcalComponent, name: string): string[] {
  return c.getAllProperties(name).map((p) => {
    const cn = p.getParameter("cn");
    const who = address(p.getFirstValue());
    return [typeof cn === "string" ? cn : "", who === "" ? "" : `<${who}>`].filter((s) => s !== "").join(" ");
  });
}

/** The searchable text of one VEVENT or VTODO: description, location, people, categories. */
function textsOf(c: IcalComponent): string[] {
  const categories = c
    .getAllProperties("categories")
    .flatMap((p) => p.getValues().map((v) => (typeof v === "string" ? v : "")));
  return [
    textOf(c, "description") ?? "",
    textOf(c, "location") ?? "",
    ...person(c, "organizer"),
    ...person(c, "attendee"),
    categories.join(", "),
    textOf(c, "comment") ?? "",
    textOf(c, "url") ?? "",
  ];
}

function modifiedOf(c: IcalComponent): Date | null {
  for (const name of ["last-modified", "dtstamp"]) {
    const v: unknown = c.getFirstPropertyValue(name);
    if (v !== null && typeof v === "object" && "toJSDate" in v && typeof v.toJSDate === "function") {
      const d = (v as { toJSDate(): Date }).toJSDate();
      if (!Number.isNaN(d.getTime())) return d;
    }
  }
  return null;
}

/**
 * The index item of one calendar object: an event (source "calendar") or a task ("tasks"), titled by
 * its SUMMARY, its body the description, location, organizer, attendees, categories, and what its
 * changed instances say differently. Undefined when it holds neither (a journal) or does not parse.
 */
export function calendarItem(
  calendar: string,
  name: string,
  etag: string | null,
  ics: string,
): CollectionItem | undefined {
  let series: ReturnType<typeof seriesComponents>;
  try {
    series = seriesComponents(readCalendar(ics));
  } catch {
    return undefined;
  }
  const first = series.master ?? series.overrides[0];
  if (first === undefined) return undefined;
  const title = textOf(first, "summary") ?? "";
  const lines: string[] = [];
  for (const c of [first, ...series.overrides.filter((o) => o !== first)]) {
    const summary = textOf(c, "summary");
    if (c !== first && summary !== null && summary !== title) lines.push(summary);
    lines.push(...textsOf(c));
  }
  const body = [...new Set(lines.map((l) => l.trim()).filter((l) => l !== ""))].join("\n");
  return {
    source: series.kind === "event" ? "calendar" : "tasks",
    key: `${calendar}/${name}`,
    title: title === "" ? name.replace(/\.ics$/i, "") : title,
    body,
    container: calendar,
    etag,
    modifiedAt: modifiedOf(first),
  };
}

/** Brings the user's events and tasks in the index up to date; see the file comment. */
export async function crawlCalendars(
  nc: NextcloudClient,
  sink: CollectionSink,
  signal?: AbortSignal,
): Promise<PassCounts> {
  const uid = await nc.userId();
  const client = new CalDavClient(nc.options, uid, signal);
  const home: DavHome = {
    kind: "calendar",
    sources: ["calendar", "tasks"],
    tree: "calendars",
    noun: "calendar",
    // Nextcloud's birthday calendar mirrors the contacts, which are indexed themselves.
    list: async () =>
      (await client.listCalendars()).map((c) => c.name).filter((n) => n !== "contact_birthdays"),
    fetch: (calendar, names) => client.multiget(calendar, names),
    item: calendarItem,
  };
  return syncDavHome(nc, uid, home, sink, signal);
}
