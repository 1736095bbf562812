//! Between the domain and rows: [`dispute_columns`] turns a dispute into column values,
//! [`dispute_from_row`] turns a row (plus its screens and timeline) back into a dispute; the same
//! for timeline entries. Both directions live here, side by side, so a column is added in one
//! file.

use std::fmt::Display;

use chrono::{Duration, SubsecRound};
use disputes_domain::{
    Actor, ActorId, Attachment, BillItemSubject, BillingTerms, Claim, CollectionHold,
    DeliverySubject, Dispute, DisputeId, DisputeParts, EvidenceBundle, InvoiceSubject, Message,
    NoteStatus, OpenerReply, Period, Quantity, ReasonCode, Remedy, Resolution, Response, Subject,
    SubjectKind, TenantId, TimelineEntry, Timestamp, Unit, Version,
};
use disputes_ports::StoreError;
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, QueryBuilder, Row, Type};

use crate::error::{corrupt, store_error};

/// A range-filter bound as stored precision. A caller's bound may carry nanoseconds, which
/// PostgreSQL would truncate; rounding up to the next whole microsecond instead keeps both
/// `stored >= bound` and `stored < bound` exact, since every stored instant is a whole
/// microsecond.
pub(crate) fn bound(at: Timestamp) -> Timestamp {
    let truncated = at.trunc_subsecs(6);
    if truncated < at {
        truncated + Duration::microseconds(1)
    } else {
        truncated
    }
}

/// One bound value of a `disputes` row.
#[derive(Debug)]
pub(crate) enum Value {
    Text(Option<String>),
    BigInt(Option<i64>),
    Integer(Option<i32>),
    Bool(Option<bool>),
    Time(Option<Timestamp>),
    Decimal(Option<Decimal>),
}

impl Value {
    /// Appends a placeholder to `query` and binds this value to it.
    pub(crate) fn push_bind(self, query: &mut QueryBuilder<'_, Postgres>) {
        match self {
            Value::Text(v) => query.push_bind(v),
            Value::BigInt(v) => query.push_bind(v),
            Value::Integer(v) => query.push_bind(v),
            Value::Bool(v) => query.push_bind(v),
            Value::Time(v) => query.push_bind(v),
            Value::Decimal(v) => query.push_bind(v),
        };
    }
}

