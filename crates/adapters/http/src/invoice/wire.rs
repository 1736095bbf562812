//! The invoice contract's JSON, as seed 003 shows it. Requests arrive with every field optional,
//! so that a missing one is answered with its own error name; responses carry exactly the seed's
//! attributes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono_tz::Europe::Amsterdam;
use disputes_domain::{
    Attachment, Claim, Digest, Dispute, DisputeId, DomainError, InvoiceSubject, Message,
    MessageText, Outcome, Quantity, Role, Subject, Timestamp, Unit,
};
use disputes_ports::{File, InvoiceOpening, InvoicePage, InvoiceView, SentEmail, Ticket};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::codes;
use super::error::InvoiceError;
use crate::shared::schema::{DisputeStatus, InvoiceOutcome, TicketStatus};
use crate::shared::{cursor_text, decimal, Issues, Problem};

/// The text of a whole number sent as a JSON number (`7`, and `7.0`, which JSON Schema counts as
/// the integer 7 too) or as a string of digits (PHP clients send either); any other value's text
/// is empty, which no whole number parses from.
pub fn whole_number_text(value: &Value) -> String {
    match value {
        Value::Number(n) => {
            let text = n.to_string();
            match text.parse::<rust_decimal::Decimal>() {
                Ok(d) if d.fract().is_zero() && text.contains('.') => d.trunc().to_string(),
                _ => text,
            }
        }
        Value::String(s) => s.trim().to_owned(),
        _ => String::new(),
    }
}

/// The text of `category`: a name as sent, an id (a whole JSON number) as its digits; `None`
/// when absent or `null` (a missing field, named as such by the caller).
fn category_text(value: Option<&Value>) -> Result<Option<String>, InvoiceError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => Ok(Some(name.clone())),
        Some(Value::Number(id)) if id.as_i64().is_some() => Ok(Some(id.to_string())),
        Some(_) => Err(InvoiceError::new(
            codes::INVALID_BODY,
            "category: must be a category's name or its id (a whole number)",
        )),
    }
}

/// `category` in the document: a name (text of 1 to 128 characters without control characters)
/// or an id (a whole number).
fn category_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Integer]))
        .min_length(Some(1))
        .max_length(Some(InvoiceSubject::MAX_CATEGORY))
        .pattern(Some("^[^\\u0000-\\u001f\\u007f-\\u009f]+$"))
        .examples(["wrong_amount"])
        .description(Some(
            "A category's id from the provider's list of dispute categories (a whole number), or its name; kept as text.",
        ))
        .into()
}

/// A dispute id: a whole number ([`whole_number_text`]).
pub fn dispute_id(value: &Value) -> Result<DisputeId, InvoiceError> {
    whole_number_text(value)
        .parse::<i64>()
        .ok()
        .and_then(|id| DisputeId::new(id).ok())
        .ok_or_else(|| InvoiceError::new(codes::INVALID_ID, "id must be a positive whole number"))
}

/// The bytes of `file`: strict standard base64 (padding required, no whitespace, no line
/// breaks), refused as too large from its length alone before anything is decoded.
pub fn decode_file(text: &str) -> Result<Vec<u8>, InvoiceError> {
    let invalid = || InvoiceError::new(codes::INVALID_BASE64, "file must be base64 (RFC 4648)");
    if text.len() % 4 != 0 {
        return Err(invalid());
    }
    let padding = text.bytes().rev().take_while(|&b| b == b'=').count().min(2);
    let decoded = (text.len() / 4 * 3).saturating_sub(padding) as u64;
    if decoded > Attachment::MAX_BYTES {
        return Err(InvoiceError::new(
            codes::FILE_TOO_LARGE,
            format!(
                "the file is {decoded} bytes; at most {} are accepted",
                Attachment::MAX_BYTES
            ),
        ));
    }
    STANDARD.decode(text).map_err(|_| invalid())
}

/// A message's optional file: both `file` and `fileName`, or neither. Blank counts as absent,
/// as for every field.
fn file(
    issues: &mut Issues,
    file: &Option<String>,
    file_name: &Option<String>,
) -> Option<(String, String)> {
    let given = |v: &Option<String>| v.clone().filter(|t| !t.trim().is_empty());
    match (given(file), given(file_name)) {
        (Some(file), Some(name)) => Some((file, name)),
        (Some(_), None) => {
            issues.missing("fileName");
            None
        }
        (None, Some(_)) => {
            issues.missing("file");
            None
        }
        (None, None) => None,
    }
}

