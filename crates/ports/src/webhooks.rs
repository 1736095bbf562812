//! Webhooks: the endpoints each tenant registers for its disputes' events, and which of them
//! already took which event, so that a retry goes only to those that did not.

use std::sync::Arc;

use async_trait::async_trait;
use disputes_domain::{DomainError, TenantId, Timestamp};

use crate::outbox::random_hex;
use crate::{Clock, EventId, ServiceError, StoreError};

/// An endpoint of a tenant that receives its disputes' events, signed with `secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub tenant: TenantId,
    pub url: String,
    /// The HMAC key of the signatures; kept in plaintext, since signing needs it.
    pub secret: String,
}

/// Where webhooks and their deliveries are kept.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WebhookRegistry: Send + Sync + std::fmt::Debug {
    /// Registers an endpoint for `tenant`.
    ///
    /// # Errors
    /// MUST fail when the tenant does not exist.
    async fn add_webhook(
        &self,
        tenant: &TenantId,
        url: &str,
        secret: &str,
        at: Timestamp,
    ) -> Result<Webhook, StoreError>;

    /// The tenant's webhooks that have not taken `event` yet, by id.
    async fn webhooks_pending(
        &self,
        tenant: &TenantId,
        event: &EventId,
    ) -> Result<Vec<Webhook>, StoreError>;

    /// Records that `webhook` took `event`; recording it again changes nothing.
    async fn webhook_delivered(
        &self,
        webhook: i64,
        event: &EventId,
        at: Timestamp,
    ) -> Result<(), StoreError>;
}

/// Registers webhooks, each with a fresh signing secret.
#[derive(Debug, Clone)]
pub struct WebhookService {
    registry: Arc<dyn WebhookRegistry>,
    clock: Arc<dyn Clock>,
}

impl WebhookService {
    pub fn new(registry: Arc<dyn WebhookRegistry>, clock: Arc<dyn Clock>) -> Self {
        WebhookService { registry, clock }
    }

    /// Registers `url` for `tenant`'s events and returns it with its secret, which is shown
    /// to the tenant this once.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] for a URL that is not `http://` or `https://`; what the store
    /// reports (an unknown tenant).
    pub async fn add(&self, tenant: &TenantId, url: &str) -> Result<Webhook, ServiceError> {
        let valid = ["http://", "https://"]
            .iter()
            .any(|scheme| url.len() > scheme.len() && url.starts_with(scheme))
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid || url.len() > 2000 {
            return Err(DomainError::Invalid {
                field: "url",
                reason: "must be an http:// or https:// URL".into(),
            }
            .into());
        }
        let secret = format!("whsec_{}", random_hex::<32>());
        Ok(self
            .registry
            .add_webhook(tenant, url, &secret, self.clock.now())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use chrono::Utc;

    #[tokio::test]
    async fn only_http_urls_are_registered_each_with_its_own_secret() {
        let mut registry = MockWebhookRegistry::new();
        registry
            .expect_add_webhook()
            .times(2)
            .returning(|tenant, url, secret, _| {
                Ok(Webhook {
                    id: 1,
                    tenant: tenant.clone(),
                    url: url.into(),
                    secret: secret.into(),
                })
            });
        let svc = WebhookService::new(Arc::new(registry), Arc::new(ManualClock::new(Utc::now())));
        let acme = TenantId::new("acme").unwrap();
        for bad in ["ftp://x", "http://", "https://a b", "example.com"] {
            assert!(svc.add(&acme, bad).await.is_err(), "{bad}");
        }
        let a = svc.add(&acme, "https://hooks.example/in").await.unwrap();
        let b = svc.add(&acme, "http://127.0.0.1:9/in").await.unwrap();
        assert!(a.secret.starts_with("whsec_") && a.secret.len() == 70);
        assert_ne!(a.secret, b.secret);
    }
}
