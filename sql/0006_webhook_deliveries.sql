-- Deliveries of Nextcloud's webhook_listeners the gateway accepted (POST /webhooks/nextcloud, issue
-- 10 §2): the SHA-256 of each body as received, so that a replayed delivery is recognised and
-- schedules nothing new. Nextcloud signs nothing and sends no delivery id; its body carries the
-- event time, and the gateway refuses bodies older than WEBHOOK_MAX_AGE_SECONDS, so a row is needed
-- only until its event time is that old (the endpoint deletes older rows as it goes). No payload
-- content is kept. See docs/storage.md and docs/operations.md.
CREATE TABLE webhook_deliveries (
  digest      bytea PRIMARY KEY,
  event_time  timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_event_time ON webhook_deliveries (event_time);

-- A delivery names the Nextcloud user; the endpoint finds their index by it.
CREATE INDEX search_index_users_nextcloud_uid ON search_index_users (nextcloud_uid);
