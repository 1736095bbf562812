//! The mails' texts and how they are filled in.
//!
//! The customer of an invoice dispute is written to in the dispute's language: one file per
//! language (`templates/nl.rs`, `en.rs`, `de.rs`, `fr.rs`) holds every text, so a translator edits
//! one file and nothing else. A text names the dispute's facts by placeholders in braces
//! (`{invoice}`, `{amount}`, `{dispute}`, `{opened}`, `{hold_until}`, `{resolved}`, `{credit}`,
//! `{customer}`, `{message}`, `{seller_note}`), filled in one pass, so a value that contains
//! braces is never read as a placeholder.
//!
//! The parties (the tenant's owner) get a plain notice in English of every timeline entry.

mod de;
mod en;
mod fr;
mod nl;

use chrono::Datelike as _;
use chrono_tz::Europe::Amsterdam;
use disputes_domain::{
    Agent, Credit, Dispute, EntryKind, InvoiceSubject, Outcome, Role, Subject, Timestamp,
    MAX_COLLECTION_HOLD,
};
use disputes_ports::Event;
use rust_decimal::Decimal;

/// A subject and a body with placeholders.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub subject: &'static str,
    pub body: &'static str,
}

/// Every text of one language, and how it writes dates and money.
#[derive(Debug, Clone, Copy)]
pub struct Language {
    /// The ISO 639-1 code, as in the dispute's locale.
    pub code: &'static str,
    pub months: [&'static str; 12],
    /// With `{day}`, `{month}` and `{year}`.
    pub date: &'static str,
    /// How the first day of a month is written (`1er` in French).
    pub first_day: &'static str,
    /// With `{currency}` (the symbol, `€` for euros) and `{number}`.
    pub money: &'static str,
    pub decimal_mark: &'static str,
    /// Between groups of three digits.
    pub group_mark: &'static str,
    /// The disputed amount of a dispute about a whole invoice whose amount was not given.
    pub whole_invoice: &'static str,
    /// The heading of the seller's explanation at the end of a dispute, when it gave one.
    pub seller_note: &'static str,
    /// The dispute was registered and the invoice's collection put on hold.
    pub opened: Template,
    /// The seller (the client) wrote to the customer.
    pub message: Template,
    /// The dispute ended: granted in full, in part, denied; withdrawn; closed at its deadline.
    pub granted: Template,
    pub partially_granted: Template,
    pub denied: Template,
    pub withdrawn: Template,
    pub expired: Template,
}

/// Every language a dispute can be conducted in.
pub const LANGUAGES: [&Language; 4] = [&nl::NL, &en::EN, &de::DE, &fr::FR];

/// The language of `locale` (`nl-NL` is Dutch); English for one we have no texts for, which
/// the domain's locale check rules out.
pub fn language(locale: &str) -> &'static Language {
    let code = locale.split(['-', '_']).next().unwrap_or(locale);
    LANGUAGES
        .into_iter()
        .find(|l| l.code.eq_ignore_ascii_case(code))
        .unwrap_or(&en::EN)
}

/// A mail, written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Which text it was written from, with its language: `customer_opened.de`.
    pub template: String,
    pub subject: String,
    pub body: String,
}

/// The template name of the owner's notices.
pub const PARTY_NOTICE: &str = "party_notice";

/// The mail to an invoice dispute's customer about `event`, in the dispute's language; `None`
/// for a dispute of another kind and for what the customer need not hear of (a response, a
/// note, the customer's own message).
pub fn customer_mail(event: &Event) -> Option<Mail> {
    let d = &event.dispute;
    let Subject::Invoice(invoice) = d.subject() else {
        return None;
    };
    let entry = event.entry()?;
    let lang = language(invoice.locale().as_str());
    let (name, template) = match event.kind {
        EntryKind::Opened => ("opened", lang.opened),
        EntryKind::Message if entry.actor().role == Role::Client => ("message", lang.message),
        EntryKind::Settled => match d.resolution()?.outcome {
            Outcome::Granted => ("granted", lang.granted),
            Outcome::PartiallyGranted => ("partially_granted", lang.partially_granted),
            Outcome::Denied => ("denied", lang.denied),
            Outcome::Withdrawn | Outcome::Expired => return None,
        },
        EntryKind::Withdrawn => ("withdrawn", lang.withdrawn),
        EntryKind::Expired => ("expired", lang.expired),
        _ => return None,
    };
    let facts = CustomerFacts::of(event, invoice, lang);
    Some(Mail {
        template: format!("customer_{name}.{}", lang.code),
        subject: fill(template.subject, |name| facts.get(name)),
        body: fill(template.body, |name| facts.get(name)),
    })
}

