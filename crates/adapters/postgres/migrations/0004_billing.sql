-- The billing contract (SPEC §4): the rest of a billing claim's terms, the reason code a
-- settlement names, and each tenant's reason table. Names as in the embedded store.

-- A billing claim's terms beyond tax and credit; NULL on other disputes. A billing claim stored
-- before this migration has no note status and reads as not set.
ALTER TABLE disputes
    ADD COLUMN claim_reason_domain_id      INTEGER,
    ADD COLUMN claim_reason_id             INTEGER,
    ADD COLUMN claim_note_status           TEXT,
    ADD COLUMN claim_note_amount           NUMERIC,
    ADD COLUMN claim_effective             TIMESTAMPTZ,
    -- The reason code of a settlement, when it named one.
    ADD COLUMN resolution_reason_domain_id INTEGER,
    ADD COLUMN resolution_reason_id        INTEGER,
    ADD CHECK ((claim_reason_domain_id IS NULL) = (claim_reason_id IS NULL)),
    ADD CHECK ((resolution_reason_domain_id IS NULL) = (resolution_reason_id IS NULL));

-- Each tenant's reason codes (BRM `domainId` + `reasonId`).
CREATE TABLE reason_codes (
    tenant      TEXT NOT NULL REFERENCES tenants (slug),
    domain_id   INTEGER NOT NULL CHECK (domain_id >= 1),
    reason_id   INTEGER NOT NULL CHECK (reason_id >= 1),
    description TEXT NOT NULL,
    PRIMARY KEY (tenant, domain_id, reason_id)
);

-- The tenants whose reason table has been seeded with the defaults: that happens once in a
-- tenant's life, so reasons a tenant removes later stay removed.
CREATE TABLE seeded_reason_tables (
    tenant TEXT PRIMARY KEY REFERENCES tenants (slug)
);
