// Deck's JSON as it comes (Raw*, only the fields the tools use) and the shapes the tools return,
// with the pure mapping between them.
import { z } from "zod";

interface RawPerson {
  uid?: string;
  primaryKey?: string;
  displayname?: string;
}
export interface RawLabel {
  id: number;
  title: string;
  color: string;
  boardId?: number | string;
}
export interface RawAcl {
  id: number;
  type?: number;
  participant: RawPerson;
  permissionEdit?: boolean;
  permissionShare?: boolean;
  permissionManage?: boolean;
}
export interface RawBoard {
  id: number;
  title: string;
  color?: string;
  owner?: RawPerson | string;
  archived?: boolean;
  deletedAt?: number;
  shared?: number;
  lastModified?: number;
  labels?: RawLabel[];
  acl?: RawAcl[];
  users?: RawPerson[];
  permissions?: Partial<
    Record<"PERMISSION_READ" | "PERMISSION_EDIT" | "PERMISSION_MANAGE" | "PERMISSION_SHARE", boolean>
  >;
  ETag?: string;
}
export interface RawAssignment {
  id: number;
  participant: RawPerson;
  type?: number;
}
export interface RawCard {
  id: number;
  title: string;
  description?: string | null;
  stackId: number;
  type?: string;
  owner?: RawPerson | string;
  order?: number;
  archived?: boolean;
  done?: string | null;
  duedate?: string | null;
  deletedAt?: number;
  createdAt?: number;
  lastModified?: number;
  labels?: RawLabel[] | null;
  assignedUsers?: RawAssignment[] | null;
  attachmentCount?: number | null;
  commentsCount?: number;
  ETag?: string;
}
export interface RawStack {
  id: number;
  title: string;
  boardId: number;
  order?: number;
  deletedAt?: number;
  cards?: RawCard[];
  ETag?: string;
}
export interface RawComment {
  id: number | string;
  message: string;
  actorId: string;
  actorDisplayName?: string;
  creationDateTime: string;
  replyTo?: { id: number | string };
}
export interface RawAttachment {
  id: number;
  type: string;
  data: string;
  createdBy?: string;
  createdAt?: number;
  deletedAt?: number;
  extendedData?: { filesize?: number; mimetype?: string; path?: string };
}

const uidOf = (p: RawPerson | string | undefined): string =>
  typeof p === "string" ? p : (p?.uid ?? p?.primaryKey ?? "");
const isoOf = (seconds: number | undefined): string | null =>
  seconds === undefined || seconds === 0 ? null : new Date(seconds * 1000).toISOString();

// Output shapes ------------------------------------------------------------------------------

export const labelSchema = z.object({ id: z.number().int(), title: z.string(), color: z.string() });
export const personSchema = z.object({ uid: z.string(), displayName: z.string() });

export const boardSummarySchema = z.object({
  id: z.number().int(),
  title: z.string(),
  color: z.string(),
  owner: z.string().describe("The owner's user id."),
  archived: z.boolean(),
  deleted: z.boolean().describe("Deleted; `deck_board` action `restore` undoes it."),
  permissions: z
    .array(z.enum(["read", "edit", "manage", "share"]))
    .describe("What you may do: edit cards, manage the board (lists, labels, settings), share it."),
});
export type BoardSummary = z.infer<typeof boardSummarySchema>;

export const cardSummarySchema = z.object({
  id: z.number().int(),
  stackId: z.number().int(),
  title: z.string(),
  dueDate: z.string().nullable(),
  done: z.string().nullable().describe("When it was marked done, or null."),
  archived: z.boolean(),
  order: z.number().int(),
  labels: z.array(z.string()).describe("Label titles."),
  assignees: z.array(z.string()).describe("Assigned user ids."),
});
export type CardSummary = z.infer<typeof cardSummarySchema>;

export const cardSchema = cardSummarySchema.extend({
  boardId: z.number().int(),
  description: z.string(),
  owner: z.string(),
  labels: z.array(labelSchema),
  assignees: z.array(personSchema),
  deleted: z.boolean(),
  commentsCount: z.number().int().nullable(),
  lastModified: z.string().nullable(),
  etag: z
    .string()
    .nullable()
    .describe("Pass to deck_card `etag` to refuse an update if the card changed meanwhile."),
});
export type CardOut = z.infer<typeof cardSchema>;

export const stackSchema = z.object({
  id: z.number().int(),
  title: z.string(),
  order: z.number().int(),
  cards: z.array(cardSummarySchema),
});

export const commentSchema = z.object({
  id: z.number().int(),
  message: z.string(),
  author: z.string(),
  authorName: z.string(),
  created: z.string(),
  replyTo: z.number().int().nullable(),
});

export const attachmentSchema = z.object({
  id: z.number().int(),
  type: z.string(),
  name: z.string(),
  size: z.number().int().nullable(),
  mimetype: z.string().nullable(),
  path: z.string().nullable().describe("Where the file is in the uploader's files."),
  createdBy: z.string().nullable(),
});

// Mapping -------------------------------------------------------------------------------------

export function permissionsOf(b: RawBoard): BoardSummary["permissions"] {
  const p = b.permissions ?? {};
  const out: BoardSummary["permissions"] = [];
  if (p.PERMISSION_READ === true) out.push("read");
  if (p.PERMISSION_EDIT === true) out.push("edit");
  if (p.PERMISSION_MANAGE === true) out.push("manage");
  if (p.PERMISSION_SHARE === true) out.push("share");
  return out;
}

