//! Error codes: the stable name of each failure and the HTTP status it is answered with.
//!
//! The codes every contract may answer are declared here once, as constants that the code
//! producing them names (never a string literal at a call site); a contract's own codes live in
//! its `codes.rs`. Each contract keeps a [`Registry`] of every code it answers, with what the
//! code means (and, for the invoice contract, its number): its renderer checks each answer
//! against it, its docs table is generated from it (a test keeps `docs/contracts/*.md` equal to
//! it), and its OpenAPI error schema lists its names. Never rename a code; only add.

use axum::http::StatusCode;

/// A failure's stable name and the status it comes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub name: &'static str,
    pub status: StatusCode,
}

impl Code {
    pub const fn new(name: &'static str, status: StatusCode) -> Self {
        Code { name, status }
    }
}

const fn bad(name: &'static str) -> Code {
    Code::new(name, StatusCode::BAD_REQUEST)
}

const fn conflict(name: &'static str) -> Code {
    Code::new(name, StatusCode::CONFLICT)
}

// 400: the request itself.
pub const VALIDATION_FAILED: Code = bad("validation_failed");
pub const MALFORMED_JSON: Code = bad("malformed_json");
pub const INVALID_BODY: Code = bad("invalid_body");
pub const INVALID_QUERY: Code = bad("invalid_query");
pub const INVALID_AMOUNT: Code = bad("invalid_amount");
pub const INVALID_PERIOD: Code = bad("invalid_period");
pub const INVALID_SETTLEMENT: Code = bad("invalid_settlement");
pub const EVIDENCE_REQUIRED: Code = bad("evidence_required");
pub const UNKNOWN_REASON: Code = bad("unknown_reason");
pub const INVALID_FILE_NAME: Code = bad("invalid_file_name");
pub const UNSUPPORTED_FILE_TYPE: Code = bad("unsupported_file_type");
pub const EMPTY_FILE: Code = bad("empty_file");
pub const FILE_TOO_LARGE: Code = bad("file_too_large");
pub const FILE_TYPE_MISMATCH: Code = bad("file_type_mismatch");
// 401, 403: who is calling.
pub const UNAUTHORIZED: Code = Code::new("unauthorized", StatusCode::UNAUTHORIZED);
pub const FORBIDDEN_ROLE: Code = Code::new("forbidden_role", StatusCode::FORBIDDEN);
pub const INSUFFICIENT_SCOPE: Code = Code::new("insufficient_scope", StatusCode::FORBIDDEN);
pub const OPENER_CANNOT_RESPOND: Code = Code::new("opener_cannot_respond", StatusCode::FORBIDDEN);
// 404, 405: what is asked for.
pub const NOT_FOUND: Code = Code::new("not_found", StatusCode::NOT_FOUND);
pub const ROUTE_NOT_FOUND: Code = Code::new("route_not_found", StatusCode::NOT_FOUND);
pub const METHOD_NOT_ALLOWED: Code =
    Code::new("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED);
// 409, 412: the dispute's state.
pub const ILLEGAL_TRANSITION: Code = conflict("illegal_transition");
pub const DISPUTE_FINAL: Code = conflict("dispute_final");
pub const NOT_OVERDUE: Code = conflict("not_overdue");
/// The delivery vendor answers a withdrawal by anyone but the opener with 412.
pub const NOT_OPENER: Code = Code::new("not_opener", StatusCode::PRECONDITION_FAILED);
pub const REMINDER_NOT_DUE: Code = conflict("reminder_not_due");
pub const ALREADY_REMINDED: Code = conflict("already_reminded");
pub const DUPLICATE_DISPUTE: Code = conflict("duplicate_dispute");
pub const CONCURRENT_UPDATE: Code = conflict("concurrent_update");
pub const ALREADY_EXISTS: Code = conflict("already_exists");
pub const IDEMPOTENCY_KEY_IN_FLIGHT: Code = conflict("idempotency_key_in_flight");
pub const VERSION_MISMATCH: Code = Code::new("version_mismatch", StatusCode::PRECONDITION_FAILED);
// 413, 415, 422, 429: the body as a whole, the key, the pace.
pub const PAYLOAD_TOO_LARGE: Code = Code::new("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE);
pub const UNSUPPORTED_MEDIA_TYPE: Code =
    Code::new("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE);
pub const IDEMPOTENCY_KEY_REUSED: Code =
    Code::new("idempotency_key_reused", StatusCode::UNPROCESSABLE_ENTITY);
pub const RATE_LIMITED: Code = Code::new("rate_limited", StatusCode::TOO_MANY_REQUESTS);
// 500, 503: ours.
pub const INTERNAL_ERROR: Code = Code::new("internal_error", StatusCode::INTERNAL_SERVER_ERROR);
/// A stored dispute fails verification: the store was edited behind the engine's back.
pub const INTEGRITY_VIOLATION: Code =
    Code::new("integrity_violation", StatusCode::INTERNAL_SERVER_ERROR);
pub const SERVICE_UNAVAILABLE: Code =
    Code::new("service_unavailable", StatusCode::SERVICE_UNAVAILABLE);
pub const REQUEST_TIMEOUT: Code = Code::new("request_timeout", StatusCode::SERVICE_UNAVAILABLE);

/// One code a contract answers, as its clients and its docs see it.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub code: Code,
    /// The invoice contract's number for it (its first three digits are the status); the other
    /// contracts number nothing.
    pub number: Option<u32>,
    /// When a client gets it, in a few words, for the docs table and the OpenAPI document.
    pub means: &'static str,
}

impl Entry {
    pub const fn new(code: Code, means: &'static str) -> Self {
        Entry {
            code,
            number: None,
            means,
        }
    }

    pub const fn numbered(code: Code, number: u32, means: &'static str) -> Self {
        Entry {
            code,
            number: Some(number),
            means,
        }
    }
}

/// Every code one contract answers: the one list its renderer, its docs and its OpenAPI document
/// read.
#[derive(Debug)]
pub struct Registry {
    /// The contract, as its docs page is named (`docs/contracts/{contract}.md`).
    pub contract: &'static str,
    pub entries: &'static [Entry],
}

impl Registry {
    /// The entry of code `name`, when this contract answers it.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.code.name == name)
    }

    /// Whether this contract answers `code`, with that status.
    pub fn answers(&self, code: Code) -> bool {
        self.entry(code.name).is_some_and(|e| e.code == code)
    }

    /// The codes that come with `status`, in the registry's order.
    pub fn with_status(&self, status: StatusCode) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.code.status == status)
    }

    /// Every name, for the OpenAPI document's enumeration of the error code.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.code.name).collect()
    }

    /// `code` as the contract's renderer is about to answer it. A code missing from the registry
    /// is a fault of ours (a failure nobody documented): it fails every test that meets it,
    /// and in a release build it is logged and answered as it is.
    pub fn check(&self, code: Code) {
        if !self.answers(code) {
            tracing::error!(
                contract = self.contract,
                code = code.name,
                status = code.status.as_u16(),
                "an error code missing from the contract's registry"
            );
            debug_assert!(
                false,
                "{} answers {} {}, which its registry lacks",
                self.contract, code.status, code.name
            );
        }
    }

    /// The docs' table of codes: one row per status, each code with what it means.
    #[cfg(test)]
    pub fn markdown(&self) -> String {
        let mut by_status: std::collections::BTreeMap<u16, Vec<String>> = Default::default();
        for entry in self.entries {
            let number = entry.number.map(|n| format!(" ({n})")).unwrap_or_default();
            by_status
                .entry(entry.code.status.as_u16())
                .or_default()
                .push(format!("`{}`{number}: {}", entry.code.name, entry.means));
        }
        let mut table = String::from("| status | code: when |\n|---|---|\n");
        for (status, codes) in by_status {
            table.push_str(&format!("| {status} | {} |\n", codes.join("<br>")));
        }
        table
    }
}

