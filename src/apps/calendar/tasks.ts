// The tasks tools (VTODO in CalDAV task lists, what Nextcloud Tasks shows): list with filters, create
// or change (complete and reopen are a status change); changes are conditional on the ETag.
import { z } from "zod";
import {
  badArguments,
  explained,
  mapLimited,
  pageInput,
  pageOf,
  pageOutput,
  toolMaker,
} from "../../mcp/index.ts";
import { parseCalendarObject } from "./ical.ts";
import { calendarsOf } from "./read.ts";
import { newTaskSchema, taskPatchSchema, type CalendarTask } from "./schema.ts";
import { matchesText } from "./search.ts";
import { createTask, updateTask } from "./task-write.ts";
import {
  caldav,
  calendarsFor,
  instantInput,
  objectId,
  PARALLEL_CALENDARS,
  readable,
  timeZoneInput,
  userZone,
} from "./tool-kit.ts";
import { readForChange, storeChange, targetCalendar } from "./write.ts";

const tool = toolMaker("calendar");

/** A task as listed. */
interface TaskOut {
  id: string;
  etag: string;
  calendar: string;
  uid: string;
  summary: string | null;
  description: string | null;
  status: string | null;
  due: string | null;
  start: string | null;
  completed: string | null;
  priority: number | null;
  percentComplete: number | null;
  categories: string[];
}

/** tools/list shows the fields that chain calls; the rest of TaskOut is in the docs. */
const taskOut = z.looseObject({ id: z.string(), etag: z.string() });

const isDone = (t: CalendarTask) =>
  t.status === "COMPLETED" || t.status === "CANCELLED" || t.completed !== null;

function dueAt(t: CalendarTask): number | null {
  if (t.due === null) return null;
  return Date.parse(t.due.allDay ? `${t.due.value}T00:00:00Z` : t.due.value);
}

/** Lists tasks with filters. */
export const calendarTasks = tool.read({
  name: "calendar_tasks",
  title: "List tasks",
  description:
    "Tasks of all task lists, soonest due first; open ones by default. dueBefore now: overdue. Pass id and etag to calendar_save_task or calendar_delete.",
  input: z.object({
    status: z.enum(["open", "completed", "all"]).default("open").describe("Which tasks."),
    dueBefore: z.string().optional().describe('e.g. "2026-12-01T12:00" in timeZone.'),
    query: z.string().optional().describe("Words to find."),
    calendars: z.array(z.string()).optional().describe("Task list names; default all."),
    timeZone: timeZoneInput,
    ...pageInput("tasks", 50, 200),
  }),
  output: z.object({
    timeZone: z.string().describe("The zone floating and date-only times are read in."),
    tasks: z
      .array(taskOut)
      .describe(
        "Each: id, etag, calendar, uid, summary, description, status, due, start, completed, priority, percentComplete, categories.",
      ),
    ...pageOutput,
  }),
  handler: async (args, ctx) => {
    const client = await caldav(ctx);
    const all = await calendarsOf(client);
    const zone = userZone(args.timeZone, all);
    const before = args.dueBefore === undefined ? undefined : instantInput(args.dueBefore, "dueBefore", zone);
    const lists = calendarsFor(all, "VTODO", args.calendars);
    const found: (TaskOut & { at: number | null })[] = [];
    await mapLimited(lists, PARALLEL_CALENDARS, async (list) => {
      const objects = await explained(client.query(list.name, "VTODO"), {
        not_found: `Task list "${list.name}" is gone; call calendar_list_calendars.`,
      });
      for (const object of objects) {
        const parsed = readable(ctx.log, { calendar: list.name, name: object.name }, () =>
          parseCalendarObject(object.data, { zone }),
        );
        if (parsed?.kind !== "task") continue;
        const t = parsed.master;
        if (args.status === "open" && isDone(t)) continue;
        if (args.status === "completed" && !isDone(t)) continue;
        const at = dueAt(t);
        if (before !== undefined && (at === null || at >= before)) continue;
        if (args.query !== undefined && !matchesText(t, args.query)) continue;
        found.push({
          id: objectId(list.name, object.name),
          etag: object.etag,
          calendar: list.name,
          uid: t.uid,
          summary: t.summary,
          description: t.description,
          status: t.status,
          due: t.due?.value ?? null,
          start: t.start?.value ?? null,
          completed: t.completed,
          priority: t.priority,
          percentComplete: t.percentComplete,
          categories: t.categories,
          at,
        });
      }
    });
    found.sort(
      (a, b) =>
        (a.at ?? Infinity) - (b.at ?? Infinity) ||
        (a.priority || 10) - (b.priority || 10) ||
        (a.summary ?? "").localeCompare(b.summary ?? "") ||
        a.id.localeCompare(b.id),
    );
    const page = pageOf(found, args.offset, args.limit);
    return {
      timeZone: zone,
      tasks: page.items.map(({ at: _at, ...t }) => t),
      offset: page.offset,
      total: page.total,
      nextOffset: page.nextOffset,
    };
  },
});

