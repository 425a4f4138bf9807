// What the gateway reads from a webhook_listeners envelope: per user the changed paths (node
// events) or the user alone (calendar object events); everything else ignored; bodies that are not
// envelopes, and paths that try to leave the user's files, refused with what is wrong. And the
// event-time bound that keeps old deliveries out.
import { describe, expect, it } from "vitest";
import { eventTimeProblem, nodePath, parseDelivery } from "../../../src/http/webhook-payload.ts";

const T = 1_780_000_000;
const node = (
  kind: string,
  event: Record<string, unknown>,
  user: unknown = { uid: "alice", displayName: "A" },
) => ({
  event: { class: `OCP\\Files\\Events\\Node\\Node${kind}Event`, ...event },
  user,
  time: T,
});

describe("parseDelivery", () => {
  it("takes the user and the path below their files from node events, and nothing else", () => {
    expect(parseDelivery(node("Written", { node: { id: 7, path: "/alice/files/Docs/a b.md" } }))).toEqual({
      kind: "change",
      eventClass: "OCP\\Files\\Events\\Node\\NodeWrittenEvent",
      time: new Date(T * 1000),
      changes: [{ uid: "alice", paths: ["/Docs/a b.md"] }],
    });
    // Deleted nodes carry no id; the root of the files is "/".
    expect(parseDelivery(node("Deleted", { node: { path: "/alice/files" } }))).toMatchObject({
      changes: [{ uid: "alice", paths: ["/"] }],
    });
    for (const kind of ["Created", "Touched"]) {
      expect(parseDelivery(node(kind, { node: { path: "/alice/files/x" } }))).toMatchObject({
        kind: "change",
      });
    }
  });

  it("takes both ends of a rename or copy, grouped by user", () => {
    expect(
      parseDelivery(
        node("Renamed", { source: { path: "/alice/files/A/x.md" }, target: { path: "/alice/files/B/x.md" } }),
      ),
    ).toMatchObject({ changes: [{ uid: "alice", paths: ["/A/x.md", "/B/x.md"] }] });
    expect(
      parseDelivery(
        node("Copied", { source: { path: "/alice/files/x.md" }, target: { path: "/bob/files/Shared/x.md" } }),
      ),
    ).toMatchObject({
      changes: [
        { uid: "alice", paths: ["/x.md"] },
        { uid: "bob", paths: ["/Shared/x.md"] },
      ],
    });
  });

  it("ignores nodes outside a user's files, other events, and events before the change", () => {
    for (const path of [
      "/alice/files_versions/x.md.v1",
      "/alice/files_trashbin/files/x.d1",
      "/appdata_x/y",
    ]) {
      expect(parseDelivery(node("Written", { node: { path } }))).toMatchObject({ kind: "ignored" });
    }
    for (const cls of [
      "OCP\\Files\\Events\\Node\\BeforeNodeWrittenEvent",
      "OCP\\User\\Events\\UserLoggedInEvent",
      "OCP\\SystemTag\\MapperEvent",
      "Evil\\OCP\\Files\\Events\\Node\\NodeWrittenEvent",
    ]) {
      expect(
        parseDelivery({ event: { class: cls, node: { path: "/alice/files/x" } }, time: T }),
      ).toMatchObject({
        kind: "ignored",
        eventClass: cls,
      });
    }
  });

  it("takes the calendar's owner from calendar object events, else the acting user, never the data", () => {
    const cal = (calendarData: unknown, user: unknown) => ({
      event: {
        class: "OCP\\Calendar\\Events\\CalendarObjectCreatedEvent",
        calendarId: 3,
        calendarData,
        shares: [],
        objectData: { calendardata: "BEGIN:VCALENDAR…" },
      },
      user,
      time: T,
    });
    expect(parseDelivery(cal({ principaluri: "principals/users/carol" }, { uid: "alice" }))).toEqual({
      kind: "change",
      eventClass: "OCP\\Calendar\\Events\\CalendarObjectCreatedEvent",
      time: new Date(T * 1000),
      changes: [{ uid: "carol", paths: [] }],
    });
    expect(parseDelivery(cal({ principaluri: "principals/groups/x" }, { uid: "alice" }))).toMatchObject({
      changes: [{ uid: "alice", paths: [] }],
    });
    expect(parseDelivery(cal({}, null))).toMatchObject({ kind: "ignored" });
    expect(
      parseDelivery({
        ...cal({ principaluri: "principals/users/dan" }, null),
        event: {
          class: "OCA\\DAV\\Events\\CalendarObjectMovedToTrashEvent",
          calendarData: { principaluri: "principals/users/dan" },
        },
      }),
    ).toMatchObject({ changes: [{ uid: "dan", paths: [] }] });
  });

  it("refuses bodies that are not envelopes, naming what is missing", () => {
    expect(parseDelivery([])).toEqual({ problem: expect.stringContaining("JSON object") as unknown });
    expect(parseDelivery(null)).toHaveProperty("problem");
    expect(parseDelivery({ time: T })).toEqual({ problem: expect.stringContaining('"event"') as unknown });
    expect(parseDelivery({ event: { class: "" }, time: T })).toHaveProperty("problem");
    for (const time of [undefined, "1780000000", 1.5, -1, 0, Number.MAX_VALUE]) {
      expect(parseDelivery({ event: { class: "X" }, time }), String(time)).toEqual({
        problem: expect.stringContaining('"time"') as unknown,
      });
    }
    expect(parseDelivery(node("Written", {}))).toEqual({
      problem: expect.stringContaining("event.node") as unknown,
    });
    expect(parseDelivery(node("Renamed", { source: { path: "/alice/files/x" } }))).toEqual({
      problem: expect.stringContaining("event.target") as unknown,
    });
  });

  it("refuses paths that are not clean absolute paths", () => {
    for (const path of [
      "alice/files/x",
      "",
      42,
      "/alice/files/../bob/files/x",
      "/alice/files/./x",
      "/alice//files/x",
      "/alice/files/x/",
      "/alice/files/a\u0000b",
      "/alice/files/a\nb",
      `/alice/files/${"x".repeat(5000)}`,
    ]) {
      expect(parseDelivery(node("Written", { node: { path } })), JSON.stringify(path)).toHaveProperty(
        "problem",
      );
    }
  });
});

describe("nodePath", () => {
  it("splits /<uid>/files/<path>", () => {
    expect(nodePath("/alice/files/a/b", "n")).toEqual({ uid: "alice", path: "/a/b" });
    expect(nodePath("/alice@example.com/files/a", "n")).toEqual({ uid: "alice@example.com", path: "/a" });
    expect(nodePath("/alice/filesx/a", "n")).toBeUndefined();
    expect(() => nodePath("/a/files/..", "event.node")).toThrow(/^event\.node\.path /);
  });
});

describe("eventTimeProblem", () => {
  const now = new Date("2026-12-05T12:00:00Z");
  const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
  it("accepts times within the bound and a little ahead", () => {
    expect(eventTimeProblem(at(0), now, 3600_000)).toBeUndefined();
    expect(eventTimeProblem(at(-3600), now, 3600_000)).toBeUndefined();
    expect(eventTimeProblem(at(300), now, 3600_000)).toBeUndefined();
  });
  it("refuses older times and times far ahead, saying why", () => {
    expect(eventTimeProblem(at(-3601), now, 3600_000)).toMatch(
      /more than 3600 seconds old \(WEBHOOK_MAX_AGE_SECONDS\)/,
    );
    expect(eventTimeProblem(at(301), now, 3600_000)).toMatch(/ahead of the gateway's clock/);
  });
});
