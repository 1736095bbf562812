//! Idempotency keys (SPEC §6): a client that sends `Idempotency-Key` with a POST may send the same
//! request again, after a timeout or a dropped connection, and get the first answer instead of a
//! second effect.
//!
//! A key is scoped by tenant and principal (the credential's actor and role), so two clients never
//! collide. Its life has three steps:
//!
//! 1. [`IdempotencyStore::reserve`] claims it in a short transaction of its own, with the
//!    request's [`Fingerprint`] and a lease. A key that is taken answers instead: the stored
//!    response, a mismatch, in flight, or the dispute its interrupted request changed.
//! 2. The request hands its [`Reservation`] to the use case it runs, which passes it on to the
//!    [`DisputeRepository`] in the [`Write`] of its create or update. The store records, in the
//!    same transaction as the change, which dispute and version the key produced, and refuses the
//!    change with [`StoreError::KeyTakenOver`] when a retry has taken the key over meanwhile. So a
//!    key is bound to its effect atomically: a replay never repeats an effect that committed, even
//!    when the answer to it was never stored, and one key never has two effects.
//!    A webhook registration records the webhook it made the same way, in the registration's
//!    transaction ([`WebhookRegistry::add_webhook`](crate::WebhookRegistry::add_webhook)).
//! 3. [`IdempotencyStore::complete`] stores the answer, or [`IdempotencyStore::release`] frees a
//!    key whose request failed on our side without an effect, so that a retry runs.
//!
//! The answer is kept as opaque bytes ([`StoredAnswer`]): what a replay repeats is the driving
//! adapter's business (status, headers and body, for HTTP), not this layer's.
//!
//! A key is kept for [`RETENTION`]; after that it is forgotten and may be used again.
//!
//! [`DisputeRepository`]: crate::DisputeRepository
//! [`Write`]: crate::Write

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use disputes_domain::{DisputeId, TenantId, Timestamp, Version};
use sha2::{Digest as _, Sha256};

use crate::{Clock, ServiceError, StoreError};

/// How long a key is remembered (SPEC §6: 24 h).
pub const RETENTION: Duration = Duration::hours(24);

/// How long a reservation holds a key before a retry may take it over. Far longer than any
/// request runs; a request that outlives it can no longer record an effect (its write fails with
/// [`StoreError::KeyTakenOver`]), so two requests never both act on one key.
pub const LEASE: Duration = Duration::seconds(60);

/// A valid `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    /// # Errors
    /// A description of what is wrong with `text`, for the caller's error message.
    pub fn new(text: &str) -> Result<Self, &'static str> {
        if text.is_empty() {
            return Err("must not be empty");
        }
        if text.len() > Self::MAX_LEN {
            return Err("must be at most 255 characters");
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be visible ASCII characters without spaces");
        }
        Ok(IdempotencyKey(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 over what makes two requests "the same": method, path with query, the headers that
/// change what a request means or how it is answered, and the body bytes. Each part is length
/// prefixed, so no two different requests run together into one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of a request made of `parts`, in order.
    pub fn of<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Fingerprint(hex(&hash.finalize()))
    }

    /// A stored fingerprint, as [`as_str`](Self::as_str) spelled it.
    pub fn from_stored(text: String) -> Self {
        Fingerprint(text)
    }

    /// Lowercase hex, 64 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A request that carries a key: whose it is, the key, and the request's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedRequest {
    pub tenant: TenantId,
    /// The credential within the tenant, such as `advertiser:acme-ads`.
    pub principal: String,
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
}

/// A key held by one request. `token` tells this holder apart from a later one that took the key
/// over after the lease ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub tenant: TenantId,
    pub principal: String,
    pub key: IdempotencyKey,
    pub token: String,
}

impl Reservation {
    /// A fresh holder token: 128 random bits in hex.
    pub fn new_token() -> String {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
        hex(&bytes)
    }

    /// `request`'s key, held by the holder `token`.
    pub fn of(request: &KeyedRequest, token: String) -> Self {
        Reservation {
            tenant: request.tenant.clone(),
            principal: request.principal.clone(),
            key: request.key.clone(),
            token,
        }
    }

