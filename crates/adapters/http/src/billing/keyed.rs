//! What the idempotency guard needs of the billing contract.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use disputes_domain::DisputeId;
use disputes_ports::Principal;

use super::media::Format;
use super::{base_url, created, poid, Billing};
use crate::shared::idempotency::KeyedContract;
use crate::SharedState;

/// What a keyed POST of this contract answers with: a reference to what it made, which the
/// dispute's id determines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// `POST /disputes/item/{itemId}`: the dispute.
    Dispute,
    /// `POST /disputes/settlement/item/{disputeId}`: the dispute's settlement.
    Settlement,
}

impl KeyedContract for Billing {
    type Operation = Answers;

    async fn effected(
        state: &SharedState,
        headers: &HeaderMap,
        operation: Answers,
        _: &Principal,
        id: DisputeId,
    ) -> Response {
        let format = Format::of(headers);
        let (reference, uri) = match operation {
            Answers::Dispute => {
                let dispute = poid::dispute(id);
                let uri = format!("{}/disputes/{dispute}", base_url(state));
                (dispute, uri)
            }
            Answers::Settlement => {
                let settlement = poid::settlement(id);
                let uri = format!("{}/disputes/settlement/{settlement}", base_url(state));
                (settlement, uri)
            }
        };
        created(format, "resource", &reference, &uri).unwrap_or_else(IntoResponse::into_response)
    }
}
