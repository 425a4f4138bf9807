// Shapes of parsed calendar objects, occurrences and free/busy answers (zod, for tool outputs), and
// of the inputs that create or change events and tasks.
import { z } from "zod";

/** A point in time as a user sees it: ISO 8601 with the offset valid at that instant. */
export const eventTimeSchema = z.object({
  value: z.string().describe('"2026-10-20T10:00:00+02:00", or "2026-10-20" for all-day'),
  allDay: z.boolean(),
  floating: z.boolean().describe("no zone in the event; read in the user's zone"),
  timeZone: z.string().nullable().describe('the TZID, "UTC", or null for floating and all-day'),
});
/** A point in time as a user sees it. */
export type EventTime = z.infer<typeof eventTimeSchema>;

/** An attendee of an event or task. */
export const attendeeSchema = z.object({
  email: z.string(),
  name: z.string().nullable(),
  role: z.string().nullable().describe("REQ-PARTICIPANT, OPT-PARTICIPANT, CHAIR, NON-PARTICIPANT"),
  partstat: z.string().nullable().describe("NEEDS-ACTION, ACCEPTED, DECLINED, TENTATIVE, DELEGATED"),
  rsvp: z.boolean(),
});
/** An attendee of an event or task. */
export type Attendee = z.infer<typeof attendeeSchema>;

/** The organizer of an event or task. */
export const organizerSchema = z.object({ email: z.string(), name: z.string().nullable() });
/** The organizer of an event or task. */
export type Organizer = z.infer<typeof organizerSchema>;

/** A reminder (VALARM), reduced to what a user sets. */
export const alarmSchema = z.object({
  action: z.string(),
  trigger: z.string().describe('"-PT15M" before the start, or an absolute ISO 8601 time'),
  relatedTo: z.enum(["start", "end"]),
  description: z.string().nullable(),
});
/** A reminder (VALARM). */
export type Alarm = z.infer<typeof alarmSchema>;

/** What VEVENT and VTODO share. */
const componentFields = {
  uid: z.string(),
  summary: z.string().nullable(),
  description: z.string().nullable(),
  location: z.string().nullable(),
  url: z.string().nullable(),
  status: z.string().nullable(),
  class: z.string().nullable().describe("PUBLIC, PRIVATE, CONFIDENTIAL"),
  categories: z.array(z.string()),
  organizer: organizerSchema.nullable(),
  attendees: z.array(attendeeSchema),
  rrule: z.string().nullable().describe('the recurrence rule as text, e.g. "FREQ=WEEKLY;BYDAY=TU"'),
  rdates: z.array(z.string()),
  exdates: z.array(z.string()),
  recurrenceId: eventTimeSchema.nullable().describe("set on an overridden instance"),
  alarms: z.array(alarmSchema),
  created: z.string().nullable(),
  lastModified: z.string().nullable(),
  sequence: z.number().int(),
};

/** A parsed VEVENT (the series master or one overridden instance). */
export const calendarEventSchema = z.object({
  ...componentFields,
  start: eventTimeSchema,
  end: eventTimeSchema.describe("exclusive; for all-day events the day after the last day"),
  duration: z.string().describe('ISO 8601 duration, e.g. "PT1H" or "P3D"'),
  transparency: z.enum(["OPAQUE", "TRANSPARENT"]),
});
/** A parsed VEVENT. */
export type CalendarEvent = z.infer<typeof calendarEventSchema>;

/** A parsed VTODO. */
export const calendarTaskSchema = z.object({
  ...componentFields,
  start: eventTimeSchema.nullable(),
  due: eventTimeSchema.nullable(),
  completed: z.string().nullable().describe("when it was completed (ISO 8601)"),
  percentComplete: z.number().int().nullable(),
  priority: z.number().int().nullable().describe("1 highest … 9 lowest, 0 or null undefined"),
});
/** A parsed VTODO. */
export type CalendarTask = z.infer<typeof calendarTaskSchema>;

/** One calendar object resource, parsed: an event series or a task, with overridden instances. */
export type CalendarObject =
  | { kind: "event"; uid: string; master: CalendarEvent; overrides: CalendarEvent[] }
  | { kind: "task"; uid: string; master: CalendarTask; overrides: CalendarTask[] };

/** One occurrence of an event in a time range. */
export const occurrenceSchema = z.object({
  uid: z.string(),
  recurrenceId: z.string().nullable().describe("identifies this instance of a recurring event"),
  summary: z.string().nullable(),
  location: z.string().nullable(),
  status: z.string().nullable(),
  transparency: z.enum(["OPAQUE", "TRANSPARENT"]),
  start: eventTimeSchema,
  end: eventTimeSchema,
  recurring: z.boolean(),
  overridden: z.boolean().describe("this instance was changed on its own"),
});
/** One occurrence of an event in a time range. */
export type Occurrence = z.infer<typeof occurrenceSchema>;

/** Occurrences in a range, with a flag when the limit cut the list. */
export const expansionSchema = z.object({
  occurrences: z.array(occurrenceSchema),
  truncated: z.boolean(),
});
/** Occurrences in a range. */
export type Expansion = z.infer<typeof expansionSchema>;

