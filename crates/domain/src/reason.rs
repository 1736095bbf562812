use std::fmt;

use crate::subject::required_text;
use crate::DomainError;

/// Names a reason in a tenant's reason table the way Oracle BRM does: a reason domain
/// (`domainId`, the version of a reason-code domain such as "dispute reasons") and a reason
/// within it (`reasonId`). Both are positive 32-bit numbers, as BRM keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReasonCode {
    domain_id: i32,
    reason_id: i32,
}

impl ReasonCode {
    pub fn new(domain_id: i64, reason_id: i64) -> Result<Self, DomainError> {
        let positive = |field, n: i64| {
            i32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
                DomainError::invalid(
                    field,
                    format!("must be a whole number from 1 to {}", i32::MAX),
                )
            })
        };
        Ok(ReasonCode {
            domain_id: positive("notes.domainId", domain_id)?,
            reason_id: positive("notes.reasonId", reason_id)?,
        })
    }

    pub fn domain_id(self) -> i32 {
        self.domain_id
    }

    pub fn reason_id(self) -> i32 {
        self.reason_id
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "domain {} reason {}", self.domain_id, self.reason_id)
    }
}

/// One entry of a tenant's reason table: a code and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reason {
    code: ReasonCode,
    description: String,
}

impl Reason {
    /// The description is 1 to 255 characters without control characters.
    pub fn new(code: ReasonCode, description: impl Into<String>) -> Result<Self, DomainError> {
        Ok(Reason {
            code,
            description: required_text("description", description, 255)?,
        })
    }

    pub fn code(&self) -> ReasonCode {
        self.code
    }

    pub fn description(&self) -> &str {
        &self.description
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_positive_32_bit_numbers() {
        let code = ReasonCode::new(34, 1).unwrap();
        assert_eq!((code.domain_id(), code.reason_id()), (34, 1));
        assert_eq!(
            ReasonCode::new(0, 1).unwrap_err().field(),
            Some("notes.domainId")
        );
        assert_eq!(
            ReasonCode::new(34, -1).unwrap_err().field(),
            Some("notes.reasonId")
        );
        assert!(ReasonCode::new(i64::from(i32::MAX) + 1, 1).is_err());
        assert!(ReasonCode::new(i64::from(i32::MAX), 1).is_ok());
    }

    #[test]
    fn a_reason_has_a_description() {
        let code = ReasonCode::new(34, 1).unwrap();
        assert!(Reason::new(code, " ").is_err());
        assert_eq!(
            Reason::new(code, "Customer disagrees")
                .unwrap()
                .description(),
            "Customer disagrees"
        );
    }
}
