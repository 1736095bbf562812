-- Jobs the dispatcher gave up on (a permanent refusal, or the sink's last attempt failed) are
-- dead-lettered: kept, with their `last_error`, never leased until an operator replays them
-- (`disputes outbox retry`), which makes them due again with their attempts counted from 0
-- and sets `replayed_at`, so a sink knows earlier attempts may have reached it.
ALTER TABLE outbox_jobs ADD COLUMN dead_lettered_at TEXT;
ALTER TABLE outbox_jobs ADD COLUMN replayed_at TEXT;

-- What a lease scans: the jobs still in the queue, by when they are due. A dead-lettered job
-- leaves this index, so a pile of them never slows a lease down.
DROP INDEX outbox_jobs_due;
CREATE INDEX outbox_jobs_due ON outbox_jobs (next_attempt_at, id)
    WHERE delivered_at IS NULL AND dead_lettered_at IS NULL;

-- What `disputes outbox list --failed` and the metrics read. A server of the previous release,
-- during a rolling upgrade, knows nothing of dead letters and may still lease and deliver one:
-- delivered, it is no dead letter any more.
CREATE INDEX outbox_jobs_dead_lettered ON outbox_jobs (id)
    WHERE dead_lettered_at IS NOT NULL AND delivered_at IS NULL;

-- What pruning scans: delivered jobs by when they were delivered.
CREATE INDEX outbox_jobs_delivered ON outbox_jobs (delivered_at) WHERE delivered_at IS NOT NULL;
