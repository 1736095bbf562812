-- Every notification mail the SMTP relay accepted: one row per event and recipient, so a retry
-- of an email job writes only to the recipients without a row here, and a dispute can list what
-- was sent about it (the invoice contract's `emails`).
CREATE TABLE sent_emails (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant     TEXT    NOT NULL REFERENCES tenants (slug),
    dispute_id INTEGER NOT NULL REFERENCES disputes (id),
    event_id   TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    template   TEXT    NOT NULL,
    sent_at    TEXT    NOT NULL,
    UNIQUE (event_id, recipient)
);

CREATE INDEX sent_emails_by_dispute ON sent_emails (tenant, dispute_id, sent_at, id);
