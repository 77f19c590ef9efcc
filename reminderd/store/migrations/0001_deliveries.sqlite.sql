-- The delivery ledger: one row per reminder key, forever (the key is never reused).
-- Timestamps are UTC ISO-8601 text with microseconds and +00:00, so text order is time order.
CREATE TABLE deliveries (
    key             TEXT PRIMARY KEY NOT NULL,
    agency          TEXT NOT NULL,
    occurrence_key  TEXT NOT NULL,
    occurrence_date TEXT NOT NULL,
    due             TEXT NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'retrying', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    TEXT,
    last_error      TEXT,
    message_id      TEXT,
    recipients      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    sent_at         TEXT,
    uncertain       INTEGER NOT NULL DEFAULT 0 CHECK (uncertain IN (0, 1)),
    owner           TEXT,
    token           TEXT,
    lease_until     TEXT,
    claimed_from    TEXT
) WITHOUT ROWID;

CREATE INDEX deliveries_claim ON deliveries (status, next_attempt);
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_updated ON deliveries (updated_at DESC, key);
