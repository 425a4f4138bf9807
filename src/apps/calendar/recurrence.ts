// Occurrences of an event in a time range: RRULE, RDATE and EXDATE expanded by ical.js, overridden
// instances (RECURRENCE-ID) in place of the generated ones, bounded by a maximum count.
import { ICAL } from "./ical-lib.ts";
import { eventTime, readCalendar, seriesComponents, textOf } from "./ical.ts";
import type { Expansion, Occurrence } from "./schema.ts";
import {
  formatTime,
  instantOf,
  isFloating,
  requireZone,
  type IcalComponent,
  type IcalTime,
  type IcalTimezone,
} from "./timezone.ts";

/** How many occurrences one expansion returns at most, unless the caller asks for fewer. */
export const DEFAULT_MAX_OCCURRENCES = 500;
/** How many recurrence steps one expansion walks at most (a daily rule from 1970 stays bounded). */
export const MAX_RECURRENCE_STEPS = 100_000;

/** Where and how to expand. */
export interface ExpandOptions {
  /** Start of the range (inclusive), epoch milliseconds or a Date. */
  from: number | Date;
  /** End of the range (exclusive). */
  to: number | Date;
  /** The user's IANA zone: floating times and all-day dates are read in it. */
  zone: string;
  /** Show times in the event's own zone (default) or converted to the user's zone. */
  display?: "event" | "user";
  /** At most this many occurrences; `truncated` says when more were there. */
  maxOccurrences?: number;
}

/** What ical.js's getOccurrenceDetails returns; its published type says `item` is always there. */
interface OccurrenceDetails {
  item?: { component: IcalComponent };
  startDate: IcalTime;
  endDate: IcalTime;
}

interface Context {
  from: number;
  to: number;
  zone: IcalTimezone;
  display: IcalTimezone | undefined;
}

function overlaps(start: number, end: number, ctx: Context): boolean {
  // A zero-length event at the range start counts; one ending exactly at `from` does not.
  return start < ctx.to && (end > ctx.from || (end === start && start >= ctx.from));
}

function occurrence(
  item: IcalComponent,
  start: IcalTime,
  end: IcalTime,
  recurrenceId: IcalTime | null,
  ctx: Context,
  flags: { recurring: boolean; overridden: boolean },
): Occurrence {
  const transp = textOf(item, "transp")?.toUpperCase();
  return {
    uid: textOf(item, "uid") ?? "",
    recurrenceId: recurrenceId ? formatTime(recurrenceId, ctx.zone) : null,
    summary: textOf(item, "summary"),
    location: textOf(item, "location"),
    status: textOf(item, "status")?.toUpperCase() ?? null,
    transparency: transp === "TRANSPARENT" ? "TRANSPARENT" : "OPAQUE",
    start: eventTime(start, ctx.zone, ctx.display),
    end: eventTime(end, ctx.zone, ctx.display),
    ...flags,
  };
}

/**
 * RFC 5545 §3.3.10 wants UNTIL in UTC when DTSTART has a zone; some clients write a local UNTIL,
 * which ical.js would read as UTC, so it is read in DTSTART's zone instead.
 */
function anchorLocalUntil(master: IcalComponent, start: IcalTime): void {
  if (isFloating(start) || start.isDate) return;
  for (const rule of master.getAllProperties("rrule")) {
    const recur: unknown = rule.getFirstValue();
    if (recur instanceof ICAL.Recur && recur.until && isFloating(recur.until)) {
      recur.until.zone = start.zone;
    }
  }
}

function expandSeries(
  master: IcalComponent,
  overrides: IcalComponent[],
  ctx: Context,
  max: number,
): Expansion {
  const event = new ICAL.Event(master, { exceptions: overrides, strictExceptions: false });
  anchorLocalUntil(master, event.startDate);
  const found: { at: number; occurrence: Occurrence }[] = [];
  let truncated = false;
  const add = (at: number, o: Occurrence): boolean => {
    if (found.length >= max) {
      truncated = true;
      return false;
    }
    found.push({ at, occurrence: o });
    return true;
  };
  if (!event.isRecurring()) {
    const s = instantOf(event.startDate, ctx.zone);
    const e = instantOf(event.endDate, ctx.zone);
    if (overlaps(s, e, ctx)) {
      add(
        s,
        occurrence(master, event.startDate, event.endDate, null, ctx, {
          recurring: false,
          overridden: false,
        }),
      );
    }
    return { occurrences: found.map((f) => f.occurrence), truncated };
  }
  const seen = new Set<string>();
  const iterator = event.iterator();
  for (let step = 0; ; step++) {
    if (step >= MAX_RECURRENCE_STEPS) {
      truncated = true;
      break;
    }
    // Typed as always a Time, but it returns undefined when the series ends.
    const next = iterator.next() as IcalTime | undefined;
    if (!next) break;
    if (instantOf(next, ctx.zone) >= ctx.to) break;
    const details = event.getOccurrenceDetails(next) as unknown as OccurrenceDetails;
    const item = details.item ? details.item.component : master;
    seen.add(next.toString());
    const s = instantOf(details.startDate, ctx.zone);
    const e = instantOf(details.endDate, ctx.zone);
    if (!overlaps(s, e, ctx)) continue;
    const flags = { recurring: true, overridden: details.item !== undefined && item !== master };
    if (!add(s, occurrence(item, details.startDate, details.endDate, next, ctx, flags))) break;
  }
  // An instance whose original time lies after the range but was moved into it.
  for (const override of truncated ? [] : overrides) {
    const rid = override.getFirstPropertyValue("recurrence-id");
    if (!(rid instanceof ICAL.Time) || seen.has(rid.toString())) continue;
    if (instantOf(rid, ctx.zone) < ctx.to) continue;
    const ev = new ICAL.Event(override);
    const s = instantOf(ev.startDate, ctx.zone);
    if (!overlaps(s, instantOf(ev.endDate, ctx.zone), ctx)) continue;
    if (
      !add(s, occurrence(override, ev.startDate, ev.endDate, rid, ctx, { recurring: true, overridden: true }))
    )
      break;
  }
  found.sort((a, b) => a.at - b.at);
  return { occurrences: found.map((f) => f.occurrence), truncated };
}

/**
 * The occurrences of the event in one calendar object resource that overlap [from, to), sorted by
 * start; a VTODO-only object yields none.
 */
export function expandOccurrences(text: string, options: ExpandOptions): Expansion {
  const zone = requireZone(options.zone, "zone");
  const ctx: Context = {
    from: Number(options.from),
    to: Number(options.to),
    zone,
    display: options.display === "user" ? zone : undefined,
  };
  const max = Math.max(0, options.maxOccurrences ?? DEFAULT_MAX_OCCURRENCES);
  const root = readCalendar(text);
  if (root.getAllSubcomponents("vevent").length === 0) return { occurrences: [], truncated: false };
  const { master, overrides } = seriesComponents(root);
  if (master) return expandSeries(master, overrides, ctx, max);
  // Only overridden instances (an invitation to single occurrences): each stands alone.
  const merged: Expansion = { occurrences: [], truncated: false };
  for (const override of overrides) {
    const part = expandSeries(override, [], ctx, max - merged.occurrences.length);
    merged.occurrences.push(...part.occurrences);
    merged.truncated ||= part.truncated;
  }
  return merged;
}
