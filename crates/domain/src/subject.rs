use crate::state::{Facts, StateText};
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
        /// Something on a telecom bill: an item, a bill, usage events. Stored as `bill_item`,
        /// its name from when only items were disputed; stored names never change.
        Billing => "bill_item",
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

    /// At least one screen, none twice (a repeat is refused rather than dropped, so that what
    /// is stored is what was sent); screens keep the order given.
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
            if screens.contains(&screen) {
                return Err(DomainError::invalid(
                    "affectedSurface.screenIds",
                    format!("names the screen {screen:?} twice"),
                ));
            }
            screens.push(screen);
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

/// What on a telecom bill is disputed. Billing Care disputes one item of a bill, a whole bill,
/// or some of an account's usage events; each is named by the billing system's ids (Oracle BRM
/// POIDs such as `0.0.0.1+-item-cycle_forward+268139`), kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BillingTarget {
    /// One item of a bill, by its id.
    Item(String),
    /// A whole bill, by its id.
    Bill(String),
    /// Usage events of the subject's account.
    Events(UsageEvents),
}

named_enum! {
    /// Which [`BillingTarget`] a billing dispute has; stored names never change.
    pub enum BillingTargetKind in "billing target" {
        Item => "item",
        Bill => "bill",
        Events => "events",
    }
}

impl BillingTarget {
    pub fn kind(&self) -> BillingTargetKind {
        match self {
            BillingTarget::Item(_) => BillingTargetKind::Item,
            BillingTarget::Bill(_) => BillingTargetKind::Bill,
            BillingTarget::Events(_) => BillingTargetKind::Events,
        }
    }
}

/// The usage events an event dispute is about: at least one, each once, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UsageEvents {
    ids: Vec<String>,
    /// The disputed amount is of the events' total (Billing Care's `appliesToTotalOfAllEvents`,
    /// the default), not of each event.
    applies_to_total: bool,
}

impl UsageEvents {
    /// The most events one dispute names: enough for any CSR's selection, few enough that the
    /// duplicate check stays one indexed lookup.
    pub const MAX: usize = 100;

    /// Each id as [`BillingSubject::id_filter`] takes one, none twice, 1 to [`MAX`](Self::MAX)
    /// of them.
    pub fn new(ids: Vec<String>, applies_to_total: bool) -> Result<Self, DomainError> {
        const FIELD: &str = "events.eventRef";
        if ids.is_empty() {
            return Err(DomainError::invalid(FIELD, "must name at least one event"));
        }
        if ids.len() > Self::MAX {
            return Err(DomainError::invalid(
                FIELD,
                format!("must name at most {} events", Self::MAX),
            ));
        }
        let mut checked: Vec<String> = Vec::with_capacity(ids.len());
        for id in ids {
            let id = required_text(FIELD, id, BillingSubject::MAX_ID)?;
            if checked.contains(&id) {
                return Err(DomainError::invalid(
                    FIELD,
                    format!("names the event {id:?} twice"),
                ));
            }
            checked.push(id);
        }
        Ok(UsageEvents {
            ids: checked,
            applies_to_total,
        })
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    pub fn applies_to_total(&self) -> bool {
        self.applies_to_total
    }
}

/// Something on a telecom bill ([`BillingTarget`]) and the account, bill unit and bill it is on,
/// as far as the opener said.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BillingSubject {
    target: BillingTarget,
    /// The account billed, when the opener said: Billing Care needs only the amount to open an
    /// item or bill dispute, and the account only with the notes. An event dispute names it.
    account_id: Option<String>,
    bill_unit_id: Option<String>,
    /// The bill the notes named, on an item or event dispute (a bill dispute's is its target).
    bill_id: Option<String>,
}

impl BillingSubject {
    /// The longest id, in characters: long enough for any POID (database number, type path and
    /// id), short enough to index.
    pub const MAX_ID: usize = 255;

