//! The invoice contract (`/v2/dispute`) in the OpenAPI document. Every call is a POST whose JSON
//! body carries the client's credentials (`billinkUsername`, `billinkId`): OpenAPI has no
//! security scheme for credentials inside a body, so they are required fields of every request
//! schema and the operations say so. Errors are `{code, message, error}`; times are PHP
//! `DateTime` objects in Europe/Amsterdam.

use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, Paths, PathsBuilder, RefOr, Response, Schema};
use utoipa::{OpenApi as _, ToSchema};

use crate::invoice;
use crate::invoice::wire::{
    AttachmentIn, DisputeOut, IdIn, ListIn, MessageIn, OpenIn, PageOut, ResolveIn,
};

use super::{error_response, json_content, operation, response_with, Op};

const TAG: &str = "invoice";
/// How a call authenticates; OpenAPI cannot say it with a security scheme.
const CREDENTIALS: &str = "Authenticates with `billinkUsername` and `billinkId` in the body (a client login from `disputes key create --role client --username NAME`); both are checked before anything else in the body.";
const OPEN_ERRORS: &[u16] = &[400, 401, 403, 409, 413, 415, 429, 500, 503];
const LIST_ERRORS: &[u16] = &[400, 401, 403, 413, 415, 429, 500, 503];
const READ_ERRORS: &[u16] = &[400, 401, 403, 404, 413, 415, 429, 500, 503];
const CHANGE_ERRORS: &[u16] = &[400, 401, 403, 404, 409, 413, 415, 429, 500, 503];

/// A file of the dispute, with its bytes in base64.
#[derive(ToSchema)]
#[schema(as = InvoiceFile)]
pub struct File {
    id: i64,
    name: String,
    #[schema(rename = "type", example = "application/pdf")]
    media_type: String,
    size: i64,
    sha256: String,
    #[schema(content_encoding = "base64")]
    file: String,
}

/// Every error of this contract.
#[derive(ToSchema)]
#[schema(as = InvoiceError)]
pub struct Error {
    #[schema(schema_with = error_number)]
    code: i64,
    message: String,
    #[schema(schema_with = error_code)]
    error: String,
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    OpenIn,
    IdIn,
    ListIn,
    MessageIn,
    ResolveIn,
    AttachmentIn,
    DisputeOut,
    PageOut,
    File,
    Error
)))]
struct Schemas;

/// This contract's part of the document.
pub fn document() -> OpenApi {
    let mut doc = Schemas::openapi();
    doc.paths = paths();
    add_credentials(&mut doc);
    doc
}

/// Every request body carries the client's login, which `Call` reads before the rest and the
/// wire types therefore do not hold: each request schema gets it here, first among the required.
fn add_credentials(doc: &mut OpenApi) {
    let requests = [
        OpenIn::name(),
        IdIn::name(),
        ListIn::name(),
        MessageIn::name(),
        ResolveIn::name(),
        AttachmentIn::name(),
    ];
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in requests {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name.as_ref())
        else {
            continue;
        };
        let credentials = [
            (invoice::USERNAME, "The client's login name."),
            (
                invoice::SECRET,
                "The client's login secret (`billinkID`, as Billink's other calls spell it, is taken too).",
            ),
        ];
        for (field, description) in credentials.iter().rev() {
            let text = ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .description(Some(*description))
                .into();
            object
                .properties
                .insert((*field).to_owned(), RefOr::T(text));
            object.required.insert(0, (*field).to_owned());
        }
    }
}

fn error(status: u16) -> Response {
    error_response(
        &crate::invoice::CODES,
        status,
        "InvoiceError",
        &["application/json"],
    )
}

fn error_code() -> Schema {
    super::error_code_schema(&crate::invoice::CODES)
}

/// The number of an error: one of the registry's; its first three digits are the HTTP status.
fn error_number() -> Schema {
    let numbers: Vec<u32> = crate::invoice::CODES
        .entries
        .iter()
        .filter_map(|e| e.number)
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .enum_values(Some(numbers))
        .description(Some(
            "A stable number; its first three digits are the HTTP status.",
        ))
        .into()
}

