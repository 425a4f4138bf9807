// The Deck tools end to end: real sign-in, the real Keycloak token exchange, the stand-in's Deck
// (test/standin/apps/deck.ts). Alice builds a board, shares it with Bob, assigns him a card; Bob sees
// it, never sees her unshared board, and an update on a card that changed since it was read is
// refused. In strict CORS mode (Nextcloud 30, or a proxy that strips OCS-APIRequest) every tool on
// Deck's #[CORS] REST routes fails with the refusal that names the fix; the OCS comments keep working.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorFromResponse, ROUTE_RECHECK_MS, RouteProbe } from "../../../src/nextcloud/index.ts";
import type { DeckStandin } from "../../standin/apps/deck.ts";
import type { ToolResult } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

const TOOLS = [
  "deck_assign",
  "deck_attachment",
  "deck_board",
  "deck_card",
  "deck_comment",
  "deck_get_board",
  "deck_get_card",
  "deck_label",
  "deck_list_boards",
  "deck_list_comments",
  "deck_stack",
];

interface Board {
  id: number;
  title: string;
  archived: boolean;
  deleted: boolean;
  owner: string;
  permissions: string[];
}
interface CardSummary {
  id: number;
  stackId: number;
  title: string;
  dueDate: string | null;
  done: string | null;
  labels: string[];
  assignees: string[];
}
interface Card extends CardSummary {
  boardId: number;
  description: string;
  labels: { id: number; title: string }[] & string[];
  assignees: { uid: string; displayName: string }[] & string[];
  etag: string | null;
  deleted: boolean;
  archived: boolean;
}
interface GotBoard {
  unchanged: boolean;
  etag: string | null;
  board: Board | null;
  labels: { id: number; title: string; color: string }[];
  people: { uid: string; displayName: string; permissions: string[] }[];
  stacks: { id: number; title: string; order: number; cards: CardSummary[] }[];
}
interface Boards {
  unchanged: boolean;
  etag: string | null;
  boards: Board[];
  total: number;
}
interface Comment {
  id: number;
  message: string;
  author: string;
  replyTo: number | null;
}

let scene: NextcloudScene;
let alice: string;
let bob: string;
let aliceUid: string;
let bobUid: string;
let deck: DeckStandin;

// The gateway's route probe on the test's clock: a refusal of the #[CORS] routes is remembered until
// the clock has passed the recheck interval.
let now = 1_000_000;
const routes = new RouteProbe({ now: () => now });

beforeAll(async () => {
  scene = await startNextcloudScene({}, { routeProbe: routes });
  alice = await scene.signIn("alice");
  bob = await scene.signIn("bob");
  aliceUid = claims(alice).sub ?? "";
  bobUid = claims(bob).sub ?? "";
  deck = scene.standin.app<DeckStandin>("deck");
});
afterAll(async () => {
  await scene.stop();
});

async function ok<T>(as: string, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = await scene.call(as, name, args);
  expect(r.isError, r.content[0]?.text).toBeFalsy();
  return r.structuredContent as T;
}
async function fails(as: string, name: string, args: Record<string, unknown>): Promise<string> {
  const r: ToolResult = await scene.call(as, name, args);
  expect(r.isError, JSON.stringify(r.structuredContent)).toBe(true);
  return r.content[0]?.text ?? "";
}

/** Alice's board with To do / Doing / Done and one card; returns the ids. */
async function aliceBoard(title: string) {
  const { board } = await ok<{ board: Board }>(alice, "deck_board", {
    action: "create",
    title,
    color: "#FF0000",
  });
  const stacks: Record<string, number> = {};
  for (const t of ["To do", "Doing", "Done"]) {
    const { stack } = await ok<{ stack: { id: number } }>(alice, "deck_stack", {
      action: "create",
      board: board.id,
      title: t,
    });
    stacks[t] = stack.id;
  }
  const todo = stacks["To do"] ?? 0;
  const { card } = await ok<{ card: Card }>(alice, "deck_card", {
    action: "create",
    board: board.id,
    stack: todo,
    title: "Write the plan",
    description: "Outline **first**",
    dueDate: "2026-06-01T17:00:00+02:00",
  });
  return { board: board.id, todo, doing: stacks.Doing ?? 0, done: stacks.Done ?? 0, card: card.id };
}

