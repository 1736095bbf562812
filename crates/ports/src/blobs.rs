use async_trait::async_trait;
use disputes_domain::{Digest, TenantId};

use crate::StoreError;

/// Where the bytes of attachments live, addressed by their SHA-256 within a tenant. A dispute
/// keeps only the [`Attachment`](disputes_domain::Attachment) that describes a file; this store
/// keeps the file.
///
/// Content addressing makes storing idempotent and deduplicating: the same bytes stored twice by
/// one tenant are one blob. Blobs are never overwritten with other bytes and never deleted by
/// the engine, because sealed evidence may refer to them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Keeps `bytes` for `tenant` and returns their SHA-256, the address to read them back by.
    ///
    /// # Errors
    /// MUST succeed, storing nothing new, when the tenant already has these bytes. MUST leave no
    /// partial blob behind on failure: a blob is readable in full or not at all.
    /// [`StoreError::Unavailable`] when the store cannot be reached.
    async fn put(&self, tenant: &TenantId, bytes: Vec<u8>) -> Result<Digest, StoreError>;

    /// The bytes `tenant` stored under `sha256`, or `None` when it stored none. MUST return `None`
    /// for a blob that only another tenant stored.
    ///
    /// # Errors
    /// MUST return [`StoreError::Corrupt`] when the stored bytes no longer hash to `sha256`.
    async fn get(&self, tenant: &TenantId, sha256: Digest) -> Result<Option<Vec<u8>>, StoreError>;
}
