-- The invoice contract (SPEC §3): a dispute's message thread, its invoice's collection hold, and
-- the agent who handles a tenant's disputes.

-- The agent assigned to a tenant (the invoice contract's `owner`): both set or both NULL.
ALTER TABLE tenants ADD COLUMN owner_name TEXT;
ALTER TABLE tenants ADD COLUMN owner_email TEXT;

-- An invoice dispute's collection hold: until when it runs (fixed at opening) and when the
-- dispute's end released it early. NULL on other disputes.
ALTER TABLE disputes ADD COLUMN hold_until TEXT;
ALTER TABLE disputes ADD COLUMN hold_released_at TEXT;

-- The thread, one row per message, keyed by the timeline entry that recorded it (seq 1 for the
-- message a dispute was opened with). The attachment's bytes live in the blob store under
-- attachment_sha256; its four columns are all set or all NULL.
CREATE TABLE dispute_messages (
    dispute_id        INTEGER NOT NULL REFERENCES disputes (id),
    seq               INTEGER NOT NULL CHECK (seq >= 1),
    at                TEXT NOT NULL,
    author_id         TEXT NOT NULL,
    author_role       TEXT NOT NULL,
    text              TEXT NOT NULL,
    attachment_name   TEXT,
    attachment_type   TEXT,
    attachment_size   INTEGER CHECK (attachment_size >= 0),
    attachment_sha256 TEXT,
    PRIMARY KEY (dispute_id, seq),
    CHECK ((attachment_name IS NULL) = (attachment_type IS NULL)
       AND (attachment_name IS NULL) = (attachment_size IS NULL)
       AND (attachment_name IS NULL) = (attachment_sha256 IS NULL))
) STRICT, WITHOUT ROWID;

-- Messages are history, like the timeline that records them: never edited, never removed.
CREATE TRIGGER dispute_messages_are_never_updated
BEFORE UPDATE ON dispute_messages
BEGIN
    SELECT RAISE(ABORT, 'the message thread is append-only');
END;

CREATE TRIGGER dispute_messages_are_never_deleted
BEFORE DELETE ON dispute_messages
BEGIN
    SELECT RAISE(ABORT, 'the message thread is append-only');
END;
