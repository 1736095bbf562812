//! Nothing to export: this package holds the end-to-end tests in `tests/` (run with
//! `cargo test -p disputes-e2e`), the contract snapshots and the layering test.
