// Received shares in the stand-in's WebDAV: a share is mounted at the top of the recipient's files
// (the sharing app keeps the mount points, apps/sharing-store.ts), and the DAV front enforces the
// share's permissions there, as Nextcloud's SharedStorage does: reading needs nothing more, a write
// needs update, create or delete, and DELETE on the mount point itself leaves the share.

/** OCS share permission bits (OCP\Constants). */
export const PERMISSION = { read: 1, update: 2, create: 4, delete: 8, share: 16 } as const;

/** A share as its recipient sees it: the name of its mount point at the top of their files. */
export interface ReceivedMount {
  /** The mount point's name in the recipient's root (the node's name, or "name (2)" on a clash). */
  target: string;
  /** The share's permission bits. */
  permissions: number;
  /** Whether the shared node is a folder. */
  folder: boolean;
}

/** What the DAV front asks of the sharing app. */
export interface ShareMounts {
  /** The user's mount points, brought up to date (expired or orphaned shares gone) before each request. */
  received(uid: string): readonly ReceivedMount[];
  /** The recipient removes the mount point (DELETE on it): the share is gone from their files. */
  leave(uid: string, target: string): void;
}

/** What the front does with a request that touches a mount: refuse it, or leave the share. */
export type MountDecision = { refuse: string } | { leave: string } | undefined;

const mountOf = (mounts: readonly ReceivedMount[], rel: readonly string[]) =>
  rel.length === 0 ? undefined : mounts.find((m) => m.target === rel[0]);

const has = (m: ReceivedMount, bit: number) => (m.permissions & bit) === bit;

/**
 * Whether a request under the recipient's root may go on. `rel` is the request's path inside the
 * user's files, `dest` a MOVE or COPY destination's, `exists` tells whether a path exists now.
 */
export function mountDecision(
  mounts: readonly ReceivedMount[],
  method: string,
  rel: readonly string[],
  dest: readonly string[] | undefined,
  exists: (rel: readonly string[]) => boolean,
): MountDecision {
  const src = mountOf(mounts, rel);
  const isRoot = rel.length === 1;
  if (src !== undefined) {
    if (method === "DELETE" && isRoot) return { leave: src.target };
    if (method === "MOVE" && isRoot) return { refuse: "The mount point of a share cannot be moved" };
    const need = sourceNeed(method, src, rel, dest, exists);
    if (need !== undefined && !has(src, need)) return { refuse: refusal(need, rel) };
  }
  const target = dest === undefined ? undefined : mountOf(mounts, dest);
  if (target !== undefined && dest !== undefined) {
    if (dest.length === 1) return { refuse: "The mount point of a share cannot be overwritten" };
    const need = exists(dest) ? PERMISSION.update : PERMISSION.create;
    if (!has(target, need)) return { refuse: refusal(need, dest) };
  }
  return undefined;
}

/** The permission a method needs on its source inside a mount, or undefined for reads. */
function sourceNeed(
  method: string,
  mount: ReceivedMount,
  rel: readonly string[],
  dest: readonly string[] | undefined,
  exists: (rel: readonly string[]) => boolean,
): number | undefined {
  switch (method) {
    case "PUT":
      return exists(rel) ? PERMISSION.update : PERMISSION.create;
    case "MKCOL":
      return PERMISSION.create;
    case "DELETE":
      return PERMISSION.delete;
    case "PROPPATCH":
    case "LOCK":
      return PERMISSION.update;
    case "MOVE": {
      // A rename in the same folder needs update; moving out needs delete (SharedStorage::rename).
      const sameFolder =
        dest !== undefined &&
        dest.length === rel.length &&
        dest.slice(0, -1).join("/") === rel.slice(0, -1).join("/") &&
        mountOf([mount], dest) !== undefined;
      return sameFolder ? PERMISSION.update : PERMISSION.delete;
    }
    default:
      return undefined;
  }
}

function refusal(need: number, rel: readonly string[]): string {
  const what = need === PERMISSION.create ? "create" : need === PERMISSION.delete ? "delete" : "update";
  return `Permission denied: the share does not allow you to ${what} ${rel.join("/")}`;
}

/**
 * Nextcloud's `oc:permissions` of a node inside a received share (Sabre Node::getDavPermissions):
 * S shared, R reshareable, M mounted, G readable, D deletable, N V renameable and movable, W
 * writable (files), C K can create files and folders (folders). The mount point itself can always
 * be deleted: that leaves the share.
 */
export function sharedDavPermissions(mount: ReceivedMount, isRoot: boolean, isFolder: boolean): string {
  let p = "S";
  if (has(mount, PERMISSION.share)) p += "R";
  p += "MG";
  if (isRoot || has(mount, PERMISSION.delete)) p += "D";
  if (has(mount, PERMISSION.update)) p += "NV";
  if (!isFolder && has(mount, PERMISSION.update)) p += "W";
  if (isFolder && has(mount, PERMISSION.create)) p += "CK";
  return p;
}
