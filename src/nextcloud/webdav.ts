// WebDAV files (`/remote.php/dav/files/<uid>/...`) on the gateway's own DAV layer (dav.ts): every
// URL and Destination built by the one encoder and checked by the guard before it is sent.
import {
  DAV_NS,
  davMultistatus,
  davRequest,
  hrefNames,
  OC_NS,
  parseMultistatus,
  propOf,
  type DavRequest,
  type DavResponse,
} from "./dav.ts";
import { NextcloudError } from "./errors.ts";
import { davRoot } from "./guard.ts";
import { send, type NextcloudClientOptions } from "./http.ts";
import { encodeSegments, pathSegments } from "./paths.ts";

/** A file or folder with Nextcloud's oc:/nc: properties. */
export interface FileInfo {
  /** Path inside the user's files, e.g. "/Notes/Work/Plans.md". */
  path: string;
  name: string;
  type: "file" | "directory";
  /** Bytes; for folders the recursive size (oc:size). */
  size: number;
  /** Unquoted etag; pass it back as `ifMatch`. */
  etag: string | null;
  lastModified: string | null;
  contentType: string | null;
  fileId: number | null;
  /** oc:permissions letters, e.g. "RGDNVW". */
  permissions: string | null;
  favorite: boolean;
}

/** One page of a folder listing. */
export interface FilePage {
  items: FileInfo[];
  total: number;
  /** Offset of the next page, when there is one. */
  nextOffset?: number;
}

const PROPS = `<?xml version="1.0" encoding="UTF-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns"><d:prop>
<d:getlastmodified/><d:getetag/><d:getcontenttype/><d:resourcetype/><d:getcontentlength/><d:displayname/>
<oc:fileid/><oc:permissions/><oc:size/><oc:favorite/><nc:has-preview/>
</d:prop></d:propfind>`;

const xmlEscape = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
const quote = (etag: string) => `"${etag.replace(/^"|"$/g, "")}"`;
const shown = (segs: readonly string[]) => `/${segs.join("/")}`;

/**
 * The user's files over WebDAV (RFC 4918) with Nextcloud's properties and DAV SEARCH (RFC 5323).
 * @see https://docs.nextcloud.com/server/latest/developer_manual/client_apis/WebDAV/basic.html
 */
export class WebDavClient {
  readonly #client: NextcloudClientOptions;
  readonly #userId: () => Promise<string>;

  constructor(client: NextcloudClientOptions, userId: () => Promise<string>) {
    this.#client = client;
    this.#userId = userId;
  }

  async #request(req: Omit<DavRequest, "tree" | "uid">) {
    return davRequest(this.#client, { ...req, tree: "files", uid: await this.#userId() });
  }

