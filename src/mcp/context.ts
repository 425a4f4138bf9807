import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";

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
}
