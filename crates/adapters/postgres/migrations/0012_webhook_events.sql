-- What each endpoint subscribed to, and the name and developer a registration through the
-- delivery contract gives it. `events` lists event names separated by commas; endpoints
-- registered before this migration keep receiving every event ('*'). `label` and
-- `developer_id` are NULL for an endpoint added on the command line.
ALTER TABLE webhooks ADD COLUMN events TEXT NOT NULL DEFAULT '*';
ALTER TABLE webhooks ADD COLUMN label TEXT;
ALTER TABLE webhooks ADD COLUMN developer_id TEXT;
