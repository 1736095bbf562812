//! The engine's signing keys in a file of their own: the [`Keyring`] port with Ed25519
//! (ed25519-dalek). The file is kept apart from the database, so that someone who can only
//! write to the store cannot make a seal: production keeps it on another volume, or hands it
//! in from a secret store (`--signing-key-file`, `DISPUTES_SIGNING_KEY_FILE`).
//!
//! The file is JSON, mode 0600, written whole and renamed into place:
//!
//! ```json
//! {"format": "disputes-signing-keys/v1", "keys": [{"keyId": "sig_…", "algorithm": "ed25519",
//!   "privateKey": "<base64url, the 32-byte seed>", "publicKey": "<base64url, 32 bytes>",
//!   "notBefore": "…Z", "notAfter": null, "revokedAt": null}]}
//! ```
//!
//! Rotating adds a key that signs from now on and ends the old one's window after an overlap,
//! in which instances that still run with the old key keep making valid seals until they are
//! restarted. Revoking marks a key: nothing it signed from then on is valid. Old keys stay in
//! the file (they keep verifying what they signed in their window) and are published with
//! `/v1/runtime-keys`.

use std::collections::HashSet;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use disputes_domain::{Seal, Timestamp};
use disputes_ports::{Keyring, PublicKey, SealError};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The file's format name, its first field.
const FORMAT: &str = "disputes-signing-keys/v1";

/// How long a rotated key keeps signing validly by default: time to restart every instance.
pub const DEFAULT_OVERLAP: Duration = Duration::hours(24);

/// Why the keyring file cannot be used or changed. These reach an operator, never a client.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("cannot read the signing key file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the signing key file {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the signing key file {} is not a keyring: {why}", path.display())]
    Malformed { path: PathBuf, why: String },
    #[error("the signing key file {} holds no key that signs now; rotate to start one", path.display())]
    NoSigningKey { path: PathBuf },
    #[error("no key {0} in the keyring")]
    UnknownKey(String),
    #[error("key {0} is the one that signs now: rotate first, then revoke it")]
    RevokingTheSigningKey(String),
}

/// One key as the file keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredKey {
    key_id: String,
    algorithm: String,
    private_key: String,
    public_key: String,
    not_before: DateTime<Utc>,
    not_after: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    format: String,
    keys: Vec<StoredKey>,
}

/// A key read from the file.
#[derive(Debug, Clone)]
struct Key {
    published: PublicKey,
    signing: SigningKey,
}

impl Key {
    fn generate(now: Timestamp) -> Key {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        let public = signing.verifying_key().to_bytes().to_vec();
        Key {
            published: PublicKey {
                key_id: key_id_of(&public),
                public_key: public,
                not_before: now,
                not_after: None,
                revoked_at: None,
            },
            signing,
        }
    }

    fn read(path: &Path, stored: &StoredKey) -> Result<Key, KeyringError> {
        let malformed = |why: String| KeyringError::Malformed {
            path: path.to_owned(),
            why: format!("key {}: {why}", stored.key_id),
        };
        if stored.algorithm != "ed25519" {
            return Err(malformed(format!("algorithm {}", stored.algorithm)));
        }
        let seed: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&stored.private_key)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| malformed("privateKey is not 32 bytes of base64url".into()))?;
        let signing = SigningKey::from_bytes(&seed);
        let public = signing.verifying_key().to_bytes().to_vec();
        if URL_SAFE_NO_PAD.encode(&public) != stored.public_key {
            return Err(malformed("publicKey is not the private key's".into()));
        }
        Ok(Key {
            published: PublicKey {
                key_id: stored.key_id.clone(),
                public_key: public,
                not_before: stored.not_before,
                not_after: stored.not_after,
                revoked_at: stored.revoked_at,
            },
            signing,
        })
    }

    fn stored(&self) -> StoredKey {
        let p = &self.published;
        StoredKey {
            key_id: p.key_id.clone(),
            algorithm: "ed25519".into(),
            private_key: URL_SAFE_NO_PAD.encode(self.signing.to_bytes()),
            public_key: URL_SAFE_NO_PAD.encode(&p.public_key),
            not_before: p.not_before,
            not_after: p.not_after,
            revoked_at: p.revoked_at,
        }
    }
}

