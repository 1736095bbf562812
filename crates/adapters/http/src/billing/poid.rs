//! Oracle BRM's object ids (POIDs) for this contract's resources: `<database> +<type> <id>`,
//! spelled `0.0.0.1+-item-dispute+42`. The id is the dispute's own; a dispute has at most one
//! settlement, which shares it.

use disputes_domain::DisputeId;

const DISPUTE: &str = "0.0.0.1+-item-dispute+";
const SETTLEMENT: &str = "0.0.0.1+-item-settlement+";

pub fn dispute(id: DisputeId) -> String {
    format!("{DISPUTE}{id}")
}

pub fn settlement(id: DisputeId) -> String {
    format!("{SETTLEMENT}{id}")
}

/// The dispute a dispute POID names; `None` for anything else.
pub fn parse_dispute(text: &str) -> Option<DisputeId> {
    number(text.strip_prefix(DISPUTE)?)
}

/// The dispute whose settlement a settlement POID, or the dispute's own POID, names.
pub fn parse_settlement(text: &str) -> Option<DisputeId> {
    text.strip_prefix(SETTLEMENT)
        .map_or_else(|| parse_dispute(text), number)
}

/// Digits only: `+7`, ` 7` or `07` are not how we spell an id, so they name nothing.
fn number(digits: &str) -> Option<DisputeId> {
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poids_round_trip_and_nothing_else_parses() {
        let id = DisputeId::new(275027).unwrap();
        assert_eq!(dispute(id), "0.0.0.1+-item-dispute+275027");
        assert_eq!(parse_dispute(&dispute(id)), Some(id));
        assert_eq!(parse_settlement(&settlement(id)), Some(id));
        assert_eq!(parse_settlement(&dispute(id)), Some(id));
        for bad in [
            "275027",
            "0.0.0.1+-item-dispute+",
            "0.0.0.1+-item-dispute+0",
            "0.0.0.1+-item-dispute+007",
            "0.0.0.1+-item-dispute++7",
            "0.0.0.1+-item-dispute+7x",
            "0.0.0.1 -item-dispute 7",
            "0.0.0.1+-item-dispute+99999999999999999999",
            "0.0.0.1+-item-settlement+7",
        ] {
            assert_eq!(parse_dispute(bad), None, "{bad}");
        }
        assert_eq!(parse_settlement("0.0.0.1+-item-cycle_forward+7"), None);
    }
}
