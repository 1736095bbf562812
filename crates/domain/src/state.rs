//! A dispute's state as one canonical text, and its digest: what each timeline entry seals of
//! the dispute as that entry left it (see [`TimelineEntry::state`](crate::TimelineEntry::state)),
//! so that a fact edited behind the domain's back (an amount, a response, the status) no longer
//! matches the chain.
//!
//! The text is `disputes-state/v1` and a line feed, then one line per fact, in a fixed order:
//! `<name> <len>:<value>` for a fact that is present (`len` the value's length in bytes, so no
//! value can forge a line of its own), `<name> -` for one that is absent, `<name> #<count>` before
//! the items of a list (named `<name>.<i>`, from 0). Every line ends in a line feed. Times are
//! `YYYY-MM-DDTHH:MM:SS.ffffffZ`, amounts their decimal text with its scale (`5.00` is not `5`),
//! flags `true`/`false`. `docs/integrity.md` lists every name.
//!
//! Each type writes its own facts next to its definition, destructuring itself without `..`: a
//! field added to any of them does not compile until it is written here too, so no fact can be
//! left out of the seal by accident. What is sealed elsewhere stays out: the evidence (its
//! digest is in, and the evidence is checked against it), the timeline (the chain itself) and
//! the messages (each is recorded by its own entry).

use std::fmt::Write as _;

use rust_decimal::Decimal;

use crate::period::canonical_time;
use crate::{
    Actor, Adjustment, CollectionHold, Digest, DisputeParts, LedgerOutcome, OpenerReply,
    ReasonCode, Remedy, Resolution, Response, Timestamp,
};

/// The first line of the canonical text: its format's name and version.
pub const STATE_FORMAT: &str = "disputes-state/v1";

/// The canonical text being written.
#[derive(Debug)]
pub(crate) struct StateText {
    text: String,
}

impl StateText {
    fn new() -> Self {
        let mut text = String::with_capacity(1024);
        text.push_str(STATE_FORMAT);
        text.push('\n');
        StateText { text }
    }

    /// A fact that is present.
    pub(crate) fn text(&mut self, name: &str, value: &str) {
        // Writing to a String cannot fail.
        let _ = writeln!(self.text, "{name} {}:{value}", value.len());
    }

    /// A fact that may be absent.
    pub(crate) fn optional(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(value) => self.text(name, value),
            None => {
                let _ = writeln!(self.text, "{name} -");
            }
        }
    }

    pub(crate) fn time(&mut self, name: &str, at: Timestamp) {
        self.text(name, &time_text(at));
    }

    pub(crate) fn optional_time(&mut self, name: &str, at: Option<Timestamp>) {
        self.optional(name, at.map(time_text).as_deref());
    }

    pub(crate) fn decimal(&mut self, name: &str, amount: Decimal) {
        self.text(name, &amount.to_string());
    }

    pub(crate) fn optional_decimal(&mut self, name: &str, amount: Option<Decimal>) {
        self.optional(name, amount.map(|a| a.to_string()).as_deref());
    }

    pub(crate) fn integer(&mut self, name: &str, value: i64) {
        self.text(name, &value.to_string());
    }

    pub(crate) fn flag(&mut self, name: &str, value: bool) {
        self.text(name, if value { "true" } else { "false" });
    }

    pub(crate) fn reason(&mut self, name: &str, reason: Option<ReasonCode>) {
        let code = reason.map(|r| format!("{}/{}", r.domain_id(), r.reason_id()));
        self.optional(name, code.as_deref());
    }

    /// A list: its count, then each item's facts under `<name>.<i>`.
    pub(crate) fn list<T>(
        &mut self,
        name: &str,
        items: &[T],
        mut write: impl FnMut(&mut Self, &str, &T),
    ) {
        let _ = writeln!(self.text, "{name} #{}", items.len());
        for (i, item) in items.iter().enumerate() {
            write(self, &format!("{name}.{i}"), item);
        }
    }

    /// An optional group: whether it is there, then its facts under `name` when it is.
    pub(crate) fn group(&mut self, name: &str, value: Option<&impl Facts>) {
        self.flag(name, value.is_some());
        if let Some(value) = value {
            value.facts(name, self);
        }
    }
}

fn time_text(at: Timestamp) -> String {
    canonical_time(at).to_string()
}

/// A value that writes its facts into the canonical state under `name`.
pub(crate) trait Facts {
    fn facts(&self, name: &str, out: &mut StateText);
}

