use super::{FieldIssue, Problem};

/// Collects every missing or malformed field of a request, so that one answer names them all.
/// Each contract's wire module checks presence with it first and lets the domain validate values
/// afterwards.
#[derive(Debug, Default)]
pub struct Issues(Vec<FieldIssue>);

impl Issues {
    pub fn add(&mut self, field: &str, issue: impl Into<String>) {
        self.0.push(FieldIssue {
            field: field.to_owned(),
            issue: issue.into(),
        });
    }

    /// Notes `field` as missing when `value` is `None`, and passes the value on.
    pub fn required<'a, T>(&mut self, field: &str, value: Option<&'a T>) -> Option<&'a T> {
        if value.is_none() {
            self.add(field, "is required");
        }
        value
    }

    /// Keeps the value of `result`, or notes its problem's field issues.
    pub fn absorb<T>(&mut self, result: Result<T, Problem>) -> Option<T> {
        result.map_err(|p| self.0.extend(p.details)).ok()
    }

    /// A 400 naming every issue noted, if there is one.
    pub fn finish(self) -> Result<(), Problem> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Problem::invalid(self.0))
        }
    }
}
