// The route matrix of `check`: for the configured Nextcloud, which route classes take the gateway's
// bearer tokens. It is stated from the version (status.php) and, for `#[CORS]` app routes, probed
// without a user: an anonymous request carrying `OCS-APIRequest: true` to the Notes API (or Deck)
// passes CORSMiddleware exactly when that header reaches a Nextcloud 31+ (nextcloud/server PR 46760),
// and is then refused as "not logged in" instead of "CORS requires basic auth". Whether user_oidc
// validates a user's token (OCS, DAV) cannot be seen without one; the lines say so.
import type { Config } from "../config/index.ts";
import { describeError } from "../errors.ts";
import { expectedByVersion, send, type NextcloudClientOptions } from "../nextcloud/index.ts";

/** One line of the report (the shape of check.ts's CheckLine). */
export interface RouteLine {
  name: string;
  ok: boolean;
  message: string;
}

/** `#[CORS]` routes tried anonymously, in order; an app that is not installed answers 404. */
const CORS_PROBES = [
  { app: "Notes API", path: "/index.php/apps/notes/api/v1/notes" },
  { app: "Deck API", path: "/index.php/apps/deck/api/v1.0/boards" },
] as const;

type HeaderProbe = { reaches: boolean; app: string } | undefined;

const NOT_PROBED = "not probed: that needs a user's token (user_oidc with --check-bearer=1 validates it)";

/**
 * The route matrix lines for `check` (none when NEXTCLOUD_URL is not set: the nextcloud line says so).
 * @see https://github.com/nextcloud/server/pull/46760
 */
export async function routeMatrixLines(nextcloud: Config["nextcloud"]): Promise<RouteLine[]> {
  if (nextcloud === undefined) return [];
  const client: NextcloudClientOptions = {
    baseUrl: nextcloud.url,
    timeoutMs: nextcloud.timeoutMs,
    token: () => "",
    retries: 0,
  };
  let version: string;
  try {
    version = await versionOf(client);
  } catch (err) {
    return [{ name: "routes", ok: false, message: `not determined: ${describeError(err)}` }];
  }
  const major = Number(version.split(".")[0]);
  const lines: RouteLine[] = [
    { name: "route OCS", ok: true, message: `bearer tokens accepted on every version; ${NOT_PROBED}` },
    { name: "route WebDAV", ok: true, message: `bearer tokens accepted on every version; ${NOT_PROBED}` },
    {
      name: "route CalDAV/CardDAV",
      ok: true,
      message: `bearer tokens accepted on every version (under /remote.php/dav like WebDAV); ${NOT_PROBED}`,
    },
  ];
  lines.push(corsLine(version, major, await probeHeader(client)));
  return lines;
}

function corsLine(version: string, major: number, probe: HeaderProbe): RouteLine {
  const name = "route #[CORS] apps";
  const without =
    "until then the notes tools use the notes folder over WebDAV, and Deck and Tables v1 tools fail";
  if (expectedByVersion("cors-app-route", major) === "refused") {
    return {
      name,
      ok: true,
      message: `bearer tokens refused on Nextcloud ${version} (Notes API, Deck, Tables v1) unless user_oidc PR 1221 or server PR 55878 is applied, which cannot be seen without a user's token; upgrade to Nextcloud 31 or later; ${without}`,
    };
  }
  if (probe === undefined) {
    return {
      name,
      ok: true,
      message: `bearer tokens expected to be accepted on Nextcloud ${version} when the OCS-APIRequest header reaches it; not probed (neither the Notes nor the Deck API answered): a proxy that strips the header makes these routes refuse them`,
    };
  }
  return probe.reaches
    ? {
        name,
        ok: true,
        message: `bearer tokens accepted on Nextcloud ${version}: the OCS-APIRequest header reaches it (an anonymous request to the ${probe.app} passed its CORS check)`,
      }
    : {
        name,
        ok: false,
        message: `bearer tokens refused: Nextcloud ${version} accepts them on these routes only with the OCS-APIRequest header, and an anonymous request to the ${probe.app} carrying it got "CORS requires basic auth", so a proxy between here and Nextcloud strips the header; let it through; ${without}`,
      };
}

/** The version string from status.php (public). */
async function versionOf(client: NextcloudClientOptions): Promise<string> {
  const res = await send(client, { method: "GET", path: "/status.php", what: "status.php" });
  const body = res.json() as { versionstring?: unknown } | null;
  const version = body?.versionstring;
  if (typeof version !== "string" || !/^\d+\./.test(version)) {
    throw new Error("status.php does not say which version Nextcloud is");
  }
  return version;
}

/** Whether the OCS-APIRequest header passes CORSMiddleware, from an anonymous request; undefined: cannot tell. */
async function probeHeader(client: NextcloudClientOptions): Promise<HeaderProbe> {
  for (const { app, path } of CORS_PROBES) {
    try {
      const res = await send(client, { method: "GET", path, what: `the ${app}`, accept: [401, 404] });
      if (res.status === 404) continue;
      if (res.status !== 401) return undefined;
      return { reaches: !res.text().includes("CORS requires basic auth"), app };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
