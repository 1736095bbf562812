//! A store that keeps everything in memory: the worked example of `docs/extending.md`.
//!
//! It implements every driven port the conformance suites check (disputes, tenants and keys,
//! reason tables, the outbox, webhooks, sent mail, desk tickets, deadline policies, the
//! deadline queue and idempotency keys) with nothing but the port traits and the domain types,
//! and passes the same suites as the SQLite and PostgreSQL stores (`tests/conformance.rs`).
//! It also implements `OperationsStats`, the counts `/metrics` shows, which the app wires too.
//! Copy it to start a new store: replace [`State`] by your database, keep the rules.
//!
//! One [`Mutex`] guards all of the state, so every method is one atomic step: what a SQL
//! store gets from a transaction (a duplicate check and its insert, a version guard and its
//! update, a change and its outbox jobs and idempotency record) this store gets from holding
//! the lock. The lock is a `std::sync::Mutex`, held only for a few map operations and never
//! across an `.await`, which is what keeps it safe to use from async code.
//!
//! Not for production: nothing survives a restart, and nothing is ever removed but expired
//! idempotency keys.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::Duration;
use disputes_domain::{
    Agent, Dispute, DisputeId, DisputePolicy, EntryKind, NewDispute, Reason, ReasonCode, Status,
    Subject, TenantId, Timestamp, Version,
};
use disputes_ports::idempotency::{
    IdempotencyStore, KeyState, KeyedRequest, Reservation, StoredAnswer, StoredKey, LEASE,
    RETENTION,
};
use disputes_ports::{
    ApiKeyRecord, CredentialStore, DeadLetter, DeadlineQueue, DisputeRepository, DueDeadline,
    EventId, ListQuery, Notification, OperationsStats, Outbox, OutboxDepth, OutboxJob, Page,
    ReasonCatalog, Registration, Replay, SentEmail, SentEmails, Sink, StoreError, TenantPolicies,
    Ticket, TicketStore, Webhook, WebhookRegistry, Write,
};

/// The in-memory store. Share it as an `Arc<MemoryStore>`, like any store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

/// Everything the store holds. Each field is what a table would be in a SQL store.
#[derive(Debug, Default)]
struct State {
    tenants: HashMap<TenantId, Tenant>,
    /// API keys and logins by key id (unique across tenants).
    keys: HashMap<String, ApiKeyRecord>,
    /// Disputes by id; ids only grow, so iterating backwards is newest first.
    disputes: BTreeMap<DisputeId, Dispute>,
    last_dispute_id: i64,
    /// The outbox, by id (ids only grow, and pruned jobs leave gaps).
    jobs: Vec<Job>,
    last_job_id: i64,
    /// Webhooks; a webhook's id is its index plus one.
    webhooks: Vec<Webhook>,
    /// Which webhook took which event.
    webhook_deliveries: HashSet<(i64, EventId)>,
    sent_emails: Vec<SentEmail>,
    /// At most one desk ticket per dispute.
    tickets: HashMap<(TenantId, DisputeId), Ticket>,
    /// Idempotency keys by tenant, principal and key.
    idempotency_keys: HashMap<(TenantId, String, String), HeldKey>,
}

#[derive(Debug, Default)]
struct Tenant {
    owner: Option<Agent>,
    /// `None` until the tenant sets one; the default policy applies meanwhile.
    policy: Option<DisputePolicy>,
    /// Ordered by code, which is the order `ReasonCatalog::reasons` promises.
    reasons: BTreeMap<ReasonCode, Reason>,
    /// Whether the default reasons were seeded: once in the tenant's life.
    seeded: bool,
}

/// An outbox job and what the dispatcher's calls change on it.
#[derive(Debug)]
struct Job {
    /// What a lease hands out; `attempts` counts the leases.
    job: OutboxJob,
    /// When it is due next: its entry's time, then the end of each lease or the retry time.
    next_attempt_at: Timestamp,
    delivered_at: Option<Timestamp>,
    /// Why the last attempt failed; kept for an operator, as the SQL stores keep it.
    last_error: Option<String>,
    /// When the dispatcher gave up on it; never leased while set.
    dead_lettered_at: Option<Timestamp>,
}

