//! The notification sinks, as [`Notifier`](disputes_ports::Notifier)s for the
//! [`Dispatcher`](disputes_ports::Dispatcher): today the tenants' signed webhooks
//! ([`WebhookNotifier`]), email over SMTP ([`EmailNotifier`], its texts in [`templates`]) and
//! Freshdesk tickets ([`FreshdeskNotifier`]). Only this crate (and the http adapter) knows a wire
//! format.

mod email;
mod freshdesk;
mod retry;
mod webhook;

pub use email::{
    message_id, outgoing, templates, EmailConfigError, EmailNotifier, Outgoing, PARTY_NOTICE,
};
pub use freshdesk::{
    description, dispute_tags, escape_html, ticket_subject, FreshdeskClient, FreshdeskConfig,
    FreshdeskError, FreshdeskNotifier, NewTicket, RemoteTicket, TicketFile, ATTACHMENTS_LIMIT,
    ATTEMPTS_BEFORE_OPENING,
};
pub use retry::retry_after;
pub use webhook::{
    event_body, refused_for_good, shown_url, sign, WebhookNotifier, EVENT_ID_HEADER,
    SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
