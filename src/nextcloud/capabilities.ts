// Capabilities (instance-wide, cached per base URL) and the real user id from OCS `cloud/user`,
// since user_oidc may hash the uid (unique uid) and the DAV paths need it.
import { NextcloudError } from "./errors.ts";
import type { NextcloudClientOptions } from "./http.ts";
import { ocsRequest } from "./ocs.ts";

/** The parts of the capabilities document the gateway uses; `raw` holds the rest. */
export interface Capabilities {
  version: { major: number; minor: number; micro: number; string: string };
  notes?: { api_version: string[]; version?: string; notes_path?: string | null };
  dav?: { chunking?: string; bulkupload?: string };
  raw: Record<string, unknown>;
}

/** The current user as Nextcloud knows them. */
export interface NextcloudUser {
  id: string;
  displayName: string;
  email: string | null;
}

/** Caches capabilities per Nextcloud base URL for `ttlMs` (instances change them only on upgrades). */
export class CapabilitiesCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { at: number; value: Promise<Capabilities> }>();

  constructor(ttlMs = 10 * 60_000) {
    this.#ttlMs = ttlMs;
  }

  /** The capabilities of the client's instance, fetched once per TTL. */
  get(client: NextcloudClientOptions): Promise<Capabilities> {
    const key = client.baseUrl.replace(/\/+$/, "");
    const hit = this.#entries.get(key);
    if (hit && Date.now() - hit.at < this.#ttlMs) return hit.value;
    const value = fetchCapabilities(client);
    this.#entries.set(key, { at: Date.now(), value });
    value.catch(() => this.#entries.delete(key));
    return value;
  }

  clear(): void {
    this.#entries.clear();
  }
}

/**
 * Fetches `GET /ocs/v2.php/cloud/capabilities`.
 * @see https://docs.nextcloud.com/server/latest/developer_manual/client_apis/OCS/ocs-api-overview.html#capabilities-api
 */
export async function fetchCapabilities(client: NextcloudClientOptions): Promise<Capabilities> {
  const data = (await ocsRequest(client, "GET", "cloud/capabilities", { what: "the capabilities" })) as {
    version?: Capabilities["version"];
    capabilities?: Record<string, unknown>;
  } | null;
  if (!data?.version || typeof data.capabilities !== "object") {
    throw new NextcloudError("bad_response", "Nextcloud's capabilities document is incomplete.");
  }
  const caps = data.capabilities;
  return {
    version: data.version,
    ...(typeof caps.notes === "object" && caps.notes !== null
      ? { notes: caps.notes as Capabilities["notes"] & object }
      : {}),
    ...(typeof caps.dav === "object" && caps.dav !== null ? { dav: caps.dav } : {}),
    raw: caps,
  };
}

/**
 * The signed-in user from `GET /ocs/v2.php/cloud/user` (provisioning_api); `id` is the real uid.
 * @see https://docs.nextcloud.com/server/latest/admin_manual/configuration_user/instruction_set_for_users.html
 */
export async function fetchCurrentUser(client: NextcloudClientOptions): Promise<NextcloudUser> {
  const data = (await ocsRequest(client, "GET", "cloud/user", { what: "your Nextcloud account" })) as {
    id?: unknown;
    displayname?: unknown;
    "display-name"?: unknown;
    email?: unknown;
  } | null;
  if (typeof data?.id !== "string" || data.id === "") {
    throw new NextcloudError("bad_response", "Nextcloud did not say who the current user is.");
  }
  const name = data.displayname ?? data["display-name"];
  return {
    id: data.id,
    displayName: typeof name === "string" ? name : data.id,
    email: typeof data.email === "string" ? data.email : null,
  };
}
