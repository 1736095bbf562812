//! Freshdesk tickets (API v2): a ticket when a dispute opens, a private note per message, the
//! ticket resolved (status 4) when the dispute ends. The ticket's id is kept with the dispute
//! ([`TicketStore`]), so later events find it.
//!
//! An acknowledgement can be lost (a timeout after Freshdesk took the request), and the
//! dispatcher then offers the event again. So a retry first looks for what an earlier attempt
//! may have made: the ticket by the dispute's tags (`dispute` and the dispute's id), a note by
//! the event id it carries. A first attempt has nothing before it and skips the look (unless
//! the job was replayed: its attempts before the replay count as earlier ones).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use disputes_domain::{BillingTarget, Dispute, EntryKind, Subject};
use disputes_ports::{
    BlobStore, CredentialStore, Event, Notifier, NotifyError, Ticket, TicketStatus, TicketStore,
};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::retry_after;

/// Freshdesk's number for a ticket status (its API's `status`: 2 open, 3 pending, 4 resolved,
/// 5 closed).
fn freshdesk_number(status: TicketStatus) -> i64 {
    match status {
        TicketStatus::Open => 2,
        TicketStatus::Pending => 3,
        TicketStatus::Resolved => 4,
        TicketStatus::Closed => 5,
    }
}

/// The status Freshdesk numbers `number`; a custom status counts as open (the ticket is still
/// being worked on).
fn from_freshdesk_number(number: i64) -> TicketStatus {
    TicketStatus::ALL
        .iter()
        .copied()
        .find(|status| freshdesk_number(*status) == number)
        .unwrap_or(TicketStatus::Open)
}

/// Freshdesk refuses a ticket whose attachments add up to more than this.
pub const ATTACHMENTS_LIMIT: u64 = 20 * 1000 * 1000;

/// The tag every ticket of ours carries, besides the dispute's id.
const DISPUTE_TAG: &str = "dispute";

/// How much of Freshdesk's error body goes into a log line or the outbox's `last_error`.
const ERROR_BODY_LIMIT: usize = 500;

/// How many pages of a ticket's conversations a retry reads looking for its note.
const CONVERSATION_PAGES: u32 = 10;

/// How many attempts a later event waits for the opening event to open the ticket before it
/// opens the ticket itself: a dispute opened while Freshdesk was off has no opening job at all.
pub const ATTEMPTS_BEFORE_OPENING: u32 = 3;

/// Ticket openings of one process are serialised per dispute through this many locks (a dispute
/// takes lock `id % OPENING_LOCKS`), so the opening event and a later one never both open one.
const OPENING_LOCKS: usize = 64;

/// Where the desk is and how to sign in.
#[derive(Clone)]
pub struct FreshdeskConfig {
    /// `https://<domain>.freshdesk.com`, without a trailing slash.
    pub base_url: String,
    /// The agent API key; sent as the Basic user with password `X`, never logged.
    pub api_key: String,
    /// How long one request may take; well below the dispatcher's lease.
    pub timeout: Duration,
}

