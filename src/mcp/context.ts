import type { AuthInfo } from "@modelcontextprotocol/server";
import { GatewayError } from "../errors.ts";
import type { NextcloudClient } from "../nextcloud/index.ts";
import type { OfflineAccessState } from "../store/account.ts";
import type { IndexHit, IndexSource, IndexStatus } from "../store/search-index.ts";

/**
 * The calling user's content index (SEARCH_INDEX_ENABLED), bound to them: nothing here reads
 * another user's rows.
 */
export interface SearchIndexContext {
  /** Whether the user's index is complete (a first pass finished) and not paused: then search uses it. */
  ready(): Promise<boolean>;
  /** The user's hits, best first. */
  search(
    text: string,
    o: { limit: number; offset: number; sources?: readonly IndexSource[] },
  ): Promise<IndexHit[]>;
  /**
   * Removes a hit found gone or unreadable on read, and makes the next pass read where it was again
   * (its folder and those above it; its calendar, address book or Deck board).
   */
  drop(hit: Pick<IndexHit, "source" | "key" | "container">): Promise<void>;
  /** The index as offline_access_status shows it; undefined when the user has none. */
  status(): Promise<IndexStatus | undefined>;
}

/** The user's offline access as tools see it: where it stands and where to grant it. */
export interface OfflineAccessContext {
  /** False when the gateway stores no offline access (its operator has not set SEALING_KEYS). */
  readonly enabled: boolean;
  /** `<GATEWAY_PUBLIC_URL>/connect`: where the user grants (or renews) offline access in a browser. */
  readonly connectUrl: string;
  /** `<GATEWAY_PUBLIC_URL>/account`: where the user sees and revokes it. */
  readonly accountUrl: string;
  /** Whether this client said it handles URL-mode elicitation (MCP 2025-11-25) when it initialized. */
  readonly urlElicitation: boolean;
  /** The calling user's offline grant. */
  state(): Promise<OfflineAccessState>;
}

/**
 * The logging a tool may do: pino's `Logger` satisfies it, and so does a test spy. Pass fields as
 * the first argument and a fixed message second, never a token or the raw `AuthInfo`.
 */
export interface ToolLogger {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** What a tool handler knows about the request it serves; built by the HTTP layer for each request. */
export interface ToolContext {
  /** The verified MCP access token. `auth.token` is a credential: never log it or return it. */
  readonly auth: AuthInfo;
  /** The token's `sub`: the user the tool acts for. */
  readonly subject: string;
  /** The token's scopes; they decide which tools are listed and callable. */
  readonly scopes: readonly string[];
  /** Aborted when the client goes away or cancels the call; pass it to every outbound request. */
  readonly signal: AbortSignal;
  /** The request id the HTTP layer logs; shown to the user when a tool fails unexpectedly. */
  readonly requestId: string;
  /** A logger already bound to this request. */
  readonly log: ToolLogger;
  /**
   * The user's Nextcloud, reached with a Nextcloud-audience token exchanged for the MCP token (the
   * MCP token itself never leaves the gateway); undefined when the gateway has no NEXTCLOUD_URL.
   */
  readonly nextcloud?: NextcloudClient | undefined;
  /** The user's offline access; undefined when the gateway has no database behind its tools (tests). */
  readonly offline?: OfflineAccessContext | undefined;
  /** The user's content index; undefined when the gateway keeps none (SEARCH_INDEX_ENABLED=false). */
  readonly searchIndex?: SearchIndexContext | undefined;
}

/** The Nextcloud client of a request, or a tool error saying the gateway has none configured. */
export function nextcloudOf(ctx: ToolContext): NextcloudClient {
  if (ctx.nextcloud === undefined) {
    throw new GatewayError(
      "temporarily_unavailable",
      "This gateway is not connected to a Nextcloud: its operator has to set NEXTCLOUD_URL.",
    );
  }
  return ctx.nextcloud;
}
