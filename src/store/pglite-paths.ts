import { existsSync } from "node:fs";
import { join } from "node:path";

/** The subdirectory of DATA_DIR that holds PGlite's PostgreSQL files. */
export const PGLITE_SUBDIR = "pglite";
/** The lock file beside it that keeps a second process out. */
export const PGLITE_LOCK_FILE = "pglite.lock";

/** True when `<dataDir>/pglite` holds a database (the first `serve` or `migrate` creates it). */
export function pgliteExists(dataDir: string): boolean {
  return existsSync(join(dataDir, PGLITE_SUBDIR, "PG_VERSION"));
}