    /// `text` as a lookup's item, bill, event or account id (its error about `field`): only text
    /// such an id can be, as [`DeliverySubject::campaign_filter`] for campaigns.
    pub fn id_filter(field: &'static str, text: String) -> Result<String, DomainError> {
        required_text(field, text, Self::MAX_ID)
    }

    /// An item dispute. The item is required; its account, bill unit and bill are optional. Each
    /// id is 1 to 255 characters without control characters; nothing else about its form is
    /// assumed, since each billing system spells its ids its own way.
    pub fn item(
        item_id: impl Into<String>,
        account_id: Option<String>,
        bill_unit_id: Option<String>,
        bill_id: Option<String>,
    ) -> Result<Self, DomainError> {
        let item_id = required_text("itemId", item_id, Self::MAX_ID)?;
        Self::on(
            BillingTarget::Item(item_id),
            account_id,
            bill_unit_id,
            bill_id,
        )
    }

    /// A dispute of the whole bill `bill_id`, as [`item`](Self::item) checks ids.
    pub fn bill(
        bill_id: impl Into<String>,
        account_id: Option<String>,
        bill_unit_id: Option<String>,
    ) -> Result<Self, DomainError> {
        let bill_id = required_text("billId", bill_id, Self::MAX_ID)?;
        Self::on(BillingTarget::Bill(bill_id), account_id, bill_unit_id, None)
    }

    /// A dispute of some of `account_id`'s usage events.
    pub fn events(
        events: UsageEvents,
        account_id: impl Into<String>,
        bill_unit_id: Option<String>,
        bill_id: Option<String>,
    ) -> Result<Self, DomainError> {
        let account_id = required_text("accountRef.id", account_id, Self::MAX_ID)?;
        Self::on(
            BillingTarget::Events(events),
            Some(account_id),
            bill_unit_id,
            bill_id,
        )
    }

    fn on(
        target: BillingTarget,
        account_id: Option<String>,
        bill_unit_id: Option<String>,
        bill_id: Option<String>,
    ) -> Result<Self, DomainError> {
        let optional = |field, id: Option<String>| {
            id.map(|id| required_text(field, id, Self::MAX_ID))
                .transpose()
        };
        Ok(BillingSubject {
            target,
            account_id: optional("notes.accountId", account_id)?,
            bill_unit_id: optional("notes.billUnitId", bill_unit_id)?,
            bill_id: optional("notes.billId", bill_id)?,
        })
    }

    pub fn target(&self) -> &BillingTarget {
        &self.target
    }

    /// The disputed item's id, on an item dispute.
    pub fn item_id(&self) -> Option<&str> {
        match &self.target {
            BillingTarget::Item(id) => Some(id),
            BillingTarget::Bill(_) | BillingTarget::Events(_) => None,
        }
    }

    /// The disputed events, on an event dispute.
    pub fn events_disputed(&self) -> Option<&UsageEvents> {
        match &self.target {
            BillingTarget::Events(events) => Some(events),
            BillingTarget::Item(_) | BillingTarget::Bill(_) => None,
        }
    }

    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    /// What is disputed in words, for a notice: `bill item <item> of account <account>`,
    /// `bill <bill> ...`, `3 events of account <account>`; without the account when none was
    /// given.
    pub fn summary(&self) -> String {
        let what = match &self.target {
            BillingTarget::Item(item) => format!("bill item {item}"),
            BillingTarget::Bill(bill) => format!("bill {bill}"),
            BillingTarget::Events(events) if events.ids.len() == 1 => {
                format!("usage event {}", events.ids[0])
            }
            BillingTarget::Events(events) => format!("{} usage events", events.ids.len()),
        };
        match &self.account_id {
            Some(account) => format!("{what} of account {account}"),
            None => what,
        }
    }

    pub fn bill_unit_id(&self) -> Option<&str> {
        self.bill_unit_id.as_deref()
    }

    /// The disputed bill of a bill dispute, else the bill the notes named, if any.
    pub fn bill_id(&self) -> Option<&str> {
        match &self.target {
            BillingTarget::Bill(bill) => Some(bill),
            BillingTarget::Item(_) | BillingTarget::Events(_) => self.bill_id.as_deref(),
        }
    }

