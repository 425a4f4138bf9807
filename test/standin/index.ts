// The Nextcloud stand-in, a test fixture (never shipped): validates bearer tokens exactly like
// user_oidc, serves OCS (capabilities, cloud/user), the Notes API v1 over the user's files, and
// WebDAV files through a real WebDAV server, CalDAV and CardDAV through Radicale (groupware.ts); can
// reproduce the CORS logout on app routes.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BearerValidator, localUid, type StandinUser } from "./auth.ts";
import { DavFront, segments } from "./dav.ts";
import { treeSize } from "./dav-fs.ts";
import { GroupwareFront, type GroupwareKind } from "./groupware.ts";
import {
  DEMO_GROUPWARE,
  mkcalendarBody,
  mkcolAddressBookBody,
  type SeedAddressBook,
  type SeedCalendar,
} from "./groupware-seed.ts";
import { handleNotes, type NotesContext } from "./notes.ts";
import { rootResponse } from "./principal.ts";
import { capabilities, sendOcs, userDetails, type OcsVersion } from "./ocs.ts";
import { APP_FACTORIES } from "./apps/index.ts";
import type { StandinApp, StandinAppFactory } from "./apps/types.ts";
import { corsRefuses, majorOf, type CorsMode } from "./cors.ts";
import { readBody, sendDavUnauthorized, sendJson, sendSabreError } from "./respond.ts";

export { localUid, type StandinUser };
export type { CorsMode, StandinApp, StandinAppFactory };
export type { GroupwareKind, SeedAddressBook, SeedCalendar };

/** How to start the stand-in; mirrors the user_oidc provider settings it imitates. */
export interface StandinOptions {
  /** The IdP issuer; discovery is fetched from it, and `iss` must equal the discovered issuer. */
  issuer: string;
  /** user_oidc's client id, which `aud` must contain (the realm's "nextcloud"). */
  audience: string;
  uidClaim?: "sub" | "preferred_username";
  uniqueUid?: { providerId: number };
  /** Shorthand for `corsMode: "strict"`: `#[CORS]` app routes answer 401 to every bearer request. */
  appRoutesRefuseBearer?: boolean;
  /**
   * What reaches `#[CORS]` app routes (Notes, Deck, Tables v1; cors.ts): "honour-header" (default)
   * passes `OCS-APIRequest` on; "strict" stands for a proxy that strips it, so they refuse bearer tokens.
   */
  corsMode?: CorsMode;
  /**
   * The Nextcloud version reported in status.php and the capabilities ("31.0.9" by default). On 30
   * and older, `#[CORS]` app routes refuse bearer tokens whatever the headers (cors.ts).
   */
  version?: string;
  /** user_oidc PR 1221 applied: bearer sessions are flagged `app_api`, which CORSMiddleware lets through. */
  userOidcPatched?: boolean;
  /** Apps served through the extension point (apps/types.ts); APP_FACTORIES by default. */
  apps?: readonly StandinAppFactory[];
  /** Where user files live (`<dataDir>/<uid>/files`); a temporary folder by default. */
  dataDir?: string;
  port?: number;
  /** The Notes app's folder in each user's files (capability `notes.notes_path`). */
  notesPath?: string;
  /** The clock bearer tokens are checked against, in milliseconds since the epoch (Date.now by default). */
  now?: () => number;
  /** CalDAV (calendars and task lists) served; on by default. Radicale starts on first use. */
  calendar?: boolean;
  /** CardDAV (address books) served; on by default. */
  contacts?: boolean;
  /**
   * How many of the latest entries `seenTokens` and `requests()` keep (10,000 by default): between
   * this and twice this many, so that a long-running stand-in (the sandbox, a soak) stays bounded.
   */
  retain?: number;
}

/** What the stand-in keeps in memory of the requests it served; each stays bounded. */
export interface StandinRetained {
  /** Entries in `seenTokens`. */
  seenTokens: number;
  /** Distinct bearer tokens counted by `tokenUses()`. */
  distinctTokens: number;
  /** Entries in `requests()`. */
  requests: number;
  /** Users provisioned. */
  users: number;
}

