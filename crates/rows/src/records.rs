//! Row → record for the smaller tables both stores share: idempotency keys, desk tickets,
//! tenants' deadline policies, sent mail, due deadlines and the operator's counts. Like the
//! dispute mapping of [`super`], each reads a row through [`StoredRow`], so a store keeps only its
//! SQL text and its column types.

use chrono::Duration;
use disputes_domain::{ActorId, DisputeId, DisputePolicy, Status, TenantId, Timestamp, Version};

use crate::{corrupt, required, Fields, StoredRow};
use disputes_ports::idempotency::{Fingerprint, StoredAnswer, StoredKey};
use disputes_ports::{
    DueDeadline, OutboxDepth, SentEmail, Sink, StoreError, Ticket, TicketStatus, Webhook,
    WebhookEvents, WebhookLabel, WebhookUrl,
};

/// The columns of `idempotency_keys` that [`stored_key_from_row`] reads.
pub const IDEMPOTENCY_KEY_COLUMNS: &str =
    "fingerprint, created_at, lease_until, dispute_id, dispute_version, webhook_id, answer";

/// Row → key for one `idempotency_keys` row (see [`IDEMPOTENCY_KEY_COLUMNS`]). An effect is
/// only one when both its dispute and its version are set.
pub fn stored_key_from_row(row: &(impl StoredRow + ?Sized)) -> Result<StoredKey, StoreError> {
    let f = Fields(row);
    let effect = match (row.integer("dispute_id")?, row.integer("dispute_version")?) {
        (Some(dispute), Some(version)) => Some((
            DisputeId::new(dispute).map_err(|e| corrupt("dispute_id", e))?,
            Version::new(version).map_err(|e| corrupt("dispute_version", e))?,
        )),
        _ => None,
    };
    Ok(StoredKey {
        fingerprint: Fingerprint::from_stored(f.text("fingerprint")?),
        created_at: f.time("created_at")?,
        lease_until: f.time("lease_until")?,
        effect,
        subscription: row.integer("webhook_id")?,
        answer: row.bytes("answer")?.map(StoredAnswer::new),
    })
}

/// The columns of `freshdesk_tickets` that [`ticket_from_row`] reads.
pub const TICKET_COLUMNS: &str = "dispute_id, ticket_id, url, status, created_at, updated_at";

/// The codes a ticket's status is stored as (`tickets.status`). They are Freshdesk's numbers,
/// as the first stores wrote them; the column keeps them whatever a desk numbers.
const TICKET_STATUS_CODES: [(TicketStatus, i32); 4] = [
    (TicketStatus::Open, 2),
    (TicketStatus::Pending, 3),
    (TicketStatus::Resolved, 4),
    (TicketStatus::Closed, 5),
];

/// The stored code of `status`.
pub fn ticket_status_code(status: TicketStatus) -> i32 {
    TICKET_STATUS_CODES
        .iter()
        .find(|(known, _)| *known == status)
        .map_or(2, |(_, code)| *code)
}

/// The status stored as `code`; `None` for a code no status is stored as.
fn ticket_status(code: i64) -> Option<TicketStatus> {
    TICKET_STATUS_CODES
        .iter()
        .find(|(_, known)| i64::from(*known) == code)
        .map(|(status, _)| *status)
}

/// Row → ticket for one `freshdesk_tickets` row of `tenant` (see [`TICKET_COLUMNS`]).
pub fn ticket_from_row(
    tenant: &TenantId,
    row: &(impl StoredRow + ?Sized),
) -> Result<Ticket, StoreError> {
    let f = Fields(row);
    let status = required("status", row.small_integer("status")?)?;
    Ok(Ticket {
        tenant: tenant.clone(),
        dispute: DisputeId::new(f.integer("dispute_id")?).map_err(|e| corrupt("dispute_id", e))?,
        id: f.integer("ticket_id")?,
        url: f.text("url")?,
        status: ticket_status(status)
            .ok_or_else(|| corrupt("status", format!("unknown ticket status {status}")))?,
        created_at: f.time("created_at")?,
        updated_at: f.time("updated_at")?,
    })
}

