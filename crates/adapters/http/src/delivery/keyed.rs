//! What the idempotency guard needs of the delivery contract.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use disputes_domain::DisputeId;
use disputes_ports::Principal;

use super::{dispute_answer, render_problem, Caller, Delivery, KIND};
use crate::shared::idempotency::KeyedContract;
use crate::shared::Problem;
use crate::SharedState;

/// Where this contract lives.
pub const BASE_PATH: &str = "/v1/";

impl KeyedContract for Delivery {
    async fn principal(parts: &mut Parts, state: &SharedState) -> Option<Principal> {
        Caller::from_request_parts(parts, state)
            .await
            .ok()
            .map(|caller| caller.0)
    }

    fn problem(_: &HeaderMap, problem: Problem) -> Response {
        render_problem(problem)
    }

    /// Every POST of this contract answers with the dispute it changed: the open with 201, the
    /// rest with 200.
    async fn effected(
        state: &SharedState,
        _: &HeaderMap,
        path: &str,
        by: &Principal,
        id: DisputeId,
    ) -> Response {
        let status = if path.trim_end_matches('/') == "/v1/disputes" {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        let answer = match state.disputes.get(by, id, KIND).await {
            Ok(dispute) => dispute_answer(status, &dispute),
            Err(e) => Err(e.into()),
        };
        answer.unwrap_or_else(IntoResponse::into_response)
    }
}
