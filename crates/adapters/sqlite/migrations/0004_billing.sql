-- The billing contract (SPEC §4): the rest of a billing claim's terms, the reason code a
-- settlement names, and each tenant's reason table.

-- A billing claim's terms beyond tax and credit; NULL on other disputes. The reason code is two
-- numbers, both set or both NULL (the store checks this on reading). A billing claim stored
-- before this migration has no note status and reads as not set.
ALTER TABLE disputes ADD COLUMN claim_reason_domain_id INTEGER;
ALTER TABLE disputes ADD COLUMN claim_reason_id INTEGER;
ALTER TABLE disputes ADD COLUMN claim_note_status TEXT;
-- Decimal text, like every amount here, so its scale survives.
ALTER TABLE disputes ADD COLUMN claim_note_amount TEXT;
ALTER TABLE disputes ADD COLUMN claim_effective TEXT;

-- The reason code of a settlement, when it named one.
ALTER TABLE disputes ADD COLUMN resolution_reason_domain_id INTEGER;
ALTER TABLE disputes ADD COLUMN resolution_reason_id INTEGER;

-- Each tenant's reason codes (BRM `domainId` + `reasonId`).
CREATE TABLE reason_codes (
    tenant      TEXT NOT NULL REFERENCES tenants (slug),
    domain_id   INTEGER NOT NULL CHECK (domain_id BETWEEN 1 AND 2147483647),
    reason_id   INTEGER NOT NULL CHECK (reason_id BETWEEN 1 AND 2147483647),
    description TEXT NOT NULL,
    PRIMARY KEY (tenant, domain_id, reason_id)
) STRICT, WITHOUT ROWID;

-- The tenants whose reason table has been seeded with the defaults: that happens once in a
-- tenant's life, so reasons a tenant removes later stay removed.
CREATE TABLE seeded_reason_tables (
    tenant TEXT NOT NULL PRIMARY KEY REFERENCES tenants (slug)
) STRICT;