/// Named column values, in the storage form of each domain type. Every setter takes a plain
/// value or an `Option` of one; `None` is NULL.
#[derive(Debug, Default)]
pub(crate) struct Values(Vec<(&'static str, Value)>);

impl IntoIterator for Values {
    type Item = (&'static str, Value);
    type IntoIter = std::vec::IntoIter<Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Values {
    fn text<'a>(&mut self, column: &'static str, value: impl Into<Option<&'a str>>) {
        let value = value.into().map(str::to_owned);
        self.0.push((column, Value::Text(value)));
    }

    fn time(&mut self, column: &'static str, at: impl Into<Option<Timestamp>>) {
        self.0.push((column, Value::Time(at.into())));
    }

    fn decimal(&mut self, column: &'static str, amount: impl Into<Option<Decimal>>) {
        self.0.push((column, Value::Decimal(amount.into())));
    }

    fn bigint(&mut self, column: &'static str, value: impl Into<Option<i64>>) {
        self.0.push((column, Value::BigInt(value.into())));
    }

    fn flag(&mut self, column: &'static str, flag: Option<bool>) {
        self.0.push((column, Value::Bool(flag)));
    }

    fn actor(&mut self, prefix: Prefix, actor: Option<&Actor>) {
        self.text(prefix.id, actor.map(|a| a.id.as_str()));
        self.text(prefix.role, actor.map(|a| a.role.as_str()));
    }

    fn reason(&mut self, columns: ReasonColumns, code: Option<ReasonCode>) {
        let (domain_id, reason_id) = (
            code.map(ReasonCode::domain_id),
            code.map(ReasonCode::reason_id),
        );
        self.0.push((columns.domain_id, Value::Integer(domain_id)));
        self.0.push((columns.reason_id, Value::Integer(reason_id)));
    }
}

/// The two `INTEGER` columns that hold one reason code.
#[derive(Debug, Clone, Copy)]
struct ReasonColumns {
    domain_id: &'static str,
    reason_id: &'static str,
}

const CLAIM_REASON: ReasonColumns = ReasonColumns {
    domain_id: "claim_reason_domain_id",
    reason_id: "claim_reason_id",
};
const RESOLUTION_REASON: ReasonColumns = ReasonColumns {
    domain_id: "resolution_reason_domain_id",
    reason_id: "resolution_reason_id",
};

/// The `<prefix>_id` and `<prefix>_role` columns that hold one actor.
#[derive(Debug, Clone, Copy)]
struct Prefix {
    id: &'static str,
    role: &'static str,
}

const OPENED_BY: Prefix = Prefix {
    id: "opened_by_id",
    role: "opened_by_role",
};
const RESPONSE_BY: Prefix = Prefix {
    id: "response_by_id",
    role: "response_by_role",
};
const REPLY_BY: Prefix = Prefix {
    id: "reply_by_id",
    role: "reply_by_role",
};
const RESOLVED_BY: Prefix = Prefix {
    id: "resolved_by_id",
    role: "resolved_by_role",
};
const TIMELINE_ACTOR: Prefix = Prefix {
    id: "actor_id",
    role: "actor_role",
};

/// A dispute as named column values of its `disputes` row.
#[derive(Debug)]
pub(crate) struct Columns {
    /// Written once, by `create`: what was opened never changes.
    pub(crate) fixed: Values,
    /// Written by `create` and rewritten by every `update`.
    pub(crate) state: Values,
}

/// Domain → row. Screens and timeline entries go to their own tables.
pub(crate) fn dispute_columns(d: &DisputeParts) -> Columns {
    let mut fixed = Values::default();
    fixed.text("tenant", d.tenant.as_str());
    fixed.text("subject_kind", d.subject.kind().as_str());
    match &d.subject {
        Subject::Delivery(s) => {
            fixed.text("campaign_id", s.campaign_id());
            fixed.text("substrate_id", s.substrate_id());
            fixed.time("period_start", s.period().start());
            fixed.time("period_end", s.period().end());
        }
        Subject::Invoice(s) => {
            fixed.text("invoice", s.invoice());
            fixed.text("customer_name", s.customer_name());
            fixed.text("customer_email", s.customer_email().as_str());
            fixed.text("category", s.category());
            fixed.text("locale", s.locale().as_str());
        }
        Subject::BillItem(s) => {
            fixed.text("item_id", s.item_id());
            fixed.text("account_id", s.account_id());
            fixed.text("bill_unit_id", s.bill_unit_id());
            fixed.text("bill_id", s.bill_id());
        }
    }
    fixed.decimal("claim_amount", d.claim.amount());
    fixed.text("claim_unit", d.claim.quantity.unit().as_str());
    fixed.text("claim_tax", d.claim.billing.map(|b| b.tax.as_str()));
    fixed.flag("claim_credit", d.claim.billing.map(|b| b.credit));
    let billing = d.claim.billing;
    fixed.reason(CLAIM_REASON, billing.and_then(|b| b.reason));
    fixed.text("claim_note_status", billing.map(|b| b.note_status.as_str()));
    fixed.decimal("claim_note_amount", billing.and_then(|b| b.note_amount));
    fixed.time("claim_effective", billing.and_then(|b| b.effective));
    fixed.actor(OPENED_BY, Some(&d.opened_by));
    fixed.time("opened_at", d.opened_at);
    fixed.text("evidence_canonical", d.evidence.canonical().as_str());
    fixed.text("evidence_digest", d.evidence_digest.to_hex().as_str());
    fixed.time("hold_until", d.collection_hold.map(|h| h.until));

    let mut state = Values::default();
    state.text("status", d.status.as_str());
    state.bigint("version", d.version.get());
    state.time("updated_at", d.updated_at);
    state.time("respond_by", d.respond_by);
    state.text("timeline_head", d.timeline_head.to_hex().as_str());
    state.time(
        "hold_released_at",
        d.collection_hold.and_then(|h| h.released_at),
    );

    let response = d.response.as_ref();
    let remedy = response.and_then(|r| r.remedy.as_ref());
    let window = remedy.and_then(|r| r.makegood_window);
    state.time("response_at", response.map(|r| r.at));
    state.actor(RESPONSE_BY, response.map(|r| &r.by));
    state.text("response_notes", response.map(|r| r.notes.as_str()));
    state.flag("remedy_proposed", response.map(|r| r.remedy.is_some()));
    state.decimal("remedy_amount", remedy.and_then(|r| r.amount));
    state.time("makegood_start", window.map(|w| w.start()));
    state.time("makegood_end", window.map(|w| w.end()));

    let reply = d.reply.as_ref();
    state.time("reply_at", reply.map(|r| r.at));
    state.actor(REPLY_BY, reply.map(|r| &r.by));
    state.text("reply_notes", reply.map(|r| r.notes.as_str()));
    state.text("reply_decision", reply.map(|r| r.decision.as_str()));

    let resolution = d.resolution.as_ref();
    state.text("resolution_outcome", resolution.map(|r| r.outcome.as_str()));
    state.decimal("settled_amount", resolution.map(|r| r.settled_amount));
    state.text(
        "credit_note_id",
        resolution.and_then(|r| r.credit_note_id.as_deref()),
    );
    state.text(
        "makegood_campaign_id",
        resolution.and_then(|r| r.makegood_campaign_id.as_deref()),
    );
    state.text(
        "settlement_adjustment_id",
        resolution.and_then(|r| r.settlement_adjustment_id.as_deref()),
    );
    state.actor(RESOLVED_BY, resolution.map(|r| &r.by));
    state.time("resolved_at", resolution.map(|r| r.at));
    state.text("resolution_notes", resolution.map(|r| r.notes.as_str()));
    state.reason(RESOLUTION_REASON, resolution.and_then(|r| r.reason));

    Columns { fixed, state }
}

/// The screens of a delivery subject, in order; none for other subjects.
pub(crate) fn screen_ids(subject: &Subject) -> &[String] {
    match subject {
        Subject::Delivery(s) => s.screen_ids(),
        Subject::Invoice(_) | Subject::BillItem(_) => &[],
    }
}

/// Reads the columns of one row, reporting NULLs where a value is required and values the
/// domain refuses as corrupt data.
struct Fields<'r>(&'r PgRow);

impl Fields<'_> {
    fn opt<T>(&self, column: &str) -> Result<Option<T>, StoreError>
    where
        T: for<'v> Decode<'v, Postgres> + Type<Postgres>,
    {
        self.0.try_get(column).map_err(store_error)
    }

    fn req<T>(&self, column: &str) -> Result<T, StoreError>
    where
        T: for<'v> Decode<'v, Postgres> + Type<Postgres>,
    {
        self.opt(column)?.ok_or_else(|| corrupt(column, "is NULL"))
    }

    /// A text column the domain parses further (an id, an enum, a digest).
    fn opt_parsed<T, E: Display>(
        &self,
        column: &str,
        parse: impl FnOnce(String) -> Result<T, E>,
    ) -> Result<Option<T>, StoreError> {
        self.opt::<String>(column)?
            .map(|text| parse(text).map_err(|e| corrupt(column, e)))
            .transpose()
    }

    fn parsed<T, E: Display>(
        &self,
        column: &str,
        parse: impl FnOnce(String) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        self.opt_parsed(column, parse)?
            .ok_or_else(|| corrupt(column, "is NULL"))
    }

    fn actor(&self, columns: Prefix) -> Result<Actor, StoreError> {
        let id = self.parsed(columns.id, ActorId::new)?;
        let role = self.parsed(columns.role, |r| r.parse())?;
        Ok(Actor::new(id, role))
    }

    fn opt_reason(&self, columns: ReasonColumns) -> Result<Option<ReasonCode>, StoreError> {
        match (
            self.opt::<i32>(columns.domain_id)?,
            self.opt::<i32>(columns.reason_id)?,
        ) {
            (Some(domain), Some(reason)) => ReasonCode::new(domain.into(), reason.into())
                .map(Some)
                .map_err(|e| corrupt(columns.reason_id, e)),
            (None, None) => Ok(None),
            _ => Err(corrupt(
                columns.reason_id,
                "only one half of the reason code is set",
            )),
        }
    }

    /// The period in `start` and `end`, if any; `field` names it in domain errors.
    fn opt_period(
        &self,
        field: &'static str,
        start: &str,
        end: &str,
    ) -> Result<Option<Period>, StoreError> {
        match (self.opt(start)?, self.opt(end)?) {
            (Some(s), Some(e)) => Period::new(field, s, e)
                .map(Some)
                .map_err(|err| corrupt(end, err)),
            (None, None) => Ok(None),
            _ => Err(corrupt(end, "only one end of the period is set")),
        }
    }
}

/// Row → domain: a `disputes` row with its screens (in order) and its timeline (by seq).
/// Nothing is verified here; the service calls [`Dispute::verify`].
pub(crate) fn dispute_from_row(
    row: &PgRow,
    screens: Vec<String>,
    timeline: Vec<TimelineEntry>,
    messages: Vec<Message>,
) -> Result<Dispute, StoreError> {
    let f = Fields(row);
    let id = DisputeId::new(f.req("id")?).map_err(|e| corrupt("id", e))?;
    let subject = match f.parsed("subject_kind", |k| k.parse::<SubjectKind>())? {
        SubjectKind::Delivery => {
            let period = f
                .opt_period("period", "period_start", "period_end")?
                .ok_or_else(|| corrupt("period_start", "is NULL"))?;
            let subject = DeliverySubject::new(
                f.req::<String>("campaign_id")?,
                screens,
                f.opt("substrate_id")?,
                period,
            )
            .map_err(|e| corrupt("campaign_id", e))?;
            Subject::Delivery(subject)
        }
        SubjectKind::Invoice => Subject::Invoice(
            InvoiceSubject::new(
                f.req::<String>("invoice")?,
                f.req::<String>("customer_name")?,
                f.req::<String>("customer_email")?,
                f.req::<String>("category")?,
                f.req::<String>("locale")?,
            )
            .map_err(|e| corrupt("invoice", e))?,
        ),
        SubjectKind::BillItem => Subject::BillItem(
            BillItemSubject::new(
                f.req::<String>("item_id")?,
                f.req::<String>("account_id")?,
                f.opt("bill_unit_id")?,
                f.opt("bill_id")?,
            )
            .map_err(|e| corrupt("item_id", e))?,
        ),
    };
    let quantity = Quantity::new(f.req("claim_amount")?, f.parsed("claim_unit", Unit::new)?)
        .map_err(|e| corrupt("claim_amount", e))?;
    let billing = match f.opt_parsed("claim_tax", |t| t.parse())? {
        Some(tax) => Some(BillingTerms {
            tax,
            credit: f.req("claim_credit")?,
            reason: f.opt_reason(CLAIM_REASON)?,
            note_status: f
                .opt_parsed("claim_note_status", |s| s.parse())?
                .unwrap_or(NoteStatus::NotSet),
            note_amount: f.opt("claim_note_amount")?,
            effective: f.opt("claim_effective")?,
        }),
        None => None,
    };
    let response = match f.opt("response_at")? {
        Some(at) => Some(Response {
            at,
            by: f.actor(RESPONSE_BY)?,
            notes: f.req("response_notes")?,
            remedy: if f.req("remedy_proposed")? {
                Some(Remedy {
                    amount: f.opt("remedy_amount")?,
                    makegood_window: f.opt_period(
                        "makegoodWindow",
                        "makegood_start",
                        "makegood_end",
                    )?,
                })
            } else {
                None
            },
        }),
        None => None,
    };
    let reply = match f.opt("reply_at")? {
        Some(at) => Some(OpenerReply {
            at,
            by: f.actor(REPLY_BY)?,
            notes: f.req("reply_notes")?,
            decision: f.parsed("reply_decision", |d| d.parse())?,
        }),
        None => None,
    };
    let resolution = match f.opt_parsed("resolution_outcome", |o| o.parse())? {
        Some(outcome) => Some(Resolution {
            outcome,
            settled_amount: f.req("settled_amount")?,
            credit_note_id: f.opt("credit_note_id")?,
            makegood_campaign_id: f.opt("makegood_campaign_id")?,
            settlement_adjustment_id: f.opt("settlement_adjustment_id")?,
            reason: f.opt_reason(RESOLUTION_REASON)?,
            by: f.actor(RESOLVED_BY)?,
            at: f.req("resolved_at")?,
            notes: f.req("resolution_notes")?,
        }),
        None => None,
    };
    let parts = DisputeParts {
        tenant: f.parsed("tenant", TenantId::new)?,
        subject,
        claim: Claim { quantity, billing },
        opened_by: f.actor(OPENED_BY)?,
        opened_at: f.req("opened_at")?,
        updated_at: f.req("updated_at")?,
        evidence: f.parsed("evidence_canonical", |t| EvidenceBundle::from_canonical(&t))?,
        evidence_digest: f.parsed("evidence_digest", |h| h.parse())?,
        status: f.parsed("status", |s| s.parse())?,
        version: Version::new(f.req("version")?).map_err(|e| corrupt("version", e))?,
        respond_by: f.opt("respond_by")?,
        response,
        reply,
        resolution,
        timeline,
        timeline_head: f.parsed("timeline_head", |h| h.parse())?,
        messages,
        collection_hold: match f.opt("hold_until")? {
            Some(until) => Some(CollectionHold {
                until,
                released_at: f.opt("hold_released_at")?,
            }),
            None => None,
        },
    };
    Ok(Dispute::restore(id, parts))
}

/// Timeline entries column by column, to be bound as arrays and inserted with one `UNNEST`: one
/// statement text for any number of entries, so PostgreSQL plans it once per connection.
#[derive(Debug, Default)]
pub(crate) struct TimelineColumns {
    seq: Vec<i64>,
    at: Vec<Timestamp>,
    actor_id: Vec<String>,
    actor_role: Vec<&'static str>,
    kind: Vec<&'static str>,
    notes: Vec<String>,
    prev_hash: Vec<String>,
    hash: Vec<String>,
}

/// Inserts the entries of a [`TimelineColumns`] for the dispute bound to `$1`.
pub(crate) const INSERT_TIMELINE: &str = "INSERT INTO timeline_entries \
     (dispute_id, seq, at, actor_id, actor_role, kind, notes, prev_hash, hash) \
     SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TIMESTAMPTZ[], $4::TEXT[], $5::TEXT[], \
     $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[])";

impl<'e> FromIterator<&'e TimelineEntry> for TimelineColumns {
    fn from_iter<I: IntoIterator<Item = &'e TimelineEntry>>(entries: I) -> Self {
        let mut columns = TimelineColumns::default();
        for entry in entries {
            columns.seq.push(entry.seq());
            columns.at.push(entry.at());
            columns.actor_id.push(entry.actor().id.as_str().to_owned());
            columns.actor_role.push(entry.actor().role.as_str());
            columns.kind.push(entry.kind().as_str());
            columns.notes.push(entry.notes().to_owned());
            columns.prev_hash.push(entry.prev_hash().to_hex());
            columns.hash.push(entry.hash().to_hex());
        }
        columns
    }
}

