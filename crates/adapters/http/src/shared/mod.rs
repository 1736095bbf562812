//! What every contract shares: the one classification of failures into HTTP statuses and stable
//! codes ([`Problem`]), JSON bodies whose rejections become problems, exact decimals and times.

mod body;
mod problem;
mod values;

pub use body::{Contract, JsonBody};
pub use problem::{FieldIssue, Problem};
pub use values::{decimal, format_time, parse_time};
