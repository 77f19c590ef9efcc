-- Per feed item: content hash, a sequence bumped on each change (iCalendar SEQUENCE), when.
CREATE TABLE feed_items (
    key      TEXT PRIMARY KEY NOT NULL,
    hash     TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    changed  TEXT NOT NULL
) WITHOUT ROWID;
