//! The billing contract (`/bcws/webresources/v1.0`) in the OpenAPI document: HTTP Basic logins,
//! bodies in JSON or XML both ways (`Content-Type` for requests, `Accept` for answers), ids as BRM
//! POIDs, amounts as JSON numbers, and every error as `{type, title, status, detail, o:errorCode}`.

use utoipa::openapi::path::{HttpMethod, Parameter};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, OpenApi, Paths, PathsBuilder, RefOr, Response, Schema};
use utoipa::{OpenApi as _, ToSchema};

use crate::billing::wire::{
    ArActionOut, ArActionsOut, BillNotesOut, DisputeOut, EventOpenIn, OpenIn, PageOut,
    ReferenceOut, SettlementIn, SettlementReportOut,
};

use disputes_domain::BillingSubject;

use super::{
    cursor_schema, error_response, id_text_schema, operation, page_size_schema, path_param,
    path_param_of, query_param, response_with, schema_ref, with_links, Op,
};

const TAG: &str = "billing";
const BASIC: &str = "basic";
/// Requests and answers are JSON or XML; JSON unless the client asks otherwise.
const MEDIA_TYPES: &[&str] = &["application/json", "application/xml"];
const OPEN_ERRORS: &[u16] = &[400, 401, 403, 409, 413, 415, 422, 429, 500, 503];
const READ_ERRORS: &[u16] = &[400, 401, 403, 404, 429, 500, 503];
const LIST_ERRORS: &[u16] = &[400, 401, 403, 429, 500, 503];
const SETTLE_ERRORS: &[u16] = &[400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503];

/// Every error of this contract (in XML, `<error xmlns:o="urn:disputes:billing:errors">`).
#[derive(ToSchema)]
#[schema(as = BillingError, xml(name = "error"))]
pub struct Error {
    /// The definition of the HTTP status (RFC 2616 section), or `about:blank`.
    #[schema(rename = "type")]
    kind: String,
    #[schema(example = "Not Found")]
    title: String,
    status: i64,
    detail: String,
    #[schema(rename = "o:errorCode", schema_with = error_code)]
    error_code: String,
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    OpenIn,
    EventOpenIn,
    SettlementIn,
    ReferenceOut,
    DisputeOut,
    PageOut,
    SettlementReportOut,
    ArActionOut,
    ArActionsOut,
    BillNotesOut,
    Error
)))]
struct Schemas;

/// This contract's part of the document.
pub fn document() -> OpenApi {
    let mut doc = Schemas::openapi();
    doc.paths = paths();
    let components = doc.components.take().unwrap_or_default();
    doc.components = Some(
        ComponentsBuilder::from(components)
            .schema("BillingAccountListing", account_listing())
            .security_scheme(
                BASIC,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Basic)
                        .description(Some(
                            "The billing contract: a login from `disputes key create --role billing --username NAME`, as `Authorization: Basic base64(NAME:password)`.",
                        ))
                        .build(),
                ),
            )
            .build(),
    );
    doc
}

/// What an account's listing answers: Billing Care's A/R actions, or (with `limit` or
/// `cursor`) our page of every dispute.
fn account_listing() -> Schema {
    use utoipa::openapi::schema::OneOfBuilder;
    OneOfBuilder::new()
        .item(schema_ref("BillingArActions"))
        .item(schema_ref("BillingDisputePage"))
        .description(Some(
            "Billing Care's open disputes as A/R actions; with `limit` or `cursor`, a page of every dispute of the account.",
        ))
        .into()
}

fn error(status: u16) -> Response {
    error_response(&crate::billing::CODES, status, "BillingError", MEDIA_TYPES)
}

fn error_code() -> Schema {
    super::error_code_schema(&crate::billing::CODES)
}

/// An answer of the schema `name`, in JSON or XML.
fn answer(description: &str, name: &str) -> Response {
    let content = MEDIA_TYPES
        .iter()
        .map(|media_type| (*media_type, schema_ref(name)))
        .collect();
    response_with(description, content, &[])
}

/// A `201` with a reference to what was created, and its uri as `Location`.
fn created(description: &str) -> Response {
    let content = MEDIA_TYPES
        .iter()
        .map(|media_type| (*media_type, schema_ref("BillingReference")))
        .collect();
    response_with(
        description,
        content,
        &[("Location", "The created resource's uri.")],
    )
}

/// `expand` of an account's listing.
fn expand_schema() -> RefOr<Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    RefOr::T(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["all", "childonly"]))
            .into(),
    )
}

fn poid_param(name: &str, description: &str) -> Parameter {
    path_param(name, description)
}