impl TimelineColumns {
    pub(crate) fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// [`INSERT_TIMELINE`] with every parameter bound.
    pub(crate) fn insert(
        self,
        dispute_id: i64,
    ) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(INSERT_TIMELINE)
            .bind(dispute_id)
            .bind(self.seq)
            .bind(self.at)
            .bind(self.actor_id)
            .bind(self.actor_role)
            .bind(self.kind)
            .bind(self.notes)
            .bind(self.prev_hash)
            .bind(self.hash)
    }
}

/// Row → domain for one timeline entry; returns the dispute it belongs to as well.
pub(crate) fn timeline_entry_from_row(row: &PgRow) -> Result<(i64, TimelineEntry), StoreError> {
    let f = Fields(row);
    let entry = TimelineEntry::restore(
        f.req("seq")?,
        f.req("at")?,
        f.actor(TIMELINE_ACTOR)?,
        f.parsed("kind", |k| k.parse())?,
        f.req("notes")?,
        f.parsed("prev_hash", |h| h.parse())?,
        f.parsed("hash", |h| h.parse())?,
    );
    Ok((f.req("dispute_id")?, entry))
}

/// Messages column by column, inserted with one `UNNEST` like [`TimelineColumns`]. A message
/// without an attachment has NULL in the four attachment columns.
#[derive(Debug, Default)]
pub(crate) struct MessageColumns {
    seq: Vec<i64>,
    at: Vec<Timestamp>,
    author_id: Vec<String>,
    author_role: Vec<&'static str>,
    text: Vec<String>,
    attachment_name: Vec<Option<String>>,
    attachment_type: Vec<Option<&'static str>>,
    attachment_size: Vec<Option<i64>>,
    attachment_sha256: Vec<Option<String>>,
}

