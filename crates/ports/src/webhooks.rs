//! Webhooks: the endpoints each tenant registers for its disputes' events, which of those events
//! each one subscribed to, and which of them already took which event, so that a retry goes only
//! to those that did not.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use disputes_domain::{ActorId, DomainError, EntryKind, TenantId, Timestamp};

use crate::idempotency::Reservation;
use crate::outbox::random_hex;
use crate::{Clock, EventId, ServiceError, StoreError};

/// The longest URL an endpoint may have; longer ones are refused rather than cut.
const URL_MAX: usize = 2000;

/// Which URLs a registration may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlPolicy {
    /// `https://` only: what the delivery vendor promises its clients (its page says "absolute
    /// and https").
    Https,
    /// `https://`, or `http://` to a loopback host: a server started for tests, whose receiver
    /// listens on 127.0.0.1 without a certificate.
    HttpsOrLoopbackHttp,
    /// `http://` or `https://`: the operator's own command line, which is trusted with its
    /// network.
    AnyHttp,
}

/// An endpoint's absolute `http(s)://` URL, checked against a [`UrlPolicy`] when registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// `raw` if it is an absolute URL `policy` allows: a scheme, a host, no whitespace or
    /// control characters, no credentials (`user@`), at most 2000 characters.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] about `url`, saying what is wrong.
    pub fn new(raw: &str, policy: UrlPolicy) -> Result<Self, DomainError> {
        let invalid = |reason: &str| DomainError::Invalid {
            field: "url",
            reason: reason.into(),
        };
        let (https, rest) = if let Some(rest) = raw.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = raw.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(invalid(match policy {
                UrlPolicy::AnyHttp => "must be an http:// or https:// URL",
                _ => "must be an absolute https:// URL",
            }));
        };
        if raw.chars().count() > URL_MAX {
            return Err(invalid("must be at most 2000 characters"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain whitespace or control characters"));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            // Credentials in a URL end up in logs; the signature is what authenticates us.
            return Err(invalid("must not carry credentials (user@host)"));
        }
        let Some(host) = host_of(authority) else {
            return Err(invalid(
                "must name a host, and a port only in digits (host:8443, [::1]:8443)",
            ));
        };
        let allowed = https
            || match policy {
                UrlPolicy::Https => false,
                UrlPolicy::HttpsOrLoopbackHttp => is_loopback(host),
                UrlPolicy::AnyHttp => true,
            };
        if !allowed {
            return Err(invalid(match policy {
                UrlPolicy::HttpsOrLoopbackHttp => {
                    "must be an absolute https:// URL (http:// only to a loopback host)"
                }
                _ => "must be an absolute https:// URL",
            }));
        }
        Ok(WebhookUrl(raw.to_owned()))
    }

    /// A URL as the store kept it, checked when it was registered.
    pub fn stored(raw: String) -> Self {
        WebhookUrl(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The host of an authority (`host`, `host:port`, `[v6]:port`), without brackets; `None` when
/// there is no host, an IPv6 literal holds more than hex digits, `:` and `.`, or the port more
/// than digits. The contract's document states the same rule as a pattern.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            let valid = host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
            if !valid {
                return None;
            }
            (host, after)
        }
        None => {
            let end = authority.find(':').unwrap_or(authority.len());
            let (host, after) = authority.split_at(end);
            if host.contains(['[', ']']) {
                return None;
            }
            (host, after)
        }
    };
    let port_is_digits = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()));
    (!host.is_empty() && port_is_digits).then_some(host)
}

/// `localhost` or a loopback address: a host that never leaves the machine.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The events the delivery vendor's page lists for its own platform. None of them happens in a
/// dispute engine, so none is ever sent; a subscription may still name them, as the vendor
/// accepts kinds that do not fire yet, so that a client written for the vendor registers unchanged.
pub const VENDOR_EVENTS: &[&str] = &[
    "right.issued",
    "right.suspended",
    "right.resumed",
    "right.revoked",
    "right.expired",
    "basis.registered",
    "offer.proposed",
    "offer.accepted",
    "offer.rejected",
    "offer.countered",
    "offer.withdrawn",
    "challenge.opened",
    "challenge.resolved",
    "challenge.withdrawn",
    "delivery.observed",
    "proof_pack.sealed",
    "key.issued",
    "key.revoked",
    "key.rotated",
];

