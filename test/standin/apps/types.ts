// The extension point of the stand-in for Nextcloud apps beyond files, notes and groupware (Deck,
// Tables, Talk, Sharing…): each app is a factory that gets the stand-in's shared services and
// returns its capabilities, its OCS routes and its app routes (`/index.php/apps/<id>/…`). The
// front (test/standin/index.ts) authenticates the bearer token like user_oidc, applies the CORS
// rule to routes marked `cors` (test/standin/cors.ts), and answers "app not enabled" for users who
// have the app turned off, before an app's handler runs.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { StandinUser } from "../auth.ts";
import type { ShareMounts } from "../dav-mounts.ts";
import type { OcsVersion } from "../ocs.ts";

/** What every app part may use of the stand-in. */
export interface StandinServices {
  /** `<dataDir>/<uid>/files`, created on first use. */
  filesRoot(uid: string): string;
  /** The users provisioned so far (user_oidc provisions on the first valid bearer request). */
  users(): StandinUser[];
  /** A provisioned user by uid. */
  user(uid: string): StandinUser | undefined;
  /** The user's Notes folder, relative to their files root. */
  notesPath(uid: string): string;
  /**
   * Radicale's storage folder for calendars or contacts (`collection-root/<uid>/<collection>/`), or
   * undefined while nothing was ever stored (Radicale starts on first use) or the kind is turned off.
   */
  groupwareStorage(kind: "calendar" | "contacts"): Promise<string | undefined>;
  /** Mounts received shares into recipients' WebDAV roots, with their permissions (dav-mounts.ts). */
  shareMounts(shares: ShareMounts): void;
}

/** A request that passed authentication (and the CORS rule, for `cors` routes). */
export interface AppRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The route pattern's match (groups are the path parameters). */
  match: RegExpExecArray;
  user: StandinUser;
}

/** An OCS request (`/ocs/v1.php/…` or `/ocs/v2.php/…`); answer with sendOcs(req, res, url, version, …). */
export interface OcsRequest extends AppRequest {
  version: OcsVersion;
}

export interface AppRoute {
  /** Matched against the path with any `/index.php` prefix removed, e.g. /^\/apps\/deck\/api\/v1\.0\/boards$/. */
  pattern: RegExp;
  /** The controller method is `#[CORS]`: bearer requests go through the CORS rule first. */
  cors: boolean;
  handle(request: AppRequest): void | Promise<void>;
}

export interface OcsRoute {
  /** Matched against the part after `/ocs/v{1,2}.php/`, e.g. /^apps\/spreed\/api\/v4\/room$/. */
  pattern: RegExp;
  handle(request: OcsRequest): void | Promise<void>;
}

/** One Nextcloud app of the stand-in. */
export interface StandinApp {
  /** The app id (`deck`, `tables`, `spreed`, `files_sharing`); `setAppEnabled(uid, id, …)` uses it. */
  readonly id: string;
  /** Entries merged into `capabilities` for a user who has the app (uid undefined: anonymous). */
  capabilities?(uid: string | undefined): Record<string, unknown>;
  readonly ocsRoutes?: readonly OcsRoute[];
  readonly appRoutes?: readonly AppRoute[];
  /** Frees what the app holds (timers, servers); called by stop(). */
  stop?(): Promise<void>;
}

/** Builds one app for one stand-in instance (state lives in the returned object). */
export type StandinAppFactory = (services: StandinServices) => StandinApp;
