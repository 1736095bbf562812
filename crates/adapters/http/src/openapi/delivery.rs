//! The delivery contract (`/v1/disputes`) in the OpenAPI document: Bearer keys, the
//! `{ok, data | error, contractVersion}` envelope, decimal strings for amounts, `ETag` on every
//! dispute and `If-Match` on every change of one.

use utoipa::openapi::path::{HttpMethod, Parameter};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, OpenApi, Paths, PathsBuilder, Response, Schema};
use utoipa::{OpenApi as _, ToSchema};

use super::{
    cursor_schema, error_response, header_param, json_content, operation, page_size_schema,
    path_param, query_param, response_with, schema_ref, string_schema, time_schema, with_links,
    Decision, DisputeStatus, Op, Outcome,
};

const TAG: &str = "delivery";
const BEARER: &str = "bearer";
/// The errors each kind of operation can answer with.
const CREATE_ERRORS: &[u16] = &[400, 401, 403, 409, 413, 415, 422, 429, 500, 503];
const LIST_ERRORS: &[u16] = &[400, 401, 403, 429, 500, 503];
const READ_ERRORS: &[u16] = &[401, 403, 404, 429, 500, 503];
const CHANGE_ERRORS: &[u16] = &[400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 500, 503];

/// A `{start, end}` pair of RFC 3339 times; the start comes before the end.
#[derive(ToSchema)]
#[schema(as = DeliveryPeriod)]
pub struct Period {
    #[schema(format = DateTime)]
    start: String,
    #[schema(format = DateTime)]
    end: String,
}

/// What was under-delivered: the campaign and the screens it ran on.
#[derive(ToSchema)]
#[schema(as = DeliverySurface, rename_all = "camelCase")]
pub struct Surface {
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    campaign_id: String,
    /// At least one screen.
    #[schema(min_items = 1)]
    screen_ids: Vec<ScreenId>,
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    substrate_id: Option<String>,
}

/// A screen's id: 1 to 128 characters without control characters.
#[derive(ToSchema)]
#[schema(as = DeliveryScreenId, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$")]
pub struct ScreenId(String);

/// How much is claimed, in a currency (ISO 4217, `EUR`) or a delivery unit (`impressions`).
#[derive(ToSchema)]
#[schema(as = DeliveryShortfall)]
pub struct Shortfall {
    #[schema(pattern = "^([A-Z]{3}|[a-z_]{1,32})$", example = "EUR")]
    unit: String,
    /// A decimal string, greater than zero.
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$", example = "1250.00")]
    amount: String,
}

/// References to the evidence behind a claim.
#[derive(ToSchema)]
#[schema(as = DeliveryEvidence, rename_all = "camelCase")]
pub struct Evidence {
    proof_pack_ids: Vec<String>,
    metering_snapshot_ids: Vec<String>,
    settlement_application_ids: Vec<String>,
    attachment_refs: Vec<String>,
    auditor_report_ref: Option<String>,
}

/// References to the evidence behind a claim; every list may be left out.
#[derive(ToSchema)]
#[schema(as = DeliveryEvidenceRequest, rename_all = "camelCase")]
pub struct EvidenceRequest {
    #[schema(nullable = false)]
    proof_pack_ids: Option<Vec<String>>,
    #[schema(nullable = false)]
    metering_snapshot_ids: Option<Vec<String>>,
    #[schema(nullable = false)]
    settlement_application_ids: Option<Vec<String>>,
    #[schema(nullable = false)]
    attachment_refs: Option<Vec<String>>,
    auditor_report_ref: Option<String>,
}

/// Who opens a dispute: the key's own role (advertiser if not given).
#[derive(ToSchema)]
#[schema(as = DeliveryRole, rename_all = "snake_case")]
pub enum Role {
    Advertiser,
    Operator,
}

/// `POST /v1/disputes`.
#[derive(ToSchema)]
#[schema(as = DeliveryOpenRequest, rename_all = "camelCase", example = json!({
    "disputedPeriod": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z"},
    "affectedSurface": {"campaignId": "cmp_8841", "screenIds": ["scr_12", "scr_13"]},
    "claimedShortfall": {"unit": "EUR", "amount": "1250.00"},
    "openedBy": "dev_adv_3",
    "openedByRole": "advertiser",
    "evidenceBundle": {"proofPackIds": ["pp_77"]}
}))]
pub struct OpenRequest {
    disputed_period: Period,
    affected_surface: Surface,
    claimed_shortfall: Shortfall,
    /// Who opened it, as the caller's systems name them; the key's developer if not given.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    opened_by: Option<String>,
    opened_by_role: Option<Role>,
    /// Required: at least one of `proofPackIds`, `meteringSnapshotIds` or
    /// `settlementApplicationIds` must name something (else 400 `evidence_required`).
    evidence_bundle: EvidenceRequest,
}