impl Job {
    /// Whether a lease may hand it out (once it is due).
    fn queued(&self) -> bool {
        self.delivered_at.is_none() && self.dead_lettered_at.is_none()
    }
}

/// An idempotency key with the token of the request that holds it now.
#[derive(Debug)]
struct HeldKey {
    token: String,
    stored: StoredKey,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state, locked. A panic while the lock was held may have left the state half
    /// changed, so a poisoned lock is reported rather than used.
    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state
            .lock()
            .map_err(|_| StoreError::Other("the store's state was left half changed".into()))
    }
}

impl State {
    fn tenant_mut(&mut self, tenant: &TenantId) -> Result<&mut Tenant, StoreError> {
        self.tenants.get_mut(tenant).ok_or(StoreError::NotFound)
    }

    /// The tenant's non-final dispute whose subject conflicts with `subject`: the duplicate rule.
    fn open_conflict(&self, tenant: &TenantId, subject: &Subject) -> Option<DisputeId> {
        self.disputes
            .values()
            .find(|d| {
                d.tenant() == tenant
                    && !d.status().is_final()
                    && d.subject().conflicts_with(subject)
            })
            .map(Dispute::id)
    }

    /// Fails with `KeyTakenOver` when a retry took `key` over; checked before a write changes
    /// anything, so a refused write leaves no trace.
    fn check_key_held(&self, key: Option<&Reservation>) -> Result<(), StoreError> {
        let Some(reservation) = key else {
            return Ok(());
        };
        let held = self
            .idempotency_keys
            .get(&key_of(reservation))
            .is_some_and(|held| held.token == reservation.token);
        if !held {
            return Err(StoreError::KeyTakenOver);
        }
        Ok(())
    }

    /// Records on `key` that its request produced `version` of `dispute`, so that a replay
    /// answers from the dispute instead of changing it again.
    fn record_effect(&mut self, key: Option<&Reservation>, dispute: DisputeId, version: Version) {
        if let Some(held) = key.and_then(|r| self.idempotency_keys.get_mut(&key_of(r))) {
            held.stored.effect = Some((dispute, version));
        }
    }

    /// Queues `notifications` of `dispute`, each due at its entry's time.
    fn enqueue(&mut self, dispute: &Dispute, notifications: &[Notification]) {
        for n in notifications {
            self.last_job_id += 1;
            let id = self.last_job_id;
            self.jobs.push(Job {
                job: OutboxJob {
                    id,
                    event: n.event.clone(),
                    tenant: dispute.tenant().clone(),
                    dispute: dispute.id(),
                    seq: n.seq,
                    kind: n.kind,
                    sink: n.sink,
                    attempts: 0,
                    replayed: false,
                },
                next_attempt_at: n.due,
                delivered_at: None,
                last_error: None,
                dead_lettered_at: None,
            });
        }
    }

    fn job_mut(&mut self, id: i64) -> Option<&mut Job> {
        // Ordered by id, which only grows.
        let index = self.jobs.binary_search_by_key(&id, |j| j.job.id).ok()?;
        self.jobs.get_mut(index)
    }
}

fn key_of(reservation: &Reservation) -> (TenantId, String, String) {
    (
        reservation.tenant.clone(),
        reservation.principal.clone(),
        reservation.key.as_str().to_owned(),
    )
}

/// Whether `d` is the tenant's and matches the filters of `query` on what a dispute is about
/// and when it was opened: every filter but the statuses and the page, as
/// [`DisputeRepository::count_by_status`] counts them.
fn matches_subject(d: &Dispute, tenant: &TenantId, query: &ListQuery) -> bool {
    d.tenant() == tenant
        && query.kind.is_none_or(|kind| d.subject().kind() == kind)
        && query.resolved.is_none_or(|r| d.status().is_final() == r)
        && query
            .campaign_id
            .as_ref()
            .is_none_or(|c| match d.subject() {
                Subject::Delivery(s) => s.campaign_id() == c,
                _ => false,
            })
        && billing_matches(d, query)
        && query.opened_after.is_none_or(|t| d.opened_at() >= t)
        && query.opened_before.is_none_or(|t| d.opened_at() < t)
}

