-- Tasks an agency closed from its mail ("đã hoàn thành"): one row per item (its occurrence
-- key); the admin's undo deletes it.
CREATE TABLE completions (
    occurrence_key  text PRIMARY KEY,
    occurrence_date date NOT NULL,
    agency          text NOT NULL,
    done_at         timestamptz NOT NULL,
    note            text NOT NULL DEFAULT ''
);

-- Mail other than reminders (change notices, the weekly mail): one row per permanent key,
-- taken before the message goes out, so that one replica sends it, once.
CREATE TABLE notices (
    key        text PRIMARY KEY,
    kind       text NOT NULL,
    agency     text NOT NULL,
    created_at timestamptz NOT NULL,
    status     text NOT NULL DEFAULT 'sending'
        CHECK (status IN ('sending', 'sent', 'failed')),
    sent_at    timestamptz,
    message_id text,
    error      text
);

-- Operator alerts (like Postfix's delay_warning): when each kind was last sent.
CREATE TABLE operator_alerts (
    name      text PRIMARY KEY,
    last_sent timestamptz NOT NULL
);