  async #propfind(path: readonly string[], depth: "0" | "1", what: string): Promise<FileInfo[]> {
    const uid = await this.#userId();
    const responses = await davMultistatus(this.#client, {
      method: "PROPFIND",
      tree: "files",
      uid,
      path,
      collection: depth === "1",
      depth,
      what,
      body: PROPS,
      contentType: "application/xml; charset=utf-8",
    });
    return this.#infos(responses, davRoot("files", uid));
  }

  /** FileInfo of every response under the user's root; anything else the server sent is dropped. */
  #infos(responses: DavResponse[], root: string): FileInfo[] {
    const out: FileInfo[] = [];
    for (const r of responses) {
      const names = hrefNames(this.#client.baseUrl, root, r.href);
      if (names === undefined) continue;
      if (!r.propstats.some((p) => p.status >= 200 && p.status < 300)) continue;
      out.push(infoOf(r, names));
    }
    return out;
  }

  /** A folder's direct children, folders first then by name, paged with offset/limit. */
  async list(path: string, o: { offset?: number; limit?: number } = {}): Promise<FilePage> {
    const segs = pathSegments(path);
    const self = shown(segs);
    const items = (await this.#propfind(segs, "1", `folder "${self}"`))
      // The folder's own entry is not one of its children; a file's "listing" is the file itself.
      .filter((i) => !(i.path === self && i.type === "directory"))
      .sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === "directory" ? -1 : 1));
    const offset = o.offset ?? 0;
    const limit = o.limit ?? 100;
    const page: FilePage = { items: items.slice(offset, offset + limit), total: items.length };
    if (offset + limit < items.length) page.nextOffset = offset + limit;
    return page;
  }

  async stat(path: string): Promise<FileInfo> {
    const segs = pathSegments(path);
    const what = `"${shown(segs)}"`;
    const info = (await this.#propfind(segs, "0", what))[0];
    if (info === undefined)
      throw new NextcloudError("bad_response", `Nextcloud answered ${what} without it.`);
    return info;
  }

  /** A file's content, refused when larger than `maxBytes`. */
  async read(
    path: string,
    o: { maxBytes?: number } = {},
  ): Promise<{ content: Uint8Array; etag: string | null; contentType: string | null }> {
    const segs = pathSegments(path);
    const res = await this.#request({
      method: "GET",
      path: segs,
      what: `file "${shown(segs)}"`,
      ...(o.maxBytes === undefined ? {} : { maxResponseBytes: o.maxBytes }),
    });
    const etag = res.headers.get("etag");
    return {
      content: res.body,
      etag: etag === null ? null : etag.replace(/^"|"$/g, ""),
      contentType: res.headers.get("content-type"),
    };
  }

  /**
   * Writes a file. `ifMatch` (the etag you read) refuses to overwrite a newer version (412, nothing
   * changed); `ifNoneMatch: "*"` refuses to overwrite an existing file.
   */
  async write(
    path: string,
    content: string | Uint8Array,
    o: { ifMatch?: string; ifNoneMatch?: "*"; contentType?: string } = {},
  ): Promise<{ etag: string | null; fileId: string | null; created: boolean }> {
    const segs = pathSegments(path);
    if (segs.length === 0) {
      throw new NextcloudError("invalid_path", "A file path is needed, not the root folder.");
    }
    const res = await this.#request({
      method: "PUT",
      path: segs,
      what: `file "${shown(segs)}"`,
      contentType: o.contentType ?? "application/octet-stream",
      headers: {
        ...(o.ifMatch === undefined ? {} : { "If-Match": quote(o.ifMatch) }),
        ...(o.ifNoneMatch === undefined ? {} : { "If-None-Match": o.ifNoneMatch }),
      },
      body: content,
    });
    const etag = res.headers.get("oc-etag") ?? res.headers.get("etag");
    return {
      etag: etag === null ? null : etag.replace(/^"|"$/g, ""),
      fileId: res.headers.get("oc-fileid"),
      created: res.status === 201,
    };
  }

  async mkdir(path: string): Promise<void> {
    const segs = pathSegments(path);
    await this.#request({ method: "MKCOL", path: segs, what: `folder "${shown(segs)}"` });
  }

  /** Moves or renames; with `overwrite: false` (default) an existing target gives a 412 conflict. */
  async move(from: string, to: string, o: { overwrite?: boolean } = {}): Promise<void> {
    await this.#transfer("MOVE", from, to, o.overwrite ?? false);
  }

  async copy(from: string, to: string, o: { overwrite?: boolean } = {}): Promise<void> {
    await this.#transfer("COPY", from, to, o.overwrite ?? false);
  }

  async #transfer(method: "MOVE" | "COPY", from: string, to: string, overwrite: boolean): Promise<void> {
    const [f, t] = [pathSegments(from), pathSegments(to)];
    await this.#request({
      method,
      path: f,
      destination: t,
      overwrite,
      what: `"${shown(f)}" → "${shown(t)}"`,
    });
  }

  /** Deletes a file or (recursively) a folder; `ifMatch` refuses when it changed meanwhile. */
  async delete(path: string, o: { ifMatch?: string } = {}): Promise<void> {
    const segs = pathSegments(path);
    if (segs.length === 0)
      throw new NextcloudError("invalid_path", "Refusing to delete your whole Nextcloud root folder.");
    await this.#request({
      method: "DELETE",
      path: segs,
      what: `"${shown(segs)}"`,
      ...(o.ifMatch === undefined ? {} : { headers: { "If-Match": quote(o.ifMatch) } }),
    });
  }

  /**
   * Files and folders whose name contains `query` (DAV SEARCH `like`, case-insensitive), under `folder`.
   * @see https://docs.nextcloud.com/server/latest/developer_manual/client_apis/WebDAV/search.html
   */
  async search(
    query: string,
    o: { folder?: string; limit?: number; offset?: number } = {},
  ): Promise<FileInfo[]> {
    const folder = pathSegments(o.folder ?? "/");
    const uid = await this.#userId();
    const root = davRoot("files", uid);
    const like = `%${query.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    // The scope is relative to /remote.php/dav, built by the same encoder as every URL.
    const scope = `${root.slice("/remote.php/dav".length)}${encodeSegments(folder)}`;
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<d:searchrequest xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns" xmlns:ns="https://github.com/icewind1991/SearchDAV/ns">
<d:basicsearch><d:select><d:prop><d:getlastmodified/><d:getetag/><d:getcontenttype/><d:resourcetype/><d:getcontentlength/><d:displayname/><oc:fileid/><oc:permissions/><oc:size/><oc:favorite/></d:prop></d:select>
<d:from><d:scope><d:href>${xmlEscape(scope)}</d:href><d:depth>infinity</d:depth></d:scope></d:from>
<d:where><d:like><d:prop><d:displayname/></d:prop><d:literal>${xmlEscape(like)}</d:literal></d:like></d:where>
<d:orderby/><d:limit><d:nresults>${String(o.limit ?? 50)}</d:nresults><ns:firstresult>${String(o.offset ?? 0)}</ns:firstresult></d:limit>
</d:basicsearch></d:searchrequest>`;
    const res = await send(this.#client, {
      method: "SEARCH",
      path: "/remote.php/dav/",
      what: `search "${query}"`,
      headers: { "Content-Type": "text/xml" },
      body,
    });
    return this.#infos(parseMultistatus(res.text()), root);
  }
}

/** A FileInfo from a PROPFIND/SEARCH response whose href named `names` below the user's root. */
function infoOf(r: DavResponse, names: string[]): FileInfo {
  const text = (ns: string, name: string) => {
    const t = propOf(r, ns, name)?.text.trim();
    return t === undefined || t === "" ? null : t;
  };
  const num = (v: string | null) => (v === null || Number.isNaN(Number(v)) ? null : Number(v));
  const resourcetype = propOf(r, DAV_NS, "resourcetype");
  const directory = resourcetype?.children.some((c) => c.ns === DAV_NS && c.name === "collection") === true;
  const path = `/${names.join("/")}`;
  const etag = text(DAV_NS, "getetag");
  const mime = text(DAV_NS, "getcontenttype");
  return {
    path,
    name: names.at(-1) ?? "",
    type: directory ? "directory" : "file",
    size: directory ? (num(text(OC_NS, "size")) ?? 0) : (num(text(DAV_NS, "getcontentlength")) ?? 0),
    etag: etag === null ? null : etag.replace(/"/g, ""),
    lastModified: text(DAV_NS, "getlastmodified"),
    contentType: directory || mime === null ? null : (mime.split(";")[0] ?? null),
    fileId: num(text(OC_NS, "fileid")),
    permissions: text(OC_NS, "permissions"),
    favorite: num(text(OC_NS, "favorite")) === 1,
  };
}
