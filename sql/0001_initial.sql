-- First schema: users, offline grants, login states, job runs, audit events.
-- Conventions: timestamps are timestamptz; secrets are stored only as AES-256-GCM ciphertext
-- with the id of the key that sealed them (see docs/storage.md).

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  issuer        text NOT NULL,
  subject       text NOT NULL,
  -- Pseudonym of (issuer, subject) used in logs and metrics instead of the raw subject.
  subject_hash  text NOT NULL,
  username      text,
  email         text,
  display_name  text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_issuer_subject_key UNIQUE (issuer, subject)
);

CREATE TABLE offline_grants (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  status               text NOT NULL DEFAULT 'active'
                       CONSTRAINT offline_grants_status_check CHECK (status IN ('active', 'revoked')),
  -- AES-256-GCM: nonce || ciphertext || tag of the IdP refresh token; AAD = grant id + subject.
  refresh_token_sealed bytea NOT NULL,
  key_id               text NOT NULL,
  scope                text NOT NULL,
  revoked_reason       text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  last_refreshed_at    timestamptz,
  last_used_at         timestamptz,
  revoked_at           timestamptz,
  -- Per-user work leases for background jobs (FOR UPDATE SKIP LOCKED claims).
  lease_owner          text,
  lease_until          timestamptz,
  CONSTRAINT offline_grants_revoked_check CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
-- One active grant per user; revoked rows are kept for the account page and the audit.
CREATE UNIQUE INDEX offline_grants_one_active ON offline_grants (user_id) WHERE status = 'active';
CREATE INDEX offline_grants_refresh_due ON offline_grants (last_refreshed_at) WHERE status = 'active';
CREATE INDEX offline_grants_key_id ON offline_grants (key_id);

CREATE TABLE login_states (
  -- SHA-256 of the OAuth `state` value; the value itself only travels through the browser.
  state_hash     text PRIMARY KEY,
  code_verifier  text NOT NULL,
  nonce          text NOT NULL,
  purpose        text NOT NULL CONSTRAINT login_states_purpose_check CHECK (purpose IN ('connect', 'login')),
  return_to      text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  consumed_at    timestamptz
);
CREATE INDEX login_states_expires_at ON login_states (expires_at);

CREATE TABLE job_runs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job          text NOT NULL,
  replica      text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  outcome      text CONSTRAINT job_runs_outcome_check CHECK (outcome IN ('ok', 'failed', 'skipped')),
  counts       jsonb NOT NULL DEFAULT '{}'::jsonb,
  error        text,
  CONSTRAINT job_runs_finished_check CHECK ((finished_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX job_runs_job_started_at ON job_runs (job, started_at DESC);

CREATE TABLE audit_events (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  user_id       uuid REFERENCES users (id) ON DELETE SET NULL,
  subject_hash  text,
  action        text NOT NULL,
  detail        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_user_id ON audit_events (user_id, at DESC);
