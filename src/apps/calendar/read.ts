// The read-only calendar tools: the user's calendars, events in a range (recurrences expanded, with
// an optional text search), one event in full, and free time across calendars.
import { z } from "zod";
import {
  badArguments,
  explained,
  pageInput,
  pageOf,
  pageOutput,
  toolMaker,
  type ToolLogger,
  mapLimited,
} from "../../mcp/index.ts";
import type { CalDavClient, CalendarInfo, StoredObject } from "./client.ts";
import { freeBusy, type WorkingHours } from "./freebusy.ts";
import { parseCalendarObject } from "./ical.ts";
import { expandOccurrences } from "./recurrence.ts";
import type { Interval, Occurrence } from "./schema.ts";
import { matchesText } from "./search.ts";
import {
  caldav,
  calendarsFor,
  instantInput,
  PARALLEL_CALENDARS,
  objectId,
  onObject,
  rangeInput,
  readable,
  splitId,
  timeZoneInput,
  userZone,
} from "./tool-kit.ts";

const tool = toolMaker("calendar");

/** A calendar as listed (CalendarInfo); the schema names only the id that chains calls. */
export const calendarListed = z.looseObject({ name: z.string() });

/** Every calendar of the user, with a clear answer when the call fails. */
export function calendarsOf(client: CalDavClient): Promise<CalendarInfo[]> {
  return explained(client.listCalendars(), {
    not_found: "You have no calendar home in Nextcloud (is the Calendar app enabled for you?).",
  });
}

const calendarsInput = z.array(z.string()).optional().describe("Calendar names; default all.");

/** Lists the user's calendars and task lists. */
export const calendarListCalendars = tool.read({
  name: "calendar_list_calendars",
  title: "List calendars",
  description:
    "The user's calendars and task lists: name (its id), display name, color, components (VEVENT, VTODO), time zone.",
  input: z.object({}),
  output: z.object({
    calendars: z
      .array(calendarListed)
      .describe("Each: name, displayName, color, ctag, components, timeZone (IANA or null)."),
  }),
  handler: async (_args, ctx) => ({ calendars: await calendarsOf(await caldav(ctx)) }),
});

/** One occurrence as listed; tools/list shows the fields that chain calls, the docs all of them. */
const occurrenceOut = z.looseObject({ id: z.string(), etag: z.string() });

/** The occurrences of events in [from, to) in the given calendars, sorted by start. */
async function occurrencesIn(
  client: CalDavClient,
  calendars: readonly CalendarInfo[],
  range: { from: number; to: number },
  zone: string,
  query: string | undefined,
  log: ToolLogger,
): Promise<{ list: (Occurrence & { object: StoredObject; calendar: string })[]; truncated: boolean }> {
  const perCalendar = await mapLimited(calendars, PARALLEL_CALENDARS, async (c) => ({
    calendar: c.name,
    objects: await explained(client.query(c.name, "VEVENT", range), {
      not_found: `Calendar "${c.name}" is gone; call calendar_list_calendars.`,
    }),
  }));
  const list: (Occurrence & { object: StoredObject; calendar: string })[] = [];
  let truncated = false;
  for (const { calendar, objects } of perCalendar) {
    for (const object of objects) {
      const expansion = readable(log, { calendar, name: object.name }, () => {
        if (query !== undefined && query.trim() !== "") {
          const parsed = parseCalendarObject(object.data, { zone });
          if (![parsed.master, ...parsed.overrides].some((p) => matchesText(p, query))) return undefined;
        }
        return expandOccurrences(object.data, { ...range, zone, display: "user" });
      });
      if (expansion === undefined) continue;
      truncated ||= expansion.truncated;
      for (const o of expansion.occurrences) list.push({ ...o, object, calendar });
    }
  }
  // All-day dates start at midnight in the user's zone.
  const at = (o: Occurrence) => instantInput(o.start.value, "start", zone);
  list.sort((a, b) => at(a) - at(b) || (a.summary ?? "").localeCompare(b.summary ?? ""));
  return { list, truncated };
}

