use std::fmt;

use rust_decimal::Decimal;

use crate::period::to_micros;
use crate::state::{Facts, StateText};
use crate::{BillingRecord, DomainError, ReasonCode, Timestamp};

/// What a quantity is counted in: an ISO 4217 currency (`EUR`, three capital letters) or a
/// delivery unit (`impressions`, `plays`, `seconds`: lowercase letters and `_`), or whole
/// invoices (see [`Unit::whole_invoice`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unit(String);

/// How a claim about a whole invoice counts: in invoices. Stores keep this very text, so it
/// never changes.
const WHOLE_INVOICE: &str = "invoice";

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

    /// The unit of a claim about an invoice as a whole, when the opener did not say how much
    /// the invoice is: the claim is one invoice, and what it is worth is unknown to us.
    pub fn whole_invoice() -> Self {
        Unit(WHOLE_INVOICE.to_owned())
    }

    /// True for [`Unit::whole_invoice`].
    pub fn is_whole_invoice(&self) -> bool {
        self.0 == WHOLE_INVOICE
    }

    /// The currency of invoices (euros: the invoice contract's provider is Dutch). A disputed
    /// part of an invoice is given in it, and so is a credit on a whole-invoice claim.
    pub fn invoice_currency() -> Self {
        Unit(INVOICE_CURRENCY.to_owned())
    }
}

/// See [`Unit::invoice_currency`].
const INVOICE_CURRENCY: &str = "EUR";

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

    /// A claim about an invoice as a whole, whose amount the opener did not give: one invoice.
    pub fn whole_invoice() -> Self {
        Quantity {
            amount: Decimal::ONE,
            unit: Unit::whole_invoice(),
        }
    }

    /// True for [`Quantity::whole_invoice`]: the whole invoice, its amount unknown.
    pub fn is_whole_invoice(&self) -> bool {
        self.unit.is_whole_invoice()
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

named_enum! {
    /// The status of a billing dispute's note. Oracle BRM codes it as a number on the wire:
    /// see [`code`](NoteStatus::code).
    pub enum NoteStatus in "notes.status" {
        /// 100: the note has no status.
        NotSet => "not_set",
        /// 101.
        Resolved => "resolved",
        /// 102.
        Unresolved => "unresolved",
    }
}

impl NoteStatus {
    /// BRM's code: 100 `NOT_SET`, 101 `RESOLVED`, 102 `UNRESOLVED`.
    pub fn code(self) -> u16 {
        match self {
            NoteStatus::NotSet => 100,
            NoteStatus::Resolved => 101,
            NoteStatus::Unresolved => 102,
        }
    }

    /// The status with BRM's code `code`.
    pub fn from_code(code: i64) -> Result<Self, DomainError> {
        NoteStatus::ALL
            .iter()
            .copied()
            .find(|s| i64::from(s.code()) == code)
            .ok_or_else(|| {
                DomainError::invalid(
                    "notes.status",
                    format!("{code} is not a note status: use 100 (not set), 101 (resolved) or 102 (unresolved)"),
                )
            })
    }
}

/// The extra terms a billing claim carries (Oracle BRM's item dispute, SPEC §4).
///
/// The claim's amount is always positive: it is how much of the item is disputed. `credit` says
/// which way it moves the account (BRM `amountIsCredit`, a credit by default) and `note_amount`
/// is BRM's note amount, kept as it was sent: Billing Care's examples sign it as the account
/// books it (`-amount` for a credit), but Billing Care takes any, so it is the note's record,
/// not a second say on the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BillingTerms {
    pub tax: TaxTreatment,
    /// The disputed amount is to be credited to the account (BRM `amountIsCredit`).
    pub credit: bool,
    /// Why the item is disputed: a code of the tenant's reason table.
    pub reason: Option<ReasonCode>,
    /// The status of the dispute's note.
    pub note_status: NoteStatus,
    /// The note's amount as it was sent (scale kept), when it was sent.
    pub note_amount: Option<Decimal>,
    /// When the adjustment takes effect, when the opener said.
    pub effective: Option<Timestamp>,
    /// The adjustment as a percentage of what is disputed (Billing Care's `percent` of an event
    /// dispute: 5 is 5 %), kept as it was sent beside the amount, which stays the claim.
    pub percent: Option<Decimal>,
}

/// What the opener claims: an amount of a unit, plus billing terms on billing disputes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Claim {
    pub quantity: Quantity,
    pub billing: Option<BillingTerms>,
    /// On a billing claim, what Billing Care sent beyond the terms, when it sent any.
    pub record: Option<BillingRecord>,
}

impl Claim {
    pub fn new(quantity: Quantity) -> Self {
        Claim {
            quantity,
            billing: None,
            record: None,
        }
    }

