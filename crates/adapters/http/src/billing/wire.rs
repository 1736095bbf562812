//! The billing contract's documents, as seed 004 shows them. One set of request types serves JSON
//! and XML alike: every field is optional, so that a missing one is named, and every value is a
//! [`Scalar`], so that `5`, `"5"` and `<amount>5</amount>` all read the same. Answers are typed
//! (and are their own OpenAPI schemas); [`super::media`] writes them as JSON or XML.

use std::str::FromStr;

use chrono::DateTime;
use disputes_domain::{
    BillingRecord, BillingSubject, BillingTarget, BillingTerms, Claim, CommentAuthor, Dispute,
    DomainError, EvidenceBundle, EvidenceItem, EvidenceKind, NoteStatus, Quantity, ReasonCode,
    Subject, TaxTreatment, Timestamp, Unit, UsageEvents,
};
use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use utoipa::ToSchema;

use disputes_ports::{OpenRequest, Page};

use super::codes;
use super::poid;
use crate::shared::schema::{DisputeStatus, Outcome};
use crate::shared::{cursor_text, decimal, format_time, parse_time, Issues, Problem};

/// The currency of every billing claim. The amounts are in the account's currency, which only
/// the billing system knows; ISO 4217's "no currency" code says so instead of guessing.
const ACCOUNT_CURRENCY: &str = "XXX";

/// One value of a request as it arrived: a JSON string, number (its literal text: the server
/// parses JSON with `arbitrary_precision`) or boolean, or the text of an XML element.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar(Value);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            scalar @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => Ok(Scalar(scalar)),
            // An XML element reads as a map: `{}` when empty, `{"$text": ...}` with text.
            Value::Object(map) if map.is_empty() => Ok(Scalar(Value::String(String::new()))),
            Value::Object(map) => match map.into_iter().next() {
                Some((key, text @ Value::String(_))) if key == "$text" => Ok(Scalar(text)),
                _ => Err(D::Error::custom("must be a single value, not a structure")),
            },
            Value::Null | Value::Array(_) => Err(D::Error::custom("must be a single value")),
        }
    }
}

impl Scalar {
    fn text(&self, field: &str) -> Result<String, Problem> {
        match &self.0 {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(Problem::field(field, "must be text")),
        }
    }

    fn decimal(&self, field: &str) -> Result<Decimal, Problem> {
        decimal(field, &self.0)
    }

    /// A whole number, from a JSON number or a decimal string (`34` or `"34"`).
    fn integer(&self, field: &str) -> Result<i64, Problem> {
        let text = match &self.0 {
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            _ => return Err(Problem::field(field, "must be a whole number")),
        };
        text.parse()
            .map_err(|_| Problem::field(field, format!("{text:?} is not a whole number")))
    }

    /// An instant: RFC 3339 text, or milliseconds since the Unix epoch, as Billing Care's own
    /// examples write dates (a whole JSON number, or its digits).
    fn time(&self, field: &str) -> Result<Timestamp, Problem> {
        let text = self.text(field)?;
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return parse_time(field, text);
        }
        text.parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .ok_or_else(|| {
                Problem::field(
                    field,
                    format!("{text:?} is not a time in epoch milliseconds"),
                )
            })
    }

    /// `true` or `false`, as JSON booleans or as text.
    fn boolean(&self, field: &str) -> Result<bool, Problem> {
        match &self.0 {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(Problem::field(field, "must be true or false")),
        }
    }
}

// Each request type is also its schema in the OpenAPI document (`ToSchema`): what a client must
// send, which is stricter than what the type reads (every field optional, every value a
// `Scalar`), hence the `value_type`s and `required`s.

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentIn {
    pub comment: Option<Scalar>,
    /// Who wrote it, as Billing Care attributes a comment: kept on an opening's comments.
    pub csr_login_id: Option<Scalar>,
    pub csr_first_name: Option<Scalar>,
    pub csr_last_name: Option<Scalar>,
    pub csr_account_id: Option<Scalar>,
    pub external_user: Option<Scalar>,
    pub tracking_id: Option<Scalar>,
    pub entry_date: Option<Scalar>,
}

/// `notes` of `POST /disputes/item/{itemId}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = BillingOpenNotes,
    description = "`notes` of an opening: the account, the bill, the reason and comments."
)]
pub struct NotesIn {
    /// The note's own amount, signed (a credit is negative).
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Scalar>,
    /// The reason's domain, with `reasonId`; a pair of the tenant's reason table.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 2147483647)]
    pub domain_id: Option<Scalar>,
    /// The account's POID.
    #[schema(
        value_type = String,
        required = true,
        max_length = 255,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$",
        example = "0.0.0.1+-account+242856"
    )]
    pub account_id: Option<Scalar>,
    #[schema(
        value_type = Option<String>,
        max_length = 255,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$",
        example = "0.0.0.1+-billinfo+244392"
    )]
    pub bill_unit_id: Option<Scalar>,
    #[schema(value_type = Option<String>, max_length = 255,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$")]
    pub bill_id: Option<Scalar>,
    /// The reason within `domainId` (a number or a digit string); the two come together.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{1,9}$", example = "1")]
    pub reason_id: Option<Scalar>,
    /// The note's status code: BRM's 100 (not set), 101 (resolved) or 102 (unresolved, the
    /// default).
    #[schema(value_type = Option<i64>, minimum = 100, maximum = 102)]
    pub status: Option<Scalar>,
    /// BRM's note type, sub-type and header: kept as sent and shown back.
    #[serde(rename = "type")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub note_type: Option<Scalar>,
    #[schema(value_type = Option<String>, max_length = 255)]
    pub sub_type: Option<Scalar>,
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub header: Option<Scalar>,
    #[schema(value_type = Option<Vec<NoteCommentOut>>)]
    pub comments: Option<Vec<CommentIn>>,
}

/// `effective` in the document: an RFC 3339 time, or epoch milliseconds (a whole number).
fn effective_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Integer]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .minimum(Some(0))
        .description(Some(
            "When the adjustment takes effect: an RFC 3339 time, or milliseconds since the Unix epoch (as Billing Care's examples write dates).",
        ))
        .into()
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingOpenRequest, xml(name = "dispute"), description = "`POST /disputes/item/{itemId}`.", example = json!({
    "amount": 5,
    "includeTax": false,
    "notes": {
        "amount": -5,
        "domainId": 34,
        "accountId": "0.0.0.1+-account+242856",
        "billUnitId": "0.0.0.1+-billinfo+244392",
        "reasonId": "1",
        "status": 101,
        "comments": [{"comment": "Customer disagrees with item charges."}]
    }
}))]
pub struct OpenIn {
    /// The disputed amount, greater than zero.
    #[schema(value_type = f64, required = true, example = 5)]
    pub amount: Option<Scalar>,
    /// Whether the amount includes tax (default true).
    #[schema(value_type = Option<bool>)]
    pub include_tax: Option<Scalar>,
    /// Whether the amount is a credit to the customer (default true).
    #[schema(value_type = Option<bool>)]
    pub amount_is_credit: Option<Scalar>,
    /// When the adjustment takes effect: an RFC 3339 time, or milliseconds since the Unix epoch
    /// (as Billing Care's examples write dates).
    #[schema(schema_with = effective_schema)]
    pub effective: Option<Scalar>,
    /// Optional, as Billing Care has it; when sent, its `accountId` is required.
    #[schema(value_type = Option<NotesIn>, nullable = false)]
    pub notes: Option<NotesIn>,
    /// The BRM resource (balance) to adjust, such as a currency's numeric code; kept and shown.
    #[schema(value_type = Option<i32>)]
    pub resource_id: Option<Scalar>,
    /// What the adjustment affects; its `id` is kept and shown.
    #[schema(value_type = Option<ResourceRefIn>)]
    pub action_affects_ref: Option<ResourceRefIn>,
}

