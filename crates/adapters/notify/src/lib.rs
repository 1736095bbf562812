//! The notification sinks, as [`Notifier`](disputes_ports::Notifier)s for the
//! [`Dispatcher`](disputes_ports::Dispatcher): today the tenants' signed webhooks
//! ([`WebhookNotifier`]). Only this crate (and the http adapter) knows a wire format.

mod retry;
mod webhook;

pub use retry::retry_after;
pub use webhook::{
    event_body, sign, WebhookNotifier, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
