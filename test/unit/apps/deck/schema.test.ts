// Deck's JSON mapped to what the tools return, the update body that keeps what Deck would clear, the
// resolution of labels and people by name, and the errors that carry Deck's own words.
import { describe, expect, it } from "vitest";
import { deckError } from "../../../../src/apps/deck/client.ts";
import { refuseStale } from "../../../../src/apps/deck/common.ts";
import {
  boardSummary,
  cardOut,
  cardUpdateBody,
  isoDate,
  membersOf,
  resolveLabels,
  resolveUsers,
  type RawBoard,
  type RawCard,
} from "../../../../src/apps/deck/schema.ts";
import type { NextcloudError } from "../../../../src/nextcloud/index.ts";
import { errorFromResponse } from "../../../../src/nextcloud/index.ts";

const board: RawBoard = {
  id: 7,
  title: "Launch",
  color: "ff0000",
  owner: { primaryKey: "alice", uid: "alice", displayname: "Alice Demo" },
  archived: false,
  deletedAt: 0,
  permissions: {
    PERMISSION_READ: true,
    PERMISSION_EDIT: true,
    PERMISSION_MANAGE: false,
    PERMISSION_SHARE: false,
  },
  labels: [
    { id: 1, title: "Finished", color: "31CC7C" },
    { id: 2, title: "Later", color: "F1DB50" },
  ],
  acl: [
    { id: 9, type: 0, participant: { uid: "bob", displayname: "Bob Demo" }, permissionEdit: true },
    { id: 10, type: 1, participant: { uid: "staff", displayname: "Staff" } },
  ],
};

const card: RawCard = {
  id: 81,
  title: "Write the plan",
  description: "Outline",
  stackId: 4,
  type: "plain",
  owner: "alice",
  order: 3,
  duedate: "2026-06-01T15:00:00+00:00",
  done: null,
  labels: [{ id: 2, title: "Later", color: "F1DB50" }],
  assignedUsers: [{ id: 5, participant: { uid: "bob", displayname: "Bob Demo" } }],
  lastModified: 1_780_000_000,
  ETag: "abc",
};

describe("deck shapes", () => {
  it("summarises a board with the permissions the user holds, deleted when deletedAt is set", () => {
    expect(boardSummary(board)).toEqual({
      id: 7,
      title: "Launch",
      color: "ff0000",
      owner: "alice",
      archived: false,
      deleted: false,
      permissions: ["read", "edit"],
    });
    expect(boardSummary({ ...board, deletedAt: 1_700_000_000, owner: "carol" })).toMatchObject({
      deleted: true,
      owner: "carol",
    });
  });

  it("lists the owner and the users a board is shared with, not groups", () => {
    expect(membersOf(board)).toEqual([
      { uid: "alice", displayName: "Alice Demo", permissions: ["edit", "manage", "share"] },
      { uid: "bob", displayName: "Bob Demo", permissions: ["edit"] },
    ]);
  });

  it("maps a card in full, taking the response's ETag over the body's", () => {
    const out = cardOut(card, 7, "def");
    expect(out).toMatchObject({
      id: 81,
      boardId: 7,
      stackId: 4,
      owner: "alice",
      labels: [{ id: 2, title: "Later", color: "F1DB50" }],
      assignees: [{ uid: "bob", displayName: "Bob Demo" }],
      dueDate: "2026-06-01T15:00:00+00:00",
      done: null,
      deleted: false,
      etag: "def",
      lastModified: new Date(1_780_000_000_000).toISOString(),
    });
    expect(cardOut(card, 7, null).etag).toBe("abc");
  });

  it("builds an update body that carries every field Deck would otherwise clear (done, due date)", () => {
    const done = { ...card, done: "2026-05-01T10:00:00+00:00", owner: { uid: "alice" } };
    expect(cardUpdateBody(done, { title: "New" })).toEqual({
      title: "New",
      description: "Outline",
      type: "plain",
      owner: "alice",
      order: 3,
      duedate: "2026-06-01T15:00:00+00:00",
      done: "2026-05-01T10:00:00+00:00",
    });
    expect(cardUpdateBody(card, { duedate: null }).duedate).toBeNull();
  });

  it("reads ISO 8601 dates and bare days, and refuses anything else", () => {
    expect(isoDate("2026-06-01T17:00:00+02:00")).toBe("2026-06-01T15:00:00+00:00");
    expect(isoDate("2026-06-01")).toBe("2026-06-01T00:00:00+00:00");
    expect(isoDate("next friday")).toBeUndefined();
    expect(isoDate("06/01/2026")).toBeUndefined();
  });

  it("resolves labels by id or title and people by uid or display name, naming what is unknown", () => {
    expect(resolveLabels([2, "finished", "Nope", 99], board.labels ?? [])).toEqual({
      ids: [2, 1],
      unknown: ["Nope", 99],
    });
    expect(resolveUsers(["Bob Demo", "alice", "carol"], membersOf(board))).toEqual({
      uids: ["bob", "alice"],
      unknown: ["carol"],
    });
  });
});

describe("deck errors", () => {
  const said = (status: number, message: string) =>
    errorFromResponse(status, new Headers(), "Deck card 5", { message });

  it("keep Deck's message for 400, 403 and 404", () => {
    const bad = deckError(said(400, "The user is not part of the board"), "Deck card 5") as NextcloudError;
    expect(bad.description).toContain('Deck said: "The user is not part of the board"');
    expect(bad.status).toBe(409);
    const denied = deckError(said(403, "Permission denied"), "Deck card 5") as NextcloudError;
    expect(denied.kind).toBe("forbidden");
    expect(denied.description).toMatch(/Deck said: "Permission denied".*not shared with you/);
    expect((deckError(said(404, "No comment found."), "comment 3") as NextcloudError).description).toBe(
      'Comment 3 was not found. Deck said: "No comment found.".',
    );
  });

  it("pass the CORS refusal and other errors through unchanged", () => {
    const refused = said(401, "CORS requires basic auth");
    expect(deckError(refused, "Deck card 5")).toBe(refused);
    const other = new Error("boom");
    expect(deckError(other, "x")).toBe(other);
  });

  it("refuse a stale etag, and let a matching or absent one through", () => {
    expect(() => {
      refuseStale("Card 5", "old", "new");
    }).toThrow(/changed in Deck since you read it \(etag old, now new\)/);
    expect(() => {
      refuseStale("Card 5", '"same"', "same");
    }).not.toThrow();
    expect(() => {
      refuseStale("Card 5", undefined, "new");
    }).not.toThrow();
  });
});
