import { createNextcloudClient, type NextcloudClient } from "../nextcloud/index.ts";
import type { TokenBroker } from "../tokens/index.ts";

/** How the gateway reaches Nextcloud for a request: where, and the broker that mints its tokens. */
export interface NextcloudAccess {
  baseUrl: string;
  timeoutMs: number;
  broker: TokenBroker;
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
): (subjectToken: string, subject: string, signal: AbortSignal) => NextcloudClient {
  const userIds = new Map<string, string>();
  return function clientFor(subjectToken, subject, signal) {
    const known = userIds.get(subject);
    return createNextcloudClient({
      baseUrl: access.baseUrl,
      timeoutMs: access.timeoutMs,
      token: async () => (await access.broker.nextcloudToken(subjectToken, signal)).accessToken,
      userKey: `sub:${subject}`,
      ...(known === undefined
        ? {
            onUser: (u) => {
              if (userIds.size >= MAX_CACHED_USER_IDS) userIds.delete(userIds.keys().next().value ?? "");
              userIds.set(subject, u.id);
            },
          }
        : { userId: known }),
    });
  };
}

/** The capability names tools declare, from what Nextcloud reports for this user. */
export async function instanceCapabilities(client: NextcloudClient): Promise<ReadonlySet<string>> {
  const caps = await client.capabilities();
  const names = new Set(["nextcloud", "files"]);
  if (caps.notes !== undefined) names.add("notes");
  return names;
}
