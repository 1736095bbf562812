//! The notification sinks, as [`Notifier`](disputes_ports::Notifier)s for the
//! [`Dispatcher`](disputes_ports::Dispatcher): today the tenants' signed webhooks
//! ([`WebhookNotifier`]). Only this crate (and the http adapter) knows a wire format.
//!
//! Email over SMTP: [`EmailNotifier`], its texts in [`templates`].

mod email;
mod retry;
mod webhook;

pub use email::{
    message_id, outgoing, templates, EmailConfigError, EmailNotifier, Outgoing, PARTY_NOTICE,
};
pub use retry::retry_after;
pub use webhook::{
    event_body, sign, WebhookNotifier, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
