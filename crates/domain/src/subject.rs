use crate::{DomainError, Email, Locale, Period};

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
    /// The longest campaign, screen or substrate id, in characters.
    pub const MAX_ID: usize = 128;

    /// `text` as a list filter's campaign id (its error about `field`): only text a campaign id
    /// can be (not blank, at most [`Self::MAX_ID`] characters, no control characters), so no
    /// store is ever asked to compare a column with something no dispute holds.
    pub fn campaign_filter(field: &'static str, text: String) -> Result<String, DomainError> {
        required_text(field, text, Self::MAX_ID)
    }

    /// At least one screen; screens keep the order given, repeats are dropped.
    pub fn new(
        campaign_id: impl Into<String>,
        screen_ids: Vec<String>,
        substrate_id: Option<String>,
        period: Period,
    ) -> Result<Self, DomainError> {
        let campaign_id = required_text("affectedSurface.campaignId", campaign_id, Self::MAX_ID)?;
        let mut screens: Vec<String> = Vec::with_capacity(screen_ids.len());
        for screen in screen_ids {
            let screen = required_text("affectedSurface.screenIds", screen, Self::MAX_ID)?;
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
            .map(|s| required_text("affectedSurface.substrateId", s, Self::MAX_ID))
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

/// A shop's invoice that its customer disputes, with whom to write to about it and in which
/// language.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InvoiceSubject {
    invoice: String,
    customer_name: String,
    customer_email: Email,
    category: String,
    locale: Locale,
}

impl InvoiceSubject {
    /// The longest invoice number, in characters.
    pub const MAX_INVOICE: usize = 128;
    /// The longest category, in characters.
    pub const MAX_CATEGORY: usize = 128;
    /// The longest customer name, in characters.
    pub const MAX_CUSTOMER_NAME: usize = 256;

    /// Every part is required: the invoice number, the customer's name and a valid email address,
    /// the category, and a [`Locale`]. Errors name the invoice contract's fields.
    pub fn new(
        invoice: impl Into<String>,
        customer_name: impl Into<String>,
        customer_email: impl Into<String>,
        category: impl Into<String>,
        locale: impl AsRef<str>,
    ) -> Result<Self, DomainError> {
        Ok(InvoiceSubject {
            invoice: required_text("invoice", invoice, Self::MAX_INVOICE)?,
            customer_name: required_text("customerName", customer_name, Self::MAX_CUSTOMER_NAME)?,
            customer_email: Email::new("customerEmail", customer_email)?,
            category: required_text("category", category, Self::MAX_CATEGORY)?,
            locale: Locale::new(locale)?,
        })
    }

    /// The invoice number: two disputes of a tenant about the same number conflict.
    pub fn invoice(&self) -> &str {
        &self.invoice
    }

    pub fn customer_name(&self) -> &str {
        &self.customer_name
    }

    pub fn customer_email(&self) -> &Email {
        &self.customer_email
    }

    pub fn category(&self) -> &str {
        &self.category
    }

    pub fn locale(&self) -> &Locale {
        &self.locale
    }
}

/// One item on a telecom bill, named by its billing system's ids (Oracle BRM POIDs such as
/// `0.0.0.1+-item-cycle_forward+268139`), which are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BillItemSubject {
    item_id: String,
    /// The account the item is billed to, when the opener said: Billing Care needs only the
    /// amount to open a dispute, and the account only with the notes.
    account_id: Option<String>,
    bill_unit_id: Option<String>,
    bill_id: Option<String>,
}

impl BillItemSubject {
    /// The longest id, in characters: long enough for any POID (database number, type path and
    /// id), short enough to index.
    pub const MAX_ID: usize = 255;

    /// `text` as a lookup's item or account id (its error about `field`): only text such an id
    /// can be, as [`DeliverySubject::campaign_filter`] for campaigns.
    pub fn id_filter(field: &'static str, text: String) -> Result<String, DomainError> {
        required_text(field, text, Self::MAX_ID)
    }

    /// The item is required; its account, bill unit and bill are optional. Each id is 1 to 255
    /// characters without control characters; nothing else about its form is assumed, since
    /// each billing system spells its ids its own way.
    pub fn new(
        item_id: impl Into<String>,
        account_id: Option<String>,
        bill_unit_id: Option<String>,
        bill_id: Option<String>,
    ) -> Result<Self, DomainError> {
        let optional = |field, id: Option<String>| {
            id.map(|id| required_text(field, id, Self::MAX_ID))
                .transpose()
        };
        Ok(BillItemSubject {
            item_id: required_text("itemId", item_id, Self::MAX_ID)?,
            account_id: optional("notes.accountId", account_id)?,
            bill_unit_id: optional("notes.billUnitId", bill_unit_id)?,
            bill_id: optional("notes.billId", bill_id)?,
        })
    }