/// A path segment the domain takes as a bill item's or account's id (a POID of another system,
/// which is ours to keep but not to parse).
fn id_param(name: &str, description: &str) -> Parameter {
    path_param_of(name, id_text_schema(BillingSubject::MAX_ID), description)
}

fn read(path: &'static str, id: &str, summary: &str, description: &str) -> Op {
    operation(HttpMethod::Get, path, TAG, id, summary, description).security(BASIC)
}

fn change(path: &'static str, id: &str, summary: &str, description: &str, body: &str) -> Op {
    operation(HttpMethod::Post, path, TAG, id, summary, description)
        .security(BASIC)
        .body(body, MEDIA_TYPES)
}

/// What every opening and every settlement of this contract has: an `Idempotency-Key`, a `201`
/// with a reference to what was made (linked on to the calls that take it), and its errors.
trait Creates {
    fn opens(self, links: &[(&str, &str, &str)]) -> Self;
    fn settles(self) -> Self;
}

impl Creates for Op {
    fn opens(self, links: &[(&str, &str, &str)]) -> Op {
        self.keyed()
            .answer(
                201,
                with_links(created("The dispute, opened: a reference to it."), links),
            )
            .errors(OPEN_ERRORS, error)
    }

    fn settles(self) -> Op {
        let links = [(
            "billingGetSettlement",
            "settlementId",
            "$response.body#/reference/id",
        )];
        self.keyed()
            .answer(
                201,
                with_links(created("The settlement: a reference to it."), &links),
            )
            .errors(SETTLE_ERRORS, error)
    }
}

