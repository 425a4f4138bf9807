// Times, durations and rules as callers give them ("2026-10-20", "2026-10-20T10:00", with or without
// an offset, "PT30M", "FREQ=WEEKLY"), turned into ical.js values with clear errors for bad input.
import { ICAL } from "./ical-lib.ts";
import { GatewayError } from "../../errors.ts";
import { timeInZone, type IcalTime, type IcalTimezone } from "./timezone.ts";

type IcalDuration = InstanceType<typeof ICAL.Duration>;
type IcalRecur = InstanceType<typeof ICAL.Recur>;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/i;

function invalid(field: string, value: string, hint: string): GatewayError {
  return new GatewayError("invalid_request", `${field} "${value}" is not valid: ${hint}`);
}

/** Whether a caller's time text is a plain date ("2026-10-20"). */
export function isDateText(text: string): boolean {
  return DATE.test(text.trim());
}

/**
 * A caller's time as an ical.js time: a date stays a date; a wall-clock time is read in `zone`
 * (floating when `zone` is null); a time with an offset is the instant, shown in `zone` (or UTC).
 */
export function parseTimeInput(text: string, field: string, zone: IcalTimezone | null): IcalTime {
  const value = text.trim();
  const date = DATE.exec(value);
  const hint = 'use "2026-10-20" for a date or "2026-10-20T10:00" (optionally with an offset like +02:00).';
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const t = ICAL.Time.fromData({ year: y, month: m, day: d, isDate: true });
    if (t.year !== y || t.month !== m || t.day !== d || m < 1 || m > 12 || d < 1) {
      throw invalid(field, value, "no such calendar day.");
    }
    return t;
  }
  const dt = DATE_TIME.exec(value);
  if (!dt) throw invalid(field, value, hint);
  const part = (i: number): number => Number(dt[i] ?? "0");
  const [y, mo, d, h, mi, s] = [part(1), part(2), part(3), part(4), part(5), part(6)];
  const offset = dt[7];
  if (mo < 1 || mo > 12 || d < 1 || d > ICAL.Time.daysInMonth(mo, y) || h > 23 || mi > 59 || s > 59) {
    throw invalid(field, value, "no such date or time of day.");
  }
  if (offset) {
    const ms = Date.parse(
      `${dt[1]}-${dt[2]}-${dt[3]}T${dt[4]}:${dt[5]}:${dt[6] ?? "00"}${normalOffset(offset)}`,
    );
    if (Number.isNaN(ms)) throw invalid(field, value, hint);
    return timeInZone(ms, zone ?? ICAL.Timezone.utcTimezone);
  }
  const data = { year: y, month: mo, day: d, hour: h, minute: mi, second: s, isDate: false };
  return zone ? ICAL.Time.fromData(data, zone) : ICAL.Time.fromData(data);
}

function normalOffset(offset: string): string {
  if (offset.toUpperCase() === "Z") return "Z";
  return offset.includes(":") ? offset : `${offset.slice(0, 3)}:${offset.slice(3)}`;
}

/** A caller's ISO 8601 duration ("PT30M", "P1D") as an ical.js duration. */
export function parseDurationInput(text: string, field: string): IcalDuration {
  let duration: IcalDuration;
  try {
    duration = ICAL.Duration.fromString(text.trim().toUpperCase());
  } catch {
    throw invalid(field, text, 'use an ISO 8601 duration such as "PT30M", "PT1H30M" or "P1D".');
  }
  if (duration.isNegative || duration.toSeconds() <= 0) {
    throw invalid(field, text, "the duration must be longer than zero.");
  }
  return duration;
}

/** A caller's recurrence rule ("FREQ=WEEKLY;BYDAY=TU", with or without "RRULE:") as an ical.js rule. */
export function parseRuleInput(text: string, field = "rrule"): IcalRecur {
  const body = text.trim().replace(/^RRULE:/i, "");
  const hint = 'use RFC 5545 rule text such as "FREQ=WEEKLY;BYDAY=TU" or "FREQ=DAILY;COUNT=5".';
  let rule: IcalRecur;
  try {
    rule = ICAL.Recur.fromString(body);
  } catch (err) {
    throw invalid(field, text, `${err instanceof Error ? err.message : "unreadable"}; ${hint}`);
  }
  if (!rule.freq) throw invalid(field, text, `FREQ is missing; ${hint}`);
  if (rule.count && rule.until) throw invalid(field, text, "COUNT and UNTIL cannot both be set.");
  return rule;
}
