//! What the idempotency guard needs of the delivery contract.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use disputes_domain::DisputeId;
use disputes_ports::Principal;

use super::{dispute_answer, webhooks, Delivery, DeliveryError, KIND};
use crate::shared::idempotency::KeyedContract;
use crate::shared::Problem;
use crate::SharedState;

/// What a keyed POST of this contract answers with: the dispute it opened or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// `POST /disputes`: 201 with the new dispute.
    Opened,
    /// Every other POST about a dispute: 200 with the changed dispute.
    Changed,
    /// `POST /webhooks`: 201 with the subscription. A registration records the webhook on its
    /// key instead of a dispute (see `subscribed`).
    Subscribed,
}

impl KeyedContract for Delivery {
    type Operation = Answers;

    async fn effected(
        state: &SharedState,
        _: &HeaderMap,
        operation: Answers,
        by: &Principal,
        id: DisputeId,
    ) -> Response {
        let status = match operation {
            Answers::Opened => StatusCode::CREATED,
            Answers::Changed => StatusCode::OK,
            // No registration binds a dispute to its key; a key that names one was another
            // request's, whose fingerprint this one cannot share.
            Answers::Subscribed => {
                return DeliveryError::from(Problem::internal(
                    &"a webhook registration's key names a dispute",
                ))
                .into_response();
            }
        };
        let answer = match state.disputes.get(by, id, KIND).await {
            Ok(dispute) => dispute_answer(status, &dispute),
            Err(e) => Err(e.into()),
        };
        answer.unwrap_or_else(IntoResponse::into_response)
    }

    /// The registration as it was answered: the subscription with its secret, which the lost
    /// answer carried and the client must still learn.
    async fn subscribed(state: &SharedState, _: &HeaderMap, by: &Principal, id: i64) -> Response {
        match state.webhooks.subscription(&by.tenant, id).await {
            Ok(webhook) => webhooks::created(&webhook),
            Err(e) => DeliveryError::from(e).into_response(),
        }
    }
}
