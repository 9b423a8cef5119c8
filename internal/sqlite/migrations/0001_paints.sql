-- One row per (user, paint). A rowid table, not WITHOUT ROWID: rows hold up
-- to 1 MiB of actions, far past the size where WITHOUT ROWID pays off.
CREATE TABLE paints (
	open_id    TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	actions    TEXT    NOT NULL,
	created_at INTEGER NOT NULL, -- unix milliseconds
	updated_at INTEGER NOT NULL, -- unix milliseconds
	PRIMARY KEY (open_id, id)
);

-- List reads one user's paints newest first; this index serves it (and the
-- count in Save) without a sort.
CREATE INDEX paints_newest ON paints (open_id, created_at DESC, id);
