use axum::extract::rejection::JsonRejection;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use disputes_domain::{AttachmentError, DomainError};
use disputes_ports::ServiceError;

use super::codes::{self, Code};

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldIssue {
    pub field: String,
    pub issue: String,
}

/// A failure, classified once: its [`Code`] (a stable name and the HTTP status), a message for
/// people and the fields at fault. Each contract renders it in its own error shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: Code,
    pub message: String,
    pub details: Vec<FieldIssue>,
    /// Seconds after which the same request may succeed, sent as `Retry-After`.
    pub retry_after: Option<u32>,
}

impl Problem {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.code.status
    }

    /// A 400 about named fields.
    pub fn invalid(issues: Vec<FieldIssue>) -> Self {
        let message = issues
            .iter()
            .map(|i| format!("{}: {}", i.field, i.issue))
            .collect::<Vec<_>>()
            .join("; ");
        Problem {
            details: issues,
            ..Problem::new(codes::VALIDATION_FAILED, message)
        }
    }

    /// A 400 about one field.
    pub fn field(field: impl Into<String>, issue: impl Into<String>) -> Self {
        Problem::invalid(vec![FieldIssue {
            field: field.into(),
            issue: issue.into(),
        }])
    }

    /// A value the domain refused while a request was read, as a 400 about its field worded
    /// like [`Problem::field`] (the issue without the field's name in front); any other domain
    /// error as usual.
    pub fn refused_field(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, reason } => Problem::field(field, reason),
            other => other.into(),
        }
    }

    /// The same problem under a more specific stable code.
    pub fn with_code(self, code: Code) -> Self {
        Problem { code, ..self }
    }

    pub fn unauthenticated() -> Self {
        Problem::new(codes::UNAUTHORIZED, "missing or invalid credentials")
    }

    /// 409: another request with the same `Idempotency-Key` holds it.
    pub fn key_in_flight() -> Self {
        Problem {
            retry_after: Some(1),
            ..Problem::new(
                codes::IDEMPOTENCY_KEY_IN_FLIGHT,
                "a request with this Idempotency-Key is still being processed; retry shortly",
            )
        }
    }

    /// Puts on `response`, the problem rendered in a contract's shape, what the problem adds
    /// beyond the body: `Retry-After` when it has one, and its [`Code`] as an extension, which
    /// `/metrics` counts.
    pub fn annotate(&self, response: &mut Response) {
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(self.code);
    }

    pub fn not_found() -> Self {
        Problem::new(codes::NOT_FOUND, "no such dispute")
    }

    /// A fault of ours. The cause goes to the log; the caller learns nothing of it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Problem::new(codes::INTERNAL_ERROR, "an internal error occurred")
    }
}

/// The code of a domain refusal: its name is the domain's own ([`DomainError::code`]), its
/// status says whose move it is (the request's, the caller's role's, the dispute's state's).
fn domain_code(e: &DomainError) -> Code {
    let code = match e {
        DomainError::Invalid { .. } => codes::VALIDATION_FAILED,
        DomainError::NonPositiveAmount { .. } => codes::INVALID_AMOUNT,
        DomainError::InvertedPeriod { .. } => codes::INVALID_PERIOD,
        DomainError::EvidenceRequired => codes::EVIDENCE_REQUIRED,
        DomainError::SettlementOutOfRange(_) | DomainError::PartialAmountMissing(_) => {
            codes::INVALID_SETTLEMENT
        }
        DomainError::Attachment(AttachmentError::InvalidName) => codes::INVALID_FILE_NAME,
        DomainError::Attachment(AttachmentError::UnsupportedType { .. }) => {
            codes::UNSUPPORTED_FILE_TYPE
        }
        DomainError::Attachment(AttachmentError::Empty) => codes::EMPTY_FILE,
        DomainError::Attachment(AttachmentError::TooLarge { .. }) => codes::FILE_TOO_LARGE,
        DomainError::Attachment(AttachmentError::TypeMismatch { .. }) => codes::FILE_TYPE_MISMATCH,
        DomainError::RoleNotPermitted { .. } => codes::FORBIDDEN_ROLE,
        DomainError::OpenerCannotRespond => codes::OPENER_CANNOT_RESPOND,
        DomainError::NotOpener => codes::NOT_OPENER,
        DomainError::IllegalTransition { .. } => codes::ILLEGAL_TRANSITION,
        DomainError::Final(_) => codes::DISPUTE_FINAL,
        DomainError::NotOverdue => codes::NOT_OVERDUE,
        DomainError::ReminderNotDue => codes::REMINDER_NOT_DUE,
        DomainError::AlreadyReminded => codes::ALREADY_REMINDED,
    };
    // The domain names its refusals; the catalogue must agree (a unit test meets every one).
    debug_assert_eq!(code.name, e.code());
    code
}