/// A remedy the operator proposes: an amount, a makegood window, or both.
#[derive(ToSchema)]
#[schema(as = DeliveryRemedyRequest, rename_all = "camelCase")]
pub struct RemedyRequest {
    #[schema(pattern = r"^-?[0-9]+(\.[0-9]+)?$", example = "1250.00")]
    amount: Option<String>,
    makegood_window: Option<Period>,
}

/// `POST /v1/disputes/{id}/operator-response`.
#[derive(ToSchema)]
#[schema(as = DeliveryOperatorResponseRequest, rename_all = "camelCase")]
pub struct OperatorResponseRequest {
    #[schema(nullable = false, max_length = 10000)]
    notes: Option<String>,
    proposed_remedy: Option<RemedyRequest>,
}

/// The advertiser's answer to the operator's response.
#[derive(ToSchema)]
#[schema(as = DeliveryDecisionRequest, rename_all = "snake_case")]
pub enum DecisionRequest {
    Accept,
    Reject,
}

/// `POST /v1/disputes/{id}/advertiser-response`.
#[derive(ToSchema)]
#[schema(as = DeliveryAdvertiserResponseRequest)]
pub struct AdvertiserResponseRequest {
    #[schema(nullable = false, max_length = 10000)]
    notes: Option<String>,
    decision: DecisionRequest,
}

/// How an operator resolves a dispute.
#[derive(ToSchema)]
#[schema(as = DeliveryOutcomeRequest, rename_all = "snake_case")]
pub enum OutcomeRequest {
    Granted,
    PartiallyGranted,
    Denied,
}

/// `POST /v1/disputes/{id}/resolve`.
#[derive(ToSchema)]
#[schema(as = DeliveryResolveRequest, rename_all = "camelCase")]
pub struct ResolveRequest {
    outcome: OutcomeRequest,
    /// What is settled; at most the claimed amount.
    #[schema(pattern = r"^-?[0-9]+(\.[0-9]+)?$", example = "1250.00")]
    settled_amount: Option<String>,
    credit_note_id: Option<String>,
    makegood_campaign_id: Option<String>,
    settlement_adjustment_id: Option<String>,
    #[schema(nullable = false, max_length = 10000)]
    notes: Option<String>,
}

/// `POST /v1/disputes/{id}/withdraw`.
#[derive(ToSchema)]
#[schema(as = DeliveryNotesRequest)]
pub struct NotesRequest {
    #[schema(nullable = false, max_length = 10000)]
    notes: Option<String>,
}

/// `POST /v1/disputes/{id}/notes`: a note is text, not blank, without control characters.
#[derive(ToSchema)]
#[schema(as = DeliveryNoteRequest)]
pub struct NoteRequest {
    #[schema(
        max_length = 10000,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    notes: String,
}

/// The operator's response.
#[derive(ToSchema)]
#[schema(as = DeliveryOperatorResponse, rename_all = "camelCase")]
pub struct OperatorResponse {
    #[schema(format = DateTime)]
    at: String,
    by: String,
    notes: String,
    #[schema(required = true)]
    proposed_remedy: Option<Remedy>,
}

/// A proposed remedy; what was not proposed is `null`.
#[derive(ToSchema)]
#[schema(as = DeliveryRemedy, rename_all = "camelCase")]
pub struct Remedy {
    #[schema(
        pattern = r"^-?[0-9]+(\.[0-9]+)?$",
        example = "1250.00",
        required = true
    )]
    amount: Option<String>,
    #[schema(required = true)]
    makegood_window: Option<Period>,
}

/// The opener's answer to the operator's response.
#[derive(ToSchema)]
#[schema(as = DeliveryAdvertiserResponse)]
pub struct AdvertiserResponse {
    #[schema(format = DateTime)]
    at: String,
    by: String,
    notes: String,
    #[schema(value_type = Decision)]
    decision: String,
}