impl FreshdeskConfig {
    /// The default time a request may take.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// A configuration with the default timeout; a trailing `/` of `base_url` is dropped.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        FreshdeskConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            api_key: api_key.into(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

// By hand, so the API key never reaches a log through `{:?}`.
impl std::fmt::Debug for FreshdeskConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshdeskConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why a call to Freshdesk failed.
#[derive(Debug, thiserror::Error)]
pub enum FreshdeskError {
    /// No answer: refused, reset, timed out. Freshdesk may or may not have acted.
    #[error("Freshdesk did not answer: {0}")]
    Transport(String),
    /// An answer other than 2xx, with (the start of) Freshdesk's error body.
    #[error("Freshdesk answered {status}: {body}")]
    Status {
        status: StatusCode,
        body: String,
        retry_after: Option<chrono::Duration>,
    },
    /// A 2xx answer that is not what the API documents.
    #[error("unexpected answer from Freshdesk: {0}")]
    Decode(String),
}

/// Whether Freshdesk refused a request for good: 400 (its validation failed), 404 (the ticket is
/// gone), 405, 406, 409, 415 (a request it will never take in this shape). 401 and 403 are the
/// key's or the agent's, fixed outside the request, and are retried; so are 429 and 5xx.
fn refused_for_good(status: StatusCode) -> bool {
    matches!(status.as_u16(), 400 | 404 | 405 | 406 | 409 | 415)
}

impl From<FreshdeskError> for NotifyError {
    fn from(e: FreshdeskError) -> Self {
        match &e {
            FreshdeskError::Status {
                status,
                retry_after: Some(after),
                ..
            } if *status == StatusCode::TOO_MANY_REQUESTS => {
                NotifyError::retry_after(e.to_string(), *after)
            }
            FreshdeskError::Status { status, body, .. } if refused_for_good(*status) => {
                // The same request would be refused again (a field Freshdesk's validation
                // rejects, a ticket deleted there): the job is dead-lettered for someone to look.
                tracing::warn!(status = %status, body = %body, "Freshdesk refused a request for good");
                NotifyError::permanent(e.to_string())
            }
            FreshdeskError::Status { status, body, .. } if matches!(status.as_u16(), 401 | 403) => {
                // A revoked key or a missing permission: every job fails alike until the key is
                // fixed, then they all go through, so they are retried (up to their attempts).
                tracing::warn!(status = %status, body = %body, "Freshdesk refused a request; will retry");
                NotifyError::retry(e.to_string())
            }
            _ => NotifyError::retry(e.to_string()),
        }
    }
}

/// A ticket as Freshdesk describes it; only what we read.
#[derive(Debug, Clone, Deserialize)]
pub struct RemoteTicket {
    pub id: i64,
    pub status: i64,
}

#[derive(Debug, Deserialize)]
struct SearchResults {
    results: Vec<RemoteTicket>,
}

#[derive(Debug, Deserialize)]
struct Conversation {
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_text: Option<String>,
}

/// What a new ticket says.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub subject: String,
    /// HTML; every fact in it escaped.
    pub description: String,
    pub email: String,
    /// 1 low, 2 medium, 3 high, 4 urgent.
    pub priority: u8,
    pub tags: Vec<String>,
}