/// `notes` of `POST /disputes/settlement/item/{disputeId}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = BillingSettlementNotes,
    description = "`notes` of a settlement: a reason and comments."
)]
pub struct SettlementNotesIn {
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 2147483647)]
    pub domain_id: Option<Scalar>,
    /// The reason within `domainId`; the two come together.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{1,9}$", example = "1")]
    pub reason_id: Option<Scalar>,
    #[schema(value_type = Option<Vec<CommentOut>>)]
    pub comments: Option<Vec<CommentIn>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = BillingSettlementRequest,
    xml(name = "settlement"),
    description = "`POST /disputes/settlement/item/{disputeId}`."
)]
pub struct SettlementIn {
    /// The amount granted: the disputed amount settles in full, less in part, 0 not at all.
    #[schema(value_type = f64, required = true, example = 5)]
    pub amount: Option<Scalar>,
    pub notes: Option<SettlementNotesIn>,
}

/// A settlement in domain terms: the amount decides the outcome.
#[derive(Debug)]
pub struct SettlementRequest {
    pub amount: Decimal,
    pub reason: Option<ReasonCode>,
    /// The comments, one per line.
    pub notes: String,
}

/// An optional value parsed by `parse`, its problem noted.
fn optional<T>(
    issues: &mut Issues,
    value: Option<&Scalar>,
    parse: impl FnOnce(&Scalar) -> Result<T, Problem>,
) -> Option<T> {
    value.and_then(|v| issues.absorb(parse(v)))
}

/// `domainId` and `reasonId` name a reason together, or are both absent.
fn reason_code(
    issues: &mut Issues,
    domain_id: Option<&Scalar>,
    reason_id: Option<&Scalar>,
) -> Option<ReasonCode> {
    let domain = optional(issues, domain_id, |d| d.integer("notes.domainId"));
    let reason = optional(issues, reason_id, |r| r.integer("notes.reasonId"));
    match (domain_id.is_some(), reason_id.is_some()) {
        (true, false) => issues.add("notes.reasonId", "is required with notes.domainId"),
        (false, true) => issues.add("notes.domainId", "is required with notes.reasonId"),
        _ => {}
    }
    issues.absorb(
        ReasonCode::new(domain?, reason?)
            .map_err(|e| refused(e.field().unwrap_or("notes.reasonId"), e)),
    )
}

/// The text of each comment, each one required and not blank.
fn comments(issues: &mut Issues, comments: Option<&Vec<CommentIn>>) -> Vec<String> {
    let mut texts = Vec::new();
    for (i, comment) in comments.into_iter().flatten().enumerate() {
        let field = format!("notes.comments[{i}].comment");
        let Some(text) = issues.required(&field, comment.comment.as_ref()) else {
            continue;
        };
        match issues.absorb(text.text(&field)) {
            Some(text) if text.trim().is_empty() => issues.add(&field, "must not be empty"),
            Some(text) => texts.push(text),
            None => {}
        }
    }
    texts
}

/// Who wrote each comment of `comments`, as Billing Care attributes them; none when no comment
/// says.
fn comment_authors(issues: &mut Issues, comments: Option<&Vec<CommentIn>>) -> Vec<CommentAuthor> {
    let mut authors = Vec::new();
    for (i, comment) in comments.into_iter().flatten().enumerate() {
        let field = |name: &str| format!("notes.comments[{i}].{name}");
        let text = |issues: &mut Issues, name: &str, value: Option<&Scalar>| {
            optional(issues, value, |v| v.text(&field(name)))
        };
        let texts = [
            text(issues, "csrLoginId", comment.csr_login_id.as_ref()),
            text(issues, "csrFirstName", comment.csr_first_name.as_ref()),
            text(issues, "csrLastName", comment.csr_last_name.as_ref()),
            text(issues, "csrAccountId", comment.csr_account_id.as_ref()),
            text(issues, "externalUser", comment.external_user.as_ref()),
            text(issues, "trackingId", comment.tracking_id.as_ref()),
        ];
        let entry_date = optional(issues, comment.entry_date.as_ref(), |v| {
            v.time(&field("entryDate"))
        });
        let author = CommentAuthor::new(texts, entry_date)
            .map_err(|e| refused(&field(e.field().unwrap_or("comment")), e));
        if let Some(author) = issues.absorb(author) {
            authors.push(author);
        }
    }
    if authors.iter().all(CommentAuthor::is_empty) {
        authors.clear();
    }
    authors
}

/// A domain refusal about one value, reported under the wire's name for it (once: the domain's
/// message names its own field).
fn refused(field: &str, e: DomainError) -> Problem {
    let reason = match e {
        DomainError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    };
    Problem::field(field, reason)
}

/// What a bill or item dispute is opened on: the path's id, verbatim.
#[derive(Debug)]
pub enum OpenedOn {
    Item(String),
    Bill(String),
}

/// The fields every opening carries, each read and its problem noted, before the domain
/// validates values.
struct OpeningFields {
    amount: Option<Decimal>,
    include_tax: Option<bool>,
    credit: Option<bool>,
    effective: Option<Timestamp>,
    account_id: Option<String>,
    bill_unit_id: Option<String>,
    bill_id: Option<String>,
    note_amount: Option<Decimal>,
    reason: Option<ReasonCode>,
    note_status: Option<NoteStatus>,
    comments: Vec<String>,
    record: Option<BillingRecord>,
}

impl OpenIn {
    /// Checks presence and form of every field first, naming each problem, then lets the domain
    /// validate values.
    pub fn into_request(self, on: OpenedOn) -> Result<OpenRequest, Problem> {
        let mut issues = Issues::default();
        let mut fields = self.fields(&mut issues);
        issues.finish()?;
        // The ids name the subject; the rest of the fields make the claim.
        let (account_id, bill_unit_id, bill_id) = (
            fields.account_id.take(),
            fields.bill_unit_id.take(),
            fields.bill_id.take(),
        );
        let subject = match on {
            OpenedOn::Item(item) => BillingSubject::item(item, account_id, bill_unit_id, bill_id)?,
            // The path names the bill; the notes' `billId`, if any, is the same bill or no
            // other.
            OpenedOn::Bill(bill) => {
                if bill_id.as_ref().is_some_and(|named| *named != bill) {
                    return Err(Problem::field(
                        "notes.billId",
                        "must be the disputed bill's id, or left out",
                    ));
                }
                BillingSubject::bill(bill, account_id, bill_unit_id)?
            }
        };
        fields.into_request(subject, None, None)
    }

