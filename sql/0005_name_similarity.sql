-- Names found by similarity (issue 10 §2): a misspelt or partial name ("quartrly") finds "Quarterly
-- report.md" through trigram word similarity (pg_trgm), ranked below full-text matches. PostgreSQL
-- ships pg_trgm in its contrib package; the embedded PGlite loads it at start. pg_trgm is a trusted
-- extension: a role with CREATE on the database (its owner) may create it without being superuser.
-- A role that may not gets a migration that fails, rolled back, naming what the operator must do
-- (docs/adr/0019-document-text-extraction-and-name-similarity.md says why it does not degrade).
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION
  WHEN insufficient_privilege THEN
    RAISE EXCEPTION USING
      ERRCODE = 'insufficient_privilege',
      MESSAGE = format(
        'the database role %I may not create the extension pg_trgm (name similarity in search); '
        'run CREATE EXTENSION pg_trgm; in database %I as its owner or a superuser, '
        'or GRANT CREATE ON DATABASE %I TO %I, then start the gateway again',
        current_user, current_database(), current_database(), current_user);
  WHEN undefined_file OR feature_not_supported THEN
    RAISE EXCEPTION USING
      ERRCODE = 'undefined_file',
      MESSAGE = 'this PostgreSQL server does not have the extension pg_trgm (name similarity in search); '
        'install PostgreSQL''s contrib extensions on the server (Debian and Ubuntu ship them in the '
        'postgresql package; others in postgresql-contrib), then start the gateway again';
END
$$;

-- Titles by trigram, for `query <% title` (word similarity) in the index search.
CREATE INDEX search_items_title_trgm ON search_items USING gin (title gin_trgm_ops);
