//! Every code the billing contract answers (`o:errorCode`): its own and the shared ones, and its
//! registry.

use axum::http::StatusCode;

pub use crate::shared::codes::*;

pub const MALFORMED_XML: Code = Code::new("malformed_xml", StatusCode::BAD_REQUEST);
pub const XML_DOCTYPE_REFUSED: Code = Code::new("xml_doctype_refused", StatusCode::BAD_REQUEST);
pub const XML_TOO_DEEP: Code = Code::new("xml_too_deep", StatusCode::BAD_REQUEST);
pub const INVALID_PATH: Code = Code::new("invalid_path", StatusCode::BAD_REQUEST);
pub const SETTLEMENT_NOT_FOUND: Code = Code::new("settlement_not_found", StatusCode::NOT_FOUND);

pub static REGISTRY: Registry = Registry {
    contract: "billing",
    entries: &[
        Entry::new(VALIDATION_FAILED, "fields missing or malformed, each named"),
        Entry::new(INVALID_AMOUNT, "an amount that is not a decimal, or not greater than zero"),
        Entry::new(INVALID_SETTLEMENT, "a settlement above the disputed amount or below 0"),
        Entry::new(UNKNOWN_REASON, "a `domainId` and `reasonId` not in the tenant's reason table"),
        Entry::new(MALFORMED_JSON, "the body is not valid JSON"),
        Entry::new(MALFORMED_XML, "the body is not well-formed XML, or not one document (one root element, no text outside it)"),
        Entry::new(XML_DOCTYPE_REFUSED, "the XML declares a document type (no entity is ever expanded)"),
        Entry::new(XML_TOO_DEEP, "XML elements nested too deep"),
        Entry::new(INVALID_BODY, "the body does not have the expected shape"),
        Entry::new(INVALID_QUERY, "a query parameter of the wrong type"),
        Entry::new(INVALID_PATH, "a path segment that cannot be read"),
        Entry::new(UNAUTHORIZED, "no HTTP Basic login, or a wrong one (with `WWW-Authenticate: Basic realm=\"disputes\"`)"),
        Entry::new(FORBIDDEN_ROLE, "the login is not a billing user's"),
        Entry::new(NOT_FOUND, "no such dispute for this tenant, another tenant's dispute too"),
        Entry::new(SETTLEMENT_NOT_FOUND, "the dispute has not been settled"),
        Entry::new(ROUTE_NOT_FOUND, "no such route below `/bcws/webresources/v1.0`"),
        Entry::new(METHOD_NOT_ALLOWED, "the route does not serve the method"),
        Entry::new(DUPLICATE_DISPUTE, "an open dispute covers the same item"),
        Entry::new(DISPUTE_FINAL, "the dispute is settled already"),
        Entry::new(ILLEGAL_TRANSITION, "the dispute's status does not allow this"),
        Entry::new(CONCURRENT_UPDATE, "the dispute kept changing under the request; retry"),
        Entry::new(IDEMPOTENCY_KEY_IN_FLIGHT, "a request with the same `Idempotency-Key` is still running; retry after `Retry-After`"),
        Entry::new(PAYLOAD_TOO_LARGE, "the body is over 1 MiB"),
        Entry::new(UNSUPPORTED_MEDIA_TYPE, "the body is neither JSON nor XML"),
        Entry::new(IDEMPOTENCY_KEY_REUSED, "the `Idempotency-Key` came before with a different request"),
        Entry::new(RATE_LIMITED, "too many requests with this login; retry after `Retry-After`"),
        Entry::new(INTERNAL_ERROR, "a fault of ours, its cause only in the server's log"),
        Entry::new(INTEGRITY_VIOLATION, "the stored dispute fails verification (edited behind the engine's back); not served, not changed"),
        Entry::new(SERVICE_UNAVAILABLE, "the store cannot be reached; retry later"),
        Entry::new(REQUEST_TIMEOUT, "no answer in time; the request may still take effect"),
    ],
};
