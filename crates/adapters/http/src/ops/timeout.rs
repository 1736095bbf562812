//! The request timeout: the client gets a 503 in its contract's shape once the limit passes, but
//! the request is not cancelled. `run_to_completion` runs it on a task of its own, and dropping
//! the wait for that task leaves it running, so a change that was under way still commits (or
//! rolls back) whole, never halfway.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::ACCEPT;
use axum::middleware::Next;
use axum::response::Response;

use crate::shared::{codes, Problem};

/// Answers with the handler's response, or with a 503 `request_timeout` once `limit` passes.
pub(super) async fn answer_in_time(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    // Enough of the request to answer in its contract's shape after it has been handed on.
    let mut echo = Request::new(axum::body::Body::empty());
    *echo.uri_mut() = request.uri().clone();
    if let Some(accept) = request.headers().get(ACCEPT) {
        echo.headers_mut().insert(ACCEPT, accept.clone());
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                limit_ms = limit.as_millis() as u64,
                "request timed out; it goes on to completion without a listener"
            );
            let problem = Problem::new(
                codes::REQUEST_TIMEOUT,
                format!(
                    "no answer within {} ms; the request may still take effect, so check before \
                     repeating it",
                    limit.as_millis()
                ),
            );
            crate::render_for_path(&echo, problem)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::{to_bytes, Body};
    use axum::middleware;
    use axum::routing::post;
    use axum::Router;
    use tokio::sync::{oneshot, Mutex, Notify};
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test]
    async fn a_slow_request_gets_a_503_in_its_contracts_shape_and_still_finishes() {
        let release = Arc::new(Notify::new());
        let (finished, handler_finished) = oneshot::channel::<()>();
        let finished = Arc::new(Mutex::new(Some(finished)));
        let handler = {
            let release = release.clone();
            move || async move {
                // Waits for the test, far beyond the timeout, like a slow transaction.
                release.notified().await;
                if let Some(finished) = finished.lock().await.take() {
                    let _ = finished.send(());
                }
                "done"
            }
        };
        let app = Router::new()
            .route("/v2/dispute", post(handler))
            .layer(middleware::from_fn(crate::run_to_completion))
            .layer(middleware::from_fn_with_state(
                Duration::from_millis(50),
                answer_in_time,
            ));

        let response = app
            .oneshot(
                Request::post("/v2/dispute")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("an answer");

        assert_eq!(
            response.status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
        let body = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            body["error"], "request_timeout",
            "the invoice shape: {body}"
        );
        assert_eq!(body["code"], 50302);
        // The client is gone; the handler is not.
        release.notify_one();
        tokio::time::timeout(Duration::from_secs(10), handler_finished)
            .await
            .expect("the handler finishes after the timeout")
            .expect("the handler ran to its end");
    }
}
