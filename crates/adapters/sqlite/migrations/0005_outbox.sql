-- The outbox: one notification job per event (a timeline entry) and sink, inserted in the same
-- transaction as the change that causes it. Dispatchers claim due jobs by pushing
-- `next_attempt_at` past a lease, and mark them delivered; a delivered job is never claimed again.
CREATE TABLE outbox_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT    NOT NULL,
    tenant          TEXT    NOT NULL REFERENCES tenants (slug),
    dispute_id      INTEGER NOT NULL REFERENCES disputes (id),
    seq             INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    sink            TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT    NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT,
    -- `seq` names the timeline entry the event is about. Not a foreign key: the timeline's
    -- guards must stay the first thing that refuses an edit of history.
    UNIQUE (event_id, sink)
);

-- What a claim scans: the undelivered jobs, by when they are due.
CREATE INDEX outbox_jobs_due ON outbox_jobs (next_attempt_at, id) WHERE delivered_at IS NULL;
