use crate::{AttachmentError, Role, Status};

/// Everything the domain refuses. Each variant has a stable machine [`code`](DomainError::code)
/// that the contracts put on the wire, so clients can branch on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field is malformed: empty where a value is required, too long, or out of range.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A claim, proposal or settlement amount that must be positive was zero or negative.
    #[error("{field} must be greater than zero")]
    NonPositiveAmount { field: &'static str },
    /// A period whose start is not strictly before its end.
    #[error("{field}: start must be before end")]
    InvertedPeriod { field: &'static str },
    /// None of the evidence id lists carries an id.
    #[error("evidence is required: at least one of proof packs, metering snapshots or settlement applications must be given")]
    EvidenceRequired,
    /// The command is not legal in the dispute's current status.
    #[error("cannot {action} a dispute that is {from}")]
    IllegalTransition { from: Status, action: &'static str },
    /// The dispute is resolved, withdrawn or expired and can no longer change.
    #[error("the dispute is {0} and can no longer change")]
    Final(Status),
    /// The actor's role may not perform this action.
    #[error("the {role} role may not {action} a dispute")]
    RoleNotPermitted { role: Role, action: &'static str },
    /// The opener tried to answer its own dispute.
    #[error("the opener of a dispute cannot respond to it")]
    OpenerCannotRespond,
    /// Someone of the opener's side, but not the opener, tried to withdraw a dispute.
    #[error("only the actor that opened a dispute may withdraw it")]
    NotOpener,
    /// A settlement or proposal amount is outside `0 ..= claimed`, or disagrees with the outcome.
    #[error("{0}")]
    SettlementOutOfRange(String),
    /// A partial grant came without the amount it grants. Its own variant, so that a contract
    /// can name the missing field its own way; the code is that of any settlement amount that
    /// does not fit.
    #[error("{0}")]
    PartialAmountMissing(String),
    /// Expiry was asked for before the deadline passed.
    #[error("the dispute is not overdue")]
    NotOverdue,
    /// A reminder was asked for outside the reminder window before `respond_by`.
    #[error("no reminder is due: the deadline is not within the reminder window")]
    ReminderNotDue,
    /// The current deadline had its reminder already.
    #[error("the current deadline has had its reminder")]
    AlreadyReminded,
    /// A file refused as an attachment; its own code says why.
    #[error(transparent)]
    Attachment(#[from] AttachmentError),
}

impl DomainError {
    /// The stable code clients see; never rename one, only add.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Invalid { .. } => "validation_failed",
            DomainError::NonPositiveAmount { .. } => "invalid_amount",
            DomainError::InvertedPeriod { .. } => "invalid_period",
            DomainError::EvidenceRequired => "evidence_required",
            DomainError::IllegalTransition { .. } => "illegal_transition",
            DomainError::Final(_) => "dispute_final",
            DomainError::RoleNotPermitted { .. } => "forbidden_role",
            DomainError::OpenerCannotRespond => "opener_cannot_respond",
            DomainError::NotOpener => "not_opener",
            DomainError::SettlementOutOfRange(_) | DomainError::PartialAmountMissing(_) => {
                "invalid_settlement"
            }
            DomainError::NotOverdue => "not_overdue",
            DomainError::ReminderNotDue => "reminder_not_due",
            DomainError::AlreadyReminded => "already_reminded",
            DomainError::Attachment(e) => e.code(),
        }
    }

    /// The field a validation error is about, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DomainError::Invalid { field, .. }
            | DomainError::NonPositiveAmount { field }
            | DomainError::InvertedPeriod { field } => Some(field),
            DomainError::Attachment(e) => Some(e.field()),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
