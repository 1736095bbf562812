//! The Freshdesk sink's wiring: on when a desk and an API key are configured, off (and said so)
//! otherwise.

use anyhow::Context as _;
use disputes_notify::{FreshdeskClient, FreshdeskConfig};

use crate::cli::FreshdeskArgs;

/// The Freshdesk client `args` configure, or `None` (logged once, at start) without a desk.
///
/// # Errors
/// When the desk's URL is not an http(s) URL or the client cannot be built.
pub fn freshdesk_client(args: &FreshdeskArgs) -> anyhow::Result<Option<FreshdeskClient>> {
    let (Some(url), Some(key)) = (&args.freshdesk_url, &args.freshdesk_api_key) else {
        tracing::info!(
            "Freshdesk tickets are off: set FRESHDESK_URL and FRESHDESK_API_KEY to open one per dispute"
        );
        return Ok(None);
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        anyhow::bail!("FRESHDESK_URL must be an http:// or https:// URL, not {url:?}");
    }
    let config = FreshdeskConfig::new(url.as_str(), key.as_str()).with_timeout(
        std::time::Duration::from_millis(args.freshdesk_timeout_ms.max(1)),
    );
    tracing::info!(url = %config.base_url, "Freshdesk tickets are on");
    FreshdeskClient::new(config)
        .map(Some)
        .context("cannot set up the Freshdesk client")
}
