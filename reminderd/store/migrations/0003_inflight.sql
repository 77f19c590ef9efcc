-- inflight = 1 from just before a message is handed to SMTP until its outcome is marked.
-- A row taken over after its owner died is "uncertain" (a duplicate is possible) only when
-- its send had begun; rows that were merely claimed come back clean.
ALTER TABLE deliveries ADD COLUMN inflight INTEGER NOT NULL DEFAULT 0;
