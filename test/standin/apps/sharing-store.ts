// The stand-in's shares, in memory: who shared which node with whom and how, the groups and the
// sharing policy (administrator settings), and the mount points that make a share appear in its
// recipients' files (a symbolic link at the top of the recipient's root to the owner's node, with
// the share's permissions enforced by the DAV front: ../dav-mounts.ts).
import { existsSync, lstatSync, readlinkSync, statSync, symlinkSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { ReceivedMount, ShareMounts } from "../dav-mounts.ts";
import type { StandinServices } from "./types.ts";

/** Share types of OCP\Share\IShare the stand-in serves. */
export const SHARE_TYPE = { user: 0, group: 1, link: 3, email: 4 } as const;

/** One share. `ownerRel` is the node's path in the file owner's files. */
export interface StoredShare {
  id: number;
  type: number;
  /** The file owner. */
  owner: string;
  /** Who made the share (the owner, or a recipient resharing). */
  sharedBy: string;
  ownerRel: string[];
  /** uid, gid or email address; null for links. */
  sharedWith: string | null;
  permissions: number;
  stime: number;
  /** YYYY-MM-DD, or null. */
  expiration: string | null;
  note: string;
  label: string;
  token: string | null;
  /** A hash, never the password; Nextcloud answers with its hash too. */
  passwordHash: string | null;
  hideDownload: boolean;
  mailSend: boolean;
  /** Each recipient's mount point name. */
  targets: Map<string, string>;
  /** Group members who removed the share from their files. */
  left: Set<string>;
}

/** Administrator settings of files_sharing (Settings → Sharing), reflected in the capabilities. */
export interface SharingPolicy {
  apiEnabled: boolean;
  linksEnabled: boolean;
  linkPasswordEnforced: boolean;
  /** Default days of a link's expiry, applied when none is given; with `enforced`, the maximum. */
  linkExpiry: { enabled: boolean; enforced: boolean; days: number };
  internalExpiry: { enabled: boolean; enforced: boolean; days: number };
  groupSharing: boolean;
  publicUpload: boolean;
  resharing: boolean;
  /** The sharebymail app. */
  mailShares: boolean;
}

export const DEFAULT_POLICY: SharingPolicy = {
  apiEnabled: true,
  linksEnabled: true,
  linkPasswordEnforced: false,
  linkExpiry: { enabled: false, enforced: false, days: 7 },
  internalExpiry: { enabled: false, enforced: false, days: 7 },
  groupSharing: true,
  publicUpload: true,
  resharing: true,
  mailShares: true,
};

/** A group: its display name and members ("everyone": every provisioned user). */
export interface StandinGroup {
  displayName: string;
  members: Set<string> | "everyone";
}

/** Where a user's path leads: the file owner and the path in their files, and the mount it went through. */
export interface Resolved {
  owner: string;
  rel: string[];
  via?: { share: StoredShare; target: string };
}

/** Today as YYYY-MM-DD (UTC: the stand-in's users all live in UTC). */
export function today(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** The shares, groups and policy of one stand-in, and the mount points of received shares. */
export class ShareStore implements ShareMounts {
  readonly #services: StandinServices;
  readonly shares = new Map<number, StoredShare>();
  readonly groups = new Map<string, StandinGroup>([
    ["staff", { displayName: "Staff", members: "everyone" }],
    ["managers", { displayName: "Managers", members: new Set() }],
  ]);
  policy: SharingPolicy = structuredClone(DEFAULT_POLICY);
  #nextId = 1;
  /** The links this store made, per recipient: mount point name → the node it points to. */
  readonly #links = new Map<string, Map<string, string>>();

  constructor(services: StandinServices) {
    this.#services = services;
  }

  nextId(): number {
    return this.#nextId++;
  }

  /** The real path of a node in its owner's files. */
  realPath(owner: string, rel: readonly string[]): string {
    return join(this.#services.filesRoot(owner), ...rel);
  }

  /** Whether `uid` is a member of `gid`. */
  inGroup(uid: string, gid: string): boolean {
    const g = this.groups.get(gid);
    if (g === undefined) return false;
    return g.members === "everyone" ? this.#services.user(uid) !== undefined : g.members.has(uid);
  }

  /** Whether `uid` receives `share` (user or group share, not its owner or sharer, not left). */
  receives(uid: string, share: StoredShare): boolean {
    if (share.owner === uid || share.sharedBy === uid || share.left.has(uid)) return false;
    if (share.type === SHARE_TYPE.user) return share.sharedWith === uid;
    if (share.type === SHARE_TYPE.group)
      return share.sharedWith !== null && this.inGroup(uid, share.sharedWith);
    return false;
  }

  /** Resolves a path in `uid`'s files, through a received mount when it starts with one. */
  resolve(uid: string, rel: readonly string[]): Resolved {
    const mount = rel.length === 0 ? undefined : this.received(uid).find((m) => m.target === rel[0]);
    if (mount !== undefined) {
      const share = [...this.shares.values()].find(
        (s) => this.receives(uid, s) && s.targets.get(uid) === mount.target,
      );
      if (share !== undefined) {
        return {
          owner: share.owner,
          rel: [...share.ownerRel, ...rel.slice(1)],
          via: { share, target: mount.target },
        };
      }
    }
    return { owner: uid, rel: [...rel] };
  }

  /** Drops shares that expired or whose node is gone, as Nextcloud does when it meets them. */
  prune(now = Date.now()): void {
    const day = today(now);
    for (const s of this.shares.values()) {
      if ((s.expiration !== null && s.expiration <= day) || !existsSync(this.realPath(s.owner, s.ownerRel))) {
        this.shares.delete(s.id);
      }
    }
  }

  /** @see ShareMounts.received — also makes and removes the mount points' links. */
  received(uid: string): readonly ReceivedMount[] {
    this.prune();
    const root = this.#services.filesRoot(uid);
    let links = this.#links.get(uid);
    if (links === undefined) this.#links.set(uid, (links = new Map<string, string>()));
    const mounts: ReceivedMount[] = [];
    const wanted = new Map<string, string>();
    for (const share of [...this.shares.values()].sort((a, b) => a.id - b.id)) {
      if (!this.receives(uid, share)) continue;
      const node = this.realPath(share.owner, share.ownerRel);
      let target = share.targets.get(uid);
      if (target === undefined) {
        target = this.#freeName(root, share.ownerRel.at(-1) ?? "shared", links, wanted);
        share.targets.set(uid, target);
      }
      wanted.set(target, node);
      mounts.push({ target, permissions: share.permissions, folder: statSync(node).isDirectory() });
    }
    for (const [target, node] of links) {
      if (wanted.get(target) === node) continue;
      rmLink(join(root, target));
      links.delete(target);
    }
    for (const [target, node] of wanted) {
      if (links.has(target)) continue;
      symlinkSync(node, join(root, target));
      links.set(target, node);
    }
    return mounts;
  }

  /** @see ShareMounts.leave */
  leave(uid: string, target: string): void {
    for (const share of this.shares.values()) {
      if (!this.receives(uid, share) || share.targets.get(uid) !== target) continue;
      if (share.type === SHARE_TYPE.group) share.left.add(uid);
      else this.shares.delete(share.id);
    }
    this.received(uid);
  }

  /** A name for a new mount point: the node's name, or "name (2)", "name (3)"… when taken. */
  #freeName(root: string, name: string, links: Map<string, string>, wanted: Map<string, string>): string {
    const dot = name.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? name : `${stem} (${String(n)})${ext}`;
      const taken = wanted.has(candidate) || links.has(candidate) || exists(join(root, candidate));
      if (!taken) return candidate;
    }
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function rmLink(path: string): void {
  try {
    readlinkSync(path);
    unlinkSync(path);
  } catch {
    // Not a link (the user replaced it) or gone already: nothing of ours to remove.
  }
}
