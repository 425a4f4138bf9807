// A lock across test files (vitest runs files in parallel workers) for the one gateway port the
// realm's URLs point at: only one gateway at a time can listen there.
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait.ts";

/** Takes the lock of `port` (waiting while another test file holds it); returns its release. */
export async function lockPort(port: number, timeoutMs = 300_000): Promise<() => Promise<void>> {
  const dir = join(tmpdir(), `nextcloud-mcp-gateway-port-${port}.lock`);
  await waitFor(
    `the lock of port ${port} (another test file is using the gateway port)`,
    async () => {
      try {
        await mkdir(dir);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return undefined;
        throw err;
      }
    },
    { timeoutMs, intervalMs: 200 },
  );
  return () => rm(dir, { recursive: true, force: true });
}