describe("the deck tools", () => {
  it("build a board: lists in order, a card with description and due date, the board's default labels", async () => {
    const ids = await aliceBoard("Launch");
    const got = await ok<GotBoard>(alice, "deck_get_board", { board: ids.board });
    expect(got.board).toMatchObject({
      title: "Launch",
      owner: aliceUid,
      permissions: ["read", "edit", "manage", "share"],
    });
    expect(got.stacks.map((s) => s.title)).toEqual(["To do", "Doing", "Done"]);
    expect(got.stacks[0]?.cards).toEqual([
      expect.objectContaining({
        id: ids.card,
        title: "Write the plan",
        dueDate: "2026-06-01T15:00:00+00:00",
        done: null,
      }),
    ]);
    expect(got.labels.map((l) => l.title)).toEqual(["Finished", "To review", "Action needed", "Later"]);
    const card = await ok<{ card: Card }>(alice, "deck_get_card", {
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
    });
    expect(card.card).toMatchObject({
      description: "Outline **first**",
      boardId: ids.board,
      stackId: ids.todo,
    });
    expect(card.card.etag).toMatch(/^[0-9a-f]{32}$/);
    const list = await ok<Boards>(alice, "deck_list_boards");
    expect(list.boards.map((b) => b.title)).toContain("Launch");
  });

  it("share with Bob: he sees the board and the card assigned to him, and never Alice's unshared board", async () => {
    const shared = await aliceBoard("Shared roadmap");
    const secret = await aliceBoard("Alice private");
    await ok(bob, "deck_list_boards"); // Bob signs in to Nextcloud once (user_oidc provisions him).
    deck.share(shared.board, bobUid, { edit: true });

    // Assigning works by display name once he is on the board.
    const assigned = await ok<{ card: Card }>(alice, "deck_assign", {
      board: shared.board,
      stack: shared.todo,
      card: shared.card,
      addUsers: ["Bob Demo"],
      addLabels: ["Action needed"],
    });
    expect(assigned.card.assignees).toEqual([{ uid: bobUid, displayName: "Bob Demo" }]);
    expect(assigned.card.labels.map((l) => l.title)).toEqual(["Action needed"]);

    const detailed = await ok<{ boards: (Board & { labels: string[]; people: string[] })[] }>(
      alice,
      "deck_list_boards",
      { details: true },
    );
    expect(detailed.boards.find((b) => b.id === shared.board)).toMatchObject({
      labels: ["Finished", "To review", "Action needed", "Later"],
      people: [aliceUid, bobUid],
    });
    const bobs = await ok<Boards>(bob, "deck_list_boards");
    expect(bobs.boards.map((b) => b.title)).toEqual(["Shared roadmap"]);
    expect(bobs.boards[0]?.permissions).toEqual(["read", "edit"]);
    const seen = await ok<{ card: Card }>(bob, "deck_get_card", {
      board: shared.board,
      stack: shared.todo,
      card: shared.card,
    });
    expect(seen.card.assignees.map((a) => a.uid)).toEqual([bobUid]);

    // Alice's other board: Deck answers 403 "Permission denied" whether it exists or not.
    for (const [name, args] of [
      ["deck_get_board", { board: secret.board }],
      ["deck_get_card", { board: secret.board, stack: secret.todo, card: secret.card }],
      [
        "deck_card",
        { action: "update", board: secret.board, stack: secret.todo, card: secret.card, title: "mine" },
      ],
    ] as const) {
      expect(await fails(bob, name, args)).toContain('Deck said: "Permission denied"');
    }
    expect(await fails(bob, "deck_list_comments", { card: secret.card })).toMatch(/Permission denied/);
    expect(deck.store.cards.get(secret.card)?.title).toBe("Write the plan");

    // Unassigning someone not on the board is refused with the people who are.
    const msg = await fails(alice, "deck_assign", {
      board: secret.board,
      stack: secret.todo,
      card: secret.card,
      addUsers: ["Bob Demo"],
    });
    expect(msg).toContain("not on board");
  });

  it("refuses what a read-only share does not allow, with Deck's message", async () => {
    const ids = await aliceBoard("Read only");
    deck.share(ids.board, bobUid, {});
    const msg = await fails(bob, "deck_card", {
      action: "update",
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
      title: "Bob's",
    });
    expect(msg).toContain("Permission denied");
    expect(msg).toContain("permission");
    expect(
      await fails(bob, "deck_stack", { action: "create", board: ids.board, title: "Bob's list" }),
    ).toContain("Permission denied");
    expect(deck.store.cards.get(ids.card)?.title).toBe("Write the plan");
  });

  it("refuses an update against a stale etag (Bob changed the card meanwhile) and changes nothing", async () => {
    const ids = await aliceBoard("Conflicts");
    deck.share(ids.board, bobUid, { edit: true });
    const read = await ok<{ card: Card }>(alice, "deck_get_card", {
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
    });
    await ok(bob, "deck_card", {
      action: "update",
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
      title: "Bob's title",
    });
    const msg = await fails(alice, "deck_card", {
      action: "update",
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
      description: "Alice's text",
      etag: read.card.etag,
    });
    expect(msg).toMatch(/changed in Deck since you read it/);
    expect(deck.store.cards.get(ids.card)).toMatchObject({
      title: "Bob's title",
      description: "Outline **first**",
    });
    // With the current etag it goes through, and keeps the due date (Deck would clear what is left out).
    const fresh = await ok<{ card: Card }>(alice, "deck_get_card", {
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
    });
    const updated = await ok<{ card: Card }>(alice, "deck_card", {
      action: "update",
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
      description: "Alice's text",
      etag: fresh.card.etag,
    });
    expect(updated.card).toMatchObject({
      title: "Bob's title",
      description: "Alice's text",
      dueDate: "2026-06-01T15:00:00+00:00",
    });
  });

  it("answers unchanged for a current board or board-list etag, and not after a change", async () => {
    const ids = await aliceBoard("Etags");
    const list = await ok<Boards>(alice, "deck_list_boards");
    expect((await ok<Boards>(alice, "deck_list_boards", { etag: list.etag })).unchanged).toBe(true);
    const board = await ok<GotBoard>(alice, "deck_get_board", { board: ids.board });
    expect(await ok<GotBoard>(alice, "deck_get_board", { board: ids.board, etag: board.etag })).toMatchObject(
      { unchanged: true, stacks: [] },
    );
    await ok(alice, "deck_card", {
      action: "update",
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
      title: "Changed",
    });
    expect(
      (await ok<GotBoard>(alice, "deck_get_board", { board: ids.board, etag: board.etag })).unchanged,
    ).toBe(false);
    expect((await ok<Boards>(alice, "deck_list_boards", { etag: list.etag })).unchanged).toBe(false);
    const since = await ok<Boards>(alice, "deck_list_boards", {
      modifiedSince: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(since.boards).toEqual([]);
  });

  it("move, reorder, mark done, archive and delete cards; move to another board keeps labels by title", async () => {
    const ids = await aliceBoard("Flow");
    const second = await ok<{ card: Card }>(alice, "deck_card", {
      action: "create",
      board: ids.board,
      stack: ids.todo,
      title: "Second",
    });
    const reordered = await ok<{ card: Card }>(alice, "deck_card", {
      action: "reorder",
      board: ids.board,
      stack: ids.todo,
      card: second.card.id,
      order: 0,
    });
    expect(reordered.card.stackId).toBe(ids.todo);
    let board = await ok<GotBoard>(alice, "deck_get_board", { board: ids.board });
    expect(board.stacks[0]?.cards.map((c) => c.title)).toEqual(["Second", "Write the plan"]);

    await ok(alice, "deck_card", {
      action: "move",
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
      toStack: ids.doing,
    });
    const done = await ok<{ card: Card }>(alice, "deck_card", {
      action: "done",
      board: ids.board,
      stack: ids.doing,
      card: ids.card,
    });
    expect(done.card.done).not.toBeNull();
    expect(done.card.dueDate).toBe("2026-06-01T15:00:00+00:00");
    const undone = await ok<{ card: Card }>(alice, "deck_card", {
      action: "undone",
      board: ids.board,
      stack: ids.doing,
      card: ids.card,
    });
    expect(undone.card.done).toBeNull();
    board = await ok<GotBoard>(alice, "deck_get_board", { board: ids.board });
    expect(board.stacks.map((s) => s.cards.map((c) => c.title))).toEqual([
      ["Second"],
      ["Write the plan"],
      [],
    ]);

    await ok(alice, "deck_card", {
      action: "archive",
      board: ids.board,
      stack: ids.todo,
      card: second.card.id,
    });
    board = await ok<GotBoard>(alice, "deck_get_board", { board: ids.board });
    expect(board.stacks[0]?.cards).toEqual([]);
    const archived = await ok<GotBoard>(alice, "deck_get_board", { board: ids.board, archived: true });
    expect(archived.stacks[0]?.cards.map((c) => c.title)).toEqual(["Second"]);
    await ok(alice, "deck_card", {
      action: "unarchive",
      board: ids.board,
      stack: ids.todo,
      card: second.card.id,
    });
    await ok(alice, "deck_card", {
      action: "delete",
      board: ids.board,
      stack: ids.todo,
      card: second.card.id,
    });
    board = await ok<GotBoard>(alice, "deck_get_board", { board: ids.board });
    expect(board.stacks[0]?.cards).toEqual([]);

    const other = await aliceBoard("Elsewhere");
    await ok(alice, "deck_assign", {
      board: ids.board,
      stack: ids.doing,
      card: ids.card,
      addLabels: ["Later"],
    });
    const moved = await ok<{ card: Card }>(alice, "deck_card", {
      action: "move",
      board: ids.board,
      stack: ids.doing,
      card: ids.card,
      toBoard: other.board,
      toStack: other.done,
    });
    expect(moved.card).toMatchObject({ boardId: other.board, stackId: other.done });
    expect(moved.card.labels.map((l) => l.title)).toEqual(["Later"]);
    const there = await ok<GotBoard>(alice, "deck_get_board", { board: other.board });
    expect(there.stacks[2]?.cards.map((c) => c.id)).toEqual([ids.card]);
  });

  it("manage lists and labels: rename, reorder, delete; create, recolor, remove from a card", async () => {
    const ids = await aliceBoard("Lists");
    await ok(alice, "deck_stack", {
      action: "rename",
      board: ids.board,
      stack: ids.doing,
      title: "In progress",
    });
    await ok(alice, "deck_stack", { action: "reorder", board: ids.board, stack: ids.done, order: 0 });
    await ok(alice, "deck_stack", { action: "delete", board: ids.board, stack: ids.todo });
    const got = await ok<GotBoard>(alice, "deck_get_board", { board: ids.board });
    expect(got.stacks.map((s) => s.title)).toEqual(["Done", "In progress"]);

    const { label } = await ok<{ label: { id: number } }>(alice, "deck_label", {
      action: "create",
      board: ids.board,
      title: "Urgent",
      color: "ff0000",
    });
    expect(
      await fails(alice, "deck_label", { action: "create", board: ids.board, title: "Urgent" }),
    ).toContain("title must be unique");
    await ok(alice, "deck_label", { action: "update", board: ids.board, label: label.id, color: "00ff00" });
    const card = await ok<{ card: Card }>(alice, "deck_card", {
      action: "create",
      board: ids.board,
      stack: ids.done,
      title: "Labelled",
    });
    const on = await ok<{ card: Card }>(alice, "deck_assign", {
      board: ids.board,
      stack: ids.done,
      card: card.card.id,
      addLabels: [label.id, "later"],
    });
    expect(on.card.labels.map((l) => l.title).sort()).toEqual(["Later", "Urgent"]);
    const off = await ok<{ card: Card }>(alice, "deck_assign", {
      board: ids.board,
      stack: ids.done,
      card: card.card.id,
      removeLabels: ["Urgent"],
    });
    expect(off.card.labels.map((l) => l.title)).toEqual(["Later"]);
    await ok(alice, "deck_label", { action: "delete", board: ids.board, label: label.id });
    const labels = (await ok<GotBoard>(alice, "deck_get_board", { board: ids.board })).labels;
    expect(labels.map((l) => l.title)).not.toContain("Urgent");
    expect(
      await fails(alice, "deck_assign", {
        board: ids.board,
        stack: ids.done,
        card: card.card.id,
        addLabels: ["Nope"],
      }),
    ).toContain('No label "Nope"');
  });

  it("comments: Alice writes, Bob reads and answers, only authors edit or delete", async () => {
    const ids = await aliceBoard("Talk");
    deck.share(ids.board, bobUid, {});
    const { comment } = await ok<{ comment: Comment }>(alice, "deck_comment", {
      action: "create",
      card: ids.card,
      message: "Ready?",
    });
    const answer = await ok<{ comment: Comment }>(bob, "deck_comment", {
      action: "create",
      card: ids.card,
      message: "Yes",
      replyTo: comment.id,
    });
    expect(answer.comment.replyTo).toBe(comment.id);
    const listed = await ok<{ comments: Comment[]; nextOffset: number | null }>(bob, "deck_list_comments", {
      card: ids.card,
      limit: 1,
    });
    expect(listed.comments.map((c) => c.message)).toEqual(["Yes"]);
    expect(listed.nextOffset).toBe(1);
    expect(
      await fails(bob, "deck_comment", {
        action: "update",
        card: ids.card,
        comment: comment.id,
        message: "No",
      }),
    ).toContain("Only authors are allowed to edit their comment.");
    await ok(alice, "deck_comment", {
      action: "update",
      card: ids.card,
      comment: comment.id,
      message: "Ready now?",
    });
    await ok(alice, "deck_comment", { action: "delete", card: ids.card, comment: comment.id });
    const after = await ok<{ comments: Comment[] }>(alice, "deck_list_comments", { card: ids.card });
    expect(after.comments.map((c) => c.message)).toEqual(["Yes"]);
  });

  it("attachments: a file from Alice's files is attached, listed on the card, and removed", async () => {
    const ids = await aliceBoard("Files");
    await scene.standin.seed(aliceUid, { "Documents/plan.txt": "the plan" });
    const { attachment } = await ok<{ attachment: { id: number; name: string; size: number } }>(
      alice,
      "deck_attachment",
      {
        action: "attach",
        board: ids.board,
        stack: ids.todo,
        card: ids.card,
        path: "/Documents/plan.txt",
      },
    );
    expect(attachment).toMatchObject({ name: "plan.txt", size: 8 });
    const card = await ok<{ attachments: { id: number; name: string }[] }>(alice, "deck_get_card", {
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
    });
    expect(card.attachments.map((a) => a.name)).toEqual(["plan.txt"]);
    expect(
      await fails(alice, "deck_attachment", {
        action: "attach",
        board: ids.board,
        stack: ids.todo,
        card: ids.card,
        path: "/nope.txt",
      }),
    ).toContain("No file at /nope.txt");
    // A path out of Alice's files is refused by the transport's guard before any request.
    scene.standin.resetRequests();
    expect(
      await fails(alice, "deck_attachment", {
        action: "attach",
        board: ids.board,
        stack: ids.todo,
        card: ids.card,
        path: `/../${bobUid}/files/secret.txt`,
      }),
    ).toMatch(/\.\./);
    expect(scene.standin.requests().filter((q) => q.rawPath.includes(bobUid))).toEqual([]);
    await ok(alice, "deck_attachment", {
      action: "delete",
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
      attachment: attachment.id,
    });
    const gone = await ok<{ attachments: unknown[] }>(alice, "deck_get_card", {
      board: ids.board,
      stack: ids.todo,
      card: ids.card,
    });
    expect(gone.attachments).toEqual([]);
  });

  it("boards: rename, archive, delete and restore; creation refused clearly when the admin disabled it", async () => {
    const ids = await aliceBoard("Old name");
    const renamed = await ok<{ board: Board }>(alice, "deck_board", {
      action: "update",
      board: ids.board,
      title: "New name",
    });
    expect(renamed.board.title).toBe("New name");
    expect(
      (await ok<{ board: Board }>(alice, "deck_board", { action: "archive", board: ids.board })).board
        .archived,
    ).toBe(true);
    expect(
      (await ok<{ board: Board }>(alice, "deck_board", { action: "unarchive", board: ids.board })).board,
    ).toMatchObject({
      archived: false,
      title: "New name",
    });
    await ok(alice, "deck_board", { action: "delete", board: ids.board });
    expect((await ok<Boards>(alice, "deck_list_boards")).boards.map((b) => b.id)).not.toContain(ids.board);
    const withDeleted = await ok<Boards>(alice, "deck_list_boards", { includeDeleted: true });
    expect(withDeleted.boards.find((b) => b.id === ids.board)?.deleted).toBe(true);
    await ok(alice, "deck_board", { action: "restore", board: ids.board });
    expect((await ok<Boards>(alice, "deck_list_boards")).boards.map((b) => b.id)).toContain(ids.board);

    deck.setCanCreateBoards(bobUid, false);
    try {
      const msg = await fails(bob, "deck_board", { action: "create", title: "Bob's" });
      expect(msg).toMatch(/administrator has limited who may create Deck boards/);
    } finally {
      deck.setCanCreateBoards(bobUid, true);
    }
    expect([...deck.store.boards.values()].some((b) => b.title === "Bob's")).toBe(false);
  });
});

describe("the deck tools in strict CORS mode", () => {
  it("fail on every #[CORS] REST route with the refusal that names the fix; comments (OCS) still work", async () => {
    const ids = await aliceBoard("Strict");
    scene.standin.setCorsMode("strict");
    try {
      const refused = (what: string) =>
        errorFromResponse(401, new Headers(), what, { message: "CORS requires basic auth" }).description;
      const calls: [string, Record<string, unknown>, string][] = [
        ["deck_list_boards", {}, "your Deck boards"],
        ["deck_get_board", { board: ids.board }, `Deck board ${String(ids.board)}`],
        [
          "deck_get_card",
          { board: ids.board, stack: ids.todo, card: ids.card },
          `Deck card ${String(ids.card)}`,
        ],
        ["deck_board", { action: "create", title: "x" }, "a new Deck board"],
        [
          "deck_stack",
          { action: "create", board: ids.board, title: "x", order: 1 },
          `a new list on Deck board ${String(ids.board)}`,
        ],
        [
          "deck_card",
          { action: "create", board: ids.board, stack: ids.todo, title: "x" },
          `a new card in Deck list ${String(ids.todo)}`,
        ],
        [
          "deck_assign",
          { board: ids.board, stack: ids.todo, card: ids.card, addLabels: ["Later"] },
          `Deck board ${String(ids.board)}`,
        ],
        [
          "deck_label",
          { action: "create", board: ids.board, title: "x" },
          `a new label on Deck board ${String(ids.board)}`,
        ],
        [
          "deck_attachment",
          { action: "delete", board: ids.board, stack: ids.todo, card: ids.card, attachment: 1 },
          `the attachments of Deck card ${String(ids.card)}`,
        ],
      ];
      for (const [name, args, what] of calls)
        expect(await fails(alice, name, args), name).toBe(refused(what));
      await ok(alice, "deck_comment", { action: "create", card: ids.card, message: "still here" });
      expect(
        (await ok<{ comments: Comment[] }>(alice, "deck_list_comments", { card: ids.card })).comments,
      ).toHaveLength(1);
    } finally {
      scene.standin.setCorsMode("honour-header");
    }
    // The refusal is remembered: until the recheck interval has passed, Deck requests are not sent.
    scene.standin.resetRequests();
    expect(await fails(alice, "deck_list_boards", {})).toBe(
      errorFromResponse(401, new Headers(), "your Deck boards", { message: "CORS requires basic auth" })
        .description,
    );
    expect(scene.standin.requests().filter((q) => q.rawPath.includes("/apps/deck/api/"))).toEqual([]);
    now += ROUTE_RECHECK_MS;
    expect((await ok<Boards>(alice, "deck_list_boards")).total).toBeGreaterThan(0);
  });
});

// A scene of its own: the gateway caches each user's capabilities for a minute, so a user's Deck
// switched off (or board creation disabled) must be set before their first call.
describe("a user without Deck, and one who may not create boards", () => {
  let own: NextcloudScene;
  beforeAll(async () => {
    own = await startNextcloudScene();
  });
  afterAll(async () => {
    await own.stop();
  });

  it("sees no deck tools without the app, and a clear refusal before any request when creation is disabled", async () => {
    const a = await own.signIn("alice");
    const b = await own.signIn("bob");
    own.standin.setAppEnabled(claims(a).sub ?? "", "deck", false);
    own.standin.app<DeckStandin>("deck").setCanCreateBoards(claims(b).sub ?? "", false);
    expect((await own.listTools(a)).filter((n) => n.startsWith("deck_"))).toEqual([]);
    expect((await own.listTools(b)).filter((n) => n.startsWith("deck_"))).toEqual(TOOLS);
    own.standin.resetRequests();
    const r = await own.call(b, "deck_board", { action: "create", title: "Mine" });
    expect(r.isError).toBe(true);
    expect(r.content[0]?.text).toMatch(/administrator has limited who may create Deck boards/);
    expect(own.standin.requests().filter((q) => q.rawPath.includes("/apps/deck/"))).toEqual([]);
  });
});
