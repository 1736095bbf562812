//! What every contract shares: the one classification of failures into stable codes and HTTP
//! statuses ([`Problem`], [`codes`]), JSON bodies whose rejections become problems, the [`Issues`] of a
//! request, the page size, exact decimals and times.

mod body;
mod caller;
pub mod codes;
mod cursor;
mod decimal;
pub mod export;
pub mod idempotency;
mod issues;
mod page;
mod problem;
pub mod schema;
mod time;

pub use body::{Contract, JsonBody};
pub use caller::{authenticated, Authenticates, Caller, ErrorShape};
pub use cursor::{cursor_text, parse_cursor};
pub use decimal::decimal;
pub use idempotency::keyed;
pub use issues::Issues;
pub use page::page_size;
pub use problem::{FieldIssue, Problem};
pub use time::{format_time, parse_time};