    /// Reads every field of the body into `issues`.
    fn fields(self, issues: &mut Issues) -> OpeningFields {
        let amount = issues.required("amount", self.amount.as_ref());
        let amount = optional(issues, amount, |a| a.decimal("amount"));
        let include_tax = optional(issues, self.include_tax.as_ref(), |v| {
            v.boolean("includeTax")
        });
        let credit = optional(issues, self.amount_is_credit.as_ref(), |v| {
            v.boolean("amountIsCredit")
        });
        let effective = optional(issues, self.effective.as_ref(), |v| v.time("effective"));
        // Billing Care needs only the amount; notes, when sent, name their account.
        let account_id = match &self.notes {
            Some(notes) => issues.required("notes.accountId", notes.account_id.as_ref()),
            None => None,
        };
        let account_id = optional(issues, account_id, |a| a.text("notes.accountId"));
        let notes = self.notes.unwrap_or_default();
        let text = |issues: &mut Issues, field: &str, value: Option<&Scalar>| {
            optional(issues, value, |v| v.text(field))
        };
        let bill_unit_id = text(issues, "notes.billUnitId", notes.bill_unit_id.as_ref());
        let bill_id = text(issues, "notes.billId", notes.bill_id.as_ref());
        let note_amount = optional(issues, notes.amount.as_ref(), |a| a.decimal("notes.amount"));
        let reason = reason_code(issues, notes.domain_id.as_ref(), notes.reason_id.as_ref());
        let note_status = optional(issues, notes.status.as_ref(), |s| {
            NoteStatus::from_code(s.integer("notes.status")?)
                .map_err(|e| refused("notes.status", e))
        });
        let comments = comments(issues, notes.comments.as_ref());
        let resource_id = optional(issues, self.resource_id.as_ref(), |r| {
            let id = r.integer("resourceId")?;
            i32::try_from(id)
                .map_err(|_| Problem::field("resourceId", "must be a 32-bit whole number"))
        });
        let action_affects = self.action_affects_ref.as_ref().and_then(|r| {
            let id = issues.required("actionAffectsRef.id", r.id.as_ref())?;
            optional(issues, Some(id), |id| id.text("actionAffectsRef.id"))
        });
        let note = [
            text(issues, "notes.type", notes.note_type.as_ref()),
            text(issues, "notes.subType", notes.sub_type.as_ref()),
            text(issues, "notes.header", notes.header.as_ref()),
        ];
        let authors = comment_authors(issues, notes.comments.as_ref());
        let record = BillingRecord::new(resource_id, action_affects, note, authors)
            .map_err(|e| refused(e.field().unwrap_or("notes"), e));
        let record = issues.absorb(record);
        OpeningFields {
            amount,
            include_tax,
            credit,
            effective,
            account_id,
            bill_unit_id,
            bill_id,
            note_amount,
            reason,
            note_status,
            comments,
            record,
        }
    }
}

impl OpeningFields {
    /// The opening of `subject` these fields describe; `tax` (an event dispute's `taxType`)
    /// decides over `includeTax` when sent.
    fn into_request(
        self,
        subject: BillingSubject,
        tax: Option<TaxTreatment>,
        percent: Option<Decimal>,
    ) -> Result<OpenRequest, Problem> {
        let Some(amount) = self.amount else {
            unreachable!("the caller's issues were finished, so the amount is present")
        };
        let unit = Unit::new(ACCOUNT_CURRENCY)?;
        let quantity = Quantity::new(amount, unit).map_err(|_| {
            Problem::field("amount", "must be greater than zero").with_code(codes::INVALID_AMOUNT)
        })?;
        let tax = tax.unwrap_or(if self.include_tax.unwrap_or(true) {
            TaxTreatment::Included
        } else {
            TaxTreatment::Excluded
        });
        let terms = BillingTerms {
            tax,
            credit: self.credit.unwrap_or(true),
            reason: self.reason,
            // Billing Care's default: a note not said to be resolved is unresolved (102).
            note_status: self.note_status.unwrap_or(NoteStatus::Unresolved),
            note_amount: self.note_amount,
            effective: self.effective,
            percent,
        };
        let claim = Claim::billed(quantity, terms)?.with_record(self.record.unwrap_or_default());
        let evidence = self
            .comments
            .into_iter()
            .enumerate()
            .map(|(i, comment)| {
                EvidenceItem::new(EvidenceKind::Statement, comment)
                    .map_err(|e| refused(&format!("notes.comments[{i}].comment"), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OpenRequest {
            subject: Subject::Billing(subject),
            claim,
            evidence: EvidenceBundle::new(evidence),
            opened_by: None,
        })
    }
}

/// A reference to a resource, as Billing Care sends one (`ResourceRef`): its `id`; a `uri` may
/// come with it and is not read, since the id names the resource.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = BillingResourceRefIn)]
pub struct ResourceRefIn {
    #[schema(
        value_type = String,
        required = true,
        max_length = 255,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$",
        example = "0.0.0.1+-event-session-telco-gsm+295437"
    )]
    pub id: Option<Scalar>,
}

/// `events` of an event dispute.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingEventsIn)]
pub struct EventsIn {
    /// The disputed events, 1 to 100, none twice; in XML, repeated `<eventRef>` elements.
    #[schema(value_type = Vec<ResourceRefIn>, required = true, min_items = 1, max_items = 100)]
    pub event_ref: Option<Vec<ResourceRefIn>>,
}

/// `POST /disputes/event`: an opening's fields and which of an account's usage events it
/// disputes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingEventOpenRequest, description = "`POST /disputes/event`.", example = json!({
    "accountRef": {"id": "0.0.0.1+-account+242856"},
    "amount": 2.5,
    "events": {"eventRef": [{"id": "0.0.0.1+-event-session-telco-gsm+295437"}]},
    "appliesToTotalOfAllEvents": true,
    "taxType": 9,
    "notes": {
        "accountId": "0.0.0.1+-account+242856",
        "domainId": 34,
        "reasonId": "1",
        "comments": [{"comment": "Roaming calls charged twice."}]
    }
}))]
pub struct EventOpenIn {
    // An opening's fields, as in `OpenIn`: spelled out rather than `#[serde(flatten)]`ed, since
    // a flattened struct loses the repeated elements of XML lists (`<comments>`).
    #[schema(value_type = f64, required = true, example = 2.5)]
    pub amount: Option<Scalar>,
    #[schema(value_type = Option<bool>)]
    pub include_tax: Option<Scalar>,
    #[schema(value_type = Option<bool>)]
    pub amount_is_credit: Option<Scalar>,
    #[schema(schema_with = effective_schema)]
    pub effective: Option<Scalar>,
    #[schema(value_type = Option<NotesIn>, nullable = false)]
    pub notes: Option<NotesIn>,
    #[schema(value_type = Option<i32>)]
    pub resource_id: Option<Scalar>,
    #[schema(value_type = Option<ResourceRefIn>)]
    pub action_affects_ref: Option<ResourceRefIn>,
    /// The account whose events are disputed.
    #[schema(value_type = ResourceRefIn, required = true)]
    pub account_ref: Option<ResourceRefIn>,
    #[schema(value_type = EventsIn, required = true)]
    pub events: Option<EventsIn>,
    /// Whether the amount is of the events' total (default true) or of each.
    #[schema(value_type = Option<bool>)]
    pub applies_to_total_of_all_events: Option<Scalar>,
    /// The adjustment as a percentage (5 is 5 %), above 0 and at most 100; kept beside the
    /// amount, which stays the claim.
    #[schema(value_type = Option<f64>)]
    pub percent: Option<Scalar>,
    /// BRM's tax treatment: 8 with tax, 9 the amount only, 10 the tax only; when sent it
    /// decides over `includeTax`.
    #[schema(value_type = Option<i64>, minimum = 8, maximum = 10)]
    pub tax_type: Option<Scalar>,
}

