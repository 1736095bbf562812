//! How to reach a person: an email address, a language, an agent's name and address.

use std::fmt;

use crate::subject::required_text;
use crate::DomainError;

/// An email address as mail servers accept it: `local@domain`, the local part of ASCII letters,
/// digits and the symbols RFC 5322 allows unquoted (dots only between characters), the domain of
/// at least two dot-separated labels (letters, digits and inner hyphens) ending in an alphabetic
/// top-level label. Quoted local parts, IP-literal domains and non-ASCII addresses are refused:
/// notification mail must reach the address, and those forms rarely do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// RFC 5321's limits.
const MAX_EMAIL: usize = 254;
const MAX_LOCAL_PART: usize = 64;
const MAX_LABEL: usize = 63;

impl Email {
    /// Validates an address; `field` names it in the error.
    pub fn new(field: &'static str, address: impl Into<String>) -> Result<Self, DomainError> {
        let address = address.into();
        if address.is_empty() {
            return Err(DomainError::invalid(field, "must not be empty"));
        }
        if !is_email(&address) {
            return Err(DomainError::invalid(
                field,
                format!("{address:?} is not a valid email address"),
            ));
        }
        Ok(Email(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_email(address: &str) -> bool {
    if address.len() > MAX_EMAIL {
        return false;
    }
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let local_ok = (1..=MAX_LOCAL_PART).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=MAX_LABEL).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    local_ok && domain_ok
}

/// The languages disputes are conducted in.
const LANGUAGES: [&str; 4] = ["nl", "en", "de", "fr"];

/// The language a dispute is conducted in: `nl`, `en`, `de` or `fr`, optionally with a region
/// (`nl-NL`, `fr-BE`). Kept in the canonical BCP 47 spelling: the language lowercase, the region
/// uppercase, joined by `-` (`nl_nl` becomes `nl-NL`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Locale(String);

impl Locale {
    pub fn new(locale: impl AsRef<str>) -> Result<Self, DomainError> {
        let text = locale.as_ref();
        let (language, region) = match text.split_once(['-', '_']) {
            Some((language, region)) => (language, Some(region)),
            None => (text, None),
        };
        let language = language.to_ascii_lowercase();
        let region_ok =
            region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_alphabetic()));
        if !LANGUAGES.contains(&language.as_str()) || !region_ok {
            return Err(DomainError::invalid(
                "locale",
                format!(
                    "{text:?} is not supported: use one of {}, optionally with a region such as nl-NL",
                    LANGUAGES.join(", ")
                ),
            ));
        }
        Ok(Locale(match region {
            Some(region) => format!("{language}-{}", region.to_ascii_uppercase()),
            None => language,
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The language alone (`nl` for `nl-BE`).
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person on the provider's side who handles a tenant's disputes (the invoice contract's
/// `owner`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Agent {
    name: String,
    email: Email,
}

impl Agent {
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Result<Self, DomainError> {
        Ok(Agent {
            name: required_text("owner.name", name, 256)?,
            email: Email::new("owner.email", email)?,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn email(&self) -> &Email {
        &self.email
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordinary_addresses_are_accepted() {
        for ok in [
            "jan@example.nl",
            "j.de.vries+billink@mail.example.co.uk",
            "o'brien@example.ie",
            "x@a-b.de",
            "123@456.com",
        ] {
            assert_eq!(Email::new("e", ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn malformed_addresses_are_refused_and_name_their_field() {
        for bad in [
            "",
            "jan",
            "jan@",
            "@example.nl",
            "jan@example",
            "jan@@example.nl",
            "jan@exa mple.nl",
            " jan@example.nl",
            "jan@example.nl ",
            ".jan@example.nl",
            "jan.@example.nl",
            "j..an@example.nl",
            "jan@-example.nl",
            "jan@example-.nl",
            "jan@example..nl",
            "jan@example.n1",
            "jan@example.c",
            "jän@example.nl",
            "jan@exämple.nl",
            "jan\n@example.nl",
            "\"jan\"@example.nl",
            &format!("{}@example.nl", "a".repeat(65)),
            &format!("a@{}.nl", "b".repeat(64)),
        ] {
            let err = Email::new("customerEmail", bad).unwrap_err();
            assert_eq!(err.field(), Some("customerEmail"), "{bad:?}");
        }
    }

    #[test]
    fn locales_are_the_four_languages_with_an_optional_region() {
        for (given, kept) in [
            ("nl", "nl"),
            ("nl-NL", "nl-NL"),
            ("nl_be", "nl-BE"),
            ("EN-gb", "en-GB"),
            ("de", "de"),
            ("fr-FR", "fr-FR"),
        ] {
            let locale = Locale::new(given).unwrap();
            assert_eq!(locale.as_str(), kept);
            assert_eq!(locale.language(), &kept[..2]);
        }
        for bad in [
            "", "es", "nl-", "nl-NLD", "nl-1A", "dutch", "nl NL", "en-GB-x",
        ] {
            assert_eq!(
                Locale::new(bad).unwrap_err().field(),
                Some("locale"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn an_agent_has_a_name_and_an_address() {
        let agent = Agent::new("Sanne Bakker", "sanne@billink.example").unwrap();
        assert_eq!(agent.name(), "Sanne Bakker");
        assert_eq!(agent.email().as_str(), "sanne@billink.example");
        assert_eq!(
            Agent::new(" ", "s@b.nl").unwrap_err().field(),
            Some("owner.name")
        );
        assert_eq!(
            Agent::new("S", "nope").unwrap_err().field(),
            Some("owner.email")
        );
    }

    proptest! {
        #[test]
        fn generated_addresses_round_trip(
            local in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]",
            host in "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?",
            tld in "[a-z]{2,6}",
        ) {
            prop_assume!(!local.contains(".."));
            let address = format!("{local}@{host}.{tld}");
            let email = Email::new("e", address.clone()).unwrap();
            prop_assert_eq!(email.as_str(), address);
        }
    }
}
