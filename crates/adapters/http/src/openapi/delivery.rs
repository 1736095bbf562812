//! The delivery contract (`/v1/disputes`) in the OpenAPI document: Bearer keys, the
//! `{ok, data | error, contractVersion}` envelope, decimal strings for amounts, `ETag` on every
//! dispute and `If-Match` on every change of one.

use utoipa::openapi::path::{HttpMethod, Parameter};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, OpenApi, Paths, PathsBuilder, Response, Schema};
use utoipa::{OpenApi as _, ToSchema};

use crate::delivery::webhooks::{Created, WebhookIn};
use crate::delivery::wire::{
    AdvertiserResponseIn, DisputeOut, NoteIn, NotesIn, OpenIn, OperatorResponseIn, ResolveIn,
    StateCounts, TransitionAdvertiserIn, TransitionIn, TransitionOperatorIn,
};

use disputes_domain::DeliverySubject;

use super::{
    bool_schema, cursor_schema, error_response, header_param, id_text_schema, json_content, one_of,
    operation, page_size_schema, path_param, query_param, response_with, schema_ref, time_schema,
    with_links, Op,
};

const TAG: &str = "delivery";
const BEARER: &str = "bearer";
/// The errors each kind of operation can answer with.
const CREATE_ERRORS: &[u16] = &[400, 401, 403, 409, 413, 415, 422, 429, 500, 503];
const LIST_ERRORS: &[u16] = &[400, 401, 403, 429, 500, 503];
const READ_ERRORS: &[u16] = &[401, 403, 404, 429, 500, 503];
const CHANGE_ERRORS: &[u16] = &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 500, 503];

/// `data` of an answer about one dispute.
#[derive(ToSchema)]
#[schema(as = DeliveryDisputeData)]
pub struct DisputeData {
    dispute: DisputeOut<'static>,
}

/// The envelope around one dispute.
#[derive(ToSchema)]
#[schema(as = DeliveryDisputeEnvelope, rename_all = "camelCase")]
pub struct DisputeEnvelope {
    /// Always `true` here.
    ok: bool,
    data: DisputeData,
    #[schema(example = "v1.0")]
    contract_version: String,
}

/// `data` of a page of disputes.
#[derive(ToSchema)]
#[schema(as = DeliveryDisputePage, rename_all = "camelCase")]
pub struct DisputePage {
    disputes: Vec<DisputeOut<'static>>,
    /// Pass as `cursor` for the next page; `null` on the last.
    #[schema(required = true)]
    next_cursor: Option<String>,
    /// How many disputes match the filters, `state` (or `status`) included, over every page.
    total: u64,
    counts: StateCounts,
}

/// The envelope around a page of disputes.
#[derive(ToSchema)]
#[schema(as = DeliveryDisputePageEnvelope, rename_all = "camelCase")]
pub struct DisputePageEnvelope {
    /// Always `true` here.
    ok: bool,
    data: DisputePage,
    #[schema(example = "v1.0")]
    contract_version: String,
}

/// The envelope around a new webhook subscription and its signing secret.
#[derive(ToSchema)]
#[schema(as = DeliveryWebhookEnvelope, rename_all = "camelCase")]
pub struct WebhookEnvelope {
    /// Always `true` here.
    ok: bool,
    data: Created<'static>,
    #[schema(example = "v1.0")]
    contract_version: String,
}

/// The envelope around a signed export (`GET /v1/disputes/{id}?export=true`).
#[derive(ToSchema)]
#[schema(as = DeliveryExportEnvelope, rename_all = "camelCase")]
pub struct ExportEnvelope {
    /// Always `true` here.
    ok: bool,
    data: crate::shared::export::Envelope,
    #[schema(example = "v1.0")]
    contract_version: String,
}

/// The envelope around the published signing keys.
#[derive(ToSchema)]
#[schema(as = DeliveryRuntimeKeysEnvelope, rename_all = "camelCase")]
pub struct RuntimeKeysEnvelope {
    /// Always `true` here.
    ok: bool,
    data: crate::shared::export::KeySet,
    #[schema(example = "v1.0")]
    contract_version: String,
}

