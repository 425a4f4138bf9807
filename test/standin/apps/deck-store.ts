// The Deck stand-in's state: boards owned by a user and shared through ACL entries, stacks, cards,
// labels, assignments, comments and attachments, with Deck's permission rules (owner: all; a shared
// user: read, plus edit/share/manage as granted; anyone else: 403 "Permission denied", also for ids
// that do not exist, so nothing leaks) and ETags that change with every change below them.
import { createHash } from "node:crypto";
import type { StandinUser } from "../auth.ts";

/** A failure Deck answers as `{status, message}` with that HTTP status. */
export class DeckError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const denied = (): DeckError => new DeckError(403, "Permission denied");
export const badRequest = (message: string): DeckError => new DeckError(400, message);

export interface Acl {
  id: number;
  uid: string;
  permissionEdit: boolean;
  permissionShare: boolean;
  permissionManage: boolean;
}
export interface Board {
  id: number;
  title: string;
  color: string;
  owner: string;
  archived: boolean;
  deletedAt: number;
  lastModified: number;
  version: number;
  acl: Acl[];
}
export interface Stack {
  id: number;
  boardId: number;
  title: string;
  order: number;
  deletedAt: number;
  lastModified: number;
  version: number;
}
export interface Card {
  id: number;
  stackId: number;
  title: string;
  description: string;
  type: string;
  owner: string;
  order: number;
  archived: boolean;
  done: string | null;
  duedate: string | null;
  deletedAt: number;
  createdAt: number;
  lastModified: number;
  version: number;
  labels: number[];
  assigned: { id: number; uid: string }[];
}
export interface Label {
  id: number;
  boardId: number;
  title: string;
  color: string;
  lastModified: number;
}
export interface Comment {
  id: number;
  cardId: number;
  actor: string;
  message: string;
  created: string;
  parentId: number;
}
export interface Attachment {
  id: number;
  cardId: number;
  name: string;
  path: string;
  size: number;
  mimetype: string;
  createdBy: string;
  createdAt: number;
  deletedAt: number;
}

export type Permission = "READ" | "EDIT" | "MANAGE" | "SHARE";
export type Permissions = Record<`PERMISSION_${Permission}`, boolean>;

const now = () => Math.floor(Date.now() / 1000);
const etagOf = (kind: string, id: number, version: number) =>
  createHash("md5")
    .update(`${kind}:${String(id)}:${String(version)}`)
    .digest("hex");

/** Titles as Deck's validators check them (BaseValidator rules). */
export function checkTitle(title: unknown, max: number): string {
  if (typeof title !== "string" || title === "")
    throw badRequest("title must be provided and must be not empty");
  if (title.length > max) throw badRequest(`title cannot be longer than ${String(max)} characters.`);
  return title;
}

/** All of one stand-in's Deck data. */
export class DeckStore {
  readonly boards = new Map<number, Board>();
  readonly stacks = new Map<number, Stack>();
  readonly cards = new Map<number, Card>();
  readonly labels = new Map<number, Label>();
  readonly comments = new Map<number, Comment>();
  readonly attachments = new Map<number, Attachment>();
  /** Users whose board creation the administrator disabled (capability `canCreateBoards`). */
  readonly cannotCreate = new Set<string>();
  #next = 1;

  readonly user: (uid: string) => StandinUser | undefined;

  constructor(user: (uid: string) => StandinUser | undefined) {
    this.user = user;
  }

  nextId(): number {
    return this.#next++;
  }

  /** A user object as Deck serialises participants and owners. */
  person(uid: string): { primaryKey: string; uid: string; displayname: string; type: number } {
    return { primaryKey: uid, uid, displayname: this.user(uid)?.displayName ?? uid, type: 0 };
  }

  permissions(board: Board, uid: string, allowDeleted = false): Permissions {
    const none = {
      PERMISSION_READ: false,
      PERMISSION_EDIT: false,
      PERMISSION_MANAGE: false,
      PERMISSION_SHARE: false,
    };
    if (board.deletedAt > 0 && !allowDeleted) return none;
    if (board.owner === uid)
      return {
        PERMISSION_READ: true,
        PERMISSION_EDIT: true,
        PERMISSION_MANAGE: true,
        PERMISSION_SHARE: true,
      };
    const acl = board.acl.find((a) => a.uid === uid);
    if (acl === undefined) return none;
    return {
      PERMISSION_READ: true,
      PERMISSION_EDIT: acl.permissionEdit,
      PERMISSION_MANAGE: acl.permissionManage,
      PERMISSION_SHARE: acl.permissionShare,
    };
  }