    pub fn item_id(&self) -> &str {
        &self.item_id
    }

    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    /// The item in words, for a notice: `bill item <item> of account <account>`, or without
    /// the account when none was given.
    pub fn summary(&self) -> String {
        match &self.account_id {
            Some(account) => format!("bill item {} of account {account}", self.item_id),
            None => format!("bill item {}", self.item_id),
        }
    }

    pub fn bill_unit_id(&self) -> Option<&str> {
        self.bill_unit_id.as_deref()
    }

    pub fn bill_id(&self) -> Option<&str> {
        self.bill_id.as_deref()
    }
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
    fn a_bill_item_needs_an_item_and_maybe_an_account() {
        let ok = BillItemSubject::new(
            "0.0.0.1+-item-cycle_forward+268139",
            Some("0.0.0.1+-account+242856".into()),
            Some("0.0.0.1+-billinfo+244392".into()),
            None,
        )
        .unwrap();
        assert_eq!(ok.item_id(), "0.0.0.1+-item-cycle_forward+268139");
        assert_eq!(ok.bill_unit_id(), Some("0.0.0.1+-billinfo+244392"));
        assert_eq!(ok.bill_id(), None);
        for (item, account, unit) in [
            ("", "a", None),
            ("i", " ", None),
            ("i", "a", Some("")),
            ("i\n", "a", None),
            (&*"i".repeat(256), "a", None),
        ] {
            let unit = unit.map(str::to_owned);
            assert!(
                BillItemSubject::new(item, Some(account.into()), unit.clone(), None).is_err(),
                "{item:?} {account:?} {unit:?} accepted"
            );
        }
        let field = |r: Result<BillItemSubject, DomainError>| r.unwrap_err().field();
        assert_eq!(
            field(BillItemSubject::new("i", Some(String::new()), None, None)),
            Some("notes.accountId")
        );
        assert_eq!(
            BillItemSubject::new("i", None, None, None)
                .unwrap()
                .account_id(),
            None
        );
    }

    #[test]
    fn bill_items_conflict_on_the_item_alone() {
        let item = |i: &str, a: &str| {
            Subject::BillItem(BillItemSubject::new(i, Some(a.into()), None, None).unwrap())
        };
        assert!(item("i1", "a1").conflicts_with(&item("i1", "a2")));
        assert!(!item("i1", "a1").conflicts_with(&item("i2", "a1")));
    }

    #[test]
    fn an_invoice_subject_validates_every_part_and_names_its_field() {
        let ok = InvoiceSubject::new("INV-1", "Jan", "jan@example.nl", "damaged", "nl_nl").unwrap();
        assert_eq!(ok.invoice(), "INV-1");
        assert_eq!(ok.customer_email().as_str(), "jan@example.nl");
        assert_eq!(ok.locale().as_str(), "nl-NL");
        let field = |r: Result<InvoiceSubject, DomainError>| r.unwrap_err().field();
        let new = |i, n, e, c, l| InvoiceSubject::new(i, n, e, c, l);
        assert_eq!(field(new("", "J", "j@e.nl", "c", "nl")), Some("invoice"));
        assert_eq!(
            field(new("I", " ", "j@e.nl", "c", "nl")),
            Some("customerName")
        );
        assert_eq!(field(new("I", "J", "j@", "c", "nl")), Some("customerEmail"));
        assert_eq!(field(new("I", "J", "j@e.nl", "", "nl")), Some("category"));
        assert_eq!(field(new("I", "J", "j@e.nl", "c", "es")), Some("locale"));
        assert_eq!(field(new("I\n", "J", "j@e.nl", "c", "nl")), Some("invoice"));
    }

    #[test]
    fn invoices_conflict_on_the_number_alone() {
        let invoice =
            |n: &str, e: &str| Subject::Invoice(InvoiceSubject::new(n, "J", e, "c", "nl").unwrap());
        assert!(invoice("INV-1", "a@e.nl").conflicts_with(&invoice("INV-1", "b@e.nl")));
        assert!(!invoice("INV-1", "a@e.nl").conflicts_with(&invoice("INV-2", "a@e.nl")));
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
