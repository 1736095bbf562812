use super::{FieldIssue, Problem};

/// What a missing field's issue says.
const REQUIRED: &str = "is required";

/// Collects every missing or malformed field of a request, so that one answer names them all:
/// the one collector of every contract. Each contract's wire module checks presence with it
/// first and lets the domain validate values afterwards; the answer is a 400
/// `validation_failed` about every field noted, which a contract may rename (the invoice
/// contract names it by the first missing field).
#[derive(Debug, Default)]
pub struct Issues(Vec<FieldIssue>);

impl Issues {
    pub fn add(&mut self, field: &str, issue: impl Into<String>) {
        self.0.push(FieldIssue {
            field: field.to_owned(),
            issue: issue.into(),
        });
    }

    /// Notes that `field` is missing.
    pub fn missing(&mut self, field: &str) {
        self.add(field, REQUIRED);
    }

    /// Notes `field` as missing when `value` is `None`, and passes the value on.
    pub fn required<'a, T>(&mut self, field: &str, value: Option<&'a T>) -> Option<&'a T> {
        if value.is_none() {
            self.missing(field);
        }
        value
    }

    /// The text of `value`, or a note that `field` is missing when it is absent or blank (a PHP
    /// client sends `""` for a field it has no value for).
    pub fn required_text<'a>(&mut self, field: &str, value: Option<&'a str>) -> Option<&'a str> {
        match value {
            Some(text) if !text.trim().is_empty() => Some(text),
            _ => {
                self.missing(field);
                None
            }
        }
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

    /// Whether `problem` is a collector's answer about missing fields only.
    pub fn is_missing(problem: &Problem) -> bool {
        !problem.details.is_empty() && problem.details.iter().all(|d| d.issue == REQUIRED)
    }
}