impl DisputeParts {
    /// The canonical text of the dispute's state (see the module's documentation).
    pub fn state_text(&self) -> String {
        let DisputeParts {
            tenant,
            subject,
            claim,
            opened_by,
            opened_at,
            updated_at,
            // Sealed by `evidence_digest`, which `verify` checks it against.
            evidence: _,
            evidence_digest,
            status,
            version,
            respond_by,
            response,
            reply,
            resolution,
            // The chain itself, and what each of its entries records.
            timeline: _,
            timeline_head: _,
            messages: _,
            collection_hold,
        } = self;
        let mut out = StateText::new();
        out.text("tenant", tenant.as_str());
        subject.facts("subject", &mut out);
        claim.facts("claim", &mut out);
        opened_by.facts("opened_by", &mut out);
        out.time("opened_at", *opened_at);
        out.time("updated_at", *updated_at);
        out.text("evidence_digest", &evidence_digest.to_hex());
        out.text("status", status.as_str());
        out.integer("version", version.get());
        out.optional_time("respond_by", *respond_by);
        out.group("response", response.as_ref());
        out.group("reply", reply.as_ref());
        out.group("resolution", resolution.as_ref());
        out.group("collection_hold", collection_hold.as_ref());
        out.text
    }

    /// The digest of [`state_text`](Self::state_text).
    pub fn state_digest(&self) -> Digest {
        Digest::of(self.state_text().as_bytes())
    }
}

impl Facts for Actor {
    fn facts(&self, name: &str, out: &mut StateText) {
        let Actor { id, role } = self;
        out.text(&format!("{name}.id"), id.as_str());
        out.text(&format!("{name}.role"), role.as_str());
    }
}

impl Facts for Remedy {
    fn facts(&self, name: &str, out: &mut StateText) {
        let Remedy {
            amount,
            makegood_window,
        } = self;
        out.optional_decimal(&format!("{name}.amount"), *amount);
        out.group(&format!("{name}.makegood_window"), makegood_window.as_ref());
    }
}

impl Facts for Response {
    fn facts(&self, name: &str, out: &mut StateText) {
        let Response {
            at,
            by,
            notes,
            remedy,
            stance,
        } = self;
        out.time(&format!("{name}.at"), *at);
        by.facts(&format!("{name}.by"), out);
        out.text(&format!("{name}.notes"), notes);
        out.group(&format!("{name}.remedy"), remedy.as_ref());
        out.optional(&format!("{name}.stance"), stance.map(|s| s.as_str()));
    }
}

impl Facts for OpenerReply {
    fn facts(&self, name: &str, out: &mut StateText) {
        let OpenerReply {
            at,
            by,
            notes,
            decision,
            stance,
        } = self;
        out.time(&format!("{name}.at"), *at);
        by.facts(&format!("{name}.by"), out);
        out.text(&format!("{name}.notes"), notes);
        out.text(&format!("{name}.decision"), decision.as_str());
        out.optional(&format!("{name}.stance"), stance.map(|s| s.as_str()));
    }
}

impl Facts for Resolution {
    fn facts(&self, name: &str, out: &mut StateText) {
        let Resolution {
            outcome,
            settled_amount,
            credit_note_id,
            makegood_campaign_id,
            settlement_adjustment_id,
            reason,
            by,
            at,
            notes,
            kind,
            adjustments,
            original_application_id,
            ledger,
        } = self;
        out.text(&format!("{name}.outcome"), outcome.as_str());
        out.decimal(&format!("{name}.settled_amount"), *settled_amount);
        out.optional(&format!("{name}.credit_note_id"), credit_note_id.as_deref());
        out.optional(
            &format!("{name}.makegood_campaign_id"),
            makegood_campaign_id.as_deref(),
        );
        out.optional(
            &format!("{name}.settlement_adjustment_id"),
            settlement_adjustment_id.as_deref(),
        );
        out.reason(&format!("{name}.reason"), *reason);
        by.facts(&format!("{name}.by"), out);
        out.time(&format!("{name}.at"), *at);
        out.text(&format!("{name}.notes"), notes);
        out.optional(&format!("{name}.kind"), kind.map(|k| k.as_str()));
        out.list(
            &format!("{name}.adjustments"),
            adjustments,
            |out, item, adjustment| {
                let Adjustment { party, cents } = adjustment;
                out.text(&format!("{item}.party"), party.as_str());
                out.integer(&format!("{item}.cents"), *cents);
            },
        );
        out.optional(
            &format!("{name}.original_application_id"),
            original_application_id.as_deref(),
        );
        let (applied, skipped) = match ledger {
            Some(LedgerOutcome::Applied { override_id }) => (Some(override_id.as_str()), None),
            Some(LedgerOutcome::Skipped { reason }) => (None, Some(reason.as_str())),
            None => (None, None),
        };
        out.optional(&format!("{name}.ledger.applied"), applied);
        out.optional(&format!("{name}.ledger.skipped"), skipped);
    }
}

