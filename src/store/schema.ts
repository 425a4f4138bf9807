import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/** A timestamp column: read as Date, written as Date or ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type TimestampDefault = ColumnType<Date, Date | string | undefined, Date | string>;
/** A jsonb column with a default: read as an object, written as an object or as JSON text. */
type Json<T extends object> = ColumnType<T, T | string | undefined, T | string>;

/** Kysely's view of the schema in sql/; docs/storage.md describes every column. */
export interface Database {
  users: UsersTable;
  offline_grants: OfflineGrantsTable;
  job_runs: JobRunsTable;
  audit_events: AuditEventsTable;
  logout_token_uses: LogoutTokenUsesTable;
  schema_migrations: SchemaMigrationsTable;
  search_items: SearchItemsTable;
  search_sync: SearchSyncTable;
  search_index_users: SearchIndexUsersTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

export interface SearchItemsTable {
  user_id: string;
  source: string;
  item_key: string;
  title: string;
  body: string;
  container: ColumnType<string, string | undefined, string>;
  etag: string | null;
  modified_at: Timestamp | null;
  indexed_at: TimestampDefault;
  /** A text search configuration name (regconfig), e.g. "simple". */
  language: ColumnType<string, string | undefined, string>;
  /** Generated from title and body; never written. */
  document: ColumnType<string, never, never>;
}

export interface SearchSyncTable {
  user_id: string;
  source: string;
  scope_key: string;
  token: string;
}

export interface SearchIndexUsersTable {
  user_id: string;
  paused: ColumnType<boolean, boolean | undefined, boolean>;
  ready_at: Timestamp | null;
  last_run_at: Timestamp | null;
  last_error: string | null;
  nextcloud_uid: string | null;
  next_run_at: TimestampDefault;
  lease_owner: string | null;
  lease_until: Timestamp | null;
}

/** A webhook delivery accepted once (sql/0006): the SHA-256 of its body, no content. */
export interface WebhookDeliveriesTable {
  digest: Uint8Array;
  event_time: Timestamp;
  received_at: TimestampDefault;
}

export interface UsersTable {
  id: Generated<string>;
  issuer: string;
  subject: string;
  subject_hash: string;
  username: string | null;
  email: string | null;
  display_name: string | null;
  created_at: TimestampDefault;
  last_seen_at: TimestampDefault;
  /** Incremented on sign-out and back-channel logout: ends every account-page session of the user. */
  session_version: ColumnType<number, number | undefined, number>;
}

export type GrantStatus = "active" | "revoked";

export interface OfflineGrantsTable {
  id: Generated<string>;
  user_id: string;
  status: ColumnType<GrantStatus, GrantStatus | undefined, GrantStatus>;
  /** NULL once the grant is revoked (blanked), except while a disconnect is in progress. */
  refresh_token_sealed: Uint8Array | null;
  /** NULL exactly when `refresh_token_sealed` is. */
  key_id: string | null;
  scope: string;
  /** The IdP session (`sid`) of the refresh token, when the token says; back-channel logout matches it. */
  idp_session_id: ColumnType<string | null, string | null | undefined, string | null>;
  revoked_reason: string | null;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
  last_refreshed_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  lease_owner: string | null;
  lease_until: Timestamp | null;
}

export interface JobRunsTable {
  id: Generated<string>;
  job: string;
  replica: string;
  started_at: TimestampDefault;
  finished_at: Timestamp | null;
  outcome: "ok" | "failed" | "skipped" | null;
  counts: Json<Record<string, number>>;
  error: string | null;
}

export interface AuditEventsTable {
  id: Generated<string>;
  at: TimestampDefault;
  user_id: string | null;
  subject_hash: string | null;
  action: string;
  detail: Json<Record<string, unknown>>;
}

export interface LogoutTokenUsesTable {
  jti_hash: string;
  expires_at: Timestamp;
  created_at: TimestampDefault;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: TimestampDefault;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type OfflineGrant = Selectable<OfflineGrantsTable>;
export type OfflineGrantUpdate = Updateable<OfflineGrantsTable>;
