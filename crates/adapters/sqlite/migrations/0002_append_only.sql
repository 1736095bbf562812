-- The sealed evidence and the timeline are append-only: the engine never updates or deletes them.
-- These triggers make a casual edit (a mistaken UPDATE in a console) fail loudly. Someone who
-- drops them can still edit history, which is why `Dispute::verify` recomputes the hash chain.
CREATE TRIGGER evidence_is_sealed
BEFORE UPDATE OF evidence_canonical, evidence_digest ON disputes
BEGIN
    SELECT RAISE(ABORT, 'the evidence of a dispute is sealed');
END;

CREATE TRIGGER timeline_entries_are_never_updated
BEFORE UPDATE ON timeline_entries
BEGIN
    SELECT RAISE(ABORT, 'the timeline is append-only');
END;

CREATE TRIGGER timeline_entries_are_never_deleted
BEFORE DELETE ON timeline_entries
BEGIN
    SELECT RAISE(ABORT, 'the timeline is append-only');
END;
