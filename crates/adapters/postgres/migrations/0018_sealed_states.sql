-- Each timeline entry seals the dispute's state as the entry left it: the SHA-256 (hex) of its
-- canonical state text (docs/integrity.md), which the entry's hash covers (format v2). NULL on
-- the entries written before (format v1), which the chain still verifies as they were hashed.
ALTER TABLE timeline_entries ADD COLUMN state_digest TEXT;