/// Decodes and inspects a file after every presence check passed.
fn into_file(parts: Option<(String, String)>) -> Result<Option<File>, InvoiceError> {
    parts
        .map(|(text, name)| {
            let bytes = decode_file(&text)?;
            Ok(File::new(name, bytes)?)
        })
        .transpose()
}

/// `POST /v2/dispute`: the seed's fields, plus an optional `amount` (the disputed part of the
/// invoice in euros). Without it the dispute is about the whole invoice, and a credit given at
/// resolution is recorded as it is stated (see `Dispute::settle`).
///
/// Each request type is also its schema in the OpenAPI document (`ToSchema`): what a client must
/// send, which is stricter than what the type reads (every field optional, so that a missing one
/// gets its own error name). The credentials every body carries are `Call`'s, not these types';
/// the document adds them to every request schema ([`crate::openapi`]'s invoice module).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InvoiceOpenRequest, description = "`POST /v2/dispute`.", example = json!({
    "billinkUsername": "shop-42",
    "billinkId": "the-login-secret",
    "category": "wrong_amount",
    "customerEmail": "jan@example.nl",
    "customerName": "Jan Jansen",
    "invoice": "INV-2026-0042",
    "locale": "nl",
    "message": "Ik heb maar twee van de drie artikelen ontvangen.",
    "amount": "129.95"
}))]
pub struct OpenIn {
    /// A category's id from the provider's list of dispute categories (a whole number), or its
    /// name; kept as text.
    #[schema(required = true, schema_with = category_schema)]
    pub category: Option<Value>,
    #[schema(value_type = String, required = true, format = Email, example = "jan@example.nl")]
    pub customer_email: Option<String>,
    #[schema(
        value_type = String,
        required = true,
        min_length = 1,
        max_length = 256,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    pub customer_name: Option<String>,
    /// A file for the message, in base64 (RFC 4648, padded); with `fileName`. At most 10 MiB of
    /// PDF, PNG, JPEG, HEIC, DOC or DOCX.
    #[schema(content_encoding = "base64")]
    pub file: Option<String>,
    /// The file's name; its extension must match its contents.
    #[schema(example = "invoice.pdf")]
    pub file_name: Option<String>,
    /// The invoice number.
    #[schema(
        value_type = String,
        required = true,
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    pub invoice: Option<String>,
    /// The customer's language (`nl`, `en`, `de` or `fr`, optionally with a region: `nl-NL`).
    #[schema(
        value_type = String,
        required = true,
        pattern = "^([nN][lL]|[eE][nN]|[dD][eE]|[fF][rR])([-_][A-Za-z]{2})?$",
        example = "nl"
    )]
    pub locale: Option<String>,
    /// The customer's first message.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10000)]
    pub message: Option<String>,
    /// The invoice's amount in EUR, a decimal string or number; without it the whole invoice is
    /// disputed, and a credit given at resolution is recorded as stated.
    #[schema(value_type = Option<String>, pattern = r"^[0-9]+(\.[0-9]+)?$", max_length = 28, example = "129.95")]
    pub amount: Option<Value>,
}

impl OpenIn {
    /// Presence of every required field first, then the domain's checks of each value.
    pub fn into_opening(self) -> Result<InvoiceOpening, InvoiceError> {
        let mut issues = Issues::default();
        let category = category_text(self.category.as_ref())?;
        let category = issues.required_text("category", category.as_deref());
        let email = issues.required_text("customerEmail", self.customer_email.as_deref());
        let name = issues.required_text("customerName", self.customer_name.as_deref());
        let file = file(&mut issues, &self.file, &self.file_name);
        let invoice = issues.required_text("invoice", self.invoice.as_deref());
        let locale = issues.required_text("locale", self.locale.as_deref());
        let message = issues.required_text("message", self.message.as_deref());
        issues.finish()?;
        let (Some(category), Some(email), Some(name), Some(invoice), Some(locale), Some(message)) =
            (category, email, name, invoice, locale, message)
        else {
            unreachable!("finish() returned Ok, so every required field is present")
        };
        let subject = InvoiceSubject::new(invoice, name, email, category, locale)?;
        // Without an amount the dispute is about the invoice as a whole: one invoice.
        let quantity = match &self.amount {
            Some(amount) => Quantity::new(decimal("amount", amount)?, Unit::invoice_currency())?,
            None => Quantity::whole_invoice(),
        };
        Ok(InvoiceOpening {
            subject: Subject::Invoice(subject),
            claim: Claim::new(quantity),
            text: MessageText::new("message", message)?,
            file: into_file(file)?,
        })
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InvoiceIdRequest, description = "`POST /v2/dispute/info`.")]
pub struct IdIn {
    /// The dispute's id (a digit string is accepted too).
    #[schema(value_type = i64, required = true, minimum = 1)]
    pub id: Option<Value>,
}

