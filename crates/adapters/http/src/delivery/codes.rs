//! Every code the delivery contract answers (`error.code` in its envelope): its registry.

pub use crate::shared::codes::*;

pub static REGISTRY: Registry = Registry {
    contract: "delivery",
    entries: &[
        Entry::new(MALFORMED_JSON, "the body is not valid JSON"),
        Entry::new(INVALID_BODY, "the body is not an object, or a field has the wrong JSON type"),
        Entry::new(VALIDATION_FAILED, "fields missing or malformed, each named in `details`, `Idempotency-Key` too"),
        Entry::new(INVALID_QUERY, "a query parameter of the wrong type"),
        Entry::new(INVALID_PERIOD, "a period whose start is not before its end"),
        Entry::new(INVALID_AMOUNT, "an amount that is not a decimal, or not greater than zero"),
        Entry::new(INVALID_SETTLEMENT, "a settled or proposed amount outside 0 to the claimed amount, or not fitting the outcome"),
        Entry::new(EVIDENCE_REQUIRED, "no proof pack, metering snapshot or settlement application given"),
        Entry::new(UNAUTHORIZED, "no `Authorization: Bearer` key, or an unknown one"),
        Entry::new(FORBIDDEN_ROLE, "the key's role may not do this"),
        Entry::new(INSUFFICIENT_SCOPE, "the key lacks the scope the call needs: `audit:read` to read, `settlement:write` to change (or `*`)"),
        Entry::new(OPENER_CANNOT_RESPOND, "the opener answered its own dispute"),
        Entry::new(NOT_FOUND, "no such dispute for this tenant, another tenant's dispute too"),
        Entry::new(ROUTE_NOT_FOUND, "no such route below `/v1`"),
        Entry::new(METHOD_NOT_ALLOWED, "the route does not serve the method"),
        Entry::new(ILLEGAL_TRANSITION, "the dispute's status does not allow this"),
        Entry::new(DISPUTE_FINAL, "the dispute is resolved, withdrawn or expired"),
        Entry::new(NOT_OPENER, "a withdrawal by an actor other than the dispute's `openedBy`"),
        Entry::new(DUPLICATE_DISPUTE, "an open dispute covers the same campaign, screens and period; `details` names it"),
        Entry::new(CONCURRENT_UPDATE, "the dispute kept changing under the request; retry"),
        Entry::new(IDEMPOTENCY_KEY_IN_FLIGHT, "a request with the same `Idempotency-Key` is still running; retry after `Retry-After`"),
        Entry::new(VERSION_MISMATCH, "`If-Match` names a version that is no longer current"),
        Entry::new(PAYLOAD_TOO_LARGE, "the body is over 1 MiB"),
        Entry::new(UNSUPPORTED_MEDIA_TYPE, "the body is not `application/json`"),
        Entry::new(IDEMPOTENCY_KEY_REUSED, "the `Idempotency-Key` came before with a different request"),
        Entry::new(RATE_LIMITED, "too many requests with this key; retry after `Retry-After`"),
        Entry::new(INTERNAL_ERROR, "a fault of ours, its cause only in the server's log"),
        Entry::new(INTEGRITY_VIOLATION, "the stored dispute fails verification (edited behind the engine's back); not served, not changed"),
        Entry::new(SERVICE_UNAVAILABLE, "the store cannot be reached; retry later"),
        Entry::new(REQUEST_TIMEOUT, "no answer in time; the request may still take effect, so check before repeating it"),
    ],
};
