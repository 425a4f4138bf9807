import { describe, expect, it } from "vitest";
import { parseCalendarObject } from "../../../../src/apps/calendar/ical.ts";
import type { CalendarTask } from "../../../../src/apps/calendar/schema.ts";
import {
  completeTask,
  createTask,
  reopenTask,
  updateTask,
} from "../../../../src/apps/calendar/task-write.ts";
import { fixture } from "./fixtures.ts";

const now = new Date("2026-10-28T16:45:00Z");

function task(ics: string): CalendarTask {
  const parsed = parseCalendarObject(ics, { zone: "Europe/Berlin" });
  if (parsed.kind !== "task") throw new Error("expected a task");
  return parsed.master;
}

describe("tasks", () => {
  it("completes a Nextcloud task and reopens it, keeping its X- properties", () => {
    const done = completeTask(fixture("task-nextcloud.ics"), { now });
    expect(task(done)).toMatchObject({
      status: "COMPLETED",
      completed: "2026-10-28T16:45:00Z",
      percentComplete: 100,
      sequence: 1,
      summary: "Write quarterly report",
    });
    expect(done).toContain("X-APPLE-SORT-ORDER:725184000");
    expect(done).toContain("X-OC-HIDESUBTASKS:0");
    const open = reopenTask(done, { now });
    expect(task(open)).toMatchObject({
      status: "NEEDS-ACTION",
      completed: null,
      percentComplete: 0,
      sequence: 2,
    });
    expect(open).toContain("X-OC-HIDESUBTASKS:0");
  });

  it("creates a task with a due time in the user's zone and its VTIMEZONE", () => {
    const { ics } = createTask(
      { summary: "Call the bank", due: "2026-11-02T12:00", timeZone: "Europe/Berlin", priority: 5 },
      { now, uid: "task-1" },
    );
    expect(ics).toContain("BEGIN:VTIMEZONE");
    expect(task(ics)).toMatchObject({
      uid: "task-1",
      summary: "Call the bank",
      due: { value: "2026-11-02T12:00:00+01:00", timeZone: "Europe/Berlin" },
      status: "NEEDS-ACTION",
      priority: 5,
      completed: null,
    });
  });

  it("changes the due date in the task's own zone and clears the description", () => {
    const t = task(
      updateTask(fixture("task-nextcloud.ics"), { due: "2026-11-06T09:00", description: null }, { now }),
    );
    expect(t.due?.value).toBe("2026-11-06T09:00:00+01:00");
    expect(t.description).toBeNull();
    expect(t.priority).toBe(1);
  });

  it("refuses a due date before the start and an event given as a task", () => {
    expect(() => createTask({ summary: "x", start: "2026-11-02", due: "2026-11-01" })).toThrow(
      /due must not be before start/,
    );
    expect(() => completeTask(fixture("floating.ics"))).toThrow(/is an event, not a task/);
  });
});