impl IdIn {
    pub fn id(&self) -> Result<DisputeId, InvoiceError> {
        let mut issues = Issues::default();
        let id = issues.required("id", self.id.as_ref());
        issues.finish()?;
        dispute_id(id.expect("finish() returned Ok"))
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InvoiceListRequest, description = "`POST /v2/dispute/list`.")]
pub struct ListIn {
    /// Only resolved (`true`) or unresolved (`false`) disputes; all if left out.
    pub resolved: Option<bool>,
    /// How many disputes a page holds, 1 to 100 (default 20).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<Value>,
    /// The `nextCursor` of the page before.
    #[schema(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// Who writes a message.
#[derive(ToSchema)]
#[schema(as = InvoiceAuthor, rename_all = "snake_case")]
#[allow(dead_code)] // Only the document reads it: the handler reads the author as text.
pub enum AuthorIn {
    Client,
    Customer,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InvoiceMessageRequest, description = "`POST /v2/dispute/message`.")]
pub struct MessageIn {
    #[schema(value_type = i64, required = true, minimum = 1)]
    pub id: Option<Value>,
    #[schema(value_type = AuthorIn, required = true)]
    pub author: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10000)]
    pub message: Option<String>,
    /// A file for the message, in base64; with `fileName`.
    #[schema(content_encoding = "base64")]
    pub file: Option<String>,
    pub file_name: Option<String>,
}

/// A message to post, in domain terms.
#[derive(Debug)]
pub struct Posting {
    pub id: DisputeId,
    pub author: Role,
    pub text: MessageText,
    pub file: Option<File>,
}

impl MessageIn {
    pub fn into_posting(self) -> Result<Posting, InvoiceError> {
        let mut issues = Issues::default();
        let author = issues.required_text("author", self.author.as_deref());
        let file = file(&mut issues, &self.file, &self.file_name);
        let id = issues.required("id", self.id.as_ref());
        let message = issues.required_text("message", self.message.as_deref());
        issues.finish()?;
        let (Some(author), Some(id), Some(message)) = (author, id, message) else {
            unreachable!("finish() returned Ok, so every required field is present")
        };
        let author = match author {
            "client" => Role::Client,
            "customer" => Role::Customer,
            _ => {
                return Err(InvoiceError::new(
                    codes::INVALID_AUTHOR,
                    "author must be client or customer",
                ))
            }
        };
        Ok(Posting {
            id: dispute_id(id)?,
            author,
            text: MessageText::new("message", message)?,
            file: into_file(file)?,
        })
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InvoiceResolveRequest, description = "`POST /v2/dispute/resolve`.")]
pub struct ResolveIn {
    #[schema(value_type = i64, required = true, minimum = 1)]
    pub id: Option<Value>,
    #[schema(value_type = InvoiceOutcome, required = true)]
    pub outcome: Option<String>,
    /// The message that closes the thread.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10000)]
    pub message: Option<String>,
    /// The credit in EUR, required when partially granted. With a disputed `amount`, at most
    /// that amount (all of it when granted); on a dispute about the whole invoice, above 0.
    #[schema(value_type = Option<String>, pattern = r"^[0-9]+(\.[0-9]+)?$", max_length = 28, example = "20.00")]
    pub credit_amount: Option<Value>,
}

/// A resolution, in domain terms.
#[derive(Debug)]
pub struct Resolving {
    pub id: DisputeId,
    pub outcome: Outcome,
    pub credit_amount: Option<rust_decimal::Decimal>,
    pub text: MessageText,
}

