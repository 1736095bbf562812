//! A short-lived, in-memory cache of API key records in front of a [`CredentialStore`], so that
//! authenticating a request does not cost a database round trip every time.
//!
//! What is cached is the stored record (the secret's SHA-256, never the secret): every request
//! is still verified by [`CredentialService`](crate::CredentialService), which hashes the
//! presented secret and compares it in constant time, so a wrong secret for a cached key id is
//! refused exactly as before. Only keys that exist are cached; an unknown key id is asked of the
//! store every time, so a key issued a moment ago (by the CLI, in another process) works at once.
//!
//! Revocation: a record is trusted for at most the cache's time to live after it was read. A
//! key deleted or changed in the store (there is no revoke command yet; whoever adds one, or an
//! operator deleting the row) is honoured by each server process for at most that long. Keep the
//! time to live short (the server uses [`KeyCache::DEFAULT_TTL`]) and never cache refusals.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Duration;
use disputes_domain::{Agent, TenantId, Timestamp};

use crate::{ApiKeyRecord, Clock, CredentialStore, StoreError};

/// A [`CredentialStore`] that remembers the keys it found for a short while; everything else
/// goes straight to the store it wraps.
#[derive(Debug)]
pub struct KeyCache {
    store: Arc<dyn CredentialStore>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    /// Key id → the record and when it stops being trusted.
    entries: Mutex<HashMap<String, (ApiKeyRecord, Timestamp)>>,
}

impl KeyCache {
    /// How long a record read from the store is trusted: short, because it is also how long a
    /// revoked key keeps working in a running server.
    pub const DEFAULT_TTL: Duration = Duration::seconds(30);

    /// At most this many keys are remembered; past it, expired ones are dropped, and if none
    /// are, everything is (a flood of distinct valid keys is not a case worth more code).
    const CAPACITY: usize = 10_000;

    pub fn new(store: Arc<dyn CredentialStore>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        KeyCache {
            store,
            clock,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (ApiKeyRecord, Timestamp)>> {
        // The map holds no invariant a panicking holder could break halfway.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, record: &ApiKeyRecord, now: Timestamp) {
        let mut entries = self.entries();
        if entries.len() >= Self::CAPACITY {
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
        }
        entries.insert(record.key_id.clone(), (record.clone(), now + self.ttl));
    }
}

#[async_trait]
impl CredentialStore for KeyCache {
    async fn create_tenant(&self, tenant: &TenantId, at: Timestamp) -> Result<(), StoreError> {
        self.store.create_tenant(tenant, at).await
    }

    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        self.store.tenant_exists(tenant).await
    }

    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        self.store.tenants().await
    }

    async fn assign_owner(&self, tenant: &TenantId, owner: &Agent) -> Result<(), StoreError> {
        self.store.assign_owner(tenant, owner).await
    }

    async fn tenant_owner(&self, tenant: &TenantId) -> Result<Option<Agent>, StoreError> {
        self.store.tenant_owner(tenant).await
    }