/// What a subscription names: every event (`*`), our own events (`dispute.<entry kind>`, the
/// `type` of the body a webhook receives) or the vendor's names (see [`VENDOR_EVENTS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvents(BTreeSet<String>);

impl WebhookEvents {
    /// The most names one subscription may list.
    pub const MAX: usize = 64;
    /// The name that covers every event.
    pub const ALL: &'static str = "*";

    /// Every event.
    pub fn all() -> Self {
        WebhookEvents(BTreeSet::from([Self::ALL.to_owned()]))
    }

    /// The names of `names`, each once.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] about `events` for no name, more than [`Self::MAX`], or a name
    /// that is none of the above (the reason lists the names that are).
    pub fn new<S: AsRef<str>>(names: &[S]) -> Result<Self, DomainError> {
        let invalid = |reason: String| DomainError::Invalid {
            field: "events",
            reason,
        };
        if names.is_empty() {
            return Err(invalid(
                "must name at least one event; [\"*\"] for all".into(),
            ));
        }
        if names.len() > Self::MAX {
            return Err(invalid(format!("must name at most {} events", Self::MAX)));
        }
        let mut set = BTreeSet::new();
        for name in names {
            let name = name.as_ref();
            if !Self::known(name) {
                let kinds = EntryKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(invalid(format!(
                    "unknown event {name:?}: use \"*\", dispute.<kind> with a kind of {kinds}, or an event name of the vendor's"
                )));
            }
            set.insert(name.to_owned());
        }
        Ok(WebhookEvents(set))
    }

    fn known(name: &str) -> bool {
        name == Self::ALL
            || VENDOR_EVENTS.contains(&name)
            || name
                .strip_prefix("dispute.")
                .is_some_and(|kind| kind.parse::<EntryKind>().is_ok())
    }

    /// Whether an event about a timeline entry of `kind` goes to this subscription.
    pub fn covers(&self, kind: EntryKind) -> bool {
        self.0.contains(Self::ALL) || self.0.contains(&format!("dispute.{kind}"))
    }

    /// The names, in a stable order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The names as a store keeps them: separated by commas, which no name contains.
    pub fn to_stored(&self) -> String {
        self.names().collect::<Vec<_>>().join(",")
    }

    /// The names a store kept with [`Self::to_stored`].
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when they are not names a registration accepts.
    pub fn from_stored(text: &str) -> Result<Self, StoreError> {
        let names = text.split(',').collect::<Vec<_>>();
        Self::new(&names).map_err(|e| StoreError::Corrupt(format!("webhook events {text:?}: {e}")))
    }
}

/// A name the tenant gives an endpoint, to tell its endpoints apart: 1 to 60 characters, no
/// control characters, not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookLabel(String);

impl WebhookLabel {
    pub const MAX_CHARS: usize = 60;

