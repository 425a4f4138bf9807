// The stand-in's WebDAV: a real WebDAV server (webdav-server v2) on an internal loopback port, one
// file system per user mounted at /remote.php/dav/files/<uid>, and this front doing what Nextcloud
// does around it: the user confined to their own root, If-Match/If-None-Match, OC-FileId/OC-ETag,
// and the permissions of shares mounted into a recipient's root (dav-mounts.ts).
import { mkdirSync, statSync } from "node:fs";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative, sep } from "node:path";
import { v2 as webdav } from "webdav-server";
import { etagOf, NC_NS, NextcloudFileSystem, OC_NS, SHIM } from "./dav-fs.ts";
import { mountDecision, sharedDavPermissions, type ShareMounts } from "./dav-mounts.ts";
import { readBody, sendSabreError } from "./respond.ts";
import { search } from "./search.ts";

const FILES_PREFIX = "/remote.php/dav/files/";

/** Decoded path segments, or undefined when a segment is "." or ".." (never passed on). */
export function segments(pathname: string): string[] | undefined {
  const out = pathname
    .split("/")
    .filter((s) => s !== "")
    .map((s) => decodeURIComponent(s));
  return out.some((s) => s === "." || s === ".." || s.includes("/") || s.includes("\0")) ? undefined : out;
}

