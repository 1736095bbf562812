use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use disputes_domain::{Actor, ActorId, Agent, Digest, DomainError, Role, TenantId, Timestamp};
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::{Clock, ServiceError, StoreError};

/// An API key as stored: its public id, what it may do, and a SHA-256 of its secret. The secret
/// itself is shown once, when issued, and never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The public half of the credential, used to find the record: 16 hex digits for a bearer
    /// key, `user:<username>` for a username login (the invoice and billing contracts send a
    /// username and a secret, not a key).
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

impl Principal {
    /// The same caller acting under the name `id`, keeping its tenant and role: the delivery
    /// contract lets a request name its actor (the key's developer otherwise), as the vendor
    /// does. Only the name changes; what the role may do does not.
    pub fn acting_as(&self, id: Option<ActorId>) -> Principal {
        match id {
            Some(id) => Principal {
                tenant: self.tenant.clone(),
                actor: Actor::new(id, self.actor.role),
            },
            None => self.clone(),
        }
    }
}

/// Where tenants and API keys live.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CredentialStore: Send + Sync + std::fmt::Debug {
    /// # Errors
    /// MUST return [`StoreError::AlreadyExists`] when the slug is taken.
    async fn create_tenant(&self, tenant: &TenantId, at: Timestamp) -> Result<(), StoreError>;

    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, StoreError>;

    /// Makes `owner` the agent who handles the tenant's disputes, replacing any before.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the tenant does not exist.
    async fn assign_owner(&self, tenant: &TenantId, owner: &Agent) -> Result<(), StoreError>;

    /// The agent who handles the tenant's disputes; `None` when none was assigned or the tenant
    /// does not exist.
    async fn tenant_owner(&self, tenant: &TenantId) -> Result<Option<Agent>, StoreError>;

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
const LOGIN_PREFIX: &str = "user:";