/// Whether `d` matches the filters of `query` that only billing disputes can pass; true when
/// there are none.
fn billing_matches(d: &Dispute, query: &ListQuery) -> bool {
    let filtered = query.account_id.is_some()
        || query.item_id.is_some()
        || query.bill_id.is_some()
        || query.billing_target.is_some()
        || query.event_id.is_some();
    let Subject::Billing(s) = d.subject() else {
        return !filtered;
    };
    let named = |wanted: &Option<String>, has: Option<&str>| {
        wanted.as_deref().is_none_or(|w| has == Some(w))
    };
    named(&query.account_id, s.account_id())
        && named(&query.item_id, s.item_id())
        && named(&query.bill_id, s.bill_id())
        && query
            .billing_target
            .is_none_or(|target| s.target().kind() == target)
        && query.event_id.as_ref().is_none_or(|e| {
            s.events_disputed()
                .is_some_and(|events| events.ids().contains(e))
        })
}

#[async_trait]
impl DisputeRepository for MemoryStore {
    async fn create(&self, dispute: NewDispute, write: &Write) -> Result<Dispute, StoreError> {
        let mut state = self.state()?;
        let parts = dispute.parts();
        // Every check first, then every change: under the lock, that is all-or-nothing. A
        // dispute of an unknown tenant is refused, as the SQL stores' foreign key refuses it.
        if !state.tenants.contains_key(&parts.tenant) {
            return Err(StoreError::NotFound);
        }
        if let Some(existing) = state.open_conflict(&parts.tenant, &parts.subject) {
            return Err(StoreError::Duplicate { existing });
        }
        state.check_key_held(write.key.as_ref())?;
        let id = DisputeId::new(state.last_dispute_id + 1)
            .map_err(|e| StoreError::Other(e.to_string()))?;
        state.last_dispute_id = id.get();
        let created = dispute.into_dispute(id);
        state.enqueue(&created, &write.notifications);
        state.record_effect(write.key.as_ref(), id, created.version());
        state.disputes.insert(id, created.clone());
        Ok(created)
    }

    async fn get(&self, tenant: &TenantId, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        let state = self.state()?;
        // Another tenant's dispute is as good as absent.
        Ok(state
            .disputes
            .get(&id)
            .filter(|d| d.tenant() == tenant)
            .cloned())
    }

    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<Page, StoreError> {
        let state = self.state()?;
        let limit = usize::from(query.limit.get());
        let matches = |d: &&Dispute| {
            matches_subject(d, tenant, query)
                && query.after.is_none_or(|cursor| d.id() < cursor)
                && (query.statuses.is_empty() || query.statuses.contains(&d.status()))
        };
        // Newest first; one more than asked for tells whether another page follows.
        let mut disputes: Vec<Dispute> = state
            .disputes
            .values()
            .rev()
            .filter(matches)
            .take(limit + 1)
            .cloned()
            .collect();
        let more = disputes.len() > limit;
        disputes.truncate(limit);
        let next = if more {
            disputes.last().map(Dispute::id)
        } else {
            None
        };
        Ok(Page { disputes, next })
    }

    async fn count_by_status(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<Vec<(Status, u64)>, StoreError> {
        let state = self.state()?;
        let mut counts: Vec<(Status, u64)> = Vec::new();
        for d in state.disputes.values() {
            if !matches_subject(d, tenant, query) {
                continue;
            }
            match counts.iter_mut().find(|(status, _)| *status == d.status()) {
                Some((_, n)) => *n += 1,
                None => counts.push((d.status(), 1)),
            }
        }
        Ok(counts)
    }

    async fn update(
        &self,
        dispute: &Dispute,
        expected: Version,
        write: &Write,
    ) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let stored = state
            .disputes
            .get(&dispute.id())
            .filter(|d| d.tenant() == dispute.tenant())
            .ok_or(StoreError::NotFound)?;
        // The version guard: of two updates based on one version, the second finds it moved.
        if stored.version() != expected {
            return Err(StoreError::VersionConflict);
        }
        state.check_key_held(write.key.as_ref())?;
        // The domain only ever appends to a timeline, so storing the whole dispute keeps the
        // entries up to `expected` as they were, as a SQL store that appends only the new ones.
        state.enqueue(dispute, &write.notifications);
        state.record_effect(write.key.as_ref(), dispute.id(), dispute.version());
        state.disputes.insert(dispute.id(), dispute.clone());
        Ok(())
    }

