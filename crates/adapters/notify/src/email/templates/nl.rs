//! Dutch. Placeholders in braces are filled in when a mail is written; keep them as they are.

use super::{Language, Template};

pub const NL: Language = Language {
    code: "nl",
    months: [
        "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
        "oktober", "november", "december",
    ],
    date: "{day} {month} {year}",
    first_day: "1",
    money: "{currency} {number}",
    decimal_mark: ",",
    group_mark: ".",
    whole_invoice: "het volledige factuurbedrag",
    seller_note: "Toelichting van de verkoper:",
    opened: Template {
        subject: "Uw geschil over factuur {invoice} is geregistreerd (geschil {dispute})",
        body: "Beste {customer},

Op {opened} hebben wij uw geschil over factuur {invoice} geregistreerd.

Factuur: {invoice}
Betwist bedrag: {amount}
Geschilnummer: {dispute}

Zolang het geschil loopt, staat de incasso van deze factuur stil, tot uiterlijk {hold_until}. In die periode ontvangt u voor deze factuur geen betalingsherinneringen.

De verkoper bekijkt uw geschil. Wij laten het u weten zodra er iets verandert.

Met vriendelijke groet,
Het geschillenteam
",
    },
    message: Template {
        subject: "Nieuw bericht over uw geschil {dispute} (factuur {invoice})",
        body: "Beste {customer},

De verkoper heeft u een bericht gestuurd over uw geschil.

Factuur: {invoice}
Betwist bedrag: {amount}
Geschilnummer: {dispute}

Bericht van de verkoper:
{message}

Met vriendelijke groet,
Het geschillenteam
",
    },
    granted: Template {
        subject: "Uw geschil {dispute} over factuur {invoice} is toegekend",
        body: "Beste {customer},

Uw geschil over factuur {invoice} is op {resolved} afgehandeld en toegekend. U ontvangt een creditering.

Factuur: {invoice}
Betwist bedrag: {amount}
Gecrediteerd bedrag: {credit}
Geschilnummer: {dispute}
{seller_note}
Met vriendelijke groet,
Het geschillenteam
",
    },
    partially_granted: Template {
        subject: "Uw geschil {dispute} over factuur {invoice} is gedeeltelijk toegekend",
        body: "Beste {customer},

Uw geschil over factuur {invoice} is op {resolved} afgehandeld en gedeeltelijk toegekend. U ontvangt een creditering voor een deel van het betwiste bedrag; de rest van de factuur blijft verschuldigd.

Factuur: {invoice}
Betwist bedrag: {amount}
Gecrediteerd bedrag: {credit}
Geschilnummer: {dispute}
{seller_note}
Met vriendelijke groet,
Het geschillenteam
",
    },
    denied: Template {
        subject: "Uw geschil {dispute} over factuur {invoice} is afgewezen",
        body: "Beste {customer},

Uw geschil over factuur {invoice} is op {resolved} afgehandeld en afgewezen. Het betwiste bedrag blijft verschuldigd en de incasso van de factuur wordt hervat.

Factuur: {invoice}
Betwist bedrag: {amount}
Geschilnummer: {dispute}
{seller_note}
Met vriendelijke groet,
Het geschillenteam
",
    },
    withdrawn: Template {
        subject: "Uw geschil {dispute} over factuur {invoice} is ingetrokken",
        body: "Beste {customer},

Het geschil over factuur {invoice} is op {resolved} ingetrokken. De incasso van de factuur wordt hervat.

Factuur: {invoice}
Betwist bedrag: {amount}
Geschilnummer: {dispute}

Met vriendelijke groet,
Het geschillenteam
",
    },
    expired: Template {
        subject: "Uw geschil {dispute} over factuur {invoice} is gesloten",
        body: "Beste {customer},

Het geschil over factuur {invoice} is op {resolved} gesloten, omdat de termijn voor de afhandeling is verstreken.

Factuur: {invoice}
Betwist bedrag: {amount}
Geschilnummer: {dispute}

Met vriendelijke groet,
Het geschillenteam
",
    },
};
