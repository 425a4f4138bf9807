// OCS calls (`/ocs/v2.php/...`, `/ocs/v1.php/...`): JSON requested, the envelope unwrapped, and
// a failing `meta.statuscode` turned into a NextcloudError.
import { errorFromResponse, NextcloudError } from "./errors.ts";
import { send, type NextcloudClientOptions } from "./http.ts";

/** Options of one OCS call. */
export interface OcsCallOptions {
  /** OCS API version of the route (default 2). */
  version?: 1 | 2;
  params?: Record<string, string | number | boolean>;
  /** JSON body for POST/PUT. */
  body?: unknown;
  what?: string;
  signal?: AbortSignal;
}

interface Envelope {
  ocs?: { meta?: { status?: unknown; statuscode?: unknown; message?: unknown }; data?: unknown };
}

/** HTTP status for an OCS status code, as V2Response maps it (997 → 401, 998 → 404, 996/999 → 500). */
function ocsToHttp(code: number): number {
  if (code === 997) return 401;
  if (code === 998) return 404;
  if (code === 996 || code === 999) return 500;
  return code >= 200 && code < 600 ? code : 400;
}

/**
 * Calls an OCS route and returns the envelope's `data`.
 * @see https://docs.nextcloud.com/server/latest/developer_manual/client_apis/OCS/ocs-api-overview.html
 */
export async function ocsRequest(
  client: NextcloudClientOptions,
  method: "GET" | "POST" | "PUT" | "DELETE",
  route: string,
  options: OcsCallOptions = {},
): Promise<unknown> {
  const version = options.version ?? 2;
  const query = new URLSearchParams({ format: "json" });
  for (const [k, v] of Object.entries(options.params ?? {})) query.set(k, String(v));
  const what = options.what ?? `OCS ${route}`;
  const res = await send(client, {
    method,
    path: `/ocs/v${String(version)}.php/${route.replace(/^\/+/, "")}?${query.toString()}`,
    what,
    headers: {
      Accept: "application/json",
      ...(options.body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  let envelope: Envelope;
  try {
    envelope = res.json() as Envelope;
  } catch (err) {
    throw new NextcloudError(
      "bad_response",
      `Nextcloud answered ${what} with something that is not OCS JSON.`,
      { cause: err },
    );
  }
  const meta = envelope.ocs?.meta;
  const code = typeof meta?.statuscode === "number" ? meta.statuscode : undefined;
  if (code === undefined) {
    throw new NextcloudError("bad_response", `Nextcloud answered ${what} without an OCS envelope.`);
  }
  const ok = version === 1 ? code === 100 : code >= 100 && code < 300;
  if (!ok) {
    const message = typeof meta?.message === "string" && meta.message !== "" ? meta.message : undefined;
    throw errorFromResponse(ocsToHttp(code), res.headers, what, message === undefined ? {} : { message });
  }
  return envelope.ocs?.data;
}
