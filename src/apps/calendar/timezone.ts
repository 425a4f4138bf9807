// Time zones for iCalendar: IANA VTIMEZONE definitions from timezones-ical-library, registered in
// ical.js's zone service on first use, and ISO 8601 formatting of ical.js times with their offset.
import { GatewayError } from "../../errors.ts";
import { ICAL, timezoneLibrary } from "./ical-lib.ts";

/** An ical.js component (VCALENDAR, VEVENT, VTIMEZONE, VCARD…). */
export type IcalComponent = InstanceType<typeof ICAL.Component>;
/** An ical.js time value, with its zone. */
export type IcalTime = InstanceType<typeof ICAL.Time>;
/** An ical.js time zone. */
export type IcalTimezone = InstanceType<typeof ICAL.Timezone>;

const vtimezones = new Map<string, IcalComponent | null>();
let known: Set<string> | undefined;

function isLibraryZone(tzid: string): boolean {
  if (!known) {
    const names = timezoneLibrary().tzlib_get_timezones();
    known = new Set(Array.isArray(names) ? names : []);
  }
  return known.has(tzid);
}

/** The library's VTIMEZONE component for an IANA zone name, or null when the name is unknown. */
export function libraryVtimezone(tzid: string): IcalComponent | null {
  const cached = vtimezones.get(tzid);
  if (cached !== undefined) return cached;
  // Asking the library about an unknown name makes it print to the console, so check first.
  const block = isLibraryZone(tzid) ? timezoneLibrary().tzlib_get_ical_block(tzid) : null;
  let component: IcalComponent | null = null;
  if (Array.isArray(block) && typeof block[0] === "string") {
    const root = new ICAL.Component(
      ICAL.parse(`BEGIN:VCALENDAR\r\n${block[0]}\r\nEND:VCALENDAR`) as unknown[],
    );
    component = root.getFirstSubcomponent("vtimezone");
  }
  vtimezones.set(tzid, component);
  return component;
}

/**
 * The IANA name a TZID stands for: the name itself, or the IANA tail of a vendor-prefixed TZID such
 * as "/citadel.org/20190914_1/Europe/Berlin"; null when no known zone matches.
 */
export function ianaName(tzid: string): string | null {
  if (tzid === "UTC" || tzid === "Etc/UTC" || tzid === "GMT") return "UTC";
  if (libraryVtimezone(tzid)) return tzid;
  const parts = tzid.split("/").filter((p) => p !== "");
  for (let take = Math.min(3, parts.length - 1); take >= 1; take--) {
    const tail = parts.slice(-take).join("/");
    if (libraryVtimezone(tail)) return tail;
  }
  return null;
}

/** The ical.js zone for a TZID from the library data (registered globally once), or null. */
export function libraryZone(tzid: string): IcalTimezone | null {
  if (tzid === "UTC" || tzid === "Etc/UTC" || tzid === "GMT" || tzid === "Z") {
    return ICAL.Timezone.utcTimezone;
  }
  if (ICAL.TimezoneService.has(tzid)) return ICAL.TimezoneService.get(tzid);
  const name = ianaName(tzid);
  const component = name === null ? null : libraryVtimezone(name);
  if (!component) return null;
  const zone = new ICAL.Timezone({ component, tzid });
  // Registering library data (identical for every user) is safe; an object's own VTIMEZONE is
  // looked up inside its component tree first and never enters this global service.
  ICAL.TimezoneService.register(zone, tzid);
  return zone;
}

/** The ical.js zone for a caller-given IANA name; throws a clear error for an unknown name. */
export function requireZone(tzid: string, field = "timeZone"): IcalTimezone {
  const zone = libraryZone(tzid);
  if (!zone) {
    throw new GatewayError(
      "invalid_request",
      `${field} "${tzid}" is not a known IANA time zone; use a name such as "Europe/Berlin" or "America/New_York".`,
    );
  }
  return zone;
}

/**
 * Registers library zones for every TZID the object uses but does not define, so that ical.js
 * resolves them instead of treating the times as floating.
 */
export function ensureZonesFor(root: IcalComponent): void {
  const defined = new Set(
    root.getAllSubcomponents("vtimezone").map((z) => String(z.getFirstPropertyValue("tzid"))),
  );
  for (const component of root.getAllSubcomponents()) {
    for (const prop of component.getAllProperties()) {
      const tzid = prop.getParameter("tzid");
      if (typeof tzid === "string" && !defined.has(tzid)) libraryZone(tzid);
    }
  }
}

/** Whether an ical.js time is floating (no zone, no UTC). */
export function isFloating(time: IcalTime): boolean {
  return !time.isDate && time.zone.tzid === "floating";
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, "0");
}

/** Formats a UTC offset in seconds as "+02:00" or "-04:00". */
export function formatOffset(seconds: number): string {
  const sign = seconds < 0 ? "-" : "+";
  const minutes = Math.round(Math.abs(seconds) / 60);
  return `${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** "2026-10-20" for a date value. */
export function formatDate(time: IcalTime): string {
  return `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
}

/**
 * ISO 8601 with the offset valid at that instant in the time's zone: "2026-10-20T10:00:00+02:00";
 * a floating time is read in `floatingZone`, a date stays "2026-10-20".
 */
export function formatTime(time: IcalTime, floatingZone: IcalTimezone): string {
  if (time.isDate) return formatDate(time);
  let t = time;
  if (isFloating(time)) {
    t = time.clone();
    t.zone = floatingZone;
  }
  const offset = t.zone === ICAL.Timezone.utcTimezone ? "Z" : formatOffset(t.utcOffset());
  return `${formatDate(t)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${offset}`;
}

/** The instant of a time in epoch milliseconds; floating times and dates are read in `floatingZone`. */
export function instantOf(time: IcalTime, floatingZone: IcalTimezone): number {
  if (time.isDate || isFloating(time)) {
    const t = ICAL.Time.fromData(
      {
        year: time.year,
        month: time.month,
        day: time.day,
        hour: time.isDate ? 0 : time.hour,
        minute: time.isDate ? 0 : time.minute,
        second: time.isDate ? 0 : time.second,
      },
      floatingZone,
    );
    return t.toUnixTime() * 1000;
  }
  return time.toUnixTime() * 1000;
}

/** The wall-clock time of an instant in a zone, as an ical.js time in that zone. */
export function timeInZone(epochMs: number, zone: IcalTimezone): IcalTime {
  const utc = ICAL.Time.fromData(
    { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0 },
    ICAL.Timezone.utcTimezone,
  );
  utc.fromUnixTime(Math.floor(epochMs / 1000));
  return utc.convertToZone(zone);
}
