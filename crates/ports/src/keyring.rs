//! The engine's signing keys: the driven port that seals what the engine writes and checks
//! what it reads, with private keys the store never holds (an adapter keeps them in a file of
//! their own). The domain says what is signed ([`TimelineEntry::seal_statement`]); this port
//! makes and checks the signatures.
//!
//! [`TimelineEntry::seal_statement`]: disputes_domain::TimelineEntry::seal_statement

use disputes_domain::{Seal, Timestamp};

/// The signing keys. Several instances share one keyring (the same file), so that each checks
/// what the others signed.
pub trait Keyring: Send + Sync + std::fmt::Debug {
    /// Signs `statement` with the key that signs now.
    fn seal(&self, statement: &str) -> Seal;

    /// Signs `statement(key_id)` with the key that signs now, `key_id` being its id: for
    /// formats whose signed bytes name the key (the delivery vendor's `export.v1`).
    fn seal_naming_key(&self, statement: &dyn Fn(&str) -> String) -> Seal;

    /// Proves `seal` is a signature of `statement` by a known key that could sign at `at`: at
    /// or after its start, before its end, and before it was revoked.
    ///
    /// # Errors
    /// A [`SealError`] saying which of those fails.
    fn check(&self, seal: &Seal, statement: &str, at: Timestamp) -> Result<(), SealError>;

    /// Every key, the retired and revoked ones too, without their private parts: what is
    /// published for anyone to check signatures with.
    fn public_keys(&self) -> Vec<PublicKey>;
}

/// What the engine publishes and signs besides its timeline entries: its public keys, and
/// signed exports. The contracts' handlers reach the keyring through it only.
#[derive(Debug, Clone)]
pub struct SigningService {
    keyring: std::sync::Arc<dyn Keyring>,
}

impl SigningService {
    pub fn new(keyring: std::sync::Arc<dyn Keyring>) -> Self {
        SigningService { keyring }
    }

    /// Every key, retired and revoked ones too, for anyone to check signatures with.
    pub fn published_keys(&self) -> Vec<PublicKey> {
        self.keyring.public_keys()
    }

    /// Signs `statement(key_id)` with the key that signs now (see
    /// [`Keyring::seal_naming_key`]).
    pub fn sign(&self, statement: &dyn Fn(&str) -> String) -> Seal {
        self.keyring.seal_naming_key(statement)
    }
}

/// A signing key as it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_id: String,
    /// The 32 raw bytes of the Ed25519 public key.
    pub public_key: Vec<u8>,
    /// From when it signs.
    pub not_before: Timestamp,
    /// Until when it signed, once a newer key took over.
    pub not_after: Option<Timestamp>,
    /// When it was revoked: nothing it signed from then on is valid.
    pub revoked_at: Option<Timestamp>,
}

impl PublicKey {
    /// Whether a signature by this key made at `at` is within its validity.
    pub fn signs_at(&self, at: Timestamp) -> bool {
        at >= self.not_before
            && self.not_after.is_none_or(|end| at < end)
            && self.revoked_at.is_none_or(|revoked| at < revoked)
    }
}

/// Why a seal does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("it names key {0}, which the keyring does not hold")]
    UnknownKey(String),
    #[error("key {key_id} could not sign at {at}: outside its validity or revoked")]
    NotValidThen { key_id: String, at: Timestamp },
    #[error("it is not a valid signature of the entry by key {0}")]
    BadSignature(String),
}

/// A keyring for tests that never seal nor check anything: any call panics, which says so.
#[cfg(any(test, feature = "mocks"))]
#[derive(Debug, Default)]
pub struct UnusedKeyring;

#[cfg(any(test, feature = "mocks"))]
impl Keyring for UnusedKeyring {
    fn seal(&self, _: &str) -> Seal {
        panic!("this test does not expect a seal")
    }

    fn seal_naming_key(&self, _: &dyn Fn(&str) -> String) -> Seal {
        panic!("this test does not expect a signature")
    }

    fn check(&self, _: &Seal, _: &str, _: Timestamp) -> Result<(), SealError> {
        panic!("this test does not expect a seal to be checked")
    }

    fn public_keys(&self) -> Vec<PublicKey> {
        panic!("this test does not expect the keys to be listed")
    }
}
