-- The embedded store's schema.
--
-- Conventions, so that every value reads back exactly as it was written:
-- * amounts are TEXT in `Decimal::to_string()` form: SQLite has no decimal type, and a numeric
--   column would turn "5.00" into 5 (STRICT tables refuse any such conversion);
-- * instants are TEXT `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds, fixed width), so text
--   order is time order and range filters work in SQL;
-- * digests are 64 lowercase hex digits.

CREATE TABLE tenants (
    slug       TEXT NOT NULL PRIMARY KEY,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE api_keys (
    key_id      TEXT NOT NULL PRIMARY KEY,
    tenant      TEXT NOT NULL REFERENCES tenants (slug),
    role        TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    -- SHA-256 of the secret; the secret itself is never stored.
    secret_hash TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

CREATE INDEX api_keys_by_tenant ON api_keys (tenant);

CREATE TABLE disputes (
    -- AUTOINCREMENT: an id is never handed out twice, not even after the newest row is gone.
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant                   TEXT NOT NULL REFERENCES tenants (slug),
    version                  INTEGER NOT NULL CHECK (version >= 1),
    status                   TEXT NOT NULL,

    -- The subject: the columns of its kind are set, the others NULL. Delivery screens live in
    -- dispute_screens.
    subject_kind             TEXT NOT NULL,
    campaign_id              TEXT,
    substrate_id             TEXT,
    period_start             TEXT,
    period_end               TEXT,
    invoice                  TEXT,
    customer_name            TEXT,
    customer_email           TEXT,
    category                 TEXT,
    locale                   TEXT,
    item_id                  TEXT,
    account_id               TEXT,
    bill_unit_id             TEXT,
    bill_id                  TEXT,

    claim_amount             TEXT NOT NULL,
    claim_unit               TEXT NOT NULL,
    -- Billing terms: both set or both NULL.
    claim_tax                TEXT,
    claim_credit             INTEGER CHECK (claim_credit IN (0, 1)),

    opened_by_id             TEXT NOT NULL,
    opened_by_role           TEXT NOT NULL,
    opened_at                TEXT NOT NULL,
    updated_at               TEXT NOT NULL,
    respond_by               TEXT,

    -- The sealed evidence, verbatim in its canonical form, and the digest taken at opening.
    evidence_canonical       TEXT NOT NULL,
    evidence_digest          TEXT NOT NULL,
    -- The hash of the last timeline entry, so that dropping entries is detectable.
    timeline_head            TEXT NOT NULL,

    -- The provider's response. remedy_proposed tells "no remedy" from an empty one.
    response_at              TEXT,
    response_by_id           TEXT,
    response_by_role         TEXT,
    response_notes           TEXT,
    remedy_proposed          INTEGER CHECK (remedy_proposed IN (0, 1)),
    remedy_amount            TEXT,
    makegood_start           TEXT,
    makegood_end             TEXT,

    -- The opener's reply.
    reply_at                 TEXT,
    reply_by_id              TEXT,
    reply_by_role            TEXT,
    reply_notes              TEXT,
    reply_decision           TEXT,

    -- The resolution.
    resolution_outcome       TEXT,
    settled_amount           TEXT,
    credit_note_id           TEXT,
    makegood_campaign_id     TEXT,
    settlement_adjustment_id TEXT,
    resolved_by_id           TEXT,
    resolved_by_role         TEXT,
    resolved_at              TEXT,
    resolution_notes         TEXT,

    CHECK ((claim_tax IS NULL) = (claim_credit IS NULL))
) STRICT;

-- Listing: newest first within a tenant, optionally narrowed by one filter.
CREATE INDEX disputes_by_tenant ON disputes (tenant, id);
CREATE INDEX disputes_by_status ON disputes (tenant, status, id);
CREATE INDEX disputes_by_kind ON disputes (tenant, subject_kind, id);
CREATE INDEX disputes_by_opened_at ON disputes (tenant, opened_at);
-- These two also serve the duplicate check of delivery subjects.
CREATE INDEX disputes_by_campaign ON disputes (tenant, campaign_id, id) WHERE campaign_id IS NOT NULL;
CREATE INDEX disputes_by_account ON disputes (tenant, account_id, id) WHERE account_id IS NOT NULL;

-- At most one open dispute per invoice and per bill item. The store checks this (and the
-- delivery rule, which no index can express) inside a write transaction before inserting;
-- these indexes are the defence in depth. The status list mirrors `Status::is_final`.
CREATE UNIQUE INDEX disputes_one_open_per_invoice ON disputes (tenant, invoice)
    WHERE subject_kind = 'invoice' AND status NOT IN ('resolved', 'withdrawn', 'expired');
CREATE UNIQUE INDEX disputes_one_open_per_bill_item ON disputes (tenant, item_id)
    WHERE subject_kind = 'bill_item' AND status NOT IN ('resolved', 'withdrawn', 'expired');

-- The screens of a delivery subject, in the order given.
CREATE TABLE dispute_screens (
    dispute_id INTEGER NOT NULL REFERENCES disputes (id),
    screen_id  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (dispute_id, position),
    UNIQUE (dispute_id, screen_id)
) STRICT;

-- The append-only, hash-chained history; one row per entry. A dispute's version equals its
-- number of entries.
CREATE TABLE timeline_entries (
    dispute_id INTEGER NOT NULL REFERENCES disputes (id),
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    at         TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    kind       TEXT NOT NULL,
    notes      TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (dispute_id, seq)
) STRICT, WITHOUT ROWID;
