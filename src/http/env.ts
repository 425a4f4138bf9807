import type { AuthInfo } from "@modelcontextprotocol/server";
import type { VerifiedToken } from "../auth/index.ts";
import type { Logger } from "../log.ts";

/** Hono context variables set by the middleware and read by handlers. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    /** Set by bearerAuth on /mcp: the verified token and the MCP SDK's view of it. */
    /** `digest` is `tokenDigest(info.token)`, the key of the gateway's token caches. */
    auth: { verified: VerifiedToken; info: AuthInfo; digest: string };
  };
}