    async fn find_open_for_subject(
        &self,
        tenant: &TenantId,
        subject: &Subject,
    ) -> Result<Option<DisputeId>, StoreError> {
        Ok(self.state()?.open_conflict(tenant, subject))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.state().map(drop)
    }
}

#[async_trait]
impl CredentialStore for MemoryStore {
    async fn create_tenant(&self, tenant: &TenantId, _at: Timestamp) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if state.tenants.contains_key(tenant) {
            return Err(StoreError::AlreadyExists("tenant"));
        }
        state.tenants.insert(tenant.clone(), Tenant::default());
        Ok(())
    }

    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        Ok(self.state()?.tenants.contains_key(tenant))
    }

    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let mut tenants: Vec<_> = self.state()?.tenants.keys().cloned().collect();
        tenants.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(tenants)
    }

    async fn assign_owner(&self, tenant: &TenantId, owner: &Agent) -> Result<(), StoreError> {
        self.state()?.tenant_mut(tenant)?.owner = Some(owner.clone());
        Ok(())
    }

    async fn tenant_owner(&self, tenant: &TenantId) -> Result<Option<Agent>, StoreError> {
        let state = self.state()?;
        Ok(state.tenants.get(tenant).and_then(|t| t.owner.clone()))
    }

    async fn add_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if !state.tenants.contains_key(&key.tenant) {
            return Err(StoreError::NotFound);
        }
        if state.keys.contains_key(&key.key_id) {
            return Err(StoreError::AlreadyExists("api key"));
        }
        state.keys.insert(key.key_id.clone(), key.clone());
        Ok(())
    }

    async fn find_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.state()?.keys.get(key_id).cloned())
    }
}

#[async_trait]
impl ReasonCatalog for MemoryStore {
    async fn reasons(&self, tenant: &TenantId) -> Result<Vec<Reason>, StoreError> {
        let state = self.state()?;
        let reasons = state.tenants.get(tenant).map(|t| &t.reasons);
        Ok(reasons
            .into_iter()
            .flat_map(|r| r.values().cloned())
            .collect())
    }

    async fn find_reason(
        &self,
        tenant: &TenantId,
        code: ReasonCode,
    ) -> Result<Option<Reason>, StoreError> {
        let state = self.state()?;
        Ok(state
            .tenants
            .get(tenant)
            .and_then(|t| t.reasons.get(&code).cloned()))
    }

    async fn seed_reasons(
        &self,
        tenant: &TenantId,
        defaults: &[Reason],
    ) -> Result<bool, StoreError> {
        let mut state = self.state()?;
        let tenant = state.tenant_mut(tenant)?;
        if tenant.seeded {
            return Ok(false);
        }
        tenant.seeded = true;
        for reason in defaults {
            // A reason the table has already keeps its own description.
            tenant
                .reasons
                .entry(reason.code())
                .or_insert_with(|| reason.clone());
        }
        Ok(true)
    }

    async fn add_reason(&self, tenant: &TenantId, reason: &Reason) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let reasons = &mut state.tenant_mut(tenant)?.reasons;
        if reasons.contains_key(&reason.code()) {
            return Err(StoreError::AlreadyExists("reason"));
        }
        reasons.insert(reason.code(), reason.clone());
        Ok(())
    }
}

