use crate::{DomainError, Period};

/// Checks a required identifier or short text: not blank, at most `max` characters, no control
/// characters.
pub(crate) fn required_text(
    field: &'static str,
    value: impl Into<String>,
    max: usize,
) -> Result<String, DomainError> {
    let value = value.into();
    if value.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value)
}

named_enum! {
    /// Which kind of thing a dispute is about; each contract serves one kind.
    pub enum SubjectKind in "subject kind" {
        Delivery => "delivery",
        Invoice => "invoice",
        BillItem => "bill_item",
    }
}

/// An ad campaign's delivery on some screens during a period.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliverySubject {
    campaign_id: String,
    screen_ids: Vec<String>,
    substrate_id: Option<String>,
    period: Period,
}

impl DeliverySubject {
    /// At least one screen; screens keep the order given, repeats are dropped.
    pub fn new(
        campaign_id: impl Into<String>,
        screen_ids: Vec<String>,
        substrate_id: Option<String>,
        period: Period,
    ) -> Result<Self, DomainError> {
        let campaign_id = required_text("affectedSurface.campaignId", campaign_id, 128)?;
        let mut screens: Vec<String> = Vec::with_capacity(screen_ids.len());
        for screen in screen_ids {
            let screen = required_text("affectedSurface.screenIds", screen, 128)?;
            if !screens.contains(&screen) {
                screens.push(screen);
            }
        }
        if screens.is_empty() {
            return Err(DomainError::invalid(
                "affectedSurface.screenIds",
                "must name at least one screen",
            ));
        }
        let substrate_id = substrate_id
            .map(|s| required_text("affectedSurface.substrateId", s, 128))
            .transpose()?;
        Ok(DeliverySubject {
            campaign_id,
            screen_ids: screens,
            substrate_id,
            period,
        })
    }

    pub fn campaign_id(&self) -> &str {
        &self.campaign_id
    }

    pub fn screen_ids(&self) -> &[String] {
        &self.screen_ids
    }

    pub fn substrate_id(&self) -> Option<&str> {
        self.substrate_id.as_deref()
    }

    pub fn period(&self) -> Period {
        self.period
    }
}

/// A shop's invoice that its customer disputes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InvoiceSubject {
    pub invoice: String,
    pub customer_name: String,
    pub customer_email: String,
    pub category: String,
    pub locale: String,
}

/// One item on a telecom bill.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BillItemSubject {
    pub item_id: String,
    pub account_id: String,
    pub bill_unit_id: Option<String>,
    pub bill_id: Option<String>,
}

/// What is disputed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Delivery(DeliverySubject),
    Invoice(InvoiceSubject),
    BillItem(BillItemSubject),
}

impl Subject {
    pub fn kind(&self) -> SubjectKind {
        match self {
            Subject::Delivery(_) => SubjectKind::Delivery,
            Subject::Invoice(_) => SubjectKind::Invoice,
            Subject::BillItem(_) => SubjectKind::BillItem,
        }
    }

    /// Two subjects are the same for the one-open-dispute rule: the same invoice, the same bill
    /// item, or the same campaign with overlapping periods and at least one common screen.
    pub fn conflicts_with(&self, other: &Subject) -> bool {
        match (self, other) {
            (Subject::Delivery(a), Subject::Delivery(b)) => {
                a.campaign_id == b.campaign_id
                    && a.period.overlaps(&b.period)
                    && a.screen_ids.iter().any(|s| b.screen_ids.contains(s))
            }
            (Subject::Invoice(a), Subject::Invoice(b)) => a.invoice == b.invoice,
            (Subject::BillItem(a), Subject::BillItem(b)) => a.item_id == b.item_id,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn period(a: i64, b: i64) -> Period {
        Period::new(
            "p",
            Utc.timestamp_opt(a, 0).unwrap(),
            Utc.timestamp_opt(b, 0).unwrap(),
        )
        .unwrap()
    }

    fn delivery(campaign: &str, screens: &[&str], p: Period) -> Subject {
        Subject::Delivery(
            DeliverySubject::new(
                campaign,
                screens.iter().map(|s| s.to_string()).collect(),
                None,
                p,
            )
            .unwrap(),
        )
    }

    #[test]
    fn delivery_needs_a_campaign_and_a_screen() {
        assert!(DeliverySubject::new("", vec!["s".into()], None, period(0, 1)).is_err());
        assert!(DeliverySubject::new("c", vec![], None, period(0, 1)).is_err());
        assert!(DeliverySubject::new("c", vec![" ".into()], None, period(0, 1)).is_err());
        let s = DeliverySubject::new(
            "c",
            vec!["a".into(), "a".into(), "b".into()],
            None,
            period(0, 1),
        )
        .unwrap();
        assert_eq!(s.screen_ids(), ["a", "b"]);
    }

    #[test]
    fn deliveries_conflict_on_campaign_overlap_and_a_shared_screen() {
        let base = delivery("c1", &["s1", "s2"], period(0, 10));
        assert!(base.conflicts_with(&delivery("c1", &["s2"], period(5, 15))));
        assert!(!base.conflicts_with(&delivery("c2", &["s2"], period(5, 15))));
        assert!(!base.conflicts_with(&delivery("c1", &["s3"], period(5, 15))));
        assert!(!base.conflicts_with(&delivery("c1", &["s1"], period(10, 15))));
    }
}
