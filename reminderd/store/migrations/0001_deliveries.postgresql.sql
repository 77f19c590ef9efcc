-- The delivery ledger: one row per reminder key, forever (the key is never reused).
CREATE TABLE deliveries (
    key             text PRIMARY KEY,
    agency          text NOT NULL,
    occurrence_key  text NOT NULL,
    occurrence_date date NOT NULL,
    due             timestamptz NOT NULL,
    kind            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'retrying', 'failed', 'skipped')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt    timestamptz,
    last_error      text,
    message_id      text,
    recipients      text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    uncertain       boolean NOT NULL DEFAULT false,
    owner           text,
    token           text,
    lease_until     timestamptz,
    claimed_from    text
);

CREATE INDEX deliveries_claim ON deliveries (status, next_attempt);
CREATE INDEX deliveries_lease ON deliveries (lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_updated ON deliveries (updated_at DESC, key);
