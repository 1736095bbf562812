//! German. Placeholders in braces are filled in when a mail is written; keep them as they are.

use super::{Language, Template};

pub const DE: Language = Language {
    code: "de",
    months: [
        "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
        "Oktober", "November", "Dezember",
    ],
    date: "{day}. {month} {year}",
    first_day: "1",
    money: "{number} {currency}",
    decimal_mark: ",",
    group_mark: ".",
    whole_invoice: "gesamter Rechnungsbetrag",
    seller_note: "Anmerkung des Händlers:",
    opened: Template {
        subject: "Ihre Beanstandung der Rechnung {invoice} wurde registriert (Vorgang {dispute})",
        body: "Guten Tag {customer},

am {opened} haben wir Ihre Beanstandung der Rechnung {invoice} registriert.

Rechnung: {invoice}
Beanstandeter Betrag: {amount}
Vorgangsnummer: {dispute}

Solange die Beanstandung bearbeitet wird, ruht der Forderungseinzug für diese Rechnung, längstens bis zum {hold_until}. In dieser Zeit erhalten Sie für diese Rechnung keine Zahlungserinnerungen.

Der Händler prüft Ihre Beanstandung. Wir informieren Sie, sobald sich etwas ändert.

Mit freundlichen Grüßen
Ihr Team für Beanstandungen
",
    },
    message: Template {
        subject: "Neue Nachricht zu Ihrer Beanstandung {dispute} (Rechnung {invoice})",
        body: "Guten Tag {customer},

der Händler hat Ihnen eine Nachricht zu Ihrer Beanstandung geschickt.

Rechnung: {invoice}
Beanstandeter Betrag: {amount}
Vorgangsnummer: {dispute}

Nachricht des Händlers:
{message}

Mit freundlichen Grüßen
Ihr Team für Beanstandungen
",
    },
    granted: Template {
        subject: "Ihrer Beanstandung {dispute} der Rechnung {invoice} wurde stattgegeben",
        body: "Guten Tag {customer},

Ihre Beanstandung der Rechnung {invoice} wurde am {resolved} abgeschlossen: Ihr wurde stattgegeben. Sie erhalten eine Gutschrift.

Rechnung: {invoice}
Beanstandeter Betrag: {amount}
Gutschrift: {credit}
Vorgangsnummer: {dispute}
{seller_note}
Mit freundlichen Grüßen
Ihr Team für Beanstandungen
",
    },
    partially_granted: Template {
        subject: "Ihrer Beanstandung {dispute} der Rechnung {invoice} wurde teilweise stattgegeben",
        body: "Guten Tag {customer},

Ihre Beanstandung der Rechnung {invoice} wurde am {resolved} abgeschlossen: Ihr wurde teilweise stattgegeben. Sie erhalten eine Gutschrift über einen Teil des beanstandeten Betrags; der übrige Rechnungsbetrag bleibt fällig.

Rechnung: {invoice}
Beanstandeter Betrag: {amount}
Gutschrift: {credit}
Vorgangsnummer: {dispute}
{seller_note}
Mit freundlichen Grüßen
Ihr Team für Beanstandungen
",
    },
    denied: Template {
        subject: "Ihre Beanstandung {dispute} der Rechnung {invoice} wurde abgelehnt",
        body: "Guten Tag {customer},

Ihre Beanstandung der Rechnung {invoice} wurde am {resolved} abgeschlossen: Sie wurde abgelehnt. Der beanstandete Betrag bleibt fällig, und der Forderungseinzug für die Rechnung wird fortgesetzt.

Rechnung: {invoice}
Beanstandeter Betrag: {amount}
Vorgangsnummer: {dispute}
{seller_note}
Mit freundlichen Grüßen
Ihr Team für Beanstandungen
",
    },
    withdrawn: Template {
        subject: "Ihre Beanstandung {dispute} der Rechnung {invoice} wurde zurückgezogen",
        body: "Guten Tag {customer},

die Beanstandung der Rechnung {invoice} wurde am {resolved} zurückgezogen. Der Forderungseinzug für die Rechnung wird fortgesetzt.

Rechnung: {invoice}
Beanstandeter Betrag: {amount}
Vorgangsnummer: {dispute}

Mit freundlichen Grüßen
Ihr Team für Beanstandungen
",
    },
    expired: Template {
        subject: "Ihre Beanstandung {dispute} der Rechnung {invoice} wurde geschlossen",
        body: "Guten Tag {customer},

die Beanstandung der Rechnung {invoice} wurde am {resolved} geschlossen, da die Frist für ihre Bearbeitung abgelaufen ist.

Rechnung: {invoice}
Beanstandeter Betrag: {amount}
Vorgangsnummer: {dispute}

Mit freundlichen Grüßen
Ihr Team für Beanstandungen
",
    },
};
