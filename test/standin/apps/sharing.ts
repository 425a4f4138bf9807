// The files_sharing app of the stand-in: the OCS Share API v1 (list, get, create, update, delete
// shares) and the sharee search, in the shapes of files_sharing.openapi.json, with the messages
// and statuses of ShareAPIController and the share manager (Nextcloud 31). Shares live in memory
// (sharing-store.ts) and appear in their recipients' files through the DAV front.
import { createHash, randomInt } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { statSync } from "node:fs";
import { extname } from "node:path";
import { segments } from "../dav.ts";
import { PERMISSION } from "../dav-mounts.ts";
import { sendOcs } from "../ocs.ts";
import { readBody } from "../respond.ts";
import { SHARE_TYPE, ShareStore, today, type SharingPolicy, type StoredShare } from "./sharing-store.ts";
import type { OcsRequest, StandinApp, StandinServices } from "./types.ts";

export { DEFAULT_POLICY, SHARE_TYPE, type SharingPolicy, type StoredShare } from "./sharing-store.ts";

const ALL = 31;
const MIME: Record<string, string> = {
  ".md": "text/markdown",
  ".txt": "text/plain",
  ".pdf": "application/pdf",
};

/** The sharing app with its seeding and inspection helpers. */
export interface SharingApp extends StandinApp {
  readonly store: ShareStore;
  /** Changes administrator settings (capabilities and enforcement). */
  setPolicy(change: Partial<SharingPolicy>): void;
  /** Sets a group's members (uids); creates the group when new. */
  setGroup(gid: string, displayName: string, members: readonly string[]): void;
}

class OcsFailure extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Request parameters from the query and a JSON or form body, as Nextcloud's Request merges them. */
async function params(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of url.searchParams) {
    if (!k.endsWith("[]")) out[k] = v;
    else out[k.slice(0, -2)] = [...((out[k.slice(0, -2)] as string[] | undefined) ?? []), v];
  }
  const body = (await readBody(req)).toString("utf8");
  if (body === "") return out;
  if ((req.headers["content-type"] ?? "").includes("json")) {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === "object" && parsed !== null) Object.assign(out, parsed);
  } else {
    for (const [k, v] of new URLSearchParams(body)) out[k] = v;
  }
  return out;
}

const str = (v: unknown): string | null =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : null;

function int(v: unknown): number | null {
  const s = str(v);
  return s === null || !/^-?\d+$/.test(s.trim()) ? null : Number(s);
}

