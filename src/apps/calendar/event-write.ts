// Creating a VEVENT and changing selected fields of an existing one, keeping every property,
// component and overridden instance the change does not touch (RFC 5545, RFC 4791 §4.1).
import { randomUUID } from "node:crypto";
import { ICAL } from "./ical-lib.ts";
import { GatewayError } from "../../errors.ts";
import {
  PRODID,
  alignUntil,
  includeVtimezone,
  serialize,
  setAlarms,
  setAttendees,
  setCategories,
  setOrganizer,
  setText,
  setTime,
  touch,
} from "./fields.ts";
import { readCalendar, seriesComponents } from "./ical.ts";
import type { EventPatch, NewEvent } from "./schema.ts";
import { isDateText, parseDurationInput, parseRuleInput, parseTimeInput } from "./time-input.ts";
import { requireZone, type IcalComponent, type IcalTime, type IcalTimezone } from "./timezone.ts";

/** Options for writing: the clock, and a UID when the caller has chosen one. */
export interface WriteOptions {
  now?: Date;
  uid?: string;
}

function zoneOf(name: string | null | undefined): IcalTimezone | null {
  return name ? requireZone(name) : null;
}

function checkOrder(start: IcalTime, end: IcalTime): void {
  if (end.compare(start) <= 0) {
    throw new GatewayError(
      "invalid_request",
      "end must be after start (end is exclusive: an all-day event on one day ends on the next day).",
    );
  }
}

type IcalDuration = InstanceType<typeof ICAL.Duration>;

interface Times {
  start: IcalTime;
  end: IcalTime | null;
  duration: IcalDuration | null;
}

function readStart(text: string, allDay: boolean, zone: IcalTimezone | null): IcalTime {
  if (allDay && !isDateText(text)) {
    throw new GatewayError(
      "invalid_request",
      `start "${text}" must be a date like "2026-10-20" for an all-day event.`,
    );
  }
  if (!allDay && isDateText(text)) {
    throw new GatewayError(
      "invalid_request",
      `start "${text}" needs a time of day, e.g. "${text}T09:00", unless allDay is true.`,
    );
  }
  return parseTimeInput(text, "start", allDay ? null : zone);
}

function readEnd(
  start: IcalTime,
  end: string | null | undefined,
  duration: string | IcalDuration | null | undefined,
  zone: IcalTimezone | null,
): Times {
  if (end) {
    const e = parseTimeInput(end, "end", start.isDate ? null : zone);
    if (e.isDate !== start.isDate) {
      throw new GatewayError(
        "invalid_request",
        "start and end must both be dates (all-day) or both be times.",
      );
    }
    checkOrder(start, e);
    return { start, end: e, duration: null };
  }
  const d = typeof duration === "string" ? parseDurationInput(duration, "duration") : (duration ?? null);
  return { start, end: null, duration: d };
}

function applyTimes(component: IcalComponent, t: Times): void {
  setTime(component, "dtstart", t.start);
  component.removeAllProperties("duration");
  component.removeAllProperties("dtend");
  if (t.duration) component.addPropertyWithValue("duration", t.duration);
  else if (t.end) setTime(component, "dtend", t.end);
  else if (t.start.isDate) {
    const next = t.start.clone();
    next.day += 1;
    setTime(component, "dtend", next);
  } else component.addPropertyWithValue("duration", ICAL.Duration.fromSeconds(3600));
}

function applyRule(component: IcalComponent, rrule: string | null | undefined): void {
  if (rrule === undefined) return;
  component.removeAllProperties("rrule");
  if (rrule === null || rrule === "") return;
  const rule = parseRuleInput(rrule);
  const start = component.getFirstPropertyValue("dtstart");
  if (start instanceof ICAL.Time) alignUntil(rule, start);
  component.addPropertyWithValue("rrule", rule);
}

function applyFields(component: IcalComponent, fields: EventPatch | NewEvent): void {
  setText(component, "summary", fields.summary);
  setText(component, "description", fields.description);
  setText(component, "location", fields.location);
  setText(component, "url", fields.url);
  setText(component, "status", fields.status);
  setText(component, "transp", fields.transparency);
  setText(component, "class", fields.class);
  setCategories(component, fields.categories);
  setOrganizer(component, fields.organizer);
  setAttendees(component, fields.attendees);
  const summary = component.getFirstPropertyValue("summary");
  setAlarms(component, fields.alarms, typeof summary === "string" ? summary : "Reminder");
  applyRule(component, fields.rrule);
}