/// The columns of `tenant_policies` that [`policy_from_row`] reads.
pub const POLICY_COLUMNS: &str = "respond_within_secs, on_expiry, remind_before_secs";

/// Row → policy for one `tenant_policies` row (see [`POLICY_COLUMNS`]).
pub fn policy_from_row(row: &(impl StoredRow + ?Sized)) -> Result<DisputePolicy, StoreError> {
    let f = Fields(row);
    let grant_on_expiry = match f.text("on_expiry")?.as_str() {
        "granted" => true,
        "denied" => false,
        other => return Err(corrupt("on_expiry", other)),
    };
    DisputePolicy::new(
        Duration::seconds(f.integer("respond_within_secs")?),
        grant_on_expiry,
        Duration::seconds(f.integer("remind_before_secs")?),
    )
    .map_err(|e| corrupt("tenant_policies", e))
}

/// The columns of `sent_emails` that [`sent_email_from_row`] reads.
pub const SENT_EMAIL_COLUMNS: &str = "dispute_id, event_id, recipient, subject, template, sent_at";

/// Row → record for one `sent_emails` row of `tenant` (see [`SENT_EMAIL_COLUMNS`]).
pub fn sent_email_from_row(
    tenant: &TenantId,
    row: &(impl StoredRow + ?Sized),
) -> Result<SentEmail, StoreError> {
    let f = Fields(row);
    Ok(SentEmail {
        tenant: tenant.clone(),
        dispute: DisputeId::new(f.integer("dispute_id")?)
            .map_err(|e| corrupt("sent_emails.dispute_id", e))?,
        event: f.text("event_id")?.parse()?,
        recipient: f.text("recipient")?,
        subject: f.text("subject")?,
        template: f.text("template")?,
        sent_at: f.time("sent_at")?,
    })
}

/// How far ahead of `now` a deadline may lie and still be due, for a reminder: the longest
/// reminder window of any tenant (`longest_remind_secs`, none without policies) or the default
/// policy's, whichever is longer. A store reads no deadline beyond it.
pub fn deadline_horizon(now: Timestamp, longest_remind_secs: Option<i64>) -> Timestamp {
    let default_remind = DisputePolicy::default().remind_before.num_seconds();
    now + Duration::seconds(longest_remind_secs.unwrap_or(0).max(default_remind))
}

/// Row → deadline for one row of a store's due-deadline query (`tenant, id`).
pub fn due_deadline_from_row(row: &(impl StoredRow + ?Sized)) -> Result<DueDeadline, StoreError> {
    let f = Fields(row);
    Ok(DueDeadline {
        tenant: f.parsed("tenant", TenantId::new)?,
        id: DisputeId::new(f.integer("id")?).map_err(|e| corrupt("id", e))?,
    })
}

/// Row → count for one row of disputes grouped by status (`status, n`).
pub fn status_count_from_row(row: &(impl StoredRow + ?Sized)) -> Result<(Status, u64), StoreError> {
    let f = Fields(row);
    let status = f.parsed("status", |s| s.parse::<Status>())?;
    Ok((status, u64::try_from(f.integer("n")?).unwrap_or_default()))
}

/// Row → depth for the outbox's one aggregate row (`pending, due`).
pub fn outbox_depth_from_row(row: &(impl StoredRow + ?Sized)) -> Result<OutboxDepth, StoreError> {
    let f = Fields(row);
    Ok(OutboxDepth {
        pending: u64::try_from(f.integer("pending")?).unwrap_or_default(),
        due: u64::try_from(f.integer("due")?).unwrap_or_default(),
    })
}

/// Row → count for one row of dead-lettered jobs grouped by sink (`sink, n`).
pub fn dead_letter_count_from_row(
    row: &(impl StoredRow + ?Sized),
) -> Result<(Sink, u64), StoreError> {
    let f = Fields(row);
    let sink = f.text("sink")?.parse::<Sink>()?;
    Ok((sink, u64::try_from(f.integer("n")?).unwrap_or_default()))
}