    /// A billing claim: money, with its billing terms. The effective time is kept in whole
    /// microseconds, as every stored time is.
    pub fn billed(quantity: Quantity, mut terms: BillingTerms) -> Result<Self, DomainError> {
        if !quantity.unit().is_currency() {
            return Err(DomainError::invalid(
                "unit",
                "a billing claim is an amount of money",
            ));
        }
        if let Some(percent) = terms.percent {
            if percent <= Decimal::ZERO || percent > Decimal::ONE_HUNDRED {
                return Err(DomainError::invalid(
                    "percent",
                    "must be above 0 and at most 100",
                ));
            }
        }
        terms.effective = terms.effective.map(to_micros);
        Ok(Claim {
            quantity,
            billing: Some(terms),
            record: None,
        })
    }

    /// This billing claim with Billing Care's `record`; an empty one is none.
    pub fn with_record(mut self, record: BillingRecord) -> Self {
        self.record = (!record.is_empty()).then_some(record);
        self
    }

    pub fn amount(&self) -> Decimal {
        self.quantity.amount()
    }

    /// True for a claim about a whole invoice whose amount was not given.
    pub fn is_whole_invoice(&self) -> bool {
        self.quantity.is_whole_invoice()
    }
}

impl Facts for Quantity {
    fn facts(&self, name: &str, out: &mut StateText) {
        let Quantity { amount, unit } = self;
        out.decimal(&format!("{name}.amount"), *amount);
        out.text(&format!("{name}.unit"), unit.as_str());
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
    fn the_whole_invoice_is_one_invoice_as_stores_keep_it() {
        let whole = Quantity::whole_invoice();
        assert!(whole.is_whole_invoice());
        assert_eq!(whole.amount(), Decimal::ONE);
        assert_eq!(whole.unit().as_str(), "invoice");
        assert!(!whole.unit().is_currency());
        // What a store reads back is the same notion.
        let read_back = Quantity::new(1.into(), Unit::new("invoice").unwrap()).unwrap();
        assert_eq!(read_back, whole);
        assert!(Claim::new(read_back).is_whole_invoice());
        let euros = Quantity::new(1.into(), Unit::new("EUR").unwrap()).unwrap();
        assert!(!Claim::new(euros).is_whole_invoice());
        assert!(!Unit::new("impressions").unwrap().is_whole_invoice());
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

    fn terms(credit: bool, note_amount: Option<&str>) -> BillingTerms {
        BillingTerms {
            tax: TaxTreatment::Excluded,
            credit,
            reason: Some(ReasonCode::new(34, 1).unwrap()),
            note_status: NoteStatus::Resolved,
            note_amount: note_amount.map(|a| a.parse().unwrap()),
            effective: None,
            percent: None,
        }
    }

    fn money(amount: &str) -> Quantity {
        Quantity::new(amount.parse().unwrap(), Unit::new("XXX").unwrap()).unwrap()
    }

    #[test]
    fn a_billing_note_keeps_its_amount_as_it_was_sent() {
        // The seed: 5 disputed, a credit, noted as -5; Billing Care takes any other note too.
        for (credit, note) in [
            (true, "-5"),
            (true, "-5.00"),
            (false, "5"),
            (true, "5"),
            (true, "-2.5"),
        ] {
            let claim = Claim::billed(money("5"), terms(credit, Some(note))).unwrap();
            assert_eq!(claim.amount().to_string(), "5");
            assert_eq!(
                claim.billing.unwrap().note_amount.unwrap().to_string(),
                note,
                "{credit} {note}"
            );
        }
        assert!(Claim::billed(money("5"), terms(true, None)).is_ok());
    }

    #[test]
    fn a_percentage_is_above_0_and_at_most_100() {
        for (percent, ok) in [
            ("5", true),
            ("100", true),
            ("0.5", true),
            ("0", false),
            ("-1", false),
            ("100.01", false),
        ] {
            let mut t = terms(true, None);
            t.percent = Some(percent.parse().unwrap());
            let claim = Claim::billed(money("5"), t);
            assert_eq!(claim.is_ok(), ok, "{percent}");
            if let Err(e) = claim {
                assert_eq!(e.field(), Some("percent"));
            }
        }
    }

    #[test]
    fn a_billing_claim_is_money_and_keeps_whole_microseconds() {
        let plays = Quantity::new(5.into(), Unit::new("plays").unwrap()).unwrap();
        assert!(Claim::billed(plays, terms(true, None)).is_err());
        let mut t = terms(true, None);
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456789Z")
            .unwrap()
            .to_utc();
        t.effective = Some(at);
        let claim = Claim::billed(money("5"), t).unwrap();
        assert_eq!(
            claim.billing.unwrap().effective.unwrap().to_rfc3339(),
            "2026-01-02T03:04:05.123456+00:00"
        );
    }

    #[test]
    fn note_statuses_have_brm_codes() {
        for &status in NoteStatus::ALL {
            assert_eq!(NoteStatus::from_code(status.code().into()).unwrap(), status);
        }
        assert_eq!(NoteStatus::from_code(101).unwrap(), NoteStatus::Resolved);
        assert_eq!(NoteStatus::NotSet.code(), 100);
        assert_eq!(NoteStatus::Unresolved.code(), 102);
        for bad in [0, 99, 103, -101] {
            assert!(NoteStatus::from_code(bad).is_err(), "{bad}");
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