impl EventOpenIn {
    pub fn into_request(self) -> Result<OpenRequest, Problem> {
        let mut issues = Issues::default();
        let opening = OpenIn {
            amount: self.amount,
            include_tax: self.include_tax,
            amount_is_credit: self.amount_is_credit,
            effective: self.effective,
            notes: self.notes,
            resource_id: self.resource_id,
            action_affects_ref: self.action_affects_ref,
        };
        let mut fields = opening.fields(&mut issues);
        let account = issues.required("accountRef", self.account_ref.as_ref());
        let account = account.and_then(|a| issues.required("accountRef.id", a.id.as_ref()));
        let account = optional(&mut issues, account, |a| a.text("accountRef.id"));
        let refs = issues.required("events", self.events.as_ref());
        let refs = refs.and_then(|e| issues.required("events.eventRef", e.event_ref.as_ref()));
        let mut event_ids = Vec::new();
        for (i, event) in refs.into_iter().flatten().enumerate() {
            let field = format!("events.eventRef[{i}].id");
            let id = issues.required(&field, event.id.as_ref());
            if let Some(id) = optional(&mut issues, id, |id| id.text(&field)) {
                event_ids.push(id);
            }
        }
        let applies_to_total = optional(
            &mut issues,
            self.applies_to_total_of_all_events.as_ref(),
            |v| v.boolean("appliesToTotalOfAllEvents"),
        );
        let percent = optional(&mut issues, self.percent.as_ref(), |p| p.decimal("percent"));
        let tax = optional(&mut issues, self.tax_type.as_ref(), |t| {
            match t.integer("taxType")? {
                8 => Ok(TaxTreatment::Included),
                9 => Ok(TaxTreatment::Excluded),
                10 => Ok(TaxTreatment::Only),
                other => Err(Problem::field(
                    "taxType",
                    format!("{other} is not 8 (with tax), 9 (amount only) or 10 (tax only)"),
                )),
            }
        });
        issues.finish()?;
        let Some(account) = account else {
            unreachable!("finish() returned Ok, so the account is present")
        };
        // The notes' account, when sent, is the disputed events' account.
        if fields.account_id.as_ref().is_some_and(|a| *a != account) {
            return Err(Problem::field(
                "notes.accountId",
                "must be accountRef.id's account",
            ));
        }
        let events = UsageEvents::new(event_ids, applies_to_total.unwrap_or(true))?;
        let subject = BillingSubject::events(
            events,
            account,
            fields.bill_unit_id.take(),
            fields.bill_id.take(),
        )?;
        fields.into_request(subject, tax, percent)
    }
}

impl SettlementIn {
    pub fn into_request(self) -> Result<SettlementRequest, Problem> {
        let mut issues = Issues::default();
        let amount = issues.required("amount", self.amount.as_ref());
        let amount = optional(&mut issues, amount, |a| a.decimal("amount"));
        let notes = self.notes.unwrap_or_default();
        let reason = reason_code(
            &mut issues,
            notes.domain_id.as_ref(),
            notes.reason_id.as_ref(),
        );
        let comments = comments(&mut issues, notes.comments.as_ref());
        issues.finish()?;
        Ok(SettlementRequest {
            amount: amount.expect("finish() returned Ok, so the amount is present"),
            reason,
            notes: comments.join("\n"),
        })
    }
}

// ---- answers ----

/// An amount as a JSON number with the decimal's own digits and scale. With
/// `arbitrary_precision` a `Number` holds its literal text, so nothing passes through `f64`.
pub fn number(amount: Decimal) -> Value {
    let text = amount.to_string();
    serde_json::Number::from_str(&text).map_or(Value::String(text), Value::Number)
}

// ---- answers ----
//
// Each answer type is also its schema in the OpenAPI document (`ToSchema`, named as the document
// names it), so a field changes in one place. An answer is written through a JSON value (whose
// keys, and so the XML's elements, come in alphabetical order) by [`super::media`].

/// An amount as this contract shows it: a JSON number with every digit of the decimal.
#[derive(Debug, Clone, Copy)]
pub struct AmountOut(Decimal);

impl Serialize for AmountOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        number(self.0).serialize(serializer)
    }
}

/// Where a created resource lives.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BillingReferenceTarget)]
pub struct ReferenceTargetOut<'a> {
    #[schema(example = "0.0.0.1+-item-dispute+42")]
    id: &'a str,
    uri: &'a str,
}

/// The `201` answer to a create: a reference to the new resource.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = BillingReference,
    xml(name = "resource"),
    description = "The answer to a creation: a reference to what was created."
)]
pub struct ReferenceOut<'a> {
    /// Always `null`.
    #[schema(value_type = Option<String>, required = true)]
    extension: Option<()>,
    reference: ReferenceTargetOut<'a>,
}

impl<'a> ReferenceOut<'a> {
    pub fn new(id: &'a str, uri: &'a str) -> Self {
        ReferenceOut {
            extension: None,
            reference: ReferenceTargetOut { id, uri },
        }
    }
}

/// One comment of a dispute or settlement.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BillingComment)]
pub struct CommentOut<'a> {
    #[schema(min_length = 1)]
    comment: &'a str,
}

/// One comment of a dispute's notes, with who wrote it as Billing Care attributes comments: each
/// part only when the opening gave it, so that a comment without one is `{comment}` alone.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingNoteComment)]
pub struct NoteCommentOut<'a> {
    #[schema(min_length = 1)]
    comment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    csr_login_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    csr_first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    csr_last_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    csr_account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tracking_id: Option<&'a str>,
    /// An RFC 3339 time; sent, it may also be epoch milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    entry_date: Option<String>,
}