/// One problem with one field of the request.
#[derive(ToSchema)]
#[schema(as = DeliveryFieldIssue)]
pub struct FieldIssue {
    field: String,
    issue: String,
}

/// What went wrong: a stable `code` to branch on, a message for people, the fields at fault.
#[derive(ToSchema)]
#[schema(as = DeliveryErrorDetail)]
pub struct ErrorDetail {
    #[schema(schema_with = error_code)]
    code: String,
    message: String,
    details: Vec<FieldIssue>,
}

/// Every error of this contract: the envelope with `ok: false`.
#[derive(ToSchema)]
#[schema(as = DeliveryError, rename_all = "camelCase")]
pub struct ErrorEnvelope {
    /// Always `false` here.
    ok: bool,
    error: ErrorDetail,
    #[schema(example = "v1.0")]
    contract_version: String,
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    DisputeEnvelope,
    DisputePageEnvelope,
    ExportEnvelope,
    RuntimeKeysEnvelope,
    ErrorEnvelope,
    OpenIn,
    OperatorResponseIn,
    AdvertiserResponseIn,
    ResolveIn,
    NotesIn,
    NoteIn,
    TransitionIn,
    TransitionOperatorIn,
    TransitionAdvertiserIn,
    WebhookEnvelope,
    WebhookIn
)))]
struct Schemas;

/// This contract's part of the document.
pub fn document() -> OpenApi {
    let mut doc = Schemas::openapi();
    doc.paths = paths();
    let components = doc.components.take().unwrap_or_default();
    doc.components = Some(
        ComponentsBuilder::from(components)
            .security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(
                    "The delivery contract: an API key from `disputes key create --role advertiser|operator`, as `Authorization: Bearer <key>`.",
                )).build()),
            )
            .build(),
    );
    doc
}

fn error(status: u16) -> Response {
    error_response(
        &crate::delivery::CODES,
        status,
        "DeliveryError",
        &["application/json"],
    )
}

fn error_code() -> Schema {
    super::error_code_schema(&crate::delivery::CODES)
}

/// A dispute in the envelope, with its version as the `ETag`.
fn dispute(status: &str) -> Response {
    response_with(
        status,
        json_content("DeliveryDisputeEnvelope"),
        &[(
            "ETag",
            "The dispute's version, quoted (`\"3\"`): send it as `If-Match` to change this version only.",
        )],
    )
}

