-- The content index takes Deck cards too (issue 10 §2): calendar events, tasks and contacts were
-- already allowed. See docs/adr/0022-content-index.md.
ALTER TABLE search_items DROP CONSTRAINT search_items_source_check;
ALTER TABLE search_items ADD CONSTRAINT search_items_source_check
  CHECK (source IN ('files', 'notes', 'calendar', 'tasks', 'contacts', 'deck'));

-- An index made before calendars, contacts and Deck were indexed is not complete for them: the
-- search tool searches live until the next pass has read them.
UPDATE search_index_users SET ready_at = NULL;