/// What [`FileKeyring::verified`] remembers of a seal that verified: the SHA-256 of its key,
/// the statement and the signature, each length-prefixed.
fn verified_digest(seal: &Seal, statement: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in [
        seal.key_id.as_bytes(),
        statement.as_bytes(),
        seal.signature.as_slice(),
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// A key's id: `sig_` and the first 16 hex digits of its public key's SHA-256, so that the same
/// key has the same id wherever it is published.
fn key_id_of(public: &[u8]) -> String {
    let digest = Sha256::digest(public);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sig_{hex}")
}

/// The keys of a file, in the order they were made.
#[derive(Debug, Clone)]
struct Keys(Vec<Key>);

impl Keys {
    fn load(path: &Path) -> Result<Keys, KeyringError> {
        let text = fs::read_to_string(path).map_err(|source| KeyringError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file: KeyFile = serde_json::from_str(&text).map_err(|e| KeyringError::Malformed {
            path: path.to_owned(),
            why: e.to_string(),
        })?;
        if file.format != FORMAT {
            return Err(KeyringError::Malformed {
                path: path.to_owned(),
                why: format!("format {}, not {FORMAT}", file.format),
            });
        }
        if let Ok(meta) = fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the signing key file is readable by others than its owner; chmod 600 it");
            }
        }
        file.keys
            .iter()
            .map(|stored| Key::read(path, stored))
            .collect::<Result<_, _>>()
            .map(Keys)
    }

    /// Writes the keys to a new file beside `path`, mode 0600, and renames it into place: a
    /// reader never sees half a keyring.
    fn save(&self, path: &Path) -> Result<(), KeyringError> {
        let failed = |source| KeyringError::Write {
            path: path.to_owned(),
            source,
        };
        let file = KeyFile {
            format: FORMAT.into(),
            keys: self.0.iter().map(Key::stored).collect(),
        };
        let text = serde_json::to_string_pretty(&file).expect("a keyring serialises");
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(failed)?;
        }
        let partial = path.with_extension("partial");
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)
            .map_err(failed)?;
        out.write_all(text.as_bytes()).map_err(failed)?;
        out.sync_all().map_err(failed)?;
        fs::set_permissions(&partial, fs::Permissions::from_mode(0o600)).map_err(failed)?;
        fs::rename(&partial, path).map_err(failed)
    }

    /// The key that signs at `now`: the newest one whose window holds `now`.
    fn signing_at(&self, now: Timestamp) -> Option<&Key> {
        self.0
            .iter()
            .filter(|key| key.published.signs_at(now))
            .max_by_key(|key| key.published.not_before)
    }

    fn find(&self, key_id: &str) -> Option<&Key> {
        self.0.iter().find(|key| key.published.key_id == key_id)
    }
}

/// The keyring of one file. What it holds is read at start and again when a seal names a key
/// it does not know or its signing key's window has ended (another instance's operator ran
/// `signing-key rotate`), so instances sharing the file follow its rotations.
#[derive(Debug)]
pub struct FileKeyring {
    path: PathBuf,
    keys: RwLock<Keys>,
    /// Seals whose signature verified, by the digest of key, statement and signature: every
    /// read checks its dispute's head seal, and a signature that verified once verifies again,
    /// so only its key's window is checked anew. Only what verified is kept: no one can make an
    /// entry of this set without the key.
    verified: Mutex<HashSet<[u8; 32]>>,
}

/// How many verified seals are remembered before the set starts over: about 3 MB.
const VERIFIED_CAPACITY: usize = 65_536;

impl FileKeyring {
    /// The keyring in `path`, which must exist and hold a key that signs now.
    ///
    /// # Errors
    /// The file is missing, unreadable or malformed, or no key signs now.
    pub fn open(path: &Path) -> Result<FileKeyring, KeyringError> {
        let keys = Keys::load(path)?;
        if keys.signing_at(Utc::now()).is_none() {
            return Err(KeyringError::NoSigningKey {
                path: path.to_owned(),
            });
        }
        Ok(FileKeyring {
            path: path.to_owned(),
            keys: RwLock::new(keys),
            verified: Mutex::new(HashSet::new()),
        })
    }

    /// The keyring in `path`, created with one new key when the file does not exist; whether
    /// it was created comes back too, for the caller to say so.
    ///
    /// # Errors
    /// As [`open`](Self::open), or the new file cannot be written.
    pub fn open_or_create(path: &Path) -> Result<(FileKeyring, bool), KeyringError> {
        if path.exists() {
            return Ok((FileKeyring::open(path)?, false));
        }
        Keys(vec![Key::generate(Utc::now())]).save(path)?;
        Ok((FileKeyring::open(path)?, true))
    }

    /// Starts a new key in `path` that signs from `now`; the key that signed until now keeps
    /// signing validly for `overlap` (the instances still running with it), then its window
    /// ends. Answers the new key.
    ///
    /// # Errors
    /// The file cannot be read or written.
    pub fn rotate(
        path: &Path,
        now: Timestamp,
        overlap: Duration,
    ) -> Result<PublicKey, KeyringError> {
        let mut keys = Keys::load(path)?;
        let end = now + overlap;
        for key in &mut keys.0 {
            if key.published.not_after.is_none_or(|after| after > end) {
                key.published.not_after = Some(end);
            }
        }
        let new = Key::generate(now);
        let published = new.published.clone();
        keys.0.push(new);
        keys.save(path)?;
        Ok(published)
    }

