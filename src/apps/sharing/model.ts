// The shapes of sharing for the model and their mapping to the OCS Share API: permission names and
// the bitmask, share types, expiry dates, the share and sharee records (a password, or its hash,
// never leaves this file), and the administrator's policy read from the files_sharing capabilities.
import { z } from "zod";

/** The permission names and their bits (OCP\Constants::PERMISSION_*). */
export const PERMISSIONS = { read: 1, update: 2, create: 4, delete: 8, share: 16 } as const;
/** A permission name. */
export type PermissionName = keyof typeof PERMISSIONS;
export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as PermissionName[];

/** The bitmask of a set of permission names. */
export function permissionMask(names: readonly PermissionName[]): number {
  return names.reduce((mask, n) => mask | PERMISSIONS[n], 0);
}

/** The permission names of a bitmask, in a fixed order. */
export function permissionNames(mask: number): PermissionName[] {
  return PERMISSION_NAMES.filter((n) => (mask & PERMISSIONS[n]) !== 0);
}

/** The share types the tools create, and their OCS numbers (OCP\Share\IShare::TYPE_*). */
export const SHARE_TYPES = { user: 0, group: 1, link: 3, email: 4 } as const;
/** A share type the tools create. */
export type ShareKind = keyof typeof SHARE_TYPES;

const TYPE_NAMES: Record<number, string> = {
  0: "user",
  1: "group",
  3: "link",
  4: "email",
  6: "federated",
  7: "team",
  9: "federated_group",
  10: "talk",
  12: "deck",
};

