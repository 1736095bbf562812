//! The ports around the domain: the driven ports a store, a clock and a credential store must
//! implement, and the use-case services ([`DisputeService`], [`CredentialService`]) that every
//! contract drives. Nothing here knows SQL or a wire format.

mod clock;
mod credentials;
mod error;
mod repository;
mod service;

#[cfg(feature = "testing")]
pub mod testing;

pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{ApiKeyRecord, CredentialService, CredentialStore, IssuedKey, Principal};
pub use error::{ServiceError, StoreError};
pub use repository::{DisputeRepository, ListQuery, Page, PageSize};
pub use service::{DisputeService, OpenRequest};

#[cfg(any(test, feature = "mocks"))]
pub use credentials::MockCredentialStore;
#[cfg(any(test, feature = "mocks"))]
pub use repository::MockDisputeRepository;
