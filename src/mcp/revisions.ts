import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/server";

/**
 * The stateless revision: no `initialize`, the version and the client's capabilities in each
 * request's `_meta`, `server/discover` for negotiation.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/lifecycle
 */
export const MODERN_REVISION = "2026-07-28";

/**
 * Every MCP revision /mcp serves, newest first: 2026-07-28 per request, the 2025 and 2024 ones
 * through the `initialize` handshake (the SDK's list, 2025-11-25 and 2025-06-18 among them).
 */
export const SERVED_REVISIONS: readonly string[] = [MODERN_REVISION, ...SUPPORTED_PROTOCOL_VERSIONS];

/** The revisions before 2026-07-28 that /mcp serves through the `initialize` handshake. */
export const LEGACY_REVISIONS: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS.filter(
  (v) => v < MODERN_REVISION,
);
