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
    /// What a Bearer key may do. Logins have none: their contracts know no scopes.
    pub scopes: Vec<Scope>,
}

/// What a Bearer key may do, in the delivery vendor's scope names: its reads need `audit:read`,
/// its writes `settlement:write`, and `*` is every scope. The vendor's other scopes
/// (`settlement:read`, `challenges:write`) are kept for its clients' keys but open nothing here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    AuditRead,
    SettlementRead,
    SettlementWrite,
    ChallengesWrite,
    All,
}

impl Scope {
    /// Every scope, in declaration order.
    pub const ALL: &'static [Scope] = &[
        Scope::AuditRead,
        Scope::SettlementRead,
        Scope::SettlementWrite,
        Scope::ChallengesWrite,
        Scope::All,
    ];

    /// What a key gets when its issuer names none, and what keys issued before scopes existed
    /// have: reading and changing disputes.
    pub const DEFAULT: &'static [Scope] = &[Scope::AuditRead, Scope::SettlementWrite];

    /// The vendor's name; stored too, so never rename one, only add.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AuditRead => "audit:read",
            Scope::SettlementRead => "settlement:read",
            Scope::SettlementWrite => "settlement:write",
            Scope::ChallengesWrite => "challenges:write",
            Scope::All => "*",
        }
    }

    /// Whether a key with `granted` may do what `self` allows.
    pub fn granted_by(self, granted: &[Scope]) -> bool {
        granted.contains(&Scope::All) || granted.contains(&self)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .iter()
            .copied()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("{s:?} is not a scope ({})", names.join(", "))
            })
    }
}

/// A caller authenticated by a Bearer key: who it is, the key's id (its rate-limit bucket is
/// the key's), and what the key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    pub principal: Principal,
    pub key_id: String,
    pub scopes: Vec<Scope>,
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

    /// Every tenant, in the order of their slugs.
    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError>;

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

/// How a Bearer key starts: the delivery vendor's production prefix. Keys issued before it
/// (`dk_`) are still taken.
const KEY_PREFIX: &str = "sk_live_";
const OLD_KEY_PREFIX: &str = "dk_";
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
    /// Every tenant, by slug.
    pub async fn tenants(&self) -> Result<Vec<TenantId>, ServiceError> {
        Ok(self.store.tenants().await?)
    }

    pub async fn assign_owner(&self, tenant: &TenantId, owner: &Agent) -> Result<(), ServiceError> {
        Ok(self.store.assign_owner(tenant, owner).await?)
    }

    /// The agent who handles the tenant's disputes, if one was assigned.
    pub async fn owner(&self, tenant: &TenantId) -> Result<Option<Agent>, ServiceError> {
        Ok(self.store.tenant_owner(tenant).await?)
    }

    /// Issues a key `sk_live_<key id>_<secret>` for a role in a tenant, acting as `actor` (by
    /// default `key-<key id>`), with `scopes` ([`Scope::DEFAULT`] when empty). Only the SHA-256
    /// of the 256-bit secret is stored.
    pub async fn issue_key(
        &self,
        tenant: &TenantId,
        role: Role,
        actor: Option<ActorId>,
        scopes: &[Scope],
    ) -> Result<IssuedKey, ServiceError> {
        let mut id_bytes = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut id_bytes);
        let key_id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let actor = match actor {
            Some(actor) => actor,
            None => ActorId::new(format!("key-{key_id}"))?,
        };
        let scopes = if scopes.is_empty() {
            Scope::DEFAULT.to_vec()
        } else {
            scopes.to_vec()
        };
        let (secret, record) = self
            .issue(tenant, role, actor, key_id.clone(), scopes)
            .await?;
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
        let (secret, record) = self.issue(tenant, role, actor, key_id, Vec::new()).await?;
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
        scopes: Vec<Scope>,
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
            scopes,
        };
        self.store.add_key(&record).await?;
        Ok((secret, record))
    }

    /// Resolves a presented Bearer key to who holds it and what it may do. The secret is
    /// compared in constant time, and every failure looks the same to the caller.
    pub async fn authenticate(&self, presented: &str) -> Result<KeyHolder, ServiceError> {
        let (key_id, secret) = split_key(presented).ok_or(ServiceError::Unauthenticated)?;
        let record = self.verify(key_id, secret).await?;
        Ok(KeyHolder {
            principal: principal_of(&record),
            key_id: record.key_id,
            scopes: record.scopes,
        })
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
        let record = self
            .verify(&format!("{LOGIN_PREFIX}{username}"), secret)
            .await?;
        Ok(principal_of(&record))
    }

    /// The stored credential `key_id`, when `secret` is its secret.
    async fn verify(&self, key_id: &str, secret: &str) -> Result<ApiKeyRecord, ServiceError> {
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
        Ok(record)
    }
}