/// A file to attach to a new ticket.
#[derive(Debug, Clone)]
pub struct TicketFile {
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// The Freshdesk API v2 calls the sink needs.
#[derive(Debug, Clone)]
pub struct FreshdeskClient {
    config: FreshdeskConfig,
    http: reqwest::Client,
}

impl FreshdeskClient {
    /// # Errors
    /// When the HTTP client cannot be built (no TLS backend).
    pub fn new(config: FreshdeskConfig) -> Result<Self, FreshdeskError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| FreshdeskError::Transport(format!("cannot build the client: {e}")))?;
        Ok(FreshdeskClient { config, http })
    }

    /// Where an agent opens ticket `id`.
    pub fn agent_url(&self, id: i64) -> String {
        format!("{}/a/tickets/{id}", self.config.base_url)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/api/v2{path}", self.config.base_url))
            .basic_auth(&self.config.api_key, Some("X"))
    }

    /// Sends `request`; a 2xx answer's body, or why there was none.
    async fn send(request: RequestBuilder) -> Result<Vec<u8>, FreshdeskError> {
        let now = SystemTime::now();
        let response = request
            .send()
            .await
            // `without_url`: the path is ours and harmless, but keep errors short.
            .map_err(|e| FreshdeskError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        let headers: HeaderMap = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| FreshdeskError::Transport(e.without_url().to_string()))?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let mut text = String::from_utf8_lossy(&body).into_owned();
        if text.len() > ERROR_BODY_LIMIT {
            let cut = (0..=ERROR_BODY_LIMIT)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text.truncate(cut);
        }
        Err(FreshdeskError::Status {
            status,
            body: text,
            retry_after: retry_after(&headers, now),
        })
    }

    fn decode<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, FreshdeskError> {
        serde_json::from_slice(body).map_err(|e| FreshdeskError::Decode(e.to_string()))
    }

    /// `POST /api/v2/tickets`: JSON, or `multipart/form-data` when there are files
    /// (`attachments[]`).
    ///
    /// # Errors
    /// [`FreshdeskError`] when the ticket was not (or may not have been) created.
    pub async fn create_ticket(
        &self,
        ticket: &NewTicket,
        files: Vec<TicketFile>,
    ) -> Result<RemoteTicket, FreshdeskError> {
        let request = self.request(Method::POST, "/tickets");
        let request = if files.is_empty() {
            request.json(&json!({
                "subject": ticket.subject,
                "description": ticket.description,
                "email": ticket.email,
                "status": freshdesk_number(TicketStatus::Open),
                "priority": ticket.priority,
                "tags": ticket.tags,
            }))
        } else {
            let mut form = reqwest::multipart::Form::new()
                .text("subject", ticket.subject.clone())
                .text("description", ticket.description.clone())
                .text("email", ticket.email.clone())
                .text("status", freshdesk_number(TicketStatus::Open).to_string())
                .text("priority", ticket.priority.to_string());
            for tag in &ticket.tags {
                form = form.text("tags[]", tag.clone());
            }
            for file in files {
                let part = reqwest::multipart::Part::bytes(file.bytes)
                    .file_name(file.name)
                    .mime_str(&file.media_type)
                    .map_err(|e| FreshdeskError::Decode(format!("a file's media type: {e}")))?;
                form = form.part("attachments[]", part);
            }
            request.multipart(form)
        };
        Self::decode(&Self::send(request).await?)
    }

    /// The tickets tagged with every one of `tags` (`GET /api/v2/search/tickets`).
    ///
    /// # Errors
    /// [`FreshdeskError`] when the search did not answer.
    pub async fn find_tagged(&self, tags: &[String]) -> Result<Vec<RemoteTicket>, FreshdeskError> {
        let query = tags
            .iter()
            .map(|tag| format!("tag:'{}'", tag.replace(['\'', '"', '\\'], "")))
            .collect::<Vec<_>>()
            .join(" AND ");
        let request = self
            .request(Method::GET, "/search/tickets")
            .query(&[("query", format!("\"{query}\""))]);
        let found: SearchResults = Self::decode(&Self::send(request).await?)?;
        Ok(found.results)
    }

    /// Whether a note or reply of ticket `id` contains `marker`
    /// (`GET /api/v2/tickets/{id}/conversations`).
    ///
    /// # Errors
    /// [`FreshdeskError`] when the conversations cannot be read.
    pub async fn has_conversation_with(
        &self,
        id: i64,
        marker: &str,
    ) -> Result<bool, FreshdeskError> {
        for page in 1..=CONVERSATION_PAGES {
            let request = self
                .request(Method::GET, &format!("/tickets/{id}/conversations"))
                .query(&[("per_page", "100".to_owned()), ("page", page.to_string())]);
            let conversations: Vec<Conversation> = Self::decode(&Self::send(request).await?)?;
            let found = conversations.iter().any(|c| {
                [&c.body, &c.body_text]
                    .into_iter()
                    .flatten()
                    .any(|text| text.contains(marker))
            });
            if found {
                return Ok(true);
            }
            if conversations.len() < 100 {
                break;
            }
        }
        Ok(false)
    }

    /// Adds a private note (`POST /api/v2/tickets/{id}/notes`).
    ///
    /// # Errors
    /// [`FreshdeskError`] when the note was not (or may not have been) added.
    pub async fn add_note(&self, id: i64, html: &str) -> Result<(), FreshdeskError> {
        let request = self
            .request(Method::POST, &format!("/tickets/{id}/notes"))
            .json(&json!({ "body": html, "private": true }));
        Self::send(request).await.map(drop)
    }

    /// Sets ticket `id`'s status (`PUT /api/v2/tickets/{id}`); repeating it changes nothing.
    ///
    /// # Errors
    /// [`FreshdeskError`] when the ticket was not updated.
    pub async fn set_status(&self, id: i64, status: TicketStatus) -> Result<(), FreshdeskError> {
        let request = self
            .request(Method::PUT, &format!("/tickets/{id}"))
            .json(&json!({ "status": freshdesk_number(status) }));
        Self::send(request).await.map(drop)
    }
}