/** A half-open interval [start, end) as ISO 8601 with offsets. */
export const intervalSchema = z.object({ start: z.string(), end: z.string() });
/** A half-open interval [start, end). */
export type Interval = z.infer<typeof intervalSchema>;

/** Merged busy time and free slots. */
export const freeBusySchema = z.object({ busy: z.array(intervalSchema), free: z.array(intervalSchema) });
/** Merged busy time and free slots. */
export type FreeBusy = z.infer<typeof freeBusySchema>;

const isoLike = z.string().min(1);

/** An attendee to invite. */
export const attendeeInputSchema = z.object({
  email: z.email(),
  name: z.string().optional(),
  role: z.enum(["REQ-PARTICIPANT", "OPT-PARTICIPANT", "CHAIR", "NON-PARTICIPANT"]).optional(),
  rsvp: z.boolean().optional(),
});

/** A reminder to set, in minutes before the start. */
export const alarmInputSchema = z.object({
  minutesBefore: z.number().int().min(0).max(40320),
  description: z.string().optional(),
});

const eventFields = {
  summary: z.string().min(1),
  start: isoLike.describe('"2026-10-20T10:00" (wall clock in timeZone), with an offset, or a date'),
  end: isoLike.optional().describe("exclusive; for all-day events the day after the last day"),
  duration: z.string().optional().describe('ISO 8601 duration instead of end, e.g. "PT30M"'),
  allDay: z.boolean().optional(),
  timeZone: z.string().optional().describe("IANA zone; without it a time with no offset is floating"),
  description: z.string().optional(),
  location: z.string().optional(),
  url: z.string().optional(),
  status: z.enum(["TENTATIVE", "CONFIRMED", "CANCELLED"]).optional(),
  transparency: z.enum(["OPAQUE", "TRANSPARENT"]).optional(),
  class: z.enum(["PUBLIC", "PRIVATE", "CONFIDENTIAL"]).optional(),
  categories: z.array(z.string()).optional(),
  organizer: z.object({ email: z.email(), name: z.string().optional() }).optional(),
  attendees: z.array(attendeeInputSchema).optional(),
  rrule: z.string().optional().describe('e.g. "FREQ=WEEKLY;BYDAY=TU;COUNT=10"'),
  alarms: z.array(alarmInputSchema).optional(),
};

/** What a new event needs. */
export const newEventSchema = z.object(eventFields);
/** What a new event needs. */
export type NewEvent = z.infer<typeof newEventSchema>;

/** Fields to change on an event; null removes an optional field. */
export const eventPatchSchema = z.object({
  summary: z.string().min(1).optional(),
  start: isoLike.optional(),
  end: isoLike.nullable().optional(),
  duration: z.string().nullable().optional(),
  allDay: z.boolean().optional(),
  timeZone: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  location: z.string().nullable().optional(),
  url: z.string().nullable().optional(),
  status: z.enum(["TENTATIVE", "CONFIRMED", "CANCELLED"]).nullable().optional(),
  transparency: z.enum(["OPAQUE", "TRANSPARENT"]).optional(),
  class: z.enum(["PUBLIC", "PRIVATE", "CONFIDENTIAL"]).nullable().optional(),
  categories: z.array(z.string()).nullable().optional(),
  organizer: z.object({ email: z.email(), name: z.string().optional() }).nullable().optional(),
  attendees: z.array(attendeeInputSchema).nullable().optional(),
  rrule: z.string().nullable().optional(),
  alarms: z.array(alarmInputSchema).nullable().optional(),
});
/** Fields to change on an event. */
export type EventPatch = z.infer<typeof eventPatchSchema>;

/** What a new task needs. */
export const newTaskSchema = z.object({
  summary: z.string().min(1),
  description: z.string().optional(),
  start: isoLike.optional(),
  due: isoLike.optional().describe("a date, a wall-clock time in timeZone, or a time with an offset"),
  timeZone: z.string().optional(),
  priority: z.number().int().min(0).max(9).optional(),
  status: z.enum(["NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "CANCELLED"]).optional(),
  percentComplete: z.number().int().min(0).max(100).optional(),
  categories: z.array(z.string()).optional(),
  location: z.string().optional(),
  url: z.string().optional(),
  class: z.enum(["PUBLIC", "PRIVATE", "CONFIDENTIAL"]).optional(),
});
/** What a new task needs. */
export type NewTask = z.infer<typeof newTaskSchema>;

/** Fields to change on a task; null removes an optional field. */
export const taskPatchSchema = z.object({
  summary: z.string().min(1).optional(),
  description: z.string().nullable().optional(),
  start: isoLike.nullable().optional(),
  due: isoLike.nullable().optional(),
  timeZone: z.string().nullable().optional(),
  priority: z.number().int().min(0).max(9).nullable().optional(),
  status: z.enum(["NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "CANCELLED"]).optional(),
  percentComplete: z.number().int().min(0).max(100).nullable().optional(),
  categories: z.array(z.string()).nullable().optional(),
  location: z.string().nullable().optional(),
  url: z.string().nullable().optional(),
  class: z.enum(["PUBLIC", "PRIVATE", "CONFIDENTIAL"]).nullable().optional(),
});
/** Fields to change on a task. */
export type TaskPatch = z.infer<typeof taskPatchSchema>;
