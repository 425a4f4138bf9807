-- Grant hygiene (issue 14 §3): a revoked grant keeps no refresh token, logout tokens are single-use
-- across replicas, and a per-user session version ends account-page sessions on sign-out and on
-- back-channel logout. See docs/storage.md and docs/adr/0010-grant-hygiene.md.

-- A revoked grant's sealed token is blanked (NULL, and its key id with it). Only a disconnect in
-- progress keeps the token of a revoked row, until the identity provider has answered.
ALTER TABLE offline_grants ALTER COLUMN refresh_token_sealed DROP NOT NULL;
ALTER TABLE offline_grants ALTER COLUMN key_id DROP NOT NULL;
UPDATE offline_grants SET refresh_token_sealed = NULL, key_id = NULL
  WHERE status = 'revoked' AND revoked_reason IS DISTINCT FROM 'disconnect in progress';
ALTER TABLE offline_grants ADD CONSTRAINT offline_grants_active_sealed_check
  CHECK (status = 'revoked' OR refresh_token_sealed IS NOT NULL);
ALTER TABLE offline_grants ADD CONSTRAINT offline_grants_sealed_key_check
  CHECK ((refresh_token_sealed IS NULL) = (key_id IS NULL));
-- The IdP session (`sid`) the grant's refresh token belongs to, when the IdP says (Keycloak does):
-- a back-channel logout naming a sid revokes only the grants of that session.
ALTER TABLE offline_grants ADD COLUMN idp_session_id text;
-- Housekeeping purges revoked rows past RETENTION_REVOKED_GRANTS_DAYS.
CREATE INDEX offline_grants_revoked_at ON offline_grants (revoked_at) WHERE status = 'revoked';

-- Incremented on sign-out and back-channel logout; account-page cookies carry the version they
-- were issued under, and a different version ends the session on every replica.
ALTER TABLE users ADD COLUMN session_version integer NOT NULL DEFAULT 0;

-- Logout tokens already accepted (OpenID Back-Channel Logout 1.0 §2.6): one row per token, kept
-- until the token could no longer be accepted anyway, so a replay is refused on every replica.
CREATE TABLE logout_token_uses (
  -- SHA-256 of issuer and jti; the token itself is never stored.
  jti_hash    text PRIMARY KEY,
  expires_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX logout_token_uses_expires_at ON logout_token_uses (expires_at);
