use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// The tenant a dispute belongs to: an org, a merchant account, a billing brand. Shown as its slug
/// (`acme-media`): 1 to 63 characters of lowercase ASCII letters, digits and `-`, not starting
/// or ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// Validates a tenant slug.
    pub fn new(slug: impl Into<String>) -> Result<Self, DomainError> {
        let slug = slug.into();
        let well_formed = (1..=63).contains(&slug.len())
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !slug.starts_with('-')
            && !slug.ends_with('-');
        if !well_formed {
            return Err(DomainError::invalid(
                "tenant",
                "must be 1-63 lowercase letters, digits or '-', not starting or ending with '-'",
            ));
        }
        Ok(TenantId(slug))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A dispute's number, handed out by the store's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DisputeId(i64);

impl DisputeId {
    /// Ids are positive; the store's sequence starts at 1.
    pub fn new(id: i64) -> Result<Self, DomainError> {
        if id < 1 {
            return Err(DomainError::invalid("id", "must be a positive integer"));
        }
        Ok(DisputeId(id))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for DisputeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for DisputeId {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let id = s
            .parse::<i64>()
            .map_err(|_| DomainError::invalid("id", "must be a positive integer"))?;
        DisputeId::new(id)
    }
}

/// The optimistic-concurrency version of a dispute: 1 when opened, +1 on every change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(i64);

impl Version {
    pub const FIRST: Version = Version(1);

    pub fn new(v: i64) -> Result<Self, DomainError> {
        if v < 1 {
            return Err(DomainError::invalid(
                "version",
                "must be a positive integer",
            ));
        }
        Ok(Version(v))
    }

    pub fn get(self) -> i64 {
        self.0
    }

    pub(crate) fn next(self) -> Version {
        Version(self.0 + 1)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Who a party is within its tenant (a developer id, a username). 1 to 128 characters, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActorId(String);

impl ActorId {
    /// The longest id, in characters.
    pub const MAX_LEN: usize = 128;

    pub fn new(id: impl Into<String>) -> Result<Self, DomainError> {
        let id = id.into();
        if id.trim().is_empty()
            || id.chars().count() > Self::MAX_LEN
            || id.chars().any(char::is_control)
        {
            return Err(DomainError::invalid(
                "actor",
                "must be 1-128 characters without control characters",
            ));
        }
        Ok(ActorId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

named_enum! {
    /// The part a party plays. The opener side (advertiser, customer) claims; the provider side
    /// (operator, client, billing) answers and settles. `System` is the engine itself (deadlines).
    pub enum Role in "role" {
        Advertiser => "advertiser",
        Operator => "operator",
        Client => "client",
        Customer => "customer",
        Billing => "billing",
        System => "system",
    }
}

impl Role {
    /// The provider side answers disputes and settles them.
    pub fn is_provider(self) -> bool {
        matches!(self, Role::Operator | Role::Client | Role::Billing)
    }
}

/// A party acting on a dispute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    pub id: ActorId,
    pub role: Role,
}

impl Actor {
    pub fn new(id: ActorId, role: Role) -> Self {
        Actor { id, role }
    }

    /// The engine acting on its own, for deadlines.
    pub fn system() -> Self {
        Actor {
            id: ActorId("disputes-engine".to_owned()),
            role: Role::System,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_slugs_are_validated() {
        assert!(TenantId::new("acme-media").is_ok());
        assert!(TenantId::new("a").is_ok());
        for bad in ["", "-a", "a-", "Acme", "a b", "é", &"a".repeat(64)] {
            assert!(TenantId::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ids_and_versions_are_positive() {
        assert!(DisputeId::new(0).is_err());
        assert_eq!("42".parse::<DisputeId>().unwrap().get(), 42);
        assert!("4x".parse::<DisputeId>().is_err());
        assert!(Version::new(0).is_err());
        assert_eq!(Version::FIRST.next().get(), 2);
    }

    #[test]
    fn roles_round_trip() {
        for &role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("admin".parse::<Role>().is_err());
    }
}
