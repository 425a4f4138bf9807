// The stand-in's CalDAV and CardDAV: two Radicale processes (one for calendars, one for address
// books, so each home lists only its own kind and a calendar and a book may share a name, as in
// Nextcloud), started on first use. This front maps Nextcloud's paths onto them with X-Remote-User
// and X-Script-Name, confines every user to their own homes, and answers the principal itself.
import { request, type IncomingMessage, type ServerResponse } from "node:http";
import type { StandinUser } from "./auth.ts";
import { segments } from "./dav.ts";
import { startRadicale, type Radicale } from "./radicale.ts";
import { escapeXml, readBody, sendSabreError } from "./respond.ts";
import { principalResponse } from "./principal.ts";

/** The two groupware trees of Nextcloud's DAV server. */
export type GroupwareKind = "calendar" | "contacts";

/** Where each tree lives under /remote.php/dav (Nextcloud's layout). */
export const GROUPWARE_PREFIX: Record<GroupwareKind, string> = {
  calendar: "/remote.php/dav/calendars",
  contacts: "/remote.php/dav/addressbooks/users",
};

/** `/remote.php/dav/principals/users/<uid>/` */
export function principalHref(uid: string): string {
  return `/remote.php/dav/principals/users/${encodeURIComponent(uid)}/`;
}

/** The calendar home or address book home of a user. */
export function homeHref(kind: GroupwareKind, uid: string): string {
  return `${GROUPWARE_PREFIX[kind]}/${encodeURIComponent(uid)}/`;
}

const PASS_REQUEST = ["depth", "content-type", "if-match", "if-none-match", "overwrite", "accept"];
const PASS_RESPONSE = ["content-type", "etag", "dav", "allow", "location", "last-modified"];

/** A request to one Radicale: the path inside it and the tree it belongs to. */
interface Target {
  kind: GroupwareKind;
  owner: string | undefined;
  path: string;
}

/** The Radicale processes, the per-instance switches, and the proxy in front of them. */
export class GroupwareFront {
  readonly #enabled: Record<GroupwareKind, boolean>;
  readonly #servers = new Map<GroupwareKind, Promise<Radicale>>();

  constructor(enabled: Partial<Record<GroupwareKind, boolean>> = {}) {
    this.#enabled = { calendar: enabled.calendar ?? true, contacts: enabled.contacts ?? true };
  }

  /** Turns calendars (CalDAV) or contacts (CardDAV) on or off for this instance. */
  set(enabled: Partial<Record<GroupwareKind, boolean>>): void {
    Object.assign(this.#enabled, enabled);
  }

  enabled(kind: GroupwareKind): boolean {
    return this.#enabled[kind];
  }

  /** Whether a path belongs to this front (principals and the two trees). */
  static owns(pathname: string): boolean {
    return /^\/remote\.php\/dav\/(calendars|addressbooks|principals)(\/|$)/.test(pathname);
  }

  #server(kind: GroupwareKind): Promise<Radicale> {
    let s = this.#servers.get(kind);
    if (s === undefined) {
      s = startRadicale();
      this.#servers.set(kind, s);
      s.catch(() => this.#servers.delete(kind));
    }
    return s;
  }

  /** The storage folder of the Radicale serving `kind`, if it ever started (else nothing is stored). */
  async storage(kind: GroupwareKind): Promise<string | undefined> {
    const s = this.#servers.get(kind);
    return s === undefined ? undefined : (await s).storage;
  }

  async stop(): Promise<void> {
    const servers = [...this.#servers.values()];
    this.#servers.clear();
    await Promise.all(servers.map(async (s) => (await s.catch(() => undefined))?.stop()));
  }

  /** Handles a request under /remote.php/dav/{calendars,addressbooks,principals} for a user. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, user: StandinUser): Promise<void> {
    const segs = segments(url.pathname);
    if (segs === undefined) {
      sendSabreError(res, 403, "Forbidden", "Path escapes the user's root");
      return;
    }
    const [, , tree, ...rest] = segs;
    if (tree === "principals") {
      await this.#principal(req, res, rest, user);
      return;
    }
    const target = this.#target(tree, rest, url.pathname.endsWith("/"));
    if (target === undefined || !this.#enabled[target.kind]) {
      sendSabreError(res, 404, "NotFound", `Node with name '${tree ?? ""}' could not be located`);
      return;
    }
    if (target.owner !== undefined && target.owner !== user.uid) {
      // Nextcloud shows no other user's home; Radicale's owner_only would say 403 on its own.
      sendSabreError(res, 404, "NotFound", `Node with name '${target.owner}' could not be located`);
      return;
    }
    if (target.owner === undefined && !/^(PROPFIND|OPTIONS)$/.test(req.method ?? "")) {
      sendSabreError(res, 403, "Forbidden", "Permission denied to change the collection of homes");
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of PASS_REQUEST) {
      const v = req.headers[name];
      if (typeof v === "string") headers[name] = v;
    }
    const radicale = await this.#server(target.kind);
    const destination = req.headers.destination;
    if (destination !== undefined) {
      const dest = new URL(destination, url);
      const d = segments(dest.pathname);
      const to = d && this.#target(d[2], d.slice(3), dest.pathname.endsWith("/"));
      if (to?.kind !== target.kind || to.owner !== user.uid) {
        sendSabreError(res, 403, "Forbidden", "The destination is outside the user's home");
        return;
      }
      // Radicale wants the destination under X-Script-Name, on its own host.
      headers.destination = `http://127.0.0.1:${String(radicale.port)}${GROUPWARE_PREFIX[to.kind]}${to.path}`;
    }
    const body = await readBody(req);
    const upstream = await forward(radicale, req.method ?? "GET", target, user.uid, headers, body);
    const out: Record<string, string> = {};
    for (const name of PASS_RESPONSE) {
      const v = upstream.headers[name];
      if (typeof v === "string") out[name] = v;
    }
    let payload = upstream.body;
    if (/xml/.test(out["content-type"] ?? "") && payload.length > 0) {
      payload = Buffer.from(nextcloudHrefs(payload.toString("utf8"), user.uid));
    }
    if (req.method !== "HEAD") out["content-length"] = String(payload.length);
    else if (typeof upstream.headers["content-length"] === "string") {
      out["content-length"] = upstream.headers["content-length"];
    }
    res.writeHead(upstream.status, out);
    res.end(req.method === "HEAD" ? undefined : payload);
  }

  /** The Radicale path of `/remote.php/dav/<tree>/<rest>`, or undefined outside the two trees. */
  #target(tree: string | undefined, rest: string[], slash: boolean): Target | undefined {
    let kind: GroupwareKind;
    let inner = rest;
    if (tree === "calendars") kind = "calendar";
    else if (tree === "addressbooks" && rest[0] === "users") {
      kind = "contacts";
      inner = rest.slice(1);
    } else return undefined;
    const path = inner.length === 0 ? "/" : `/${inner.map(encodeURIComponent).join("/")}${slash ? "/" : ""}`;
    return { kind, owner: inner[0], path };
  }

  async #principal(req: IncomingMessage, res: ServerResponse, rest: string[], user: StandinUser) {
    const [users, owner, ...more] = rest;
    if (users !== "users" || owner !== user.uid || more.length > 0) {
      sendSabreError(res, 404, "NotFound", `Principal with name ${owner ?? ""} not found`);
      return;
    }
    if (req.method === "OPTIONS") {
      res.writeHead(200, {
        DAV: "1, 3, access-control, calendar-access, addressbook",
        "Content-Length": "0",
      });
      res.end();
      return;
    }
    if (req.method !== "PROPFIND") {
      sendSabreError(res, 405, "MethodNotAllowed", `Method ${escapeXml(req.method ?? "")} not allowed`);
      return;
    }
    const xml = principalResponse((await readBody(req)).toString("utf8"), user, {
      calendarHome: this.#enabled.calendar ? homeHref("calendar", user.uid) : undefined,
      addressbookHome: this.#enabled.contacts ? homeHref("contacts", user.uid) : undefined,
    });
    res.writeHead(207, { "Content-Type": "application/xml; charset=utf-8" });
    res.end(xml);
  }