const CLEARABLE = ["description", "due", "priority", "categories"] as const;

const taskInput = z.object({
  id: z.string().optional().describe("Task to change; omit to create."),
  etag: z.string().optional().describe("Required with id."),
  calendar: z.string().optional().describe("To create in; default personal, else first."),
  summary: z.string().min(1).optional().describe("Title."),
  description: z.string().optional().describe("Notes."),
  status: z
    .enum(["NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "CANCELLED"])
    .optional()
    .describe("COMPLETED completes, NEEDS-ACTION reopens."),
  due: z.string().optional().describe('A date, or "2026-12-01T12:00" in timeZone.'),
  timeZone: timeZoneInput,
  priority: z.number().int().min(0).max(9).optional().describe("1 highest, 9 lowest."),
  categories: z.array(z.string()).optional().describe("Tags."),
  clear: z.array(z.enum(CLEARABLE)).optional().describe("Fields to remove."),
});

/** Domain validation as one clear refusal. */
function validated<T>(schema: z.ZodType<T>, fields: unknown, what: string): T {
  const parsed = schema.safeParse(fields);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`);
  throw badArguments(`Cannot ${what}: ${problems.join("; ")}. Nothing was changed.`);
}

/** Creates a task, or changes one (including completing and reopening it) under its ETag. */
export const calendarSaveTask = tool.write({
  name: "calendar_save_task",
  title: "Create or change a task",
  description:
    "Without id: creates a task (summary). With id and etag: changes the fields given. A stale etag changes nothing: list again.",
  destructive: false,
  idempotent: false,
  input: taskInput,
  output: z.object({
    id: z.string().describe("Its id."),
    etag: z.string().describe("Its new etag, for the next change."),
    uid: z.string().describe("The iCalendar UID."),
    created: z.boolean().describe("True when it was created."),
  }),
  handler: async (args, ctx) => {
    const client = await caldav(ctx);
    const { id, etag, calendar, clear, ...rest } = args;
    // zod leaves absent optional fields out, so every key here was given.
    const set: Record<string, unknown> = { ...rest };
    const both = (clear ?? []).filter((f) => f in set);
    if (both.length > 0) throw badArguments(`${both.join(", ")}: give a value or clear it, not both.`);
    const fields = { ...set, ...Object.fromEntries((clear ?? []).map((f) => [f, null])) };
    if (id === undefined) {
      if (etag !== undefined) throw badArguments("etag needs the id of the task to change.");
      const target = await targetCalendar(client, calendar, "VTODO");
      const parsed = newTaskSchema.safeParse({
        ...fields,
        timeZone: args.timeZone ?? target.timeZone ?? "UTC",
      });
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`);
        throw badArguments(`Cannot create the task (summary is required): ${problems.join("; ")}.`);
      }
      const { uid, ics } = createTask(parsed.data);
      const name = `${uid}.ics`;
      const newId = objectId(target.name, name);
      const stored = await storeChange(
        client,
        { calendar: target.name, name, id: newId },
        ics,
        { create: true },
        "calendar_tasks",
      );
      return { id: newId, etag: stored, uid, created: true };
    }
    if (etag === undefined)
      throw badArguments("etag is required to change a task; take it from calendar_tasks.");
    if (calendar !== undefined) throw badArguments("calendar is only for creating; a task cannot move.");
    const current = await readForChange(client, id, etag, "calendar_tasks");
    const ics = updateTask(current.data, validated(taskPatchSchema, fields, "change the task"));
    const stored = await storeChange(
      client,
      { calendar: current.calendar, name: current.name, id },
      ics,
      { etag },
      "calendar_tasks",
    );
    return { id, etag: stored, uid: parseCalendarObject(ics, { zone: "UTC" }).uid, created: false };
  },
});
