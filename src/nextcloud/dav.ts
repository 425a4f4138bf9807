// The DAV request layer every DAV app shares (files now; CalDAV and CardDAV next): generic requests
// into one user's tree, with a method, depth, body and Destination, URLs built only by the one
// encoder (paths.ts) and sent only through send() (guarded); and a namespace-aware multistatus parser.
import { createRequire } from "node:module";
import type * as FastXmlParser from "fast-xml-parser";
import { NextcloudError } from "./errors.ts";
import type { DavTree } from "./guard.ts";
import { davRoot } from "./guard.ts";
import { send, type NextcloudClientOptions, type NextcloudResponse } from "./http.ts";
import { encodeSegments } from "./paths.ts";

/** The DAV: namespace (RFC 4918). */
export const DAV_NS = "DAV:";
/** ownCloud's properties (oc:fileid, oc:permissions, oc:size, oc:favorite). */
export const OC_NS = "http://owncloud.org/ns";
/** Nextcloud's properties (nc:has-preview, ...). */
export const NC_NS = "http://nextcloud.org/ns";

/** One request into a user's DAV tree. */
export interface DavRequest {
  /** PROPFIND, PROPPATCH, REPORT, MKCOL, MKCALENDAR, GET, PUT, DELETE, MOVE, COPY, ... */
  method: string;
  tree: DavTree;
  uid: string;
  /** Names below the user's root (none for the root itself); each one is checked and encoded. */
  path: readonly string[];
  /** Ask for the collection form (a trailing "/"). */
  collection?: boolean;
  /** Names the resource in error messages, e.g. `folder "/Documents"`. */
  what: string;
  depth?: "0" | "1" | "infinity";
  body?: string | Uint8Array;
  contentType?: string;
  /** For MOVE/COPY: the target's names below the same user's root. */
  destination?: readonly string[];
  overwrite?: boolean;
  headers?: Record<string, string>;
  /** Statuses that are not errors for this call. */
  accept?: number[];
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

/**
 * Sends a request into one user's DAV tree. The URL and the Destination are built here, segment by
 * segment; the guard in send() checks both stay under the user's root.
 * @see https://www.rfc-editor.org/rfc/rfc4918#section-9
 */
export function davRequest(client: NextcloudClientOptions, req: DavRequest): Promise<NextcloudResponse> {
  const root = davRoot(req.tree, req.uid);
  const path = `${root}${encodeSegments(req.path)}${req.collection === true ? "/" : ""}`;
  const headers: Record<string, string> = { ...req.headers };
  if (req.depth !== undefined) headers.Depth = req.depth;
  if (req.contentType !== undefined) headers["Content-Type"] = req.contentType;
  if (req.destination !== undefined) {
    const base = new URL(client.baseUrl).href.replace(/\/+$/, "");
    headers.Destination = `${base}${root}${encodeSegments(req.destination)}`;
    headers.Overwrite = req.overwrite === true ? "T" : "F";
  }
  return send(client, {
    method: req.method,
    path,
    root,
    what: req.what,
    headers,
    ...(req.body === undefined ? {} : { body: req.body }),
    ...(req.accept === undefined ? {} : { accept: req.accept }),
    ...(req.maxResponseBytes === undefined ? {} : { maxResponseBytes: req.maxResponseBytes }),
    ...(req.signal === undefined ? {} : { signal: req.signal }),
  });
}

/** An XML element with its namespace resolved. */
export interface XmlElement {
  ns: string;
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (entities decoded, CDATA included, whitespace kept). */
  text: string;
}

/** One propstat of a multistatus response: its status and its properties by "{ns}name". */
export interface DavPropstat {
  status: number;
  props: Map<string, XmlElement>;
}

/** One `<d:response>`: the href as sent (still percent-encoded), an optional status, its propstats. */
export interface DavResponse {
  href: string;
  status?: number;
  propstats: DavPropstat[];
}

/** The "{ns}name" key of a property (Clark notation). */
export const clark = (ns: string, name: string) => `{${ns}}${name}`;

/** A property from the response's 2xx propstat, if the server returned it. */
export function propOf(r: DavResponse, ns: string, name: string): XmlElement | undefined {
  for (const ps of r.propstats) {
    if (ps.status >= 200 && ps.status < 300) {
      const p = ps.props.get(clark(ns, name));
      if (p !== undefined) return p;
    }
  }
  return undefined;
}

/** The first direct child with this namespace and name. */
export function childOf(el: XmlElement, ns: string, name: string): XmlElement | undefined {
  return el.children.find((c) => c.ns === ns && c.name === name);
}

let parser: FastXmlParser.XMLParser | undefined;

/**
 * The XML parser, loaded on the first document parsed rather than at start-up: a gateway whose
 * users never reach a DAV app does not keep fast-xml-parser's modules (about 1 MiB of heap; ADR
 * 0025). Its CommonJS build is one file, loaded synchronously.
 */
function xmlParser(): FastXmlParser.XMLParser {
  if (parser !== undefined) return parser;
  const { XMLParser } = createRequire(import.meta.url)("fast-xml-parser") as typeof FastXmlParser;
  parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: "",
    removeNSPrefix: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: true,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
  });
  return parser;
}

