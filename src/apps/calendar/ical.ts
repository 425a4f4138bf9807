// Reading calendar object resources (RFC 5545): one VCALENDAR with a VEVENT or VTODO series, its
// overridden instances and VTIMEZONEs, into the typed shapes of schema.ts. Parsing is ical.js's.
import { ICAL } from "./ical-lib.ts";
import { GatewayError } from "../../errors.ts";
import type {
  Alarm,
  Attendee,
  CalendarEvent,
  CalendarObject,
  CalendarTask,
  EventTime,
  Organizer,
} from "./schema.ts";
import {
  ensureZonesFor,
  formatTime,
  isFloating,
  requireZone,
  type IcalComponent,
  type IcalTime,
  type IcalTimezone,
} from "./timezone.ts";

type IcalProperty = InstanceType<typeof ICAL.Property>;

/** Parses iCalendar text into its VCALENDAR component, with library zones for undefined TZIDs. */
export function readCalendar(text: string): IcalComponent {
  let root: IcalComponent;
  try {
    root = new ICAL.Component(ICAL.parse(text) as unknown[]);
  } catch (err) {
    throw new GatewayError("invalid_request", "The calendar object is not valid iCalendar data.", {
      detail: err instanceof Error ? err.message : String(err),
      cause: err,
    });
  }
  if (root.name !== "vcalendar") {
    throw new GatewayError(
      "invalid_request",
      `The calendar object must start with BEGIN:VCALENDAR, not BEGIN:${root.name.toUpperCase()}.`,
    );
  }
  ensureZonesFor(root);
  return root;
}

/** The VEVENT or VTODO components of a calendar, the series master first. */
export function seriesComponents(root: IcalComponent): {
  kind: "event" | "task";
  master: IcalComponent | null;
  overrides: IcalComponent[];
} {
  const events = root.getAllSubcomponents("vevent");
  const kind = events.length > 0 ? "event" : "task";
  const all = kind === "event" ? events : root.getAllSubcomponents("vtodo");
  if (all.length === 0) {
    throw new GatewayError("invalid_request", "The calendar object holds no VEVENT or VTODO.");
  }
  const master = all.find((c) => !c.hasProperty("recurrence-id")) ?? null;
  return { kind, master, overrides: all.filter((c) => c.hasProperty("recurrence-id")) };
}

/** A text property's first value, or null. */
export function textOf(component: IcalComponent, name: string): string | null {
  const value = component.getFirstPropertyValue(name);
  if (value === null) return null;
  const text = String(value as string | number);
  return text === "" ? null : text;
}

function timeOf(component: IcalComponent, name: string): IcalTime | null {
  const value = component.getFirstPropertyValue(name);
  return value instanceof ICAL.Time ? value : null;
}

/** The user-facing shape of an ical.js time taken from a property with an optional TZID. */
export function eventTime(time: IcalTime, zone: IcalTimezone, display?: IcalTimezone): EventTime {
  const floating = isFloating(time);
  const utc = !time.isDate && time.zone === ICAL.Timezone.utcTimezone;
  const shown = display && !time.isDate && !floating ? time.convertToZone(display) : time;
  return {
    value: formatTime(shown, zone),
    allDay: time.isDate,
    floating,
    timeZone: time.isDate || floating ? null : utc ? "UTC" : time.zone.tzid,
  };
}

function stripMailto(value: string): string {
  return value.replace(/^mailto:/i, "");
}

function param(prop: IcalProperty, name: string): string | null {
  const value = prop.getParameter(name);
  if (Array.isArray(value)) return value.join(",");
  return typeof value === "string" && value !== "" ? value : null;
}

function readAttendee(prop: IcalProperty): Attendee {
  return {
    email: stripMailto(String(prop.getFirstValue())),
    name: param(prop, "cn"),
    role: param(prop, "role"),
    partstat: param(prop, "partstat"),
    rsvp: param(prop, "rsvp")?.toUpperCase() === "TRUE",
  };
}

function readOrganizer(component: IcalComponent): Organizer | null {
  const prop = component.getFirstProperty("organizer");
  if (!prop) return null;
  return { email: stripMailto(String(prop.getFirstValue())), name: param(prop, "cn") };
}

function readAlarm(alarm: IcalComponent, zone: IcalTimezone): Alarm {
  const trigger = alarm.getFirstProperty("trigger");
  const value: unknown = trigger?.getFirstValue();
  return {
    action: textOf(alarm, "action") ?? "DISPLAY",
    trigger:
      value instanceof ICAL.Time
        ? formatTime(value, zone)
        : value instanceof ICAL.Duration
          ? value.toString()
          : "",
    relatedTo: trigger && param(trigger, "related")?.toUpperCase() === "END" ? "end" : "start",
    description: textOf(alarm, "description"),
  };
}