impl ResolveIn {
    pub fn into_resolving(self) -> Result<Resolving, InvoiceError> {
        let mut issues = Issues::default();
        let id = issues.required("id", self.id.as_ref());
        let message = issues.required_text("message", self.message.as_deref());
        let outcome = issues.required_text("outcome", self.outcome.as_deref());
        issues.finish()?;
        let (Some(id), Some(message), Some(outcome)) = (id, message, outcome) else {
            unreachable!("finish() returned Ok, so every required field is present")
        };
        // Which outcomes a party may choose is the domain's rule, and so is which credit fits
        // one (`Dispute::settle`; a partial grant without one is `missing_credit_amount`).
        let outcome = Outcome::parse_resolution(outcome).map_err(|e| match e {
            DomainError::Invalid { field, reason } => {
                InvoiceError::new(codes::INVALID_OUTCOME, format!("{field} {reason}"))
            }
            other => other.into(),
        })?;
        let credit_amount = self
            .credit_amount
            .as_ref()
            .map(|a| decimal("creditAmount", a))
            .transpose()?;
        Ok(Resolving {
            id: dispute_id(id)?,
            outcome,
            credit_amount,
            text: MessageText::new("message", message)?,
        })
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InvoiceAttachmentRequest, description = "`POST /v2/dispute/attachment`.")]
pub struct AttachmentIn {
    #[schema(value_type = i64, required = true, minimum = 1)]
    pub id: Option<Value>,
    /// The file's SHA-256, as `disputeContent[].attachment.sha256` shows it.
    #[schema(value_type = String, required = true, pattern = "^[0-9a-fA-F]{64}$")]
    pub sha256: Option<String>,
}

impl AttachmentIn {
    pub fn into_request(self) -> Result<(DisputeId, Digest), InvoiceError> {
        let mut issues = Issues::default();
        let id = issues.required("id", self.id.as_ref());
        let sha256 = issues.required_text("sha256", self.sha256.as_deref());
        issues.finish()?;
        let (Some(id), Some(sha256)) = (id, sha256) else {
            unreachable!("finish() returned Ok, so every required field is present")
        };
        // Digests are shown in lowercase; accept them in any case.
        let digest = sha256.to_ascii_lowercase().parse::<Digest>().map_err(|_| {
            InvoiceError::new(
                codes::INVALID_SHA256,
                "sha256 must be 64 hexadecimal digits",
            )
        })?;
        Ok((dispute_id(id)?, digest))
    }
}

// ---- responses ----
//
// Each answer type is also its schema in the OpenAPI document (`ToSchema`, named as the document
// names it), so a field changes in one place; `schema(description)` is what clients read there.

/// An instant as the provider's PHP backend serialises a `DateTime`: the local time in
/// Europe/Amsterdam with microseconds, and the zone by name (`timezone_type` 3).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = InvoiceDateTime,
    description = "A time as PHP's `DateTime` serialises it, in Europe/Amsterdam."
)]
pub struct PhpDateTime {
    #[schema(example = "2026-11-22 10:15:00.000000")]
    date: String,
    /// Always 3 (a named time zone).
    #[schema(value_type = i64)]
    timezone_type: u8,
    #[schema(example = "Europe/Amsterdam")]
    timezone: &'static str,
}

impl PhpDateTime {
    pub fn at(at: Timestamp) -> Self {
        PhpDateTime {
            date: at
                .with_timezone(&Amsterdam)
                .format("%Y-%m-%d %H:%M:%S%.6f")
                .to_string(),
            timezone_type: 3,
            timezone: "Europe/Amsterdam",
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvoiceClient, description = "The client (merchant) whose invoice it is.")]
pub struct ClientOut {
    /// The tenant: the merchant account the dispute belongs to.
    id: String,
    /// The login that opened the dispute.
    username: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvoiceCustomer, description = "The customer who disputes the invoice.")]
pub struct CustomerOut {
    name: String,
    email: String,
    locale: String,
    invoice: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvoiceOwner, description = "The agent who handles the tenant's disputes.")]
pub struct OwnerOut {
    name: String,
    email: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvoiceAttachment, description = "A file of a message, without its bytes.")]
pub struct AttachmentOut {
    name: String,
    /// The file's media type.
    #[serde(rename = "type")]
    #[schema(example = "application/pdf")]
    media_type: &'static str,
    #[schema(value_type = i64)]
    size: u64,
    sha256: String,
}

impl From<&Attachment> for AttachmentOut {
    fn from(a: &Attachment) -> Self {
        AttachmentOut {
            name: a.name().to_owned(),
            media_type: a.media_type(),
            size: a.size(),
            sha256: a.sha256().to_hex(),
        }
    }
}