/// Where a contract's docs page keeps the table [`Registry::markdown`] makes.
#[cfg(test)]
const TABLE_START: &str = "<!-- error codes: generated from the contract's registry (codes.rs); `DISPUTES_WRITE_DOCS=1 cargo test -p disputes-http error_tables` rewrites it -->";
#[cfg(test)]
const TABLE_END: &str = "<!-- end of error codes -->";

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::PathBuf;

    use super::*;

    const MALFORMED_XML_OF_BILLING: Code = crate::billing::codes::MALFORMED_XML;

    /// Every contract's registry: names and numbers unique, numbers prefixed by their status.
    fn registries() -> [&'static Registry; 3] {
        [
            &crate::delivery::CODES,
            &crate::invoice::CODES,
            &crate::billing::CODES,
        ]
    }

    #[test]
    fn names_and_numbers_are_unique_and_numbers_start_with_their_status() {
        for registry in registries() {
            let names: HashSet<_> = registry.entries.iter().map(|e| e.code.name).collect();
            assert_eq!(names.len(), registry.entries.len(), "{}", registry.contract);
            let numbers: Vec<_> = registry.entries.iter().filter_map(|e| e.number).collect();
            let unique: HashSet<_> = numbers.iter().collect();
            assert_eq!(unique.len(), numbers.len(), "{}", registry.contract);
            for entry in registry.entries {
                if let Some(number) = entry.number {
                    assert_eq!(
                        number / 100,
                        u32::from(entry.code.status.as_u16()),
                        "{}",
                        entry.code.name
                    );
                }
                assert!(!entry.means.is_empty(), "{}", entry.code.name);
            }
        }
    }

    #[test]
    #[should_panic(expected = "which its registry lacks")]
    fn a_code_missing_from_the_registry_fails_the_test_that_meets_it() {
        crate::delivery::CODES.check(Code::new("made_up", StatusCode::CONFLICT));
    }

    #[test]
    fn a_code_is_known_by_its_name_and_status() {
        let registry = &crate::delivery::CODES;
        assert!(registry.answers(NOT_FOUND));
        assert!(!registry.answers(Code::new("not_found", StatusCode::GONE)));
        assert!(!registry.answers(MALFORMED_XML_OF_BILLING));
    }

    /// The docs table of each contract is its registry's. With `DISPUTES_WRITE_DOCS=1` the test
    /// writes the table instead of failing.
    #[test]
    fn error_tables_in_the_docs_are_the_registries() {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../docs/contracts");
        for registry in registries() {
            let path = docs.join(format!("{}.md", registry.contract));
            let page = std::fs::read_to_string(&path).unwrap();
            let (before, rest) = page
                .split_once(TABLE_START)
                .unwrap_or_else(|| panic!("{} has no `{TABLE_START}`", path.display()));
            let (table, after) = rest
                .split_once(TABLE_END)
                .unwrap_or_else(|| panic!("{} has no `{TABLE_END}`", path.display()));
            let expected = format!("\n{}", registry.markdown());
            if table == expected {
                continue;
            }
            if std::env::var_os("DISPUTES_WRITE_DOCS").is_some() {
                std::fs::write(
                    &path,
                    format!("{before}{TABLE_START}{expected}{TABLE_END}{after}"),
                )
                .unwrap();
            } else {
                panic!(
                    "the error table of {} is not its registry's; run \
                     `DISPUTES_WRITE_DOCS=1 cargo test -p disputes-http error_tables`",
                    path.display()
                );
            }
        }
    }
}