/** The readable name of an OCS share type ("other" for types the gateway does not know). */
export function shareTypeName(type: number): string {
  return TYPE_NAMES[type] ?? "other";
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Today (UTC) as YYYY-MM-DD. */
export function todayOf(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** The day `days` after `day` (both YYYY-MM-DD). */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Why an expiry date cannot be used, or undefined: it must be a real calendar date written
 * YYYY-MM-DD, and not in the past (Nextcloud also refuses today: a share expires at 00:00).
 */
export function expiryProblem(value: string, now: Date): string | undefined {
  const m = DATE.exec(value);
  const at = m === null ? NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (m === null || Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== value) {
    return `The expiry date "${value}" is not a date written YYYY-MM-DD, e.g. "${addDays(todayOf(now), 7)}"; nothing was changed.`;
  }
  if (value < todayOf(now)) {
    return `The expiry date ${value} is in the past; give a later date, e.g. "${addDays(todayOf(now), 7)}". Nothing was changed.`;
  }
  return undefined;
}

/** One share as the tools return it. */
export const shareSchema = z.object({
  id: z.string().describe("The share id, for sharing_update and sharing_delete."),
  type: z.string().describe("user, group, link, email, federated, team, talk…"),
  path: z.string().nullable().describe("The shared file or folder, as a path in your files."),
  itemType: z.enum(["file", "folder"]),
  owner: z.string().describe("Who shared it (uid)."),
  ownerName: z.string(),
  sharedWith: z.string().nullable().describe("uid, group id or email address; null for links."),
  sharedWithName: z.string().nullable(),
  permissions: z.array(z.enum(PERMISSION_NAMES as [PermissionName, ...PermissionName[]])),
  expires: z.string().nullable().describe("YYYY-MM-DD, or null."),
  note: z.string(),
  label: z.string(),
  url: z.string().nullable().describe("The public link (links only)."),
  passwordProtected: z.boolean(),
});
/** One share as the tools return it. */
export type Share = z.output<typeof shareSchema>;

const text = (v: unknown): string | null => (typeof v === "string" ? v : null);

/**
 * A share from an OCS Share record. Link and email records carry the password's hash (in
 * `password`, and for links also in `share_with`): only whether there is one is kept.
 */
export function shareOf(raw: Record<string, unknown>): Share {
  const type = typeof raw.share_type === "number" ? raw.share_type : -1;
  const linkish = type === SHARE_TYPES.link || type === SHARE_TYPES.email;
  const hash = linkish
    ? (text(raw.password) ?? (type === SHARE_TYPES.link ? text(raw.share_with) : null))
    : null;
  const expiration = text(raw.expiration);
  const owner = text(raw.uid_owner) ?? "";
  return {
    id: typeof raw.id === "number" ? String(raw.id) : (text(raw.id) ?? ""),
    type: shareTypeName(type),
    path: text(raw.path),
    itemType: raw.item_type === "folder" ? "folder" : "file",
    owner,
    ownerName: text(raw.displayname_owner) ?? owner,
    sharedWith: type === SHARE_TYPES.link ? null : text(raw.share_with),
    sharedWithName: type === SHARE_TYPES.link ? null : text(raw.share_with_displayname),
    permissions: permissionNames(typeof raw.permissions === "number" ? raw.permissions : 0),
    expires: expiration === null || expiration === "" ? null : expiration.slice(0, 10),
    note: text(raw.note) ?? "",
    label: text(raw.label) ?? "",
    url: text(raw.url),
    passwordProtected: hash !== null && hash !== "",
  };
}

/** One line per share, for the text rendering. */
export function shareLine(s: Share): string {
  const to =
    s.type === "link"
      ? `public link ${s.url ?? ""}`
      : `${s.type} ${s.sharedWithName ?? s.sharedWith ?? "?"}${s.sharedWith !== null && s.sharedWith !== s.sharedWithName ? ` (${s.sharedWith})` : ""}`;
  const extra = [
    s.expires === null ? "" : `expires ${s.expires}`,
    s.passwordProtected ? "password protected" : "",
    s.note === "" ? "" : `note: ${s.note}`,
  ].filter((x) => x !== "");
  return `- #${s.id} ${s.itemType} ${s.path ?? "?"} → ${to}: ${s.permissions.join(", ")}${extra.length === 0 ? "" : `; ${extra.join("; ")}`} (by ${s.ownerName})`;
}

/** One possible recipient from the sharee search. */
export const shareeSchema = z.object({
  type: z.string().describe("user, group or email: the `type` for sharing_create."),
  shareWith: z.string().describe("The `shareWith` for sharing_create."),
  label: z.string().describe("The display name."),
  detail: z.string().nullable().describe("What tells namesakes apart (e.g. an email address)."),
  exact: z.boolean().describe("The search matched exactly."),
});
/** One possible recipient. */
export type Sharee = z.output<typeof shareeSchema>;

/** The recipients of a sharee search result (exact matches first), users, groups and emails only. */
export function shareesOf(raw: unknown): Sharee[] {
  const data = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const exact = (typeof data.exact === "object" && data.exact !== null ? data.exact : {}) as Record<
    string,
    unknown
  >;
  const out: Sharee[] = [];
  const seen = new Set<string>();
  const add = (list: unknown, isExact: boolean) => {
    for (const item of Array.isArray(list) ? (list as Record<string, unknown>[]) : []) {
      const value = (item.value ?? {}) as Record<string, unknown>;
      const type = typeof value.shareType === "number" ? value.shareType : -1;
      const shareWith = text(value.shareWith);
      if (shareWith === null || !(type in TYPE_NAMES)) continue;
      const key = `${String(type)}:${shareWith}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        type: shareTypeName(type),
        shareWith,
        label: text(item.label) ?? shareWith,
        detail: text(item.shareWithDisplayNameUnique),
        exact: isExact,
      });
    }
  };
  for (const kind of ["users", "groups", "emails"]) add(exact[kind], true);
  for (const kind of ["users", "groups", "emails"]) add(data[kind], false);
  return out;
}

/** The administrator's sharing settings, from the `files_sharing` capabilities. */
export interface SharingPolicy {
  apiEnabled: boolean;
  linksEnabled: boolean;
  linkPasswordEnforced: boolean;
  /** Days a link may last at most, when the expiry is enforced. */
  linkMaxDays: number | null;
  internalMaxDays: number | null;
  groupSharing: boolean;
  publicUpload: boolean;
  mailShares: boolean;
  mailPasswordEnforced: boolean;
  lookupDefault: boolean;
}

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};

/** The policy from the capabilities document's `files_sharing` entry (absent: the app is off). */
export function policyOf(capabilities: Record<string, unknown>): SharingPolicy {
  const fs = obj(capabilities.files_sharing);
  const pub = obj(fs.public);
  const maxDays = (e: Record<string, unknown>) =>
    e.enabled === true && e.enforced === true && typeof e.days === "number" ? e.days : null;
  const mail = obj(fs.sharebymail);
  return {
    apiEnabled: fs.api_enabled === true,
    linksEnabled: pub.enabled === true,
    linkPasswordEnforced: obj(pub.password).enforced === true,
    linkMaxDays: maxDays(obj(pub.expire_date)),
    internalMaxDays: maxDays(obj(pub.expire_date_internal)),
    groupSharing: fs.group_sharing !== false && obj(fs.group).enabled !== false,
    publicUpload: pub.upload !== false,
    mailShares: mail.enabled === true,
    mailPasswordEnforced: obj(mail.password).enforced === true || obj(pub.password).enforced === true,
    lookupDefault: obj(fs.sharee).query_lookup_default === true,
  };
}