type Raw = Record<string, unknown>;

/**
 * Parses an XML document into namespace-resolved elements. Documents with a DOCTYPE are refused
 * (Sabre never sends one; it is the door to entity expansion).
 */
export function parseXml(xml: string): XmlElement {
  if (/<!DOCTYPE/i.test(xml)) throw new NextcloudError("bad_response", "Nextcloud sent XML with a DOCTYPE.");
  let nodes: unknown;
  try {
    nodes = xmlParser().parse(xml);
  } catch (err) {
    throw new NextcloudError("bad_response", "Nextcloud sent XML that cannot be read.", { cause: err });
  }
  const roots = elements(Array.isArray(nodes) ? (nodes as Raw[]) : [], new Map([["xml", "xml"]]));
  const root = roots[0];
  if (root === undefined) throw new NextcloudError("bad_response", "Nextcloud sent an empty XML document.");
  return root;
}

function elements(nodes: Raw[], scope: ReadonlyMap<string, string>): XmlElement[] {
  const out: XmlElement[] = [];
  for (const node of nodes) {
    const key = Object.keys(node).find((k) => k !== ":@" && k !== "#text");
    if (key === undefined) continue;
    const attrs = (node[":@"] ?? {}) as Record<string, string>;
    const inner = new Map(scope);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "xmlns") inner.set("", v);
      else if (k.startsWith("xmlns:")) inner.set(k.slice(6), v);
    }
    const at = key.indexOf(":");
    const prefix = at === -1 ? "" : key.slice(0, at);
    const kids = (node[key] ?? []) as Raw[];
    out.push({
      ns: inner.get(prefix) ?? "",
      name: at === -1 ? key : key.slice(at + 1),
      attributes: Object.fromEntries(Object.entries(attrs).filter(([k]) => !k.startsWith("xmlns"))),
      children: elements(kids, inner),
      text: kids.map((k) => (typeof k["#text"] === "string" ? k["#text"] : "")).join(""),
    });
  }
  return out;
}

/** The status code of an HTTP status line such as "HTTP/1.1 404 Not Found". */
function statusOf(el: XmlElement | undefined): number | undefined {
  const m = el === undefined ? null : /^\s*HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(el.text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * Parses a 207 Multi-Status body: per response its href, status and propstats, each propstat with
 * its status and its properties keyed by namespace and name.
 * @see https://www.rfc-editor.org/rfc/rfc4918#section-14.16
 */
export function parseMultistatus(xml: string): DavResponse[] {
  const root = parseXml(xml);
  if (root.ns !== DAV_NS || root.name !== "multistatus") {
    throw new NextcloudError("bad_response", "Nextcloud's answer is not a WebDAV multistatus.");
  }
  return root.children
    .filter((c) => c.ns === DAV_NS && c.name === "response")
    .map((r) => {
      const href = childOf(r, DAV_NS, "href")?.text.trim() ?? "";
      const status = statusOf(childOf(r, DAV_NS, "status"));
      const propstats = r.children
        .filter((c) => c.ns === DAV_NS && c.name === "propstat")
        .map((ps) => ({
          status: statusOf(childOf(ps, DAV_NS, "status")) ?? 200,
          props: new Map(
            (childOf(ps, DAV_NS, "prop")?.children ?? []).map((p) => [clark(p.ns, p.name), p] as const),
          ),
        }));
      return { href, ...(status === undefined ? {} : { status }), propstats };
    });
}

/** A multistatus request: the request (which must answer 207) and its parsed responses. */
export async function davMultistatus(
  client: NextcloudClientOptions,
  req: DavRequest,
): Promise<DavResponse[]> {
  const res = await davRequest(client, req);
  if (res.status !== 207) {
    throw new NextcloudError(
      "bad_response",
      `Nextcloud answered ${req.what} with ${String(res.status)} instead of a multistatus.`,
    );
  }
  return parseMultistatus(res.text());
}

/**
 * The names below the user's root that an href points to, decoded; undefined when the href is not
 * under that root (a server answer outside the user's tree is never taken as one of theirs).
 */
export function hrefNames(baseUrl: string, root: string, href: string): string[] | undefined {
  const base = new URL(baseUrl);
  let url: URL;
  try {
    url = new URL(href, base);
  } catch {
    return undefined;
  }
  const prefix = `${base.pathname.replace(/\/+$/, "")}${root}`;
  if (url.origin !== base.origin) return undefined;
  if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return undefined;
  try {
    const names = url.pathname
      .slice(prefix.length)
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
    return names.some((n) => n === "." || n === ".." || n.includes("/")) ? undefined : names;
  } catch {
    return undefined;
  }
}
