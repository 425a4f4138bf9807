// Calendar and tasks (Nextcloud Calendar and Tasks over CalDAV): the CalDAV client, the pure
// iCalendar logic (parsing, recurrence, free/busy, writing) and the "calendar" tool group for
// calendars, events and tasks, there when the user has a calendar home.
import { defineGroup } from "../../mcp/index.ts";
import type { NextcloudClient } from "../../nextcloud/index.ts";
import { CalDavClient } from "./client.ts";
import { calendarEvents, calendarFreeTime, calendarListCalendars } from "./read.ts";
import { calendarSaveTask, calendarTasks } from "./tasks.ts";
import { calendarDelete, calendarManageCalendar, calendarSaveEvent } from "./write.ts";

export { CalDavClient, type CalendarInfo, type Component, type StoredObject } from "./client.ts";

/**
 * Whether the user has a calendar home: PROPFIND Depth 0 answers 207 (yes) or 404 (no); anything
 * else throws, which leaves the tools listed ("unknown").
 */
export async function hasCalendarHome(nextcloud: NextcloudClient, signal: AbortSignal): Promise<boolean> {
  return (await CalDavClient.of(nextcloud, signal)).hasHome();
}

/** Calendars, events and tasks. */
export const calendarGroup = defineGroup({
  id: "calendar",
  title: "Calendar and tasks",
  description:
    "Calendars, events (recurring ones expanded, time zones kept), free time and tasks: list, search, " +
    "create, change and delete (Nextcloud Calendar and Tasks, over CalDAV).",
  available: hasCalendarHome,
  tools: [
    calendarListCalendars,
    calendarEvents,
    calendarFreeTime,
    calendarTasks,
    calendarSaveEvent,
    calendarSaveTask,
    calendarManageCalendar,
    calendarDelete,
  ],
});