impl From<DomainError> for Problem {
    fn from(e: DomainError) -> Self {
        let details = e
            .field()
            .map(|field| FieldIssue {
                field: field.to_owned(),
                issue: e.to_string(),
            })
            .into_iter()
            .collect();
        Problem {
            details,
            ..Problem::new(domain_code(&e), e.to_string())
        }
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Domain(e) => e.into(),
            ServiceError::NotFound => Problem::not_found(),
            ServiceError::Duplicate { existing } => Problem {
                details: vec![FieldIssue {
                    field: "existingDisputeId".into(),
                    issue: existing.to_string(),
                }],
                ..Problem::new(codes::DUPLICATE_DISPUTE, e.to_string())
            },
            ServiceError::StaleVersion { .. } => {
                Problem::new(codes::VERSION_MISMATCH, e.to_string())
            }
            ServiceError::Conflict => Problem::new(codes::CONCURRENT_UPDATE, e.to_string()),
            ServiceError::KeyTakenOver => Problem::key_in_flight(),
            ServiceError::AlreadyExists(_) => Problem::new(codes::ALREADY_EXISTS, e.to_string()),
            ServiceError::UnknownReason { .. } => Problem {
                details: vec![FieldIssue {
                    field: "notes.reasonId".into(),
                    issue: e.to_string(),
                }],
                ..Problem::new(codes::UNKNOWN_REASON, e.to_string())
            },
            ServiceError::Unauthenticated => Problem::unauthenticated(),
            ServiceError::Unavailable(cause) => {
                tracing::error!(error = %cause, "store unavailable");
                Problem::new(
                    codes::SERVICE_UNAVAILABLE,
                    "the service is temporarily unavailable; retry later",
                )
            }
            ServiceError::Internal(cause) => Problem::internal(&cause),
            // The service logged the tenant, dispute and entry; the caller learns only that
            // this dispute cannot be trusted, not how it was damaged.
            ServiceError::IntegrityViolation { .. } => Problem::new(
                codes::INTEGRITY_VIOLATION,
                "this dispute failed integrity verification and is not served; the operator has been alerted",
            ),
        }
    }
}

impl From<JsonRejection> for Problem {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Problem::new(
                codes::UNSUPPORTED_MEDIA_TYPE,
                "the body must be JSON, sent with Content-Type: application/json",
            ),
            JsonRejection::JsonSyntaxError(e) => Problem::new(
                codes::MALFORMED_JSON,
                format!(
                    "the body is not valid JSON: {}",
                    serde_message(&e.body_text())
                ),
            ),
            JsonRejection::JsonDataError(e) => Problem::new(
                codes::INVALID_BODY,
                format!(
                    "the body does not have the expected shape: {}",
                    e.body_text()
                ),
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Problem::new(
                    codes::PAYLOAD_TOO_LARGE,
                    "the body is larger than this contract accepts",
                )
            }
            other => Problem::new(codes::INVALID_BODY, other.body_text()),
        }
    }
}

/// axum prefixes serde's message (which names the field and position) with its own sentence;
/// our message has its own, so only serde's part is kept.
fn serde_message(text: &str) -> &str {
    text.split_once("JSON: ")
        .or_else(|| text.split_once("target type: "))
        .map_or(text, |(_, serde)| serde)
}

#[cfg(test)]
mod tests {
    use disputes_domain::{FileType, Role, Status};

    use super::*;

    /// Every refusal of the domain, one of each kind.
    fn every_refusal() -> Vec<DomainError> {
        vec![
            DomainError::Invalid {
                field: "notes",
                reason: "too long".into(),
            },
            DomainError::NonPositiveAmount { field: "amount" },
            DomainError::InvertedPeriod { field: "period" },
            DomainError::EvidenceRequired,
            DomainError::IllegalTransition {
                from: Status::Open,
                action: "accept",
            },
            DomainError::Final(Status::Resolved),
            DomainError::RoleNotPermitted {
                role: Role::Advertiser,
                action: "resolve",
            },
            DomainError::OpenerCannotRespond,
            DomainError::NotOpener,
            DomainError::SettlementOutOfRange("too much".into()),
            DomainError::PartialAmountMissing("none".into()),
            DomainError::NotOverdue,
            DomainError::ReminderNotDue,
            DomainError::AlreadyReminded,
            AttachmentError::InvalidName.into(),
            AttachmentError::UnsupportedType {
                name: "a.exe".into(),
            }
            .into(),
            AttachmentError::Empty.into(),
            AttachmentError::TooLarge { size: 1 }.into(),
            AttachmentError::TypeMismatch {
                file_type: FileType::Png,
            }
            .into(),
        ]
    }

    #[test]
    fn every_domain_refusal_keeps_the_domains_name() {
        for refusal in every_refusal() {
            let name = refusal.code();
            assert_eq!(Problem::from(refusal).code.name, name);
        }
    }
}