    /// The one-open-dispute rule among billing subjects: the same item, the same bill, or an
    /// event of the same account in common. An item dispute and a dispute of its bill are
    /// different disputes, as in Billing Care.
    fn conflicts_with(&self, other: &BillingSubject) -> bool {
        match (&self.target, &other.target) {
            (BillingTarget::Item(a), BillingTarget::Item(b)) => a == b,
            (BillingTarget::Bill(a), BillingTarget::Bill(b)) => a == b,
            (BillingTarget::Events(a), BillingTarget::Events(b)) => {
                self.account_id == other.account_id && a.ids.iter().any(|e| b.ids.contains(e))
            }
            _ => false,
        }
    }
}

/// What is disputed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Delivery(DeliverySubject),
    Invoice(InvoiceSubject),
    Billing(BillingSubject),
}

impl Subject {
    pub fn kind(&self) -> SubjectKind {
        match self {
            Subject::Delivery(_) => SubjectKind::Delivery,
            Subject::Invoice(_) => SubjectKind::Invoice,
            Subject::Billing(_) => SubjectKind::Billing,
        }
    }

    /// Two subjects are the same for the one-open-dispute rule: the same invoice, the same bill
    /// item, bill or event (see [`BillingSubject`]), or the same campaign with overlapping periods and at least one common screen.
    pub fn conflicts_with(&self, other: &Subject) -> bool {
        match (self, other) {
            (Subject::Delivery(a), Subject::Delivery(b)) => {
                a.campaign_id == b.campaign_id
                    && a.period.overlaps(&b.period)
                    && a.screen_ids.iter().any(|s| b.screen_ids.contains(s))
            }
            (Subject::Invoice(a), Subject::Invoice(b)) => a.invoice == b.invoice,
            (Subject::Billing(a), Subject::Billing(b)) => a.conflicts_with(b),
            _ => false,
        }
    }
}

impl Facts for DeliverySubject {
    fn facts(&self, name: &str, out: &mut StateText) {
        let DeliverySubject {
            campaign_id,
            screen_ids,
            substrate_id,
            period,
        } = self;
        out.text(&format!("{name}.campaign_id"), campaign_id);
        out.list(
            &format!("{name}.screen_ids"),
            screen_ids,
            |out, item, id| {
                out.text(item, id);
            },
        );
        out.optional(&format!("{name}.substrate_id"), substrate_id.as_deref());
        period.facts(&format!("{name}.period"), out);
    }
}

impl Facts for InvoiceSubject {
    fn facts(&self, name: &str, out: &mut StateText) {
        let InvoiceSubject {
            invoice,
            customer_name,
            customer_email,
            category,
            locale,
        } = self;
        out.text(&format!("{name}.invoice"), invoice);
        out.text(&format!("{name}.customer_name"), customer_name);
        out.text(&format!("{name}.customer_email"), customer_email.as_str());
        out.text(&format!("{name}.category"), category);
        out.text(&format!("{name}.locale"), locale.as_str());
    }
}

impl Facts for UsageEvents {
    fn facts(&self, name: &str, out: &mut StateText) {
        let UsageEvents {
            ids,
            applies_to_total,
        } = self;
        out.list(&format!("{name}.ids"), ids, |out, item, id| {
            out.text(item, id)
        });
        out.flag(&format!("{name}.applies_to_total"), *applies_to_total);
    }
}

impl Facts for BillingSubject {
    fn facts(&self, name: &str, out: &mut StateText) {
        let BillingSubject {
            target,
            account_id,
            bill_unit_id,
            bill_id,
        } = self;
        target.facts(&format!("{name}.target"), out);
        out.optional(&format!("{name}.account_id"), account_id.as_deref());
        out.optional(&format!("{name}.bill_unit_id"), bill_unit_id.as_deref());
        out.optional(&format!("{name}.bill_id"), bill_id.as_deref());
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
        let s =
            DeliverySubject::new("c", vec!["b".into(), "a".into()], None, period(0, 1)).unwrap();
        assert_eq!(s.screen_ids(), ["b", "a"], "in the order given");
        let twice = DeliverySubject::new(
            "c",
            vec!["a".into(), "a".into(), "b".into()],
            None,
            period(0, 1),
        );
        assert_eq!(
            twice.unwrap_err().field(),
            Some("affectedSurface.screenIds")
        );
    }