export function boardSummary(b: RawBoard): BoardSummary {
  return {
    id: b.id,
    title: b.title,
    color: b.color ?? "",
    owner: uidOf(b.owner),
    archived: b.archived === true,
    deleted: (b.deletedAt ?? 0) > 0,
    permissions: permissionsOf(b),
  };
}

export function labelOf(l: RawLabel): z.infer<typeof labelSchema> {
  return { id: l.id, title: l.title, color: l.color };
}

/** The board's people: its owner and everyone it is shared with as a user (ACL type 0). */
export function membersOf(b: RawBoard): { uid: string; displayName: string; permissions: string[] }[] {
  const ownerUid = uidOf(b.owner);
  const ownerName = typeof b.owner === "object" ? (b.owner.displayname ?? ownerUid) : ownerUid;
  const owner = { uid: ownerUid, displayName: ownerName, permissions: ["edit", "manage", "share"] };
  const shared = (b.acl ?? [])
    .filter((a) => (a.type ?? 0) === 0)
    .map((a) => ({
      uid: uidOf(a.participant),
      displayName: a.participant.displayname ?? uidOf(a.participant),
      permissions: [
        ...(a.permissionEdit === true ? ["edit"] : []),
        ...(a.permissionManage === true ? ["manage"] : []),
        ...(a.permissionShare === true ? ["share"] : []),
      ],
    }));
  return ownerUid === "" ? shared : [owner, ...shared];
}

export function cardSummary(c: RawCard): CardSummary {
  return {
    id: c.id,
    stackId: c.stackId,
    title: c.title,
    dueDate: c.duedate ?? null,
    done: c.done ?? null,
    archived: c.archived === true,
    order: c.order ?? 0,
    labels: (c.labels ?? []).map((l) => l.title),
    assignees: (c.assignedUsers ?? []).map((a) => uidOf(a.participant)),
  };
}

export function cardOut(c: RawCard, boardId: number, etag: string | null): CardOut {
  return {
    ...cardSummary(c),
    boardId,
    description: c.description ?? "",
    owner: uidOf(c.owner),
    labels: (c.labels ?? []).map(labelOf),
    assignees: (c.assignedUsers ?? []).map((a) => ({
      uid: uidOf(a.participant),
      displayName: a.participant.displayname ?? uidOf(a.participant),
    })),
    deleted: (c.deletedAt ?? 0) > 0,
    commentsCount: c.commentsCount ?? null,
    lastModified: isoOf(c.lastModified),
    etag: etag ?? c.ETag ?? null,
  };
}

/** The body of Deck's card update for a card as read, with `changes` applied (Deck clears what is left out). */
export function cardUpdateBody(c: RawCard, changes: Record<string, unknown>): Record<string, unknown> {
  return {
    title: c.title,
    description: c.description ?? "",
    type: c.type ?? "plain",
    owner: uidOf(c.owner),
    order: c.order ?? 0,
    duedate: c.duedate ?? null,
    done: c.done ?? null,
    ...changes,
  };
}

export function commentOf(m: RawComment): z.infer<typeof commentSchema> {
  return {
    id: Number(m.id),
    message: m.message,
    author: m.actorId,
    authorName: m.actorDisplayName ?? m.actorId,
    created: m.creationDateTime,
    replyTo: m.replyTo === undefined ? null : Number(m.replyTo.id),
  };
}

export function attachmentOf(a: RawAttachment): z.infer<typeof attachmentSchema> {
  return {
    id: a.id,
    type: a.type,
    name: a.data,
    size: a.extendedData?.filesize ?? null,
    mimetype: a.extendedData?.mimetype ?? null,
    path: a.extendedData?.path ?? null,
    createdBy: a.createdBy ?? null,
  };
}

/** A date the model gave (ISO 8601, or a bare day) as Deck expects it; undefined when it is not a date. */
export function isoDate(input: string): string | undefined {
  const s = /^\d{4}-\d{2}-\d{2}$/.test(input) ? `${input}T00:00:00Z` : input;
  const t = Date.parse(s);
  if (!/^\d{4}-\d{2}-\d{2}/.test(input) || Number.isNaN(t)) return undefined;
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

/** Resolves labels given by id or title (case-insensitive) against a board's labels. */
export function resolveLabels(
  wanted: readonly (number | string)[],
  labels: readonly RawLabel[],
): { ids: number[]; unknown: (number | string)[] } {
  const ids: number[] = [];
  const unknown: (number | string)[] = [];
  for (const w of wanted) {
    const hit =
      typeof w === "number"
        ? labels.find((l) => l.id === w)
        : labels.find((l) => l.title.toLowerCase() === w.trim().toLowerCase());
    if (hit === undefined) unknown.push(w);
    else ids.push(hit.id);
  }
  return { ids, unknown };
}

/** Resolves users given by user id or display name (case-insensitive) against a board's members. */
export function resolveUsers(
  wanted: readonly string[],
  members: readonly { uid: string; displayName: string }[],
): { uids: string[]; unknown: string[] } {
  const uids: string[] = [];
  const unknown: string[] = [];
  for (const w of wanted) {
    const key = w.trim().toLowerCase();
    const hit =
      members.find((m) => m.uid === w.trim()) ??
      members.find((m) => m.uid.toLowerCase() === key || m.displayName.toLowerCase() === key);
    if (hit === undefined) unknown.push(w);
    else uids.push(hit.uid);
  }
  return { uids, unknown };
}