/// Inserts the messages of a [`MessageColumns`] for the dispute bound to `$1`.
pub(crate) const INSERT_MESSAGES: &str = "INSERT INTO dispute_messages \
     (dispute_id, seq, at, author_id, author_role, text, \
     attachment_name, attachment_type, attachment_size, attachment_sha256) \
     SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TIMESTAMPTZ[], $4::TEXT[], $5::TEXT[], \
     $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::BIGINT[], $10::TEXT[])";

impl<'m> FromIterator<&'m Message> for MessageColumns {
    fn from_iter<I: IntoIterator<Item = &'m Message>>(messages: I) -> Self {
        let mut columns = MessageColumns::default();
        for message in messages {
            let attachment = message.attachment();
            columns.seq.push(message.seq());
            columns.at.push(message.at());
            columns
                .author_id
                .push(message.author().id.as_str().to_owned());
            columns.author_role.push(message.author().role.as_str());
            columns.text.push(message.text().to_owned());
            columns
                .attachment_name
                .push(attachment.map(|a| a.name().to_owned()));
            columns
                .attachment_type
                .push(attachment.map(|a| a.file_type().as_str()));
            // At most 10 MiB, so it always fits.
            columns
                .attachment_size
                .push(attachment.map(|a| i64::try_from(a.size()).unwrap_or(i64::MAX)));
            columns
                .attachment_sha256
                .push(attachment.map(|a| a.sha256().to_hex()));
        }
        columns
    }
}

