-- The invoice contract (SPEC §3): a dispute's message thread, its invoice's collection hold, and
-- the agent who handles a tenant's disputes. Names are the embedded store's.

-- The agent assigned to a tenant (the invoice contract's `owner`): both set or both NULL.
ALTER TABLE tenants ADD COLUMN owner_name TEXT;
ALTER TABLE tenants ADD COLUMN owner_email TEXT;
ALTER TABLE tenants ADD CHECK ((owner_name IS NULL) = (owner_email IS NULL));

-- An invoice dispute's collection hold: until when it runs (fixed at opening) and when the
-- dispute's end released it early. NULL on other disputes.
ALTER TABLE disputes ADD COLUMN hold_until TIMESTAMPTZ;
ALTER TABLE disputes ADD COLUMN hold_released_at TIMESTAMPTZ;

-- The thread, one row per message, keyed by the timeline entry that recorded it (seq 1 for the
-- message a dispute was opened with). The attachment's bytes live in the blob store under
-- attachment_sha256; its four columns are all set or all NULL.
CREATE TABLE dispute_messages (
    dispute_id        BIGINT NOT NULL REFERENCES disputes (id),
    seq               BIGINT NOT NULL CHECK (seq >= 1),
    at                TIMESTAMPTZ NOT NULL,
    author_id         TEXT NOT NULL,
    author_role       TEXT NOT NULL,
    text              TEXT NOT NULL,
    attachment_name   TEXT,
    attachment_type   TEXT,
    attachment_size   BIGINT CHECK (attachment_size >= 0),
    attachment_sha256 TEXT,
    PRIMARY KEY (dispute_id, seq),
    CHECK ((attachment_name IS NULL) = (attachment_type IS NULL)
       AND (attachment_name IS NULL) = (attachment_size IS NULL)
       AND (attachment_name IS NULL) = (attachment_sha256 IS NULL))
);

-- Messages are history, like the timeline that records them: never edited, never removed.
CREATE TRIGGER dispute_messages_are_never_updated
BEFORE UPDATE ON dispute_messages
FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_edit('the message thread is append-only');

CREATE TRIGGER dispute_messages_are_never_deleted
BEFORE DELETE ON dispute_messages
FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_edit('the message thread is append-only');

CREATE TRIGGER dispute_messages_are_never_truncated
BEFORE TRUNCATE ON dispute_messages
FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_edit('the message thread is append-only');