/** The WebDAV back end and the per-user confinement in front of it. */
export class DavFront {
  readonly #dataDir: string;
  readonly #server = new webdav.WebDAVServer(
    Object.assign(new webdav.WebDAVServerOptions(), { requireAuthentification: false }),
  );
  readonly #mounted = new Set<string>();
  /** Locks by real path: webdav-server lets the lock owner write without the token; Sabre does not. */
  readonly #locks = new Map<string, { token: string; expires: number }>();
  #http: Server | undefined;
  #port = 0;
  #shares: ShareMounts | undefined;

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** `<dataDir>/<uid>/files`, created on first use. */
  filesRoot(uid: string): string {
    const root = join(this.#dataDir, uid, "files");
    mkdirSync(root, { recursive: true });
    return root;
  }

  /** Lets the sharing app mount received shares into recipients' roots (dav-mounts.ts). */
  useShareMounts(shares: ShareMounts): void {
    this.#shares = shares;
  }

  async start(): Promise<void> {
    const http = createServer((req, res) => {
      // executeRequest is typed `any` in webdav-server's declarations; it takes node's req/res.
      (this.#server.executeRequest as (req: IncomingMessage, res: ServerResponse) => void)(req, res);
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    this.#http = http;
    this.#port = (http.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const http = this.#http;
    if (!http) return;
    http.closeAllConnections();
    await new Promise<void>((resolve) =>
      http.close(() => {
        resolve();
      }),
    );
  }

  #mount(uid: string): void {
    if (this.#mounted.has(uid)) return;
    const root = this.filesRoot(uid);
    const permissionsOf = (realPath: string, isFolder: boolean): string | undefined => {
      const rel = relative(root, realPath).split(sep);
      const mount = this.#shares?.received(uid).find((m) => m.target === rel[0]);
      return mount === undefined ? undefined : sharedDavPermissions(mount, rel.length === 1, isFolder);
    };
    this.#server.setFileSystemSync(
      `${FILES_PREFIX}${uid}`,
      new NextcloudFileSystem(root, permissionsOf),
      false,
    );
    this.#mounted.add(uid);
  }

  /** The user's path inside their files for a `/remote.php/dav/files/<uid>/...` URL, or why not. */
  #confine(pathname: string, uid: string): { rel: string[] } | { status: number; message: string } {
    const segs = segments(pathname);
    if (segs === undefined) return { status: 403, message: "Path escapes the user's root" };
    const [remote, dav, files, owner, ...rel] = segs;
    if (remote !== "remote.php" || dav !== "dav" || files !== "files" || owner === undefined) {
      return { status: 404, message: "File not found" };
    }
    if (owner !== uid) return { status: 404, message: `Principal with name ${owner} not found` };
    return { rel };
  }

  /** Handles a request under /remote.php/dav for an authenticated user. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, uid: string): Promise<void> {
    const method = req.method ?? "GET";
    if (method === "SEARCH" && /^\/remote\.php\/dav\/?$/.test(url.pathname)) {
      await search(req, res, { uid, filesRoot: this.filesRoot(uid) });
      return;
    }
    const where = this.#confine(url.pathname, uid);
    if ("status" in where) {
      sendSabreError(res, where.status, where.status === 403 ? "Forbidden" : "NotFound", where.message);
      return;
    }
    const realPath = join(this.filesRoot(uid), ...where.rel);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && !["authorization", "host", "accept"].includes(k))
        headers[k] = Array.isArray(v) ? v.join(", ") : v;
    }
    headers.host = `127.0.0.1:${String(this.#port)}`;
    let targetPath: string | undefined;
    if (headers.destination !== undefined) {
      const dest = new URL(headers.destination, url);
      const target = this.#confine(dest.pathname, uid);
      if ("status" in target) {
        sendSabreError(res, 403, "Forbidden", "The destination is outside the user's files");
        return;
      }
      targetPath = join(this.filesRoot(uid), ...target.rel);
      headers.destination = `http://127.0.0.1:${String(this.#port)}${dest.pathname}`;
    }
    if (this.#shares !== undefined) {
      const root = this.filesRoot(uid);
      const decision = mountDecision(
        this.#shares.received(uid),
        method,
        where.rel,
        targetPath === undefined ? undefined : relative(root, targetPath).split(sep),
        (rel) => etagOf(join(root, ...rel)) !== undefined,
      );
      if (decision !== undefined && "leave" in decision) {
        this.#shares.leave(uid, decision.leave);
        res.writeHead(204, { "Content-Length": "0" });
        res.end();
        return;
      }
      if (decision !== undefined) {
        sendSabreError(res, 403, "Forbidden", decision.refuse);
        return;
      }
    }
    if (/^(MOVE|COPY)$/.test(method) && etagOf(realPath) === undefined) {
      // webdav-server answers 500 for a missing source; Sabre answers 404.
      const name = where.rel.join("/");
      sendSabreError(res, 404, "NotFound", `File with name ${name} could not be located`);
      return;
    }
    const precondition = checkPreconditions(method, headers, realPath);
    if (precondition !== undefined) {
      sendSabreError(res, 412, "PreconditionFailed", precondition);
      return;
    }
    if (/^(MOVE|COPY)$/.test(method) && /^f$/i.test(headers.overwrite ?? "") && targetPath !== undefined) {
      if (etagOf(targetPath) !== undefined) {
        sendSabreError(
          res,
          412,
          "PreconditionFailed",
          "The destination node already exists, and the overwrite header is set to false",
        );
        return;
      }
    }
    const locked = this.#lockedBy(method, headers, realPath, targetPath);
    if (locked !== undefined) {
      sendSabreError(res, 423, "Locked", `The resource you tried to edit is locked (${locked})`);
      return;
    }
    this.#mount(uid);
    let body = await readBody(req);
    if (body.length > 0 && /^(PROPFIND|PROPPATCH|REPORT)$/.test(method)) {
      body = Buffer.from(
        body
          .toString("utf8")
          .replaceAll(`"${OC_NS}"`, `"${SHIM.oc}"`)
          .replaceAll(`"${NC_NS}"`, `"${SHIM.nc}"`),
      );
      headers["content-length"] = String(body.length);
    }
    const upstream = await this.#forward(method, url.pathname + url.search, headers, body);
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(upstream.headers)) {
      // webdav-server advertises Digest and CORS; Nextcloud does neither on DAV answers.
      if (v !== undefined && !/^(www-authenticate|access-control-|server$|ms-author-via$)/.test(k))
        out[k] = v;
    }
    let payload = upstream.body;
    // DAV answers only: a file's own bytes (a .docx is "…openxmlformats…") are never rewritten.
    if (!/^(GET|HEAD)$/.test(method) && (upstream.headers["content-type"] ?? "").includes("xml")) {
      payload = Buffer.from(
        payload
          .toString("utf8")
          .replaceAll(`"${SHIM.oc}"`, `"${OC_NS}"`)
          .replaceAll(`"${SHIM.nc}"`, `"${NC_NS}"`)
          .replaceAll(`"${OC_NS}:"`, `"${OC_NS}"`)
          .replaceAll(`"${NC_NS}:"`, `"${NC_NS}"`)
          .replace(/<D:href>https?:\/\/[^/<]+/g, "<D:href>"),
      );
      out["content-length"] = String(payload.length);
    }
    const status = upstream.status;
    if (/^(GET|HEAD)$/.test(method) && status === 200) {
      const etag = etagOf(realPath);
      if (etag !== undefined) out.etag = etag;
    }
    const written = /^(PUT|MKCOL)$/.test(method)
      ? realPath
      : /^(MOVE|COPY)$/.test(method)
        ? targetPath
        : undefined;
    if (written !== undefined && status >= 200 && status < 300) {
      const etag = etagOf(written);
      if (etag !== undefined) {
        out.etag = etag;
        out["oc-etag"] = etag;
        out["oc-fileid"] = `${String(statSync(written).ino).padStart(8, "0")}ocstandin`;
      }
    }
    if (method === "LOCK" && (status === 200 || status === 201)) {
      // webdav-server sends the token without the angle brackets of RFC 4918 §10.5.
      const token = String(upstream.headers["lock-token"] ?? "").replace(/^<|>$/g, "") || undefined;
      const seconds = Number(/Second-(\d+)/i.exec(headers.timeout ?? "")?.[1] ?? 3600);
      if (token !== undefined) this.#locks.set(realPath, { token, expires: Date.now() + seconds * 1000 });
    }
    if (method === "UNLOCK" && status >= 200 && status < 300) this.#locks.delete(realPath);
    res.writeHead(status, out);
    res.end(method === "HEAD" ? undefined : payload);
  }

  /** The path whose lock blocks this write when the `If` header does not carry its token. */
  #lockedBy(
    method: string,
    headers: Record<string, string>,
    realPath: string,
    target?: string,
  ): string | undefined {
    if (!/^(PUT|DELETE|MOVE|COPY|PROPPATCH|MKCOL)$/.test(method)) return undefined;
    const touched = method === "COPY" ? [target] : [realPath, target];
    for (const [path, lock] of this.#locks) {
      if (lock.expires < Date.now()) {
        this.#locks.delete(path);
        continue;
      }
      const hit = touched.some((t) => t !== undefined && (t === path || t.startsWith(`${path}/`)));
      if (hit && !(headers.if ?? "").includes(lock.token)) return path.split("/").at(-1) ?? path;
    }
    return undefined;
  }

  #forward(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const r = request({ host: "127.0.0.1", port: this.#port, method, path, headers }, (up) => {
        readBody(up).then(
          (b) => {
            resolve({ status: up.statusCode ?? 500, headers: up.headers, body: b });
          },
          (err: unknown) => {
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      });
      r.on("error", reject);
      r.end(body);
    });
  }
}

/**
 * RFC 7232 preconditions as Sabre checks them on writes: If-Match (a list of quoted etags or "*")
 * and If-None-Match ("*" on PUT means "create only"). Returns why the precondition failed.
 */
function checkPreconditions(
  method: string,
  headers: Record<string, string>,
  realPath: string,
): string | undefined {
  if (!/^(PUT|DELETE|MOVE|COPY|PROPPATCH|MKCOL)$/.test(method)) return undefined;
  const current = etagOf(realPath);
  const ifMatch = headers["if-match"];
  if (ifMatch !== undefined) {
    const wanted = ifMatch.split(",").map((s) => s.trim());
    if (current === undefined) return "An If-Match header was specified, but the resource does not exist";
    if (!wanted.includes("*") && !wanted.includes(current)) {
      return "An If-Match header was specified, but none of the specified ETags matched";
    }
  }
  const ifNoneMatch = headers["if-none-match"];
  if (ifNoneMatch !== undefined && current !== undefined) {
    const wanted = ifNoneMatch.split(",").map((s) => s.trim());
    if (wanted.includes("*") || wanted.includes(current)) {
      return "An If-None-Match header was specified, but the resource exists";
    }
  }
  return undefined;
}
