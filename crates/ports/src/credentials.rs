use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use disputes_domain::{Actor, ActorId, Digest, Role, TenantId, Timestamp};
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::{Clock, ServiceError, StoreError};

/// An API key as stored: its public id, what it may do, and a SHA-256 of its secret. The secret
/// itself is shown once, when issued, and never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The public half of the key, used to find the record; 16 hex digits.
    pub key_id: String,
    pub tenant: TenantId,
    pub role: Role,
    /// Who acts with this key (the delivery contract's developerId).
    pub actor: ActorId,
    pub secret_hash: Digest,
    pub created_at: Timestamp,
}

/// Who is calling: a tenant and an actor with a role in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: TenantId,
    pub actor: Actor,
}

/// Where tenants and API keys live.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CredentialStore: Send + Sync + std::fmt::Debug {
    /// # Errors
    /// MUST return [`StoreError::AlreadyExists`] when the slug is taken.
    async fn create_tenant(&self, tenant: &TenantId, at: Timestamp) -> Result<(), StoreError>;

    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, StoreError>;

    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the tenant does not exist and
    /// [`StoreError::AlreadyExists`] when the key id is taken.
    async fn add_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;

    async fn find_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
}

/// A freshly issued key: the only moment its plaintext exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedKey {
    pub plaintext: String,
    pub record: ApiKeyRecord,
}

const KEY_PREFIX: &str = "dk_";

/// Tenants, key issuing and authentication.
#[derive(Debug, Clone)]
pub struct CredentialService {
    store: Arc<dyn CredentialStore>,
    clock: Arc<dyn Clock>,
}

impl CredentialService {
    pub fn new(store: Arc<dyn CredentialStore>, clock: Arc<dyn Clock>) -> Self {
        CredentialService { store, clock }
    }

    pub async fn create_tenant(&self, tenant: &TenantId) -> Result<(), ServiceError> {
        Ok(self.store.create_tenant(tenant, self.clock.now()).await?)
    }

    /// Issues a key `dk_<key id>_<secret>` for a role in a tenant, acting as `actor` (by default
    /// `key-<key id>`). Only the SHA-256 of the 256-bit secret is stored.
    pub async fn issue_key(
        &self,
        tenant: &TenantId,
        role: Role,
        actor: Option<ActorId>,
    ) -> Result<IssuedKey, ServiceError> {
        if !self.store.tenant_exists(tenant).await? {
            return Err(ServiceError::NotFound);
        }
        let mut rng = rand::thread_rng();
        let mut id_bytes = [0u8; 8];
        rng.fill_bytes(&mut id_bytes);
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let key_id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let secret = URL_SAFE_NO_PAD.encode(secret);
        let actor = match actor {
            Some(actor) => actor,
            None => ActorId::new(format!("key-{key_id}"))?,
        };
        let record = ApiKeyRecord {
            key_id: key_id.clone(),
            tenant: tenant.clone(),
            role,
            actor,
            secret_hash: Digest::of(secret.as_bytes()),
            created_at: self.clock.now(),
        };
        self.store.add_key(&record).await?;
        Ok(IssuedKey {
            plaintext: format!("{KEY_PREFIX}{key_id}_{secret}"),
            record,
        })
    }

    /// Resolves a presented key to its principal. The secret is compared in constant time, and
    /// every failure looks the same to the caller.
    pub async fn authenticate(&self, presented: &str) -> Result<Principal, ServiceError> {
        let (key_id, secret) = presented
            .strip_prefix(KEY_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .ok_or(ServiceError::Unauthenticated)?;
        if key_id.len() != 16 || !key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::Unauthenticated);
        }
        let record = self
            .store
            .find_key(key_id)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let presented_hash = Digest::of(secret.as_bytes());
        if !bool::from(
            presented_hash
                .as_bytes()
                .ct_eq(record.secret_hash.as_bytes()),
        ) {
            return Err(ServiceError::Unauthenticated);
        }
        Ok(Principal {
            tenant: record.tenant,
            actor: Actor::new(record.actor, record.role),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemClock;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct MemoryStore(Mutex<Vec<ApiKeyRecord>>);

    #[async_trait]
    impl CredentialStore for MemoryStore {
        async fn create_tenant(&self, _: &TenantId, _: Timestamp) -> Result<(), StoreError> {
            Ok(())
        }
        async fn tenant_exists(&self, t: &TenantId) -> Result<bool, StoreError> {
            Ok(t.as_str() == "acme")
        }
        async fn add_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
            self.0.lock().unwrap().push(key.clone());
            Ok(())
        }
        async fn find_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|k| k.key_id == key_id)
                .cloned())
        }
    }

    fn service() -> (CredentialService, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::default());
        (
            CredentialService::new(store.clone(), Arc::new(SystemClock)),
            store,
        )
    }

    #[tokio::test]
    async fn an_issued_key_authenticates_and_only_its_hash_is_stored() {
        let (svc, store) = service();
        let acme = TenantId::new("acme").unwrap();
        let issued = svc
            .issue_key(&acme, Role::Operator, Some(ActorId::new("dev-1").unwrap()))
            .await
            .unwrap();
        let principal = svc.authenticate(&issued.plaintext).await.unwrap();
        assert_eq!(principal.tenant, acme);
        assert_eq!(principal.actor.role, Role::Operator);
        let stored = &store.0.lock().unwrap()[0];
        let secret = issued.plaintext.rsplit_once('_').unwrap().1;
        assert!(!format!("{stored:?}").contains(secret));
    }

    #[tokio::test]
    async fn wrong_or_malformed_keys_are_refused() {
        let (svc, _) = service();
        let acme = TenantId::new("acme").unwrap();
        let issued = svc.issue_key(&acme, Role::Advertiser, None).await.unwrap();
        let mut tampered = issued.plaintext.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        for bad in [
            tampered.as_str(),
            "",
            "dk_",
            "dk_zz_secret",
            "Bearer x",
            "dk_0123456789abcdef_x",
        ] {
            assert!(
                matches!(
                    svc.authenticate(bad).await,
                    Err(ServiceError::Unauthenticated)
                ),
                "{bad:?} accepted"
            );
        }
    }

    #[tokio::test]
    async fn keys_need_an_existing_tenant() {
        let (svc, _) = service();
        let other = TenantId::new("other").unwrap();
        let result = svc.issue_key(&other, Role::Advertiser, None).await;
        assert!(matches!(result, Err(ServiceError::NotFound)));
    }
}
