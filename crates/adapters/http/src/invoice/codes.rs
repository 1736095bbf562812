//! Every code the invoice contract answers (`error`, with its number as `code`): its own, the
//! shared ones it answers under their shared name, and its registry. A number's first three
//! digits are the HTTP status it comes with; never rename or renumber one, only add.

use axum::http::StatusCode;

pub use crate::shared::codes::*;

const fn bad(name: &'static str) -> Code {
    Code::new(name, StatusCode::BAD_REQUEST)
}

pub const MISSING_BILLINK_USERNAME: Code = bad("missing_billink_username");
pub const MISSING_BILLINK_ID: Code = bad("missing_billink_id");
pub const MISSING_CATEGORY: Code = bad("missing_category");
pub const MISSING_CUSTOMER_EMAIL: Code = bad("missing_customer_email");
pub const MISSING_CUSTOMER_NAME: Code = bad("missing_customer_name");
pub const MISSING_INVOICE: Code = bad("missing_invoice");
pub const MISSING_LOCALE: Code = bad("missing_locale");
pub const MISSING_MESSAGE: Code = bad("missing_message");
pub const MISSING_FILE: Code = bad("missing_file");
pub const MISSING_FILE_NAME: Code = bad("missing_file_name");
pub const MISSING_ID: Code = bad("missing_id");
pub const MISSING_AUTHOR: Code = bad("missing_author");
pub const MISSING_OUTCOME: Code = bad("missing_outcome");
pub const MISSING_CREDIT_AMOUNT: Code = bad("missing_credit_amount");
pub const MISSING_SHA256: Code = bad("missing_sha256");
pub const INVALID_EMAIL: Code = bad("invalid_email");
pub const UNSUPPORTED_LOCALE: Code = bad("unsupported_locale");
pub const INVALID_BASE64: Code = bad("invalid_base64");
pub const INVALID_ID: Code = bad("invalid_id");
pub const INVALID_AUTHOR: Code = bad("invalid_author");
pub const INVALID_OUTCOME: Code = bad("invalid_outcome");
pub const INVALID_CREDIT_AMOUNT: Code = bad("invalid_credit_amount");
pub const INVOICE_AMOUNT_UNKNOWN: Code = bad("invoice_amount_unknown");
pub const INVALID_SHA256: Code = bad("invalid_sha256");
pub const INVALID_LIMIT: Code = bad("invalid_limit");
pub const INVALID_CURSOR: Code = bad("invalid_cursor");
pub const INVALID_FIELD: Code = bad("invalid_field");
pub const INVALID_CREDENTIALS: Code = Code::new("invalid_credentials", StatusCode::UNAUTHORIZED);
pub const DISPUTE_NOT_FOUND: Code = Code::new("dispute_not_found", StatusCode::NOT_FOUND);
pub const ATTACHMENT_NOT_FOUND: Code = Code::new("attachment_not_found", StatusCode::NOT_FOUND);

/// Which code names a missing field: a required field absent, `null` or blank.
pub const MISSING: &[(&str, Code)] = &[
    ("billinkUsername", MISSING_BILLINK_USERNAME),
    ("billinkId", MISSING_BILLINK_ID),
    ("category", MISSING_CATEGORY),
    ("customerEmail", MISSING_CUSTOMER_EMAIL),
    ("customerName", MISSING_CUSTOMER_NAME),
    ("invoice", MISSING_INVOICE),
    ("locale", MISSING_LOCALE),
    ("message", MISSING_MESSAGE),
    ("file", MISSING_FILE),
    ("fileName", MISSING_FILE_NAME),
    ("id", MISSING_ID),
    ("author", MISSING_AUTHOR),
    ("outcome", MISSING_OUTCOME),
    ("creditAmount", MISSING_CREDIT_AMOUNT),
    ("sha256", MISSING_SHA256),
];

