//! The store-neutral row model: a dispute, a timeline entry and a message as named column values
//! and back, for every store. Both stores have the same tables and column names and differ only in
//! how a column's type is spelled (SQLite: TEXT amounts and fixed-width RFC 3339 times;
//! PostgreSQL: NUMERIC and TIMESTAMPTZ), so the mapping lives here once and each store only binds
//! a [`Value`] and implements [`StoredRow`] for its own row type.
//!
//! Both directions live side by side, so a column is added in one file.
//!
//! The ports' operations on the smaller tables are written here once as well ([`flows`]), over
//! [`Sql`]: a store hands over its SQL text and runs the statements a flow gives it.
//!
//! Only the stores depend on this crate (the layering test in `tests/tests/architecture.rs`
//! holds them to it): it holds their shared column lists and the few SQL fragments both dialects
//! spell alike, which is why it is not part of the ports.

use std::collections::HashMap;
use std::fmt::Display;

use disputes_domain::{
    Actor, ActorId, Adjustment, Agent, Attachment, BillingRecord, BillingSubject,
    BillingTargetKind, BillingTerms, Claim, CollectionHold, CommentAuthor, DeliverySubject,
    Dispute, DisputeId, DisputeParts, EvidenceBundle, InvoiceSubject, LedgerOutcome, Message,
    NoteStatus, OpenerReply, Period, Quantity, Reason, ReasonCode, Remedy, Resolution, Response,
    Seal, Stance, Subject, SubjectKind, TenantId, TimelineEntry, Timestamp, Unit, UsageEvents,
    Version,
};
use rust_decimal::Decimal;

use disputes_ports::{ApiKeyRecord, DeadLetter, OutboxJob, Scope, StoreError};

pub mod flows;
mod records;
mod sql;
pub use records::{
    dead_letter_count_from_row, deadline_horizon, due_deadline_from_row, json_object_arguments,
    outbox_depth_from_row, policy_from_row, sent_email_from_row, status_count_from_row,
    stored_key_from_row, ticket_from_row, ticket_status_code, webhook_from_row,
    IDEMPOTENCY_KEY_COLUMNS, POLICY_COLUMNS, SENT_EMAIL_COLUMNS, TICKET_COLUMNS, WEBHOOK_COLUMNS,
};
pub use sql::{one, Answer, Fetch, Sql, Statement};

/// What a unique violation on `table` was about, for [`StoreError::AlreadyExists`]: both
/// stores have the same tables, and each finds the table in its own driver's error.
pub fn unique_subject(table: &str) -> &'static str {
    match table {
        "tenants" => "tenant",
        "api_keys" => "api key",
        "disputes" => "dispute",
        "reason_codes" => "reason",
        _ => "record",
    }
}

/// Lowercase hex of `bytes`: how seals' signatures are stored (text, so that a dispute's
/// children can come back aggregated as JSON in both stores).
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// A stored value the domain refuses, reported with the column it came from.
pub fn corrupt(column: &str, why: impl Display) -> StoreError {
    StoreError::Corrupt(format!("{column}: {why}"))
}

/// One column value in its domain-neutral storage form; `None` is NULL. A store binds each kind
/// in its own column type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// TEXT in both stores.
    Text(Option<String>),
    /// A 64-bit integer (`BIGINT` in PostgreSQL).
    Integer(Option<i64>),
    /// A 32-bit integer (`INTEGER` in PostgreSQL): the halves of a reason code.
    SmallInteger(Option<i32>),
    /// A yes/no (`BOOLEAN` in PostgreSQL, 0/1 in SQLite).
    Flag(Option<bool>),
    /// Money or a quantity (`NUMERIC` in PostgreSQL, its exact text in SQLite).
    Decimal(Option<Decimal>),
    /// A UTC instant, whole microseconds (`TIMESTAMPTZ` in PostgreSQL, fixed-width text in
    /// SQLite).
    Time(Option<Timestamp>),
    /// A byte string (`BLOB` in SQLite, `BYTEA` in PostgreSQL): a stored answer.
    Bytes(Option<Vec<u8>>),
    /// A list of 64-bit integers for `IN`: one `BIGINT[]` parameter in PostgreSQL
    /// (`= ANY($n)`), one placeholder per integer in SQLite (`IN (?, ?, …)`).
    Integers(Vec<i64>),
    /// A column holding a list of text, in order: `TEXT[]` in PostgreSQL, a JSON array in
    /// SQLite's TEXT (which `json_each` searches).
    TextList(Option<Vec<String>>),
}

