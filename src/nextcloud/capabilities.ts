// Capabilities (instance-wide fields cached per base URL, per-user fields per user) and the real user id from OCS `cloud/user`,
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

/** The fields of the capabilities document that are the same for every user of an instance. */
type InstanceFields = Pick<Capabilities, "version" | "dav">;

/**
 * Caches capabilities without mixing users. Nextcloud answers the capabilities document per user:
 * which apps appear (apps may be limited to groups) and app settings such as `notes.notes_path` are
 * that user's. So only instance-wide fields (version, dav) are kept per base URL; the per-user
 * fields (every app's entry, `raw`) are kept per user in a bounded map with a short TTL.
 */
export class CapabilitiesCache {
  readonly #ttlMs: number;
  readonly #userTtlMs: number;
  readonly #maxUsers: number;
  readonly #instances = new Map<string, { at: number; value: InstanceFields }>();
  readonly #users = new Map<string, { at: number; value: Promise<Capabilities> }>();

  constructor(o: { ttlMs?: number; userTtlMs?: number; maxUsers?: number } = {}) {
    this.#ttlMs = o.ttlMs ?? 10 * 60_000;
    this.#userTtlMs = o.userTtlMs ?? 60_000;
    this.#maxUsers = o.maxUsers ?? 10_000;
  }

  /**
   * The capabilities as `user` sees them (`user` is a stable key of the token's user, e.g. the
   * Nextcloud uid or the token subject), fetched with the client's token once per user TTL.
   */
  get(client: NextcloudClientOptions, user: string): Promise<Capabilities> {
    const base = client.baseUrl.replace(/\/+$/, "");
    const key = `${base}\n${user}`;
    const hit = this.#users.get(key);
    if (hit && Date.now() - hit.at < this.#userTtlMs) return hit.value;
    const value = fetchCapabilities(client).then((caps) => {
      const known = this.#instances.get(base);
      if (known && Date.now() - known.at < this.#ttlMs) return { ...caps, ...known.value };
      this.#instances.set(base, {
        at: Date.now(),
        value: { version: caps.version, ...(caps.dav === undefined ? {} : { dav: caps.dav }) },
      });
      return caps;
    });
    this.#users.delete(key);
    if (this.#users.size >= this.#maxUsers) this.#users.delete(this.#users.keys().next().value ?? "");
    this.#users.set(key, { at: Date.now(), value });
    value.catch(() => this.#users.delete(key));
    return value;
  }

  clear(): void {
    this.#instances.clear();
    this.#users.clear();
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