  /** The board if `uid` holds `permission` on it; 403 "Permission denied" otherwise (missing ids too). */
  board(id: number, uid: string, permission: Permission, allowDeleted = false): Board {
    const board = this.boards.get(id);
    if (board === undefined || !this.permissions(board, uid, allowDeleted)[`PERMISSION_${permission}`])
      throw denied();
    return board;
  }

  stack(id: number, uid: string, permission: Permission): Stack {
    const stack = this.stacks.get(id);
    if (stack === undefined) throw denied();
    this.board(stack.boardId, uid, permission);
    return stack;
  }

  card(id: number, uid: string, permission: Permission, allowDeleted = false): Card {
    const card = this.cards.get(id);
    if (card === undefined) throw denied();
    this.stack(card.stackId, uid, permission);
    if (card.deletedAt > 0 && !allowDeleted) throw new DeckError(403, "Card is deleted");
    return card;
  }

  label(id: number, uid: string, permission: Permission): Label {
    const label = this.labels.get(id);
    if (label === undefined) throw denied();
    this.board(label.boardId, uid, permission);
    return label;
  }

  boardOfCard(card: Card): Board {
    const stack = this.stacks.get(card.stackId);
    const board = stack === undefined ? undefined : this.boards.get(stack.boardId);
    if (board === undefined) throw denied();
    return board;
  }

  /** Whether `uid` takes part in the board (owner or shared with). */
  member(board: Board, uid: string): boolean {
    return board.owner === uid || board.acl.some((a) => a.uid === uid);
  }

  // Changes propagate upwards, as Deck's ChangeHelper does: a card's change changes its stack's and board's ETag.
  touchBoard(board: Board): void {
    board.version++;
    board.lastModified = now();
  }
  touchStack(stack: Stack): void {
    stack.version++;
    stack.lastModified = now();
    const board = this.boards.get(stack.boardId);
    if (board) this.touchBoard(board);
  }
  touchCard(card: Card): void {
    card.version++;
    card.lastModified = now();
    const stack = this.stacks.get(card.stackId);
    if (stack) this.touchStack(stack);
  }

  boardEtag(b: Board): string {
    return etagOf("board", b.id, b.version);
  }
  stackEtag(s: Stack): string {
    return etagOf("stack", s.id, s.version);
  }
  cardEtag(c: Card): string {
    return etagOf("card", c.id, c.version);
  }

  labelJson(l: Label, cardId: number | null = null): unknown {
    return {
      title: l.title,
      color: l.color,
      boardId: l.boardId,
      cardId,
      id: l.id,
      lastModified: l.lastModified,
    };
  }

  cardJson(c: Card): unknown {
    const due = c.duedate === null ? null : new Date(c.duedate);
    return {
      title: c.title,
      description: c.description,
      descriptionPrev: null,
      stackId: c.stackId,
      type: c.type,
      lastModified: c.lastModified,
      lastEditor: null,
      createdAt: c.createdAt,
      labels: c.labels.flatMap((id) => {
        const l = this.labels.get(id);
        return l === undefined ? [] : [this.labelJson(l, c.id)];
      }),
      assignedUsers: c.assigned.map((a) => ({
        id: a.id,
        participant: this.person(a.uid),
        cardId: c.id,
        type: 0,
      })),
      attachments: null,
      attachmentCount: [...this.attachments.values()].filter((a) => a.cardId === c.id && a.deletedAt === 0)
        .length,
      owner: this.person(c.owner),
      order: c.order,
      archived: c.archived,
      done: c.done,
      duedate: c.duedate,
      startdate: null,
      notified: false,
      deletedAt: c.deletedAt,
      commentsUnread: 0,
      commentsCount: [...this.comments.values()].filter((m) => m.cardId === c.id).length,
      id: c.id,
      overdue: due !== null && due.getTime() < Date.now() ? 3 : 0,
      ETag: this.cardEtag(c),
    };
  }

