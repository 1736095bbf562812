use axum::extract::rejection::JsonRejection;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use disputes_domain::DomainError;
use disputes_ports::ServiceError;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldIssue {
    pub field: String,
    pub issue: String,
}

/// A failure, classified once: its HTTP status, a stable machine code, a message for people and
/// the fields at fault. Each contract renders it in its own error shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldIssue>,
    /// Seconds after which the same request may succeed, sent as `Retry-After`.
    pub retry_after: Option<u32>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
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
            ..Problem::new(StatusCode::BAD_REQUEST, "validation_failed", message)
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
    pub fn with_code(self, code: &'static str) -> Self {
        Problem { code, ..self }
    }

    pub fn unauthenticated() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid credentials",
        )
    }

    /// 409: another request with the same `Idempotency-Key` holds it.
    pub fn key_in_flight() -> Self {
        Problem {
            retry_after: Some(1),
            ..Problem::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_flight",
                "a request with this Idempotency-Key is still being processed; retry shortly",
            )
        }
    }

    /// Puts the headers this problem calls for on `response`, the problem rendered in a
    /// contract's shape.
    pub fn add_headers(&self, response: &mut Response) {
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
    }

    pub fn not_found() -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not_found", "no such dispute")
    }

    /// A fault of ours. The cause goes to the log; the caller learns nothing of it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "an internal error occurred",
        )
    }
}

impl From<DomainError> for Problem {
    fn from(e: DomainError) -> Self {
        let status = match &e {
            DomainError::Invalid { .. }
            | DomainError::NonPositiveAmount { .. }
            | DomainError::InvertedPeriod { .. }
            | DomainError::EvidenceRequired
            | DomainError::SettlementOutOfRange(_)
            | DomainError::PartialAmountMissing(_)
            | DomainError::Attachment(_) => StatusCode::BAD_REQUEST,
            DomainError::RoleNotPermitted { .. } | DomainError::OpenerCannotRespond => {
                StatusCode::FORBIDDEN
            }
            DomainError::IllegalTransition { .. }
            | DomainError::Final(_)
            | DomainError::NotOverdue
            | DomainError::ReminderNotDue
            | DomainError::AlreadyReminded => StatusCode::CONFLICT,
        };
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
            ..Problem::new(status, e.code(), e.to_string())
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
                ..Problem::new(StatusCode::CONFLICT, "duplicate_dispute", e.to_string())
            },
            ServiceError::StaleVersion { .. } => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "version_mismatch",
                e.to_string(),
            ),
            ServiceError::Conflict => {
                Problem::new(StatusCode::CONFLICT, "concurrent_update", e.to_string())
            }
            ServiceError::KeyTakenOver => Problem::key_in_flight(),
            ServiceError::AlreadyExists(_) => {
                Problem::new(StatusCode::CONFLICT, "already_exists", e.to_string())
            }
            ServiceError::UnknownReason { .. } => Problem {
                details: vec![FieldIssue {
                    field: "notes.reasonId".into(),
                    issue: e.to_string(),
                }],
                ..Problem::new(StatusCode::BAD_REQUEST, "unknown_reason", e.to_string())
            },
            ServiceError::Unauthenticated => Problem::unauthenticated(),
            ServiceError::Unavailable(cause) => {
                tracing::error!(error = %cause, "store unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "the service is temporarily unavailable; retry later",
                )
            }
            ServiceError::Internal(cause) => Problem::internal(&cause),
        }
    }
}

impl From<JsonRejection> for Problem {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON, sent with Content-Type: application/json",
            ),
            JsonRejection::JsonSyntaxError(e) => Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!(
                    "the body is not valid JSON: {}",
                    serde_message(&e.body_text())
                ),
            ),
            JsonRejection::JsonDataError(e) => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!(
                    "the body does not have the expected shape: {}",
                    e.body_text()
                ),
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the body is larger than this contract accepts",
                )
            }
            other => Problem::new(StatusCode::BAD_REQUEST, "invalid_body", other.body_text()),
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