impl Facts for CollectionHold {
    fn facts(&self, name: &str, out: &mut StateText) {
        let CollectionHold { until, released_at } = self;
        out.time(&format!("{name}.until"), *until);
        out.optional_time(&format!("{name}.released_at"), *released_at);
    }
}

impl Facts for crate::Claim {
    fn facts(&self, name: &str, out: &mut StateText) {
        let crate::Claim {
            quantity,
            billing,
            record,
        } = self;
        quantity.facts(&format!("{name}.quantity"), out);
        out.group(&format!("{name}.billing"), billing.as_ref());
        out.group(&format!("{name}.record"), record.as_ref());
    }
}

impl Facts for crate::BillingTerms {
    fn facts(&self, name: &str, out: &mut StateText) {
        let crate::BillingTerms {
            tax,
            credit,
            reason,
            note_status,
            note_amount,
            effective,
            percent,
        } = self;
        out.text(&format!("{name}.tax"), tax.as_str());
        out.flag(&format!("{name}.credit"), *credit);
        out.reason(&format!("{name}.reason"), *reason);
        out.text(&format!("{name}.note_status"), note_status.as_str());
        out.optional_decimal(&format!("{name}.note_amount"), *note_amount);
        out.optional_time(&format!("{name}.effective"), *effective);
        out.optional_decimal(&format!("{name}.percent"), *percent);
    }
}

impl Facts for crate::BillingRecord {
    fn facts(&self, name: &str, out: &mut StateText) {
        let crate::BillingRecord {
            resource_id,
            action_affects,
            note_type,
            note_sub_type,
            note_header,
            comment_authors,
        } = self;
        out.optional(
            &format!("{name}.resource_id"),
            resource_id.map(|id| id.to_string()).as_deref(),
        );
        out.optional(&format!("{name}.action_affects"), action_affects.as_deref());
        out.optional(&format!("{name}.note_type"), note_type.as_deref());
        out.optional(&format!("{name}.note_sub_type"), note_sub_type.as_deref());
        out.optional(&format!("{name}.note_header"), note_header.as_deref());
        out.list(
            &format!("{name}.comment_authors"),
            comment_authors,
            |out, item, author| {
                let crate::CommentAuthor {
                    csr_login_id,
                    csr_first_name,
                    csr_last_name,
                    csr_account_id,
                    external_user,
                    tracking_id,
                    entry_date,
                } = author;
                out.optional(&format!("{item}.csr_login_id"), csr_login_id.as_deref());
                out.optional(&format!("{item}.csr_first_name"), csr_first_name.as_deref());
                out.optional(&format!("{item}.csr_last_name"), csr_last_name.as_deref());
                out.optional(&format!("{item}.csr_account_id"), csr_account_id.as_deref());
                out.optional(&format!("{item}.external_user"), external_user.as_deref());
                out.optional(&format!("{item}.tracking_id"), tracking_id.as_deref());
                out.optional_time(&format!("{item}.entry_date"), *entry_date);
            },
        );
    }
}

impl Facts for crate::Subject {
    fn facts(&self, name: &str, out: &mut StateText) {
        out.text(&format!("{name}.kind"), self.kind().as_str());
        match self {
            crate::Subject::Delivery(subject) => subject.facts(name, out),
            crate::Subject::Invoice(subject) => subject.facts(name, out),
            crate::Subject::Billing(subject) => subject.facts(name, out),
        }
    }
}

impl Facts for crate::BillingTarget {
    fn facts(&self, name: &str, out: &mut StateText) {
        out.text(&format!("{name}.kind"), self.kind().as_str());
        match self {
            crate::BillingTarget::Item(id) | crate::BillingTarget::Bill(id) => {
                out.text(&format!("{name}.id"), id);
            }
            crate::BillingTarget::Events(events) => events.facts(&format!("{name}.events"), out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_is_length_prefixed_and_absence_is_its_own_line() {
        let mut out = StateText::new();
        out.text("a", "x\nb 1:y");
        out.optional("c", None);
        out.list("d", &[1_i64, 2], |out, item, n| out.integer(item, *n));
        assert_eq!(
            out.text,
            "disputes-state/v1\na 7:x\nb 1:y\nc -\nd #2\nd.0 1:1\nd.1 1:2\n"
        );
    }

    #[test]
    fn amounts_keep_their_scale() {
        let mut five = StateText::new();
        five.decimal("amount", Decimal::new(5, 0));
        let mut five_hundredths = StateText::new();
        five_hundredths.decimal("amount", Decimal::new(500, 2));
        assert_ne!(five.text, five_hundredths.text);
    }
}
