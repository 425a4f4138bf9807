// What the calendar and tasks tools share: the user's CalDAV client, object ids ("<calendar>/<file>"),
// the user's time zone (input, else the calendar's, else UTC), time ranges from caller text, and the
// messages that tell the model what to do after a 404 or a stale ETag.
import { z } from "zod";
import { GatewayError } from "../../errors.ts";
import { badArguments, explained, nextcloudOf, type ToolContext, type ToolLogger } from "../../mcp/index.ts";
import type { NextcloudErrorKind } from "../../nextcloud/index.ts";
import { CalDavClient, type CalendarInfo, type Component } from "./client.ts";
import { parseTimeInput } from "./time-input.ts";
import { instantOf, requireZone } from "./timezone.ts";

/** The user's CalDAV client for this call. */
export function caldav(ctx: ToolContext): Promise<CalDavClient> {
  return CalDavClient.of(nextcloudOf(ctx), ctx.signal);
}

/** The id of a calendar object as the tools give it out: "<calendar>/<file>". */
export const objectId = (calendar: string, name: string) => `${calendar}/${name}`;

/** The calendar and file of an object id, or a clear refusal. */
export function splitId(id: string): [string, string] {
  const parts = id.split("/");
  const [calendar, name] = parts;
  if (parts.length !== 2 || !calendar || !name) {
    throw badArguments(
      `id "${id}" is not an object id; use the id from a listing, like "work/team-sync.ics".`,
    );
  }
  return [calendar, name];
}

/** The `timeZone` argument every calendar tool takes. */
export const timeZoneInput = z
  .string()
  .optional()
  .describe("User's IANA zone; default the calendar's, else UTC.");

/** The zone to read and show times in: the caller's, else the first calendar's that has one, else UTC. */
export function userZone(input: string | undefined, calendars: readonly CalendarInfo[]): string {
  if (input !== undefined) {
    requireZone(input, "timeZone");
    return input;
  }
  return calendars.find((c) => c.timeZone !== null)?.timeZone ?? "UTC";
}

/** The user's calendars that hold `component`, narrowed to `only` (by name) when given. */
export function calendarsFor(
  all: readonly CalendarInfo[],
  component: Component,
  only: readonly string[] | undefined,
): CalendarInfo[] {
  if (only !== undefined && only.length > 0) {
    const unknown = only.filter((n) => !all.some((c) => c.name === n));
    if (unknown.length > 0) {
      throw badArguments(
        `No calendar named ${unknown.map((n) => `"${n}"`).join(", ")}; calendar_list_calendars shows the names.`,
      );
    }
    return all.filter((c) => only.includes(c.name));
  }
  return all.filter((c) => c.components.includes(component));
}

/** An instant from caller text ("2026-10-20", "2026-10-20T10:00" in `zone`, or with an offset). */
export function instantInput(text: string, field: string, zone: string): number {
  const z = requireZone(zone, "timeZone");
  return instantOf(parseTimeInput(text, field, z), z);
}

const DAY = 86_400_000;
/** The longest range one listing expands (recurrences make long ranges expensive). */
export const MAX_RANGE_DAYS = 366;

/** [from, to) from optional caller text: from defaults to now, to to from + `days`. */
export function rangeInput(
  from: string | undefined,
  to: string | undefined,
  zone: string,
  days: number,
): { from: number; to: number } {
  const start = from === undefined ? Date.now() : instantInput(from, "from", zone);
  const end = to === undefined ? start + days * DAY : instantInput(to, "to", zone);
  if (end <= start) throw badArguments("to must be after from.");
  if (end - start > MAX_RANGE_DAYS * DAY) {
    throw badArguments(`The range may span at most ${String(MAX_RANGE_DAYS)} days; ask for a shorter one.`);
  }
  return { from: start, to: end };
}

/** Runs a call on one object, rewording a missing object and a stale ETag into what to do next. */
export function onObject<T>(call: Promise<T>, id: string, reread: string): Promise<T> {
  const messages: Partial<Record<NextcloudErrorKind, string>> = {
    not_found: `Nothing at id "${id}" (or its calendar is gone); list again to get current ids. Nothing was changed.`,
    precondition_failed: `"${id}" was changed since you read it (its etag is stale), or already exists; nothing was changed. Call ${reread} to get the current version and etag, then retry.`,
  };
  return explained(call, messages);
}

/** How many calendars one tool asks at a time. */
export const PARALLEL_CALENDARS = 4;

/**
 * `read(object)`, or undefined when the stored object is not iCalendar the gateway can read (another
 * client wrote it); it is logged and left out of listings, never changed.
 */
export function readable<T>(
  log: ToolLogger,
  where: { calendar: string; name: string },
  read: () => T,
): T | undefined {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof GatewayError) || err.code !== "invalid_request") throw err;
    log.warn({ ...where, reason: err.description }, "calendar object left out: it cannot be read");
    return undefined;
  }
}
