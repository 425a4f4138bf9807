import type { Logger } from "../log.ts";

/** Hono context variables set by the middleware and read by handlers. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
  };
}
