-- Each tenant's webhook endpoints, and which endpoint already took which event: a retry of a
-- webhook job goes only to the endpoints without a row here.
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant     TEXT NOT NULL REFERENCES tenants (slug),
    url        TEXT NOT NULL,
    -- The HMAC key of the signatures; signing needs it in plaintext.
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE INDEX webhooks_by_tenant ON webhooks (tenant, id);

CREATE TABLE webhook_deliveries (
    webhook_id   INTEGER NOT NULL REFERENCES webhooks (id),
    event_id     TEXT    NOT NULL,
    delivered_at TEXT    NOT NULL,
    PRIMARY KEY (webhook_id, event_id)
);
