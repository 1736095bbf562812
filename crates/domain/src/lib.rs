//! The dispute engine's core: the [`Dispute`] aggregate, its state machine and every invariant of
//! SPEC §1. This crate does no I/O and knows no wire format; contracts and stores translate to and
//! from these types at their own edges.

#[macro_use]
mod named_enum;

mod attachment;
mod billing_record;
mod claim;
mod contact;
mod digest;
mod dispute;
mod error;
mod evidence;
mod ids;
mod message;
mod period;
mod reason;
mod state;
mod subject;
mod timeline;

pub use attachment::{Attachment, AttachmentError, FileType};
pub use billing_record::{BillingRecord, CommentAuthor};
pub use claim::{BillingTerms, Claim, NoteStatus, Quantity, TaxTreatment, Unit};
pub use contact::{Agent, Email, Locale};
pub use digest::Digest;
pub use dispute::{
    Adjustment, LedgerOutcome, PartyRole, ResolutionKind, AMBIGUOUS_ORIGINAL_APPLICATION,
    NO_ORIGINAL_APPLICATION,
};
pub use dispute::{
    Credit, Decision, Dispute, DisputeParts, DisputePolicy, NewDispute, OpenDispute, OpenerReply,
    Outcome, Remedy, Resolution, Response, Settlement, Stance, Status, MAX_NOTES,
};
pub use error::DomainError;
pub use evidence::{EvidenceBundle, EvidenceItem, EvidenceKind};
pub use ids::{Actor, ActorId, DisputeId, Role, TenantId, Version};
pub use message::{
    CollectionHold, Message, MessageText, NewMessage, MAX_COLLECTION_HOLD, MAX_MESSAGE,
};
pub use period::{canonical_time, utc_digits, Period, Timestamp};
pub use reason::{Reason, ReasonCode};
pub use state::STATE_FORMAT;
pub use subject::{
    BillingSubject, BillingTarget, BillingTargetKind, DeliverySubject, InvoiceSubject, Subject,
    SubjectKind, UsageEvents,
};
pub use timeline::{EntryKind, Seal, TimelineEntry, TimelineError};
