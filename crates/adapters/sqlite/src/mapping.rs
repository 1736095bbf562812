//! Between the domain and rows: [`dispute_columns`] turns a dispute into column values,
//! [`dispute_from_row`] turns a row (plus its screens and timeline) back into a dispute. Both
//! directions live here, side by side, so a column is added in one file.

use std::convert::Infallible;
use std::fmt::Display;

use chrono::{Duration, NaiveDateTime, SubsecRound};
use disputes_domain::{
    Actor, ActorId, Attachment, BillItemSubject, BillingTerms, Claim, CollectionHold,
    DeliverySubject, Dispute, DisputeId, DisputeParts, EvidenceBundle, InvoiceSubject, Message,
    NoteStatus, OpenerReply, Period, Quantity, ReasonCode, Remedy, Resolution, Response, Subject,
    SubjectKind, TenantId, TimelineEntry, Timestamp, Unit, Version,
};
use disputes_ports::StoreError;
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::error::{corrupt, store_error};

/// How instants are stored: UTC, microseconds, fixed width, so that text order is time order.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// An instant as stored. Domain instants are whole microseconds, so nothing is lost.
pub(crate) fn time_text(at: Timestamp) -> String {
    at.format(TIME_FORMAT).to_string()
}

/// A range-filter bound as stored text. A caller's bound may carry nanoseconds; rounding it up
/// to the next whole microsecond keeps both `stored >= bound` and `stored < bound` exact, since
/// every stored instant is a whole microsecond.
pub(crate) fn bound_text(at: Timestamp) -> String {
    let truncated = at.trunc_subsecs(6);
    let ceiling = if truncated < at {
        truncated + Duration::microseconds(1)
    } else {
        truncated
    };
    time_text(ceiling)
}

pub(crate) fn parse_time(text: String) -> Result<Timestamp, chrono::ParseError> {
    NaiveDateTime::parse_from_str(&text, TIME_FORMAT).map(|t| t.and_utc())
}

fn parse_decimal(text: String) -> Result<Decimal, rust_decimal::Error> {
    // `Decimal::from_str` keeps the scale: "5.00" reads back as 5.00, not 5.
    text.parse()
}

/// One bound value of a `disputes` row.
#[derive(Debug)]
pub(crate) enum Value {
    Text(Option<String>),
    Integer(Option<i64>),
}

impl Value {
    /// Appends a placeholder to `query` and binds this value to it.
    pub(crate) fn push_bind(self, query: &mut QueryBuilder<'_, Sqlite>) {
        match self {
            Value::Text(v) => query.push_bind(v),
            Value::Integer(v) => query.push_bind(v),
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
        self.0.push((column, Value::Text(at.into().map(time_text))));
    }

    fn decimal(&mut self, column: &'static str, amount: impl Into<Option<Decimal>>) {
        let text = amount.into().map(|a| a.to_string());
        self.0.push((column, Value::Text(text)));
    }

    fn integer(&mut self, column: &'static str, value: impl Into<Option<i64>>) {
        self.0.push((column, Value::Integer(value.into())));
    }

    fn flag(&mut self, column: &'static str, flag: Option<bool>) {
        self.integer(column, flag.map(i64::from));
    }

    fn actor(&mut self, prefix: Prefix, actor: Option<&Actor>) {
        self.text(prefix.id, actor.map(|a| a.id.as_str()));
        self.text(prefix.role, actor.map(|a| a.role.as_str()));
    }

    fn reason(&mut self, columns: ReasonColumns, code: Option<ReasonCode>) {
        self.integer(columns.domain_id, code.map(|c| i64::from(c.domain_id())));
        self.integer(columns.reason_id, code.map(|c| i64::from(c.reason_id())));
    }
}

/// The two columns that hold one reason code.
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
    state.integer("version", d.version.get());
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
struct Fields<'r>(&'r SqliteRow);

impl Fields<'_> {
    fn opt<T, E: Display>(
        &self,
        column: &str,
        read: impl FnOnce(String) -> Result<T, E>,
    ) -> Result<Option<T>, StoreError> {
        let text: Option<String> = self.0.try_get(column).map_err(store_error)?;
        text.map(|t| read(t).map_err(|e| corrupt(column, e)))
            .transpose()
    }

    fn req<T, E: Display>(
        &self,
        column: &str,
        read: impl FnOnce(String) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        self.opt(column, read)?
            .ok_or_else(|| corrupt(column, "is NULL"))
    }

    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.opt(column, Ok::<_, Infallible>)
    }

    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.req(column, Ok::<_, Infallible>)
    }

    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.0.try_get(column).map_err(store_error)
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.opt_int(column)?
            .ok_or_else(|| corrupt(column, "is NULL"))
    }

    fn actor(&self, columns: Prefix) -> Result<Actor, StoreError> {
        let id = self.req(columns.id, ActorId::new)?;
        let role = self.req(columns.role, |r| r.parse())?;
        Ok(Actor::new(id, role))
    }

    fn opt_reason(&self, columns: ReasonColumns) -> Result<Option<ReasonCode>, StoreError> {
        match (
            self.opt_int(columns.domain_id)?,
            self.opt_int(columns.reason_id)?,
        ) {
            (Some(domain), Some(reason)) => ReasonCode::new(domain, reason)
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
        match (self.opt(start, parse_time)?, self.opt(end, parse_time)?) {
            (Some(s), Some(e)) => Period::new(field, s, e)
                .map(Some)
                .map_err(|err| corrupt(end, err)),
            (None, None) => Ok(None),
            _ => Err(corrupt(end, "only one end of the period is set")),
        }
    }
}