/// A call: a POST with a JSON body of the schema `body` (credentials included).
fn call(path: &'static str, id: &str, summary: &str, what: &str, body: &str) -> Op {
    let description = format!("{what} {CREDENTIALS}");
    operation(HttpMethod::Post, path, TAG, id, summary, &description).json_body(body)
}

fn dispute(description: &str) -> Response {
    response_with(description, json_content("InvoiceDispute"), &[])
}

fn paths() -> Paths {
    let operations = [
        call(
            "/v2/dispute",
            "invoiceOpenDispute",
            "Open an invoice dispute",
            "Registers the customer's dispute of an invoice with a first message (and optionally a file), and holds the invoice's collection. A second open dispute of the same invoice is a 409 `duplicate_dispute`.",
            "InvoiceOpenRequest",
        )
        .answer(200, dispute("The dispute, opened."))
        .errors(OPEN_ERRORS, error),
        call(
            "/v2/dispute/info",
            "invoiceGetDispute",
            "Get an invoice dispute",
            "One dispute of the client's tenant.",
            "InvoiceIdRequest",
        )
        .answer(200, dispute("The dispute."))
        .errors(READ_ERRORS, error),
        call(
            "/v2/dispute/export",
            "invoiceExportDispute",
            "Export an invoice dispute, signed",
            "The dispute `/info` shows, as a signed `export.v1` envelope (kind `dispute.export.v1`): its payload that dispute plus its whole timeline, the canonical evidence and the head, signed with a key of `GET /v1/runtime-keys` (docs/integrity.md). An extension: Billink has no such call.",
            "InvoiceIdRequest",
        )
        .answer(
            200,
            response_with("The signed export.", json_content("SignedExport"), &[]),
        )
        .errors(READ_ERRORS, error),
        call(
            "/v2/dispute/list",
            "invoiceListDisputes",
            "List invoice disputes",
            "The tenant's invoice disputes, newest first, a page at a time.",
            "InvoiceListRequest",
        )
        .answer(
            200,
            response_with(
                "A page of disputes.",
                json_content("InvoiceDisputePage"),
                &[],
            ),
        )
        .errors(LIST_ERRORS, error),
        call(
            "/v2/dispute/message",
            "invoicePostMessage",
            "Post a message",
            "Adds a message of the client or the customer (and optionally a file) to the thread; it hands the turn to the other party.",
            "InvoiceMessageRequest",
        )
        .answer(200, dispute("The dispute with the message."))
        .errors(CHANGE_ERRORS, error),
        call(
            "/v2/dispute/resolve",
            "invoiceResolveDispute",
            "Resolve a dispute",
            "Ends the dispute: granted, partially granted (with `creditAmount`) or denied, with a closing message.",
            "InvoiceResolveRequest",
        )
        .answer(200, dispute("The dispute, resolved."))
        .errors(CHANGE_ERRORS, error),
        call(
            "/v2/dispute/attachment",
            "invoiceGetAttachment",
            "Get a file of the thread",
            "A file of one of the dispute's messages, by its SHA-256, with its bytes.",
            "InvoiceAttachmentRequest",
        )
        .answer(
            200,
            response_with("The file.", json_content("InvoiceFile"), &[]),
        )
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
    fn every_call_requires_the_body_credentials_and_answers_errors_in_its_shape() {
        let json = serde_json::to_value(document()).expect("the document serialises");
        let paths = json["paths"].as_object().expect("paths");
        assert_eq!(paths.len(), 7);
        for (path, item) in paths {
            let op = &item["post"];
            let body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .expect("a body schema");
            let name = body.rsplit('/').next().unwrap_or_default();
            let required = &json["components"]["schemas"][name]["required"];
            for field in ["billinkUsername", "billinkId"] {
                assert!(
                    required
                        .as_array()
                        .is_some_and(|r| r.iter().any(|f| f == field)),
                    "{path}: {field} is not required"
                );
            }
            assert_eq!(
                op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/InvoiceError",
                "{path}"
            );
        }
    }
}