    #[test]
    fn a_bill_item_needs_an_item_and_maybe_an_account() {
        let ok = BillingSubject::item(
            "0.0.0.1+-item-cycle_forward+268139",
            Some("0.0.0.1+-account+242856".into()),
            Some("0.0.0.1+-billinfo+244392".into()),
            None,
        )
        .unwrap();
        assert_eq!(ok.item_id(), Some("0.0.0.1+-item-cycle_forward+268139"));
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
                BillingSubject::item(item, Some(account.into()), unit.clone(), None).is_err(),
                "{item:?} {account:?} {unit:?} accepted"
            );
        }
        let field = |r: Result<BillingSubject, DomainError>| r.unwrap_err().field();
        assert_eq!(
            field(BillingSubject::item("i", Some(String::new()), None, None)),
            Some("notes.accountId")
        );
        assert_eq!(
            BillingSubject::item("i", None, None, None)
                .unwrap()
                .account_id(),
            None
        );
    }

    #[test]
    fn bill_items_conflict_on_the_item_alone() {
        let item = |i: &str, a: &str| {
            Subject::Billing(BillingSubject::item(i, Some(a.into()), None, None).unwrap())
        };
        assert!(item("i1", "a1").conflicts_with(&item("i1", "a2")));
        assert!(!item("i1", "a1").conflicts_with(&item("i2", "a1")));
    }

    #[test]
    fn bills_conflict_on_the_bill_and_events_on_a_shared_event_of_the_account() {
        let bill = |b: &str| Subject::Billing(BillingSubject::bill(b, None, None).unwrap());
        let events = |ids: &[&str], account: &str| {
            let ids = ids.iter().map(|id| id.to_string()).collect();
            let events = UsageEvents::new(ids, true).unwrap();
            Subject::Billing(BillingSubject::events(events, account, None, None).unwrap())
        };
        let item_on_bill =
            Subject::Billing(BillingSubject::item("i1", None, None, Some("b1".into())).unwrap());
        assert!(bill("b1").conflicts_with(&bill("b1")));
        assert!(!bill("b1").conflicts_with(&bill("b2")));
        // An item of a bill and the bill are disputed apart, as Billing Care does.
        assert!(!bill("b1").conflicts_with(&item_on_bill));
        assert!(events(&["e1", "e2"], "a1").conflicts_with(&events(&["e2", "e3"], "a1")));
        assert!(!events(&["e1"], "a1").conflicts_with(&events(&["e2"], "a1")));
        assert!(!events(&["e1"], "a1").conflicts_with(&events(&["e1"], "a2")));
    }

    #[test]
    fn usage_events_are_one_to_a_hundred_distinct_ids() {
        let ids = |n: usize| (0..n).map(|i| format!("e{i}")).collect::<Vec<_>>();
        assert!(UsageEvents::new(ids(1), true).is_ok());
        assert!(UsageEvents::new(ids(UsageEvents::MAX), false).is_ok());
        for refused in [
            vec![],
            ids(UsageEvents::MAX + 1),
            vec!["e1".into(), "e1".into()],
            vec![" ".into()],
        ] {
            let error = UsageEvents::new(refused.clone(), true).unwrap_err();
            assert_eq!(error.field(), Some("events.eventRef"), "{refused:?}");
        }
        let events = UsageEvents::new(ids(3), true).unwrap();
        let subject = BillingSubject::events(events, "acct", None, None).unwrap();
        assert_eq!(subject.summary(), "3 usage events of account acct");
        assert_eq!(subject.item_id(), None);
        assert_eq!(
            BillingSubject::bill("b1", None, None).unwrap().summary(),
            "bill b1"
        );
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