/** Lists event occurrences in a time range, optionally only those matching words. */
export const calendarEvents = tool.read({
  name: "calendar_events",
  title: "List, search or read events",
  description:
    "Events in a range, recurring ones expanded, by start, in timeZone; default the next 14 days (365 with query). With id: one event in full (attendees, rrule, alarms, changed instances). Pass id and etag to calendar_save_event or calendar_delete.",
  input: z.object({
    id: z.string().optional().describe("Read one event."),
    from: z.string().optional().describe('"2026-10-20" or "2026-10-20T08:00"; default now.'),
    to: z.string().optional().describe("Exclusive; ≤ 366 days after from."),
    query: z.string().optional().describe("Words that must all occur."),
    calendars: calendarsInput,
    timeZone: timeZoneInput,
    ...pageInput("events", 50, 200),
  }),
  output: z.object({
    timeZone: z.string().describe("The zone the times are shown in."),
    events: z
      .array(occurrenceOut)
      .describe(
        "Each: id, etag, calendar, uid, recurrenceId (null unless recurring), summary, location, start, end, allDay, status, recurring. With id: the one event in full (organizer, attendees, rrule, rdates, exdates, alarms, changedInstances, …).",
      ),
    truncated: z.boolean().describe("A series had more occurrences than one listing expands."),
    ...pageOutput,
  }),
  handler: async (args, ctx) => {
    const client = await caldav(ctx);
    if (args.id !== undefined) {
      if (
        args.from !== undefined ||
        args.to !== undefined ||
        args.query !== undefined ||
        args.calendars !== undefined
      ) {
        throw badArguments("id reads one event; leave out from, to, query and calendars.");
      }
      return oneEvent(client, args.id, args.timeZone);
    }
    const all = await calendarsOf(client);
    const zone = userZone(args.timeZone, all);
    const calendars = calendarsFor(all, "VEVENT", args.calendars);
    const searching = args.query !== undefined && args.query.trim() !== "";
    const range = rangeInput(args.from, args.to, zone, searching ? 365 : 14);
    const { list, truncated } = await occurrencesIn(client, calendars, range, zone, args.query, ctx.log);
    const page = pageOf(list, args.offset, args.limit);
    return {
      timeZone: zone,
      events: page.items.map((o) => ({
        id: objectId(o.calendar, o.object.name),
        etag: o.object.etag,
        calendar: o.calendar,
        uid: o.uid,
        recurrenceId: o.recurring ? o.recurrenceId : null,
        summary: o.summary,
        location: o.location,
        start: o.start.value,
        end: o.end.value,
        allDay: o.start.allDay,
        status: o.status,
        recurring: o.recurring,
      })),
      truncated,
      offset: page.offset,
      total: page.total,
      nextOffset: page.nextOffset,
    };
  },
});

/** One event in full, as the single row of a calendar_events answer. */
async function oneEvent(client: CalDavClient, id: string, timeZone: string | undefined) {
  const [calendar, name] = splitId(id);
  const all = await calendarsOf(client);
  const zone = userZone(
    timeZone,
    all.filter((c) => c.name === calendar),
  );
  const object = await onObject(client.get(calendar, name, `event "${id}"`), id, "calendar_events");
  const parsed = parseCalendarObject(object.data, { zone });
  if (parsed.kind !== "event") throw badArguments(`"${id}" is a task, not an event; use calendar_tasks.`);
  const event = { id, etag: object.etag, calendar, ...parsed.master, changedInstances: parsed.overrides };
  return { timeZone: zone, events: [event], truncated: false, offset: 0, total: 1, nextOffset: null };
}

/** Finds busy and free time across the user's calendars. */
export const calendarFreeTime = tool.read({
  name: "calendar_free_time",
  title: "Find free time",
  description:
    "Busy time across calendars (transparent and cancelled events ignored) and free slots of at least minMinutes in working hours, as ISO 8601 start/end intervals.",
  input: z.object({
    from: z.string().optional().describe("Default now."),
    to: z.string().optional().describe("Default from + 7 days."),
    timeZone: timeZoneInput,
    minMinutes: z.number().int().min(5).max(1440).default(30).describe("Shortest slot."),
    hours: z.string().default("09:00-17:00").describe('"00:00-24:00": whole days.'),
    days: z.array(z.number().int().min(1).max(7)).default([1, 2, 3, 4, 5]).describe("1 = Monday."),
  }),
  output: z.object({
    timeZone: z.string().describe("The zone the times are shown in."),
    busy: z.array(z.string()).describe('Merged busy intervals, "start/end".'),
    free: z.array(z.string()).describe('Free slots of at least minMinutes, "start/end".'),
  }),
  handler: async (args, ctx) => {
    const client = await caldav(ctx);
    const all = await calendarsOf(client);
    const zone = userZone(args.timeZone, all);
    const range = rangeInput(args.from, args.to, zone, 7);
    const calendars = calendarsFor(all, "VEVENT", undefined);
    const { list } = await occurrencesIn(client, calendars, range, zone, undefined, ctx.log);
    const result = freeBusy(list, {
      ...range,
      zone,
      minMinutes: args.minMinutes,
      workingHours: workingHours(args.hours, args.days),
    });
    const iso = (i: Interval) => `${i.start}/${i.end}`;
    return { timeZone: zone, busy: result.busy.map(iso), free: result.free.map(iso) };
  },
});

/** "09:00-17:00" and ISO weekdays as the working hours freeBusy takes. */
function workingHours(hours: string, days: number[]): WorkingHours {
  const m = /^\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$/.exec(hours);
  if (!m?.[1] || !m[2]) throw badArguments(`hours "${hours}" must look like "09:00-17:00".`);
  return { start: m[1], end: m[2], days };
}
