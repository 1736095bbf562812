-- The webhook a keyed registration (`POST /v1/webhooks` with an `Idempotency-Key`) made,
-- recorded on its key in the registration's own transaction, as a dispute's write records its
-- effect: a retry after the answer was lost replays the subscription instead of registering a
-- second one.
ALTER TABLE idempotency_keys ADD COLUMN webhook_id BIGINT;