/// Escapes text for HTML, so a dispute's facts never become markup in the desk.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The tags that find a dispute's ticket again: `dispute` and the dispute's id.
pub fn dispute_tags(dispute: &Dispute) -> Vec<String> {
    vec![DISPUTE_TAG.to_owned(), dispute.id().get().to_string()]
}

/// The Freshdesk sink.
#[derive(Debug, Clone)]
pub struct FreshdeskNotifier {
    client: FreshdeskClient,
    tickets: Arc<dyn TicketStore>,
    blobs: Arc<dyn BlobStore>,
    owners: Arc<dyn CredentialStore>,
    opening: Arc<[tokio::sync::Mutex<()>]>,
}

impl FreshdeskNotifier {
    /// `owners` gives the requester of disputes that have no customer (the tenant's owner).
    pub fn new(
        client: FreshdeskClient,
        tickets: Arc<dyn TicketStore>,
        blobs: Arc<dyn BlobStore>,
        owners: Arc<dyn CredentialStore>,
    ) -> Self {
        FreshdeskNotifier {
            client,
            tickets,
            blobs,
            owners,
            opening: (0..OPENING_LOCKS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// Who the ticket is from: an invoice's customer, otherwise the tenant's owner; `None` when
    /// there is nobody to name.
    async fn requester(&self, dispute: &Dispute) -> Result<Option<String>, NotifyError> {
        if let Subject::Invoice(invoice) = dispute.subject() {
            return Ok(Some(invoice.customer_email().to_string()));
        }
        let owner = self
            .owners
            .tenant_owner(dispute.tenant())
            .await
            .map_err(|e| NotifyError::retry(format!("reading the tenant's owner: {e}")))?;
        Ok(owner.map(|o| o.email().to_string()))
    }

    async fn stored_ticket(&self, dispute: &Dispute) -> Result<Option<Ticket>, NotifyError> {
        self.tickets
            .ticket(dispute.tenant(), dispute.id())
            .await
            .map_err(|e| NotifyError::retry(format!("reading the ticket: {e}")))
    }

    async fn record(
        &self,
        dispute: &Dispute,
        id: i64,
        status: TicketStatus,
        created_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Ticket, NotifyError> {
        let ticket = Ticket {
            tenant: dispute.tenant().clone(),
            dispute: dispute.id(),
            id,
            url: self.client.agent_url(id),
            status,
            created_at,
            updated_at: chrono::Utc::now(),
        };
        self.tickets
            .save_ticket(&ticket)
            .await
            .map_err(|e| NotifyError::retry(format!("recording the ticket: {e}")))?;
        Ok(ticket)
    }

    /// The dispute's files, in thread order, as long as they fit Freshdesk's limit; the names
    /// of those left out.
    async fn files(
        &self,
        dispute: &Dispute,
    ) -> Result<(Vec<TicketFile>, Vec<String>), NotifyError> {
        let mut files = Vec::new();
        let mut left_out = Vec::new();
        let mut total = 0u64;
        for attachment in dispute.messages().iter().filter_map(|m| m.attachment()) {
            if total + attachment.size() > ATTACHMENTS_LIMIT {
                left_out.push(format!(
                    "{} ({} bytes)",
                    attachment.name(),
                    attachment.size()
                ));
                continue;
            }
            let bytes = self
                .blobs
                .get(dispute.tenant(), attachment.sha256())
                .await
                .map_err(|e| NotifyError::retry(format!("reading {}: {e}", attachment.name())))?
                .ok_or_else(|| {
                    NotifyError::retry(format!("the file {} is missing", attachment.name()))
                })?;
            total += attachment.size();
            files.push(TicketFile {
                name: attachment.name().to_owned(),
                media_type: attachment.media_type().to_owned(),
                bytes,
            });
        }
        Ok((files, left_out))
    }

    /// Opens the dispute's ticket, or adopts the one an earlier attempt opened.
    ///
    /// Openings of one dispute take turns within this process, and each looks at the store again
    /// once it has the lock, so of two events that race only the first opens the ticket.
    async fn open_ticket(&self, event: &Event, email: String) -> Result<Ticket, NotifyError> {
        let dispute = &event.dispute;
        let stripe = usize::try_from(dispute.id().get()).unwrap_or_default() % self.opening.len();
        let _turn = self.opening[stripe].lock().await;
        if let Some(ticket) = self.stored_ticket(dispute).await? {
            return Ok(ticket);
        }
        let tags = dispute_tags(dispute);
        if event.may_follow_an_attempt() || event.kind != EntryKind::Opened {
            // An earlier attempt, or another event of the dispute (maybe in another process),
            // may have opened it and lost the answer.
            if let Some(found) = self
                .client
                .find_tagged(&tags)
                .await?
                .into_iter()
                .min_by_key(|t| t.id)
            {
                tracing::info!(dispute = %dispute.id(), ticket = found.id, "adopting the Freshdesk ticket an earlier attempt opened");
                let status = from_freshdesk_number(found.status);
                return self
                    .record(dispute, found.id, status, chrono::Utc::now())
                    .await;
            }
        }
        let (files, left_out) = self.files(dispute).await?;
        let ticket = NewTicket {
            subject: ticket_subject(dispute),
            description: description(dispute, &left_out),
            email,
            priority: 2,
            tags,
        };
        let created = self.client.create_ticket(&ticket, files).await?;
        let status = from_freshdesk_number(created.status);
        self.record(dispute, created.id, status, chrono::Utc::now())
            .await
    }

    /// A private note with the message of entry `event.seq`, unless an earlier attempt added it.
    async fn add_message_note(&self, ticket: &Ticket, event: &Event) -> Result<(), NotifyError> {
        let marker = format!("Event {}", event.id);
        if event.may_follow_an_attempt()
            && self
                .client
                .has_conversation_with(ticket.id, &marker)
                .await?
        {
            return Ok(());
        }
        let message = event
            .dispute
            .messages()
            .iter()
            .find(|m| m.seq() == event.seq);
        let mut html = String::new();
        match message {
            Some(m) => {
                html.push_str(&format!(
                    "<p><b>Message from {}</b> ({})</p><p>{}</p>",
                    escape_html(m.author().role.as_str()),
                    escape_html(m.author().id.as_str()),
                    escape_html(m.text()).replace('\n', "<br>")
                ));
                if let Some(a) = m.attachment() {
                    html.push_str(&format!(
                        "<p>File: {} ({} bytes)</p>",
                        escape_html(a.name()),
                        a.size()
                    ));
                }
            }
            None => html.push_str(&format!(
                "<p>{}</p>",
                escape_html(event.entry().map_or("", |e| e.notes()))
            )),
        }
        html.push_str(&format!("<p><small>{}</small></p>", escape_html(&marker)));
        Ok(self.client.add_note(ticket.id, &html).await?)
    }
}

#[async_trait]
impl Notifier for FreshdeskNotifier {
    async fn deliver(&self, event: &Event) -> Result<(), NotifyError> {
        let dispute = &event.dispute;
        let Some(email) = self.requester(dispute).await? else {
            tracing::debug!(
                dispute = %dispute.id(), tenant = %dispute.tenant(),
                "no Freshdesk ticket: the dispute has no customer and its tenant no owner's email"
            );
            return Ok(());
        };
        let stored = self.stored_ticket(dispute).await?;
        if event.kind == EntryKind::Opened {
            if stored.is_none() {
                self.open_ticket(event, email).await?;
            }
            return Ok(());
        }
        let closing = matches!(
            event.kind,
            EntryKind::Settled | EntryKind::Withdrawn | EntryKind::Expired
        );
        if !(closing || event.kind == EntryKind::Message) {
            return Ok(());
        }
        let ticket = match stored {
            Some(ticket) => ticket,
            // The opening event normally opens the ticket; a later one waits for it a few
            // attempts, then (a dispute opened while Freshdesk was off) opens it itself.
            None if event.attempt <= ATTEMPTS_BEFORE_OPENING => {
                return Err(NotifyError::retry(
                    "the dispute's Freshdesk ticket is not open yet",
                ));
            }
            None => self.open_ticket(event, email).await?,
        };
        if event.kind == EntryKind::Message {
            return self.add_message_note(&ticket, event).await;
        }
        self.client
            .set_status(ticket.id, TicketStatus::Resolved)
            .await?;
        self.record(
            dispute,
            ticket.id,
            TicketStatus::Resolved,
            ticket.created_at,
        )
        .await
        .map(drop)
    }
}

/// `Dispute 7: invoice INV-1 (Jane Doe)` and the like.
pub fn ticket_subject(dispute: &Dispute) -> String {
    let about = match dispute.subject() {
        Subject::Invoice(s) => format!("invoice {} ({})", s.invoice(), s.customer_name()),
        Subject::Billing(s) => s.summary(),
        Subject::Delivery(s) => format!("campaign {}", s.campaign_id()),
    };
    format!("Dispute {}: {about}", dispute.id())
}

/// The ticket's HTML: the dispute's facts, each escaped, and the files that did not fit.
pub fn description(dispute: &Dispute, left_out: &[String]) -> String {
    let mut facts: Vec<(&str, String)> = vec![
        ("Dispute", dispute.id().to_string()),
        ("Tenant", dispute.tenant().to_string()),
        ("Kind", dispute.subject().kind().as_str().to_owned()),
        ("Status", dispute.status().as_str().to_owned()),
        (
            "Claimed",
            format!(
                "{} {}",
                dispute.claim().amount(),
                dispute.claim().quantity.unit()
            ),
        ),
        (
            "Opened",
            dispute
                .opened_at()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
        (
            "Opened by",
            format!(
                "{} ({})",
                dispute.opened_by().id,
                dispute.opened_by().role.as_str()
            ),
        ),
    ];
    match dispute.subject() {
        Subject::Invoice(s) => {
            facts.push(("Invoice", s.invoice().to_owned()));
            facts.push((
                "Customer",
                format!("{} <{}>", s.customer_name(), s.customer_email()),
            ));
            facts.push(("Category", s.category().to_owned()));
            facts.push(("Locale", s.locale().to_string()));
        }
        Subject::Billing(s) => {
            if let Some(account) = s.account_id() {
                facts.push(("Account", account.to_owned()));
            }
            match s.target() {
                BillingTarget::Item(item) => facts.push(("Bill item", item.clone())),
                BillingTarget::Bill(bill) => facts.push(("Bill", bill.clone())),
                BillingTarget::Events(events) => {
                    facts.push(("Usage events", events.ids().join(", ")));
                }
            }
        }
        Subject::Delivery(s) => {
            facts.push(("Campaign", s.campaign_id().to_owned()));
            facts.push(("Screens", s.screen_ids().join(", ")));
        }
    }
    let mut html = String::from("<table>");
    for (name, value) in facts {
        html.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            escape_html(name),
            escape_html(&value)
        ));
    }
    html.push_str("</table>");
    if let Some(first) = dispute.messages().first() {
        html.push_str(&format!(
            "<p>{}</p>",
            escape_html(first.text()).replace('\n', "<br>")
        ));
    }
    if !left_out.is_empty() {
        html.push_str(&format!(
            "<p>Not attached, over Freshdesk's 20 MB limit: {}</p>",
            escape_html(&left_out.join(", "))
        ));
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_freshdesks_numbers_and_a_custom_one_is_open() {
        for &status in TicketStatus::ALL {
            assert_eq!(from_freshdesk_number(freshdesk_number(status)), status);
        }
        assert_eq!(freshdesk_number(TicketStatus::Resolved), 4);
        assert_eq!(from_freshdesk_number(17), TicketStatus::Open);
    }

    #[test]
    fn facts_are_escaped() {
        assert_eq!(
            escape_html(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn the_api_key_stays_out_of_debug_output() {
        let config = FreshdeskConfig::new("https://acme.freshdesk.com/", "secret-key");
        assert_eq!(config.base_url, "https://acme.freshdesk.com");
        assert!(!format!("{config:?}").contains("secret-key"));
    }
}
