// The calendar tools that change data: create, change or delete a calendar; create or change an
// event (the whole series or one instance); delete an event. Every change of an existing object is
// conditional on the ETag the model read, so a stale change is refused and changes nothing.
import { z } from "zod";
import { badArguments, explained, nextcloudOf, toolMaker, type ToolContext } from "../../mcp/index.ts";
import { NextcloudError } from "../../nextcloud/index.ts";
import type { CalDavClient, Component } from "./client.ts";
import { createEvent, updateEvent } from "./event-write.ts";
import { isDateText } from "./time-input.ts";
import { PRODID } from "./fields.ts";
import { parseCalendarObject } from "./ical.ts";
import { calendarListed, calendarsOf } from "./read.ts";
import { eventPatchSchema, newEventSchema } from "./schema.ts";
import { libraryVtimezone, requireZone } from "./timezone.ts";
import { caldav, objectId, onObject, splitId, timeZoneInput } from "./tool-kit.ts";

const tool = toolMaker("calendar");

const CALENDAR_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** An ETag without the weak prefix, for comparing what the model read with what is stored. */
const strong = (etag: string) => etag.replace(/^W\//, "");

/**
 * Reads the object, checks it still has the ETag the model read (else a 412-like refusal, nothing
 * changed), and returns its text.
 */
export async function readForChange(
  client: CalDavClient,
  id: string,
  etag: string,
  reread: string,
): Promise<{ calendar: string; name: string; data: string }> {
  const [calendar, name] = splitId(id);
  const current = await onObject(client.get(calendar, name, `"${id}"`), id, reread);
  if (current.etag !== "" && strong(current.etag) !== strong(etag)) {
    await onObject(
      Promise.reject(
        new NextcloudError("precondition_failed", `"${id}" has another etag.`, { httpStatus: 412 }),
      ),
      id,
      reread,
    );
  }
  return { calendar, name, data: current.data };
}

/** Stores the object under the ETag the model read; returns the new ETag. */
export async function storeChange(
  client: CalDavClient,
  target: { calendar: string; name: string; id: string },
  data: string,
  precondition: { etag: string } | { create: true },
  reread: string,
): Promise<string> {
  const etag = await onObject(
    client.put(target.calendar, target.name, data, precondition, `"${target.id}"`),
    target.id,
    reread,
  );
  if (etag !== null && etag !== "") return etag;
  return (await client.get(target.calendar, target.name, `"${target.id}"`)).etag;
}

/** The calendar to create in: the one named, else "personal", else the first by name that holds `component`. */
export async function targetCalendar(
  client: CalDavClient,
  name: string | undefined,
  component: Component,
): Promise<{ name: string; timeZone: string | null }> {
  const all = await calendarsOf(client);
  const holding = all.filter((c) => c.components.includes(component));
  // Nextcloud's default calendar is "personal"; otherwise the first by name, so the choice is stable.
  const found =
    name === undefined
      ? (holding.find((c) => c.name === "personal") ?? holding[0])
      : all.find((c) => c.name === name);
  if (found === undefined) {
    throw badArguments(
      name === undefined
        ? `You have no calendar for ${component === "VTODO" ? "tasks" : "events"}; create one with calendar_manage_calendar.`
        : `No calendar named "${name}"; calendar_list_calendars shows the names.`,
    );
  }
  return { name: found.name, timeZone: found.timeZone };
}

/** Creates, renames or deletes a calendar or task list. */
export const calendarManageCalendar = tool.write({
  name: "calendar_manage_calendar",
  title: "Create, change or delete a calendar",
  description:
    "create a calendar (components [VEVENT]) or task list ([VTODO]); update its display name or color; " +
    "delete it with everything in it (cannot be undone: confirm first).",
  destructive: true,
  idempotent: false,
  input: z.object({
    action: z.enum(["create", "update", "delete"]).describe("What to do."),
    name: z.string().describe("Its id (letters, digits, -, _)."),
    displayName: z.string().optional().describe("Shown name."),
    color: z.string().optional().describe('"#0082c9"'),
    components: z
      .array(z.enum(["VEVENT", "VTODO"]))
      .optional()
      .describe("Default [VEVENT]."),
    timeZone: z.string().optional().describe("IANA zone (create)."),
  }),
  output: z.object({
    calendar: calendarListed
      .nullable()
      .describe("The calendar as calendar_list_calendars shows it; null after delete."),
  }),
  handler: async (args, ctx) => {
    if (args.color !== undefined && !/^#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?$/.test(args.color)) {
      throw badArguments(`color "${args.color}" must look like "#0082c9".`);
    }
    if (args.displayName?.trim() === "") throw badArguments("displayName cannot be empty.");
    const client = await caldav(ctx);
    const what = `calendar "${args.name}"`;
    if (args.action === "delete") {
      await explained(client.deleteCalendar(args.name), {
        not_found: `No ${what}; calendar_list_calendars shows the names. Nothing was deleted.`,
      });
      return { calendar: null };
    }
    if (args.action === "create") {
      if (!CALENDAR_NAME.test(args.name)) {
        throw badArguments(
          `name "${args.name}" must be 1-64 letters, digits, "-" or "_", starting with a letter or digit.`,
        );
      }
      const vtimezone = args.timeZone === undefined ? undefined : calendarTimezone(args.timeZone);
      await explained(
        client.createCalendar(args.name, {
          displayName: args.displayName ?? args.name,
          components: args.components?.length ? args.components : ["VEVENT"],
          ...(args.color === undefined ? {} : { color: args.color }),
          ...(vtimezone === undefined ? {} : { vtimezone }),
        }),
        { conflict: `A ${what} already exists; choose another name. Nothing was changed.` },
      );
    } else {
      if (args.displayName === undefined && args.color === undefined) {
        throw badArguments("update needs displayName or color.");
      }
      await explained(
        client.updateCalendar(args.name, {
          ...(args.displayName === undefined ? {} : { displayName: args.displayName }),
          ...(args.color === undefined ? {} : { color: args.color }),
        }),
        { not_found: `No ${what}; calendar_list_calendars shows the names. Nothing was changed.` },
      );
    }
    const calendar = (await calendarsOf(client)).find((c) => c.name === args.name) ?? null;
    return { calendar };
  },
});

/** A VCALENDAR holding the library VTIMEZONE of an IANA zone (CALDAV:calendar-timezone). */
function calendarTimezone(tzid: string): string {
  requireZone(tzid, "timeZone");
  const component = libraryVtimezone(tzid);
  const body = component === null ? "" : `${component.toString()}\r\n`;
  return `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:${PRODID}\r\n${body}END:VCALENDAR\r\n`;
}

/** Fields an event input can clear. */
const CLEARABLE = ["description", "location", "status", "attendees", "rrule", "alarms"] as const;

const eventInput = z.object({
  id: z.string().optional().describe("Event to change; omit to create."),
  etag: z.string().optional().describe("Required with id."),
  recurrenceId: z.string().optional().describe("Change only this occurrence."),
  calendar: z.string().optional().describe("To create in; default personal, else first."),
  summary: z.string().min(1).optional().describe("Title."),
  start: z.string().optional().describe('"2026-10-20T10:00" (in timeZone) or a date (all-day).'),
  end: z.string().optional().describe("Exclusive; default start + 1 hour."),
  timeZone: timeZoneInput,
  description: z.string().optional().describe("Notes."),
  location: z.string().optional().describe("Place."),
  status: z.enum(["TENTATIVE", "CONFIRMED", "CANCELLED"]).optional().describe("Event status."),
  attendees: z
    .array(z.object({ email: z.string(), name: z.string().optional() }))
    .optional()
    .describe("Replaces the list; you become organizer."),
  rrule: z.string().optional().describe('e.g. "FREQ=WEEKLY;BYDAY=TU;COUNT=10"'),
  alarms: z.array(z.number().int().min(0)).optional().describe("Reminders, minutes before start."),
  clear: z.array(z.enum(CLEARABLE)).optional().describe("Fields to remove."),
});

type EventArgs = z.output<typeof eventInput>;

/** The event fields of the input, with the cleared ones as null (what the domain takes). */
function eventFields(
  args: EventArgs,
  organizer: { email: string; name: string } | null,
): Record<string, unknown> {
  const { id: _id, etag: _etag, recurrenceId: _rid, calendar: _cal, clear, alarms, ...fields } = args;
  // zod leaves absent optional fields out, so every key here was given.
  const set: Record<string, unknown> = { ...fields };
  if (alarms !== undefined) set.alarms = alarms.map((minutesBefore) => ({ minutesBefore }));
  if (args.attendees !== undefined && args.attendees.length > 0 && organizer !== null)
    set.organizer = organizer;
  const both = (clear ?? []).filter((f) => f in set);
  if (both.length > 0) throw badArguments(`${both.join(", ")}: give a value or clear it, not both.`);
  return { ...set, ...Object.fromEntries((clear ?? []).map((f) => [f, null])) };
}

/** Domain validation (emails, times) as one clear refusal. */
function validated<T>(schema: z.ZodType<T>, fields: unknown, what: string): T {
  const parsed = schema.safeParse(fields);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`);
  throw badArguments(`Cannot ${what}: ${problems.join("; ")}. Nothing was changed.`);
}

/** The signed-in user as organizer, when Nextcloud knows their email. */
async function organizerOf(ctx: ToolContext): Promise<{ email: string; name: string } | null> {
  const user = await nextcloudOf(ctx).user();
  return user.email === null ? null : { email: user.email, name: user.displayName };
}

/** The user as organizer for an event that has none yet (an invitation keeps its organizer). */
async function organizerIfNone(
  ics: string,
  ctx: ToolContext,
): Promise<{ email: string; name: string } | null> {
  return parseCalendarObject(ics, { zone: "UTC" }).master.organizer === null ? organizerOf(ctx) : null;
}

async function createEventIn(client: CalDavClient, args: EventArgs, ctx: ToolContext) {
  const target = await targetCalendar(client, args.calendar, "VEVENT");
  if (args.clear !== undefined) throw badArguments("clear is only for changing an event.");
  const fields = {
    ...eventFields(args, await organizerOf(ctx)),
    timeZone: args.timeZone ?? target.timeZone ?? "UTC",
    // A timed event without an end lasts an hour (RFC 5545 would make it last no time at all).
    ...(args.end === undefined && args.start !== undefined && !isDateText(args.start)
      ? { duration: "PT1H" }
      : {}),
  };
  const { uid, ics } = createEvent(
    validated(newEventSchema, fields, "create the event (summary and start are required)"),
  );
  const name = `${uid}.ics`;
  const id = objectId(target.name, name);
  const etag = await storeChange(
    client,
    { calendar: target.name, name, id },
    ics,
    { create: true },
    "calendar_events",
  );
  return { id, etag, uid, created: true };
}

/** Creates an event, or changes an event (the series or one instance) under its ETag. */
export const calendarSaveEvent = tool.write({
  name: "calendar_save_event",
  title: "Create or change an event",
  description:
    "Without id: creates an event (summary, start). With id and etag: changes the fields given, on the series or one instance (recurrenceId). A stale etag changes nothing: re-read it.",
  destructive: false,
  idempotent: false,
  input: eventInput,
  output: z.object({
    id: z.string().describe("Its id."),
    etag: z.string().describe("Its new etag, for the next change."),
    uid: z.string().describe("The iCalendar UID."),
    created: z.boolean().describe("True when it was created."),
  }),
  handler: async (args, ctx: ToolContext) => {
    const client = await caldav(ctx);
    if (args.id === undefined) {
      if (args.recurrenceId !== undefined || args.etag !== undefined) {
        throw badArguments("recurrenceId and etag need the id of the event to change.");
      }
      return createEventIn(client, args, ctx);
    }
    if (args.etag === undefined) {
      throw badArguments("etag is required to change an event; take it from calendar_events.");
    }
    if (args.calendar !== undefined)
      throw badArguments("calendar is only for creating; an event cannot move.");
    const current = await readForChange(client, args.id, args.etag, "calendar_events");
    const patch = validated(
      eventPatchSchema,
      eventFields(args, await organizerIfNone(current.data, ctx)),
      "change the event",
    );
    const ics = updateEvent(current.data, patch, {
      ...(args.recurrenceId === undefined ? {} : { recurrenceId: args.recurrenceId }),
    });
    const { uid } = parseCalendarObject(ics, { zone: "UTC" });
    const etag = await storeChange(
      client,
      { calendar: current.calendar, name: current.name, id: args.id },
      ics,
      { etag: args.etag },
      "calendar_events",
    );
    return { id: args.id, etag, uid, created: false };
  },
});

/** Deletes an event (the whole series) or a task under its ETag. */
export const calendarDelete = tool.write({
  name: "calendar_delete",
  title: "Delete an event or task",
  description:
    "Deletes an event (all occurrences) or a task if its etag still matches; else nothing changes. To drop one occurrence, save it with status CANCELLED.",
  destructive: true,
  idempotent: false,
  input: z.object({
    id: z.string().describe("From a listing."),
    etag: z.string().describe("Read with it."),
  }),
  output: z.object({ id: z.string(), deleted: z.boolean() }),
  handler: async (args, ctx) => {
    const [calendar, name] = splitId(args.id);
    const client = await caldav(ctx);
    await onObject(
      client.delete(calendar, name, args.etag, `"${args.id}"`),
      args.id,
      "calendar_events or calendar_tasks",
    );
    return { id: args.id, deleted: true };
  },
});