fn if_match() -> Parameter {
    // What the handler's `IfMatch` reads: `*`, or a positive version in quotes, weak or strong.
    header_param(
        "If-Match",
        Some(r#"^(\*|(W/)?"[1-9][0-9]{0,17}")?$"#),
        "The dispute's `ETag` (`\"3\"`): the change applies to that version only, else 412. Left out or `*`, it applies to the current version; empty, it names no version, so it is a 412 too.",
    )
}

fn dispute_id() -> Parameter {
    path_param(
        "id",
        "The dispute's id, as `data.dispute.id` shows it. Another tenant's id is not found.",
    )
}

/// A change of one dispute: its id, `If-Match`, `Idempotency-Key`, a JSON body.
fn change(path: &'static str, id: &str, summary: &str, description: &str, body: &str) -> Op {
    operation(HttpMethod::Post, path, TAG, id, summary, description)
        .security(BEARER)
        .params([dispute_id(), if_match()])
        .keyed()
        .json_body(body)
        .answer(200, dispute("The dispute as it is now."))
        .errors(CHANGE_ERRORS, error)
}

fn paths() -> Paths {
    let operations = [
        operation(
            HttpMethod::Post,
            "/v1/disputes",
            TAG,
            "deliveryOpenDispute",
            "Open a delivery dispute",
            "Claims a shortfall in delivery of a campaign over a period. An advertiser key opens as advertiser, an operator key as operator; a second open dispute about the same campaign and period is a 409 `duplicate_dispute`.",
        )
        .security(BEARER)
        .keyed()
        .json_body("DeliveryOpenRequest")
        .answer(
            201,
            with_links(
                dispute("The dispute, opened."),
                &[
                    "deliveryGetDispute",
                    "deliveryTransitionDispute",
                    "deliveryOperatorResponse",
                    "deliveryAdvertiserResponse",
                    "deliveryResolveDispute",
                    "deliveryWithdrawDispute",
                    "deliveryEscalateDispute",
                    "deliveryAddNote",
                ]
                .map(|operation| (operation, "id", "$response.body#/data/dispute/id")),
            ),
        )
        .errors(CREATE_ERRORS, error),
        operation(
            HttpMethod::Get,
            "/v1/disputes",
            TAG,
            "deliveryListDisputes",
            "List delivery disputes",
            "The tenant's delivery disputes, newest first, a page at a time, with how many match (`total`) and how many of those the filters but the state match are in each state (`counts`).",
        )
        .security(BEARER)
        .params([
            query_param("state", schema_ref("DeliveryState"), "Only disputes in this state (the vendor's filter)."),
            query_param("status", schema_ref("DisputeStatus"), "Only disputes in this status (ours, finer than `state`); with `state` too, both apply."),
            query_param("campaignId", id_text_schema(DeliverySubject::MAX_ID), "Only disputes about this campaign."),
            query_param("openedAfter", time_schema(), "Only disputes opened at or after this RFC 3339 time."),
            query_param("openedBefore", time_schema(), "Only disputes opened before this RFC 3339 time."),
            query_param("limit", page_size_schema(), "How many disputes a page holds, 1 to 100 (default 20)."),
            query_param("cursor", cursor_schema(), "The `nextCursor` of the page before."),
        ])
        .answer(200, response_with(
            "A page of disputes.",
            json_content("DeliveryDisputePageEnvelope"),
            &[],
        ))
        .errors(LIST_ERRORS, error),
        operation(
            HttpMethod::Get,
            "/v1/disputes/{id}",
            TAG,
            "deliveryGetDispute",
            "Get a delivery dispute",
            "One dispute of the tenant, with its `ETag`; with `export=true`, the dispute as a signed `export.v1` envelope (kind `dispute.export.v1`): its payload the dispute as shown here plus its whole timeline (`prevHash`, `hash`, `stateDigest`, `seal`), the canonical evidence and the head, signed with a key of `GET /v1/runtime-keys` (docs/integrity.md).",
        )
        .security(BEARER)
        .params([
            dispute_id(),
            query_param(
                "export",
                bool_schema(),
                "`true`: the dispute as a signed export instead.",
            ),
        ])
        .answer(
            200,
            response_with(
                "The dispute, with its `ETag`; or, with `export=true`, its signed export.",
                vec![(
                    "application/json",
                    one_of(&["DeliveryDisputeEnvelope", "DeliveryExportEnvelope"]),
                )],
                &[(
                    "ETag",
                    "The dispute's version, quoted (`\"3\"`), on the dispute itself: send it as `If-Match` to change this version only.",
                )],
            ),
        )
        .errors(&[400, 401, 403, 404, 429, 500, 503], error),
        operation(
            HttpMethod::Get,
            "/v1/runtime-keys",
            TAG,
            "deliveryRuntimeKeys",
            "Published signing keys",
            "Every key the engine signs timeline entries and exports with, retired and revoked ones too, as the vendor publishes its own: no credentials needed. A verifier checks an export's signature with the key its `keyId` names, valid at its `exportedAt`.",
        )
        .answer(
            200,
            response_with(
                "The keys.",
                json_content("DeliveryRuntimeKeysEnvelope"),
                &[],
            ),
        )
        .errors(&[500, 503], error),
        change(
            "/v1/disputes/{id}/transition",
            "deliveryTransitionDispute",
            "Advance a dispute",
            "The vendor's transition route: moves the dispute to `INVESTIGATING`, `EVIDENCE_GATHERED` or `OPERATOR_RESPONDED` (operator keys) or `ADVERTISER_RESPONDED` (advertiser keys). A state the dispute cannot move to is a 409 `illegal_transition`.",
            "DeliveryTransitionRequest",
        ),
        change(
            "/v1/disputes/{id}/operator-response",
            "deliveryOperatorResponse",
            "Respond as the operator",
            "The operator's answer to an open dispute, optionally proposing a remedy. Operator keys only.",
            "DeliveryOperatorResponseRequest",
        ),
        change(
            "/v1/disputes/{id}/advertiser-response",
            "deliveryAdvertiserResponse",
            "Accept or reject the operator's response",
            "The advertiser's decision on the operator's response. Advertiser keys only.",
            "DeliveryAdvertiserResponseRequest",
        ),
        change(
            "/v1/disputes/{id}/resolve",
            "deliveryResolveDispute",
            "Resolve a dispute",
            "Settles the dispute: granted, partially granted (with `settledAmount`) or denied, once the advertiser answered the operator's response (`ADVERTISER_RESPONDED`) or in mediation (`ESCALATED`). Operator keys only.",
            "DeliveryResolveRequest",
        ),
        change(
            "/v1/disputes/{id}/withdraw",
            "deliveryWithdrawDispute",
            "Withdraw a dispute",
            "The opener withdraws its dispute before it is resolved: only the actor that opened it (`openedBy`); another is a 412 `not_opener`.",
            "DeliveryNotesRequest",
        ),
        change(
            "/v1/disputes/{id}/escalate",
            "deliveryEscalateDispute",
            "Escalate a dispute",
            "Either party takes the dispute to mediation from any state that is not final; an escalated dispute may be resolved, withdrawn, or answered again by the operator.",
            "DeliveryNotesRequest",
        ),
        change(
            "/v1/disputes/{id}/notes",
            "deliveryAddNote",
            "Add a note",
            "Adds a note to the dispute's timeline.",
            "DeliveryNoteRequest",
        ),
        operation(
            HttpMethod::Post,
            "/v1/webhooks",
            TAG,
            "deliveryCreateWebhook",
            "Register a webhook",
            "Registers an endpoint for the tenant's dispute events, as the delivery vendor's \"Create a webhook subscription\" does. The answer carries the `whsec_` signing secret, this once. Each delivery is a JSON POST signed `X-Signature: sha256=<hex>` over `<X-Timestamp>.<body>` and `Enfinitos-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">`, keyed with the secret. Operator keys only.",
        )
        .security(BEARER)
        .keyed()
        .json_body("DeliveryWebhookRequest")
        .answer(
            201,
            response_with(
                "The subscription, with its signing secret.",
                json_content("DeliveryWebhookEnvelope"),
                &[],
            ),
        )
        .errors(CREATE_ERRORS, error),
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
    fn every_route_of_the_contract_is_documented_with_its_auth_and_errors() {
        let doc = document();
        let json = serde_json::to_value(&doc).expect("the document serialises");
        for (path, method) in [
            ("/v1/disputes", "post"),
            ("/v1/disputes", "get"),
            ("/v1/disputes/{id}", "get"),
            ("/v1/disputes/{id}/operator-response", "post"),
            ("/v1/disputes/{id}/advertiser-response", "post"),
            ("/v1/disputes/{id}/transition", "post"),
            ("/v1/disputes/{id}/resolve", "post"),
            ("/v1/disputes/{id}/withdraw", "post"),
            ("/v1/disputes/{id}/escalate", "post"),
            ("/v1/disputes/{id}/notes", "post"),
            ("/v1/webhooks", "post"),
        ] {
            let op = &json["paths"][path][method];
            assert_eq!(
                op["security"],
                serde_json::json!([{"bearer": []}]),
                "{method} {path}"
            );
            assert_eq!(
                op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/DeliveryError",
                "{method} {path}"
            );
        }
    }
}
