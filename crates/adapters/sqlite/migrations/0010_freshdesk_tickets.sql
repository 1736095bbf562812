-- The Freshdesk ticket of each dispute, at most one: later events add notes to it, and the invoice
-- contract shows it (`freshDeskTicket`). `status` is Freshdesk's number (2 open .. 5 closed).
CREATE TABLE freshdesk_tickets (
    tenant     TEXT    NOT NULL REFERENCES tenants (slug),
    dispute_id INTEGER NOT NULL REFERENCES disputes (id),
    ticket_id  INTEGER NOT NULL,
    url        TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (tenant, dispute_id)
);
