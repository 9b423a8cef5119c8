-- Revisions (Append's conditional update) and sizes (the per-user byte
-- quota). Rows written before have rev 1 and get their size here.
ALTER TABLE paints ADD COLUMN rev  INTEGER NOT NULL DEFAULT 1;
ALTER TABLE paints ADD COLUMN size INTEGER NOT NULL DEFAULT 0; -- bytes of actions
UPDATE paints SET size = length(CAST(actions AS BLOB));

-- List pages go newest first, ties by id descending: the index now has
-- exactly that order, so a page is an index range with no sort.
DROP INDEX paints_newest;
CREATE INDEX paints_newest ON paints (open_id, created_at DESC, id DESC);

-- The quota's SUM(size) and the limit's COUNT(*) read this small covering
-- index, never the rows (which hold up to 1 MiB each).
CREATE INDEX paints_size ON paints (open_id, size);
