//! What every contract shares: the one classification of failures into HTTP statuses and stable
//! codes ([`Problem`]), JSON bodies whose rejections become problems, the [`Issues`] of a
//! request, exact decimals and times.

mod body;
mod caller;
mod cursor;
pub mod idempotency;
mod issues;
mod problem;
mod values;

pub use body::{Contract, JsonBody};
pub use caller::{authenticated, Authenticates, Caller, ErrorShape};
pub use cursor::{cursor_text, parse_cursor};
pub use idempotency::keyed;
pub use issues::Issues;
pub use problem::{FieldIssue, Problem};
pub use values::{decimal, format_time, parse_time};
