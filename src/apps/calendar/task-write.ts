// Creating a VTODO, changing selected fields, completing and reopening it (RFC 5545 §3.6.2),
// keeping every property the change does not touch.
import { randomUUID } from "node:crypto";
import { ICAL } from "./ical-lib.ts";
import { GatewayError } from "../../errors.ts";
import type { WriteOptions } from "./event-write.ts";
import {
  PRODID,
  includeVtimezone,
  serialize,
  setCategories,
  setText,
  setTime,
  touch,
  utcNow,
} from "./fields.ts";
import { readCalendar, seriesComponents } from "./ical.ts";
import type { NewTask, TaskPatch } from "./schema.ts";
import { parseTimeInput } from "./time-input.ts";
import { requireZone, type IcalComponent, type IcalTimezone } from "./timezone.ts";

function setNumber(component: IcalComponent, name: string, value: number | null | undefined): void {
  if (value === undefined) return;
  component.removeAllProperties(name);
  if (value !== null) component.addPropertyWithValue(name, value);
}

function setStatus(component: IcalComponent, status: string | undefined, now: Date): void {
  if (status === undefined) return;
  setText(component, "status", status);
  if (status === "COMPLETED") {
    setTime(component, "completed", utcNow(now));
    setNumber(component, "percent-complete", 100);
  } else {
    component.removeAllProperties("completed");
    if (Number(component.getFirstPropertyValue("percent-complete")) === 100)
      setNumber(component, "percent-complete", 0);
  }
}

function applyTask(root: IcalComponent, todo: IcalComponent, fields: TaskPatch | NewTask, now: Date): void {
  const existing = todo.getFirstPropertyValue("due") ?? todo.getFirstPropertyValue("dtstart");
  const oldZone =
    existing instanceof ICAL.Time && !existing.isDate && existing.zone.tzid !== "floating"
      ? existing.zone
      : null;
  const zone: IcalTimezone | null =
    fields.timeZone === undefined ? oldZone : fields.timeZone ? requireZone(fields.timeZone) : null;
  for (const [name, text] of [
    ["dtstart", fields.start],
    ["due", fields.due],
  ] as const) {
    if (text === undefined) continue;
    const time = text === null ? null : parseTimeInput(text, name === "due" ? "due" : "start", zone);
    setTime(todo, name, time);
    if (time && !time.isDate) includeVtimezone(root, zone?.tzid ?? null);
  }
  const start = todo.getFirstPropertyValue("dtstart");
  const due = todo.getFirstPropertyValue("due");
  if (start instanceof ICAL.Time && due instanceof ICAL.Time && due.compare(start) < 0) {
    throw new GatewayError("invalid_request", "due must not be before start.");
  }
  setText(todo, "summary", fields.summary);
  setText(todo, "description", fields.description);
  setText(todo, "location", fields.location);
  setText(todo, "url", fields.url);
  setText(todo, "class", fields.class);
  setCategories(todo, fields.categories);
  setNumber(todo, "priority", fields.priority);
  setNumber(todo, "percent-complete", fields.percentComplete);
  setStatus(todo, fields.status, now);
}

/** A new calendar object resource with one VTODO and a new UID. */
export function createTask(input: NewTask, options: WriteOptions = {}): { uid: string; ics: string } {
  const now = options.now ?? new Date();
  const uid = options.uid ?? randomUUID();
  const root = new ICAL.Component("vcalendar");
  root.addPropertyWithValue("version", "2.0");
  root.addPropertyWithValue("prodid", PRODID);
  const todo = new ICAL.Component("vtodo", root);
  todo.addPropertyWithValue("uid", uid);
  setTime(todo, "created", utcNow(now));
  touch(todo, now, false);
  todo.addPropertyWithValue("sequence", 0);
  root.addSubcomponent(todo);
  applyTask(root, todo, { status: "NEEDS-ACTION", ...input }, now);
  return { uid, ics: serialize(root) };
}

function taskOf(root: IcalComponent): IcalComponent {
  const { kind, master, overrides } = seriesComponents(root);
  const todo = master ?? overrides[0];
  if (kind !== "task" || !todo) {
    throw new GatewayError("invalid_request", "This calendar object is an event, not a task.");
  }
  return todo;
}

/** Changes the given fields of the task in `ics`, keeps everything else, bumps SEQUENCE. */
export function updateTask(ics: string, patch: TaskPatch, options: { now?: Date } = {}): string {
  const now = options.now ?? new Date();
  const root = readCalendar(ics);
  const todo = taskOf(root);
  applyTask(root, todo, patch, now);
  touch(todo, now, true);
  return serialize(root);
}

/** Marks the task done: STATUS:COMPLETED, COMPLETED now, PERCENT-COMPLETE 100. */
export function completeTask(ics: string, options: { now?: Date } = {}): string {
  return updateTask(ics, { status: "COMPLETED" }, options);
}

/** Opens a completed task again: STATUS:NEEDS-ACTION, no COMPLETED, PERCENT-COMPLETE 0 if it was 100. */
export function reopenTask(ics: string, options: { now?: Date } = {}): string {
  return updateTask(ics, { status: "NEEDS-ACTION" }, options);
}