    /// The outcome of a store's attempt to record an effect on this key, which changed `marked`
    /// rows: none means a retry took the key over after the lease ended, so the write must roll
    /// back rather than act a second time on one key.
    ///
    /// # Errors
    /// [`StoreError::KeyTakenOver`] when `marked` is 0.
    pub fn effect_recorded(&self, marked: u64) -> Result<(), StoreError> {
        if marked == 0 {
            tracing::warn!(
                key = self.key.as_str(),
                "idempotency key was taken over; refusing the write"
            );
            return Err(StoreError::KeyTakenOver);
        }
        Ok(())
    }
}

/// The answer a replay repeats, as the driving adapter encoded it. Opaque here: only the
/// adapter that stored it reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer(Vec<u8>);

impl StoredAnswer {
    pub fn new(bytes: Vec<u8>) -> Self {
        StoredAnswer(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// What [`IdempotencyStore::reserve`] found a key to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    /// The key is this request's now: run it.
    Reserved(Reservation),
    /// The same request was answered before: answer the same.
    Answered(StoredAnswer),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
    /// The first request changed `dispute` (to `version`) but its answer was never stored (the
    /// process stopped in between): answer from the dispute as it is, never change it again.
    Effected {
        dispute: DisputeId,
        version: Version,
    },
    /// The first request registered `webhook` but its answer was never stored: answer from the
    /// webhook, never register another.
    Subscribed { webhook: i64 },
}

/// A key as a store holds it, for [`verdict`](Self::verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub fingerprint: Fingerprint,
    pub created_at: Timestamp,
    pub lease_until: Timestamp,
    /// The dispute and version its request produced, if any.
    pub effect: Option<(DisputeId, Version)>,
    /// The webhook its request registered, if it registered one.
    pub subscription: Option<i64>,
    pub answer: Option<StoredAnswer>,
}

impl StoredKey {
    /// What a new request with `fingerprint` at `now` meets: a [`KeyState`] other than
    /// [`KeyState::Reserved`], or `None` when the key may be (re)taken, because it expired or its
    /// request ended without an effect or an answer. Every store decides with this one rule.
    pub fn verdict(&self, fingerprint: &Fingerprint, now: Timestamp) -> Option<KeyState> {
        if self.created_at + RETENTION <= now {
            return None;
        }
        if self.fingerprint != *fingerprint {
            return Some(KeyState::Mismatch);
        }
        if let Some(answer) = &self.answer {
            return Some(KeyState::Answered(answer.clone()));
        }
        if now < self.lease_until {
            return Some(KeyState::InFlight);
        }
        if let Some(webhook) = self.subscription {
            return Some(KeyState::Subscribed { webhook });
        }
        self.effect
            .map(|(dispute, version)| KeyState::Effected { dispute, version })
    }
}

/// Where idempotency keys live.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync + std::fmt::Debug {
    /// Reserves `request.key` for this request at `now`, or reports why it is taken. Keys older
    /// than [`RETENTION`] count as never used (and some of them are pruned on the way).
    ///
    /// MUST be atomic: of any number of concurrent reserves of one key, exactly one is
    /// [`KeyState::Reserved`]. A reservation whose lease ([`LEASE`]) ended without an effect may
    /// be taken over.
    async fn reserve(&self, request: &KeyedRequest, now: Timestamp)
        -> Result<KeyState, StoreError>;

    /// Stores the answer of the reserved request; later reserves of the key replay it. Does
    /// nothing when the reservation was taken over.
    async fn complete(
        &self,
        reservation: &Reservation,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError>;

    /// Frees the key of a request that failed without an effect, so that a retry runs. A key
    /// whose effect was recorded is kept (a retry answers from the dispute).
    async fn release(&self, reservation: &Reservation) -> Result<(), StoreError>;
}

/// The use cases of idempotency keys that a driving adapter runs around a keyed request:
/// reserve the key, then keep the answer or free the key. The time comes from the clock, so tests
/// can move a key through its lease and retention.
#[derive(Debug, Clone)]
pub struct IdempotencyService {
    keys: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
}

impl IdempotencyService {
    pub fn new(keys: Arc<dyn IdempotencyStore>, clock: Arc<dyn Clock>) -> Self {
        IdempotencyService { keys, clock }
    }

