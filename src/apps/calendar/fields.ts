// Writing properties of a VEVENT or VTODO: text, times with their TZID, people, reminders, rules, and
// the bookkeeping (UID, DTSTAMP, SEQUENCE, LAST-MODIFIED) that CalDAV clients rely on.
import { ICAL } from "./ical-lib.ts";
import { libraryVtimezone, type IcalComponent, type IcalTime } from "./timezone.ts";

type IcalRecur = InstanceType<typeof ICAL.Recur>;

/** The PRODID of calendar objects the gateway creates. */
export const PRODID = "-//nextcloud-mcp-gateway//calendar//EN";

/** Sets a text property, or removes it when `value` is null or empty. */
export function setText(component: IcalComponent, name: string, value: string | null | undefined): void {
  if (value === undefined) return;
  component.removeAllProperties(name);
  if (value !== null && value !== "") component.addPropertyWithValue(name, value);
}

/** Sets a time property with its TZID (none for dates, UTC and floating), or removes it for null. */
export function setTime(component: IcalComponent, name: string, time: IcalTime | null): void {
  component.removeAllProperties(name);
  if (!time) return;
  const prop = new ICAL.Property(name, component);
  if (!time.isDate && time.zone !== ICAL.Timezone.utcTimezone && time.zone.tzid !== "floating") {
    prop.setParameter("tzid", time.zone.tzid);
  }
  prop.setValue(time);
  component.addProperty(prop);
}

/** The current time in UTC as an ical.js time, for DTSTAMP, LAST-MODIFIED and COMPLETED. */
export function utcNow(now: Date): IcalTime {
  return ICAL.Time.fromJSDate(new Date(Math.floor(now.getTime() / 1000) * 1000), true);
}

/** Sets DTSTAMP and LAST-MODIFIED to now and, for a change, bumps SEQUENCE by one. */
export function touch(component: IcalComponent, now: Date, bump: boolean): void {
  setTime(component, "dtstamp", utcNow(now));
  setTime(component, "last-modified", utcNow(now));
  if (bump) {
    const current = Number(component.getFirstPropertyValue("sequence") ?? 0);
    component.updatePropertyWithValue("sequence", (Number.isFinite(current) ? current : 0) + 1);
  }
}

/** Replaces the CATEGORIES with one property holding `values` (none for null or empty). */
export function setCategories(component: IcalComponent, values: string[] | null | undefined): void {
  if (values === undefined) return;
  component.removeAllProperties("categories");
  if (!values || values.length === 0) return;
  const prop = new ICAL.Property("categories", component);
  prop.setValues(values);
  component.addProperty(prop);
}

/** Replaces the ORGANIZER. */
export function setOrganizer(
  component: IcalComponent,
  organizer: { email: string; name?: string | undefined } | null | undefined,
): void {
  if (organizer === undefined) return;
  component.removeAllProperties("organizer");
  if (!organizer) return;
  const prop = component.addPropertyWithValue("organizer", `mailto:${organizer.email}`);
  if (organizer.name) prop.setParameter("cn", organizer.name);
}

/** An attendee as callers give it. */
export interface AttendeeInput {
  email: string;
  name?: string | undefined;
  role?: string | undefined;
  rsvp?: boolean | undefined;
}

/**
 * Replaces the attendee list; people already invited keep their answer (PARTSTAT) and any other
 * parameters, new ones are NEEDS-ACTION.
 */
export function setAttendees(component: IcalComponent, attendees: AttendeeInput[] | null | undefined): void {
  if (attendees === undefined) return;
  const before = new Map(
    component.getAllProperties("attendee").map(
      (p) =>
        [
          String(p.getFirstValue())
            .replace(/^mailto:/i, "")
            .toLowerCase(),
          p,
        ] as const,
    ),
  );
  component.removeAllProperties("attendee");
  for (const a of attendees ?? []) {
    const prop = before.get(a.email.toLowerCase()) ?? new ICAL.Property("attendee", component);
    if (!before.has(a.email.toLowerCase())) {
      prop.setValue(`mailto:${a.email}`);
      prop.setParameter("cutype", "INDIVIDUAL");
      prop.setParameter("partstat", "NEEDS-ACTION");
    }
    if (a.name) prop.setParameter("cn", a.name);
    prop.setParameter(
      "role",
      a.role ?? (prop.getParameter("role") as string | undefined) ?? "REQ-PARTICIPANT",
    );
    if (a.rsvp !== undefined) prop.setParameter("rsvp", a.rsvp ? "TRUE" : "FALSE");
    else if (!prop.getParameter("rsvp")) prop.setParameter("rsvp", "TRUE");
    component.addProperty(prop);
  }
}

/** Replaces the reminders with DISPLAY alarms `minutesBefore` the start. */
export function setAlarms(
  component: IcalComponent,
  alarms: { minutesBefore: number; description?: string | undefined }[] | null | undefined,
  fallbackText: string,
): void {
  if (alarms === undefined) return;
  for (const old of component.getAllSubcomponents("valarm")) component.removeSubcomponent(old);
  for (const a of alarms ?? []) {
    const alarm = new ICAL.Component("valarm", component);
    alarm.addPropertyWithValue("action", "DISPLAY");
    alarm.addPropertyWithValue("description", a.description ?? fallbackText);
    const trigger = ICAL.Duration.fromSeconds(-60 * a.minutesBefore);
    alarm.addPropertyWithValue("trigger", trigger).setParameter("related", "START");
    component.addSubcomponent(alarm);
  }
}

/**
 * Makes UNTIL match DTSTART as RFC 5545 §3.3.10 asks: UTC for a start with a zone (a local or date
 * UNTIL is read in the start's zone, a date as the end of that day), a date for an all-day start.
 */
export function alignUntil(rule: IcalRecur, start: IcalTime): void {
  const until = rule.until;
  if (!until) return;
  if (start.isDate) {
    if (!until.isDate)
      rule.until = ICAL.Time.fromData({ year: until.year, month: until.month, day: until.day });
    return;
  }
  if (start.zone.tzid === "floating") return;
  let local = until;
  if (until.isDate) {
    local = ICAL.Time.fromData(
      { year: until.year, month: until.month, day: until.day, hour: 23, minute: 59, second: 59 },
      start.zone,
    );
  } else if (until.zone.tzid === "floating") {
    local = until.clone();
    local.zone = start.zone;
  }
  rule.until = local.convertToZone(ICAL.Timezone.utcTimezone);
}

/** Adds the library's VTIMEZONE for `tzid` when the calendar uses it and does not define it yet. */
export function includeVtimezone(root: IcalComponent, tzid: string | null): void {
  if (!tzid || tzid === "UTC" || tzid === "floating") return;
  const defined = root.getAllSubcomponents("vtimezone").some((z) => z.getFirstPropertyValue("tzid") === tzid);
  if (defined) return;
  const source = libraryVtimezone(tzid);
  if (source) root.addSubcomponent(new ICAL.Component(structuredClone(source.toJSON() as unknown[])));
}

/** Serialises a calendar for a PUT: CRLF line ends, folded lines, a final line break. */
export function serialize(root: IcalComponent): string {
  return `${root.toString()}\r\n`;
}