pub static REGISTRY: Registry = Registry {
    contract: "invoice",
    entries: &[
        // 400: the request itself.
        Entry::numbered(MALFORMED_JSON, 40001, "the body is not valid JSON"),
        Entry::numbered(INVALID_BODY, 40002, "not an object, or a field of the wrong JSON type"),
        Entry::numbered(MISSING_BILLINK_USERNAME, 40003, "`billinkUsername` absent, `null` or blank"),
        Entry::numbered(MISSING_BILLINK_ID, 40004, "`billinkId` absent, `null` or blank"),
        Entry::numbered(MISSING_CATEGORY, 40005, "`category` absent, `null` or blank"),
        Entry::numbered(MISSING_CUSTOMER_EMAIL, 40006, "`customerEmail` absent, `null` or blank"),
        Entry::numbered(MISSING_CUSTOMER_NAME, 40007, "`customerName` absent, `null` or blank"),
        Entry::numbered(MISSING_INVOICE, 40008, "`invoice` absent, `null` or blank"),
        Entry::numbered(MISSING_LOCALE, 40009, "`locale` absent, `null` or blank"),
        Entry::numbered(MISSING_MESSAGE, 40010, "`message` absent, `null` or blank"),
        Entry::numbered(MISSING_FILE, 40011, "`fileName` without `file`"),
        Entry::numbered(MISSING_FILE_NAME, 40012, "`file` without `fileName`"),
        Entry::numbered(MISSING_ID, 40013, "`id` absent or `null`"),
        Entry::numbered(MISSING_AUTHOR, 40014, "`author` absent, `null` or blank"),
        Entry::numbered(MISSING_OUTCOME, 40015, "`outcome` absent, `null` or blank"),
        Entry::numbered(MISSING_CREDIT_AMOUNT, 40016, "a partial grant without `creditAmount`"),
        Entry::numbered(MISSING_SHA256, 40017, "`sha256` absent, `null` or blank"),
        Entry::numbered(INVALID_EMAIL, 40020, "`customerEmail` is not an email address"),
        Entry::numbered(UNSUPPORTED_LOCALE, 40021, "`locale` is not one of nl, en, de, fr (optionally with a region)"),
        Entry::numbered(INVALID_BASE64, 40022, "`file` is not base64 (RFC 4648)"),
        Entry::numbered(FILE_TOO_LARGE, 40023, "the file is over 10 MiB"),
        Entry::numbered(UNSUPPORTED_FILE_TYPE, 40024, "the file name's extension is not png, pdf, jpg, jpeg, doc, docx or heic"),
        Entry::numbered(FILE_TYPE_MISMATCH, 40025, "the bytes are not the type the name claims"),
        Entry::numbered(INVALID_FILE_NAME, 40026, "a file name that looks like a path, or with control characters"),
        Entry::numbered(EMPTY_FILE, 40027, "the file has no bytes"),
        Entry::numbered(INVALID_ID, 40028, "`id` is not a positive whole number"),
        Entry::numbered(INVALID_AUTHOR, 40029, "`author` is not client or customer"),
        Entry::numbered(INVALID_OUTCOME, 40030, "`outcome` is not granted, partially_granted or denied"),
        Entry::numbered(INVALID_CREDIT_AMOUNT, 40031, "not a number, or not fitting the outcome and the amount"),
        Entry::numbered(INVOICE_AMOUNT_UNKNOWN, 40032, "no longer produced; a credit on a dispute opened without `amount` is recorded as stated"),
        Entry::numbered(INVALID_AMOUNT, 40033, "`amount` is not a decimal greater than zero"),
        Entry::numbered(INVALID_SHA256, 40034, "`sha256` is not 64 hexadecimal digits"),
        Entry::numbered(INVALID_LIMIT, 40035, "`limit` is not a whole number from 1 to 100"),
        Entry::numbered(INVALID_CURSOR, 40036, "`cursor` is not one this API handed out"),
        Entry::numbered(INVALID_FIELD, 40037, "any other field too long or with control characters"),
        // 401, 403: who is calling.
        Entry::numbered(INVALID_CREDENTIALS, 40101, "unknown username, wrong `billinkId`, or a login that is not a client's"),
        Entry::numbered(FORBIDDEN_ROLE, 40301, "the author may not do this"),
        // 404, 405: what is asked for.
        Entry::numbered(DISPUTE_NOT_FOUND, 40401, "no such dispute for this login, another tenant's dispute too"),
        Entry::numbered(ATTACHMENT_NOT_FOUND, 40402, "no message of the dispute has a file with this `sha256`"),
        Entry::numbered(ROUTE_NOT_FOUND, 40403, "no such call below `/v2/dispute`"),
        Entry::numbered(METHOD_NOT_ALLOWED, 40501, "every call is a POST"),
        // 409, 412: the dispute's state.
        Entry::numbered(DUPLICATE_DISPUTE, 40901, "an open dispute on the same invoice"),
        Entry::numbered(DISPUTE_FINAL, 40902, "the dispute is resolved"),
        Entry::numbered(ILLEGAL_TRANSITION, 40903, "the dispute's state does not allow this"),
        Entry::numbered(CONCURRENT_UPDATE, 40904, "the dispute kept changing under the call; retry"),
        Entry::numbered(VERSION_MISMATCH, 41201, "the dispute changed since the version the call names"),
        // 413, 415: the body as a whole.
        Entry::numbered(PAYLOAD_TOO_LARGE, 41301, "the body is over 16 MiB"),
        Entry::numbered(UNSUPPORTED_MEDIA_TYPE, 41501, "the body is not `application/json`"),
        // 429: the caller's rate limit.
        Entry::numbered(RATE_LIMITED, 42901, "too many calls with this login; `Retry-After` says how many seconds to wait"),
        // 500, 503: ours.
        Entry::numbered(INTERNAL_ERROR, 50001, "a fault of ours, its cause only in the server's log"),
        Entry::numbered(INTEGRITY_VIOLATION, 50002, "the stored dispute fails verification (edited behind the engine's back); not served, not changed"),
        Entry::numbered(SERVICE_UNAVAILABLE, 50301, "the store cannot be reached; retry later"),
        Entry::numbered(REQUEST_TIMEOUT, 50302, "no answer in time; the call may still take effect"),
    ],
};
