// Storage: PostgreSQL through postgres.js and kysely, the SQL migrations in sql/, and (as the
// flows arrive) grants, login states, audit and the sealing of secrets with the key ring.
export { openStore, type Store } from "./db.ts";
export {
  migrate,
  pendingMigrations,
  readMigrations,
  MIGRATIONS_DIR,
  type MigrationResult,
} from "./migrate.ts";
export type { Database, GrantStatus, OfflineGrant, User } from "./schema.ts";
