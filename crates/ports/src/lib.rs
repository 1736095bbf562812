//! The ports around the domain: the driven ports a store, a clock, a credential store, a reason
//! table, a blob store and the notification outbox must implement, and the use-case services
//! ([`DisputeService`], [`CredentialService`], [`BillingService`], [`ThreadService`],
//! [`InvoiceDesk`]) that the
//! contracts drive, and the [`Dispatcher`] that delivers the outbox's notifications.
//! Nothing here knows SQL or a wire format.

mod billing;
mod blobs;
mod clock;
mod credentials;
mod deadlines;
mod dispatch;
mod error;
pub mod idempotency;
mod invoice_desk;
mod key_cache;
mod keyring;
mod ledger;
mod operations;
mod outbox;
mod policies;
mod reasons;
mod repository;
mod sent_emails;
mod service;
mod thread;
mod tickets;
mod webhooks;

pub use billing::{BillingService, Disputed};
pub use blobs::BlobStore;
pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{
    ApiKeyRecord, CredentialService, CredentialStore, IssuedKey, KeyHolder, Principal, Scope,
};
pub use deadlines::{DeadlineQueue, DeadlineRound, DeadlineScheduler, DueDeadline};
pub use dispatch::{
    Backoff, Dispatcher, Event, Notifier, NotifyError, RetryPolicy, Round, Schedule,
};
pub use error::{ServiceError, StoreError};
pub use idempotency::{IdempotencyKey, IdempotencyService, IdempotencyStore};
pub use invoice_desk::{InvoiceDesk, InvoiceListing, InvoiceOpening, InvoicePage, InvoiceView};
pub use key_cache::KeyCache;
#[cfg(any(test, feature = "mocks"))]
pub use keyring::UnusedKeyring;
pub use keyring::{Keyring, PublicKey, SealError, SigningService};
pub use ledger::{LedgerError, SettlementLedger, NO_SETTLEMENT_LEDGER};
pub use operations::{OperationsStats, OutboxDepth};
pub use outbox::{DeadLetter, EventId, Notification, Outbox, OutboxJob, Replay, Sink};
pub use policies::{PolicyChange, PolicyService, TenantPolicies};
pub use reasons::{default_reasons, ReasonCatalog};
pub use repository::{DisputeRepository, ListQuery, Page, PageSize, Write};
pub use sent_emails::{SentEmail, SentEmails};
pub use service::{Conditions, DeadlineAction, DisputeService, OpenRequest};
pub use thread::{File, ThreadService};
pub use tickets::{Ticket, TicketStatus, TicketStore};
pub use webhooks::{
    Registration, UrlPolicy, Webhook, WebhookEvents, WebhookLabel, WebhookRegistry, WebhookService,
    WebhookUrl, VENDOR_EVENTS,
};

#[cfg(any(test, feature = "mocks"))]
pub use blobs::MockBlobStore;
#[cfg(any(test, feature = "mocks"))]
pub use credentials::MockCredentialStore;
#[cfg(any(test, feature = "mocks"))]
pub use deadlines::MockDeadlineQueue;
#[cfg(any(test, feature = "mocks"))]
pub use dispatch::MockNotifier;
#[cfg(any(test, feature = "mocks"))]
pub use idempotency::MockIdempotencyStore;
#[cfg(any(test, feature = "mocks"))]
pub use operations::MockOperationsStats;
#[cfg(any(test, feature = "mocks"))]
pub use outbox::MockOutbox;
#[cfg(any(test, feature = "mocks"))]
pub use policies::MockTenantPolicies;
#[cfg(any(test, feature = "mocks"))]
pub use reasons::MockReasonCatalog;
#[cfg(any(test, feature = "mocks"))]
pub use repository::MockDisputeRepository;
#[cfg(any(test, feature = "mocks"))]
pub use sent_emails::MockSentEmails;
#[cfg(any(test, feature = "mocks"))]
pub use tickets::MockTicketStore;
#[cfg(any(test, feature = "mocks"))]
pub use webhooks::MockWebhookRegistry;