/** Nextcloud's parseDate: any date PHP reads, at 00:00; the stand-in reads YYYY-MM-DD only. */
function parseDate(value: string): string {
  const v = value.replace(/^"|"$/g, "").trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$/.exec(v);
  const day = m === null ? NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (m === null || Number.isNaN(day) || new Date(day).toISOString().slice(0, 10) !== v.slice(0, 10)) {
    throw new OcsFailure(404, "Invalid date. Format must be YYYY-MM-DD");
  }
  return v.slice(0, 10);
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function token(): string {
  const chars = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  return Array.from({ length: 15 }, () => chars[randomInt(chars.length)]).join("");
}

/** A stand-in for Nextcloud's password hash ("3|$argon2id$…"): never the password itself. */
function hashPassword(password: string): string {
  return `3|$argon2id$v=19$m=65536,t=4,p=1$${createHash("sha256").update(password).digest("base64")}`;
}

/** Builds the files_sharing app for one stand-in. */
export function sharingApp(services: StandinServices): SharingApp {
  const store = new ShareStore(services);
  services.shareMounts(store);

  const displayName = (uid: string) => services.user(uid)?.displayName ?? uid;

  /** The node a user's path names, or 404 as ShareAPIController says it. */
  function nodeOf(uid: string, path: string) {
    const segs = segments(path);
    if (segs === undefined) throw new OcsFailure(404, "Wrong path, file/folder does not exist");
    const resolved = store.resolve(uid, segs);
    try {
      const st = statSync(store.realPath(resolved.owner, resolved.rel));
      return { ...resolved, segs, folder: st.isDirectory(), st };
    } catch {
      throw new OcsFailure(404, "Wrong path, file/folder does not exist");
    }
  }

  /** The share's node as `viewer` sees it: its path in their files, or null when they cannot reach it. */
  function viewerPath(share: StoredShare, viewer: string): string | null {
    if (viewer === share.owner) return `/${share.ownerRel.join("/")}`;
    for (const other of store.shares.values()) {
      const target = other.targets.get(viewer);
      if (target === undefined || other.owner !== share.owner || !store.receives(viewer, other)) continue;
      const base = other.ownerRel.join("/");
      const node = share.ownerRel.join("/");
      if (node === base) return `/${target}`;
      if (node.startsWith(`${base}/`)) return `/${target}/${node.slice(base.length + 1)}`;
    }
    return null;
  }

  function format(share: StoredShare, viewer: string, origin: string): Record<string, unknown> {
    const real = store.realPath(share.owner, share.ownerRel);
    const st = statSync(real);
    const parent = statSync(store.realPath(share.owner, share.ownerRel.slice(0, -1)));
    const folder = st.isDirectory();
    const name = share.ownerRel.at(-1) ?? "";
    const target = share.targets.get(viewer) ?? name;
    const recipient = store.receives(viewer, share);
    const out: Record<string, unknown> = {
      id: String(share.id),
      share_type: share.type,
      uid_owner: share.sharedBy,
      displayname_owner: displayName(share.sharedBy),
      permissions: share.permissions,
      can_edit: viewer === share.owner || viewer === share.sharedBy,
      can_delete: viewer === share.owner || viewer === share.sharedBy || share.type === SHARE_TYPE.user,
      stime: share.stime,
      parent: null,
      expiration: share.expiration === null ? null : `${share.expiration} 00:00:00`,
      token: share.token,
      uid_file_owner: share.owner,
      note: share.note,
      label: share.label,
      displayname_file_owner: displayName(share.owner),
      path: viewerPath(share, viewer) ?? `/${target}`,
      item_type: folder ? "folder" : "file",
      item_permissions: recipient ? share.permissions : ALL,
      "is-mount-root": recipient,
      "mount-type": recipient ? "shared" : "",
      mimetype: folder ? "httpd/unix-directory" : (MIME[extname(name)] ?? "application/octet-stream"),
      has_preview: false,
      storage_id: `home::${share.owner}`,
      storage: 1,
      item_source: st.ino,
      file_source: st.ino,
      file_parent: parent.ino,
      file_target: `/${target}`,
      item_size: folder ? 0 : st.size,
      item_mtime: Math.floor(st.mtimeMs / 1000),
      share_with: share.sharedWith,
      share_with_displayname: share.sharedWith,
      mail_send: share.mailSend ? 1 : 0,
      hide_download: share.hideDownload ? 1 : 0,
      attributes: null,
    };
    if (share.type === SHARE_TYPE.user && share.sharedWith !== null) {
      out.share_with_displayname = displayName(share.sharedWith);
      out.share_with_displayname_unique = services.user(share.sharedWith)?.email ?? share.sharedWith;
    } else if (share.type === SHARE_TYPE.group && share.sharedWith !== null) {
      out.share_with_displayname = store.groups.get(share.sharedWith)?.displayName ?? share.sharedWith;
    } else if (share.type === SHARE_TYPE.link) {
      // "share_with" carrying the password hash of links is deprecated since Nextcloud 15, still sent.
      out.share_with = share.passwordHash;
      out.share_with_displayname = share.passwordHash;
      out.password = share.passwordHash;
      out.send_password_by_talk = false;
      out.url = `${origin}/index.php/s/${share.token ?? ""}`;
    } else if (share.type === SHARE_TYPE.email) {
      out.password = share.passwordHash;
      out.send_password_by_talk = false;
    }
    return out;
  }

  const canAccess = (s: StoredShare, uid: string) =>
    s.permissions !== 0 && (s.owner === uid || s.sharedBy === uid || store.receives(uid, s));

  function byId(id: string, uid: string): StoredShare {
    store.prune();
    const share = /^\d+$/.test(id) ? store.shares.get(Number(id)) : undefined;
    if (share === undefined || !canAccess(share, uid)) {
      throw new OcsFailure(404, "Wrong share ID, share does not exist");
    }
    return share;
  }

  function checkExpiry(expiration: string | null, type: number, isNew: boolean): string | null {
    const rule =
      type === SHARE_TYPE.link || type === SHARE_TYPE.email
        ? store.policy.linkExpiry
        : store.policy.internalExpiry;
    const now = today();
    if (expiration !== null && expiration <= now) throw new OcsFailure(404, "Expiration date is in the past");
    let date = expiration;
    if (date === null && isNew && rule.enabled) date = addDays(now, rule.days);
    if (rule.enforced) {
      if (date === null) throw new OcsFailure(403, "Expiration date is enforced");
      if (date > addDays(now, rule.days)) {
        throw new OcsFailure(
          404,
          `Cannot set expiration date more than ${String(rule.days)} day${rule.days === 1 ? "" : "s"} in the future`,
        );
      }
    }
    return date;
  }

  function checkPassword(share: { type: number; passwordHash: string | null }): void {
    const linkish = share.type === SHARE_TYPE.link || share.type === SHARE_TYPE.email;
    if (linkish && share.passwordHash === null && store.policy.linkPasswordEnforced) {
      throw new OcsFailure(403, "Passwords are enforced for link and mail shares");
    }
  }

  function create(uid: string, p: Record<string, unknown>): StoredShare {
    const path = str(p.path);
    if (path === null) throw new OcsFailure(404, "Please specify a file or folder path");
    const node = nodeOf(uid, path);
    const type = int(p.shareType) ?? -1;
    const shareWith = str(p.shareWith);
    let permissions = int(p.permissions);
    const linkish = type === SHARE_TYPE.link || type === SHARE_TYPE.email;
    if (linkish) permissions ??= PERMISSION.read;
    else {
      permissions ??= ALL;
      permissions |= PERMISSION.read;
    }
    if (!node.folder) permissions &= ~(PERMISSION.create | PERMISSION.delete);
    const expireRaw = str(p.expireDate);
    const expiration = expireRaw === null || expireRaw === "" ? null : parseDate(expireRaw);
    if (type === SHARE_TYPE.user) {
      if (shareWith === null || services.user(shareWith) === undefined) {
        throw new OcsFailure(404, "Please specify a valid account to share with");
      }
    } else if (type === SHARE_TYPE.group) {
      if (!store.policy.groupSharing)
        throw new OcsFailure(404, "Group sharing is disabled by the administrator");
      if (shareWith === null || !store.groups.has(shareWith))
        throw new OcsFailure(404, "Please specify a valid group");
    } else if (linkish) {
      if (!store.policy.linksEnabled) {
        throw new OcsFailure(404, "Public link sharing is disabled by the administrator");
      }
      if (type === SHARE_TYPE.email && !store.policy.mailShares) {
        throw new OcsFailure(403, "Sharing failed because the back end does not support shares of type 4");
      }
      if ((permissions & PERMISSION.read) === 0 && (permissions & PERMISSION.create) === 0) {
        throw new OcsFailure(400, "Share must at least have READ or CREATE permissions");
      }
      if ((permissions & PERMISSION.create) !== 0 && !store.policy.publicUpload) {
        throw new OcsFailure(403, "Public upload disabled by the administrator");
      }
      if (
        type === SHARE_TYPE.email &&
        (shareWith === null || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(shareWith))
      ) {
        throw new OcsFailure(404, "Please specify a valid email address");
      }
    } else {
      throw new OcsFailure(400, "Unknown share type");
    }
    // What the share manager checks (each refusal a 403 from createShare's catch).
    if (type === SHARE_TYPE.user && shareWith === uid)
      throw new OcsFailure(403, "Cannot share with yourself");
    if (node.rel.length === 0) throw new OcsFailure(403, "You cannot share your root folder");
    const held = node.via === undefined ? ALL : node.via.share.permissions;
    if (node.via !== undefined && ((held & PERMISSION.share) === 0 || !store.policy.resharing)) {
      throw new OcsFailure(404, `You are not allowed to share ${node.segs.at(-1) ?? ""}`);
    }
    if ((permissions & ~held) !== 0) {
      throw new OcsFailure(404, `Cannot increase permissions of ${path}`);
    }
    const password = str(p.password);
    const share: StoredShare = {
      id: 0,
      type,
      owner: node.owner,
      sharedBy: uid,
      ownerRel: node.rel,
      sharedWith: type === SHARE_TYPE.link ? null : shareWith,
      permissions,
      stime: Math.floor(Date.now() / 1000),
      expiration: null,
      note: str(p.note) ?? "",
      label: str(p.label) ?? "",
      token: linkish ? token() : null,
      passwordHash: linkish && password !== null && password !== "" ? hashPassword(password) : null,
      hideDownload: false,
      mailSend: str(p.sendMail) === "true" || (type === SHARE_TYPE.email && str(p.sendMail) !== "false"),
      targets: new Map(),
      left: new Set(),
    };
    checkPassword(share);
    share.expiration = checkExpiry(expiration, type, true);
    if (type === SHARE_TYPE.user) {
      for (const s of store.shares.values()) {
        if (
          s.type === type &&
          s.sharedWith === shareWith &&
          s.owner === share.owner &&
          s.ownerRel.join("/") === share.ownerRel.join("/")
        ) {
          throw new OcsFailure(
            403,
            `Sharing ${node.segs.at(-1) ?? ""} failed, because this item is already shared with the account ${displayName(shareWith ?? "")}`,
          );
        }
      }
    }
    share.id = store.nextId();
    store.shares.set(share.id, share);
    return share;
  }

  function update(uid: string, share: StoredShare, p: Record<string, unknown>): void {
    if (share.owner !== uid && share.sharedBy !== uid) {
      throw new OcsFailure(403, "You are not allowed to edit incoming shares");
    }
    const keys = [
      "permissions",
      "password",
      "expireDate",
      "note",
      "label",
      "hideDownload",
      "publicUpload",
      "sendMail",
    ];
    if (!keys.some((k) => p[k] !== undefined && p[k] !== null)) {
      throw new OcsFailure(400, "Wrong or no update parameter given");
    }
    const next = { ...share };
    const linkish = share.type === SHARE_TYPE.link || share.type === SHARE_TYPE.email;
    const note = str(p.note);
    if (note !== null) next.note = note;
    const permissions = int(p.permissions);
    if (permissions !== null) {
      if (permissions < 0 || permissions > ALL)
        throw new OcsFailure(400, "Valid permissions are required for sharing");
      if (!linkish && (permissions & PERMISSION.read) === 0)
        throw new OcsFailure(400, "Shares need at least read permissions");
      const folder = statSync(store.realPath(share.owner, share.ownerRel)).isDirectory();
      if (!folder && (permissions & (PERMISSION.create | PERMISSION.delete)) !== 0) {
        throw new OcsFailure(400, "File shares cannot have create or delete permissions");
      }
      if (linkish && (permissions & PERMISSION.create) !== 0 && !store.policy.publicUpload) {
        throw new OcsFailure(403, "Public upload disabled by the administrator");
      }
      next.permissions = permissions;
    }
    if (linkish) {
      const password = str(p.password);
      if (password === "") next.passwordHash = null;
      else if (password !== null) next.passwordHash = hashPassword(password);
      const label = str(p.label);
      if (label !== null) {
        if (label.length > 255) throw new OcsFailure(400, "Maximum label length is 255");
        next.label = label;
      }
      const hide = str(p.hideDownload);
      if (hide === "true" || hide === "false") next.hideDownload = hide === "true";
    }
    const expire = str(p.expireDate);
    if (expire === "") next.expiration = null;
    else if (expire !== null) {
      try {
        next.expiration = parseDate(expire);
      } catch (err) {
        throw new OcsFailure(400, (err as Error).message);
      }
    }
    checkPassword(next);
    if (expire !== null) next.expiration = checkExpiry(next.expiration, share.type, false);
    Object.assign(share, next);
  }

  function list(uid: string, p: Record<string, unknown>, origin: string): unknown[] {
    store.prune();
    const flag = (k: string) => str(p[k]) === "true";
    const path = str(p.path) ?? "";
    const node = path === "" ? undefined : nodeOf(uid, path);
    const sameNode = (s: StoredShare, owner: string, rel: readonly string[]) =>
      s.owner === owner && s.ownerRel.join("/") === rel.join("/");
    let found: StoredShare[];
    const all = [...store.shares.values()].filter((s) => canAccess(s, uid));
    if (flag("shared_with_me")) {
      found = all.filter(
        (s) => store.receives(uid, s) && (node === undefined || sameNode(s, node.owner, node.rel)),
      );
    } else if (node !== undefined && flag("subfiles")) {
      if (!node.folder) throw new OcsFailure(400, "Not a directory");
      found = all.filter(
        (s) =>
          s.owner === node.owner &&
          s.ownerRel.length === node.rel.length + 1 &&
          s.ownerRel.slice(0, -1).join("/") === node.rel.join("/") &&
          (s.sharedBy === uid || s.owner === uid),
      );
    } else if (node !== undefined) {
      found = all.filter(
        (s) =>
          sameNode(s, node.owner, node.rel) &&
          (s.sharedBy === uid || (flag("reshares") && !store.receives(uid, s))),
      );
    } else {
      found = all.filter((s) => s.sharedBy === uid || (flag("reshares") && s.owner === uid));
    }
    return found.sort((a, b) => a.id - b.id).map((s) => format(s, uid, origin));
  }

  function sharees(uid: string, p: Record<string, unknown>) {
    if (str(p.itemType) === null) throw new OcsFailure(400, "Missing itemType");
    const search = (str(p.search) ?? "").trim().toLowerCase();
    const perPage = int(p.perPage) ?? 200;
    const page = int(p.page) ?? 1;
    if (perPage <= 0 || page <= 0) throw new OcsFailure(400, "Invalid page");
    const typesRaw = p.shareType;
    const types = (Array.isArray(typesRaw) ? typesRaw : typesRaw === undefined ? [] : [typesRaw])
      .map((t) => int(t))
      .filter((t): t is number => t !== null);
    const wants = (t: number) => types.length === 0 || types.includes(t);
    const matches = (...values: (string | null)[]) =>
      search === "" || values.some((v) => v !== null && v.toLowerCase().includes(search));
    const isExact = (...values: (string | null)[]) =>
      values.some((v) => v !== null && v.toLowerCase() === search);
    const users = { exact: [] as unknown[], more: [] as unknown[] };
    if (wants(SHARE_TYPE.user)) {
      for (const u of services.users()) {
        if (u.uid === uid || !matches(u.uid, u.displayName, u.email)) continue;
        const entry = {
          label: u.displayName,
          subline: "",
          icon: "icon-user",
          shareWithDisplayNameUnique: u.email ?? u.uid,
          status: { status: "offline", message: "", icon: "", clearAt: null },
          value: { shareType: SHARE_TYPE.user, shareWith: u.uid },
        };
        (isExact(u.uid, u.displayName, u.email) ? users.exact : users.more).push(entry);
      }
    }
    const groups = { exact: [] as unknown[], more: [] as unknown[] };
    if (wants(SHARE_TYPE.group) && store.policy.groupSharing) {
      for (const [gid, g] of store.groups) {
        if (!matches(gid, g.displayName)) continue;
        const entry = { label: g.displayName, value: { shareType: SHARE_TYPE.group, shareWith: gid } };
        (isExact(gid, g.displayName) ? groups.exact : groups.more).push(entry);
      }
    }
    const emails = { exact: [] as unknown[] };
    const known = services.users().some((u) => u.email?.toLowerCase() === search);
    if (
      wants(SHARE_TYPE.email) &&
      store.policy.mailShares &&
      /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(search) &&
      !known
    ) {
      emails.exact.push({
        label: search,
        uuid: search,
        name: "",
        type: "",
        shareWithDisplayNameUnique: search,
        value: { shareType: SHARE_TYPE.email, shareWith: search },
      });
    }
    const pageOf = (xs: unknown[]) => xs.slice((page - 1) * perPage, page * perPage);
    return {
      exact: {
        circles: [],
        emails: emails.exact,
        groups: groups.exact,
        remote_groups: [],
        remotes: [],
        rooms: [],
        users: users.exact,
      },
      circles: [],
      emails: [],
      groups: pageOf(groups.more),
      lookup: [],
      remote_groups: [],
      remotes: [],
      rooms: [],
      users: pageOf(users.more),
      lookupEnabled: false,
    };
  }

  const originOf = (r: OcsRequest) => `http://${r.req.headers.host ?? "127.0.0.1"}`;
  const answer =
    (fn: (r: OcsRequest, p: Record<string, unknown>) => unknown) =>
    async (r: OcsRequest): Promise<void> => {
      if (!store.policy.apiEnabled) {
        sendOcs(r.req, r.res, r.url, r.version, 404, [], "Share API is disabled");
        return;
      }
      try {
        const data = fn(r, await params(r.req, r.url));
        sendOcs(r.req, r.res, r.url, r.version, 200, data);
      } catch (err) {
        if (!(err instanceof OcsFailure)) throw err;
        sendOcs(r.req, r.res, r.url, r.version, err.status, [], err.message);
      }
    };

  const base = "apps\\/files_sharing\\/api\\/v1";
  return {
    id: "files_sharing",
    store,
    setPolicy(change) {
      store.policy = { ...store.policy, ...change };
    },
    setGroup(gid, name, members) {
      store.groups.set(gid, { displayName: name, members: new Set(members) });
    },
    capabilities: () => {
      const p = store.policy;
      return {
        files_sharing: {
          api_enabled: p.apiEnabled,
          public: {
            enabled: p.linksEnabled,
            password: { enforced: p.linkPasswordEnforced, askForOptionalPassword: false },
            multiple_links: true,
            expire_date: {
              enabled: p.linkExpiry.enabled,
              ...(p.linkExpiry.enabled ? { days: p.linkExpiry.days, enforced: p.linkExpiry.enforced } : {}),
            },
            expire_date_internal: {
              enabled: p.internalExpiry.enabled,
              ...(p.internalExpiry.enabled
                ? { days: p.internalExpiry.days, enforced: p.internalExpiry.enforced }
                : {}),
            },
            expire_date_remote: { enabled: false },
            send_mail: false,
            upload: p.publicUpload,
            upload_files_drop: p.publicUpload,
            custom_tokens: false,
          },
          user: { send_mail: false, expire_date: { enabled: true } },
          resharing: p.resharing,
          group_sharing: p.groupSharing,
          group: { enabled: p.groupSharing, expire_date: { enabled: true } },
          default_permissions: ALL,
          federation: {
            outgoing: false,
            incoming: false,
            expire_date: { enabled: true },
            expire_date_supported: { enabled: true },
          },
          sharee: { query_lookup_default: false, always_show_unique: true },
          ...(p.mailShares
            ? {
                sharebymail: {
                  enabled: true,
                  send_password_by_mail: true,
                  upload_files_drop: { enabled: true },
                  password: { enabled: true, enforced: p.linkPasswordEnforced },
                  expire_date: { enabled: true, enforced: p.linkExpiry.enforced },
                },
              }
            : {}),
        },
      };
    },
    ocsRoutes: [
      {
        pattern: new RegExp(`^${base}\\/shares$`),
        handle: async (r) => {
          const method = r.req.method ?? "GET";
          if (method === "GET") await answer((q, p) => list(q.user.uid, p, originOf(q)))(r);
          else if (method === "POST")
            await answer((q, p) => format(create(q.user.uid, p), q.user.uid, originOf(q)))(r);
          else sendOcs(r.req, r.res, r.url, r.version, 405, [], "Method not allowed");
        },
      },
      {
        pattern: new RegExp(`^${base}\\/shares\\/([^/]+)$`),
        handle: async (r) => {
          const id = decodeURIComponent(r.match[1] ?? "");
          const method = r.req.method ?? "GET";
          await answer((q, p) => {
            const share = byId(id, q.user.uid);
            if (method === "GET") return [format(share, q.user.uid, originOf(q))];
            if (method === "PUT") {
              update(q.user.uid, share, p);
              return format(share, q.user.uid, originOf(q));
            }
            if (method === "DELETE") {
              if (
                share.type === SHARE_TYPE.group &&
                share.owner !== q.user.uid &&
                share.sharedBy !== q.user.uid
              ) {
                share.left.add(q.user.uid);
              } else store.shares.delete(share.id);
              return [];
            }
            throw new OcsFailure(405, "Method not allowed");
          })(r);
        },
      },
      {
        pattern: new RegExp(`^${base}\\/sharees$`),
        handle: answer((q, p) => sharees(q.user.uid, p)),
      },
    ],
  };
}
