-- A list without actions (paint.Page.NoActions: a gallery of server-drawn
-- pictures) needs each paint's id, rev and times, and rev and updated_at
-- sit after the actions in the row: reading them walked every overflow
-- page of a 1 MiB drawing. With them in the list index, that list reads
-- the index alone (a covering index) and never a row. The order is
-- paints_newest's, so the list with actions reads it as before. An
-- append now updates this index too: no change measurable beside the
-- row it rewrites and its fsync.
DROP INDEX paints_newest;
CREATE INDEX paints_newest ON paints (open_id, created_at DESC, id DESC, rev, updated_at);