/// One message of `disputeContent`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvoiceMessage, description = "One message of the dispute's thread.")]
pub struct MessageOut {
    /// `client`, `customer`, or who resolved the dispute.
    author: &'static str,
    text: String,
    time: PhpDateTime,
    #[schema(required = true)]
    attachment: Option<AttachmentOut>,
}

impl From<&Message> for MessageOut {
    fn from(m: &Message) -> Self {
        MessageOut {
            author: m.author().role.as_str(),
            text: m.text().to_owned(),
            time: PhpDateTime::at(m.at()),
            attachment: m.attachment().map(AttachmentOut::from),
        }
    }
}

/// One step of the workflow.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = InvoiceStep, description = "One step of the workflow.")]
pub struct StepOut {
    /// `registered`, `collection_on_hold`, `awaiting_client`, `awaiting_customer`, `resolved`.
    name: &'static str,
    /// `done`, `skipped` (passed without the dispute ever being at it, such as
    /// `awaiting_customer` of a dispute that ended before the merchant wrote to the customer),
    /// `current` or `pending`.
    status: &'static str,
    /// When the step was last reached; `null` when it was skipped or is pending.
    #[schema(required = true)]
    at: Option<PhpDateTime>,
}

/// The workflow, in order.
const STEPS: [&str; 5] = [
    "registered",
    "collection_on_hold",
    "awaiting_client",
    "awaiting_customer",
    "resolved",
];
const AWAITING_CLIENT: usize = 2;
const AWAITING_CUSTOMER: usize = 3;
const RESOLVED: usize = 4;

/// The workflow of a dispute and the index of its current step.
///
/// A dispute is registered and its invoice's collection held at opening. Then it waits on the
/// client (the merchant), who investigates what it registered; a message from the client hands
/// it to the customer, a message from the customer hands it back. A dispute that ended
/// (resolved, withdrawn or expired) is at `resolved`, which is then `done` too.
///
/// Steps before the current one are `done` when the dispute was at them, and `skipped` when it
/// went past them without ever being there: `awaiting_customer` of a dispute that ended without
/// the client ever writing to the customer (nobody waited on the customer), and
/// `collection_on_hold` of one whose invoice's collection was never held. Later steps are
/// `pending`. `at` is when a step was last reached; `null` for a skipped or pending step.
fn steps(d: &Dispute) -> (Vec<StepOut>, usize) {
    let opened = d.opened_at();
    let mut client_turn = Some(opened);
    let mut customer_turn = None;
    let mut waiting_on = AWAITING_CLIENT;
    // The opening message is the registration itself; only later messages hand the turn over.
    for m in d.messages().iter().filter(|m| m.seq() > 1) {
        match m.author().role {
            Role::Client => {
                customer_turn = Some(m.at());
                waiting_on = AWAITING_CUSTOMER;
            }
            Role::Customer => {
                client_turn = Some(m.at());
                waiting_on = AWAITING_CLIENT;
            }
            _ => {}
        }
    }
    let ended = d.status().is_final();
    let current = if ended { RESOLVED } else { waiting_on };
    let reached = [
        Some(opened),
        d.collection_hold().map(|_| opened),
        client_turn,
        customer_turn,
        d.resolution().map(|r| r.at).filter(|_| ended),
    ];
    let steps = STEPS
        .iter()
        .zip(reached)
        .enumerate()
        .map(|(i, (&name, at))| {
            let status = match i.cmp(&current) {
                std::cmp::Ordering::Less if at.is_none() => "skipped",
                std::cmp::Ordering::Less => "done",
                std::cmp::Ordering::Equal if ended => "done",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "pending",
            };
            let at = if status == "pending" { None } else { at };
            StepOut {
                name,
                status,
                at: at.map(PhpDateTime::at),
            }
        })
        .collect();
    (steps, current)
}

/// The seed's response object, exactly its attributes. `emails` and `freshDeskTicket` show what
/// the notification sinks did; until they did, `[]` and `null`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = InvoiceDispute,
    description = "An invoice dispute, as every call but `list` and `attachment` answers."
)]
pub struct DisputeOut {
    category: String,
    client: ClientOut,
    created_at: PhpDateTime,
    current_step: StepOut,
    customer: CustomerOut,
    dispute_content: Vec<MessageOut>,
    /// The notification emails sent about the dispute; empty when none were.
    emails: Vec<EmailOut>,
    /// `null` until a ticket is opened for the dispute.
    #[schema(required = true)]
    fresh_desk_ticket: Option<TicketOut>,
    id: i64,
    #[schema(example = "email")]
    notification_mode: &'static str,
    #[schema(required = true)]
    owner: Option<OwnerOut>,
    resolved: bool,
    #[schema(required = true)]
    resolved_at: Option<PhpDateTime>,
    #[schema(value_type = DisputeStatus)]
    status: &'static str,
    steps: Vec<StepOut>,
}

