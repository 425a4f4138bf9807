import { homedir } from "node:os";
import { join } from "node:path";

/** Where the harness keeps downloads between runs (outside the repository). */
export function cacheDir(): string {
  return (
    process.env.NCMCP_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "nextcloud-mcp-gateway")
  );
}
