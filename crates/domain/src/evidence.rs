use crate::message::free_text;
use crate::subject::required_text;
use crate::{Digest, DomainError};

named_enum! {
    /// What an evidence item is. The first three are the proofs a delivery claim must carry at
    /// least one of.
    pub enum EvidenceKind in "evidence" {
        ProofPack => "proof_pack",
        MeteringSnapshot => "metering_snapshot",
        SettlementApplication => "settlement_application",
        AttachmentRef => "attachment_ref",
        AuditorReport => "auditor_report",
        Statement => "statement",
        /// A file attached to the opening message, as `sha256:<hex>` of its bytes.
        Attachment => "attachment",
    }
}

impl EvidenceKind {
    /// Proof that delivery did or did not happen, as opposed to supporting material.
    pub fn is_delivery_proof(self) -> bool {
        matches!(
            self,
            EvidenceKind::ProofPack
                | EvidenceKind::MeteringSnapshot
                | EvidenceKind::SettlementApplication
        )
    }
}

/// One piece of evidence: a reference to material held elsewhere, or a statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EvidenceItem {
    kind: EvidenceKind,
    value: String,
}

impl EvidenceItem {
    pub fn new(kind: EvidenceKind, value: impl Into<String>) -> Result<Self, DomainError> {
        // A statement is prose and may have paragraphs; the canonical form is length-prefixed,
        // so line breaks in a value cannot forge an item boundary.
        let value = if kind == EvidenceKind::Statement {
            free_text("evidenceBundle", value, 10_000)?
        } else {
            required_text("evidenceBundle", value, 256)?
        };
        Ok(EvidenceItem { kind, value })
    }

    pub fn kind(&self) -> EvidenceKind {
        self.kind
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

/// The evidence sealed when a dispute is opened. It never changes afterwards; its
/// [`digest`](EvidenceBundle::digest) over the canonical form proves that.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct EvidenceBundle {
    items: Vec<EvidenceItem>,
}

const CANONICAL_HEADER: &str = "disputes-evidence/v1\n";

impl EvidenceBundle {
    /// Items keep the order given: the order is part of what was sealed.
    pub fn new(items: Vec<EvidenceItem>) -> Self {
        EvidenceBundle { items }
    }

    pub fn items(&self) -> &[EvidenceItem] {
        &self.items
    }

    /// The values of one kind, in order.
    pub fn values(&self, kind: EvidenceKind) -> impl Iterator<Item = &str> {
        self.items
            .iter()
            .filter(move |i| i.kind == kind)
            .map(|i| i.value.as_str())
    }

    pub fn has_delivery_proof(&self) -> bool {
        self.items.iter().any(|i| i.kind.is_delivery_proof())
    }

    /// The unambiguous text the digest is taken over: a header line, then one line per item,
    /// `kind:byte_length:value`. The length prefix means no value can forge a boundary.
    pub fn canonical(&self) -> String {
        let mut out = String::from(CANONICAL_HEADER);
        for item in &self.items {
            out.push_str(item.kind.as_str());
            out.push(':');
            out.push_str(&item.value.len().to_string());
            out.push(':');
            out.push_str(&item.value);
            out.push('\n');
        }
        out
    }

    /// SHA-256 over [`canonical`](EvidenceBundle::canonical).
    pub fn digest(&self) -> Digest {
        Digest::of(self.canonical().as_bytes())
    }

    /// Reads a bundle back from its canonical form, as stores keep it.
    pub fn from_canonical(text: &str) -> Result<Self, DomainError> {
        let corrupt =
            |why: &str| DomainError::invalid("evidence", format!("corrupt canonical form: {why}"));
        let mut rest = text
            .strip_prefix(CANONICAL_HEADER)
            .ok_or_else(|| corrupt("missing header"))?;
        let mut items = Vec::new();
        while !rest.is_empty() {
            let (kind, after_kind) = rest.split_once(':').ok_or_else(|| corrupt("no kind"))?;
            let (len, after_len) = after_kind
                .split_once(':')
                .ok_or_else(|| corrupt("no length"))?;
            let len: usize = len.parse().map_err(|_| corrupt("bad length"))?;
            let value = after_len.get(..len).ok_or_else(|| corrupt("short value"))?;
            rest = after_len[len..]
                .strip_prefix('\n')
                .ok_or_else(|| corrupt("no line end"))?;
            items.push(EvidenceItem {
                kind: kind.parse()?,
                value: value.to_owned(),
            });
        }
        Ok(EvidenceBundle { items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn item(kind: EvidenceKind, v: &str) -> EvidenceItem {
        EvidenceItem::new(kind, v).unwrap()
    }

    #[test]
    fn the_canonical_form_round_trips_and_values_cannot_forge_boundaries() {
        let bundle = EvidenceBundle::new(vec![
            item(EvidenceKind::ProofPack, "pp-1"),
            item(EvidenceKind::Statement, "a:b:1:c"),
        ]);
        assert_eq!(
            EvidenceBundle::from_canonical(&bundle.canonical()).unwrap(),
            bundle
        );
        let other = EvidenceBundle::new(vec![item(EvidenceKind::Statement, "a:b:1:c")]);
        assert_ne!(bundle.digest(), other.digest());
    }

    #[test]
    fn a_multi_line_statement_round_trips() {
        let bundle = EvidenceBundle::new(vec![
            item(EvidenceKind::Statement, "line one\nattachment:9:x\n"),
            item(EvidenceKind::Attachment, "sha256:00"),
        ]);
        assert_eq!(
            EvidenceBundle::from_canonical(&bundle.canonical()).unwrap(),
            bundle
        );
        assert!(EvidenceItem::new(EvidenceKind::ProofPack, "a\nb").is_err());
    }

    #[test]
    fn delivery_proof_is_one_of_the_three_id_kinds() {
        let refs_only = EvidenceBundle::new(vec![item(EvidenceKind::AttachmentRef, "a")]);
        assert!(!refs_only.has_delivery_proof());
        let with_proof = EvidenceBundle::new(vec![item(EvidenceKind::MeteringSnapshot, "m")]);
        assert!(with_proof.has_delivery_proof());
    }

    #[test]
    fn corrupt_text_is_refused() {
        for bad in [
            "",
            "disputes-evidence/v1\nproof_pack:9:x\n",
            "disputes-evidence/v1\nnope:1:x\n",
        ] {
            assert!(EvidenceBundle::from_canonical(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_bundle_round_trips(values in proptest::collection::vec("[^\\p{Cc}]{1,40}", 0..6)) {
            let items: Vec<_> = values
                .iter()
                .filter(|v| !v.trim().is_empty())
                .map(|v| item(EvidenceKind::Statement, v))
                .collect();
            let bundle = EvidenceBundle::new(items);
            prop_assert_eq!(EvidenceBundle::from_canonical(&bundle.canonical()).unwrap(), bundle);
        }
    }
}