/// How the parties hear of a dispute: the customer by email, in the dispute's locale.
const NOTIFICATION_MODE: &str = "email";

/// The dispute's Freshdesk ticket: `{id, url, status}`, status by Freshdesk's names.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = InvoiceFreshDeskTicket,
    description = "The Freshdesk ticket opened for the dispute."
)]
pub struct TicketOut {
    /// Freshdesk's id of the ticket.
    #[schema(example = 4711)]
    id: i64,
    /// Where an agent opens the ticket.
    url: String,
    #[schema(value_type = TicketStatus)]
    status: &'static str,
}

impl From<&Ticket> for TicketOut {
    fn from(t: &Ticket) -> Self {
        TicketOut {
            id: t.id,
            url: t.url.clone(),
            status: t.status.as_str(),
        }
    }
}

impl DisputeOut {
    /// Renders an invoice dispute with its owner, its mail and its ticket. The invoice desk
    /// only ever serves invoice disputes, so any other subject is a fault of ours.
    pub fn render(view: &InvoiceView) -> Result<Self, InvoiceError> {
        let d = &view.dispute;
        let Subject::Invoice(subject) = d.subject() else {
            return Err(Problem::internal(&format!(
                "dispute {} is not an invoice dispute",
                d.id()
            ))
            .into());
        };
        let (steps, current) = steps(d);
        let mut content: Vec<MessageOut> = d.messages().iter().map(MessageOut::from).collect();
        // The message sent with a resolution closes the thread.
        if let Some(r) = d.resolution() {
            if r.outcome.is_chosen_by_a_party() && !r.notes.is_empty() {
                content.push(MessageOut {
                    author: r.by.role.as_str(),
                    text: r.notes.clone(),
                    time: PhpDateTime::at(r.at),
                    attachment: None,
                });
            }
        }
        Ok(DisputeOut {
            category: subject.category().to_owned(),
            client: ClientOut {
                id: d.tenant().to_string(),
                username: d.opened_by().id.to_string(),
            },
            created_at: PhpDateTime::at(d.opened_at()),
            current_step: steps[current].clone(),
            customer: CustomerOut {
                name: subject.customer_name().to_owned(),
                email: subject.customer_email().to_string(),
                locale: subject.locale().to_string(),
                invoice: subject.invoice().to_owned(),
            },
            dispute_content: content,
            emails: view.emails.iter().map(EmailOut::from).collect(),
            fresh_desk_ticket: view.ticket.as_ref().map(TicketOut::from),
            id: d.id().get(),
            notification_mode: NOTIFICATION_MODE,
            owner: view.owner.as_ref().map(|o| OwnerOut {
                name: o.name().to_owned(),
                email: o.email().to_string(),
            }),
            resolved: d.status().is_final(),
            resolved_at: d.resolution().map(|r| PhpDateTime::at(r.at)),
            status: d.status().as_str(),
            steps,
        })
    }
}

/// `POST /v2/dispute/list`'s answer: a page of disputes, each exactly as `info` shows it, and
/// the cursor of the next page (`null` on the last). A typed struct rather than a
/// `serde_json::Value`, whose maps sort their keys: every object of a list lists its keys in the
/// same order as in `info` (a PHP `DateTime` as `date, timezone_type, timezone`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InvoiceDisputePage, description = "A page of disputes, newest first.")]
pub struct PageOut {
    disputes: Vec<DisputeOut>,
    /// Pass as `cursor` for the next page; `null` on the last.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

impl PageOut {
    pub fn render(page: &InvoicePage) -> Result<Self, InvoiceError> {
        Ok(PageOut {
            disputes: page
                .disputes
                .iter()
                .map(DisputeOut::render)
                .collect::<Result<_, _>>()?,
            next_cursor: page.next.map(cursor_text),
        })
    }
}

/// One mail of `emails`: to whom, about what, from which template, when.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = InvoiceEmail,
    description = "A notification email sent about the dispute, oldest first."
)]
pub struct EmailOut {
    /// The recipient's address.
    #[schema(example = "jan@example.nl")]
    to: String,
    subject: String,
    /// The name of the template the mail was written from.
    #[schema(example = "dispute_opened")]
    template: String,
    /// When it was sent, in the shape of `createdAt`.
    sent_at: PhpDateTime,
}

