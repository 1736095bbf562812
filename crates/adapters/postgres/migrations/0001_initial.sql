-- The production store's schema. Table and column names are the embedded (SQLite) store's, so
-- that tools and tests can run the same SQL against either.
--
-- Conventions, so that every value reads back exactly as it was written:
-- * amounts are NUMERIC without a precision: PostgreSQL then keeps each value's own scale, so
--   "5.00" stays 5.00 and does not become 5;
-- * instants are TIMESTAMPTZ, which keeps microseconds, exactly the precision of the domain;
-- * digests are 64 lowercase hex digits.
--
-- Nothing here names a schema: everything lands in the first schema of the search_path, which
-- lets several databases (or test runs) share one PostgreSQL database side by side.

CREATE TABLE tenants (
    slug       TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL REFERENCES tenants (slug),
    role        TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    -- SHA-256 of the secret; the secret itself is never stored.
    secret_hash TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX api_keys_by_tenant ON api_keys (tenant);

CREATE TABLE disputes (
    -- ALWAYS: ids come from the sequence only, never from a caller, and are never handed out
    -- twice.
    id                       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant                   TEXT NOT NULL REFERENCES tenants (slug),
    version                  BIGINT NOT NULL CHECK (version >= 1),
    status                   TEXT NOT NULL,

    -- The subject: the columns of its kind are set, the others NULL. Delivery screens live in
    -- dispute_screens.
    subject_kind             TEXT NOT NULL,
    campaign_id              TEXT,
    substrate_id             TEXT,
    period_start             TIMESTAMPTZ,
    period_end               TIMESTAMPTZ,
    invoice                  TEXT,
    customer_name            TEXT,
    customer_email           TEXT,
    category                 TEXT,
    locale                   TEXT,
    item_id                  TEXT,
    account_id               TEXT,
    bill_unit_id             TEXT,
    bill_id                  TEXT,

    claim_amount             NUMERIC NOT NULL,
    claim_unit               TEXT NOT NULL,
    -- Billing terms: both set or both NULL.
    claim_tax                TEXT,
    claim_credit             BOOLEAN,

    opened_by_id             TEXT NOT NULL,
    opened_by_role           TEXT NOT NULL,
    opened_at                TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    respond_by               TIMESTAMPTZ,

    -- The sealed evidence, verbatim in its canonical form, and the digest taken at opening.
    evidence_canonical       TEXT NOT NULL,
    evidence_digest          TEXT NOT NULL,
    -- The hash of the last timeline entry, so that dropping entries is detectable.
    timeline_head            TEXT NOT NULL,

    -- The provider's response. remedy_proposed tells "no remedy" from an empty one.
    response_at              TIMESTAMPTZ,
    response_by_id           TEXT,
    response_by_role         TEXT,
    response_notes           TEXT,
    remedy_proposed          BOOLEAN,
    remedy_amount            NUMERIC,
    makegood_start           TIMESTAMPTZ,
    makegood_end             TIMESTAMPTZ,

    -- The opener's reply.
    reply_at                 TIMESTAMPTZ,
    reply_by_id              TEXT,
    reply_by_role            TEXT,
    reply_notes              TEXT,
    reply_decision           TEXT,

    -- The resolution.
    resolution_outcome       TEXT,
    settled_amount           NUMERIC,
    credit_note_id           TEXT,
    makegood_campaign_id     TEXT,
    settlement_adjustment_id TEXT,
    resolved_by_id           TEXT,
    resolved_by_role         TEXT,
    resolved_at              TIMESTAMPTZ,
    resolution_notes         TEXT,

    CHECK ((claim_tax IS NULL) = (claim_credit IS NULL))
);

-- Listing: newest first within a tenant (the keyset cursor is `id < after`), optionally narrowed
-- by one filter.
CREATE INDEX disputes_by_tenant ON disputes (tenant, id DESC);
CREATE INDEX disputes_by_status ON disputes (tenant, status, id DESC);
CREATE INDEX disputes_by_kind ON disputes (tenant, subject_kind, id DESC);
CREATE INDEX disputes_by_opened_at ON disputes (tenant, opened_at);
-- These two also serve the duplicate check of delivery subjects.
CREATE INDEX disputes_by_campaign ON disputes (tenant, campaign_id, id DESC) WHERE campaign_id IS NOT NULL;
CREATE INDEX disputes_by_account ON disputes (tenant, account_id, id DESC) WHERE account_id IS NOT NULL;

-- At most one open dispute per invoice and per bill item. The store checks this (and the
-- delivery rule, which no index can express) under an advisory lock before inserting; these
-- indexes are the defence in depth. The status list mirrors `Status::is_final`.
CREATE UNIQUE INDEX disputes_one_open_per_invoice ON disputes (tenant, invoice)
    WHERE subject_kind = 'invoice' AND status NOT IN ('resolved', 'withdrawn', 'expired');
CREATE UNIQUE INDEX disputes_one_open_per_bill_item ON disputes (tenant, item_id)
    WHERE subject_kind = 'bill_item' AND status NOT IN ('resolved', 'withdrawn', 'expired');

-- The screens of a delivery subject, in the order given. The UNIQUE index also serves the
-- duplicate check's "one screen in common".
CREATE TABLE dispute_screens (
    dispute_id BIGINT NOT NULL REFERENCES disputes (id),
    screen_id  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (dispute_id, position),
    UNIQUE (dispute_id, screen_id)
);

-- The append-only, hash-chained history; one row per entry. A dispute's version equals its
-- number of entries.
CREATE TABLE timeline_entries (
    dispute_id BIGINT NOT NULL REFERENCES disputes (id),
    seq        BIGINT NOT NULL CHECK (seq >= 1),
    at         TIMESTAMPTZ NOT NULL,
    actor_id   TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    kind       TEXT NOT NULL,
    notes      TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (dispute_id, seq)
);
