//! The endpoints for running the service (`/healthz`, `/readyz`, `/metrics`) in the OpenAPI
//! document, tagged apart from the contracts: no credentials, plain-text answers. They pass
//! through the same layers as the contracts, so they carry `X-Request-Id` and a timed-out one is a
//! 503 `request_timeout` (in the delivery contract's error shape, the default of paths no
//! contract owns).

use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::{OpenApi, OpenApiBuilder, Paths, PathsBuilder, RefOr, Response, Schema};

use super::{operation, response_with, schema_ref, string_schema};

const TAG: &str = "operations";

/// This part of the document: paths only, every schema they use is the contracts'.
pub fn document() -> OpenApi {
    OpenApiBuilder::new().paths(paths()).build()
}

fn text(description: &str, example: &str) -> Response {
    let schema: Schema = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .examples([example])
        .into();
    response_with(description, vec![("text/plain", RefOr::T(schema))], &[])
}

/// What a timed-out answer is here.
const TIMED_OUT: &str = "No answer within the request timeout: a `request_timeout` in the delivery contract's error shape.";

/// A 503: the answer timed out, or (`plain`, readiness only) the store is unreachable.
fn unavailable(plain: Option<&str>) -> Response {
    let mut content = vec![("application/json", schema_ref("DeliveryError"))];
    let mut description = TIMED_OUT.to_owned();
    if let Some(plain) = plain {
        content.push(("text/plain", RefOr::T(string_schema())));
        description = format!("{plain} Or: {TIMED_OUT}");
    }
    response_with(&description, content, &[])
}

fn paths() -> Paths {
    let operations = [
        operation(
            HttpMethod::Get,
            "/healthz",
            TAG,
            "healthz",
            "Liveness",
            "Answers `ok` while the process serves requests; it does not touch the store.",
        )
        .answer(200, text("The process is alive.", "ok"))
        .answer(503, unavailable(None)),
        operation(
            HttpMethod::Get,
            "/readyz",
            TAG,
            "readyz",
            "Readiness",
            "Answers `ready` when the store answers a ping, so a load balancer sends traffic only to instances that can serve it.",
        )
        .answer(200, text("The store answers.", "ready"))
        .answer(
            503,
            unavailable(Some(
                "Not ready: `store unreachable` in plain text (the cause is logged).",
            )),
        ),
        operation(
            HttpMethod::Get,
            "/metrics",
            TAG,
            "metrics",
            "Prometheus metrics",
            "Requests by contract, route and status with their latency, and the store's counts (disputes by status, outbox depth, dead-lettered notifications by sink), in Prometheus' text format 0.0.4.",
        )
        .answer(
            200,
            text(
                "The metrics.",
                "# TYPE disputes_http_requests_total counter\n",
            ),
        )
        .answer(503, unavailable(None)),
    ];
    operations
        .into_iter()
        .fold(PathsBuilder::new(), |paths, op| op.add_to(paths))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operational_endpoints_are_tagged_apart_and_need_no_credentials() {
        let json = serde_json::to_value(document()).expect("the document serialises");
        for path in ["/healthz", "/readyz", "/metrics"] {
            let op = &json["paths"][path]["get"];
            assert_eq!(op["tags"], serde_json::json!(["operations"]), "{path}");
            assert!(op.get("security").is_none(), "{path}");
            assert!(
                op["responses"]["200"]["content"]["text/plain"].is_object(),
                "{path}"
            );
        }
    }
}
