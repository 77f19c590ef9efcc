-- Per feed item: content hash, a sequence bumped on each change (iCalendar SEQUENCE), when.
CREATE TABLE feed_items (
    key      text PRIMARY KEY,
    hash     text NOT NULL,
    sequence integer NOT NULL,
    changed  timestamptz NOT NULL
);