/// Named column values, in the order they were set.
#[derive(Debug, Default)]
pub struct Values(Vec<(&'static str, Value)>);

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

    fn integer(&mut self, column: &'static str, value: impl Into<Option<i64>>) {
        self.0.push((column, Value::Integer(value.into())));
    }

    fn flag(&mut self, column: &'static str, flag: Option<bool>) {
        self.0.push((column, Value::Flag(flag)));
    }

    fn small_integer(&mut self, column: &'static str, value: Option<i32>) {
        self.0.push((column, Value::SmallInteger(value)));
    }

    fn text_list(&mut self, column: &'static str, list: Option<&[String]>) {
        self.0
            .push((column, Value::TextList(list.map(<[String]>::to_vec))));
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
        self.0
            .push((columns.domain_id, Value::SmallInteger(domain_id)));
        self.0
            .push((columns.reason_id, Value::SmallInteger(reason_id)));
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
const MESSAGE_AUTHOR: Prefix = Prefix {
    id: "author_id",
    role: "author_role",
};

/// Every column of `disputes` that [`dispute_from_row`] reads, for an explicit select list: a
/// column added by a newer migration is not read by an older server during a rolling upgrade.
pub const DISPUTE_COLUMNS: &str = "id, tenant, subject_kind, campaign_id, substrate_id, \
     period_start, period_end, invoice, customer_name, customer_email, category, locale, \
     item_id, account_id, bill_unit_id, bill_id, claim_amount, claim_unit, claim_tax, \
     claim_credit, claim_reason_domain_id, claim_reason_id, claim_note_status, \
     claim_note_amount, claim_effective, opened_by_id, opened_by_role, opened_at, \
     evidence_canonical, evidence_digest, hold_until, status, version, updated_at, respond_by, \
     timeline_head, hold_released_at, response_at, response_by_id, response_by_role, \
     response_notes, remedy_proposed, remedy_amount, makegood_start, makegood_end, reply_at, \
     reply_by_id, reply_by_role, reply_notes, reply_decision, response_stance, reply_stance, \
     resolution_outcome, \
     settled_amount, credit_note_id, makegood_campaign_id, settlement_adjustment_id, \
     resolved_by_id, resolved_by_role, resolved_at, resolution_notes, \
     resolution_reason_domain_id, resolution_reason_id, resolution_kind, \
     resolution_adjustments, original_application_id, override_applied, override_skipped, \
     billing_target, event_ids, events_apply_to_total, claim_percent, brm_resource_id, \
     brm_action_affects, note_type, note_sub_type, note_header, comment_authors";

/// A dispute as named column values of its `disputes` row.
#[derive(Debug)]
pub struct Columns {
    /// Written once, by `create`: what was opened never changes.
    pub fixed: Values,
    /// Written by `create` and rewritten by every `update`.
    pub state: Values,
}

/// Domain → row. Screens, timeline entries and messages go to their own tables.
pub fn dispute_columns(d: &DisputeParts) -> Columns {
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
        Subject::Billing(s) => {
            fixed.text("billing_target", s.target().kind().as_str());
            fixed.text("item_id", s.item_id());
            fixed.text("account_id", s.account_id());
            fixed.text("bill_unit_id", s.bill_unit_id());
            fixed.text("bill_id", s.bill_id());
            let events = s.events_disputed();
            fixed.text_list("event_ids", events.map(UsageEvents::ids));
            fixed.flag(
                "events_apply_to_total",
                events.map(UsageEvents::applies_to_total),
            );
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
    fixed.decimal("claim_percent", billing.and_then(|b| b.percent));
    let record = d.claim.record.as_ref();
    fixed.small_integer("brm_resource_id", record.and_then(|r| r.resource_id));
    fixed.text(
        "brm_action_affects",
        record.and_then(|r| r.action_affects.as_deref()),
    );
    fixed.text("note_type", record.and_then(|r| r.note_type.as_deref()));
    fixed.text(
        "note_sub_type",
        record.and_then(|r| r.note_sub_type.as_deref()),
    );
    fixed.text("note_header", record.and_then(|r| r.note_header.as_deref()));
    let authors = record.filter(|r| !r.comment_authors.is_empty()).map(|r| {
        r.comment_authors
            .iter()
            .map(CommentAuthor::to_record)
            .collect::<Vec<_>>()
    });
    fixed.text_list("comment_authors", authors.as_deref());
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
    state.text(
        "response_stance",
        response.and_then(|r| r.stance).map(|s| s.as_str()),
    );

    let reply = d.reply.as_ref();
    state.time("reply_at", reply.map(|r| r.at));
    state.actor(REPLY_BY, reply.map(|r| &r.by));
    state.text("reply_notes", reply.map(|r| r.notes.as_str()));
    state.text("reply_decision", reply.map(|r| r.decision.as_str()));
    state.text(
        "reply_stance",
        reply.and_then(|r| r.stance).map(|s| s.as_str()),
    );

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
    state.text(
        "resolution_kind",
        resolution.and_then(|r| r.kind).map(|k| k.as_str()),
    );
    state.text(
        "resolution_adjustments",
        resolution
            .filter(|r| !r.adjustments.is_empty())
            .map(|r| adjustments_text(&r.adjustments))
            .as_deref(),
    );
    state.text(
        "original_application_id",
        resolution.and_then(|r| r.original_application_id.as_deref()),
    );
    let ledger = resolution.and_then(|r| r.ledger.as_ref());
    state.flag("override_applied", ledger.map(LedgerOutcome::applied));
    state.text(
        "override_skipped",
        ledger.and_then(LedgerOutcome::skipped_reason),
    );

    Columns { fixed, state }
}

/// A settlement adjustment's changes as stored: `party=cents`, comma-separated, in order.
fn adjustments_text(adjustments: &[Adjustment]) -> String {
    adjustments
        .iter()
        .map(|a| format!("{}={}", a.party.as_str(), a.cents))
        .collect::<Vec<_>>()
        .join(",")
}

/// The changes [`adjustments_text`] stored.
fn parse_adjustments(text: &str) -> Result<Vec<Adjustment>, String> {
    text.split(',')
        .map(|pair| {
            let (party, cents) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair} is not party=cents"))?;
            Ok(Adjustment {
                party: party.parse().map_err(|e| format!("{e}"))?,
                cents: cents.parse().map_err(|e| format!("{cents}: {e}"))?,
            })
        })
        .collect()
}

/// The screens of a delivery subject, in order; none for other subjects.
pub fn screen_ids(subject: &Subject) -> &[String] {
    match subject {
        Subject::Delivery(s) => s.screen_ids(),
        Subject::Invoice(_) | Subject::Billing(_) => &[],
    }
}

/// A row as a store read it: each method reads one column in its storage form, `None` for NULL.
/// A store converts its column type (a NUMERIC, a TEXT amount) here and reports a value it cannot
/// convert with [`corrupt`]; what the domain then refuses is reported by the readers below.
pub trait StoredRow {
    /// A TEXT column.
    fn text(&self, column: &str) -> Result<Option<String>, StoreError>;
    /// A 64-bit integer column.
    fn integer(&self, column: &str) -> Result<Option<i64>, StoreError>;
    /// A 32-bit integer column (see [`Value::SmallInteger`]), widened.
    fn small_integer(&self, column: &str) -> Result<Option<i64>, StoreError>;
    /// A yes/no column.
    fn flag(&self, column: &str) -> Result<Option<bool>, StoreError>;
    /// A decimal column, with its scale.
    fn decimal(&self, column: &str) -> Result<Option<Decimal>, StoreError>;
    /// An instant column.
    fn time(&self, column: &str) -> Result<Option<Timestamp>, StoreError>;
    /// A list-of-text column (see [`Value::TextList`]). Only `disputes` has one; rows of other
    /// tables need not read it.
    fn text_list(&self, column: &str) -> Result<Option<Vec<String>>, StoreError> {
        Err(corrupt(column, "is not a list column of this row"))
    }
    /// A byte-string column (`BLOB` in SQLite, `BYTEA` in PostgreSQL).
    fn bytes(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Reads the columns of one row, reporting NULLs where a value is required and values the
/// domain refuses as corrupt data.
struct Fields<'r, R: ?Sized>(&'r R);

fn required<T>(column: &str, value: Option<T>) -> Result<T, StoreError> {
    value.ok_or_else(|| corrupt(column, "is NULL"))
}

impl<R: StoredRow + ?Sized> Fields<'_, R> {
    /// A text column the domain parses further (an id, an enum, a digest).
    fn opt_parsed<T, E: Display>(
        &self,
        column: &str,
        parse: impl FnOnce(String) -> Result<T, E>,
    ) -> Result<Option<T>, StoreError> {
        self.0
            .text(column)?
            .map(|text| parse(text).map_err(|e| corrupt(column, e)))
            .transpose()
    }

    fn parsed<T, E: Display>(
        &self,
        column: &str,
        parse: impl FnOnce(String) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        required(column, self.opt_parsed(column, parse)?)
    }

    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.0.text(column)
    }

    fn text(&self, column: &str) -> Result<String, StoreError> {
        required(column, self.0.text(column)?)
    }

    fn integer(&self, column: &str) -> Result<i64, StoreError> {
        required(column, self.0.integer(column)?)
    }

    fn opt_flag(&self, column: &str) -> Result<Option<bool>, StoreError> {
        self.0.flag(column)
    }

    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        required(column, self.opt_flag(column)?)
    }

    fn opt_decimal(&self, column: &str) -> Result<Option<Decimal>, StoreError> {
        self.0.decimal(column)
    }

    fn decimal(&self, column: &str) -> Result<Decimal, StoreError> {
        required(column, self.0.decimal(column)?)
    }

    fn opt_time(&self, column: &str) -> Result<Option<Timestamp>, StoreError> {
        self.0.time(column)
    }

    fn time(&self, column: &str) -> Result<Timestamp, StoreError> {
        required(column, self.0.time(column)?)
    }

    fn actor(&self, columns: Prefix) -> Result<Actor, StoreError> {
        let id = self.parsed(columns.id, ActorId::new)?;
        let role = self.parsed(columns.role, |r| r.parse())?;
        Ok(Actor::new(id, role))
    }

    fn opt_reason(&self, columns: ReasonColumns) -> Result<Option<ReasonCode>, StoreError> {
        match (
            self.0.small_integer(columns.domain_id)?,
            self.0.small_integer(columns.reason_id)?,
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
        match (self.opt_time(start)?, self.opt_time(end)?) {
            (Some(s), Some(e)) => Period::new(field, s, e)
                .map(Some)
                .map_err(|err| corrupt(end, err)),
            (None, None) => Ok(None),
            _ => Err(corrupt(end, "only one end of the period is set")),
        }
    }
}

/// A billing row's Billing Care record, if it has one.
fn billing_record<R: StoredRow + ?Sized>(
    f: &Fields<'_, R>,
) -> Result<Option<BillingRecord>, StoreError> {
    let authors =
        f.0.text_list("comment_authors")?
            .unwrap_or_default()
            .iter()
            .map(|text| CommentAuthor::from_record(text).map_err(|e| corrupt("comment_authors", e)))
            .collect::<Result<Vec<_>, _>>()?;
    let resource_id =
        f.0.small_integer("brm_resource_id")?
            .map(|id| i32::try_from(id).map_err(|e| corrupt("brm_resource_id", e)))
            .transpose()?;
    let record = BillingRecord::new(
        resource_id,
        f.opt_text("brm_action_affects")?,
        [
            f.opt_text("note_type")?,
            f.opt_text("note_sub_type")?,
            f.opt_text("note_header")?,
        ],
        authors,
    )
    .map_err(|e| corrupt("note_type", e))?;
    Ok((!record.is_empty()).then_some(record))
}

/// A billing row's subject: an item, a bill or usage events (`billing_target`, NULL on rows
/// stored when only items were disputed).
fn billing_subject<R: StoredRow + ?Sized>(f: &Fields<'_, R>) -> Result<BillingSubject, StoreError> {
    let target = f
        .opt_parsed("billing_target", |t| t.parse::<BillingTargetKind>())?
        .unwrap_or(BillingTargetKind::Item);
    let (account, unit, bill) = (
        f.opt_text("account_id")?,
        f.opt_text("bill_unit_id")?,
        f.opt_text("bill_id")?,
    );
    match target {
        BillingTargetKind::Item => BillingSubject::item(f.text("item_id")?, account, unit, bill)
            .map_err(|e| corrupt("item_id", e)),
        BillingTargetKind::Bill => BillingSubject::bill(required("bill_id", bill)?, account, unit)
            .map_err(|e| corrupt("bill_id", e)),
        BillingTargetKind::Events => {
            let ids = required("event_ids", f.0.text_list("event_ids")?)?;
            let events = UsageEvents::new(ids, f.flag("events_apply_to_total")?)
                .map_err(|e| corrupt("event_ids", e))?;
            BillingSubject::events(events, required("account_id", account)?, unit, bill)
                .map_err(|e| corrupt("account_id", e))
        }
    }
}

/// Row → domain: a `disputes` row with its screens (in order), its timeline and its messages
/// (by seq). Nothing is verified here; the service calls [`Dispute::verify`].
pub fn dispute_from_row(
    row: &(impl StoredRow + ?Sized),
    screens: Vec<String>,
    timeline: Vec<TimelineEntry>,
    messages: Vec<Message>,
) -> Result<Dispute, StoreError> {
    let f = Fields(row);
    let id = DisputeId::new(f.integer("id")?).map_err(|e| corrupt("id", e))?;
    let subject = match f.parsed("subject_kind", |k| k.parse::<SubjectKind>())? {
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
        SubjectKind::Billing => Subject::Billing(billing_subject(&f)?),
    };
    let quantity = Quantity::new(
        f.decimal("claim_amount")?,
        f.parsed("claim_unit", Unit::new)?,
    )
    .map_err(|e| corrupt("claim_amount", e))?;
    let billing = match f.opt_parsed("claim_tax", |t| t.parse())? {
        Some(tax) => Some(BillingTerms {
            tax,
            credit: f.flag("claim_credit")?,
            reason: f.opt_reason(CLAIM_REASON)?,
            note_status: f
                .opt_parsed("claim_note_status", |s| s.parse())?
                .unwrap_or(NoteStatus::NotSet),
            note_amount: f.opt_decimal("claim_note_amount")?,
            effective: f.opt_time("claim_effective")?,
            percent: f.opt_decimal("claim_percent")?,
        }),
        None => None,
    };
    let response = match f.opt_time("response_at")? {
        Some(at) => Some(Response {
            at,
            by: f.actor(RESPONSE_BY)?,
            notes: f.text("response_notes")?,
            remedy: if f.flag("remedy_proposed")? {
                Some(Remedy {
                    amount: f.opt_decimal("remedy_amount")?,
                    makegood_window: f.opt_period(
                        "makegoodWindow",
                        "makegood_start",
                        "makegood_end",
                    )?,
                })
            } else {
                None
            },
            stance: f.opt_parsed("response_stance", |s| s.parse())?,
        }),
        None => None,
    };
    let reply = match f.opt_time("reply_at")? {
        Some(at) => {
            let decision = f.parsed("reply_decision", |d| d.parse())?;
            Some(OpenerReply {
                at,
                by: f.actor(REPLY_BY)?,
                notes: f.text("reply_notes")?,
                decision,
                // Replies stored before stances existed stand where their decision does.
                stance: f
                    .opt_parsed("reply_stance", |s| s.parse())?
                    .or(Stance::of_decision(decision)),
            })
        }
        None => None,
    };
    let resolution = match f.opt_parsed("resolution_outcome", |o| o.parse())? {
        Some(outcome) => Some(Resolution {
            outcome,
            settled_amount: f.decimal("settled_amount")?,
            credit_note_id: f.opt_text("credit_note_id")?,
            makegood_campaign_id: f.opt_text("makegood_campaign_id")?,
            settlement_adjustment_id: f.opt_text("settlement_adjustment_id")?,
            reason: f.opt_reason(RESOLUTION_REASON)?,
            by: f.actor(RESOLVED_BY)?,
            at: f.time("resolved_at")?,
            notes: f.text("resolution_notes")?,
            kind: f.opt_parsed("resolution_kind", |k| k.parse())?,
            adjustments: f
                .opt_parsed("resolution_adjustments", |t| parse_adjustments(&t))?
                .unwrap_or_default(),
            original_application_id: f.opt_text("original_application_id")?,
            ledger: match f.opt_flag("override_applied")? {
                Some(true) => Some(LedgerOutcome::Applied {
                    override_id: f.text("settlement_adjustment_id")?,
                }),
                Some(false) => Some(LedgerOutcome::Skipped {
                    reason: f.text("override_skipped")?,
                }),
                None => None,
            },
        }),
        None => None,
    };
    let parts = DisputeParts {
        tenant: f.parsed("tenant", TenantId::new)?,
        subject,
        claim: Claim {
            quantity,
            billing,
            record: billing_record(&f)?,
        },
        opened_by: f.actor(OPENED_BY)?,
        opened_at: f.time("opened_at")?,
        updated_at: f.time("updated_at")?,
        evidence: f.parsed("evidence_canonical", |t| EvidenceBundle::from_canonical(&t))?,
        evidence_digest: f.parsed("evidence_digest", |h| h.parse())?,
        status: f.parsed("status", |s| s.parse())?,
        version: Version::new(f.integer("version")?).map_err(|e| corrupt("version", e))?,
        respond_by: f.opt_time("respond_by")?,
        response,
        reply,
        resolution,
        timeline,
        timeline_head: f.parsed("timeline_head", |h| h.parse())?,
        messages,
        collection_hold: match f.opt_time("hold_until")? {
            Some(until) => Some(CollectionHold {
                until,
                released_at: f.opt_time("hold_released_at")?,
            }),
            None => None,
        },
    };
    Ok(Dispute::restore(id, parts))
}

/// The columns of `timeline_entries`, in [`TimelineRow`]'s order.
pub const TIMELINE_COLUMNS: &str =
    "dispute_id, seq, at, actor_id, actor_role, kind, notes, prev_hash, state_digest, hash, \
     seal_key_id, seal_signature";

/// Domain → row for one timeline entry (its dispute's id is bound apart).
#[derive(Debug, Clone)]
pub struct TimelineRow {
    pub seq: i64,
    pub at: Timestamp,
    pub actor_id: String,
    pub actor_role: &'static str,
    pub kind: &'static str,
    pub notes: String,
    pub prev_hash: String,
    /// NULL on an entry of format v1, written before states were sealed.
    pub state_digest: Option<String>,
    pub hash: String,
    /// The seal's key and signature (lowercase hex); NULL on an entry no keyring sealed.
    pub seal_key_id: Option<String>,
    pub seal_signature: Option<String>,
}

impl From<&TimelineEntry> for TimelineRow {
    fn from(entry: &TimelineEntry) -> Self {
        TimelineRow {
            seq: entry.seq(),
            at: entry.at(),
            actor_id: entry.actor().id.as_str().to_owned(),
            actor_role: entry.actor().role.as_str(),
            kind: entry.kind().as_str(),
            notes: entry.notes().to_owned(),
            prev_hash: entry.prev_hash().to_hex(),
            state_digest: entry.state().map(|state| state.to_hex()),
            hash: entry.hash().to_hex(),
            seal_key_id: entry.seal().map(|seal| seal.key_id.clone()),
            seal_signature: entry.seal().map(|seal| hex(&seal.signature)),
        }
    }
}

/// Row → domain for one timeline entry; returns the dispute it belongs to as well.
pub fn timeline_entry_from_row(
    row: &(impl StoredRow + ?Sized),
) -> Result<(i64, TimelineEntry), StoreError> {
    let f = Fields(row);
    let entry = TimelineEntry::restore(
        f.integer("seq")?,
        f.time("at")?,
        f.actor(TIMELINE_ACTOR)?,
        f.parsed("kind", |k| k.parse())?,
        f.text("notes")?,
        f.parsed("prev_hash", |h| h.parse())?,
        f.opt_parsed("state_digest", |h| h.parse())?,
        f.parsed("hash", |h| h.parse())?,
    )
    .with_seal(
        match (f.opt_text("seal_key_id")?, f.opt_text("seal_signature")?) {
            (Some(key_id), Some(signature)) => Some(Seal {
                key_id,
                signature: unhex(&signature).ok_or_else(|| corrupt("seal_signature", "not hex"))?,
            }),
            (None, None) => None,
            _ => {
                return Err(corrupt(
                    "seal_signature",
                    "a seal needs its key and its signature",
                ))
            }
        },
    );
    Ok((f.integer("dispute_id")?, entry))
}

/// The columns of `dispute_messages`, in [`MessageRow`]'s order.
pub const MESSAGE_COLUMNS: &str = "dispute_id, seq, at, author_id, author_role, text, \
     attachment_name, attachment_type, attachment_size, attachment_sha256";

/// Domain → row for one message (its dispute's id is bound apart). A message without an
/// attachment has NULL in the four attachment columns.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub seq: i64,
    pub at: Timestamp,
    pub author_id: String,
    pub author_role: &'static str,
    pub text: String,
    pub attachment_name: Option<String>,
    pub attachment_type: Option<&'static str>,
    pub attachment_size: Option<i64>,
    pub attachment_sha256: Option<String>,
}

impl From<&Message> for MessageRow {
    fn from(message: &Message) -> Self {
        let attachment = message.attachment();
        MessageRow {
            seq: message.seq(),
            at: message.at(),
            author_id: message.author().id.as_str().to_owned(),
            author_role: message.author().role.as_str(),
            text: message.text().to_owned(),
            attachment_name: attachment.map(|a| a.name().to_owned()),
            attachment_type: attachment.map(|a| a.file_type().as_str()),
            // At most 10 MiB, so it always fits.
            attachment_size: attachment.map(|a| i64::try_from(a.size()).unwrap_or(i64::MAX)),
            attachment_sha256: attachment.map(|a| a.sha256().to_hex()),
        }
    }
}

/// Row → domain for one message; returns the dispute it belongs to as well.
pub fn message_from_row(row: &(impl StoredRow + ?Sized)) -> Result<(i64, Message), StoreError> {
    let f = Fields(row);
    let attachment = match f.opt_text("attachment_name")? {
        Some(name) => Some(Attachment::restore(
            name,
            f.parsed("attachment_type", |t| t.parse())?,
            u64::try_from(f.integer("attachment_size")?)
                .map_err(|e| corrupt("attachment_size", e))?,
            f.parsed("attachment_sha256", |h| h.parse())?,
        )),
        None => None,
    };
    let message = Message::restore(
        f.integer("seq")?,
        f.time("at")?,
        f.actor(MESSAGE_AUTHOR)?,
        f.text("text")?,
        attachment,
    );
    Ok((f.integer("dispute_id")?, message))
}

/// A key's scopes as `api_keys.scopes` keeps them: their names separated by spaces, empty for
/// none (a login's). NULL is left for keys stored before scopes existed.
pub fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Row → record for one `api_keys` row (`key_id, tenant, role, actor_id, secret_hash,
/// created_at, scopes`). A key stored before scopes existed has the default ones.
pub fn api_key_from_row(row: &(impl StoredRow + ?Sized)) -> Result<ApiKeyRecord, StoreError> {
    let f = Fields(row);
    Ok(ApiKeyRecord {
        key_id: f.text("key_id")?,
        tenant: f.parsed("tenant", TenantId::new)?,
        role: f.parsed("role", |r| r.parse())?,
        actor: f.parsed("actor_id", ActorId::new)?,
        secret_hash: f.parsed("secret_hash", |h| h.parse())?,
        created_at: f.time("created_at")?,
        scopes: match f.opt_text("scopes")? {
            Some(text) => text
                .split_whitespace()
                .map(|s| s.parse().map_err(|e| corrupt("scopes", e)))
                .collect::<Result<_, _>>()?,
            None => Scope::DEFAULT.to_vec(),
        },
    })
}

/// A tenant's owner from its `owner_name` and `owner_email` columns: both or neither.
pub fn tenant_owner(
    name: Option<String>,
    email: Option<String>,
) -> Result<Option<Agent>, StoreError> {
    match (name, email) {
        (Some(name), Some(email)) => Agent::new(name, email)
            .map(Some)
            .map_err(|e| corrupt("owner_email", e)),
        (None, None) => Ok(None),
        _ => Err(corrupt(
            "owner_email",
            "only one of the owner's name and email is set",
        )),
    }
}

/// Row → domain for one `reason_codes` row (`domain_id, reason_id, description`).
pub fn reason_from_row(row: &(impl StoredRow + ?Sized)) -> Result<Reason, StoreError> {
    let f = Fields(row);
    let domain_id = required("domain_id", row.small_integer("domain_id")?)?;
    let reason_id = required("reason_id", row.small_integer("reason_id")?)?;
    let code = ReasonCode::new(domain_id, reason_id).map_err(|e| corrupt("reason_id", e))?;
    Reason::new(code, f.text("description")?).map_err(|e| corrupt("description", e))
}

/// The columns of an `outbox_jobs` row that [`outbox_job_from_row`] reads: what a lease
/// returns.
pub const OUTBOX_JOB_COLUMNS: &str =
    "id, event_id, tenant, dispute_id, seq, kind, sink, attempts, replayed_at";

/// The columns [`dead_letter_from_row`] reads: a job's, with why and when it was given up on.
pub const DEAD_LETTER_COLUMNS: &str = "id, event_id, tenant, dispute_id, seq, kind, sink, \
     attempts, replayed_at, last_error, dead_lettered_at";

/// Row → job for one `outbox_jobs` row ([`OUTBOX_JOB_COLUMNS`]).
pub fn outbox_job_from_row(row: &(impl StoredRow + ?Sized)) -> Result<OutboxJob, StoreError> {
    let f = Fields(row);
    let attempts = required("attempts", row.small_integer("attempts")?)?;
    Ok(OutboxJob {
        id: f.integer("id")?,
        event: f.text("event_id")?.parse()?,
        tenant: f.parsed("tenant", TenantId::new)?,
        dispute: DisputeId::new(f.integer("dispute_id")?).map_err(|e| corrupt("dispute_id", e))?,
        seq: f.integer("seq")?,
        kind: f.parsed("kind", |k| k.parse())?,
        sink: f.text("sink")?.parse()?,
        attempts: u32::try_from(attempts).map_err(|e| corrupt("attempts", e))?,
        replayed: row.time("replayed_at")?.is_some(),
    })
}

/// Row → dead letter for one dead-lettered `outbox_jobs` row ([`DEAD_LETTER_COLUMNS`]).
pub fn dead_letter_from_row(row: &(impl StoredRow + ?Sized)) -> Result<DeadLetter, StoreError> {
    Ok(DeadLetter {
        job: outbox_job_from_row(row)?,
        last_error: row.text("last_error")?,
        dead_lettered_at: required("dead_lettered_at", row.time("dead_lettered_at")?)?,
    })
}

/// The columns a dispute's children come back in when a store reads a dispute with one statement
/// (see [`dispute_with_children`]): each an array aggregated by the store (JSON in both), NULL or
/// empty for none.
pub const CHILD_COLUMNS: [&str; 3] = ["screens", "timeline", "messages"];

/// One value of a child row as a store's aggregate rendered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// Text, and instants (RFC 3339, with `Z` or an offset).
    Text(String),
    Integer(i64),
    Flag(bool),
}

