//! French. Placeholders in braces are filled in when a mail is written; keep them as they are.

use super::{Language, Template};

pub const FR: Language = Language {
    code: "fr",
    months: [
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
        "octobre", "novembre", "décembre",
    ],
    date: "{day} {month} {year}",
    first_day: "1er",
    money: "{number} {currency}",
    decimal_mark: ",",
    group_mark: "\u{202f}",
    whole_invoice: "montant total de la facture",
    seller_note: "Commentaire du vendeur :",
    opened: Template {
        subject: "Votre contestation de la facture {invoice} a été enregistrée (dossier {dispute})",
        body: "Bonjour {customer},

Le {opened}, nous avons enregistré votre contestation de la facture {invoice}.

Facture : {invoice}
Montant contesté : {amount}
Numéro de dossier : {dispute}

Tant que la contestation est en cours, le recouvrement de cette facture est suspendu, au plus tard jusqu’au {hold_until}. Pendant cette période, vous ne recevrez aucune relance de paiement pour cette facture.

Le vendeur examine votre contestation. Nous vous tiendrons informé(e) dès qu’il y aura du nouveau.

Cordialement,
L’équipe des contestations
",
    },
    message: Template {
        subject: "Nouveau message concernant votre contestation {dispute} (facture {invoice})",
        body: "Bonjour {customer},

Le vendeur vous a envoyé un message au sujet de votre contestation.

Facture : {invoice}
Montant contesté : {amount}
Numéro de dossier : {dispute}

Message du vendeur :
{message}

Cordialement,
L’équipe des contestations
",
    },
    granted: Template {
        subject: "Votre contestation {dispute} de la facture {invoice} a été acceptée",
        body: "Bonjour {customer},

Votre contestation de la facture {invoice} a été traitée le {resolved} : elle a été acceptée. Vous recevrez un avoir.

Facture : {invoice}
Montant contesté : {amount}
Montant de l’avoir : {credit}
Numéro de dossier : {dispute}
{seller_note}
Cordialement,
L’équipe des contestations
",
    },
    partially_granted: Template {
        subject: "Votre contestation {dispute} de la facture {invoice} a été partiellement acceptée",
        body: "Bonjour {customer},

Votre contestation de la facture {invoice} a été traitée le {resolved} : elle a été partiellement acceptée. Vous recevrez un avoir pour une partie du montant contesté ; le reste de la facture demeure dû.

Facture : {invoice}
Montant contesté : {amount}
Montant de l’avoir : {credit}
Numéro de dossier : {dispute}
{seller_note}
Cordialement,
L’équipe des contestations
",
    },
    denied: Template {
        subject: "Votre contestation {dispute} de la facture {invoice} a été rejetée",
        body: "Bonjour {customer},

Votre contestation de la facture {invoice} a été traitée le {resolved} : elle a été rejetée. Le montant contesté reste dû et le recouvrement de la facture reprend.

Facture : {invoice}
Montant contesté : {amount}
Numéro de dossier : {dispute}
{seller_note}
Cordialement,
L’équipe des contestations
",
    },
    withdrawn: Template {
        subject: "Votre contestation {dispute} de la facture {invoice} a été retirée",
        body: "Bonjour {customer},

La contestation de la facture {invoice} a été retirée le {resolved}. Le recouvrement de la facture reprend.

Facture : {invoice}
Montant contesté : {amount}
Numéro de dossier : {dispute}

Cordialement,
L’équipe des contestations
",
    },
    expired: Template {
        subject: "Votre contestation {dispute} de la facture {invoice} a été clôturée",
        body: "Bonjour {customer},

La contestation de la facture {invoice} a été clôturée le {resolved}, le délai prévu pour son traitement étant écoulé.

Facture : {invoice}
Montant contesté : {amount}
Numéro de dossier : {dispute}

Cordialement,
L’équipe des contestations
",
    },
};
