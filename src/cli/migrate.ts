import type { Config } from "../config/index.ts";
import type { Logger } from "../log.ts";
import { migrate, openStore, type MigrationResult } from "../store/index.ts";

/** `nextcloud-mcp-gateway migrate`: applies pending SQL migrations and exits. */
export async function runMigrate(config: Config, log: Logger): Promise<MigrationResult> {
  const store = await openStore(config.database, { poolMax: 1 });
  try {
    const result = await migrate(store);
    log.info(
      { applied: result.applied, version: result.version },
      result.applied.length ? "migrations applied" : "schema already up to date",
    );
    return result;
  } finally {
    await store.close();
  }
}