function listValues(component: IcalComponent, name: string): unknown[] {
  return component.getAllProperties(name).flatMap((p) => p.getValues() as unknown[]);
}

function dateValues(component: IcalComponent, name: string, zone: IcalTimezone): string[] {
  return listValues(component, name).flatMap((v) =>
    v instanceof ICAL.Time
      ? [formatTime(v, zone)]
      : v instanceof ICAL.Period
        ? [formatTime(v.start, zone)]
        : [],
  );
}

function utcText(component: IcalComponent, name: string, zone: IcalTimezone): string | null {
  const time = timeOf(component, name);
  return time ? formatTime(time, zone) : null;
}

function commonFields(c: IcalComponent, zone: IcalTimezone) {
  const rrule: unknown = c.getFirstPropertyValue("rrule");
  const recurrenceId = timeOf(c, "recurrence-id");
  const sequence = Number(c.getFirstPropertyValue("sequence") ?? 0);
  return {
    uid: textOf(c, "uid") ?? "",
    summary: textOf(c, "summary"),
    description: textOf(c, "description"),
    location: textOf(c, "location"),
    url: textOf(c, "url"),
    status: textOf(c, "status")?.toUpperCase() ?? null,
    class: textOf(c, "class")?.toUpperCase() ?? null,
    categories: listValues(c, "categories").filter((v) => typeof v === "string"),
    organizer: readOrganizer(c),
    attendees: c.getAllProperties("attendee").map(readAttendee),
    rrule: rrule instanceof ICAL.Recur ? rrule.toString() : null,
    rdates: dateValues(c, "rdate", zone),
    exdates: dateValues(c, "exdate", zone),
    recurrenceId: recurrenceId ? eventTime(recurrenceId, zone) : null,
    alarms: c.getAllSubcomponents("valarm").map((a) => readAlarm(a, zone)),
    created: utcText(c, "created", zone),
    lastModified: utcText(c, "last-modified", zone),
    sequence: Number.isFinite(sequence) ? sequence : 0,
  };
}

/** Reads one VEVENT; floating times and dates get their offset from `zone`. */
export function readEvent(component: IcalComponent, zone: IcalTimezone): CalendarEvent {
  const event = new ICAL.Event(component);
  if (!component.hasProperty("dtstart")) {
    throw new GatewayError("invalid_request", "The event has no DTSTART, so it has no time.");
  }
  const transp = textOf(component, "transp")?.toUpperCase();
  return {
    ...commonFields(component, zone),
    start: eventTime(event.startDate, zone),
    end: eventTime(event.endDate, zone),
    duration: event.duration.toString(),
    transparency: transp === "TRANSPARENT" ? "TRANSPARENT" : "OPAQUE",
  };
}

/** Reads one VTODO; floating times and dates get their offset from `zone`. */
export function readTask(component: IcalComponent, zone: IcalTimezone): CalendarTask {
  const start = timeOf(component, "dtstart");
  const due = timeOf(component, "due");
  const percent = component.getFirstPropertyValue("percent-complete");
  const priority = component.getFirstPropertyValue("priority");
  return {
    ...commonFields(component, zone),
    start: start ? eventTime(start, zone) : null,
    due: due ? eventTime(due, zone) : null,
    completed: utcText(component, "completed", zone),
    percentComplete: percent === null ? null : Number(percent),
    priority: priority === null ? null : Number(priority),
  };
}

/**
 * Parses a calendar object resource into its series master and overridden instances; `zone` (an
 * IANA name, the user's) gives floating times and all-day dates their offset.
 */
export function parseCalendarObject(text: string, options: { zone: string }): CalendarObject {
  const zone = requireZone(options.zone, "zone");
  const root = readCalendar(text);
  const { kind, master, overrides } = seriesComponents(root);
  const first = master ?? overrides[0];
  if (!first) throw new GatewayError("invalid_request", "The calendar object holds no component.");
  if (kind === "event") {
    return {
      kind,
      uid: textOf(first, "uid") ?? "",
      master: readEvent(first, zone),
      overrides: overrides.filter((c) => c !== first).map((c) => readEvent(c, zone)),
    };
  }
  return {
    kind,
    uid: textOf(first, "uid") ?? "",
    master: readTask(first, zone),
    overrides: overrides.filter((c) => c !== first).map((c) => readTask(c, zone)),
  };
}