/// One child row (a timeline entry, a message) as named [`Field`]s; a NULL column is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldRow(pub HashMap<String, Field>);

impl FieldRow {
    fn get(&self, column: &str) -> Option<&Field> {
        self.0.get(column)
    }
}

impl StoredRow for FieldRow {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        match self.get(column) {
            None => Ok(None),
            Some(Field::Text(text)) => Ok(Some(text.clone())),
            Some(other) => Err(corrupt(column, format!("{other:?} is not text"))),
        }
    }

    fn integer(&self, column: &str) -> Result<Option<i64>, StoreError> {
        match self.get(column) {
            None => Ok(None),
            Some(Field::Integer(n)) => Ok(Some(*n)),
            Some(other) => Err(corrupt(column, format!("{other:?} is not an integer"))),
        }
    }

    fn small_integer(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.integer(column)
    }

    fn flag(&self, column: &str) -> Result<Option<bool>, StoreError> {
        match self.get(column) {
            None => Ok(None),
            Some(Field::Flag(flag)) => Ok(Some(*flag)),
            Some(Field::Integer(n)) => Ok(Some(*n != 0)),
            Some(other) => Err(corrupt(column, format!("{other:?} is not a flag"))),
        }
    }

    fn decimal(&self, column: &str) -> Result<Option<Decimal>, StoreError> {
        self.text(column)?
            .map(|text| text.parse().map_err(|e| corrupt(column, e)))
            .transpose()
    }

    fn time(&self, column: &str) -> Result<Option<Timestamp>, StoreError> {
        self.text(column)?
            .map(|text| {
                chrono::DateTime::parse_from_rfc3339(&text)
                    .map(|at| at.to_utc())
                    .map_err(|e| corrupt(column, e))
            })
            .transpose()
    }

    /// An aggregate renders no byte strings, so a child row has none.
    fn bytes(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.get(column) {
            None => Ok(None),
            Some(other) => Err(corrupt(column, format!("{other:?} is not bytes"))),
        }
    }
}

