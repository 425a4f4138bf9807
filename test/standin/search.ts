// DAV SEARCH (RFC 5323 basicsearch) as Nextcloud answers it on /remote.php/dav/, implemented over the
// user's files because webdav-server has no SEARCH. Supports `like`/`eq` on displayname and
// getcontenttype, `and`/`or`, scope depth, and SearchDAV's limit (nresults, firstresult).
import { readdirSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { etagOf, treeSize } from "./dav-fs.ts";
import { escapeXml, readBody, sendSabreError } from "./respond.ts";

const MIME: Record<string, string> = {
  ".md": "text/markdown",
  ".txt": "text/plain",
  ".json": "application/json",
  ".pdf": "application/pdf",
  ".png": "image/png",
};

interface Node {
  rel: string[];
  dir: boolean;
  name: string;
  mime: string;
}

/** The local name's content of the first element named `local` (any prefix). */
function first(xml: string, local: string): string | undefined {
  return new RegExp(`<(?:[\\w.-]+:)?${local}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w.-]+:)?${local}>`).exec(
    xml,
  )?.[1];
}

type Cond = (n: Node) => boolean;

function likeToRegExp(pattern: string): RegExp {
  const body = pattern
    .split("%")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll("_", "."))
    .join(".*");
  return new RegExp(`^${body}$`, "i");
}

/** Parses the `where` clause into a predicate (a fixture's parser: one level of and/or). */
function parseWhere(where: string | undefined): Cond {
  if (where === undefined) return () => true;
  const conds: Cond[] = [];
  const re = /<(?:[\w.-]+:)?(like|eq)>([\s\S]*?)<\/(?:[\w.-]+:)?\1>/g;
  for (const m of where.matchAll(re)) {
    const [, op, inner = ""] = m;
    const prop = /<(?:[\w.-]+:)?prop>\s*<(?:[\w.-]+:)?([\w-]+)/.exec(inner)?.[1];
    const literal = first(inner, "literal") ?? "";
    const value = (n: Node): string =>
      prop === "getcontenttype" ? (n.dir ? "httpd/unix-directory" : n.mime) : n.name;
    conds.push(
      op === "like"
        ? (n) => likeToRegExp(literal).test(value(n))
        : (n) => value(n).toLowerCase() === literal.toLowerCase(),
    );
  }
  const isOr = /^\s*<(?:[\w.-]+:)?or>/.test(where);
  return isOr ? (n) => conds.some((c) => c(n)) : (n) => conds.every((c) => c(n));
}

function walk(root: string, rel: string[], depth: number, out: Node[]): void {
  const entries = readdirSync(join(root, ...rel), { withFileTypes: true });
  for (const e of entries) {
    const r = [...rel, e.name];
    out.push({
      rel: r,
      dir: e.isDirectory(),
      name: e.name,
      mime: MIME[extname(e.name)] ?? "application/octet-stream",
    });
    if (e.isDirectory() && depth > 1) walk(root, r, depth - 1, out);
  }
}

/** Answers `SEARCH /remote.php/dav/` for one user. */
export async function search(
  req: IncomingMessage,
  res: ServerResponse,
  user: { uid: string; filesRoot: string },
): Promise<void> {
  if (!/(text|application)\/xml/.test(req.headers["content-type"] ?? "")) {
    sendSabreError(res, 501, "NotImplemented", "SEARCH needs an XML body");
    return;
  }
  const xml = (await readBody(req)).toString("utf8");
  const basic = first(xml, "basicsearch");
  const scope = first(xml, "scope");
  const href = scope === undefined ? undefined : first(scope, "href")?.trim();
  if (basic === undefined || href === undefined) {
    sendSabreError(res, 400, "BadRequest", "Parse error: missing basicsearch or scope");
    return;
  }
  const segs = href.split("/").filter(Boolean).map(decodeURIComponent);
  if (segs[0] !== "files" || segs.some((s) => s === ".." || s === ".")) {
    sendSabreError(res, 400, "BadRequest", "Invalid search scope");
    return;
  }
  if (segs[1] !== user.uid) {
    sendSabreError(res, 404, "NotFound", "Scope not found");
    return;
  }
  const depthText = (scope === undefined ? undefined : first(scope, "depth"))?.trim() ?? "infinity";
  const depth = depthText === "infinity" ? Number.POSITIVE_INFINITY : Number(depthText);
  const folder = segs.slice(2);
  const nodes: Node[] = [];
  try {
    walk(user.filesRoot, folder, depth, nodes);
  } catch {
    sendSabreError(res, 404, "NotFound", "Scope not found");
    return;
  }
  const where = parseWhere(first(basic, "where"));
  const limit = first(xml, "limit");
  const nresults = Number((limit === undefined ? undefined : first(limit, "nresults")) ?? Infinity);
  const firstresult = Number((limit === undefined ? undefined : first(limit, "firstresult")) ?? 0);
  const hits = nodes
    .filter(where)
    .sort((a, b) => a.rel.join("/").localeCompare(b.rel.join("/")))
    .slice(firstresult, firstresult + nresults);
  const responses = hits.map((n) => {
    const real = join(user.filesRoot, ...n.rel);
    const st = statSync(real);
    const href = `/remote.php/dav/files/${encodeURIComponent(user.uid)}/${n.rel.map(encodeURIComponent).join("/")}${n.dir ? "/" : ""}`;
    const props = [
      `<d:displayname>${escapeXml(n.name)}</d:displayname>`,
      `<d:getetag>${etagOf(real) ?? ""}</d:getetag>`,
      `<d:getlastmodified>${st.mtime.toUTCString()}</d:getlastmodified>`,
      n.dir ? "<d:resourcetype><d:collection/></d:resourcetype>" : "<d:resourcetype/>",
      n.dir ? "" : `<d:getcontentlength>${String(st.size)}</d:getcontentlength>`,
      n.dir ? "" : `<d:getcontenttype>${n.mime}</d:getcontenttype>`,
      `<oc:fileid>${String(st.ino)}</oc:fileid>`,
      `<oc:permissions>${n.dir ? "RGDNVCK" : "RGDNVW"}</oc:permissions>`,
      `<oc:size>${String(treeSize(real))}</oc:size>`,
    ].join("");
    return `<d:response><d:href>${escapeXml(href)}</d:href><d:propstat><d:prop>${props}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`;
  });
  const body = `<?xml version="1.0"?>\n<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">${responses.join("")}</d:multistatus>\n`;
  res.writeHead(207, { "Content-Type": "application/xml; charset=utf-8" });
  res.end(body);
}
