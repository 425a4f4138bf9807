// WebDAV files (`/remote.php/dav/files/<uid>/...`) on the `webdav` library for PROPFIND-based calls,
// and on the bounded HTTP layer for reads (size limit) and writes (If-Match, new etag and file id).
import {
  createClient,
  type FileStat,
  type ResponseDataDetailed,
  type SearchResult,
  type WebDAVClient,
} from "webdav";
import { errorFromResponse, NextcloudError } from "./errors.ts";
import { send, type NextcloudClientOptions } from "./http.ts";
import { encodePath, normalizePath } from "./paths.ts";

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

  async #root(): Promise<string> {
    return `/remote.php/dav/files/${encodeURIComponent(await this.#userId())}`;
  }

  async #lib(base: string): Promise<WebDAVClient> {
    return createClient(`${this.#client.baseUrl.replace(/\/+$/, "")}${base}`, {
      headers: { Authorization: `Bearer ${await this.#client.token()}`, "OCS-APIRequest": "true" },
      maxContentLength: this.#client.maxResponseBytes ?? 10 * 1024 * 1024,
    });
  }

  /** Runs a library call with the timeout, mapping its errors to NextcloudError. */
  async #call<T>(
    what: string,
    base: string | undefined,
    fn: (c: WebDAVClient, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const signal = AbortSignal.timeout(this.#client.timeoutMs);
    try {
      return await fn(await this.#lib(base ?? (await this.#root())), signal);
    } catch (err) {
      if (err instanceof NextcloudError) throw err;
      const e = err as { status?: unknown; response?: { headers?: { get(n: string): string | null } } };
      if (typeof e.status === "number") {
        const headers = new Headers();
        for (const n of ["retry-after", "x-nextcloud-maintenance-mode"]) {
          const v = e.response?.headers?.get(n);
          if (v != null) headers.set(n, v);
        }
        throw errorFromResponse(e.status, headers, what);
      }
      if (signal.aborted) {
        throw new NextcloudError(
          "timeout",
          `Nextcloud did not answer within ${String(this.#client.timeoutMs)} ms for ${what}.`,
          { cause: err },
        );
      }
      throw new NextcloudError("unavailable", `Nextcloud could not be reached for ${what}.`, {
        detail: err instanceof Error ? err.message : String(err),
        cause: err,
      });
    }
  }

  #info(stat: FileStat, prefix = ""): FileInfo {
    const props = (stat.props ?? {}) as Record<string, unknown>;
    // SEARCH hrefs are server-absolute ("/remote.php/dav/files/<uid>/..."): keep what follows the root.
    const at = prefix === "" ? -1 : stat.filename.indexOf(prefix);
    const path = normalizePath(at === -1 ? stat.filename : stat.filename.slice(at + prefix.length));
    const num = (v: unknown) =>
      typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : null;
    return {
      path,
      name: path === "/" ? "" : (path.split("/").at(-1) ?? ""),
      type: stat.type,
      size: stat.type === "directory" ? (num(props.size) ?? 0) : stat.size,
      etag: stat.etag,
      lastModified: stat.lastmod || null,
      contentType: stat.mime || null,
      fileId: num(props.fileid),
      permissions:
        typeof props.permissions === "string" || typeof props.permissions === "number"
          ? String(props.permissions)
          : null,
      favorite: num(props.favorite) === 1,
    };
  }

  /** A folder's direct children, folders first then by name, paged with offset/limit. */
  async list(path: string, o: { offset?: number; limit?: number } = {}): Promise<FilePage> {
    const p = normalizePath(path);
    const stats = await this.#call(`folder "${p}"`, undefined, (c, signal) =>
      c.getDirectoryContents(p, { data: PROPS, details: true, signal }),
    );
    const items = stats.data
      .map((s) => this.#info(s))
      .sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === "directory" ? -1 : 1));
    const offset = o.offset ?? 0;
    const limit = o.limit ?? 100;
    const page: FilePage = { items: items.slice(offset, offset + limit), total: items.length };
    if (offset + limit < items.length) page.nextOffset = offset + limit;
    return page;
  }

  async stat(path: string): Promise<FileInfo> {
    const p = normalizePath(path);
    const stat = await this.#call(
      `"${p}"`,
      undefined,
      (c, signal) =>
        c.stat(p, { data: PROPS, details: true, signal }) as Promise<ResponseDataDetailed<FileStat>>,
    );
    return this.#info(stat.data);
  }

  /** A file's content, refused when larger than `maxBytes`. */
  async read(
    path: string,
    o: { maxBytes?: number } = {},
  ): Promise<{ content: Uint8Array; etag: string | null; contentType: string | null }> {
    const p = normalizePath(path);
    const res = await send(this.#client, {
      method: "GET",
      path: `${await this.#root()}${encodePath(p)}`,
      what: `file "${p}"`,
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
    const p = normalizePath(path);
    if (p === "/") throw new NextcloudError("invalid_path", "A file path is needed, not the root folder.");
    const res = await send(this.#client, {
      method: "PUT",
      path: `${await this.#root()}${encodePath(p)}`,
      what: `file "${p}"`,
      headers: {
        "Content-Type": o.contentType ?? "application/octet-stream",
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
    const p = normalizePath(path);
    await this.#call(`folder "${p}"`, undefined, (c, signal) => c.createDirectory(p, { signal }));
  }

  /** Moves or renames; with `overwrite: false` (default) an existing target gives a 412 conflict. */
  async move(from: string, to: string, o: { overwrite?: boolean } = {}): Promise<void> {
    const [f, t] = [normalizePath(from), normalizePath(to)];
    await this.#call(`"${f}" → "${t}"`, undefined, (c, signal) =>
      c.moveFile(f, t, { overwrite: o.overwrite ?? false, signal }),
    );
  }

  async copy(from: string, to: string, o: { overwrite?: boolean } = {}): Promise<void> {
    const [f, t] = [normalizePath(from), normalizePath(to)];
    await this.#call(`"${f}" → "${t}"`, undefined, (c, signal) =>
      c.copyFile(f, t, { overwrite: o.overwrite ?? false, signal }),
    );
  }

  /** Deletes a file or (recursively) a folder; `ifMatch` refuses when it changed meanwhile. */
  async delete(path: string, o: { ifMatch?: string } = {}): Promise<void> {
    const p = normalizePath(path);
    if (p === "/")
      throw new NextcloudError("invalid_path", "Refusing to delete your whole Nextcloud root folder.");
    await this.#call(`"${p}"`, undefined, (c, signal) =>
      c.deleteFile(p, {
        signal,
        ...(o.ifMatch === undefined ? {} : { headers: { "If-Match": quote(o.ifMatch) } }),
      }),
    );
  }

  /**
   * Files and folders whose name contains `query` (DAV SEARCH `like`, case-insensitive), under `folder`.
   * @see https://docs.nextcloud.com/server/latest/developer_manual/client_apis/WebDAV/search.html
   */
  async search(
    query: string,
    o: { folder?: string; limit?: number; offset?: number } = {},
  ): Promise<FileInfo[]> {
    const folder = normalizePath(o.folder ?? "/");
    const uid = await this.#userId();
    const like = `%${query.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    const scope = `/files/${encodeURIComponent(uid)}${folder === "/" ? "" : encodePath(folder)}`;
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<d:searchrequest xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns" xmlns:ns="https://github.com/icewind1991/SearchDAV/ns">
<d:basicsearch><d:select><d:prop><d:getlastmodified/><d:getetag/><d:getcontenttype/><d:resourcetype/><d:getcontentlength/><d:displayname/><oc:fileid/><oc:permissions/><oc:size/><oc:favorite/></d:prop></d:select>
<d:from><d:scope><d:href>${xmlEscape(scope)}</d:href><d:depth>infinity</d:depth></d:scope></d:from>
<d:where><d:like><d:prop><d:displayname/></d:prop><d:literal>${xmlEscape(like)}</d:literal></d:like></d:where>
<d:orderby/><d:limit><d:nresults>${String(o.limit ?? 50)}</d:nresults><ns:firstresult>${String(o.offset ?? 0)}</ns:firstresult></d:limit>
</d:basicsearch></d:searchrequest>`;
    const result = await this.#call(
      `search "${query}"`,
      "/remote.php/dav",
      (c, signal) =>
        c.search("/", {
          data: body,
          details: true,
          headers: { "Content-Type": "text/xml" },
          signal,
        }) as Promise<ResponseDataDetailed<SearchResult>>,
    );
    const results = result.data.results;
    const prefix = `/files/${uid}`;
    return results.map((s) => this.#info(s, prefix));
  }
}
