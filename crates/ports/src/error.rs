use disputes_domain::{DisputeId, DomainError, ReasonCode, TimelineError, Version};

/// What a store reports. Adapters map their driver's errors (constraint names, connection
/// failures) to these once, so no layer above ever sees SQL.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A non-final dispute of the same tenant already covers this subject.
    #[error("an open dispute ({existing}) already covers this subject")]
    Duplicate { existing: DisputeId },
    /// The stored version is not the one the update was based on.
    #[error("the dispute changed since it was read")]
    VersionConflict,
    /// The write was to record its effect on an idempotency key that a retry has taken over
    /// (the request outlived its lease): nothing was written, and the retry owns the key now.
    #[error("the idempotency key was taken over by a retry")]
    KeyTakenOver,
    /// No such row for this tenant.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule outside disputes (a tenant slug, a key id) was broken.
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    /// The store cannot be reached right now; the caller may retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored row cannot be read back into the domain.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// Anything else the driver reported.
    #[error("store failure: {0}")]
    Other(String),
}

/// What the use cases report to a driving adapter, which maps each variant to its contract's
/// status and error shape exactly once.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("not found")]
    NotFound,
    #[error("an open dispute ({existing}) already covers this subject")]
    Duplicate { existing: DisputeId },
    /// The caller pinned a version (`If-Match`) that is no longer current.
    #[error("the dispute is at version {current}, not the version given")]
    StaleVersion { current: Version },
    /// Another change won a race for the same version.
    #[error("the dispute was changed concurrently; read it again and retry")]
    Conflict,
    /// The request's idempotency key was taken over by a retry of it while it ran; the retry
    /// is the one that acts now.
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    KeyTakenOver,
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    /// A billing dispute or settlement named a reason code that the tenant's table lacks.
    #[error("{code} is not in the reason table")]
    UnknownReason { code: ReasonCode },
    #[error("missing or invalid credentials")]
    Unauthenticated,
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A dispute the store holds fails verification: something edited it behind the engine's
    /// back. It is not served as fact and not changed; the store is damaged.
    #[error("dispute {dispute} failed integrity verification: {why}")]
    IntegrityViolation {
        dispute: DisputeId,
        why: TimelineError,
    },
    /// A fault that is ours, not the caller's; adapters log it and show nothing of it.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate { existing } => ServiceError::Duplicate { existing },
            StoreError::VersionConflict => ServiceError::Conflict,
            StoreError::KeyTakenOver => ServiceError::KeyTakenOver,
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::AlreadyExists(what) => ServiceError::AlreadyExists(what),
            StoreError::Unavailable(why) => ServiceError::Unavailable(why),
            StoreError::Corrupt(why) | StoreError::Other(why) => ServiceError::Internal(why),
        }
    }
}
