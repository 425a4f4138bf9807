import { BoundedCache } from "../cache.ts";
import { describeError } from "../errors.ts";
import type { ToolGroup, ToolLogger } from "../mcp/index.ts";
import { createNextcloudClient, type NextcloudClient, type RouteProbe } from "../nextcloud/index.ts";
import type { TokenBroker } from "../tokens/index.ts";

/** How the gateway reaches Nextcloud for a request: where, and the broker that mints its tokens. */
export interface NextcloudAccess {
  baseUrl: string;
  timeoutMs: number;
  broker: TokenBroker;
  /** Which route classes the instance refuses (src/nextcloud/routes.ts); the process-wide one by default. */
  routes?: RouteProbe;
}

const MAX_CACHED_USER_IDS = 10_000;

/**
 * Builds per-request Nextcloud clients whose token is the user's MCP token exchanged at the IdP
 * (cached by the broker): the MCP token never reaches Nextcloud. The Nextcloud user id of each
 * subject is remembered so that file paths need no extra OCS call per request.
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-2.1
 */
export function nextcloudClients(
  access: NextcloudAccess,
): (subjectToken: string, subject: string, signal: AbortSignal, digest?: string) => NextcloudClient {
  const userIds = new BoundedCache<string, string>({ maxEntries: MAX_CACHED_USER_IDS });
  return function clientFor(subjectToken, subject, signal, digest) {
    const known = userIds.get(subject);
    return createNextcloudClient({
      baseUrl: access.baseUrl,
      timeoutMs: access.timeoutMs,
      token: async () => (await access.broker.nextcloudToken(subjectToken, signal, digest)).accessToken,
      userKey: `sub:${subject}`,
      ...(access.routes === undefined ? {} : { routes: access.routes }),
      ...(known === undefined
        ? {
            onUser: (u) => {
              userIds.set(subject, u.id);
            },
          }
        : { userId: known }),
    });
  };
}

/** How long a user's app list is kept before the apps are asked again. */
const APPS_TTL_MS = 5 * 60_000;

/** The apps usable for a user: `nextcloud` and the ids of the groups that say they are there. */
export type AppAvailability = (
  nextcloud: NextcloudClient,
  subject: string,
  signal: AbortSignal,
  log: ToolLogger,
) => Promise<ReadonlySet<string>>;

/**
 * Asks each group whether its app is there for the user (capabilities, route probes), cached per
 * user for five minutes. A group whose answer cannot be had stays listed, and that answer is not
 * cached: its tools then fail with their own message rather than vanishing.
 */
export function appAvailability(groups: readonly ToolGroup[]): AppAvailability {
  const cache = new BoundedCache<string, ReadonlySet<string>>({
    maxEntries: MAX_CACHED_USER_IDS,
    ttlMs: APPS_TTL_MS,
  });
  return async function availableApps(nextcloud, subject, signal, log) {
    const hit = cache.get(subject);
    if (hit !== undefined) return hit;
    const apps = new Set(["nextcloud"]);
    const unknown: string[] = [];
    await Promise.all(
      groups.map(async (g) => {
        if (g.available === undefined) return;
        try {
          if (await g.available(nextcloud, signal)) apps.add(g.id);
        } catch (err) {
          unknown.push(g.id);
          apps.add(g.id);
          log.warn({ app: g.id, err: describeError(err) }, "cannot tell whether a Nextcloud app is there");
        }
      }),
    );
    if (unknown.length === 0) cache.set(subject, apps);
    return apps;
  };
}
