// Storage: PostgreSQL through postgres.js and kysely, or the embedded PGlite when no DATABASE_URL
// is set; the SQL migrations in sql/ for both, and (as the flows arrive) grants, leases,
// audit and the sealing of secrets with the key ring.
export { openStore, type Store, type StoreBackend, type StoreSession, type StoreTarget } from "./db.ts";
export type { PoolStats } from "./postgres-dialect.ts";
export { audit, type AuditAction, type AuditEvent } from "./audit.ts";
export {
  GrantStore,
  grantAad,
  purgeRevokedGrants,
  type ConnectResult,
  type DisconnectResult,
  type ReplacedAtIdp,
  type ReencryptResult,
  type RefreshAnswer,
  type RefreshedAccess,
} from "./grants.ts";
export {
  parseSealingKeys,
  Sealer,
  SealingError,
  type Sealed,
  type SealingErrorReason,
  type SealingKey,
} from "./sealing.ts";
export {
  checkTextSearchConfig,
  nameQuery,
  NAME_SIMILARITY,
  prefixQuery,
  SearchIndex,
  type EmbeddingProvider,
  type IndexedItem,
  type IndexHit,
  type CollectionIndexSink,
  type CollectionSource,
  type IndexSource,
  type IndexStatus,
  type UserIndexSink,
} from "./search-index.ts";
export {
  claimDueIndexUsers,
  countDueIndexUsers,
  enrolIndexUsers,
  finishIndexPass,
  releaseIndexLease,
  type IndexClaim,
} from "./search-leases.ts";
export { acceptDelivery, type DeliveryOutcome, type WebhookChange } from "./webhook-deliveries.ts";
export { claimDueGrants, countDueGrants, releaseGrantLeases, type GrantClaim } from "./leases.ts";
export { endSessions, upsertUser, type UserProfile } from "./users.ts";
export { deleteExpiredLogoutTokens, forgetLogoutToken, recordLogoutToken } from "./logout-tokens.ts";
export { PGLITE_LOCK_FILE, PGLITE_SUBDIR, pgliteExists } from "./pglite-paths.ts";
export {
  migrate,
  pendingMigrations,
  readMigrations,
  MIGRATIONS_DIR,
  type Migration,
  type MigrationResult,
} from "./migrate.ts";
export type { Database, GrantStatus, OfflineGrant, User } from "./schema.ts";
