// Which route classes accept bearer tokens on an instance (OCS, WebDAV, app routes such as Notes),
// probed with read-only requests and cached per instance.
import { NextcloudError } from "./errors.ts";
import type { NextcloudClientOptions } from "./http.ts";
import { NotesClient } from "./notes.ts";
import { ocsRequest } from "./ocs.ts";
import { davRequest } from "./dav.ts";

/** Outcome per route class: accepted, refused (401), absent (app not installed), or error. */
export type ProbeOutcome = "ok" | "refused" | "absent" | "error";

/** The bearer matrix of one instance. */
export interface BearerProbe {
  ocs: ProbeOutcome;
  dav: ProbeOutcome;
  notes: ProbeOutcome;
  at: number;
}

function outcome(err: unknown): ProbeOutcome {
  if (!(err instanceof NextcloudError)) return "error";
  if (err.kind === "unauthorized" || err.kind === "bearer_refused") return "refused";
  if (err.kind === "not_found") return "absent";
  return "error";
}

async function attempt(fn: () => Promise<unknown>): Promise<ProbeOutcome> {
  try {
    await fn();
    return "ok";
  } catch (err) {
    return outcome(err);
  }
}

/**
 * Probes the route classes with the given client's token; every probe is a read (GET or PROPFIND
 * Depth 0) that changes no data.
 */
export async function probeBearer(client: NextcloudClientOptions, userId: string): Promise<BearerProbe> {
  const [ocs, dav, notes] = await Promise.all([
    attempt(() => ocsRequest(client, "GET", "cloud/user", { what: "the OCS probe" })),
    attempt(() =>
      davRequest(client, {
        method: "PROPFIND",
        tree: "files",
        uid: userId,
        path: [],
        collection: true,
        what: "the WebDAV probe",
        depth: "0",
        contentType: "application/xml",
        body: `<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>`,
      }),
    ),
    attempt(() => new NotesClient(client).settings()),
  ]);
  return { ocs, dav, notes, at: Date.now() };
}

/** Caches probe results per instance base URL for `ttlMs`. */
export class ProbeCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Promise<BearerProbe>>();

  constructor(ttlMs = 10 * 60_000) {
    this.#ttlMs = ttlMs;
  }

  /** The cached probe of the client's instance, probing when missing or stale. */
  async get(client: NextcloudClientOptions, userId: string): Promise<BearerProbe> {
    const key = client.baseUrl.replace(/\/+$/, "");
    const hit = this.#entries.get(key);
    if (hit) {
      const value = await hit;
      if (Date.now() - value.at < this.#ttlMs) return value;
    }
    const fresh = probeBearer(client, userId);
    this.#entries.set(key, fresh);
    fresh.catch(() => this.#entries.delete(key));
    return fresh;
  }

  clear(): void {
    this.#entries.clear();
  }
}