/// Row → domain: a `disputes` row with its screens (in order), its timeline and its messages
/// (by seq). Nothing is verified here; the service calls [`Dispute::verify`].
pub(crate) fn dispute_from_row(
    row: &SqliteRow,
    screens: Vec<String>,
    timeline: Vec<TimelineEntry>,
    messages: Vec<Message>,
) -> Result<Dispute, StoreError> {
    let f = Fields(row);
    let id = DisputeId::new(f.int("id")?).map_err(|e| corrupt("id", e))?;
    let subject = match f.req("subject_kind", |k| k.parse::<SubjectKind>())? {
        SubjectKind::Delivery => {
            let period = f
                .opt_period("period", "period_start", "period_end")?
                .ok_or_else(|| corrupt("period_start", "is NULL"))?;
            let subject = DeliverySubject::new(
                f.text("campaign_id")?,
                screens,
                f.opt_text("substrate_id")?,
                period,
            )
            .map_err(|e| corrupt("campaign_id", e))?;
            Subject::Delivery(subject)
        }
        SubjectKind::Invoice => Subject::Invoice(
            InvoiceSubject::new(
                f.text("invoice")?,
                f.text("customer_name")?,
                f.text("customer_email")?,
                f.text("category")?,
                f.text("locale")?,
            )
            .map_err(|e| corrupt("invoice", e))?,
        ),
        SubjectKind::BillItem => Subject::BillItem(
            BillItemSubject::new(
                f.text("item_id")?,
                f.text("account_id")?,
                f.opt_text("bill_unit_id")?,
                f.opt_text("bill_id")?,
            )
            .map_err(|e| corrupt("item_id", e))?,
        ),
    };
    let quantity = Quantity::new(
        f.req("claim_amount", parse_decimal)?,
        f.req("claim_unit", Unit::new)?,
    )
    .map_err(|e| corrupt("claim_amount", e))?;
    let billing = match f.opt("claim_tax", |t| t.parse())? {
        Some(tax) => Some(BillingTerms {
            tax,
            credit: f.int("claim_credit")? != 0,
            reason: f.opt_reason(CLAIM_REASON)?,
            note_status: f
                .opt("claim_note_status", |s| s.parse())?
                .unwrap_or(NoteStatus::NotSet),
            note_amount: f.opt("claim_note_amount", parse_decimal)?,
            effective: f.opt("claim_effective", parse_time)?,
        }),
        None => None,
    };
    let response = match f.opt("response_at", parse_time)? {
        Some(at) => Some(Response {
            at,
            by: f.actor(RESPONSE_BY)?,
            notes: f.text("response_notes")?,
            remedy: if f.int("remedy_proposed")? != 0 {
                Some(Remedy {
                    amount: f.opt("remedy_amount", parse_decimal)?,
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
    let reply = match f.opt("reply_at", parse_time)? {
        Some(at) => Some(OpenerReply {
            at,
            by: f.actor(REPLY_BY)?,
            notes: f.text("reply_notes")?,
            decision: f.req("reply_decision", |d| d.parse())?,
        }),
        None => None,
    };
    let resolution = match f.opt("resolution_outcome", |o| o.parse())? {
        Some(outcome) => Some(Resolution {
            outcome,
            settled_amount: f.req("settled_amount", parse_decimal)?,
            credit_note_id: f.opt_text("credit_note_id")?,
            makegood_campaign_id: f.opt_text("makegood_campaign_id")?,
            settlement_adjustment_id: f.opt_text("settlement_adjustment_id")?,
            reason: f.opt_reason(RESOLUTION_REASON)?,
            by: f.actor(RESOLVED_BY)?,
            at: f.req("resolved_at", parse_time)?,
            notes: f.text("resolution_notes")?,
        }),
        None => None,
    };
    let parts = DisputeParts {
        tenant: f.req("tenant", TenantId::new)?,
        subject,
        claim: Claim { quantity, billing },
        opened_by: f.actor(OPENED_BY)?,
        opened_at: f.req("opened_at", parse_time)?,
        updated_at: f.req("updated_at", parse_time)?,
        evidence: f.req("evidence_canonical", |t| EvidenceBundle::from_canonical(&t))?,
        evidence_digest: f.req("evidence_digest", |h| h.parse())?,
        status: f.req("status", |s| s.parse())?,
        version: Version::new(f.int("version")?).map_err(|e| corrupt("version", e))?,
        respond_by: f.opt("respond_by", parse_time)?,
        response,
        reply,
        resolution,
        timeline,
        timeline_head: f.req("timeline_head", |h| h.parse())?,
        messages,
        collection_hold: match f.opt("hold_until", parse_time)? {
            Some(until) => Some(CollectionHold {
                until,
                released_at: f.opt("hold_released_at", parse_time)?,
            }),
            None => None,
        },
    };
    Ok(Dispute::restore(id, parts))
}

/// The columns of `timeline_entries` that [`push_timeline_entry`] binds, in its order.
pub(crate) const TIMELINE_COLUMNS: &str =
    "dispute_id, seq, at, actor_id, actor_role, kind, notes, prev_hash, hash";

/// Domain → row for one timeline entry, in [`TIMELINE_COLUMNS`] order.
pub(crate) fn push_timeline_entry(
    row: &mut sqlx::query_builder::Separated<'_, '_, Sqlite, &'static str>,
    dispute_id: i64,
    entry: &TimelineEntry,
) {
    row.push_bind(dispute_id)
        .push_bind(entry.seq())
        .push_bind(time_text(entry.at()))
        .push_bind(entry.actor().id.as_str().to_owned())
        .push_bind(entry.actor().role.as_str())
        .push_bind(entry.kind().as_str())
        .push_bind(entry.notes().to_owned())
        .push_bind(entry.prev_hash().to_hex())
        .push_bind(entry.hash().to_hex());
}

/// Row → domain for one timeline entry; returns the dispute it belongs to as well.
pub(crate) fn timeline_entry_from_row(row: &SqliteRow) -> Result<(i64, TimelineEntry), StoreError> {
    let f = Fields(row);
    let entry = TimelineEntry::restore(
        f.int("seq")?,
        f.req("at", parse_time)?,
        f.actor(TIMELINE_ACTOR)?,
        f.req("kind", |k| k.parse())?,
        f.text("notes")?,
        f.req("prev_hash", |h| h.parse())?,
        f.req("hash", |h| h.parse())?,
    );
    Ok((f.int("dispute_id")?, entry))
}

/// The columns of `dispute_messages` that [`push_message`] binds, in its order.
pub(crate) const MESSAGE_COLUMNS: &str = "dispute_id, seq, at, author_id, author_role, text, \
     attachment_name, attachment_type, attachment_size, attachment_sha256";

const MESSAGE_AUTHOR: Prefix = Prefix {
    id: "author_id",
    role: "author_role",
};

/// Domain → row for one message, in [`MESSAGE_COLUMNS`] order.
pub(crate) fn push_message(
    row: &mut sqlx::query_builder::Separated<'_, '_, Sqlite, &'static str>,
    dispute_id: i64,
    message: &Message,
) {
    let attachment = message.attachment();
    row.push_bind(dispute_id)
        .push_bind(message.seq())
        .push_bind(time_text(message.at()))
        .push_bind(message.author().id.as_str().to_owned())
        .push_bind(message.author().role.as_str())
        .push_bind(message.text().to_owned())
        .push_bind(attachment.map(|a| a.name().to_owned()))
        .push_bind(attachment.map(|a| a.file_type().as_str()))
        // At most 10 MiB, so it always fits.
        .push_bind(attachment.map(|a| i64::try_from(a.size()).unwrap_or(i64::MAX)))
        .push_bind(attachment.map(|a| a.sha256().to_hex()));
}

/// Row → domain for one message; returns the dispute it belongs to as well.
pub(crate) fn message_from_row(row: &SqliteRow) -> Result<(i64, Message), StoreError> {
    let f = Fields(row);
    let attachment = match f.opt_text("attachment_name")? {
        Some(name) => Some(Attachment::restore(
            name,
            f.req("attachment_type", |t| t.parse())?,
            u64::try_from(f.int("attachment_size")?).map_err(|e| corrupt("attachment_size", e))?,
            f.req("attachment_sha256", |h| h.parse())?,
        )),
        None => None,
    };
    let message = Message::restore(
        f.int("seq")?,
        f.req("at", parse_time)?,
        f.actor(MESSAGE_AUTHOR)?,
        f.text("text")?,
        attachment,
    );
    Ok((f.int("dispute_id")?, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn times_are_fixed_width_and_round_trip() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::microseconds(7);
        let text = time_text(at);
        assert_eq!(text, "2026-03-01T12:00:00.000007Z");
        assert_eq!(parse_time(text).unwrap(), at);
        let whole = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(time_text(whole), "2026-03-01T12:00:00.000000Z");
    }

    #[test]
    fn filter_bounds_round_up_to_whole_microseconds() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(bound_text(at), "2026-03-01T12:00:00.000000Z");
        let nanos = at + Duration::nanoseconds(1);
        assert_eq!(bound_text(nanos), "2026-03-01T12:00:00.000001Z");
    }
}
