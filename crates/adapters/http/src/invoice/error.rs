//! The invoice contract's errors: `{"code": <number>, "message": "...", "error": "<name>"}`, as
//! the provider's PHP backend answers them, with a stable name and number per failure.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use disputes_domain::DomainError;
use disputes_ports::ServiceError;
use serde_json::json;

use axum::http::HeaderMap;

use crate::shared::{Contract, ErrorShape, Problem};

/// Every error name this contract answers with, and its number. A number's first three digits
/// are the HTTP status it comes with. Never rename or renumber one; only add.
const CODES: &[(&str, u32)] = &[
    // 400: the request itself.
    ("malformed_json", 40001),
    ("invalid_body", 40002),
    ("missing_billink_username", 40003),
    ("missing_billink_id", 40004),
    ("missing_category", 40005),
    ("missing_customer_email", 40006),
    ("missing_customer_name", 40007),
    ("missing_invoice", 40008),
    ("missing_locale", 40009),
    ("missing_message", 40010),
    ("missing_file", 40011),
    ("missing_file_name", 40012),
    ("missing_id", 40013),
    ("missing_author", 40014),
    ("missing_outcome", 40015),
    ("missing_credit_amount", 40016),
    ("missing_sha256", 40017),
    ("invalid_email", 40020),
    ("unsupported_locale", 40021),
    ("invalid_base64", 40022),
    ("file_too_large", 40023),
    ("unsupported_file_type", 40024),
    ("file_type_mismatch", 40025),
    ("invalid_file_name", 40026),
    ("empty_file", 40027),
    ("invalid_id", 40028),
    ("invalid_author", 40029),
    ("invalid_outcome", 40030),
    ("invalid_credit_amount", 40031),
    // No longer produced: a credit on a dispute about the whole invoice is recorded as stated
    // (`Dispute::settle`). Kept, as every code is.
    ("invoice_amount_unknown", 40032),
    ("invalid_amount", 40033),
    ("invalid_sha256", 40034),
    ("invalid_limit", 40035),
    ("invalid_cursor", 40036),
    ("invalid_field", 40037),
    // 401, 403: who is calling.
    ("invalid_credentials", 40101),
    ("forbidden_role", 40301),
    // 404, 405: what is asked for.
    ("dispute_not_found", 40401),
    ("attachment_not_found", 40402),
    ("route_not_found", 40403),
    ("method_not_allowed", 40501),
    // 409, 412: the dispute's state.
    ("duplicate_dispute", 40901),
    ("dispute_final", 40902),
    ("illegal_transition", 40903),
    ("concurrent_update", 40904),
    ("version_mismatch", 41201),
    // 413, 415: the body as a whole.
    ("payload_too_large", 41301),
    ("unsupported_media_type", 41501),
    // 429: the caller's rate limit (with Retry-After).
    ("rate_limited", 42901),
    // 500, 503: ours.
    ("internal_error", 50001),
    ("service_unavailable", 50301),
    ("request_timeout", 50302),
];

/// The number of an error name. A name missing from [`CODES`] (a shared code no invoice call
/// produces today) still gets a stable number: its status followed by `00`.
pub(super) fn code_of(name: &str, status: StatusCode) -> u32 {
    CODES
        .iter()
        .find(|(known, _)| *known == name)
        .map_or(u32::from(status.as_u16()) * 100, |(_, code)| *code)
}

/// The contract marker for shared extractors.
#[derive(Debug)]
pub struct Invoice;

impl Contract for Invoice {
    type Error = InvoiceError;
}

/// An error of this contract. It holds the shared [`Problem`] and renames what the shared layer
/// names in general terms (`not_found`, `validation_failed` about a field) to what this
/// contract's clients branch on.
#[derive(Debug)]
pub struct InvoiceError(Problem);

impl InvoiceError {
    /// A 400 named `name`.
    pub(super) fn bad_request(name: &'static str, message: impl Into<String>) -> Self {
        InvoiceError(Problem::new(StatusCode::BAD_REQUEST, name, message))
    }

    pub(super) fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        InvoiceError(Problem::new(status, name, message))
    }

    fn renamed(self) -> Problem {
        let p = self.0;
        let name = match p.code {
            "not_found" => "dispute_not_found",
            "unauthorized" => "invalid_credentials",
            "invalid_settlement" => "invalid_credit_amount",
            "validation_failed" | "invalid_amount" => {
                match p.details.first().map(|d| d.field.as_str()) {
                    Some("customerEmail") => "invalid_email",
                    Some("locale") => "unsupported_locale",
                    Some("cursor") => "invalid_cursor",
                    Some("limit") => "invalid_limit",
                    Some("creditAmount") => "invalid_credit_amount",
                    Some("amount") => "invalid_amount",
                    _ => "invalid_field",
                }
            }
            other => other,
        };
        Problem { code: name, ..p }
    }
}

impl From<Problem> for InvoiceError {
    fn from(p: Problem) -> Self {
        InvoiceError(p)
    }
}

impl From<ServiceError> for InvoiceError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Domain(e) => e.into(),
            other => InvoiceError(other.into()),
        }
    }
}

impl From<DomainError> for InvoiceError {
    fn from(e: DomainError) -> Self {
        match e {
            // The domain refuses a partial grant without an amount; this contract calls the
            // amount `creditAmount` and has a name of its own for its absence.
            DomainError::PartialAmountMissing(_) => InvoiceError::bad_request(
                "missing_credit_amount",
                "creditAmount is required when the outcome is partially_granted",
            ),
            other => InvoiceError(other.into()),
        }
    }
}

impl IntoResponse for InvoiceError {
    fn into_response(self) -> Response {
        let p = self.renamed();
        let body = json!({
            "code": code_of(p.code, p.status),
            "message": p.message,
            "error": p.code,
        });
        let mut response = (p.status, Json(body)).into_response();
        p.add_headers(&mut response);
        response
    }
}

impl ErrorShape for Invoice {
    fn render(_: &HeaderMap, problem: Problem) -> Response {
        InvoiceError(problem).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_numbers_are_unique_and_numbers_start_with_their_status() {
        let names: HashSet<_> = CODES.iter().map(|(name, _)| name).collect();
        let numbers: HashSet<_> = CODES.iter().map(|(_, code)| code).collect();
        assert_eq!(names.len(), CODES.len());
        assert_eq!(numbers.len(), CODES.len());
        for (name, code) in CODES {
            let status = code / 100;
            assert!(
                StatusCode::from_u16(status as u16)
                    .is_ok_and(|s| s.is_client_error() || s.is_server_error()),
                "{name}: {code}"
            );
        }
        assert_eq!(code_of("missing_category", StatusCode::BAD_REQUEST), 40005);
        assert_eq!(code_of("never_heard_of", StatusCode::CONFLICT), 40900);
    }

    #[test]
    fn general_problems_are_renamed_by_the_field_they_are_about() {
        let renamed = |p: Problem| InvoiceError::from(p).renamed().code;
        assert_eq!(
            renamed(Problem::field("customerEmail", "bad")),
            "invalid_email"
        );
        assert_eq!(
            renamed(Problem::field("locale", "bad")),
            "unsupported_locale"
        );
        assert_eq!(
            renamed(Problem::field("invoice", "too long")),
            "invalid_field"
        );
        assert_eq!(renamed(Problem::not_found()), "dispute_not_found");
        assert_eq!(renamed(Problem::unauthenticated()), "invalid_credentials");
        let attachment = DomainError::from(disputes_domain::AttachmentError::Empty);
        assert_eq!(renamed(attachment.into()), "empty_file");
    }
}