/// How the dispute ended, once it has.
#[derive(ToSchema)]
#[schema(as = DeliveryResolution, rename_all = "camelCase")]
pub struct Resolution {
    #[schema(value_type = Outcome)]
    outcome: String,
    #[schema(pattern = r"^-?[0-9]+(\.[0-9]+)?$", example = "1250.00")]
    settled_amount: String,
    #[schema(required = true)]
    credit_note_id: Option<String>,
    #[schema(required = true)]
    makegood_campaign_id: Option<String>,
    #[schema(required = true)]
    settlement_adjustment_id: Option<String>,
    #[schema(format = DateTime)]
    resolved_at: String,
    resolved_by: String,
    notes: String,
}

/// What happened in a timeline entry (`reminder`: the engine reminded whoever must act that
/// `respondBy` is near).
#[derive(ToSchema)]
#[schema(as = DeliveryTimelineKind, rename_all = "snake_case")]
pub enum TimelineKind {
    Opened,
    Responded,
    Accepted,
    Rejected,
    Settled,
    Withdrawn,
    Expired,
    Note,
    Message,
    Reminder,
}

/// One entry of the dispute's hash-chained history.
#[derive(ToSchema)]
#[schema(as = DeliveryTimelineEntry)]
pub struct TimelineEntry {
    seq: i64,
    #[schema(format = DateTime)]
    at: String,
    actor: String,
    kind: TimelineKind,
    notes: String,
    /// SHA-256 of this entry and the one before, in hex.
    hash: String,
}

/// A delivery dispute. Every field is present; one with no value yet is `null`.
#[derive(ToSchema)]
#[schema(as = DeliveryDispute, rename_all = "camelCase")]
pub struct Dispute {
    id: String,
    org_id: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    opened_by: String,
    opened_by_role: Role,
    #[schema(format = DateTime)]
    opened_at: String,
    disputed_period: Period,
    affected_surface: Surface,
    claimed_shortfall: Shortfall,
    evidence_bundle: Evidence,
    /// SHA-256 of the evidence bundle, in hex.
    evidence_digest: String,
    #[schema(value_type = DisputeStatus)]
    status: String,
    /// Grows by one with every change; sent back as the `ETag`.
    version: i64,
    #[schema(format = DateTime, required = true)]
    respond_by: Option<String>,
    #[schema(required = true)]
    operator_response: Option<OperatorResponse>,
    #[schema(required = true)]
    advertiser_response: Option<AdvertiserResponse>,
    #[schema(required = true)]
    resolution: Option<Resolution>,
    timeline: Vec<TimelineEntry>,
}

/// `data` of an answer about one dispute.
#[derive(ToSchema)]
#[schema(as = DeliveryDisputeData)]
pub struct DisputeData {
    dispute: Dispute,
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
    disputes: Vec<Dispute>,
    /// Pass as `cursor` for the next page; `null` on the last.
    #[schema(required = true)]
    next_cursor: Option<String>,
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
    ErrorEnvelope,
    OpenRequest,
    OperatorResponseRequest,
    AdvertiserResponseRequest,
    ResolveRequest,
    NotesRequest,
    NoteRequest
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
                    "deliveryOperatorResponse",
                    "deliveryAdvertiserResponse",
                    "deliveryResolveDispute",
                    "deliveryWithdrawDispute",
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
            "The tenant's delivery disputes, newest first, a page at a time.",
        )
        .security(BEARER)
        .params([
            query_param("status", schema_ref("DisputeStatus"), "Only disputes in this state."),
            query_param("campaignId", string_schema(), "Only disputes about this campaign."),
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
            "One dispute of the tenant, with its `ETag`.",
        )
        .security(BEARER)
        .params([dispute_id()])
        .answer(200, dispute("The dispute."))
        .errors(READ_ERRORS, error),
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
            "Settles the dispute: granted, partially granted (with `settledAmount`) or denied. Operator keys only.",
            "DeliveryResolveRequest",
        ),
        change(
            "/v1/disputes/{id}/withdraw",
            "deliveryWithdrawDispute",
            "Withdraw a dispute",
            "The opener withdraws its dispute before it is resolved.",
            "DeliveryNotesRequest",
        ),
        change(
            "/v1/disputes/{id}/notes",
            "deliveryAddNote",
            "Add a note",
            "Adds a note to the dispute's timeline.",
            "DeliveryNoteRequest",
        ),
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
            ("/v1/disputes/{id}/resolve", "post"),
            ("/v1/disputes/{id}/withdraw", "post"),
            ("/v1/disputes/{id}/notes", "post"),
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
