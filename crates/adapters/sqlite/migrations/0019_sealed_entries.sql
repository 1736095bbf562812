-- Each timeline entry's seal: the id of the engine's signing key that sealed it and its
-- Ed25519 signature (lowercase hex) of the entry's seal statement (docs/integrity.md). The
-- private keys are kept apart from the database; NULL on entries written without a keyring.
ALTER TABLE timeline_entries ADD COLUMN seal_key_id TEXT;
ALTER TABLE timeline_entries ADD COLUMN seal_signature TEXT;