#[async_trait]
impl Outbox for MemoryStore {
    async fn lease(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u16,
    ) -> Result<Vec<OutboxJob>, StoreError> {
        let mut state = self.state()?;
        // Oldest due first. Leasing under the lock makes leases exclusive: a job leased here is
        // not due again before `now + lease`, and no other lease runs meanwhile.
        let mut due: Vec<&mut Job> = state
            .jobs
            .iter_mut()
            .filter(|j| j.queued() && j.next_attempt_at <= now)
            .collect();
        due.sort_by_key(|j| (j.next_attempt_at, j.job.id));
        due.truncate(usize::from(limit));
        let mut leased: Vec<OutboxJob> = due
            .into_iter()
            .map(|j| {
                j.job.attempts += 1;
                j.next_attempt_at = now + lease;
                j.job.clone()
            })
            .collect();
        leased.sort_by_key(|job| job.id);
        Ok(leased)
    }

    async fn delivered(&self, job: i64, at: Timestamp) -> Result<(), StoreError> {
        if let Some(job) = self.state()?.job_mut(job) {
            // Marking it again keeps the first time.
            job.delivered_at.get_or_insert(at);
        }
        Ok(())
    }

    async fn retry_at(&self, job: i64, at: Timestamp, error: &str) -> Result<(), StoreError> {
        // A job delivered meanwhile (by whoever leased it after this lease ran out) stays so.
        if let Some(job) = self
            .state()?
            .job_mut(job)
            .filter(|j| j.delivered_at.is_none())
        {
            job.next_attempt_at = at;
            job.last_error = Some(error.to_owned());
        }
        Ok(())
    }

    async fn dead_letter(&self, job: i64, at: Timestamp, error: &str) -> Result<(), StoreError> {
        if let Some(job) = self
            .state()?
            .job_mut(job)
            .filter(|j| j.delivered_at.is_none())
        {
            job.dead_lettered_at = Some(at);
            job.last_error = Some(error.to_owned());
        }
        Ok(())
    }

    async fn dead_letters(&self, limit: u16) -> Result<Vec<DeadLetter>, StoreError> {
        let state = self.state()?;
        Ok(state
            .jobs
            .iter()
            .filter(|j| j.delivered_at.is_none())
            .filter_map(|j| {
                j.dead_lettered_at.map(|at| DeadLetter {
                    job: j.job.clone(),
                    last_error: j.last_error.clone(),
                    dead_lettered_at: at,
                })
            })
            .take(usize::from(limit))
            .collect())
    }

    async fn replay(&self, which: Replay, now: Timestamp) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let mut replayed = 0;
        for j in state.jobs.iter_mut().filter(|j| {
            j.dead_lettered_at.is_some()
                && j.delivered_at.is_none()
                && (which == Replay::All || which == Replay::Job(j.job.id))
        }) {
            j.dead_lettered_at = None;
            j.job.attempts = 0;
            j.job.replayed = true;
            j.next_attempt_at = now;
            replayed += 1;
        }
        Ok(replayed)
    }

    async fn prune_delivered(&self, before: Timestamp, limit: u16) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let mut left = usize::from(limit);
        let count = state.jobs.len();
        state.jobs.retain(|j| {
            let prune = left > 0 && j.delivered_at.is_some_and(|at| at < before);
            if prune {
                left -= 1;
            }
            !prune
        });
        Ok((count - state.jobs.len()) as u64)
    }
}

#[async_trait]
impl WebhookRegistry for MemoryStore {
    async fn add_webhook(
        &self,
        tenant: &TenantId,
        registration: &Registration,
        secret: &str,
        at: Timestamp,
        key: Option<Reservation>,
    ) -> Result<Webhook, StoreError> {
        let mut state = self.state()?;
        if !state.tenants.contains_key(tenant) {
            return Err(StoreError::NotFound);
        }
        state.check_key_held(key.as_ref())?;
        let webhook = Webhook {
            id: state.webhooks.len() as i64 + 1,
            tenant: tenant.clone(),
            url: registration.url.clone(),
            events: registration.events.clone(),
            label: registration.label.clone(),
            developer: registration.developer.clone(),
            secret: secret.to_owned(),
            created_at: at,
        };
        state.webhooks.push(webhook.clone());
        if let Some(held) = key.and_then(|r| state.idempotency_keys.get_mut(&key_of(&r))) {
            held.stored.subscription = Some(webhook.id);
        }
        Ok(webhook)
    }