/// The comments a dispute was opened with, each with its author when the opening named one.
fn note_comments(d: &Dispute) -> Vec<NoteCommentOut<'_>> {
    let authors = d
        .claim()
        .record
        .as_ref()
        .map_or(&[][..], |r| &r.comment_authors[..]);
    d.evidence()
        .values(EvidenceKind::Statement)
        .enumerate()
        .map(|(i, comment)| {
            let author = authors.get(i);
            let text = |part: fn(&CommentAuthor) -> &Option<String>| {
                author.and_then(|a| part(a).as_deref())
            };
            NoteCommentOut {
                comment,
                csr_login_id: text(|a| &a.csr_login_id),
                csr_first_name: text(|a| &a.csr_first_name),
                csr_last_name: text(|a| &a.csr_last_name),
                csr_account_id: text(|a| &a.csr_account_id),
                external_user: text(|a| &a.external_user),
                tracking_id: text(|a| &a.tracking_id),
                entry_date: author.and_then(|a| a.entry_date).map(format_time),
            }
        })
        .collect()
}

fn comment_list<'a>(comments: impl Iterator<Item = &'a str>) -> Vec<CommentOut<'a>> {
    comments.map(|comment| CommentOut { comment }).collect()
}

/// A reason as the seed sends it: the domain a number, the reason a string.
fn reason_fields(code: Option<ReasonCode>) -> (Option<i32>, Option<String>) {
    code.map_or((None, None), |c| {
        (Some(c.domain_id()), Some(c.reason_id().to_string()))
    })
}

/// `notes` of a dispute as shown; what was not given is `null`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingDisputeNotes)]
pub struct DisputeNotesOut<'a> {
    #[schema(value_type = Option<f64>, required = true)]
    amount: Option<AmountOut>,
    #[schema(value_type = Option<i64>, required = true)]
    domain_id: Option<i32>,
    #[schema(required = true)]
    reason_id: Option<String>,
    #[schema(value_type = Option<i64>, required = true)]
    status: Option<u16>,
    /// BRM's note type, sub-type and header, as the opening sent them.
    #[serde(rename = "type")]
    #[schema(required = true)]
    note_type: Option<&'a str>,
    #[schema(required = true)]
    sub_type: Option<&'a str>,
    #[schema(required = true)]
    header: Option<&'a str>,
    comments: Vec<NoteCommentOut<'a>>,
}

impl<'a> DisputeNotesOut<'a> {
    /// The notes a dispute was opened with.
    fn of(d: &'a Dispute) -> Self {
        let terms = d.claim().billing;
        let record = d.claim().record.as_ref();
        let (domain_id, reason_id) = reason_fields(terms.and_then(|t| t.reason));
        DisputeNotesOut {
            amount: terms.and_then(|t| t.note_amount).map(AmountOut),
            domain_id,
            reason_id,
            status: terms.map(|t| t.note_status.code()),
            note_type: record.and_then(|r| r.note_type.as_deref()),
            sub_type: record.and_then(|r| r.note_sub_type.as_deref()),
            header: record.and_then(|r| r.note_header.as_deref()),
            comments: note_comments(d),
        }
    }
}

/// `GET /disputes/notes/{billId}`: the notes of the bill's newest dispute, as Billing Care
/// answers a disputed bill's notes (`{extension, notes}`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BillingBillNotes, xml(name = "notesResponse"))]
pub struct BillNotesOut<'a> {
    /// Always `null`.
    #[schema(value_type = Option<String>, required = true)]
    extension: Option<()>,
    notes: BillNotesDetailOut<'a>,
}

/// The notes of one dispute of a bill, with what they are about.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingBillNotesDetail)]
pub struct BillNotesDetailOut<'a> {
    /// The dispute's POID.
    id: String,
    /// The disputed item's POID; `null` on bill and event disputes.
    #[schema(required = true)]
    item_id: Option<&'a str>,
    #[schema(required = true)]
    account_id: Option<&'a str>,
    #[schema(required = true)]
    bill_id: Option<&'a str>,
    #[schema(required = true)]
    bill_unit_id: Option<&'a str>,
    #[schema(format = DateTime, required = true)]
    effective_date: Option<String>,
    /// When the dispute was settled; `null` while it is open.
    #[schema(format = DateTime, required = true)]
    closed_date: Option<String>,
    #[serde(flatten)]
    #[schema(inline)]
    notes: DisputeNotesOut<'a>,
}

impl<'a> BillNotesOut<'a> {
    pub fn render(d: &'a Dispute) -> Result<Self, Problem> {
        let item = bill_item(d)?;
        Ok(BillNotesOut {
            extension: None,
            notes: BillNotesDetailOut {
                id: poid::dispute(d.id()),
                item_id: item.item_id(),
                account_id: item.account_id(),
                bill_id: item.bill_id(),
                bill_unit_id: item.bill_unit_id(),
                effective_date: d.claim().billing.and_then(|t| t.effective).map(format_time),
                closed_date: d.resolution().map(|r| format_time(r.at)),
                notes: DisputeNotesOut::of(d),
            },
        })
    }
}

/// `notes` of a settlement as shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingSettlementNotesShown)]
pub struct SettlementNotesOut<'a> {
    #[schema(value_type = Option<i64>, required = true)]
    domain_id: Option<i32>,
    #[schema(required = true)]
    reason_id: Option<String>,
    comments: Vec<CommentOut<'a>>,
}

/// A dispute's settlement, as part of the dispute.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingDisputeSettlement)]
pub struct DisputeSettlementOut<'a> {
    id: String,
    #[schema(value_type = f64)]
    amount: AmountOut,
    #[schema(value_type = Outcome)]
    outcome: &'static str,
    #[schema(format = DateTime)]
    settled_date: String,
    notes: SettlementNotesOut<'a>,
}

