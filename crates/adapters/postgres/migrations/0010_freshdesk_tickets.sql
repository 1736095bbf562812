-- The Freshdesk ticket of each dispute, at most one: later events add notes to it, and the invoice
-- contract shows it (`freshDeskTicket`). `status` is Freshdesk's number (2 open .. 5 closed).
CREATE TABLE freshdesk_tickets (
    tenant     TEXT        NOT NULL REFERENCES tenants (slug),
    dispute_id BIGINT      NOT NULL REFERENCES disputes (id),
    ticket_id  BIGINT      NOT NULL,
    url        TEXT        NOT NULL,
    status     SMALLINT    NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, dispute_id)
);
