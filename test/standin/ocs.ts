// OCS routes of the stand-in: the v1/v2 envelope, capabilities (with notes and dav) and cloud/user,
// in the shapes of core.openapi.json and provisioning_api.openapi.json.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { StandinUser } from "./auth.ts";
import { escapeXml, sendJson } from "./respond.ts";

/** Which OCS version a request used, from its path. */
export type OcsVersion = 1 | 2;

/** Whether a request asked for JSON (`format=json` or `Accept: application/json`). */
function wantsJson(req: IncomingMessage, url: URL): boolean {
  return url.searchParams.get("format") === "json" || (req.headers.accept ?? "").includes("application/json");
}

/** Sends an OCS response; v2 mirrors the status in HTTP, v1 answers 200 except for 997 (401). */
export function sendOcs(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  version: OcsVersion,
  statuscode: number,
  data: unknown,
  message?: string,
): void {
  const ok = statuscode === 100 || statuscode === 200;
  const ocsCode = ok ? (version === 1 ? 100 : 200) : statuscode;
  let http: number;
  if (version === 1) http = statuscode === 997 ? 401 : 200;
  else if (ok) http = 200;
  else if (statuscode === 997) http = 401;
  else if (statuscode === 998) http = 404;
  else if (statuscode === 996 || statuscode === 999) http = 500;
  else http = statuscode >= 200 && statuscode < 600 ? statuscode : 400;
  const meta: Record<string, string | number> = {
    status: ok ? "ok" : "failure",
    statuscode: ocsCode,
    message: message ?? (ok ? "OK" : ""),
  };
  if (version === 1) {
    meta.totalitems = "";
    meta.itemsperpage = "";
  }
  if (wantsJson(req, url)) {
    sendJson(res, http, { ocs: { meta, data } });
    return;
  }
  const xml = `<?xml version="1.0"?>\n<ocs>\n <meta>${Object.entries(meta)
    .map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`)
    .join("")}</meta>\n <data>${toXml(data)}</data>\n</ocs>\n`;
  res.writeHead(http, { "Content-Type": "text/xml; charset=UTF-8" });
  res.end(xml);
}

function toXml(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => `<element>${toXml(v)}</element>`).join("");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join("");
  }
  if (typeof value === "boolean") return value ? "1" : "";
  return typeof value === "string" || typeof value === "number" ? escapeXml(String(value)) : "";
}

/** The capabilities document of the stand-in (Nextcloud 31 by default, with the Notes app). */
export function capabilities(
  notesPath: string,
  apps: { notes: boolean } = { notes: true },
  /** Capabilities of the apps of the extension point (apps/types.ts) the user has. */
  more: Record<string, unknown> = {},
  /** The Nextcloud version reported, "major.minor.micro". */
  version = "31.0.9",
): unknown {
  const [major = 0, minor = 0, micro = 0] = version.split(".").map(Number);
  return {
    version: { major, minor, micro, string: version, edition: "", extendedSupport: false },
    capabilities: {
      core: {
        pollinterval: 60,
        "webdav-root": "remote.php/webdav",
        "reference-api": true,
        "reference-regex":
          "(\\s|\\n|^)(https?:\\/\\/)((?:[-A-Z0-9+_]+\\.)+[-A-Z]+(?:\\/[-A-Z0-9+&@#%?=~_|!:,.;()]*)*)((\\s|\\n|$))",
        "mod-rewrite-working": false,
      },
      dav: { chunking: "1.0", bulkupload: "1.0", "absence-supported": true, "absence-replacement": true },
      // Nextcloud lists an app's capabilities only when the app is enabled for the user.
      ...(apps.notes
        ? { notes: { api_version: ["0.2", "1.3", "1.4"], version: "4.13.1", notes_path: notesPath } }
        : {}),
      ...more,
    },
  };
}

/** `UserDetails` of provisioning_api for a provisioned user. */
export function userDetails(user: StandinUser, usedBytes: number): unknown {
  return {
    enabled: true,
    storageLocation: `/var/www/html/data/${user.uid}`,
    id: user.uid,
    firstLoginTimestamp: 0,
    lastLoginTimestamp: Math.floor(Date.now() / 1000),
    lastLogin: Date.now(),
    backend: "user_oidc",
    subadmin: [],
    quota: {
      free: 10_000_000_000,
      used: usedBytes,
      total: 10_000_000_000 + usedBytes,
      relative: 0,
      quota: -3,
    },
    manager: "",
    email: user.email,
    additional_mail: [],
    displayname: user.displayName,
    "display-name": user.displayName,
    phone: "",
    address: "",
    website: "",
    twitter: "",
    fediverse: "",
    organisation: "",
    role: "",
    headline: "",
    biography: "",
    profile_enabled: "1",
    pronouns: "",
    groups: [],
    language: "en",
    locale: "",
    notify_email: null,
    backendCapabilities: { setDisplayName: false, setPassword: false },
  };
}
