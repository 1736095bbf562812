//! The [`SentEmails`](disputes_ports::SentEmails) port on `sent_emails`.

use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{SentEmail, StoreError};

use super::dispute_ids;
use crate::{sent_email_from_row, Sql};

/// Records `email` as sent, once per event and recipient. `sql` inserts (`tenant, dispute_id,
/// event_id, recipient, subject, template, sent_at`), doing nothing when the pair is recorded.
pub async fn record_sent(db: &impl Sql, sql: &str, email: &SentEmail) -> Result<(), StoreError> {
    let params = vec![
        email.tenant.as_str().into(),
        email.dispute.get().into(),
        email.event.as_str().into(),
        (&email.recipient).into(),
        (&email.subject).into(),
        (&email.template).into(),
        email.sent_at.into(),
    ];
    db.execute(sql, params).await?;
    Ok(())
}

/// The mail sent about `disputes`. `sql` selects
/// [`SENT_EMAIL_COLUMNS`](crate::SENT_EMAIL_COLUMNS) by `tenant` and the list of dispute ids (a
/// [`Value::Integers`](crate::Value)), in the order they were sent.
pub async fn sent_for(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
    disputes: &[DisputeId],
) -> Result<Vec<SentEmail>, StoreError> {
    if disputes.is_empty() {
        return Ok(Vec::new());
    }
    db.fetch_all(sql, vec![tenant.as_str().into(), dispute_ids(disputes)])
        .await?
        .iter()
        .map(|row| sent_email_from_row(tenant, row))
        .collect()
}