/// What a customer's mail says, each already written in the mail's language.
struct CustomerFacts {
    customer: String,
    invoice: String,
    dispute: String,
    amount: String,
    opened: String,
    hold_until: String,
    resolved: String,
    credit: String,
    message: String,
    seller_note: String,
}

impl CustomerFacts {
    fn of(event: &Event, invoice: &InvoiceSubject, lang: &Language) -> Self {
        let d = &event.dispute;
        let quantity = &d.claim().quantity;
        let money = |amount: Decimal| {
            if quantity.is_whole_invoice() {
                // A dispute about a whole invoice whose amount the seller did not give.
                lang.whole_invoice.to_owned()
            } else {
                format_money(lang, amount, quantity.unit().as_str())
            }
        };
        // Invoice disputes always hold collection; should one not, the longest hold is what
        // the customer may count on.
        let hold_until = d
            .collection_hold()
            .map_or(d.opened_at() + MAX_COLLECTION_HOLD, |h| h.until);
        let resolution = d.resolution();
        let message = d
            .messages()
            .iter()
            .find(|m| m.seq() == event.seq)
            .map(|m| m.text().to_owned())
            .unwrap_or_default();
        let seller_note = resolution
            .filter(|r| r.by.role == Role::Client && !r.notes.trim().is_empty())
            .map(|r| format!("\n{}\n{}\n", lang.seller_note, r.notes.trim_end()))
            .unwrap_or_default();
        CustomerFacts {
            customer: invoice.customer_name().to_owned(),
            invoice: invoice.invoice().to_owned(),
            dispute: d.id().get().to_string(),
            amount: money(quantity.amount()),
            opened: format_date(lang, d.opened_at()),
            hold_until: format_date(lang, hold_until),
            resolved: resolution.map_or_else(String::new, |r| format_date(lang, r.at)),
            credit: match d.credit() {
                None => String::new(),
                Some(Credit::WholeInvoice) => lang.whole_invoice.to_owned(),
                Some(Credit::Amount { amount, unit }) => format_money(lang, amount, unit.as_str()),
            },
            message,
            seller_note,
        }
    }

    /// The value of placeholder `name`.
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "customer" => &self.customer,
            "invoice" => &self.invoice,
            "dispute" => &self.dispute,
            "amount" => &self.amount,
            "opened" => &self.opened,
            "hold_until" => &self.hold_until,
            "resolved" => &self.resolved,
            "credit" => &self.credit,
            "message" => &self.message,
            "seller_note" => &self.seller_note,
            _ => return None,
        })
    }
}

