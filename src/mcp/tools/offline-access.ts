import { z } from "zod";
import { GatewayError } from "../../errors.ts";
import { defineTool } from "../registry.ts";

const when = z.string().nullable();

/** Where the user's offline access stands, and where to grant, renew or revoke it. */
export const offlineAccessStatus = defineTool({
  name: "offline_access_status",
  title: "Offline access status",
  description:
    "Tells whether the user has granted this gateway offline access, which background jobs need to " +
    "work for them while no MCP client is connected (for example to keep a search index current). " +
    "Returns the status (granted, not_granted, revoked, or disabled when the gateway does not offer " +
    "it), when it was granted, last refreshed and last used, why it was revoked, and the URLs where " +
    "the user grants it (connectUrl, to open in a browser) and reviews or revokes it (accountUrl). " +
    "Takes no arguments and changes nothing.",
  input: z.object({}),
  output: z.object({
    status: z
      .enum(["granted", "not_granted", "revoked", "disabled"])
      .describe(
        "granted: background jobs can work for the user; disabled: the gateway offers no offline access.",
      ),
    grantedAt: when.describe("When the current (or revoked) grant was made, ISO 8601."),
    lastRefreshedAt: when.describe("When the gateway last refreshed the grant at the identity provider."),
    lastUsedAt: when.describe("When a background job last used the grant."),
    revokedAt: when.describe("When the grant was revoked, if it was."),
    revokedReason: z.string().nullable().describe("Why the grant was revoked, if it was."),
    connectUrl: z.string().describe("Open in a browser to grant or renew offline access."),
    accountUrl: z.string().describe("Open in a browser to see or revoke offline access."),
    searchIndex: z
      .object({
        items: z.number().describe("Files and notes in the user's index."),
        ready: z.boolean().describe("A first pass finished: search answers from the index."),
        paused: z.boolean(),
        lastRunAt: when.describe("When the last pass ended."),
        lastError: z.string().nullable().describe("Why the last pass failed, if it did."),
      })
      .nullable()
      .describe(
        "The user's content index (pause or delete it on the account page); null when there is none.",
      ),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  scopes: ["mcp:tools"],
  async handler(_args, ctx) {
    const offline = ctx.offline;
    if (offline === undefined) {
      throw new GatewayError(
        "temporarily_unavailable",
        "The gateway cannot look up offline access right now.",
      );
    }
    const index = await ctx.searchIndex?.status();
    const urls = {
      connectUrl: offline.connectUrl,
      accountUrl: offline.accountUrl,
      searchIndex:
        index === undefined
          ? null
          : {
              items: index.items,
              ready: index.readyAt !== null,
              paused: index.paused,
              lastRunAt: index.lastRunAt?.toISOString() ?? null,
              lastError: index.lastError,
            },
    };
    const none = {
      grantedAt: null,
      lastRefreshedAt: null,
      lastUsedAt: null,
      revokedAt: null,
      revokedReason: null,
    };
    if (!offline.enabled) return { status: "disabled" as const, ...none, ...urls };
    const found = await offline.state();
    if (found.state === "none") return { status: "not_granted" as const, ...none, ...urls };
    const g = found.grant;
    const iso = (d: Date | null) => (d ? d.toISOString() : null);
    return {
      status: found.state === "active" ? ("granted" as const) : ("revoked" as const),
      grantedAt: iso(g.created_at),
      lastRefreshedAt: iso(g.last_refreshed_at),
      lastUsedAt: iso(g.last_used_at),
      revokedAt: iso(g.revoked_at),
      revokedReason: g.revoked_reason,
      ...urls,
    };
  },
  text(o) {
    const i = o.searchIndex;
    const index =
      i === null
        ? ""
        : ` Search index: ${String(i.items)} item(s), ${i.paused ? "paused" : i.ready ? "ready" : "being built"}${i.lastRunAt === null ? "" : `, last run ${i.lastRunAt}`}${i.lastError === null ? "" : ` (last error: ${i.lastError})`}.`;
    return offlineText(o) + index;
  },
});

function offlineText(o: {
  status: string;
  connectUrl: string;
  accountUrl: string;
  revokedAt: string | null;
  revokedReason: string | null;
  grantedAt: string | null;
  lastRefreshedAt: string | null;
}): string {
  switch (o.status) {
    case "disabled":
      return "This gateway does not offer offline access (its operator has not set SEALING_KEYS); background jobs cannot work for you.";
    case "not_granted":
      return `Offline access is not granted, so background jobs cannot work for you. To grant it, open ${o.connectUrl} in your browser.`;
    case "revoked":
      return `Offline access was revoked${o.revokedAt ? ` at ${o.revokedAt}` : ""}${o.revokedReason ? ` (${o.revokedReason})` : ""}. To reconnect, open ${o.connectUrl} in your browser.`;
    case "granted":
      return `Offline access is granted (since ${o.grantedAt ?? "?"}; last refreshed ${o.lastRefreshedAt ?? "never"}). Review or revoke it at ${o.accountUrl}.`;
  }
  return "";
}
