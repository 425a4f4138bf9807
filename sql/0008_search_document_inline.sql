-- Keep each item's tsvector in the table row (compressed) rather than out of line, so ranking
-- the matches of a search reads no TOAST pages (bench: search p50 over 100,000 items).
ALTER TABLE search_items ALTER COLUMN document SET STORAGE MAIN;
