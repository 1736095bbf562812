use std::fmt;

use rust_decimal::Decimal;

use crate::DomainError;

/// What a quantity is counted in: an ISO 4217 currency (`EUR`, three capital letters) or a
/// delivery unit (`impressions`, `plays`, `seconds`: lowercase letters and `_`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unit(String);

impl Unit {
    pub fn new(unit: impl Into<String>) -> Result<Self, DomainError> {
        let unit = unit.into();
        let currency = unit.len() == 3 && unit.bytes().all(|b| b.is_ascii_uppercase());
        let delivery_unit = (1..=32).contains(&unit.len())
            && unit.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !(currency || delivery_unit) {
            return Err(DomainError::invalid(
                "unit",
                "must be an ISO 4217 currency code (EUR) or a lowercase delivery unit (impressions)",
            ));
        }
        Ok(Unit(unit))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for an ISO 4217 currency code.
    pub fn is_currency(&self) -> bool {
        self.0.len() == 3 && self.0.bytes().all(|b| b.is_ascii_uppercase())
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A positive amount of some unit. The amount keeps its scale: `5.00` stays `5.00`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quantity {
    amount: Decimal,
    unit: Unit,
}

impl Quantity {
    /// Refuses zero and negative amounts.
    pub fn new(amount: Decimal, unit: Unit) -> Result<Self, DomainError> {
        if amount <= Decimal::ZERO {
            return Err(DomainError::NonPositiveAmount { field: "amount" });
        }
        Ok(Quantity { amount, unit })
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn unit(&self) -> &Unit {
        &self.unit
    }
}

named_enum! {
    /// How tax relates to a billing claim (Oracle BRM's `includeTax` and tax-only disputes).
    pub enum TaxTreatment in "tax" {
        Included => "included",
        Excluded => "excluded",
        Only => "only",
    }
}

/// The extra terms a billing claim carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BillingTerms {
    pub tax: TaxTreatment,
    /// The disputed amount is to be credited to the account (BRM `amountIsCredit`).
    pub credit: bool,
}

/// What the opener claims: an amount of a unit, plus billing terms on billing disputes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Claim {
    pub quantity: Quantity,
    pub billing: Option<BillingTerms>,
}

impl Claim {
    pub fn new(quantity: Quantity) -> Self {
        Claim {
            quantity,
            billing: None,
        }
    }

    pub fn amount(&self) -> Decimal {
        self.quantity.amount()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    #[test]
    fn units_are_currencies_or_delivery_units() {
        assert!(Unit::new("EUR").unwrap().is_currency());
        assert!(!Unit::new("impressions").unwrap().is_currency());
        assert!(Unit::new("play_seconds").is_ok());
        for bad in ["", "Eur", "EURO", "imp ressions", "€", &"a".repeat(33)] {
            assert!(Unit::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_quantity_is_positive_and_keeps_its_scale() {
        let eur = Unit::new("EUR").unwrap();
        assert!(Quantity::new(Decimal::ZERO, eur.clone()).is_err());
        assert!(Quantity::new(Decimal::from(-5), eur.clone()).is_err());
        let q = Quantity::new("5.00".parse().unwrap(), eur).unwrap();
        assert_eq!(q.amount().to_string(), "5.00");
    }

    #[test]
    fn the_spec_examples_round_trip_exactly() {
        for text in [
            "1234.5678",
            "5",
            "-5",
            "12345678901234567.89",
            "0.0000000001",
        ] {
            assert_eq!(Decimal::from_str(text).unwrap().to_string(), text);
        }
    }

    proptest! {
        #[test]
        fn decimals_round_trip_through_text(mantissa in any::<i64>(), scale in 0u32..=18) {
            let d = Decimal::new(mantissa, scale);
            let back = Decimal::from_str(&d.to_string()).unwrap();
            prop_assert_eq!(back, d);
            prop_assert_eq!(back.scale(), d.scale());
        }
    }
}
