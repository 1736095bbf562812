//! The invoice contract's errors: `{"code": <number>, "message": "...", "error": "<name>"}`, as
//! the provider's PHP backend answers them, with a stable name and number per failure.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use disputes_domain::DomainError;
use disputes_ports::ServiceError;
use serde_json::json;

use super::codes::{self, Code, MISSING, REGISTRY};
use crate::shared::{Contract, ErrorShape, Issues, Problem};

/// The number of a code. A code missing from the registry (which its check reports) still gets
/// a stable number: its status followed by `00`.
fn number_of(code: Code) -> u32 {
    REGISTRY
        .entry(code.name)
        .and_then(|entry| entry.number)
        .unwrap_or(u32::from(code.status.as_u16()) * 100)
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
    pub(super) fn new(code: Code, message: impl Into<String>) -> Self {
        InvoiceError(Problem::new(code, message))
    }

    fn renamed(self) -> Problem {
        let p = self.0;
        let field = p.details.first().map(|d| d.field.as_str());
        let code = match p.code {
            codes::NOT_FOUND => codes::DISPUTE_NOT_FOUND,
            codes::UNAUTHORIZED => codes::INVALID_CREDENTIALS,
            codes::INVALID_SETTLEMENT => codes::INVALID_CREDIT_AMOUNT,
            codes::VALIDATION_FAILED if Issues::is_missing(&p) => {
                // Named by the first field missing, in the order the request's fields were
                // checked; the message names them all, in this contract's wording.
                let code = MISSING
                    .iter()
                    .find(|(missing, _)| Some(*missing) == field)
                    .map_or(codes::INVALID_FIELD, |(_, code)| *code);
                let message = p
                    .details
                    .iter()
                    .map(|d| format!("{} {}", d.field, d.issue))
                    .collect::<Vec<_>>()
                    .join("; ");
                return Problem { code, message, ..p };
            }
            codes::VALIDATION_FAILED | codes::INVALID_AMOUNT => match field {
                Some("customerEmail") => codes::INVALID_EMAIL,
                Some("locale") => codes::UNSUPPORTED_LOCALE,
                Some("cursor") => codes::INVALID_CURSOR,
                Some("limit") => codes::INVALID_LIMIT,
                Some("creditAmount") => codes::INVALID_CREDIT_AMOUNT,
                Some("amount") => codes::INVALID_AMOUNT,
                _ => codes::INVALID_FIELD,
            },
            other => other,
        };
        Problem { code, ..p }
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
            DomainError::PartialAmountMissing(_) => InvoiceError::new(
                codes::MISSING_CREDIT_AMOUNT,
                "creditAmount is required when the outcome is partially_granted",
            ),
            other => InvoiceError(other.into()),
        }
    }
}

impl IntoResponse for InvoiceError {
    fn into_response(self) -> Response {
        let p = self.renamed();
        REGISTRY.check(p.code);
        let body = json!({
            "code": number_of(p.code),
            "message": p.message,
            "error": p.code.name,
        });
        let mut response = (p.status(), Json(body)).into_response();
        p.annotate(&mut response);
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
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn codes_have_their_numbers() {
        assert_eq!(number_of(codes::MISSING_CATEGORY), 40005);
        assert_eq!(
            number_of(Code::new("never_heard_of", StatusCode::CONFLICT)),
            40900
        );
    }

    #[test]
    fn general_problems_are_renamed_by_the_field_they_are_about() {
        let renamed = |p: Problem| InvoiceError::from(p).renamed().code.name;
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

    #[test]
    fn missing_fields_are_named_by_the_first_and_worded_together() {
        let mut issues = Issues::default();
        issues.missing("category");
        issues.missing("locale");
        let p = InvoiceError::from(issues.finish().unwrap_err()).renamed();
        assert_eq!(p.code, codes::MISSING_CATEGORY);
        assert_eq!(p.message, "category is required; locale is required");
    }
}