/** One request as the stand-in received it, before any decoding. */
export interface RecordedRequest {
  method: string;
  /** The request target exactly as sent (path and query, still percent-encoded). */
  rawPath: string;
  destination: string | undefined;
}

/** A running stand-in. */
export interface NextcloudStandin {
  url: string;
  stop(): Promise<void>;
  /**
   * The bearer tokens received, latest last, so tests can prove which tokens reached Nextcloud (the
   * latest `retain` to 2 × `retain` of them; each distinct token is stored once).
   */
  readonly seenTokens: string[];
  /** Requests per distinct bearer token since the start (the `retain` most recently used tokens). */
  tokenUses(): ReadonlyMap<string, number>;
  /** The requests received since the start or the last resetRequests(), in order (the latest `retain` to 2 × `retain`). */
  requests(): readonly RecordedRequest[];
  /** How much the stand-in keeps of the requests it served. */
  retained(): StandinRetained;
  resetRequests(): void;
  /** The Notes app's folder of one user (each user sets their own in Nextcloud); the default otherwise. */
  setNotesPath(uid: string, path: string): void;
  /** Turns the Notes app off (or on again) for one user: their capabilities then lack `notes`. */
  setNotesEnabled(uid: string, enabled: boolean): void;
  /** `true`: corsMode "strict"; `false`: "honour-header". */
  setAppRoutesRefuseBearer(refuse: boolean): void;
  setCorsMode(mode: CorsMode): void;
  /** The version status.php and the capabilities report, e.g. "30.0.12" (strict by itself) or "31.0.9". */
  setNextcloudVersion(version: string): void;
  setUserOidcPatched(patched: boolean): void;
  /** Turns an app of the extension point off (or on again) for one user: capabilities lack it, routes answer 404. */
  setAppEnabled(uid: string, appId: string, enabled: boolean): void;
  /** The running instance of an app of the extension point, for its seeding and inspection helpers. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the test names the app's own type
  app<T extends StandinApp>(id: string): T;
  /** Maintenance mode: every route answers 503 with `X-Nextcloud-Maintenance-Mode: 1`. */
  setMaintenance(on: boolean, retryAfterSeconds?: number): void;
  /** The users provisioned so far (user_oidc provisions on the first valid bearer request). */
  users(): StandinUser[];
  /** `<dataDir>/<uid>/files` */
  filesRoot(uid: string): string;
  /** Writes files into a user's files (paths relative to the user's root). */
  seed(uid: string, files: Record<string, string | Uint8Array>): Promise<void>;
  /** Turns CalDAV or CardDAV off (homes answer 404, the principal drops the home set) or on. */
  setGroupware(apps: Partial<Record<GroupwareKind, boolean>>): void;
  /** Creates a calendar (MKCALENDAR) in a user's calendar home with its `.ics` objects. */
  seedCalendar(uid: string, calendar: SeedCalendar): Promise<void>;
  /** Creates an address book (extended MKCOL) in a user's address book home with its `.vcf` cards. */
  seedAddressBook(uid: string, book: SeedAddressBook): Promise<void>;
  /** Seeds the demo calendars, tasks and contacts of alice or bob (groupware-seed.ts) for `uid`. */
  seedDemoGroupware(uid: string, who: "alice" | "bob"): Promise<void>;
}

/** The version the stand-in reports unless told otherwise. */
const DEFAULT_VERSION = "31.0.9";

/** The first route of any app whose pattern matches `path`. */
function findRoute<R extends { pattern: RegExp }>(
  apps: readonly StandinApp[],
  routesOf: (app: StandinApp) => readonly R[] | undefined,
  path: string,
): { app: StandinApp; route: R; match: RegExpExecArray } | undefined {
  for (const app of apps) {
    for (const route of routesOf(app) ?? []) {
      const match = route.pattern.exec(path);
      if (match) return { app, route, match };
    }
  }
  return undefined;
}