  stackJson(s: Stack, cards: (c: Card) => boolean): unknown {
    return {
      title: s.title,
      boardId: s.boardId,
      deletedAt: s.deletedAt,
      lastModified: s.lastModified,
      cards: [...this.cards.values()]
        .filter((c) => c.stackId === s.id && c.deletedAt === 0 && cards(c))
        .sort((a, b) => a.order - b.order || a.id - b.id)
        .map((c) => this.cardJson(c)),
      order: s.order,
      id: s.id,
      ETag: this.stackEtag(s),
    };
  }

  boardJson(b: Board, uid: string, details: boolean): unknown {
    const base = {
      title: b.title,
      owner: this.person(b.owner),
      color: b.color,
      archived: b.archived,
      labels: [] as unknown[],
      acl: [] as unknown[],
      permissions: this.permissions(b, uid, true),
      users: [] as unknown[],
      shared: b.owner === uid ? 0 : 1,
      stacks: [] as unknown[],
      deletedAt: b.deletedAt,
      id: b.id,
      lastModified: b.lastModified,
      settings: { "notify-due": "off", calendar: true },
      ETag: this.boardEtag(b),
    };
    if (!details) return base;
    return {
      ...base,
      labels: [...this.labels.values()].filter((l) => l.boardId === b.id).map((l) => this.labelJson(l)),
      acl: b.acl.map((a) => ({
        participant: this.person(a.uid),
        type: 0,
        boardId: b.id,
        permissionEdit: a.permissionEdit,
        permissionShare: a.permissionShare,
        permissionManage: a.permissionManage,
        owner: false,
        id: a.id,
      })),
      users: [b.owner, ...b.acl.map((a) => a.uid)].map((u) => this.person(u)),
    };
  }

  commentJson(m: Comment, withReply = true): unknown {
    const actor = this.user(m.actor);
    const parent = m.parentId === 0 ? undefined : this.comments.get(m.parentId);
    return {
      id: m.id,
      objectId: m.cardId,
      message: m.message,
      actorId: m.actor,
      actorType: "users",
      actorDisplayName: actor?.displayName ?? m.actor,
      creationDateTime: m.created,
      mentions: [],
      ...(withReply && parent !== undefined ? { replyTo: this.commentJson(parent, false) } : {}),
    };
  }

  attachmentJson(a: Attachment): unknown {
    const dot = a.name.lastIndexOf(".");
    return {
      cardId: a.cardId,
      type: "file",
      data: a.name,
      lastModified: a.createdAt,
      createdAt: a.createdAt,
      createdBy: a.createdBy,
      deletedAt: a.deletedAt,
      extendedData: {
        path: a.path,
        fileid: a.id,
        data: a.name,
        filesize: a.size,
        mimetype: a.mimetype,
        info: {
          dirname: ".",
          basename: a.name,
          extension: dot > 0 ? a.name.slice(dot + 1) : "",
          filename: dot > 0 ? a.name.slice(0, dot) : a.name,
        },
        attachmentCreator: {
          displayName: this.user(a.createdBy)?.displayName ?? a.createdBy,
          id: a.createdBy,
          email: null,
        },
      },
      id: a.id,
    };
  }

  /** Seeding and the create route: a new board owned by `owner` with Deck's four default labels. */
  createBoard(owner: string, title: string, color: string): Board {
    const board: Board = {
      id: this.nextId(),
      title,
      color,
      owner,
      archived: false,
      deletedAt: 0,
      lastModified: now(),
      version: 1,
      acl: [],
    };
    this.boards.set(board.id, board);
    for (const [t, c] of [
      ["Finished", "31CC7C"],
      ["To review", "317CCC"],
      ["Action needed", "FF7A66"],
      ["Later", "F1DB50"],
    ] as const) {
      const id = this.nextId();
      this.labels.set(id, { id, boardId: board.id, title: t, color: c, lastModified: now() });
    }
    return board;
  }

  /** Shares a board with a user (Deck's ACL of type 0), as its owner would. */
  share(
    boardId: number,
    uid: string,
    perms: { edit?: boolean; share?: boolean; manage?: boolean } = {},
  ): Acl {
    const board = this.boards.get(boardId);
    if (board === undefined) throw new Error(`no board ${String(boardId)}`);
    const acl: Acl = {
      id: this.nextId(),
      uid,
      permissionEdit: perms.edit ?? false,
      permissionShare: perms.share ?? false,
      permissionManage: perms.manage ?? false,
    };
    board.acl = [...board.acl.filter((a) => a.uid !== uid), acl];
    this.touchBoard(board);
    return acl;
  }
}