  /** A request straight to Radicale as `uid` (seeding); throws unless it answers 2xx. */
  async direct(
    kind: GroupwareKind,
    uid: string,
    method: string,
    inner: string[],
    body: string,
    headers: Record<string, string> = {},
  ): Promise<void> {
    const path = `/${[uid, ...inner].map(encodeURIComponent).join("/")}${/^MK/.test(method) ? "/" : ""}`;
    const radicale = await this.#server(kind);
    const up = await forward(radicale, method, { kind, owner: uid, path }, uid, headers, Buffer.from(body));
    if (up.status < 200 || up.status > 299) {
      throw new Error(`seed: ${method} ${path} answered ${String(up.status)}: ${up.body.toString("utf8")}`);
    }
  }
}

function forward(
  radicale: Radicale,
  method: string,
  target: Target,
  uid: string,
  extra: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
  const headers: Record<string, string> = {
    ...extra,
    host: `127.0.0.1:${String(radicale.port)}`,
    "x-remote-user": uid,
    "x-script-name": GROUPWARE_PREFIX[target.kind],
    "content-length": String(body.length),
  };
  return new Promise((resolve, reject) => {
    const r = request(
      { host: "127.0.0.1", port: radicale.port, method, path: target.path, headers, timeout: 30_000 },
      (up) => {
        readBody(up).then(
          (b) => {
            resolve({ status: up.statusCode ?? 502, headers: up.headers, body: b });
          },
          (err: unknown) => {
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      },
    );
    r.on("timeout", () => r.destroy(new Error("Radicale did not answer in 30 s")));
    r.on("error", reject);
    r.end(body);
  });
}

const hrefIn = (names: string) =>
  new RegExp(`(<(?:[\\w.-]+:)?(?:${names})\\b[^>]*>\\s*<(?:[\\w.-]+:)?href>)[^<]*(</)`, "g");

/**
 * Radicale's answers made Nextcloud's: the principal is `/remote.php/dav/principals/users/<uid>/`
 * (Radicale names the home), each home set points at its own tree, and a home is a plain collection.
 */
export function nextcloudHrefs(xml: string, uid: string): string {
  return xml
    .replace(
      hrefIn("current-user-principal|owner|principal-URL|calendar-user-address-set"),
      `$1${principalHref(uid)}$2`,
    )
    .replace(hrefIn("principal-collection-set"), "$1/remote.php/dav/principals/$2")
    .replace(hrefIn("calendar-home-set"), `$1${homeHref("calendar", uid)}$2`)
    .replace(hrefIn("addressbook-home-set"), `$1${homeHref("contacts", uid)}$2`)
    .replace(/<(?:[\w.-]+:)?principal\s*\/>/g, "");
}
