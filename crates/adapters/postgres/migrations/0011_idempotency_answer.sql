-- An idempotent request's answer is kept as one opaque value that the driving adapter encoded
-- (for HTTP: status, the headers a replay repeats, and the body), so the store knows nothing of
-- HTTP. The response_* columns of 0008 are no longer written or read; they stay until a later
-- migration drops them, so a server of the previous release still runs against this schema
-- during a rolling upgrade. Keys live 24 hours, so nothing older needs converting.
ALTER TABLE idempotency_keys ADD COLUMN answer BYTEA;