/// A bill item dispute as `GET /disputes/{id}` shows it: ids, account, item, amounts, tax, reason,
/// note status, comments, state, and the settlement once there is one.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = BillingDispute,
    xml(name = "dispute"),
    description = "A bill item dispute. Fields with no value are `null` (left out in XML)."
)]
pub struct DisputeOut<'a> {
    #[schema(example = "0.0.0.1+-item-dispute+42")]
    id: String,
    uri: String,
    /// What is disputed: an `item` (`POST /disputes/item/{itemId}`), a `bill`
    /// (`POST /disputes/bill/{billId}`) or usage events (`event`, `POST /disputes/event`).
    #[schema(value_type = DisputeTypeSchema)]
    dispute_type: &'static str,
    /// The disputed item's POID; `null` on bill and event disputes.
    #[schema(required = true)]
    item_id: Option<&'a str>,
    /// The disputed events, on an event dispute; else `null`.
    #[schema(required = true)]
    events: Option<EventsOut<'a>>,
    /// On an event dispute, whether the amount is of the events' total; else `null`.
    #[schema(required = true)]
    applies_to_total_of_all_events: Option<bool>,
    /// The percentage the opening stated beside the amount, if any.
    #[schema(value_type = Option<f64>, required = true)]
    percent: Option<AmountOut>,
    /// BRM's tax treatment: 8 with tax, 9 the amount only, 10 the tax only.
    #[schema(minimum = 8, maximum = 10)]
    tax_type: u8,
    /// The BRM resource (balance) the opening named, if any.
    #[schema(required = true)]
    resource_id: Option<i32>,
    /// What the adjustment affects, as the opening named it, if it did.
    #[schema(required = true)]
    action_affects_ref: Option<IdRefOut<'a>>,
    /// `null` when the opening sent no notes.
    #[schema(required = true)]
    account_id: Option<&'a str>,
    #[schema(required = true)]
    bill_unit_id: Option<&'a str>,
    #[schema(required = true)]
    bill_id: Option<&'a str>,
    #[schema(value_type = f64)]
    amount: AmountOut,
    #[schema(required = true)]
    include_tax: Option<bool>,
    #[schema(required = true)]
    amount_is_credit: Option<bool>,
    #[schema(format = DateTime, required = true)]
    effective: Option<String>,
    notes: DisputeNotesOut<'a>,
    #[schema(value_type = DisputeStatus)]
    status: &'static str,
    #[schema(format = DateTime)]
    created_date: String,
    #[schema(format = DateTime)]
    modified_date: String,
    #[schema(required = true)]
    settlement: Option<DisputeSettlementOut<'a>>,
}

/// The events of an event dispute as Billing Care sends them: `{eventRef: [{id}]}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingEvents)]
pub struct EventsOut<'a> {
    event_ref: Vec<IdRefOut<'a>>,
}

/// A reference by id alone, as Billing Care's `ResourceRef` of an event or of what an action
/// affects.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BillingIdRef)]
pub struct IdRefOut<'a> {
    #[schema(example = "0.0.0.1+-event-session-telco-gsm+295437")]
    id: &'a str,
}

impl<'a> EventsOut<'a> {
    fn of(events: &'a UsageEvents) -> Self {
        EventsOut {
            event_ref: events.ids().iter().map(|id| IdRefOut { id }).collect(),
        }
    }
}

/// What kind of dispute this is, in Billing Care's words.
#[derive(Debug, ToSchema)]
#[schema(as = DisputeType)]
#[allow(dead_code)] // a schema only: the answers write `dispute_type`'s text
pub enum DisputeTypeSchema {
    #[schema(rename = "item")]
    Item,
    #[schema(rename = "bill")]
    Bill,
    #[schema(rename = "event")]
    Event,
}

fn dispute_type(subject: &BillingSubject) -> &'static str {
    match subject.target() {
        BillingTarget::Item(_) => "item",
        BillingTarget::Bill(_) => "bill",
        BillingTarget::Events(_) => "event",
    }
}

/// BRM's `taxType` code of a tax treatment.
fn tax_type(tax: TaxTreatment) -> u8 {
    match tax {
        TaxTreatment::Included => 8,
        TaxTreatment::Excluded => 9,
        TaxTreatment::Only => 10,
    }
}

/// The bill item `d` is about. The handlers only ever pass bill item disputes (the service
/// filters by kind), so any other subject is a fault of ours.
fn bill_item(d: &Dispute) -> Result<&BillingSubject, Problem> {
    match d.subject() {
        Subject::Billing(item) => Ok(item),
        _ => Err(Problem::internal(&format!(
            "dispute {} is not a bill item dispute",
            d.id()
        ))),
    }
}

impl<'a> DisputeOut<'a> {
    /// Renders a bill item dispute; `base` is the API's base as the client reached it. The
    /// handlers only ever pass bill item disputes (the service filters by kind), so any other
    /// subject is a fault of ours.
    pub fn render(d: &'a Dispute, base: &str) -> Result<Self, Problem> {
        let item = bill_item(d)?;
        let terms = d.claim().billing;
        let id = poid::dispute(d.id());
        let settlement = d.resolution().map(|r| {
            let (domain_id, reason_id) = reason_fields(r.reason);
            let comments = r.notes.split('\n').filter(|c| !c.is_empty());
            DisputeSettlementOut {
                id: poid::settlement(d.id()),
                amount: AmountOut(r.settled_amount),
                outcome: r.outcome.as_str(),
                settled_date: format_time(r.at),
                notes: SettlementNotesOut {
                    domain_id,
                    reason_id,
                    comments: comment_list(comments),
                },
            }
        });
        let events = item.events_disputed();
        let record = d.claim().record.as_ref();
        Ok(DisputeOut {
            uri: format!("{base}/disputes/{id}"),
            id,
            dispute_type: dispute_type(item),
            item_id: item.item_id(),
            events: events.map(EventsOut::of),
            applies_to_total_of_all_events: events.map(UsageEvents::applies_to_total),
            percent: terms.and_then(|t| t.percent).map(AmountOut),
            tax_type: tax_type(terms.map_or(TaxTreatment::Included, |t| t.tax)),
            resource_id: record.and_then(|r| r.resource_id),
            action_affects_ref: record
                .and_then(|r| r.action_affects.as_deref())
                .map(|id| IdRefOut { id }),
            account_id: item.account_id(),
            bill_unit_id: item.bill_unit_id(),
            bill_id: item.bill_id(),
            amount: AmountOut(d.claim().amount()),
            include_tax: terms.map(|t| t.tax == TaxTreatment::Included),
            amount_is_credit: terms.map(|t| t.credit),
            effective: terms.and_then(|t| t.effective).map(format_time),
            notes: DisputeNotesOut::of(d),
            status: d.status().as_str(),
            created_date: format_time(d.opened_at()),
            modified_date: format_time(d.updated_at()),
            settlement,
        })
    }
}

/// A page of an account's disputes, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingDisputePage, xml(name = "disputeList"))]
pub struct PageOut<'a> {
    disputes: Vec<DisputeOut<'a>>,
    /// Pass as `cursor` for the next page; `null` on the last.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

impl<'a> PageOut<'a> {
    pub fn render(page: &'a Page, base: &str) -> Result<Self, Problem> {
        Ok(PageOut {
            disputes: page
                .disputes
                .iter()
                .map(|d| DisputeOut::render(d, base))
                .collect::<Result<_, _>>()?,
            next_cursor: page.next.map(cursor_text),
        })
    }
}

