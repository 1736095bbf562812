//! The ports around the domain: the driven ports a store, a clock, a credential store, a reason
//! table and a blob store must implement, and the use-case services ([`DisputeService`],
//! [`CredentialService`], [`BillingService`], [`MessageService`]) that the contracts drive.
//! Nothing here knows SQL or a wire format.

mod billing;
mod blobs;
mod clock;
mod credentials;
mod error;
mod messages;
mod reasons;
mod repository;
mod service;

#[cfg(feature = "testing")]
pub mod testing;

pub use billing::BillingService;
pub use blobs::BlobStore;
pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{ApiKeyRecord, CredentialService, CredentialStore, IssuedKey, Principal};
pub use error::{ServiceError, StoreError};
pub use messages::{File, MessageService};
pub use reasons::{default_reasons, ReasonCatalog};
pub use repository::{DisputeRepository, ListQuery, Page, PageSize};
pub use service::{DisputeService, OpenRequest};

#[cfg(any(test, feature = "mocks"))]
pub use blobs::MockBlobStore;
#[cfg(any(test, feature = "mocks"))]
pub use credentials::MockCredentialStore;
#[cfg(any(test, feature = "mocks"))]
pub use reasons::MockReasonCatalog;
#[cfg(any(test, feature = "mocks"))]
pub use repository::MockDisputeRepository;
