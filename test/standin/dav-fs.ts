// The file system behind the stand-in's WebDAV: webdav-server's PhysicalFileSystem with Nextcloud's
// live properties (oc:fileid, oc:id, oc:permissions, oc:size, nc:has-preview) and a content etag.
import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { v2 as webdav } from "webdav-server";

/** DAV namespaces of Nextcloud. */
export const OC_NS = "http://owncloud.org/ns";
export const NC_NS = "http://nextcloud.org/ns";

/**
 * webdav-server 2.6.3 names XML elements "<namespace><local>" and splits them again at the last "/",
 * so namespaces that do not end in "/" come out mangled. The front adds a "/" to Nextcloud's
 * namespaces in request bodies and removes it from responses; property names here use that form.
 */
export const SHIM = { oc: `${OC_NS}/`, nc: `${NC_NS}/` } as const;

/**
 * The etag of a file or folder: changes whenever its content, size or modification time does, and,
 * for a folder, whenever anything below it changes, as Nextcloud propagates etags up the tree.
 */
export function etagOf(realPath: string, depth = 0): string | undefined {
  try {
    const st = statSync(realPath, { bigint: true });
    const hash = createHash("md5").update(
      `${String(st.ino)}-${String(st.mtimeNs)}-${String(st.size)}-${String(st.ctimeNs)}`,
    );
    if (st.isDirectory() && depth < 64) {
      for (const name of readdirSync(realPath).sort())
        hash.update(`\0${name}\0${etagOf(join(realPath, name), depth + 1) ?? ""}`);
    }
    return `"${hash.digest("hex")}"`;
  } catch {
    return undefined;
  }
}

/** Bytes under a path (folders recursively), like `oc:size`. */
export function treeSize(realPath: string): number {
  const st = statSync(realPath);
  if (!st.isDirectory()) return st.size;
  return readdirSync(realPath).reduce((sum, name) => sum + treeSize(join(realPath, name)), 0);
}

/** `oc:permissions` of a node by its real path, when something else than ownership decides (a received share). */
export type PermissionsOf = (realPath: string, isFolder: boolean) => string | undefined;

/** Nextcloud's live properties of one node, keyed in webdav-server's naming (see SHIM). */
export function liveProperties(realPath: string, permissionsOf?: PermissionsOf): webdav.PropertyBag {
  const st = statSync(realPath);
  const fileid = String(st.ino);
  const own = st.isDirectory() ? "RGDNVCK" : "RGDNVW";
  return {
    [`${SHIM.oc}fileid`]: { value: fileid },
    [`${SHIM.oc}id`]: { value: `${fileid.padStart(8, "0")}ocstandin` },
    [`${SHIM.oc}permissions`]: { value: permissionsOf?.(realPath, st.isDirectory()) ?? own },
    [`${SHIM.oc}size`]: { value: String(treeSize(realPath)) },
    [`${SHIM.nc}has-preview`]: { value: "false" },
  };
}

class LivePropertyManager implements webdav.IPropertyManager {
  readonly #dead: webdav.IPropertyManager;
  readonly #realPath: string;
  readonly #permissionsOf: PermissionsOf | undefined;

  constructor(dead: webdav.IPropertyManager, realPath: string, permissionsOf?: PermissionsOf) {
    this.#dead = dead;
    this.#realPath = realPath;
    this.#permissionsOf = permissionsOf;
  }

  setProperty(
    name: string,
    value: webdav.ResourcePropertyValue,
    attributes: webdav.PropertyAttributes,
    callback: webdav.SimpleCallback,
  ): void {
    this.#dead.setProperty(name, value, attributes, callback);
  }

  getProperty(
    name: string,
    callback: webdav.Return2Callback<webdav.ResourcePropertyValue, webdav.PropertyAttributes>,
  ): void {
    const live = liveProperties(this.#realPath, this.#permissionsOf)[name];
    if (live) callback(undefined, live.value, live.attributes ?? {});
    else this.#dead.getProperty(name, callback);
  }

  removeProperty(name: string, callback: webdav.SimpleCallback): void {
    this.#dead.removeProperty(name, callback);
  }

  getProperties(callback: webdav.ReturnCallback<webdav.PropertyBag>, byCopy?: boolean): void {
    this.#dead.getProperties((e, dead) => {
      if (e) {
        callback(e);
        return;
      }
      try {
        callback(undefined, { ...dead, ...liveProperties(this.#realPath, this.#permissionsOf) });
      } catch (err) {
        callback(err as Error);
      }
    }, byCopy);
  }
}

/** PhysicalFileSystem with Nextcloud's live properties and an etag that tracks content changes. */
export class NextcloudFileSystem extends webdav.PhysicalFileSystem {
  readonly #permissionsOf: PermissionsOf | undefined;

  constructor(root: string, permissionsOf?: PermissionsOf) {
    super(root);
    this.#permissionsOf = permissionsOf;
  }

  protected override _etag(
    path: webdav.Path,
    _ctx: webdav.ETagInfo,
    callback: webdav.ReturnCallback<string>,
  ): void {
    const etag = etagOf(this.getRealPath(path).realPath);
    if (etag === undefined) callback(webdav.Errors.ResourceNotFound);
    else callback(undefined, etag);
  }

  protected override _propertyManager(
    path: webdav.Path,
    ctx: webdav.PropertyManagerInfo,
    callback: webdav.ReturnCallback<webdav.IPropertyManager>,
  ): void {
    super._propertyManager(path, ctx, (e, pm) => {
      if (e || pm === undefined) callback(e);
      else
        callback(
          undefined,
          new LivePropertyManager(pm, this.getRealPath(path).realPath, this.#permissionsOf),
        );
    });
  }
}
