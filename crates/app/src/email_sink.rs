//! The email sink's wiring: on when an SMTP relay is configured, off (and said so) otherwise.

use std::sync::Arc;

use anyhow::Context as _;
use disputes_notify::EmailNotifier;
use disputes_ports::{CredentialStore, SentEmails};

use crate::cli::EmailArgs;

/// The email notifier `args` configure, or `None` (logged once, at start) without a relay.
///
/// # Errors
/// When the relay's URL or the sender is malformed.
pub fn email_notifier(
    args: &EmailArgs,
    owners: Arc<dyn CredentialStore>,
    sent: Arc<dyn SentEmails>,
) -> anyhow::Result<Option<EmailNotifier>> {
    let Some(url) = args
        .smtp_url
        .as_deref()
        .filter(|url| !url.trim().is_empty())
    else {
        tracing::info!(
            "email is off: set SMTP_URL and EMAIL_FROM (--smtp-url, --email-from) to send notification mail"
        );
        return Ok(None);
    };
    let from = args
        .email_from
        .as_deref()
        .context("EMAIL_FROM (--email-from) is required with SMTP_URL")?;
    let notifier = EmailNotifier::new(url, from, owners, sent)?;
    tracing::info!(from, "email is on");
    Ok(Some(notifier))
}