    /// Marks `key_id` in `path` revoked at `now`: what it signed before stays valid, nothing
    /// it signed from then on is. The key that signs now cannot be revoked before a rotation
    /// has started its successor.
    ///
    /// # Errors
    /// No such key, it is the signing key, or the file cannot be read or written.
    pub fn revoke(path: &Path, key_id: &str, now: Timestamp) -> Result<PublicKey, KeyringError> {
        let mut keys = Keys::load(path)?;
        if keys
            .signing_at(now)
            .is_some_and(|key| key.published.key_id == key_id)
        {
            return Err(KeyringError::RevokingTheSigningKey(key_id.to_owned()));
        }
        let key = keys
            .0
            .iter_mut()
            .find(|key| key.published.key_id == key_id)
            .ok_or_else(|| KeyringError::UnknownKey(key_id.to_owned()))?;
        key.published.revoked_at.get_or_insert(now);
        let published = key.published.clone();
        keys.save(path)?;
        Ok(published)
    }

    /// Every key of `path`, without private parts.
    ///
    /// # Errors
    /// The file cannot be read.
    pub fn list(path: &Path) -> Result<Vec<PublicKey>, KeyringError> {
        Ok(Keys::load(path)?
            .0
            .into_iter()
            .map(|key| key.published)
            .collect())
    }

    /// Reads the file again; on failure keeps what it had, and says so.
    fn reload(&self) {
        match Keys::load(&self.path) {
            Ok(keys) => *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys,
            Err(e) => {
                tracing::error!(error = %e, "cannot reload the signing keys; keeping the ones read before")
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        self.keys.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl Keyring for FileKeyring {
    fn seal(&self, statement: &str) -> Seal {
        self.seal_naming_key(&|_| statement.to_owned())
    }

    fn seal_naming_key(&self, statement: &dyn Fn(&str) -> String) -> Seal {
        let now = Utc::now();
        if self.read().signing_at(now).is_none() {
            self.reload();
        }
        let keys = self.read();
        // `open` proved a key signs; one whose window ended since signs on (its seals will not
        // verify) rather than refuse the write, and says loudly that a rotation is due.
        let key = keys.signing_at(now).unwrap_or_else(|| {
            tracing::error!("no signing key's window holds now: run `disputes signing-key rotate`");
            keys.0.last().expect("a keyring holds a key")
        });
        let key_id = key.published.key_id.clone();
        let signature = key.signing.sign(statement(&key_id).as_bytes());
        Seal {
            key_id,
            signature: signature.to_bytes().to_vec(),
        }
    }

    fn check(&self, seal: &Seal, statement: &str, at: Timestamp) -> Result<(), SealError> {
        if self.read().find(&seal.key_id).is_none() {
            self.reload();
        }
        let keys = self.read();
        let key = keys
            .find(&seal.key_id)
            .ok_or_else(|| SealError::UnknownKey(seal.key_id.clone()))?;
        if !key.published.signs_at(at) {
            return Err(SealError::NotValidThen {
                key_id: seal.key_id.clone(),
                at,
            });
        }
        let remembered = verified_digest(seal, statement);
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.contains(&remembered) {
            return Ok(());
        }
        drop(verified);
        let bad = || SealError::BadSignature(seal.key_id.clone());
        let signature = Signature::from_slice(&seal.signature).map_err(|_| bad())?;
        let verifying: VerifyingKey = key.signing.verifying_key();
        verifying
            .verify_strict(statement.as_bytes(), &signature)
            .map_err(|_| bad())?;
        verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= VERIFIED_CAPACITY {
            verified.clear();
        }
        verified.insert(remembered);
        Ok(())
    }

    fn public_keys(&self) -> Vec<PublicKey> {
        self.read()
            .0
            .iter()
            .map(|key| key.published.clone())
            .collect()
    }
}

/// Whether `signature` is a valid Ed25519 signature (strict) of `message` by the 32-byte
/// `public_key`: for checking what was signed elsewhere, such as a saved export.
pub fn signature_holds(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(public) = <[u8; 32]>::try_from(public_key) else {
        return false;
    };
    let (Ok(key), Ok(signature)) = (
        VerifyingKey::from_bytes(&public),
        Signature::from_slice(signature),
    ) else {
        return false;
    };
    key.verify_strict(message, &signature).is_ok()
}

#[cfg(test)]
mod tests;