impl MessageColumns {
    pub(crate) fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// [`INSERT_MESSAGES`] with every parameter bound.
    pub(crate) fn insert(
        self,
        dispute_id: i64,
    ) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(INSERT_MESSAGES)
            .bind(dispute_id)
            .bind(self.seq)
            .bind(self.at)
            .bind(self.author_id)
            .bind(self.author_role)
            .bind(self.text)
            .bind(self.attachment_name)
            .bind(self.attachment_type)
            .bind(self.attachment_size)
            .bind(self.attachment_sha256)
    }
}

const MESSAGE_AUTHOR: Prefix = Prefix {
    id: "author_id",
    role: "author_role",
};

/// Row → domain for one message; returns the dispute it belongs to as well.
pub(crate) fn message_from_row(row: &PgRow) -> Result<(i64, Message), StoreError> {
    let f = Fields(row);
    let attachment = match f.opt::<String>("attachment_name")? {
        Some(name) => Some(Attachment::restore(
            name,
            f.parsed("attachment_type", |t| t.parse())?,
            u64::try_from(f.req::<i64>("attachment_size")?)
                .map_err(|e| corrupt("attachment_size", e))?,
            f.parsed("attachment_sha256", |h| h.parse())?,
        )),
        None => None,
    };
    let message = Message::restore(
        f.req("seq")?,
        f.req("at")?,
        f.actor(MESSAGE_AUTHOR)?,
        f.req("text")?,
        attachment,
    );
    Ok((f.req("dispute_id")?, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn filter_bounds_round_up_to_whole_microseconds() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(bound(at), at);
        let micros = at + Duration::microseconds(7);
        assert_eq!(bound(micros), micros);
        let nanos = at + Duration::nanoseconds(1);
        assert_eq!(bound(nanos), at + Duration::microseconds(1));
    }
}
