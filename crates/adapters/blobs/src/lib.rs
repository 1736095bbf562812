//! The blob store of attachments: [`LocalBlobStore`] implements the
//! [`BlobStore`](disputes_ports::BlobStore) port with `object_store` on a local directory.
//!
//! A blob lives at `<tenant>/<sha256 hex>` under the directory: content-addressed, so storing the
//! same bytes twice writes nothing new, and scoped by tenant, so one tenant's digest never
//! reaches another tenant's file. Writes are atomic (a staged file published by hard link, which
//! also never replaces an existing blob) and synced to disk before they return, because sealed
//! evidence refers to them. The directory is served by nothing: files leave it only through the
//! engine, to the tenant that stored them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use disputes_domain::{Digest, TenantId};
use disputes_ports::{BlobStore, StoreError};
use object_store::local::LocalFileSystem;
use object_store::path::Path as BlobPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload};

/// Why [`LocalBlobStore::open`] failed. These reach an operator at startup, never a client.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The directory cannot be created.
    #[error("cannot create the blob directory {}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The directory exists but cannot serve as a store.
    #[error("cannot use {} as the blob directory", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: object_store::Error,
    },
}

/// Attachments in a local directory. Cloning is cheap and shares the store.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    store: Arc<dyn ObjectStore>,
    dir: PathBuf,
}

impl LocalBlobStore {
    /// Opens the store in `dir`, creating the directory (and its parents) if missing.
    ///
    /// # Errors
    /// When the directory cannot be created or used.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, BlobError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|source| BlobError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let store = LocalFileSystem::new_with_prefix(&dir)
            .map_err(|source| BlobError::Open {
                path: dir.clone(),
                source,
            })?
            .with_fsync(true);
        Ok(LocalBlobStore {
            store: Arc::new(store),
            dir,
        })
    }

    /// The directory the blobs live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Where a tenant's blob lives. Slugs and hex digits need no escaping.
fn location(tenant: &TenantId, sha256: Digest) -> BlobPath {
    BlobPath::from_iter([tenant.as_str(), sha256.to_hex().as_str()])
}

/// The one place where object_store's errors become the port's. The detail goes to the log: it
/// names paths on this machine.
fn store_error(action: &str, e: object_store::Error) -> StoreError {
    tracing::error!(error = %e, "blob store cannot {action}");
    StoreError::Other(format!("the blob store cannot {action}"))
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, tenant: &TenantId, bytes: Vec<u8>) -> Result<Digest, StoreError> {
        let sha256 = Digest::of(&bytes);
        let at = location(tenant, sha256);
        // Create, never overwrite: a blob that exists holds these very bytes already.
        match self
            .store
            .put_opts(&at, PutPayload::from(bytes), PutMode::Create.into())
            .await
        {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(sha256),
            Err(e) => Err(store_error("store a file", e)),
        }
    }

    async fn get(&self, tenant: &TenantId, sha256: Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let read = match self.store.get(&location(tenant, sha256)).await {
            Ok(read) => read,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(store_error("read a file", e)),
        };
        let bytes = read
            .bytes()
            .await
            .map_err(|e| store_error("read a file", e))?;
        if Digest::of(&bytes) != sha256 {
            tracing::error!(tenant = %tenant, blob = %sha256, "a stored file no longer matches its digest");
            return Err(StoreError::Corrupt(format!(
                "blob {sha256} of {tenant} no longer matches its digest"
            )));
        }
        Ok(Some(bytes.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(slug: &str) -> TenantId {
        TenantId::new(slug).unwrap()
    }

    #[tokio::test]
    async fn a_blob_reads_back_by_its_digest_and_only_for_its_tenant() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path().join("nested").join("blobs")).unwrap();
        let bytes = b"%PDF-1.7 the invoice".to_vec();
        let sha256 = store.put(&tenant("acme"), bytes.clone()).await.unwrap();
        assert_eq!(sha256, Digest::of(&bytes));
        assert_eq!(
            store.get(&tenant("acme"), sha256).await.unwrap(),
            Some(bytes.clone())
        );
        assert_eq!(store.get(&tenant("globex"), sha256).await.unwrap(), None);
        assert_eq!(
            store
                .get(&tenant("acme"), Digest::of(b"other"))
                .await
                .unwrap(),
            None
        );
        // Content-addressed under the tenant: <dir>/<tenant>/<hex>.
        let file = store.dir().join("acme").join(sha256.to_hex());
        assert_eq!(std::fs::read(file).unwrap(), bytes);
    }

    #[tokio::test]
    async fn storing_the_same_bytes_again_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let first = store.put(&tenant("acme"), b"same".to_vec()).await.unwrap();
        let second = store.put(&tenant("acme"), b"same".to_vec()).await.unwrap();
        assert_eq!(first, second);
        let files = std::fs::read_dir(dir.path().join("acme")).unwrap().count();
        assert_eq!(files, 1);
        // Another tenant's copy is a blob of its own.
        store
            .put(&tenant("globex"), b"same".to_vec())
            .await
            .unwrap();
        assert!(store.get(&tenant("globex"), first).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_blob_edited_on_disk_is_reported_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let sha256 = store
            .put(&tenant("acme"), b"original".to_vec())
            .await
            .unwrap();
        std::fs::write(dir.path().join("acme").join(sha256.to_hex()), b"edited").unwrap();
        assert!(matches!(
            store.get(&tenant("acme"), sha256).await,
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn an_unusable_directory_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(
            LocalBlobStore::open(file.join("blobs")),
            Err(BlobError::CreateDir { .. })
        ));
    }
}
