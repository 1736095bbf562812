-- Idempotency keys (SPEC §6): one row per tenant, principal and key. A request reserves its key
-- here (token and lease), the create or update it causes records its dispute and version in the
-- same transaction, and its answer is stored last, for replays. Rows older than 24 h are ignored
-- and pruned.
CREATE TABLE idempotency_keys (
    tenant                TEXT    NOT NULL,
    principal             TEXT    NOT NULL,
    idempotency_key       TEXT    NOT NULL,
    -- SHA-256 hex of the request's method, path, meaningful headers and body.
    fingerprint           TEXT    NOT NULL,
    -- Which request holds the key; replaced when a retry takes over an expired lease.
    token                 TEXT    NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    lease_until           TIMESTAMPTZ NOT NULL,
    -- The effect, written with it in its transaction.
    dispute_id            BIGINT,
    dispute_version       BIGINT,
    -- The answer, once rendered.
    response_status       INTEGER,
    response_content_type TEXT,
    response_etag         TEXT,
    response_location     TEXT,
    response_body         BYTEA,
    PRIMARY KEY (tenant, principal, idempotency_key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