function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** Starts the stand-in on 127.0.0.1 (a free port unless `port` is given). */
export async function startNextcloudStandin(options: StandinOptions): Promise<NextcloudStandin> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "nc-standin-")));
  const defaultNotesPath = options.notesPath ?? "Notes";
  const notesPaths = new Map<string, string>();
  const notesOff = new Set<string>();
  const notesPathOf = (uid: string | undefined) =>
    (uid === undefined ? undefined : notesPaths.get(uid)) ?? defaultNotesPath;
  const validator = new BearerValidator({
    issuer: options.issuer,
    audience: options.audience,
    uidClaim: options.uidClaim ?? "sub",
    uniqueUid: options.uniqueUid,
    now: options.now,
  });
  const dav = new DavFront(dataDir);
  await dav.start();
  const groupware = new GroupwareFront({ calendar: options.calendar, contacts: options.contacts });
  const retain = options.retain ?? 10_000;
  if (!Number.isInteger(retain) || retain < 1)
    throw new Error(`retain must be a positive integer, got ${String(retain)}`);
  /** Appends, dropping the oldest entries once the list holds 2 × retain (amortised O(1)). */
  const keep = <T>(list: T[], item: T) => {
    list.push(item);
    if (list.length >= 2 * retain) list.splice(0, list.length - retain);
  };
  const seenTokens: string[] = [];
  /** Distinct tokens: the one stored copy of each (seenTokens refers to it) and its uses. */
  const tokens = new Map<string, { token: string; uses: number }>();
  const noteToken = (bearer: string) => {
    let seen = tokens.get(bearer);
    if (seen === undefined) seen = { token: bearer, uses: 0 };
    else tokens.delete(bearer); // re-inserted below: the Map's order is least recently used first
    tokens.set(bearer, seen);
    if (tokens.size > retain) tokens.delete(tokens.keys().next().value as string);
    seen.uses += 1;
    // The header's string is a new copy on every request; the list refers to the stored one.
    keep(seenTokens, seen.token);
  };
  let recorded: RecordedRequest[] = [];
  const users = new Map<string, StandinUser>();
  const favorites = new Map<string, Set<number>>();
  let corsMode: CorsMode =
    options.corsMode ?? (options.appRoutesRefuseBearer === true ? "strict" : "honour-header");
  let ncVersion = options.version ?? DEFAULT_VERSION;
  majorOf(ncVersion);
  let userOidcPatched = options.userOidcPatched ?? false;
  /** CORSMiddleware on a `#[CORS]` route for this request (cors.ts). */
  const corsRefused = (req: IncomingMessage, user: StandinUser | undefined) =>
    corsRefuses(req, {
      major: majorOf(ncVersion),
      mode: corsMode,
      loggedIn: user !== undefined,
      appApiSession: userOidcPatched,
    });
  const appsOff = new Map<string, Set<string>>();
  const appEnabled = (uid: string | undefined, id: string) =>
    uid === undefined || !(appsOff.get(id)?.has(uid) ?? false);
  const apps: StandinApp[] = (options.apps ?? APP_FACTORIES).map((make) =>
    make({
      filesRoot: (uid) => dav.filesRoot(uid),
      users: () => [...users.values()],
      user: (uid) => users.get(uid),
      notesPath: (uid) => notesPathOf(uid),
      groupwareStorage: async (kind) => (groupware.enabled(kind) ? groupware.storage(kind) : undefined),
      shareMounts: (shares) => {
        dav.useShareMounts(shares);
      },
    }),
  );
  let maintenance: { retryAfter: number } | undefined;

  const notesContext = (uid: string): NotesContext => {
    let fav = favorites.get(uid);
    if (!fav) favorites.set(uid, (fav = new Set()));
    return { filesRoot: dav.filesRoot(uid), notesPath: notesPathOf(uid), favorites: fav };
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const destination = req.headers.destination;
    keep(recorded, {
      method: req.method ?? "",
      rawPath: req.url ?? "",
      destination: Array.isArray(destination) ? destination.join(", ") : destination,
    });
    const url = new URL(req.url ?? "/", "http://standin.invalid");
    const path = url.pathname;
    if (!decodable(path)) {
      // A malformed percent-encoding is the client's error: 400, never a 500 from a decode deeper in.
      if (path.startsWith("/remote.php/"))
        sendSabreError(res, 400, "BadRequest", "Malformed URL encoding in the path");
      else sendJson(res, 400, { message: "Malformed URL encoding in the path" });
      return;
    }
    if (maintenance !== undefined) {
      sendJson(
        res,
        503,
        { message: "Nextcloud is in maintenance mode" },
        {
          "X-Nextcloud-Maintenance-Mode": "1",
          "Retry-After": String(maintenance.retryAfter),
        },
      );
      return;
    }
    if (path === "/status.php") {
      sendJson(res, 200, {
        installed: true,
        maintenance: false,
        needsDbUpgrade: false,
        version: `${ncVersion}.1`,
        versionstring: ncVersion,
        edition: "",
        productname: "Nextcloud",
        extendedSupport: false,
      });
      return;
    }
    if (path === "/.well-known/caldav" || path === "/.well-known/carddav") {
      res.writeHead(301, { Location: "/remote.php/dav/", "Content-Length": "0" });
      res.end();
      return;
    }
    const auth = req.headers.authorization ?? "";
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    let user: StandinUser | undefined;
    if (bearer !== undefined) {
      noteToken(bearer);
      user = await validator.validate(bearer);
      if (user && !users.has(user.uid)) {
        users.set(user.uid, user);
        dav.filesRoot(user.uid);
      }
    }

    const ocs = /^\/ocs\/v([12])\.php\/(.*)$/.exec(path);
    if (ocs) {
      const version = Number(ocs[1]) as OcsVersion;
      const rest = ocs[2] ?? "";
      const appRoute = findRoute(apps, (app) => app.ocsRoutes, rest);
      if (rest === "cloud/capabilities") {
        const notes = user === undefined || !notesOff.has(user.uid);
        const extra = apps
          .filter((app) => appEnabled(user?.uid, app.id))
          .map((app) => app.capabilities?.(user?.uid) ?? {});
        sendOcs(
          req,
          res,
          url,
          version,
          200,
          capabilities(
            notesPathOf(user?.uid),
            { notes },
            extra.reduce<Record<string, unknown>>((all, caps) => ({ ...all, ...caps }), {}),
            ncVersion,
          ),
        );
      } else if (user === undefined) {
        sendOcs(req, res, url, version, 997, [], "Current user is not logged in");
      } else if (rest === "cloud/user") {
        sendOcs(req, res, url, version, 200, userDetails(user, treeSize(dav.filesRoot(user.uid))));
      } else if (appRoute !== undefined && appEnabled(user.uid, appRoute.app.id)) {
        await appRoute.route.handle({ req, res, url, match: appRoute.match, user, version });
      } else {
        sendOcs(
          req,
          res,
          url,
          version,
          998,
          [],
          "Invalid query, please check the syntax. API specifications are here: http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.",
        );
      }
      return;
    }

    const notes = /^(?:\/index\.php)?\/apps\/notes\/api\/v1\/(.*)$/.exec(path);
    if (notes) {
      // CORSMiddleware runs before SecurityMiddleware (DIContainer), so it answers anonymous requests too.
      if (corsRefused(req, user)) {
        sendJson(res, 401, { message: "CORS requires basic auth" });
      } else if (user === undefined) {
        sendJson(res, 401, { message: "Current user is not logged in" });
      } else {
        await handleNotes(req, res, url, notes[1] ?? "", notesContext(user.uid));
      }
      return;
    }

    const appPath = path.replace(/^\/index\.php(?=\/apps\/)/, "");
    const app = appPath.startsWith("/apps/") ? findRoute(apps, (a) => a.appRoutes, appPath) : undefined;
    if (app !== undefined) {
      if (!appEnabled(user?.uid, app.app.id)) sendJson(res, 404, { message: "Page not found" });
      else if (app.route.cors && corsRefused(req, user))
        sendJson(res, 401, { message: "CORS requires basic auth" });
      else if (user === undefined) sendJson(res, 401, { message: "Current user is not logged in" });
      else await app.route.handle({ req, res, url, match: app.match, user });
      return;
    }

    if (path === "/remote.php/dav" || path.startsWith("/remote.php/dav/")) {
      if (user === undefined) sendDavUnauthorized(res);
      else if (GroupwareFront.owns(path)) await groupware.handle(req, res, url, user);
      else if (req.method === "PROPFIND" && /^\/remote\.php\/dav\/?$/.test(path)) {
        res.writeHead(207, { "Content-Type": "application/xml; charset=utf-8" });
        res.end(rootResponse((await readBody(req)).toString("utf8"), user));
      } else await dav.handle(req, res, url, user.uid);
      return;
    }
    sendJson(res, 404, { message: "Page not found" });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: "Internal Server Error", detail: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  async function seedCalendar(uid: string, calendar: SeedCalendar): Promise<void> {
    await groupware.direct("calendar", uid, "MKCALENDAR", [calendar.uri], mkcalendarBody(calendar), {
      "content-type": "application/xml; charset=utf-8",
    });
    for (const [name, text] of Object.entries(calendar.objects ?? {})) {
      await groupware.direct("calendar", uid, "PUT", [calendar.uri, name], text, {
        "content-type": "text/calendar; charset=utf-8",
      });
    }
  }
  async function seedAddressBook(uid: string, book: SeedAddressBook): Promise<void> {
    await groupware.direct("contacts", uid, "MKCOL", [book.uri], mkcolAddressBookBody(book), {
      "content-type": "application/xml; charset=utf-8",
    });
    for (const [name, text] of Object.entries(book.cards ?? {})) {
      await groupware.direct("contacts", uid, "PUT", [book.uri, name], text, {
        "content-type": "text/vcard; charset=utf-8",
      });
    }
  }

  return {
    url: `http://127.0.0.1:${String(port)}`,
    seenTokens,
    tokenUses: () => new Map([...tokens].map(([token, seen]) => [token, seen.uses])),
    requests: () => recorded,
    retained: () => ({
      seenTokens: seenTokens.length,
      distinctTokens: tokens.size,
      requests: recorded.length,
      users: users.size,
    }),
    resetRequests() {
      recorded = [];
    },
    setNotesPath(uid, path) {
      notesPaths.set(uid, path);
    },
    setNotesEnabled(uid, enabled) {
      if (enabled) notesOff.delete(uid);
      else notesOff.add(uid);
    },
    setAppRoutesRefuseBearer(refuse) {
      corsMode = refuse ? "strict" : "honour-header";
    },
    setCorsMode(mode) {
      corsMode = mode;
    },
    setNextcloudVersion(v) {
      majorOf(v);
      ncVersion = v;
    },
    setUserOidcPatched(patched) {
      userOidcPatched = patched;
    },
    setAppEnabled(uid, appId, enabled) {
      let off = appsOff.get(appId);
      if (!off) appsOff.set(appId, (off = new Set()));
      if (enabled) off.delete(uid);
      else off.add(uid);
    },
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the test names the app's own type
    app<T extends StandinApp>(id: string): T {
      const found = apps.find((a) => a.id === id);
      if (found === undefined) throw new Error(`the stand-in serves no app "${id}"`);
      return found as T;
    },
    setMaintenance(on, retryAfterSeconds = 120) {
      maintenance = on ? { retryAfter: retryAfterSeconds } : undefined;
    },
    users: () => [...users.values()],
    filesRoot: (uid) => dav.filesRoot(uid),
    async seed(uid, files) {
      const root = dav.filesRoot(uid);
      for (const [p, content] of Object.entries(files)) {
        const segs = segments(p);
        if (segs === undefined || segs.length === 0) throw new Error(`seed: invalid path ${p}`);
        const real = join(root, ...segs);
        await mkdir(dirname(real), { recursive: true });
        await writeFile(real, content);
      }
    },
    setGroupware(apps) {
      groupware.set(apps);
    },
    seedCalendar,
    seedAddressBook,
    async seedDemoGroupware(uid, who) {
      for (const c of DEMO_GROUPWARE[who].calendars) await seedCalendar(uid, c);
      for (const b of DEMO_GROUPWARE[who].addressBooks) await seedAddressBook(uid, b);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await dav.stop();
      await groupware.stop();
      await Promise.all(apps.map(async (a) => a.stop?.()));
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
