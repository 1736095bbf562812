//! English. Placeholders in braces are filled in when a mail is written; keep them as they are.

use super::{Language, Template};

pub const EN: Language = Language {
    code: "en",
    months: [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ],
    date: "{day} {month} {year}",
    first_day: "1",
    money: "{currency}{number}",
    decimal_mark: ".",
    group_mark: ",",
    whole_invoice: "the full invoice amount",
    seller_note: "The seller's explanation:",
    opened: Template {
        subject: "Your dispute about invoice {invoice} has been registered (dispute {dispute})",
        body: "Dear {customer},

On {opened} we registered your dispute about invoice {invoice}.

Invoice: {invoice}
Disputed amount: {amount}
Dispute number: {dispute}

While the dispute is open, collection of this invoice is on hold until {hold_until} at the latest. You will not receive payment reminders for this invoice in that time.

The seller is looking into your dispute. We will let you know as soon as anything changes.

Kind regards,
The disputes team
",
    },
    message: Template {
        subject: "New message about your dispute {dispute} (invoice {invoice})",
        body: "Dear {customer},

The seller has sent you a message about your dispute.

Invoice: {invoice}
Disputed amount: {amount}
Dispute number: {dispute}

The seller's message:
{message}

Kind regards,
The disputes team
",
    },
    granted: Template {
        subject: "Your dispute {dispute} about invoice {invoice} has been granted",
        body: "Dear {customer},

Your dispute about invoice {invoice} was settled on {resolved} and granted. You will receive a credit.

Invoice: {invoice}
Disputed amount: {amount}
Amount credited: {credit}
Dispute number: {dispute}
{seller_note}
Kind regards,
The disputes team
",
    },
    partially_granted: Template {
        subject: "Your dispute {dispute} about invoice {invoice} has been partially granted",
        body: "Dear {customer},

Your dispute about invoice {invoice} was settled on {resolved} and partially granted. You will receive a credit for part of the disputed amount; the rest of the invoice remains due.

Invoice: {invoice}
Disputed amount: {amount}
Amount credited: {credit}
Dispute number: {dispute}
{seller_note}
Kind regards,
The disputes team
",
    },
    denied: Template {
        subject: "Your dispute {dispute} about invoice {invoice} has been rejected",
        body: "Dear {customer},

Your dispute about invoice {invoice} was settled on {resolved} and rejected. The disputed amount remains due, and collection of the invoice resumes.

Invoice: {invoice}
Disputed amount: {amount}
Dispute number: {dispute}
{seller_note}
Kind regards,
The disputes team
",
    },
    withdrawn: Template {
        subject: "Your dispute {dispute} about invoice {invoice} has been withdrawn",
        body: "Dear {customer},

The dispute about invoice {invoice} was withdrawn on {resolved}. Collection of the invoice resumes.

Invoice: {invoice}
Disputed amount: {amount}
Dispute number: {dispute}

Kind regards,
The disputes team
",
    },
    expired: Template {
        subject: "Your dispute {dispute} about invoice {invoice} has been closed",
        body: "Dear {customer},

The dispute about invoice {invoice} was closed on {resolved} because the time allowed for handling it has passed.

Invoice: {invoice}
Disputed amount: {amount}
Dispute number: {dispute}

Kind regards,
The disputes team
",
    },
};