/// `json_build_object`'s (PostgreSQL) or `json_object`'s (SQLite) arguments for `columns` of the
/// table aliased `alias`: each name, then its value. The stores aggregate a dispute's children
/// with it (see [`crate::CHILD_COLUMNS`]).
pub fn json_object_arguments(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|column| format!("'{column}', {alias}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns of `webhooks` that [`webhook_from_row`] reads.
pub const WEBHOOK_COLUMNS: &str = "id, url, secret, events, label, developer_id, created_at";

/// Row → webhook for one `webhooks` row of `tenant` (see [`WEBHOOK_COLUMNS`]). A row from
/// before migration 0012 has every event (`'*'`) and neither label nor developer.
pub fn webhook_from_row(
    tenant: &TenantId,
    row: &(impl StoredRow + ?Sized),
) -> Result<Webhook, StoreError> {
    let f = Fields(row);
    Ok(Webhook {
        id: f.integer("id")?,
        tenant: tenant.clone(),
        url: WebhookUrl::stored(f.text("url")?),
        events: WebhookEvents::from_stored(&f.text("events")?)?,
        label: f.opt_parsed("label", WebhookLabel::new)?,
        developer: f.opt_parsed("developer_id", ActorId::new)?,
        secret: f.text("secret")?,
        created_at: f.time("created_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::row;
    use crate::{Field, FieldRow};

    fn key_row(extra: &[(&str, Field)]) -> FieldRow {
        let mut fields = vec![
            ("fingerprint", Field::Text("ab".into())),
            (
                "created_at",
                Field::Text("2026-03-01T12:00:00.000000Z".into()),
            ),
            (
                "lease_until",
                Field::Text("2026-03-01T12:01:00.000000Z".into()),
            ),
        ];
        fields.extend(extra.iter().cloned());
        row(&fields)
    }

    #[test]
    fn a_key_has_an_effect_only_with_both_halves() {
        let half = stored_key_from_row(&key_row(&[("dispute_id", Field::Integer(7))])).unwrap();
        assert_eq!(half.effect, None);
        assert_eq!(half.answer, None);
        let effected = stored_key_from_row(&key_row(&[
            ("dispute_id", Field::Integer(7)),
            ("dispute_version", Field::Integer(2)),
        ]))
        .unwrap();
        let (dispute, version) = effected.effect.unwrap();
        assert_eq!((dispute.get(), version.get()), (7, 2));
    }

    #[test]
    fn refused_values_are_corrupt_data() {
        let negative = key_row(&[
            ("dispute_id", Field::Integer(7)),
            ("dispute_version", Field::Integer(-1)),
        ]);
        assert!(matches!(
            stored_key_from_row(&negative),
            Err(StoreError::Corrupt(_))
        ));
        let policy = row(&[
            ("respond_within_secs", Field::Integer(60)),
            ("on_expiry", Field::Text("maybe".into())),
            ("remind_before_secs", Field::Integer(0)),
        ]);
        assert!(matches!(
            policy_from_row(&policy),
            Err(StoreError::Corrupt(_))
        ));
        let tenant = TenantId::new("acme").unwrap();
        let ticket = row(&[
            ("dispute_id", Field::Integer(1)),
            ("ticket_id", Field::Integer(9)),
            ("url", Field::Text("https://desk.example/9".into())),
            ("status", Field::Integer(99)),
            ("created_at", Field::Text("2026-03-01T12:00:00Z".into())),
            ("updated_at", Field::Text("2026-03-01T12:00:00Z".into())),
        ]);
        assert!(matches!(
            ticket_from_row(&tenant, &ticket),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn the_deadline_horizon_is_the_longest_reminder_window() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .unwrap()
            .to_utc();
        let default = DisputePolicy::default().remind_before;
        assert_eq!(deadline_horizon(now, None), now + default);
        assert_eq!(deadline_horizon(now, Some(0)), now + default);
        let longer = default.num_seconds() + 3600;
        assert_eq!(
            deadline_horizon(now, Some(longer)),
            now + Duration::seconds(longer)
        );
    }

    #[test]
    fn json_object_arguments_pair_each_name_with_its_column() {
        assert_eq!(
            json_object_arguments("t", "seq, at"),
            "'seq', t.seq, 'at', t.at"
        );
    }
}