impl From<&SentEmail> for EmailOut {
    fn from(mail: &SentEmail) -> Self {
        EmailOut {
            to: mail.recipient.clone(),
            subject: mail.subject.clone(),
            template: mail.template.clone(),
            sent_at: PhpDateTime::at(mail.sent_at),
        }
    }
}

/// `POST /v2/dispute/attachment`'s answer: the file, described as in `disputeContent`, with its
/// bytes in base64 as they were sent.
#[derive(Debug, Serialize)]
pub struct FileOut {
    id: i64,
    #[serde(flatten)]
    attachment: AttachmentOut,
    file: String,
}

impl FileOut {
    pub fn render(id: DisputeId, file: &File) -> Self {
        FileOut {
            id: id.get(),
            attachment: AttachmentOut::from(&file.attachment),
            file: STANDARD.encode(&file.bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_read_from_numbers_and_digit_strings() {
        let text = |json: &str| whole_number_text(&serde_json::from_str(json).unwrap());
        assert_eq!(text("7"), "7");
        assert_eq!(text("7.0"), "7");
        assert_eq!(text("144283.000"), "144283");
        assert_eq!(text("7.5"), "7.5");
        assert_eq!(text("\" 12 \""), "12");
        assert_eq!(text("true"), "");
        assert!(dispute_id(&serde_json::from_str("3.0").unwrap()).is_ok());
        assert!(dispute_id(&serde_json::from_str("3.5").unwrap()).is_err());
    }
    use chrono::{TimeZone, Utc};

    #[test]
    fn times_are_php_datetimes_in_amsterdam_across_daylight_saving() {
        let winter = Utc.with_ymd_and_hms(2026, 11, 22, 9, 15, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 9, 15, 0).unwrap();
        let shown = |t| serde_json::to_value(PhpDateTime::at(t)).unwrap();
        assert_eq!(
            shown(winter),
            serde_json::json!({
                "date": "2026-11-22 10:15:00.000000",
                "timezone_type": 3,
                "timezone": "Europe/Amsterdam"
            })
        );
        assert_eq!(shown(summer)["date"], "2026-07-01 11:15:00.000000");
        let micros = winter + chrono::Duration::microseconds(7);
        assert_eq!(shown(micros)["date"], "2026-11-22 10:15:00.000007");
    }

    #[test]
    fn strict_base64_refuses_whitespace_garbage_and_missing_padding() {
        assert_eq!(decode_file("JVBERi0=").unwrap(), b"%PDF-");
        for bad in [
            "JVBERi0",
            "JVBE Ri0=",
            "JVBERi0=\n",
            "JVB*Ri0=",
            "JVBERi0==",
            "====",
            "Zm9v\r\n",
        ] {
            assert!(decode_file(bad).is_err(), "{bad:?}");
        }
        assert!(decode_file("").unwrap().is_empty());
    }

    #[test]
    fn a_file_over_the_limit_is_refused_by_its_length_before_decoding() {
        let over = "A".repeat(((Attachment::MAX_BYTES + 3) / 3 * 4) as usize);
        let err = decode_file(&over).unwrap_err();
        assert!(format!("{err:?}").contains("file_too_large"), "{err:?}");
        let at_limit = STANDARD.encode(vec![0u8; Attachment::MAX_BYTES as usize]);
        assert_eq!(
            decode_file(&at_limit).unwrap().len() as u64,
            Attachment::MAX_BYTES
        );
    }

    #[test]
    fn ids_are_numbers_or_digit_strings() {
        for ok in ["7", "\"7\"", "\" 7 \""] {
            let value: Value = serde_json::from_str(ok).unwrap();
            assert_eq!(dispute_id(&value).unwrap().get(), 7, "{ok}");
        }
        for bad in ["0", "-1", "1.5", "\"x\"", "true", "[1]", "1e3"] {
            let value: Value = serde_json::from_str(bad).unwrap();
            assert!(dispute_id(&value).is_err(), "{bad}");
        }
    }
}