fn paths() -> Paths {
    let operations = [
        change(
            "/bcws/webresources/v1.0/disputes/item/{itemId}",
            "billingOpenDispute",
            "Open an item dispute",
            "Disputes an amount of a bill item of an account. A second open dispute of the same item is a 409 `duplicate_dispute`.",
            "BillingOpenRequest",
        )
        .params([
            id_param("itemId", "The bill item's POID, such as `0.0.0.1+-item-cycle_forward+268139`."),
        ])
        .opens(&[
                ("billingGetDispute", "disputeId", "$response.body#/reference/id"),
                ("billingSettleDispute", "disputeId", "$response.body#/reference/id"),
                ("billingListDisputes", "accountId", "$request.body#/notes/accountId"),
            ]),
        change(
            "/bcws/webresources/v1.0/disputes/bill/{billId}",
            "billingOpenBillDispute",
            "Open a bill dispute",
            "Disputes an amount of a whole bill, with the body of an item dispute (the notes' `billId`, if sent, must be this bill). A second open dispute of the same bill is a 409 `duplicate_dispute`; its items are disputed apart from it.",
            "BillingOpenRequest",
        )
        .params([id_param("billId", "The bill's POID, such as `0.0.0.1+-bill+243368`.")])
        .opens(&[
                ("billingGetDispute", "disputeId", "$response.body#/reference/id"),
                ("billingSettleBillDispute", "billId", "$request.path.billId"),
            ]),
        change(
            "/bcws/webresources/v1.0/disputes/event",
            "billingOpenEventDispute",
            "Open an event dispute",
            "Disputes an amount of some of an account's usage events (`accountRef.id`, `events.eventRef[].id`: 1 to 100, none twice). An event already in an open dispute of the account is a 409 `duplicate_dispute`.",
            "BillingEventOpenRequest",
        )
        .opens(&[
                ("billingGetDispute", "disputeId", "$response.body#/reference/id"),
                ("billingListDisputes", "accountId", "$request.body#/accountRef/id"),
            ]),
        read(
            "/bcws/webresources/v1.0/disputes/{disputeId}",
            "billingGetDispute",
            "Get a bill item dispute",
            "One dispute of the tenant, by its POID.",
        )
        .params([poid_param("disputeId", "The dispute's POID, such as `0.0.0.1+-item-dispute+42`.")])
        .answer(200, answer("The dispute.", "BillingDispute"))
        .errors(READ_ERRORS, error),
        read(
            "/bcws/webresources/v1.0/disputes/{disputeId}/export",
            "billingExportDispute",
            "Export a dispute, signed",
            "The dispute `GET /disputes/{disputeId}` shows, as a signed `export.v1` envelope (kind `dispute.export.v1`), always JSON: its payload that dispute plus its whole timeline, the canonical evidence and the head, signed with a key of `GET /v1/runtime-keys` (docs/integrity.md). An extension: Billing Care has no such call.",
        )
        .params([poid_param("disputeId", "The dispute's POID, such as `0.0.0.1+-item-dispute+42`.")])
        .answer(
            200,
            response_with(
                "The signed export.",
                vec![("application/json", schema_ref("SignedExport"))],
                &[],
            ),
        )
        .errors(READ_ERRORS, error),
        read(
            "/bcws/webresources/v1.0/disputes/account/{accountId}",
            "billingListDisputes",
            "List an account's open disputes",
            "The account's open disputes as Billing Care lists them: an array of A/R actions, newest first. With `limit` or `cursor` (ours), every dispute of the account instead, settled ones too, a page at a time.",
        )
        .params([
            id_param("accountId", "The account's POID, such as `0.0.0.1+-account+242856`."),
            query_param("expand", expand_schema(), "Billing Care's `all` (the default: child accounts too) or `childonly`; no account has children here, so both list the same."),
            query_param("limit", page_size_schema(), "Ours: how many disputes a page holds, 1 to 100 (default 20)."),
            query_param("cursor", cursor_schema(), "Ours: the `nextCursor` of the page before."),
        ])
        .answer(200, answer("The open disputes, or a page of disputes.", "BillingAccountListing"))
        .errors(LIST_ERRORS, error),
        read(
            "/bcws/webresources/v1.0/disputes/bill/{billId}",
            "billingListBillDisputes",
            "List a bill's open disputes",
            "The bill's open disputes as Billing Care lists them: an array of A/R actions, newest first: the bill's own dispute and those whose notes named the bill.",
        )
        .params([id_param("billId", "The bill's POID.")])
        .answer(200, answer("The open disputes.", "BillingArActions"))
        .errors(LIST_ERRORS, error),
        read(
            "/bcws/webresources/v1.0/disputes/notes/{billId}",
            "billingBillNotes",
            "Get a disputed bill's notes",
            "The notes of the bill's newest dispute, open or settled, as Billing Care answers a disputed bill's notes. A bill no dispute named is not found.",
        )
        .params([id_param("billId", "The bill's POID, as the disputes' `notes.billId` named it.")])
        .answer(200, answer("The notes.", "BillingBillNotes"))
        .errors(READ_ERRORS, error),
        change(
            "/bcws/webresources/v1.0/disputes/settlement/item/{disputeId}",
            "billingSettleDispute",
            "Settle a dispute",
            "Settles the dispute in full, in part or not at all, by the amount granted. A dispute settles once; its settlement's POID carries the dispute's number.",
            "BillingSettlementRequest",
        )
        .params([
            id_param("disputeId", "The disputed item's id, as Billing Care names it (its newest dispute is settled), or the dispute's POID."),
        ])
        .settles(),
        change(
            "/bcws/webresources/v1.0/disputes/settlement/bill/{billId}",
            "billingSettleBillDispute",
            "Settle a bill dispute",
            "Settles the bill's newest bill dispute by the amount granted, as a settlement of an item dispute does.",
            "BillingSettlementRequest",
        )
        .params([id_param("billId", "The disputed bill's POID.")])
        .settles(),
        change(
            "/bcws/webresources/v1.0/disputes/settlement/event/{eventId}",
            "billingSettleEventDispute",
            "Settle an event dispute",
            "Settles the newest event dispute that names the event, by the amount granted, as a settlement of an item dispute does. The body is the settlement's `amount` and `notes`; the rest of Billing Care's event body is not read.",
            "BillingSettlementRequest",
        )
        .params([id_param("eventId", "One of the disputed events' POIDs.")])
        .settles(),
        read(
            "/bcws/webresources/v1.0/disputes/settlement/{settlementId}",
            "billingGetSettlement",
            "Get a settlement",
            "What was disputed and settled. The id may be the settlement's POID or its dispute's.",
        )
        .params([poid_param("settlementId", "The settlement's POID, such as `0.0.0.1+-item-settlement+42`, or its dispute's.")])
        .answer(200, answer("The settlement.", "BillingSettlement"))
        .errors(READ_ERRORS, error),
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
    fn bodies_and_answers_are_json_or_xml_behind_basic_auth() {
        let json = serde_json::to_value(document()).expect("the document serialises");
        let open = &json["paths"]["/bcws/webresources/v1.0/disputes/item/{itemId}"]["post"];
        assert_eq!(open["security"], serde_json::json!([{"basic": []}]));
        for media_type in ["application/json", "application/xml"] {
            assert!(
                open["requestBody"]["content"][media_type].is_object(),
                "{media_type}"
            );
            assert_eq!(
                open["responses"]["400"]["content"][media_type]["schema"]["$ref"],
                "#/components/schemas/BillingError"
            );
        }
        assert!(open["responses"]["201"]["headers"]["Location"].is_object());
        let error = &json["components"]["schemas"]["BillingError"]["properties"];
        assert!(error["o:errorCode"].is_object() && error["type"].is_object());
        let amount = &json["components"]["schemas"]["BillingDispute"]["properties"]["amount"];
        assert_eq!(amount["type"], "number");
    }
}
