-- Deadlines that act: each tenant's policy, and what the deadline scheduler needs to find the
-- disputes whose reminder or expiry is due, across tenants, without reading them all.

-- A tenant's deadline policy; a tenant without a row has the engine's default. Durations are
-- whole seconds.
CREATE TABLE tenant_policies (
    tenant              TEXT NOT NULL PRIMARY KEY REFERENCES tenants (slug),
    respond_within_secs INTEGER NOT NULL CHECK (respond_within_secs >= 1),
    -- How an expired dispute is settled: nothing, or the full claim.
    on_expiry           TEXT NOT NULL CHECK (on_expiry IN ('denied', 'granted')),
    -- 0 sends no reminders.
    remind_before_secs  INTEGER NOT NULL
        CHECK (remind_before_secs >= 0 AND remind_before_secs < respond_within_secs)
) STRICT;

-- The respond_by that the dispute's latest reminder was for. It is derived from the timeline
-- (the trigger below keeps it), never written by the engine: the domain decides from the
-- timeline itself whether a deadline had its reminder; this only lets the scheduler's query
-- pass over disputes that had theirs.
ALTER TABLE disputes ADD COLUMN reminded_for TEXT;

CREATE TRIGGER reminder_marks_its_deadline
AFTER INSERT ON timeline_entries
WHEN NEW.kind = 'reminder'
BEGIN
    UPDATE disputes SET reminded_for = respond_by WHERE id = NEW.dispute_id;
END;

-- The scheduler's query walks non-final disputes by deadline, earliest first. The status list
-- mirrors `Status::is_final`.
CREATE INDEX disputes_by_respond_by ON disputes (respond_by)
    WHERE respond_by IS NOT NULL AND status NOT IN ('resolved', 'withdrawn', 'expired');