fn principal_of(record: &ApiKeyRecord) -> Principal {
    Principal {
        tenant: record.tenant.clone(),
        actor: Actor::new(record.actor.clone(), record.role),
    }
}

/// The key id and secret of a presented Bearer key: `sk_live_` (or the older `dk_`), 16 hex
/// digits, `_`, the secret.
fn split_key(presented: &str) -> Option<(&str, &str)> {
    let rest = presented
        .strip_prefix(KEY_PREFIX)
        .or_else(|| presented.strip_prefix(OLD_KEY_PREFIX))?;
    let (key_id, secret) = rest.split_once('_')?;
    (key_id.len() == 16 && key_id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some((key_id, secret))
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
        async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
            Ok(vec![TenantId::new("acme").unwrap()])
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
            .issue_key(
                &acme,
                Role::Operator,
                Some(ActorId::new("dev-1").unwrap()),
                &[],
            )
            .await
            .unwrap();
        let holder = svc.authenticate(&issued.plaintext).await.unwrap();
        assert_eq!(holder.principal.tenant, acme);
        assert_eq!(holder.principal.actor.role, Role::Operator);
        assert_eq!(holder.key_id, issued.record.key_id);
        assert_eq!(holder.scopes, Scope::DEFAULT, "no scope named: the default");
        let stored = &store.0.lock().unwrap()[0];
        // `sk_live_<key id>_<secret>`: the secret is all after the third `_` (it may hold `_`
        // itself, being base64url, so splitting at the last one could leave a short tail that
        // the stored record contains by chance).
        assert!(issued.plaintext.starts_with("sk_live_"));
        let secret = issued.plaintext.splitn(4, '_').nth(3).unwrap();
        assert_eq!(secret.len(), 43);
        assert!(!format!("{stored:?}").contains(secret));
    }

    #[tokio::test]
    async fn a_key_has_the_scopes_it_was_issued_with_and_old_keys_still_work() {
        let (svc, _) = service();
        let acme = TenantId::new("acme").unwrap();
        let issued = svc
            .issue_key(&acme, Role::Operator, None, &[Scope::AuditRead])
            .await
            .unwrap();
        let holder = svc.authenticate(&issued.plaintext).await.unwrap();
        assert_eq!(holder.scopes, [Scope::AuditRead]);
        assert!(Scope::AuditRead.granted_by(&holder.scopes));
        assert!(!Scope::SettlementWrite.granted_by(&holder.scopes));
        assert!(Scope::SettlementWrite.granted_by(&[Scope::All]));
        // A key from before `sk_live_` (`dk_<key id>_<secret>`) names the same record.
        let old = issued.plaintext.replacen("sk_live_", "dk_", 1);
        assert_eq!(svc.authenticate(&old).await.unwrap(), holder);
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), *scope);
        }
        assert!("audit:write".parse::<Scope>().is_err());
    }

    #[tokio::test]
    async fn wrong_or_malformed_keys_are_refused() {
        let (svc, _) = service();
        let acme = TenantId::new("acme").unwrap();
        let issued = svc
            .issue_key(&acme, Role::Advertiser, None, &[])
            .await
            .unwrap();
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
            "sk_test_0123456789abcdef_x",
            "sk_live_",
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
        let result = svc.issue_key(&other, Role::Advertiser, None, &[]).await;
        assert!(matches!(result, Err(ServiceError::NotFound)));
    }
}
