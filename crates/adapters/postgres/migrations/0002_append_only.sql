-- The sealed evidence and the timeline are append-only: the engine never updates or deletes them.
-- These triggers make a casual edit (a mistaken UPDATE in a console) fail loudly. Someone who
-- drops them can still edit history, which is why `Dispute::verify` recomputes the hash chain.
--
-- They fire once per statement, so a statement that would touch history fails even when it
-- happens to match no row. The trigger names are the embedded store's.

CREATE FUNCTION refuse_history_edit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$;

CREATE TRIGGER evidence_is_sealed
BEFORE UPDATE OF evidence_canonical, evidence_digest ON disputes
FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_edit('the evidence of a dispute is sealed');

CREATE TRIGGER timeline_entries_are_never_updated
BEFORE UPDATE ON timeline_entries
FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_edit('the timeline is append-only');

CREATE TRIGGER timeline_entries_are_never_deleted
BEFORE DELETE ON timeline_entries
FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_edit('the timeline is append-only');

-- TRUNCATE fires no DELETE trigger; SQLite has no TRUNCATE, so this one has no twin there.
CREATE TRIGGER timeline_entries_are_never_truncated
BEFORE TRUNCATE ON timeline_entries
FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_edit('the timeline is append-only');