/// A username for a login: 1 to 64 ASCII letters, digits and `.`, `_`, `-`, `@`.
fn valid_username(username: &str) -> bool {
    (1..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

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

    /// Assigns the agent who handles the tenant's disputes (the invoice contract's `owner`).
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when the tenant does not exist.
    pub async fn assign_owner(&self, tenant: &TenantId, owner: &Agent) -> Result<(), ServiceError> {
        Ok(self.store.assign_owner(tenant, owner).await?)
    }

    /// The agent who handles the tenant's disputes, if one was assigned.
    pub async fn owner(&self, tenant: &TenantId) -> Result<Option<Agent>, ServiceError> {
        Ok(self.store.tenant_owner(tenant).await?)
    }

    /// Issues a key `dk_<key id>_<secret>` for a role in a tenant, acting as `actor` (by default
    /// `key-<key id>`). Only the SHA-256 of the 256-bit secret is stored.
    pub async fn issue_key(
        &self,
        tenant: &TenantId,
        role: Role,
        actor: Option<ActorId>,
    ) -> Result<IssuedKey, ServiceError> {
        let mut id_bytes = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut id_bytes);
        let key_id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let actor = match actor {
            Some(actor) => actor,
            None => ActorId::new(format!("key-{key_id}"))?,
        };
        let (secret, record) = self.issue(tenant, role, actor, key_id.clone()).await?;
        Ok(IssuedKey {
            plaintext: format!("{KEY_PREFIX}{key_id}_{secret}"),
            record,
        })
    }

    /// Issues a login: a `username`, unique across tenants, and a secret that is returned as the
    /// plaintext (the invoice contract's `billinkId`, the billing contract's Basic password).
    ///
    /// # Errors
    /// [`ServiceError::AlreadyExists`] when the username is taken.
    pub async fn issue_login(
        &self,
        tenant: &TenantId,
        role: Role,
        username: &str,
    ) -> Result<IssuedKey, ServiceError> {
        if !valid_username(username) {
            return Err(DomainError::Invalid {
                field: "username",
                reason: "must be 1-64 ASCII letters, digits or . _ - @".to_owned(),
            }
            .into());
        }
        let actor = ActorId::new(username)?;
        let key_id = format!("{LOGIN_PREFIX}{username}");
        let (secret, record) = self.issue(tenant, role, actor, key_id).await?;
        Ok(IssuedKey {
            plaintext: secret,
            record,
        })
    }

    /// Stores a new credential under `key_id` and returns its freshly drawn secret.
    async fn issue(
        &self,
        tenant: &TenantId,
        role: Role,
        actor: ActorId,
        key_id: String,
    ) -> Result<(String, ApiKeyRecord), ServiceError> {
        if !self.store.tenant_exists(tenant).await? {
            return Err(ServiceError::NotFound);
        }
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let secret = URL_SAFE_NO_PAD.encode(secret);
        let record = ApiKeyRecord {
            key_id,
            tenant: tenant.clone(),
            role,
            actor,
            secret_hash: Digest::of(secret.as_bytes()),
            created_at: self.clock.now(),
        };
        self.store.add_key(&record).await?;
        Ok((secret, record))
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
        self.verify(key_id, secret).await
    }

    /// Resolves a username and its secret to the principal, like
    /// [`authenticate`](Self::authenticate) does a key.
    pub async fn authenticate_login(
        &self,
        username: &str,
        secret: &str,
    ) -> Result<Principal, ServiceError> {
        if !valid_username(username) {
            return Err(ServiceError::Unauthenticated);
        }
        self.verify(&format!("{LOGIN_PREFIX}{username}"), secret)
            .await
    }

    async fn verify(&self, key_id: &str, secret: &str) -> Result<Principal, ServiceError> {
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
    struct MemoryStore(Mutex<Vec<ApiKeyRecord>>, Mutex<Option<Agent>>);

    #[async_trait]
    impl CredentialStore for MemoryStore {
        async fn create_tenant(&self, _: &TenantId, _: Timestamp) -> Result<(), StoreError> {
            Ok(())
        }
        async fn tenant_exists(&self, t: &TenantId) -> Result<bool, StoreError> {
            Ok(t.as_str() == "acme")
        }
        async fn assign_owner(&self, t: &TenantId, owner: &Agent) -> Result<(), StoreError> {
            if t.as_str() != "acme" {
                return Err(StoreError::NotFound);
            }
            *self.1.lock().unwrap() = Some(owner.clone());
            Ok(())
        }
        async fn tenant_owner(&self, t: &TenantId) -> Result<Option<Agent>, StoreError> {
            Ok(self
                .1
                .lock()
                .unwrap()
                .clone()
                .filter(|_| t.as_str() == "acme"))
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
        // `dk_<key id>_<secret>`: the secret is all after the second `_` (it may hold `_` itself,
        // being base64url, so splitting at the last one could leave a short tail that the stored
        // record contains by chance).
        let secret = issued.plaintext.splitn(3, '_').nth(2).unwrap();
        assert_eq!(secret.len(), 43);
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
    async fn a_login_authenticates_by_username_and_secret() {
        let (svc, _) = service();
        let acme = TenantId::new("acme").unwrap();
        let issued = svc
            .issue_login(&acme, Role::Client, "shop-1")
            .await
            .unwrap();
        let principal = svc
            .authenticate_login("shop-1", &issued.plaintext)
            .await
            .unwrap();
        assert_eq!(principal.actor.id.as_str(), "shop-1");
        assert_eq!(principal.actor.role, Role::Client);
        for (user, secret) in [
            ("shop-1", "wrong"),
            ("shop-2", issued.plaintext.as_str()),
            ("", ""),
        ] {
            assert!(matches!(
                svc.authenticate_login(user, secret).await,
                Err(ServiceError::Unauthenticated)
            ));
        }
        // A login is not a bearer key, nor the reverse.
        assert!(svc.authenticate(&issued.plaintext).await.is_err());
        assert!(svc
            .issue_login(&acme, Role::Client, "no spaces")
            .await
            .is_err());
    }

    #[tokio::test]
    async fn an_owner_is_assigned_to_an_existing_tenant() {
        let (svc, _) = service();
        let acme = TenantId::new("acme").unwrap();
        assert_eq!(svc.owner(&acme).await.unwrap(), None);
        let agent = Agent::new("Sanne Bakker", "sanne@billink.example").unwrap();
        svc.assign_owner(&acme, &agent).await.unwrap();
        assert_eq!(svc.owner(&acme).await.unwrap(), Some(agent.clone()));
        let other = TenantId::new("other").unwrap();
        assert!(matches!(
            svc.assign_owner(&other, &agent).await,
            Err(ServiceError::NotFound)
        ));
    }

    #[tokio::test]
    async fn keys_need_an_existing_tenant() {
        let (svc, _) = service();
        let other = TenantId::new("other").unwrap();
        let result = svc.issue_key(&other, Role::Advertiser, None).await;
        assert!(matches!(result, Err(ServiceError::NotFound)));
    }
}