/// The plain notice to `owner` of what `event` recorded, for every kind of entry and subject.
pub fn owner_notice(event: &Event, owner: &Agent) -> Option<Mail> {
    let d = &event.dispute;
    let entry = event.entry()?;
    let what = match event.kind {
        EntryKind::Settled => d.resolution().map_or_else(
            || "settled".to_owned(),
            |r| format!("settled ({})", r.outcome.as_str()),
        ),
        EntryKind::Message => "new message".to_owned(),
        EntryKind::Note => "note added".to_owned(),
        kind => kind.as_str().to_owned(),
    };
    let quantity = &d.claim().quantity;
    // A message's entry covers its attachment's digest too; the notice shows its text.
    let notes = match d.messages().iter().find(|m| m.seq() == event.seq) {
        Some(m) => m.text().to_owned(),
        None => entry.notes().to_owned(),
    };
    let mut body = format!(
        "Hello {owner},\n\n\
         Dispute {id} of {tenant}: {what}.\n\n\
         Subject: {subject}\n\
         Claim: {amount} {unit}\n\
         Status: {status}\n\
         When: {at} UTC\n\
         By: {actor} ({role})\n",
        owner = owner.name(),
        id = d.id().get(),
        tenant = d.tenant(),
        subject = subject_line(d),
        amount = quantity.amount(),
        unit = quantity.unit().as_str(),
        status = d.status().as_str(),
        at = entry.at().format("%Y-%m-%d %H:%M:%S"),
        actor = entry.actor().id.as_str(),
        role = entry.actor().role.as_str(),
    );
    if let Some(deadline) = d.respond_by().filter(|_| !d.status().is_final()) {
        body.push_str(&format!(
            "Respond by: {} UTC\n",
            deadline.format("%Y-%m-%d %H:%M:%S")
        ));
    }
    if !notes.trim().is_empty() {
        body.push_str(&format!("\n{}\n", notes.trim_end()));
    }
    body.push_str("\nThis is an automatic notice of the dispute engine.\n");
    Some(Mail {
        template: PARTY_NOTICE.to_owned(),
        subject: format!("Dispute {}: {what}", d.id().get()),
        body,
    })
}

/// What a dispute is about, in one line.
fn subject_line(d: &Dispute) -> String {
    match d.subject() {
        Subject::Invoice(s) => format!(
            "invoice {} of {} <{}>",
            s.invoice(),
            s.customer_name(),
            s.customer_email()
        ),
        Subject::Billing(s) => s.summary(),
        Subject::Delivery(s) => format!(
            "campaign {} on {} screen(s), {} to {}",
            s.campaign_id(),
            s.screen_ids().len(),
            s.period().start().format("%Y-%m-%d %H:%M"),
            s.period().end().format("%Y-%m-%d %H:%M"),
        ),
    }
}

/// Fills `{name}` placeholders in one pass: a value is never searched for placeholders itself.
/// An unknown name is left as it was written.
pub fn fill<'v>(template: &str, lookup: impl Fn(&str) -> Option<&'v str>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((close, lookup(&after[..close])?)))
        {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A date as the language writes it, in the provider's time zone (Europe/Amsterdam).
pub fn format_date(lang: &Language, at: Timestamp) -> String {
    let local = at.with_timezone(&Amsterdam);
    let day = match local.day() {
        1 => lang.first_day.to_owned(),
        n => n.to_string(),
    };
    let month = lang.months[local.month0() as usize];
    let year = local.year().to_string();
    fill(lang.date, |name| match name {
        "day" => Some(day.as_str()),
        "month" => Some(month),
        "year" => Some(year.as_str()),
        _ => None,
    })
}

/// An amount of `currency` as the language writes money: at least two decimals (more when the
/// amount has them; nothing is rounded), digits grouped by three, the euro as `€`.
pub fn format_money(lang: &Language, amount: Decimal, currency: &str) -> String {
    let mut amount = amount;
    if amount.scale() < 2 {
        amount.rescale(2);
    }
    let text = amount.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push_str(lang.group_mark);
        }
        grouped.push(digit);
    }
    let sign = if amount.is_sign_negative() && !amount.is_zero() {
        "-"
    } else {
        ""
    };
    let number = format!("{sign}{grouped}{}{fraction}", lang.decimal_mark);
    let symbol = if currency == "EUR" { "€" } else { currency };
    let written = fill(lang.money, |name| match name {
        "currency" => Some(symbol),
        "number" => Some(number.as_str()),
        _ => None,
    });
    // A currency code written right before the number (`USD12.00`) needs a space the symbol
    // does not.
    if symbol != "€" && written.starts_with(symbol) && !written[symbol.len()..].starts_with(' ') {
        format!("{symbol} {number}")
    } else {
        written
    }
}

#[cfg(test)]
mod tests;