    async fn webhook(&self, tenant: &TenantId, id: i64) -> Result<Option<Webhook>, StoreError> {
        let state = self.state()?;
        Ok(state
            .webhooks
            .iter()
            .find(|w| w.id == id && w.tenant == *tenant)
            .cloned())
    }

    async fn webhooks_pending(
        &self,
        tenant: &TenantId,
        event: &EventId,
        kind: EntryKind,
    ) -> Result<Vec<Webhook>, StoreError> {
        let state = self.state()?;
        Ok(state
            .webhooks
            .iter()
            .filter(|w| &w.tenant == tenant && w.events.covers(kind))
            .filter(|w| !state.webhook_deliveries.contains(&(w.id, event.clone())))
            .cloned()
            .collect())
    }

    async fn webhook_delivered(
        &self,
        webhook: i64,
        event: &EventId,
        _at: Timestamp,
    ) -> Result<(), StoreError> {
        self.state()?
            .webhook_deliveries
            .insert((webhook, event.clone()));
        Ok(())
    }
}

#[async_trait]
impl SentEmails for MemoryStore {
    async fn record_sent(&self, email: &SentEmail) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let known = state
            .sent_emails
            .iter()
            .any(|e| e.event == email.event && e.recipient == email.recipient);
        if !known {
            state.sent_emails.push(email.clone());
        }
        Ok(())
    }

    async fn sent_for(
        &self,
        tenant: &TenantId,
        disputes: &[DisputeId],
    ) -> Result<Vec<SentEmail>, StoreError> {
        let state = self.state()?;
        let mut sent: Vec<SentEmail> = state
            .sent_emails
            .iter()
            .filter(|e| &e.tenant == tenant && disputes.contains(&e.dispute))
            .cloned()
            .collect();
        // By time; the sort is stable, so mail of one instant stays as recorded.
        sent.sort_by_key(|e| e.sent_at);
        Ok(sent)
    }
}

#[async_trait]
impl TicketStore for MemoryStore {
    async fn ticket(
        &self,
        tenant: &TenantId,
        dispute: DisputeId,
    ) -> Result<Option<Ticket>, StoreError> {
        let state = self.state()?;
        Ok(state.tickets.get(&(tenant.clone(), dispute)).cloned())
    }

    async fn tickets(
        &self,
        tenant: &TenantId,
        disputes: &[DisputeId],
    ) -> Result<Vec<Ticket>, StoreError> {
        let state = self.state()?;
        Ok(disputes
            .iter()
            .filter_map(|&id| state.tickets.get(&(tenant.clone(), id)).cloned())
            .collect())
    }

    async fn save_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if !state.tenants.contains_key(&ticket.tenant) {
            return Err(StoreError::NotFound);
        }
        let key = (ticket.tenant.clone(), ticket.dispute);
        let mut saved = ticket.clone();
        // Recording a ticket again keeps when it was first recorded.
        if let Some(earlier) = state.tickets.get(&key) {
            saved.created_at = earlier.created_at;
        }
        state.tickets.insert(key, saved);
        Ok(())
    }
}

#[async_trait]
impl TenantPolicies for MemoryStore {
    async fn policy(&self, tenant: &TenantId) -> Result<Option<DisputePolicy>, StoreError> {
        Ok(self.state()?.tenants.get(tenant).and_then(|t| t.policy))
    }

    async fn set_policy(
        &self,
        tenant: &TenantId,
        policy: &DisputePolicy,
    ) -> Result<(), StoreError> {
        self.state()?.tenant_mut(tenant)?.policy = Some(*policy);
        Ok(())
    }
}