/// Row → domain for a `disputes` row read together with its children (see [`CHILD_COLUMNS`]):
/// the screen ids in position order, and the timeline entries and messages, each a row (a
/// [`FieldRow`], or a store's own) of the columns of [`TIMELINE_COLUMNS`] or
/// [`MESSAGE_COLUMNS`], in `seq` order.
/// One statement is one snapshot in both stores, so the row and its children always agree,
/// without a read transaction and its extra round trips.
pub fn dispute_with_children(
    row: &(impl StoredRow + ?Sized),
    screens: Vec<String>,
    timeline: &[impl StoredRow],
    messages: &[impl StoredRow],
) -> Result<Dispute, StoreError> {
    let timeline = timeline
        .iter()
        .map(|child| timeline_entry_from_row(child).map(|(_, entry)| entry))
        .collect::<Result<Vec<_>, _>>()?;
    let messages = messages
        .iter()
        .map(|child| message_from_row(child).map(|(_, message)| message))
        .collect::<Result<Vec<_>, _>>()?;
    dispute_from_row(row, screens, timeline, messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn unique_violations_name_what_exists() {
        assert_eq!(unique_subject("tenants"), "tenant");
        assert_eq!(unique_subject("api_keys"), "api key");
        assert_eq!(unique_subject("disputes"), "dispute");
        assert_eq!(unique_subject(""), "record");
    }

    pub(super) fn row(fields: &[(&str, Field)]) -> FieldRow {
        FieldRow(
            fields
                .iter()
                .map(|(name, field)| ((*name).to_owned(), field.clone()))
                .collect(),
        )
    }

    #[test]
    fn field_rows_read_both_stores_renderings() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::microseconds(7);
        // SQLite's fixed-width text and PostgreSQL's JSON rendering of a TIMESTAMPTZ.
        for text in [
            "2026-03-01T12:00:00.000007Z",
            "2026-03-01T14:00:00.000007+02:00",
        ] {
            let fields = row(&[("at", Field::Text(text.into()))]);
            assert_eq!(fields.time("at").unwrap(), Some(at));
        }
        let fields = row(&[
            ("seq", Field::Integer(3)),
            ("flag", Field::Flag(true)),
            ("bit", Field::Integer(0)),
            ("n", Field::Text("5.00".into())),
        ]);
        assert_eq!(fields.integer("seq").unwrap(), Some(3));
        assert_eq!(fields.text("absent").unwrap(), None);
        assert_eq!(fields.flag("flag").unwrap(), Some(true));
        assert_eq!(fields.flag("bit").unwrap(), Some(false));
        assert_eq!(fields.decimal("n").unwrap().unwrap().to_string(), "5.00");
        assert!(matches!(fields.text("seq"), Err(StoreError::Corrupt(_))));
        assert!(matches!(fields.integer("n"), Err(StoreError::Corrupt(_))));
        assert!(matches!(fields.time("n"), Err(StoreError::Corrupt(_))));
    }
}
