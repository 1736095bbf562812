//! What an operator watches: how many disputes are in each status, how deep the outbox is and
//! how many of its jobs were given up on, across every tenant. The HTTP adapter serves these at
//! `/metrics`; no tenant ever sees them.

use async_trait::async_trait;
use disputes_domain::{Status, Timestamp};

use crate::{Sink, StoreError};

/// The notification jobs that are not delivered yet and not given up on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxDepth {
    /// Every undelivered job, due or waiting for a retry (or held by a dispatcher's lease);
    /// dead-lettered jobs are counted apart ([`OperationsStats::dead_letters_by_sink`]).
    pub pending: u64,
    /// The undelivered jobs whose time has come: what a dispatcher would claim right now.
    pub due: u64,
}

/// Counts over the whole store, for monitoring.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OperationsStats: Send + Sync + std::fmt::Debug {
    /// How many disputes each status holds, across tenants. A status no dispute is in may be
    /// left out.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached; [`StoreError::Corrupt`]
    /// when a stored status is not one the domain knows.
    async fn disputes_by_status(&self) -> Result<Vec<(Status, u64)>, StoreError>;

    /// The outbox's undelivered jobs, and how many of them are due at `now`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached.
    async fn outbox_depth(&self, now: Timestamp) -> Result<OutboxDepth, StoreError>;

    /// How many undelivered dead-lettered jobs each sink has, across tenants. A sink with none may be left
    /// out.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached; [`StoreError::Corrupt`]
    /// when a stored sink is not one the ports know.
    async fn dead_letters_by_sink(&self) -> Result<Vec<(Sink, u64)>, StoreError>;
}
