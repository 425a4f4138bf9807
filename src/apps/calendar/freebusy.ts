// Free/busy across calendars: opaque, not cancelled occurrences merged into busy intervals, and free
// slots of a minimum length inside working hours in the user's zone (the arithmetic of RFC 5545 §3.6.4).
import { ICAL } from "./ical-lib.ts";
import { GatewayError } from "../../errors.ts";
import type { EventTime, FreeBusy, Interval, Occurrence } from "./schema.ts";
import { formatTime, requireZone, timeInZone, type IcalTimezone } from "./timezone.ts";

/** Working hours in the user's zone: "09:00" to "17:00" on ISO weekdays (1 Monday … 7 Sunday). */
export interface WorkingHours {
  start: string;
  end: string;
  days: number[];
}

/** The default working week: Monday to Friday, 09:00 to 17:00. */
export const DEFAULT_WORKING_HOURS: WorkingHours = { start: "09:00", end: "17:00", days: [1, 2, 3, 4, 5] };

/** What to compute free/busy over. */
export interface FreeBusyOptions {
  from: number | Date;
  to: number | Date;
  /** The user's IANA zone: working hours, all-day events and the output are in it. */
  zone: string;
  /** Shortest free slot worth returning, in minutes (default 30). */
  minMinutes?: number;
  /** Working hours; null means the whole range counts. */
  workingHours?: WorkingHours | null;
}

function clock(text: string, field: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || minutes > 24 * 60) {
    throw new GatewayError("invalid_request", `${field} "${text}" must be a time of day like "09:00".`);
  }
  return minutes;
}

/** The instant an event time stands for; an all-day date is midnight in `zone`. */
function instant(t: EventTime, zone: IcalTimezone): number {
  if (!t.allDay) return Date.parse(t.value);
  const [y, m, d] = t.value.split("-").map(Number) as [number, number, number];
  return (
    ICAL.Time.fromData({ year: y, month: m, day: d, hour: 0, minute: 0, second: 0 }, zone).toUnixTime() * 1000
  );
}

function wallClock(day: InstanceType<typeof ICAL.Time>, minutes: number, zone: IcalTimezone): number {
  const t = ICAL.Time.fromData(
    { year: day.year, month: day.month, day: day.day, hour: 0, minute: 0, second: 0 },
    zone,
  );
  t.adjust(0, 0, minutes, 0);
  return t.toUnixTime() * 1000;
}

/** Busy intervals [start, end) in epoch ms, clipped to the range, sorted and merged. */
export function busyIntervals(
  occurrences: Occurrence[],
  from: number,
  to: number,
  zone: IcalTimezone,
): [number, number][] {
  const spans = occurrences
    .filter((o) => o.transparency === "OPAQUE" && o.status !== "CANCELLED")
    .map(
      (o) => [Math.max(from, instant(o.start, zone)), Math.min(to, instant(o.end, zone))] as [number, number],
    )
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push([span[0], span[1]]);
  }
  return merged;
}

/**
 * Merged busy time from occurrences of several calendars (transparent and cancelled ones ignored)
 * and the free slots of at least `minMinutes` within working hours, all in the user's zone.
 */
export function freeBusy(occurrences: Occurrence[], options: FreeBusyOptions): FreeBusy {
  const zone = requireZone(options.zone, "zone");
  const from = Number(options.from);
  const to = Number(options.to);
  if (!(to > from)) throw new GatewayError("invalid_request", "to must be after from.");
  const minMs = (options.minMinutes ?? 30) * 60_000;
  const hours = options.workingHours === undefined ? DEFAULT_WORKING_HOURS : options.workingHours;
  const busy = busyIntervals(occurrences, from, to, zone);
  const windows: [number, number][] = [];
  if (!hours) windows.push([from, to]);
  else {
    const startMin = clock(hours.start, "workingHours.start");
    const endMin = clock(hours.end, "workingHours.end");
    if (endMin <= startMin)
      throw new GatewayError("invalid_request", "workingHours.end must be after workingHours.start.");
    const day = timeInZone(from, zone);
    day.isDate = true;
    for (let i = 0; i < 400; i++) {
      const s = wallClock(day, startMin, zone);
      if (s >= to) break;
      const weekday = ((day.dayOfWeek() + 5) % 7) + 1; // ical.js: 1 Sunday … 7 Saturday
      if (hours.days.includes(weekday))
        windows.push([Math.max(s, from), Math.min(wallClock(day, endMin, zone), to)]);
      day.day += 1;
    }
  }
  const free: [number, number][] = [];
  for (const [ws, we] of windows) {
    let cursor = ws;
    for (const [bs, be] of busy) {
      if (be <= cursor || bs >= we) continue;
      if (bs > cursor) free.push([cursor, bs]);
      cursor = Math.max(cursor, be);
    }
    if (we > cursor) free.push([cursor, we]);
  }
  const show = ([s, e]: [number, number]): Interval => ({
    start: formatTime(timeInZone(s, zone), zone),
    end: formatTime(timeInZone(e, zone), zone),
  });
  return { busy: busy.map(show), free: free.filter(([s, e]) => e - s >= minMs).map(show) };
}