/// One open dispute as Billing Care lists them (`GET /disputes/account/{accountId}`,
/// `GET /disputes/bill/{billId}`): an A/R action of its account. What Billing Care reads from
/// BRM (names, the bill unit's name, the unallocated amount) this engine does not hold: `null`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BillingArAction, xml(name = "arAction"))]
pub struct ArActionOut<'a> {
    /// The account's POID, when the opening named it.
    #[schema(required = true)]
    account_number: Option<&'a str>,
    /// The disputed amount as the account books it: negative for a credit.
    #[schema(value_type = f64)]
    ar_action_amount: AmountOut,
    /// The dispute's display id, `D1-<number>` (the number of its POID).
    #[schema(example = "D1-42")]
    ar_action_id: String,
    ar_action_ref: ResourceRefOut,
    /// BRM's A/R action type: 6 an open item dispute, 9 an open event dispute, 11 an open bill
    /// dispute.
    #[schema(example = 6)]
    ar_action_type: u8,
    #[serde(rename = "billID")]
    #[schema(required = true)]
    bill_id: Option<&'a str>,
    /// 1 billed (the dispute names its bill), 2 unbilled.
    billing_status: u8,
    #[schema(format = DateTime)]
    created_date: String,
    #[schema(format = DateTime, required = true)]
    effective_date: Option<String>,
    /// The disputed item's POID (ours: Billing Care shows its name, `itemName`); `null` on bill
    /// and event disputes.
    #[schema(required = true)]
    item_id: Option<&'a str>,
    #[schema(value_type = Option<f64>, required = true)]
    ar_unallocated_amount: Option<()>,
    #[schema(value_type = Option<String>, required = true)]
    bill_unit_name: Option<()>,
    #[schema(value_type = Option<String>, required = true)]
    first_name: Option<()>,
    #[schema(value_type = Option<String>, required = true)]
    last_name: Option<()>,
    #[schema(value_type = Option<String>, required = true)]
    item_name: Option<()>,
    /// Always `null`.
    #[schema(value_type = Option<String>, required = true)]
    extension: Option<()>,
}

/// BRM's A/R action type of an open dispute of `subject`: 6 of an item, 9 of events, 11 of a
/// bill (the settled ones, 7, 10 and 12, are never listed).
fn open_ar_action_type(subject: &BillingSubject) -> u8 {
    match subject.target() {
        BillingTarget::Item(_) => 6,
        BillingTarget::Events(_) => 9,
        BillingTarget::Bill(_) => 11,
    }
}

impl<'a> ArActionOut<'a> {
    /// An open bill item dispute as an A/R action, its reference under `base`.
    pub fn render(d: &'a Dispute, base: &str) -> Result<Self, Problem> {
        let item = bill_item(d)?;
        let terms = d.claim().billing;
        let amount = d.claim().amount();
        let booked = if terms.is_none_or(|t| t.credit) {
            -amount
        } else {
            amount
        };
        let id = poid::dispute(d.id());
        Ok(ArActionOut {
            account_number: item.account_id(),
            ar_action_amount: AmountOut(booked),
            ar_action_id: format!("D1-{}", d.id()),
            ar_action_ref: ResourceRefOut {
                uri: format!("{base}/disputes/{id}"),
                id,
            },
            ar_action_type: open_ar_action_type(item),
            bill_id: item.bill_id(),
            billing_status: if item.bill_id().is_some() { 1 } else { 2 },
            created_date: format_time(d.opened_at()),
            effective_date: terms.and_then(|t| t.effective).map(format_time),
            item_id: item.item_id(),
            ar_unallocated_amount: None,
            bill_unit_name: None,
            first_name: None,
            last_name: None,
            item_name: None,
            extension: None,
        })
    }

    /// Every dispute of `disputes` as an A/R action.
    pub fn render_all(disputes: &'a [Dispute], base: &str) -> Result<Vec<Self>, Problem> {
        disputes
            .iter()
            .map(|d| ArActionOut::render(d, base))
            .collect()
    }
}

/// The document's schema of an A/R listing: the array Billing Care answers (`arActionsList`).
pub struct ArActionsOut;

impl utoipa::PartialSchema for ArActionsOut {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::ArrayBuilder;
        use utoipa::openapi::xml::XmlBuilder;
        use utoipa::openapi::{Ref, RefOr};
        RefOr::T(
            ArrayBuilder::new()
                .items(Ref::from_schema_name("BillingArAction"))
                .xml(Some(
                    XmlBuilder::new()
                        .name(Some("arActionsList"))
                        .wrapped(Some(true))
                        .build(),
                ))
                .description(Some(
                    "Open disputes as A/R actions, newest first (`<arActionsList>` of `<arAction>` in XML).",
                ))
                .into(),
        )
    }
}

impl ToSchema for ArActionsOut {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("BillingArActions")
    }
}

/// The settlement of a dispute, for `GET /disputes/settlement/{id}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = BillingSettlement,
    xml(name = "settlement"),
    description = "What was disputed and settled, and what the customer still owes of the disputed amount."
)]
pub struct SettlementReportOut<'a> {
    #[schema(example = "0.0.0.1+-item-settlement+42")]
    id: String,
    dispute_id: String,
    #[schema(value_type = f64)]
    disputed_amount: AmountOut,
    #[schema(format = DateTime)]
    disputed_date: String,
    #[schema(value_type = f64)]
    settled_amount: AmountOut,
    #[schema(format = DateTime)]
    settled_date: String,
    #[schema(value_type = f64)]
    amount_due_after_settlement: AmountOut,
    /// Billing Care's name of `id`.
    #[schema(example = "0.0.0.1+-item-settlement+42")]
    settlement_id: String,
    settlement_ref: ResourceRefOut,
    dispute_ref: ResourceRefOut,
    /// Billing Care's name of `settledAmount`.
    #[schema(value_type = f64)]
    settlement_amount: AmountOut,
    /// Billing Care's name of `amountDueAfterSettlement`.
    #[schema(value_type = f64)]
    due: AmountOut,
    /// The disputed item's POID; `null` on bill and event disputes.
    #[schema(required = true)]
    item_id: Option<&'a str>,
    #[schema(required = true)]
    bill_id: Option<&'a str>,
    /// How many events were disputed, as text (as Billing Care writes it); `null` unless an
    /// event dispute.
    #[schema(required = true)]
    events_count: Option<String>,
    notes: SettlementNotesOut<'a>,
    /// The item's name and number, the bill's number and period: what Billing Care reads from
    /// BRM, which this engine does not hold. Always `null` (left out in XML).
    #[schema(value_type = Option<String>, required = true)]
    item_name: Option<()>,
    #[schema(value_type = Option<String>, required = true)]
    item_number: Option<()>,
    #[schema(value_type = Option<String>, required = true)]
    bill_number: Option<()>,
    #[schema(value_type = Option<String>, required = true)]
    billing_start: Option<()>,
    #[schema(value_type = Option<String>, required = true)]
    billing_end: Option<()>,
    /// Always `null`.
    #[schema(value_type = Option<String>, required = true)]
    extension: Option<()>,
}

/// A reference to a resource, as Billing Care writes one (`ResourceRef`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BillingResourceRef)]
pub struct ResourceRefOut {
    id: String,
    uri: String,
}