/** A new calendar object resource with one VEVENT, a new UID, and the VTIMEZONE of its zone. */
export function createEvent(input: NewEvent, options: WriteOptions = {}): { uid: string; ics: string } {
  const now = options.now ?? new Date();
  const uid = options.uid ?? randomUUID();
  const root = new ICAL.Component("vcalendar");
  root.addPropertyWithValue("version", "2.0");
  root.addPropertyWithValue("prodid", PRODID);
  root.addPropertyWithValue("calscale", "GREGORIAN");
  const event = new ICAL.Component("vevent", root);
  event.addPropertyWithValue("uid", uid);
  setTime(event, "created", ICAL.Time.fromJSDate(now, true));
  touch(event, now, false);
  event.addPropertyWithValue("sequence", 0);
  const zone = zoneOf(input.timeZone);
  const start = readStart(input.start, input.allDay ?? isDateText(input.start), zone);
  applyTimes(event, readEnd(start, input.end, input.duration, zone));
  applyFields(event, input);
  root.addSubcomponent(event);
  includeVtimezone(root, input.timeZone ?? null);
  return { uid, ics: serialize(root) };
}

/** The override for one instance, made from the master when the instance has none yet. */
function instanceComponent(root: IcalComponent, master: IcalComponent, recurrenceId: string): IcalComponent {
  const start = master.getFirstPropertyValue("dtstart");
  if (!(start instanceof ICAL.Time)) throw new GatewayError("invalid_request", "The event has no DTSTART.");
  const zone = start.isDate || start.zone.tzid === "floating" ? null : start.zone;
  const rid = parseTimeInput(recurrenceId, "recurrenceId", zone);
  const { overrides } = seriesComponents(root);
  const existing = overrides.find((o) => {
    const v = o.getFirstPropertyValue("recurrence-id");
    return v instanceof ICAL.Time && v.compare(rid) === 0;
  });
  if (existing) return existing;
  const occurs = new ICAL.Event(master).iterator();
  for (
    let next = occurs.next() as IcalTime | undefined, i = 0;
    next && i < 100_000;
    next = occurs.next(), i++
  ) {
    const cmp = next.compare(rid);
    if (cmp > 0) break;
    if (cmp === 0) {
      const copy = new ICAL.Component(structuredClone(master.toJSON() as unknown[]));
      for (const name of ["rrule", "rdate", "exdate"]) copy.removeAllProperties(name);
      const length = new ICAL.Event(master).duration;
      setTime(copy, "recurrence-id", next);
      const end = next.clone();
      end.addDuration(length);
      setTime(copy, "dtstart", next);
      copy.removeAllProperties("duration");
      setTime(copy, "dtend", end);
      root.addSubcomponent(copy);
      return copy;
    }
  }
  throw new GatewayError(
    "invalid_request",
    `The event has no occurrence at recurrenceId "${recurrenceId}"; take the recurrenceId from the listed occurrences.`,
  );
}

/**
 * Changes the given fields of the event in `ics` (of one instance when `recurrenceId` is given),
 * keeps everything else as it was, and bumps SEQUENCE and LAST-MODIFIED.
 */
export function updateEvent(
  ics: string,
  patch: EventPatch,
  options: { now?: Date; recurrenceId?: string } = {},
): string {
  const now = options.now ?? new Date();
  const root = readCalendar(ics);
  const { kind, master, overrides } = seriesComponents(root);
  if (kind !== "event")
    throw new GatewayError("invalid_request", "This calendar object is a task, not an event.");
  const base = master ?? overrides[0];
  if (!base) throw new GatewayError("invalid_request", "The calendar object holds no event.");
  const target =
    options.recurrenceId && master ? instanceComponent(root, master, options.recurrenceId) : base;
  if (target !== master && patch.rrule !== undefined) {
    throw new GatewayError(
      "invalid_request",
      "rrule can only be changed on the whole series, not on one instance.",
    );
  }
  const old = new ICAL.Event(target);
  const timesChange =
    patch.start !== undefined ||
    patch.end !== undefined ||
    patch.duration !== undefined ||
    patch.allDay !== undefined ||
    patch.timeZone !== undefined;
  if (timesChange) {
    const oldStart = old.startDate;
    const oldZone = oldStart.isDate || oldStart.zone.tzid === "floating" ? null : oldStart.zone;
    const zone = patch.timeZone === undefined ? oldZone : zoneOf(patch.timeZone);
    const allDay = patch.allDay ?? (patch.start ? isDateText(patch.start) : oldStart.isDate);
    let start: IcalTime;
    if (patch.start) start = readStart(patch.start, allDay, zone);
    else if (allDay !== oldStart.isDate) {
      throw new GatewayError(
        "invalid_request",
        "Give start as well when switching an event between all-day and timed.",
      );
    } else {
      // A new zone alone keeps the wall-clock time: "10:00" stays 10:00, now in the new zone.
      start = oldStart.clone();
      if (!allDay) start.zone = zone ?? ICAL.Timezone.localTimezone;
    }
    const keepLength = !patch.end && !patch.duration && allDay === oldStart.isDate;
    applyTimes(target, readEnd(start, patch.end, keepLength ? old.duration : patch.duration, zone));
    includeVtimezone(root, zone?.tzid ?? null);
  }
  applyFields(target, patch);
  touch(target, now, true);
  return serialize(root);
}
