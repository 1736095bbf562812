-- Billing Care's bill and event disputes beside its item disputes: what a billing dispute is
-- about ('item', 'bill', 'events'; NULL on billing rows stored before, which are all items),
-- an event dispute's events as a JSON array of text in the order given, whether its amount is
-- of their total, and the percentage an opener may state beside the amount (decimal text).
ALTER TABLE disputes ADD COLUMN billing_target TEXT
    CHECK (billing_target IN ('item', 'bill', 'events'));
ALTER TABLE disputes ADD COLUMN event_ids TEXT CHECK (event_ids IS NULL OR json_valid(event_ids));
ALTER TABLE disputes ADD COLUMN events_apply_to_total INTEGER
    CHECK (events_apply_to_total IN (0, 1));
ALTER TABLE disputes ADD COLUMN claim_percent TEXT;

-- What Billing Care sends beyond the terms, kept and shown back: the BRM resource (balance) to
-- adjust, what the action affects, the note's type, sub-type and header, and who wrote each
-- comment (one record per comment, in order, its fields separated by U+001F).
ALTER TABLE disputes ADD COLUMN brm_resource_id INTEGER;
ALTER TABLE disputes ADD COLUMN brm_action_affects TEXT;
ALTER TABLE disputes ADD COLUMN note_type TEXT;
ALTER TABLE disputes ADD COLUMN note_sub_type TEXT;
ALTER TABLE disputes ADD COLUMN note_header TEXT;
ALTER TABLE disputes ADD COLUMN comment_authors TEXT CHECK (comment_authors IS NULL OR json_valid(comment_authors));

-- At most one open dispute per bill, as per bill item; the store checks first (with the event
-- rule, which no index can express: an event in common on the same account), this is the
-- defence in depth. Item disputes that name the bill in their notes do not count.
CREATE UNIQUE INDEX disputes_one_open_per_bill ON disputes (tenant, bill_id)
    WHERE subject_kind = 'bill_item' AND billing_target = 'bill'
      AND status NOT IN ('resolved', 'withdrawn', 'expired');