#[async_trait]
impl DeadlineQueue for MemoryStore {
    async fn due_deadlines(
        &self,
        now: Timestamp,
        limit: u16,
    ) -> Result<Vec<DueDeadline>, StoreError> {
        let state = self.state()?;
        // A scan of every dispute: fine in memory, where a SQL store needs an index.
        let mut due: Vec<(Timestamp, DisputeId, &TenantId)> = state
            .disputes
            .values()
            .filter(|d| !d.status().is_final())
            .filter_map(|d| {
                let deadline = d.respond_by()?;
                let policy = state.tenants.get(d.tenant()).and_then(|t| t.policy);
                let remind_before = policy.unwrap_or_default().remind_before;
                // Due to expire, or due a reminder it has not had for this deadline. The domain
                // tells whether it had one (`Dispute::reminded`), so this store needs no column.
                let expiring = deadline <= now;
                let reminding = !d.reminded() && deadline - remind_before <= now;
                (expiring || reminding).then_some((deadline, d.id(), d.tenant()))
            })
            .collect();
        due.sort();
        due.truncate(usize::from(limit));
        Ok(due
            .into_iter()
            .map(|(_, id, tenant)| DueDeadline {
                tenant: tenant.clone(),
                id,
            })
            .collect())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn reserve(
        &self,
        request: &KeyedRequest,
        now: Timestamp,
    ) -> Result<KeyState, StoreError> {
        let mut state = self.state()?;
        // Keys past their retention count as never used; forget them.
        state
            .idempotency_keys
            .retain(|_, held| held.stored.created_at + RETENTION > now);
        let key = (
            request.tenant.clone(),
            request.principal.clone(),
            request.key.as_str().to_owned(),
        );
        // The one rule every store decides by: answered, mismatch, in flight or effected...
        if let Some(held) = state.idempotency_keys.get(&key) {
            if let Some(taken) = held.stored.verdict(&request.fingerprint, now) {
                return Ok(taken);
            }
        }
        // ...or free (new, or abandoned without an effect): this request holds it now, with a
        // fresh token, so the request it took the key from can no longer record an effect.
        let token = Reservation::new_token();
        let stored = StoredKey {
            fingerprint: request.fingerprint.clone(),
            created_at: now,
            lease_until: now + LEASE,
            effect: None,
            subscription: None,
            answer: None,
        };
        let held = HeldKey {
            token: token.clone(),
            stored,
        };
        state.idempotency_keys.insert(key, held);
        Ok(KeyState::Reserved(Reservation::of(request, token)))
    }

    async fn complete(
        &self,
        reservation: &Reservation,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        let mut state = self.state()?;
        if let Some(held) = state.idempotency_keys.get_mut(&key_of(reservation)) {
            if held.token == reservation.token {
                held.stored.answer = Some(answer.clone());
            }
        }
        Ok(())
    }

    async fn release(&self, reservation: &Reservation) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let key = key_of(reservation);
        // Only the holder frees a key, and never one whose effect was recorded.
        let releasable = state.idempotency_keys.get(&key).is_some_and(|h| {
            h.token == reservation.token
                && h.stored.effect.is_none()
                && h.stored.subscription.is_none()
        });
        if releasable {
            state.idempotency_keys.remove(&key);
        }
        Ok(())
    }
}

#[async_trait]
impl OperationsStats for MemoryStore {
    async fn disputes_by_status(&self) -> Result<Vec<(Status, u64)>, StoreError> {
        let state = self.state()?;
        let mut counts: Vec<(Status, u64)> = Vec::new();
        for dispute in state.disputes.values() {
            match counts
                .iter_mut()
                .find(|(status, _)| *status == dispute.status())
            {
                Some((_, count)) => *count += 1,
                None => counts.push((dispute.status(), 1)),
            }
        }
        Ok(counts)
    }

    async fn outbox_depth(&self, now: Timestamp) -> Result<OutboxDepth, StoreError> {
        let state = self.state()?;
        let pending = state.jobs.iter().filter(|j| j.queued());
        Ok(OutboxDepth {
            pending: pending.clone().count() as u64,
            due: pending.filter(|j| j.next_attempt_at <= now).count() as u64,
        })
    }

    async fn dead_letters_by_sink(&self) -> Result<Vec<(Sink, u64)>, StoreError> {
        let state = self.state()?;
        Ok(Sink::ALL
            .iter()
            .map(|&sink| {
                let dead = state
                    .jobs
                    .iter()
                    .filter(|j| j.job.sink == sink && j.dead_lettered_at.is_some())
                    .filter(|j| j.delivered_at.is_none());
                (sink, dead.count() as u64)
            })
            .filter(|(_, n)| *n > 0)
            .collect())
    }
}