impl<'a> SettlementReportOut<'a> {
    /// The settlement of `d`, its references under `base` (the API's base URL); `None` while
    /// it has none, and for a dispute of another kind.
    pub fn render(d: &'a Dispute, base: &str) -> Option<Self> {
        let resolution = d.resolution()?;
        let item = bill_item(d).ok()?;
        let disputed = d.claim().amount();
        let settlement = poid::settlement(d.id());
        let dispute = poid::dispute(d.id());
        let (domain_id, reason_id) = reason_fields(resolution.reason);
        let comments = resolution.notes.split('\n').filter(|c| !c.is_empty());
        let due = disputed - resolution.settled_amount;
        Some(SettlementReportOut {
            settlement_ref: ResourceRefOut {
                uri: format!("{base}/disputes/settlement/{settlement}"),
                id: settlement.clone(),
            },
            dispute_ref: ResourceRefOut {
                uri: format!("{base}/disputes/{dispute}"),
                id: dispute.clone(),
            },
            id: settlement.clone(),
            settlement_id: settlement,
            dispute_id: dispute,
            disputed_amount: AmountOut(disputed),
            disputed_date: format_time(d.opened_at()),
            settled_amount: AmountOut(resolution.settled_amount),
            settlement_amount: AmountOut(resolution.settled_amount),
            settled_date: format_time(resolution.at),
            amount_due_after_settlement: AmountOut(due),
            due: AmountOut(due),
            item_id: item.item_id(),
            bill_id: item.bill_id(),
            events_count: item.events_disputed().map(|e| e.ids().len().to_string()),
            notes: SettlementNotesOut {
                domain_id,
                reason_id,
                comments: comment_list(comments),
            },
            item_name: None,
            item_number: None,
            bill_number: None,
            billing_start: None,
            billing_end: None,
            extension: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(json: &str) -> Result<OpenRequest, Problem> {
        serde_json::from_str::<OpenIn>(json)
            .unwrap()
            .into_request(OpenedOn::Item("0.0.0.1+-item-cycle_forward+268139".into()))
    }

    #[test]
    fn effective_is_an_rfc_3339_time_or_epoch_milliseconds() {
        let effective = |value: &str| {
            open(&format!(
                r#"{{"amount": 5, "effective": {value}, "notes": {{"accountId": "a"}}}}"#
            ))
            .map(|o| o.claim.billing.unwrap().effective.map(format_time))
        };
        let at = Some("2023-11-14T22:13:20Z".to_owned());
        assert_eq!(effective("1700000000000").unwrap(), at);
        assert_eq!(effective("\"1700000000000\"").unwrap(), at);
        assert_eq!(effective("\"2023-11-14T22:13:20Z\"").unwrap(), at);
        assert!(effective("-5").is_err());
        assert!(effective("1.5").is_err());
        assert!(effective("\"yesterday\"").is_err());
    }

    #[test]
    fn the_seed_opens_with_its_defaults_and_signs() {
        let opening = open(
            r#"{"amount": 5, "notes": {"amount": -5, "domainId": 34, "accountId": "0.0.0.1+-account+242856",
                "billUnitId": "0.0.0.1+-billinfo+244392", "reasonId": "1", "status": 101,
                "comments": [{"comment": "Customer disagrees with item charges."}]}, "includeTax": false}"#,
        )
        .unwrap();
        let terms = opening.claim.billing.unwrap();
        assert_eq!(opening.claim.amount().to_string(), "5");
        assert_eq!(terms.tax, TaxTreatment::Excluded);
        assert!(terms.credit, "amountIsCredit defaults to true");
        assert_eq!(terms.reason, Some(ReasonCode::new(34, 1).unwrap()));
        assert_eq!(terms.note_status, NoteStatus::Resolved);
        assert_eq!(terms.note_amount.unwrap().to_string(), "-5");
        assert_eq!(opening.evidence.items().len(), 1);
    }

    #[test]
    fn exact_amounts_and_both_forms_of_every_value() {
        let opening = open(
            r#"{"amount": "12345678901234567.89", "includeTax": "true",
                "notes": {"accountId": "a", "domainId": "34", "reasonId": 1, "status": "102"}}"#,
        )
        .unwrap();
        let terms = opening.claim.billing.unwrap();
        assert_eq!(opening.claim.amount().to_string(), "12345678901234567.89");
        assert_eq!(terms.tax, TaxTreatment::Included);
        assert_eq!(terms.reason, Some(ReasonCode::new(34, 1).unwrap()));
        assert_eq!(terms.note_status, NoteStatus::Unresolved);
        let opening = open(r#"{"amount": 19.99, "notes": {"accountId": "a"}}"#).unwrap();
        assert_eq!(opening.claim.amount().to_string(), "19.99");
        assert_eq!(
            opening.claim.billing.unwrap().note_status,
            NoteStatus::Unresolved,
            "Billing Care's default"
        );
        assert_eq!(
            number("12345678901234567.89".parse().unwrap()).to_string(),
            "12345678901234567.89"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let err = open(
            r#"{"amount": "abc", "includeTax": 1, "notes": {"domainId": 34, "status": 100.5,
                "comments": [{}, {"comment": " "}]}}"#,
        )
        .unwrap_err();
        let fields: Vec<_> = err.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "amount",
                "includeTax",
                "notes.accountId",
                "notes.reasonId",
                "notes.status",
                "notes.comments[0].comment",
                "notes.comments[1].comment"
            ]
        );
        assert_eq!(err.code.name, "validation_failed");
        for amount in ["0", "-5"] {
            let err = open(&format!(
                r#"{{"amount": {amount}, "notes": {{"accountId": "a"}}}}"#
            ))
            .unwrap_err();
            assert_eq!(err.code.name, "invalid_amount", "{amount}");
        }
        let err = open(r#"{"amount": 5, "notes": {"accountId": "a", "amount": "x"}}"#).unwrap_err();
        assert_eq!(err.details[0].field, "notes.amount");
        let err = open(r#"{"amount": 5, "notes": {"accountId": "a", "status": 103}}"#).unwrap_err();
        assert!(
            err.message.starts_with("notes.status: 103 is not"),
            "{}",
            err.message
        );
        let err =
            open(r#"{"amount": 5, "notes": {"accountId": "a", "domainId": 0, "reasonId": 1}}"#)
                .unwrap_err();
        assert_eq!(err.details[0].field, "notes.domainId");
        assert!(
            !err.message.contains("notes.domainId: notes.domainId"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_settlement_needs_an_amount_and_keeps_comments_as_lines() {
        let request: SettlementIn = serde_json::from_str(
            r#"{"amount": 2.50, "notes": {"domainId": 35, "reasonId": "2",
                "comments": [{"comment": "one"}, {"comment": "two"}]}}"#,
        )
        .unwrap();
        let request = request.into_request().unwrap();
        assert_eq!(request.amount.to_string(), "2.50");
        assert_eq!(request.reason, Some(ReasonCode::new(35, 2).unwrap()));
        assert_eq!(request.notes, "one\ntwo");
        let missing = SettlementIn::default().into_request().unwrap_err();
        assert_eq!(missing.details[0].field, "amount");
    }
}
