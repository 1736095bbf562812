-- The delivery vendor's lifecycle (investigating, evidence gathered, escalated: new status names
-- only, kept as text like the others), where each party stood when it answered, and the
-- vendor's resolution kinds. Responses and replies stored before carry no stance; a reply's is
-- then that of its decision. Resolutions stored before have no kind.
ALTER TABLE disputes ADD COLUMN response_stance TEXT;
ALTER TABLE disputes ADD COLUMN reply_stance TEXT;
ALTER TABLE disputes ADD COLUMN resolution_kind TEXT;
-- A settlement adjustment's changes as `party=cents`, comma-separated, in the order given.
ALTER TABLE disputes ADD COLUMN resolution_adjustments TEXT;
ALTER TABLE disputes ADD COLUMN original_application_id TEXT;
-- Whether the settlement system wrote the override (its id is settlement_adjustment_id), and
-- if not, why not; both NULL for any other resolution.
ALTER TABLE disputes ADD COLUMN override_applied INTEGER CHECK (override_applied IN (0, 1));
ALTER TABLE disputes ADD COLUMN override_skipped TEXT;
