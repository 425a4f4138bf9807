-- The content index (issue 10 §2): what the `index` job read from a user's Nextcloud with their
-- offline grant, searchable with PostgreSQL full-text search on PostgreSQL and on the embedded
-- PGlite alike. Every row belongs to one user and is only ever read for that user. See
-- docs/storage.md and docs/adr/0022-content-index.md.

-- One indexed item: a note, a text file, an event, a task, a contact. `item_key` is what the app's
-- tools take (a path, a note id, an object id); `etag` is Nextcloud's, checked again before a hit
-- is shown (verify on read).
CREATE TABLE search_items (
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  source      text NOT NULL CHECK (source IN ('files', 'notes', 'calendar', 'tasks', 'contacts')),
  item_key    text NOT NULL,
  title       text NOT NULL,
  body        text NOT NULL,
  -- Where the item is: the folder of a file, the category of a note, the calendar of an event.
  container   text NOT NULL DEFAULT '',
  etag        text,
  modified_at timestamptz,
  indexed_at  timestamptz NOT NULL DEFAULT now(),
  -- The text search configuration the item was indexed with (SEARCH_LANGUAGE).
  language    regconfig NOT NULL DEFAULT 'simple',
  document    tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector(language, title), 'A') || setweight(to_tsvector(language, body), 'B')
  ) STORED,
  PRIMARY KEY (user_id, source, item_key)
);
CREATE INDEX search_items_document ON search_items USING gin (document);

-- What the last pass saw of a collection (a folder's ETag, a calendar's sync token): the next pass
-- skips what did not change.
CREATE TABLE search_sync (
  user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  source    text NOT NULL,
  scope_key text NOT NULL,
  token     text NOT NULL,
  PRIMARY KEY (user_id, source, scope_key)
);

-- Per user: whether the index is kept, how far it is, and the lease of the replica indexing it.
CREATE TABLE search_index_users (
  user_id       uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  paused        boolean NOT NULL DEFAULT false,
  -- Set when a first pass over every source finished; until then the search tool searches live.
  ready_at      timestamptz,
  last_run_at   timestamptz,
  last_error    text,
  -- The user's Nextcloud user id as the last pass learnt it (WebDAV paths need it; saves a request).
  nextcloud_uid text,
  next_run_at   timestamptz NOT NULL DEFAULT now(),
  lease_owner   text,
  lease_until   timestamptz
);
CREATE INDEX search_index_users_due ON search_index_users (next_run_at) WHERE NOT paused;