    /// Reserves `request`'s key now, or says why it is taken.
    pub async fn reserve(&self, request: &KeyedRequest) -> Result<KeyState, ServiceError> {
        Ok(self.keys.reserve(request, self.clock.now()).await?)
    }

    /// Keeps `answer` for replays of the reserved request.
    pub async fn complete(
        &self,
        reservation: &Reservation,
        answer: &StoredAnswer,
    ) -> Result<(), ServiceError> {
        Ok(self.keys.complete(reservation, answer).await?)
    }

    /// Frees the key of a request that failed on our side, so that a retry runs.
    pub async fn release(&self, reservation: &Reservation) -> Result<(), ServiceError> {
        Ok(self.keys.release(reservation).await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn fingerprint(body: &str) -> Fingerprint {
        Fingerprint::of([b"POST".as_slice(), b"/v1/disputes", body.as_bytes()])
    }

    fn stored() -> StoredKey {
        StoredKey {
            fingerprint: fingerprint("{}"),
            created_at: t0(),
            lease_until: t0() + LEASE,
            effect: None,
            subscription: None,
            answer: None,
        }
    }

    #[test]
    fn an_effect_on_a_key_taken_over_is_refused() {
        let request = KeyedRequest {
            tenant: TenantId::new("acme").unwrap(),
            principal: "advertiser:acme-ads".to_owned(),
            key: IdempotencyKey::new("k1").unwrap(),
            fingerprint: fingerprint("{}"),
        };
        let reservation = Reservation::of(&request, "t1".to_owned());
        assert_eq!(reservation.key, request.key);
        assert_eq!(reservation.token, "t1");
        assert!(reservation.effect_recorded(1).is_ok());
        assert!(matches!(
            reservation.effect_recorded(0),
            Err(StoreError::KeyTakenOver)
        ));
    }

    #[test]
    fn keys_are_visible_ascii_of_at_most_255_characters() {
        assert!(IdempotencyKey::new("3f1c-a9_b.Z~!").is_ok());
        assert!(IdempotencyKey::new(&"k".repeat(255)).is_ok());
        for bad in [
            String::new(),
            "k".repeat(256),
            "a b".into(),
            "a\tb".into(),
            "café".into(),
        ] {
            assert!(IdempotencyKey::new(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fingerprints_tell_parts_apart() {
        let a = Fingerprint::of([b"ab".as_slice(), b"c"]);
        let b = Fingerprint::of([b"a".as_slice(), b"bc"]);
        assert_ne!(a, b, "parts are length prefixed");
        assert_eq!(a, Fingerprint::of([b"ab".as_slice(), b"c"]));
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn the_verdict_follows_the_keys_life() {
        let key = stored();
        assert_eq!(
            key.verdict(&fingerprint("{}"), t0()),
            Some(KeyState::InFlight)
        );
        assert_eq!(
            key.verdict(&fingerprint("{\"x\":1}"), t0()),
            Some(KeyState::Mismatch)
        );
        // The lease ended without an effect: the key may be taken over.
        assert_eq!(key.verdict(&fingerprint("{}"), t0() + LEASE), None);

        let effected = StoredKey {
            effect: Some((DisputeId::new(7).unwrap(), Version::FIRST)),
            ..stored()
        };
        assert_eq!(
            effected.verdict(&fingerprint("{}"), t0()),
            Some(KeyState::InFlight)
        );
        assert_eq!(
            effected.verdict(&fingerprint("{}"), t0() + LEASE),
            Some(KeyState::Effected {
                dispute: DisputeId::new(7).unwrap(),
                version: Version::FIRST
            })
        );

        let subscribed = StoredKey {
            subscription: Some(3),
            ..stored()
        };
        assert_eq!(
            subscribed.verdict(&fingerprint("{}"), t0() + LEASE),
            Some(KeyState::Subscribed { webhook: 3 })
        );

        let answer = StoredAnswer::new(b"201\n\n{}".to_vec());
        let answered = StoredKey {
            answer: Some(answer.clone()),
            ..effected
        };
        assert_eq!(
            answered.verdict(&fingerprint("{}"), t0()),
            Some(KeyState::Answered(answer))
        );
        // A day later the key is forgotten, whatever it held.
        assert_eq!(
            answered.verdict(&fingerprint("{\"x\":1}"), t0() + RETENTION),
            None
        );
    }
}