    async fn add_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.store.add_key(key).await
    }

    async fn find_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let now = self.clock.now();
        if let Some((record, until)) = self.entries().get(key_id) {
            if *until > now {
                return Ok(Some(record.clone()));
            }
        }
        let found = self.store.find_key(key_id).await?;
        match &found {
            Some(record) => self.remember(record, now),
            // Gone from the store (or never there): forget it at once.
            None => {
                self.entries().remove(key_id);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CredentialService, ManualClock, ServiceError};
    use chrono::{TimeZone, Utc};
    use disputes_domain::Role;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Keys by id, counting how often it was asked.
    #[derive(Debug, Default)]
    struct Keys {
        records: Mutex<Vec<ApiKeyRecord>>,
        lookups: AtomicUsize,
    }

    impl Keys {
        fn lookups(&self) -> usize {
            self.lookups.load(Ordering::SeqCst)
        }

        fn revoke_all(&self) {
            self.records.lock().unwrap().clear();
        }
    }

    #[async_trait]
    impl CredentialStore for Keys {
        async fn create_tenant(&self, _: &TenantId, _: Timestamp) -> Result<(), StoreError> {
            Ok(())
        }
        async fn tenant_exists(&self, _: &TenantId) -> Result<bool, StoreError> {
            Ok(true)
        }
        async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
            Ok(Vec::new())
        }
        async fn assign_owner(&self, _: &TenantId, _: &Agent) -> Result<(), StoreError> {
            Ok(())
        }
        async fn tenant_owner(&self, _: &TenantId) -> Result<Option<Agent>, StoreError> {
            Ok(None)
        }
        async fn add_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
            self.records.lock().unwrap().push(key.clone());
            Ok(())
        }
        async fn find_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            Ok(self
                .records
                .lock()
                .unwrap()
                .iter()
                .find(|r| r.key_id == key_id)
                .cloned())
        }
    }

    struct Fixture {
        keys: Arc<Keys>,
        clock: Arc<ManualClock>,
        service: CredentialService,
    }

    fn fixture() -> Fixture {
        let keys = Arc::new(Keys::default());
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        ));
        let cache = KeyCache::new(keys.clone(), clock.clone(), Duration::seconds(30));
        let service = CredentialService::new(Arc::new(cache), clock.clone());
        Fixture {
            keys,
            clock,
            service,
        }
    }

    async fn issue(f: &Fixture) -> String {
        let tenant = TenantId::new("acme").unwrap();
        f.service
            .issue_key(&tenant, Role::Advertiser, None, &[])
            .await
            .unwrap()
            .plaintext
    }

    #[tokio::test]
    async fn a_verified_key_is_asked_of_the_store_once_per_time_to_live() {
        let f = fixture();
        let key = issue(&f).await;
        f.service.authenticate(&key).await.unwrap();
        f.service.authenticate(&key).await.unwrap();
        f.clock.advance(Duration::seconds(29));
        f.service.authenticate(&key).await.unwrap();
        assert_eq!(f.keys.lookups(), 1);

        f.clock.advance(Duration::seconds(1));
        f.service.authenticate(&key).await.unwrap();
        assert_eq!(f.keys.lookups(), 2, "an expired entry is read again");
    }

    #[tokio::test]
    async fn a_revoked_key_stops_working_once_its_entry_expires() {
        let f = fixture();
        let key = issue(&f).await;
        f.service.authenticate(&key).await.unwrap();
        f.keys.revoke_all();
        // Still trusted within the time to live: the documented bound on revocation.
        f.service.authenticate(&key).await.unwrap();
        f.clock.advance(Duration::seconds(30));
        assert!(matches!(
            f.service.authenticate(&key).await,
            Err(ServiceError::Unauthenticated)
        ));
        assert!(matches!(
            f.service.authenticate(&key).await,
            Err(ServiceError::Unauthenticated)
        ));
    }

    #[tokio::test]
    async fn a_wrong_secret_for_a_cached_key_is_refused() {
        let f = fixture();
        let key = issue(&f).await;
        f.service.authenticate(&key).await.unwrap();
        // Same key id, another secret of the same shape.
        // `sk_live_<key id>_<secret>`; the secret is base64url and may hold `_` itself.
        let mut parts = key.splitn(4, '_');
        let id_part = format!(
            "{}_{}_{}",
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap()
        );
        let secret = parts.next().unwrap();
        let wrong: String = secret
            .chars()
            .map(|c| if c == 'A' { 'B' } else { 'A' })
            .collect();
        let forged = format!("{id_part}_{wrong}");
        assert!(matches!(
            f.service.authenticate(&forged).await,
            Err(ServiceError::Unauthenticated)
        ));
        assert_eq!(
            f.keys.lookups(),
            1,
            "answered from the cache, and still refused"
        );
    }

    #[tokio::test]
    async fn unknown_keys_are_not_remembered() {
        let f = fixture();
        let key = issue(&f).await;
        let records = std::mem::take(&mut *f.keys.records.lock().unwrap());
        assert!(f.service.authenticate(&key).await.is_err());
        // Issued (or restored) a moment later, in another process: works at once.
        *f.keys.records.lock().unwrap() = records;
        f.service.authenticate(&key).await.unwrap();
        assert_eq!(f.keys.lookups(), 2);
    }
}
