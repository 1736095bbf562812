//! What the idempotency guard needs of the billing contract.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use disputes_domain::DisputeId;
use disputes_ports::Principal;

use super::media::Format;
use super::{base_url, created, poid, render_problem, Caller};
use crate::shared::idempotency::KeyedContract;
use crate::shared::Problem;
use crate::SharedState;

/// The billing contract, for the idempotency guard.
#[derive(Debug)]
pub struct Billing;

impl KeyedContract for Billing {
    async fn principal(parts: &mut Parts, state: &SharedState) -> Option<Principal> {
        Caller::from_request_parts(parts, state)
            .await
            .ok()
            .map(|caller| caller.0)
    }

    fn problem(headers: &HeaderMap, problem: Problem) -> Response {
        render_problem(headers, problem)
    }

    /// Both POSTs of this contract answer with a reference to what they made, which the
    /// dispute's id determines: the open to the dispute, a settlement to its settlement.
    async fn effected(
        _: &SharedState,
        headers: &HeaderMap,
        path: &str,
        _: &Principal,
        id: DisputeId,
    ) -> Response {
        let format = Format::of(headers);
        let answer = if path.contains("/disputes/settlement/") {
            let settlement = poid::settlement(id);
            let uri = format!("{}/disputes/settlement/{settlement}", base_url(headers));
            created(format, "resource", &settlement, &uri)
        } else {
            let dispute = poid::dispute(id);
            let uri = format!("{}/disputes/{dispute}", base_url(headers));
            created(format, "resource", &dispute, &uri)
        };
        answer.unwrap_or_else(IntoResponse::into_response)
    }
}