    /// # Errors
    /// [`DomainError::Invalid`] about `label`.
    pub fn new(text: impl Into<String>) -> Result<Self, DomainError> {
        let text = text.into();
        let chars = text.chars().count();
        if text.trim().is_empty() || chars > Self::MAX_CHARS || text.chars().any(char::is_control) {
            return Err(DomainError::Invalid {
                field: "label",
                reason: "must be 1-60 characters, not blank, without control characters".into(),
            });
        }
        Ok(WebhookLabel(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What registering an endpoint stores, beside its tenant and secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub url: WebhookUrl,
    pub events: WebhookEvents,
    pub label: Option<WebhookLabel>,
    /// The delivery contract's developer whose key registered it; `None` from the command line.
    /// Only the delivery contract registers through the API, so an endpoint with a developer
    /// is one of that vendor's clients, and is signed the vendor's way too.
    pub developer: Option<ActorId>,
}

/// An endpoint of a tenant that receives its disputes' events, signed with `secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub tenant: TenantId,
    pub url: WebhookUrl,
    pub events: WebhookEvents,
    pub label: Option<WebhookLabel>,
    pub developer: Option<ActorId>,
    /// The HMAC key of the signatures; kept in plaintext, since signing needs it.
    pub secret: String,
    pub created_at: Timestamp,
}

/// Where webhooks and their deliveries are kept.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WebhookRegistry: Send + Sync + std::fmt::Debug {
    /// Registers an endpoint for `tenant`, signed with `secret`, created `at`. With the `key` of
    /// the request that registers it, the store records on the key, in the same transaction,
    /// which webhook it made, as a dispute's write records its effect.
    ///
    /// # Errors
    /// MUST fail when the tenant does not exist, and with [`StoreError::KeyTakenOver`] (storing
    /// nothing) when a retry took `key` over.
    async fn add_webhook(
        &self,
        tenant: &TenantId,
        registration: &Registration,
        secret: &str,
        at: Timestamp,
        key: Option<Reservation>,
    ) -> Result<Webhook, StoreError>;

    /// The tenant's webhook `id`, if it is the tenant's.
    async fn webhook(&self, tenant: &TenantId, id: i64) -> Result<Option<Webhook>, StoreError>;

    /// The tenant's webhooks that subscribed to events of `kind` (see
    /// [`WebhookEvents::covers`]) and have not taken `event` yet, by id. A webhook that did not
    /// subscribe to `kind` MUST NOT be returned: it never hears of the event.
    async fn webhooks_pending(
        &self,
        tenant: &TenantId,
        event: &EventId,
        kind: EntryKind,
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
    urls: UrlPolicy,
}

impl WebhookService {
    /// Registrations through a contract take `https://` URLs only; see
    /// [`Self::allowing_loopback_http`].
    pub fn new(registry: Arc<dyn WebhookRegistry>, clock: Arc<dyn Clock>) -> Self {
        WebhookService {
            registry,
            clock,
            urls: UrlPolicy::Https,
        }
    }

    /// Lets contracts register `http://` URLs of loopback hosts too (a server run for tests).
    #[must_use]
    pub fn allowing_loopback_http(self, allow: bool) -> Self {
        WebhookService {
            urls: if allow {
                UrlPolicy::HttpsOrLoopbackHttp
            } else {
                UrlPolicy::Https
            },
            ..self
        }
    }

    /// The URLs a contract may register.
    pub fn url_policy(&self) -> UrlPolicy {
        self.urls
    }

    /// Registers an endpoint for `tenant`'s events and returns it with its secret, which is
    /// shown to the tenant this once.
    ///
    /// # Errors
    /// What the store reports ([`ServiceError::NotFound`] for an unknown tenant).
    /// Registers an endpoint with a fresh secret; `key` is the registering request's, if it
    /// carried one.
    pub async fn register(
        &self,
        tenant: &TenantId,
        registration: &Registration,
        key: Option<&Reservation>,
    ) -> Result<Webhook, ServiceError> {
        let secret = format!("whsec_{}", random_hex::<32>());
        Ok(self
            .registry
            .add_webhook(
                tenant,
                registration,
                &secret,
                self.clock.now(),
                key.cloned(),
            )
            .await?)
    }

    /// The tenant's webhook `id`, secret and all: what a registration answered.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when it is not the tenant's.
    pub async fn subscription(&self, tenant: &TenantId, id: i64) -> Result<Webhook, ServiceError> {
        self.registry
            .webhook(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use chrono::Utc;

    fn url(raw: &str, policy: UrlPolicy) -> Result<String, String> {
        WebhookUrl::new(raw, policy)
            .map(|u| u.as_str().to_owned())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn contracts_take_https_and_loopback_http_only_when_allowed() {
        for bad in [
            "ftp://x",
            "http://",
            "https://",
            "https://a b",
            "example.com",
            "https://u:p@x.example/in",
            "https:///path",
        ] {
            for policy in [
                UrlPolicy::Https,
                UrlPolicy::HttpsOrLoopbackHttp,
                UrlPolicy::AnyHttp,
            ] {
                assert!(url(bad, policy).is_err(), "{bad} {policy:?}");
            }
        }
        let long = format!("https://x.example/{}", "a".repeat(URL_MAX));
        assert!(url(&long, UrlPolicy::AnyHttp).is_err());
        for good in [
            "https://hooks.example/in",
            "https://hooks.example:8443/in?x=1#y",
            "https://hooks.example:/in",
            "https://[2001:db8::1]:8443",
            "https://hooks.example",
        ] {
            assert!(url(good, UrlPolicy::Https).is_ok(), "{good}");
        }
        for loopback in [
            "http://127.0.0.1:9/in",
            "http://localhost/in",
            "http://[::1]:8/in",
        ] {
            assert!(url(loopback, UrlPolicy::Https).is_err(), "{loopback}");
            assert!(
                url(loopback, UrlPolicy::HttpsOrLoopbackHttp).is_ok(),
                "{loopback}"
            );
        }
        for remote in [
            "http://hooks.example/in",
            "http://10.0.0.1/in",
            "http://127.0.0.1.example/in",
        ] {
            let refused = url(remote, UrlPolicy::HttpsOrLoopbackHttp).unwrap_err();
            assert!(refused.contains("https://"), "{refused}");
            assert!(url(remote, UrlPolicy::AnyHttp).is_ok(), "{remote}");
        }
    }

    #[test]
    fn events_are_star_our_kinds_or_the_vendors_names() {
        assert!(WebhookEvents::new::<&str>(&[]).is_err());
        assert!(WebhookEvents::new(&["dispute.nope"]).is_err());
        assert!(WebhookEvents::new(&["opened"]).is_err());
        assert!(WebhookEvents::new(&vec!["*"; WebhookEvents::MAX + 1]).is_err());

        let all = WebhookEvents::new(&["*"]).unwrap();
        assert!(EntryKind::ALL.iter().all(|k| all.covers(*k)));
        assert_eq!(all, WebhookEvents::all());

        let some =
            WebhookEvents::new(&["dispute.settled", "dispute.opened", "dispute.opened"]).unwrap();
        assert!(some.covers(EntryKind::Opened) && some.covers(EntryKind::Settled));
        assert!(!some.covers(EntryKind::Note));
        assert_eq!(some.to_stored(), "dispute.opened,dispute.settled");
        assert_eq!(WebhookEvents::from_stored(&some.to_stored()).unwrap(), some);
        assert!(WebhookEvents::from_stored("dispute.opened,bogus").is_err());

        // Accepted for a vendor's client, and never sent: nothing here is one of them.
        let vendor = WebhookEvents::new(&["challenge.opened", "key.rotated"]).unwrap();
        assert!(EntryKind::ALL.iter().all(|k| !vendor.covers(*k)));
    }

    #[test]
    fn labels_are_one_to_sixty_characters() {
        assert!(WebhookLabel::new("").is_err());
        assert!(WebhookLabel::new("  ").is_err());
        assert!(WebhookLabel::new("a\nb").is_err());
        assert!(WebhookLabel::new("é".repeat(60)).is_ok());
        assert!(WebhookLabel::new("é".repeat(61)).is_err());
    }

    #[tokio::test]
    async fn each_registration_gets_its_own_secret() {
        let mut registry = MockWebhookRegistry::new();
        registry
            .expect_add_webhook()
            .times(2)
            .returning(|tenant, registration, secret, at, _| {
                Ok(Webhook {
                    id: 1,
                    tenant: tenant.clone(),
                    url: registration.url.clone(),
                    events: registration.events.clone(),
                    label: registration.label.clone(),
                    developer: registration.developer.clone(),
                    secret: secret.into(),
                    created_at: at,
                })
            });
        let svc = WebhookService::new(Arc::new(registry), Arc::new(ManualClock::new(Utc::now())));
        assert_eq!(svc.url_policy(), UrlPolicy::Https);
        assert_eq!(
            svc.clone().allowing_loopback_http(true).url_policy(),
            UrlPolicy::HttpsOrLoopbackHttp
        );
        let acme = TenantId::new("acme").unwrap();
        let registration = Registration {
            url: WebhookUrl::new("https://hooks.example/in", UrlPolicy::Https).unwrap(),
            events: WebhookEvents::all(),
            label: None,
            developer: None,
        };
        let a = svc.register(&acme, &registration, None).await.unwrap();
        let b = svc.register(&acme, &registration, None).await.unwrap();
        assert!(a.secret.starts_with("whsec_") && a.secret.len() == 70);
        assert_ne!(a.secret, b.secret);
    }
}
