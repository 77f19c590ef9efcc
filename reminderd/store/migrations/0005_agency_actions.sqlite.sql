-- Tasks an agency closed from its mail ("đã hoàn thành"): one row per item (its occurrence
-- key); the admin's undo deletes it. Timestamps as in 0001: UTC ISO-8601 text.
CREATE TABLE completions (
    occurrence_key  TEXT PRIMARY KEY NOT NULL,
    occurrence_date TEXT NOT NULL,
    agency          TEXT NOT NULL,
    done_at         TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- Mail other than reminders (change notices, the weekly mail): one row per permanent key,
-- taken before the message goes out, so that one replica sends it, once.
CREATE TABLE notices (
    key        TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    agency     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'sending'
        CHECK (status IN ('sending', 'sent', 'failed')),
    sent_at    TEXT,
    message_id TEXT,
    error      TEXT
) WITHOUT ROWID;

-- Operator alerts (like Postfix's delay_warning): when each kind was last sent.
CREATE TABLE operator_alerts (
    name      TEXT PRIMARY KEY NOT NULL,
    last_sent TEXT NOT NULL
) WITHOUT ROWID;
