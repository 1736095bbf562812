//! The OpenAPI 3.1 document of all three contracts, served at `GET /openapi.json`, and a Swagger UI
//! page at `GET /docs` whose assets are compiled into the binary (nothing is fetched, at build or
//! run time).
//!
//! The schemas are the wire types themselves (`utoipa::ToSchema` on each contract's `wire.rs`
//! request and answer types), so a field changes in one place. The request types are lenient on
//! purpose (every field optional, amounts as raw JSON) so that each missing or malformed field is
//! reported by name in the contract's error shape; their `schema` attributes say what a client
//! must send. The names of the domain's enums come from the domain (`shared::schema`), the error
//! codes from each contract's registry. Each contract's module here holds its error schema and
//! the table of its operations, built with the helpers here, which give every operation the same
//! treatment of auth, headers and errors. `cargo xtask schemathesis` runs every check of the
//! running server against this document.

// The schema types describe the wire for the document only; the handlers render the wire.
#![allow(dead_code)]

mod billing;
mod delivery;
mod invoice;
mod operations;

use axum::http::StatusCode;
use axum::Router;
use serde_json::Value;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr,
    Required, Response, ResponseBuilder, Schema,
};
use utoipa::OpenApi as _;
use utoipa_swagger_ui::SwaggerUi;

use disputes_ports::{IdempotencyKey, PageSize};

use crate::shared::codes::Registry;
pub(crate) use crate::shared::schema::{Decision, DisputeStatus, Outcome};

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/openapi.json";
/// Where the documentation page is served.
pub const DOCS_PATH: &str = "/docs";

const DESCRIPTION: &str = "\
One dispute engine behind three wire contracts, each with its own authentication and error shape:

* **delivery** (`/v1/disputes`): advertisers and operators of a campaign, with Bearer API keys; \
every answer is the envelope `{ok, data | error, contractVersion}`; amounts are decimal strings.
* **invoice** (`/v2/dispute`): buy-now-pay-later invoice disputes; every call is a POST whose JSON \
body carries the client's credentials, `billinkUsername` and `billinkId` (a login from \
`disputes key create --role client --username NAME`); errors are `{code, message, error}`.
* **billing** (`/bcws/webresources/v1.0`): bill item disputes and settlements in the manner of \
Oracle Billing Care, with HTTP Basic logins (`disputes key create --role billing --username NAME`); \
bodies in JSON or XML (`Content-Type` for requests, `Accept` for answers); amounts are JSON numbers; \
errors are `{type, title, status, detail, o:errorCode}`.

Another tenant's dispute is never shown: it is not found (404).

Around every contract (the **operations** tag has the endpoints for running the service):

* `X-Request-Id`: sent back on every answer; a client's own id (1 to 128 visible characters) is \
kept, otherwise one is made up. Every log line of the request names it.
* Every authenticated caller has a rate limit (a minute's worth may come at once): past it, the \
answer is a 429 `rate_limited` in the contract's error shape, with `Retry-After` in seconds.
* An answer that takes longer than the request timeout is a 503 `request_timeout`; the request \
still runs to its end, so it may have taken effect.
* The POSTs of the delivery and billing contracts take an `Idempotency-Key`: a retry with the same \
key and request gets the first answer again (marked `Idempotent-Replayed: true`) instead of \
acting twice; a second request with the key while the first runs is a 409 \
`idempotency_key_in_flight` (with `Retry-After`), and the key with a different request a 422 \
`idempotency_key_reused`.";

/// The whole document: every contract's paths, schemas and security schemes.
pub fn document() -> OpenApi {
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("disputes")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .license(Some(
                    LicenseBuilder::new()
                        .name("Apache-2.0")
                        .identifier(Some("Apache-2.0"))
                        .build(),
                )),
        )
        .tags(Some([
            tag(
                "delivery",
                "Delivery disputes of advertising campaigns (`/v1`).",
            ),
            tag(
                "invoice",
                "Invoice disputes of buy-now-pay-later invoices (`/v2/dispute`).",
            ),
            tag(
                "billing",
                "Bill item disputes and settlements (`/bcws/webresources/v1.0`).",
            ),
            tag(
                "operations",
                "Health, readiness and metrics of the service itself; no contract, no credentials.",
            ),
        ]))
        .build();
    doc.merge(Shared::openapi());
    doc.merge(delivery::document());
    doc.merge(invoice::document());
    doc.merge(billing::document());
    doc.merge(operations::document());
    doc
}

/// [`document`] as JSON, as served and checked in.
///
/// utoipa 5 serialises the fields of a Link object in snake case (`operation_id`), which no
/// OpenAPI reader knows; they are renamed here to the specification's `operationId`,
/// `operationRef` and `requestBody`.
pub fn document_value() -> Value {
    let mut json = serde_json::to_value(document()).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; if it ever did, the page says so.
        serde_json::json!({ "openapi": "3.1.0", "error": e.to_string() })
    });
    let responses = operations(&mut json)
        .filter_map(|operation| operation.get_mut("responses"))
        .filter_map(Value::as_object_mut)
        .flat_map(|responses| responses.iter_mut());
    for (status, response) in responses {
        mark_required_headers(status, response);
        let links = response.get_mut("links").and_then(Value::as_object_mut);
        for link in links.into_iter().flat_map(|l| l.values_mut()) {
            if let Some(link) = link.as_object_mut() {
                for (snake, camel) in LINK_FIELDS {
                    if let Some(value) = link.remove(snake) {
                        link.insert(camel.to_owned(), value);
                    }
                }
            }
        }
    }
    xml_bodies_without_null(&mut json);
    if let Some(schemas) = json
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (schema, together) in FIELDS_TOGETHER {
            if let Some(object) = schemas.get_mut(*schema).and_then(Value::as_object_mut) {
                let pairs = together
                    .iter()
                    .map(|(field, needs)| ((*field).to_owned(), serde_json::json!([needs])))
                    .collect();
                object.insert("dependentRequired".to_owned(), Value::Object(pairs));
            }
        }
    }
    if let Some(remedy) = json.pointer_mut("/components/schemas/DeliveryRemedyRequest") {
        // A remedy proposes something: an amount, a makegood window or both, not `null`.
        remedy["anyOf"] = serde_json::json!([
            {"required": ["amount"], "properties": {"amount": {"type": "string"}}},
            {"required": ["makegoodWindow"], "properties": {"makegoodWindow": {"type": "object"}}}
        ]);
    }
    if let Some(resolve) = json.pointer_mut("/components/schemas/DeliveryResolveRequest") {
        // A resolution names an outcome, a kind, or both, not `null`.
        resolve["anyOf"] = serde_json::json!([
            {"required": ["outcome"], "properties": {"outcome": {"type": "string"}}},
            {"required": ["kind"], "properties": {"kind": {"type": "string"}}}
        ]);
    }
    json
}

/// Every operation of the document: each method of each path.
fn operations(json: &mut Value) -> impl Iterator<Item = &mut Value> {
    json.get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
}

/// XML has no `null`: an element is there with a value, or it is left out. So an XML request body
/// refers to a copy of its JSON schema (`…Xml`, and so on for every schema it refers to) in which
/// no value may be `null`; JSON bodies keep their nullable fields, as the server takes `null` for
/// "left out" there.
fn xml_bodies_without_null(json: &mut Value) {
    let mut wanted = Vec::new();
    let bodies = operations(json)
        .filter_map(|operation| operation.pointer_mut("/requestBody/content"))
        .filter_map(Value::as_object_mut);
    for content in bodies {
        for (media_type, body) in content.iter_mut() {
            if media_type.ends_with("xml") {
                if let Some(reference) = body.pointer_mut("/schema/$ref") {
                    wanted.extend(xml_reference(reference));
                }
            }
        }
    }
    let Some(schemas) = json
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    while let Some(name) = wanted.pop() {
        let xml_name = format!("{name}Xml");
        if schemas.contains_key(&xml_name) {
            continue;
        }
        let Some(mut schema) = schemas.get(&name).cloned() else {
            continue;
        };
        wanted.extend(without_null(&mut schema));
        schemas.insert(xml_name, schema);
    }
}

/// Points `reference` (`#/components/schemas/X`) at `XXml`; the `X` it pointed at.
fn xml_reference(reference: &mut Value) -> Option<String> {
    let name = reference
        .as_str()?
        .strip_prefix("#/components/schemas/")?
        .to_owned();
    *reference = Value::String(format!("#/components/schemas/{name}Xml"));
    Some(name)
}

/// Makes every `type: [T, "null"]` in `schema` plain `T` and points its references at their XML
/// copies; the schemas it referred to.
fn without_null(schema: &mut Value) -> Vec<String> {
    let mut referred = Vec::new();
    match schema {
        Value::Object(object) => {
            if let Some(Value::Array(types)) = object.get("type") {
                let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if let [only] = kept.as_slice() {
                    object.insert("type".to_owned(), only.clone());
                }
            }
            // `Option<Struct>` is `oneOf: [{type: null}, {$ref}]`.
            if let Some(Value::Array(choices)) = object.get_mut("oneOf") {
                choices.retain(|choice| choice.get("type").is_none_or(|t| t != "null"));
            }
            for (key, value) in object.iter_mut() {
                if key == "$ref" {
                    referred.extend(xml_reference(value));
                } else {
                    referred.extend(without_null(value));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                referred.extend(without_null(item));
            }
        }
        _ => {}
    }
    referred
}

/// Fields that come together or not at all (JSON Schema's `dependentRequired`, which utoipa's
/// builders do not offer): a message's file and its name.
const FIELDS_TOGETHER: &[(&str, &[(&str, &str)])] = &[
    (
        "InvoiceOpenRequest",
        &[("file", "fileName"), ("fileName", "file")],
    ),
    (
        "InvoiceMessageRequest",
        &[("file", "fileName"), ("fileName", "file")],
    ),
];

/// Marks the headers that are always on the answer with `status` as required: the request id on
/// every answer, `Retry-After` on a 429 (on a 409 it comes only with `idempotency_key_in_flight`).
/// utoipa's Header object has no `required`, so it is set here.
fn mark_required_headers(status: &str, response: &mut Value) {
    let headers = response.get_mut("headers").and_then(Value::as_object_mut);
    for (name, header) in headers.into_iter().flatten() {
        let always = name == REQUEST_ID || (name == "Retry-After" && status == "429");
        if let (true, Some(header)) = (always, header.as_object_mut()) {
            header.insert("required".to_owned(), Value::Bool(true));
        }
    }
}

/// The fields of a Link object that utoipa misspells, and their names in the specification.
const LINK_FIELDS: [(&str, &str); 3] = [
    ("operation_id", "operationId"),
    ("operation_ref", "operationRef"),
    ("request_body", "requestBody"),
];

/// [`document_value`] as pretty JSON with a final newline: what `docs/openapi.json` holds.
pub fn document_json() -> String {
    let mut json = serde_json::to_string_pretty(&document_value()).unwrap_or_default();
    json.push('\n');
    json
}

/// `GET /openapi.json` and the Swagger UI at `GET /docs`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::from(SwaggerUi::new(DOCS_PATH).external_url_unchecked(DOCUMENT_PATH, document_value()))
}

fn tag(name: &str, description: &str) -> utoipa::openapi::Tag {
    TagBuilder::new()
        .name(name)
        .description(Some(description))
        .build()
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    DisputeStatus,
    Outcome,
    Decision,
    crate::shared::export::Envelope,
    crate::shared::export::KeySet
)))]
struct Shared;

/// A `$ref` to a schema of `components`.
fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn string_schema() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).into()
}

fn bool_schema() -> Schema {
    ObjectBuilder::new().schema_type(Type::Boolean).into()
}

/// One of the schemas `names` of `components`.
fn one_of(names: &[&str]) -> RefOr<Schema> {
    let one_of = names.iter().fold(
        utoipa::openapi::schema::OneOfBuilder::new(),
        |one_of, name| one_of.item(schema_ref(name)),
    );
    RefOr::T(one_of.into())
}

fn time_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .into()
}

/// `limit` of a list: a page of 1 to 100 disputes.
/// A page size, as [`crate::shared::page_size`] reads it.
fn page_size_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(PageSize::MAX))
        .into()
}

/// What a list's `nextCursor` looks like ([`crate::shared::cursor_text`]): URL-safe base64
/// without padding, never empty.
pub(crate) const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]+$";

fn cursor_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .pattern(Some(CURSOR_PATTERN))
        .into()
}

fn path_param(name: &str, description: &str) -> Parameter {
    path_param_of(name, string_schema(), description)
}

fn path_param_of(name: &str, schema: Schema, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// An id as the domain takes one (its `required_text`): not blank, at most `max` characters,
/// no control characters.
fn id_text_schema(max: usize) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(ID_TEXT))
        .into()
}

/// Text with at least one character that is not a space, and no control character.
const ID_TEXT: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

fn query_param(name: &str, schema: impl Into<RefOr<Schema>>, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// An optional request header of text (matching `pattern`, where only some text is accepted).
fn header_param(name: &str, pattern: Option<&str>, description: &str) -> Parameter {
    let text: Schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(pattern)
        .into();
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(text))
        .build()
}

/// `Idempotency-Key` of the POSTs of the delivery and billing contracts.
fn idempotency_key() -> Parameter {
    // What `IdempotencyKey::new` takes: 1 to 255 visible ASCII characters.
    let key: Schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(IdempotencyKey::MAX_LEN))
        .pattern(Some("^[!-~]+$"))
        .into();
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Optional. A key of the client's choosing (1 to 255 visible ASCII characters): a retry of the same POST with the same key and body gets the first answer again instead of acting twice.",
        ))
        .schema(Some(key))
        .build()
}

/// A JSON body of the schema `name`.
fn json_content(name: &str) -> Vec<(&'static str, RefOr<Schema>)> {
    vec![("application/json", schema_ref(name))]
}

/// A response with `content` (media type, schema) and `headers` (name, description).
fn response_with(
    description: &str,
    content: Vec<(&str, RefOr<Schema>)>,
    headers: &[(&str, &str)],
) -> Response {
    let mut response = ResponseBuilder::new().description(description);
    for (media_type, schema) in content {
        response = response.content(
            media_type,
            ContentBuilder::new().schema(Some(schema)).build(),
        );
    }
    for (name, description) in headers {
        response = response.header(
            *name,
            HeaderBuilder::new()
                .schema(string_schema())
                .description(Some(*description))
                .build(),
        );
    }
    response.build()
}

/// `response` with links to the operations (`operation id`, `parameter`, runtime expression) that
/// take a value it gives: how a client (or schemathesis' stateful tests) goes on from it.
fn with_links(mut response: Response, links: &[(&str, &str, &str)]) -> Response {
    for (operation_id, parameter, expression) in links {
        let link = LinkBuilder::new()
            .operation_id(*operation_id)
            .parameter(*parameter, *expression)
            .build();
        response
            .links
            .insert((*operation_id).to_owned(), RefOr::T(link));
    }
    response
}

/// What each error status means, in every contract, followed by the codes of that status in the
/// contract's registry (`error.code`, `error`, `o:errorCode`).
fn error_description(registry: &Registry, status: u16) -> String {
    let codes: Vec<String> = StatusCode::from_u16(status)
        .map(|status| {
            registry
                .with_status(status)
                .map(|e| format!("`{}`: {}", e.code.name, e.means))
                .collect()
        })
        .unwrap_or_default();
    let general = general_error_description(status);
    if codes.is_empty() {
        general.to_owned()
    } else {
        format!("{general} Codes: {}.", codes.join("; "))
    }
}

/// The schema of a contract's error code: one of its registry's names.
fn error_code_schema(registry: &Registry) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(registry.names()))
        .description(Some("A stable code to branch on."))
        .into()
}

fn general_error_description(status: u16) -> &'static str {
    match status {
        400 => "The request is invalid: a field is missing or malformed, or a value is refused (`Idempotency-Key` too, where it is taken).",
        401 => "The credentials are missing or invalid.",
        403 => "The caller's role may not do this.",
        404 => "No such dispute (or resource) for this tenant.",
        409 => "The dispute's state does not allow this (`illegal_transition`, `dispute_final`, `not_overdue`, `reminder_not_due`, `already_reminded`), a duplicate (`duplicate_dispute`), a concurrent change (`concurrent_update`), or, where `Idempotency-Key` is taken, a request with the same key is still running (`idempotency_key_in_flight`, with `Retry-After`).",
        412 => "`If-Match` names a version that is no longer current (`version_mismatch`).",
        413 => "The body is larger than this contract accepts (`payload_too_large`).",
        415 => "The body is not in a media type this contract accepts.",
        422 => "This `Idempotency-Key` came before with a different request (`idempotency_key_reused`); use a new key for a new request.",
        429 => "Too many requests with these credentials (`rate_limited`); retry after `Retry-After` seconds.",
        500 => "A fault of the service; the answer reveals nothing of it.",
        503 => "The store is unreachable (`service_unavailable`), or no answer within the request timeout (`request_timeout`: the request runs on and may take effect, so check before repeating it); retry later.",
        _ => "An error.",
    }
}

/// The request id's header, on every request (optional) and every answer (always).
const REQUEST_ID: &str = "X-Request-Id";
const REQUEST_ID_ANSWER: &str = "The request's id: the client's `X-Request-Id` when it sent a usable one, else one made up. Log lines of the request name it.";
const RATE_LIMIT_RETRY_AFTER: &str =
    "Seconds until the caller's rate limit admits a request again.";
const IN_FLIGHT_RETRY_AFTER: &str =
    "Seconds to wait before retrying, on `idempotency_key_in_flight` only.";
const REPLAYED: &str = "Idempotent-Replayed";

/// An error `status` with the contract's error schema under each media type; a 429 says when to
/// come back.
fn error_response(
    registry: &Registry,
    status: u16,
    schema: &str,
    media_types: &[&'static str],
) -> Response {
    let content = media_types
        .iter()
        .map(|media_type| (*media_type, schema_ref(schema)))
        .collect();
    let headers: &[(&str, &str)] = match status {
        429 => &[("Retry-After", RATE_LIMIT_RETRY_AFTER)],
        _ => &[],
    };
    response_with(&error_description(registry, status), content, headers)
}

/// `Idempotent-Replayed`: only ever `true`.
fn replayed_header() -> utoipa::openapi::header::Header {
    let only_true: Schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["true"]))
        .into();
    HeaderBuilder::new()
        .schema(only_true)
        .description(Some(
            "`true` when this is the answer to an earlier request with the same `Idempotency-Key`, given again; absent otherwise.",
        ))
        .build()
}

/// `X-Request-Id` as a request header.
fn request_id() -> Parameter {
    // Any value is taken: one that is not a usable id is replaced, never refused.
    header_param(
        REQUEST_ID,
        None,
        "Optional. The client's id for this request (1 to 128 visible ASCII characters), sent back as `X-Request-Id`; any other value is replaced by one the server makes up.",
    )
}

/// One operation, built up from a contract's table.
struct Op {
    method: HttpMethod,
    path: &'static str,
    builder: OperationBuilder,
    /// Takes `Idempotency-Key`.
    keyed: bool,
}

/// An operation on `path`, identified by `id`, under the contract's `tag`.
fn operation(
    method: HttpMethod,
    path: &'static str,
    tag: &str,
    id: &str,
    summary: &str,
    description: &str,
) -> Op {
    Op {
        method,
        path,
        builder: OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(id))
            .summary(Some(summary))
            .description(Some(description)),
        keyed: false,
    }
}

impl Op {
    /// Requires the security scheme `name`.
    fn security(mut self, name: &str) -> Self {
        self.builder = self
            .builder
            .security(SecurityRequirement::new::<_, [&str; 0], &str>(name, []));
        self
    }

    /// Takes `Idempotency-Key` (and so answers 409 `idempotency_key_in_flight`, 422
    /// `idempotency_key_reused` and replays with `Idempotent-Replayed`, which the contract's
    /// error list and [`Op::add_to`] cover).
    fn keyed(mut self) -> Self {
        self.keyed = true;
        self.params([idempotency_key()])
    }

    fn params(mut self, params: impl IntoIterator<Item = Parameter>) -> Self {
        for param in params {
            self.builder = self.builder.parameter(param);
        }
        self
    }

    /// A required body: the schema `name` under each media type.
    fn body(mut self, name: &str, media_types: &[&str]) -> Self {
        let mut body = RequestBodyBuilder::new().required(Some(Required::True));
        for media_type in media_types {
            body = body.content(
                *media_type,
                ContentBuilder::new().schema(Some(schema_ref(name))).build(),
            );
        }
        self.builder = self.builder.request_body(Some(body.build()));
        self
    }

    fn json_body(self, name: &str) -> Self {
        self.body(name, &["application/json"])
    }

    /// The answer with `status`.
    fn answer(mut self, status: u16, response: Response) -> Self {
        self.builder = self.builder.response(status.to_string(), response);
        self
    }

    /// Every error of `statuses`, as `render` describes each.
    fn errors(mut self, statuses: &[u16], render: impl Fn(u16) -> Response) -> Self {
        for status in statuses {
            self.builder = self.builder.response(status.to_string(), render(*status));
        }
        self
    }

    /// Adds the operation to `paths`, with what the layers around every contract add: the
    /// request id (and, when keyed, the idempotency headers) on its answers.
    fn add_to(self, paths: PathsBuilder) -> PathsBuilder {
        let Op {
            method,
            path,
            builder,
            keyed,
        } = self.params([request_id()]);
        let mut operation = builder.build();
        for (status, response) in &mut operation.responses.responses {
            let RefOr::T(response) = response else {
                continue;
            };
            let mut headers = vec![(REQUEST_ID, REQUEST_ID_ANSWER)];
            if keyed && status == "409" {
                headers.push(("Retry-After", IN_FLIGHT_RETRY_AFTER));
            }
            for (name, description) in headers {
                response.headers.insert(
                    name.to_owned(),
                    HeaderBuilder::new()
                        .schema(string_schema())
                        .description(Some(description))
                        .build(),
                );
            }
            // A replay gives any answer again but a 429 (a limited request never reached its
            // key); answering from the dispute a change made, it may be a 404 or 5xx too.
            if keyed && status != "429" {
                response
                    .headers
                    .insert(REPLAYED.to_owned(), replayed_header());
            }
        }
        paths.path(path, PathItem::new(method, operation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_the_three_contracts_and_their_security() {
        let json: serde_json::Value =
            serde_json::from_str(&document_json()).expect("the document is JSON");
        assert!(
            json["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{}",
            json["openapi"]
        );
        let schemes = &json["components"]["securitySchemes"];
        assert_eq!(schemes["bearer"]["scheme"], "bearer");
        assert_eq!(schemes["basic"]["scheme"], "basic");
        let paths = json["paths"].as_object().expect("paths");
        for prefix in ["/v1/", "/v2/dispute", "/bcws/webresources/v1.0/"] {
            assert!(
                paths.keys().any(|p| p.starts_with(prefix)),
                "no path under {prefix}"
            );
        }
    }

    #[test]
    fn every_reference_resolves_to_a_schema_of_the_document() {
        let text = document_json();
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let schemas = json["components"]["schemas"].as_object().expect("schemas");
        let mut missing = Vec::new();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap_or_default();
            if !schemas.contains_key(name) {
                missing.push(name.to_owned());
            }
        }
        assert!(missing.is_empty(), "unresolved: {missing:?}");
    }

    #[test]
    fn links_name_their_operation_as_the_specification_spells_it() {
        let json = document_value();
        let links = &json["paths"]["/v1/disputes"]["post"]["responses"]["201"]["links"];
        let link = &links["deliveryGetDispute"];
        assert_eq!(link["operationId"], "deliveryGetDispute");
        assert!(link.get("operation_id").is_none(), "{link}");
    }

    #[test]
    fn the_document_is_the_same_every_time() {
        assert_eq!(document_json(), document_json());
    }
}

/// What the layers around the contracts add to the document: request ids, rate limits,
/// timeouts, idempotency, and the entry kinds and ticket states the wire can show.
#[cfg(test)]
mod operational_tests {
    use super::*;

    fn operations(json: &Value) -> Vec<(String, &Value)> {
        let paths = json["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                let item = item.as_object().expect("a path item");
                item.iter()
                    .map(move |(method, op)| (format!("{method} {path}"), op))
            })
            .collect()
    }

    #[test]
    fn every_answer_carries_the_request_id_and_every_operation_takes_one() {
        let json = document_value();
        for (name, op) in operations(&json) {
            let takes = op["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == REQUEST_ID && p["in"] == "header")
            });
            assert!(takes, "{name} does not take X-Request-Id");
            for (status, response) in op["responses"].as_object().expect("responses") {
                assert_eq!(
                    response["headers"][REQUEST_ID]["required"], true,
                    "{name} {status}"
                );
            }
        }
    }

    #[test]
    fn every_contract_operation_may_be_rate_limited_with_a_retry_after() {
        let json = document_value();
        // Every contract operation but the published keys, which anyone may fetch unlimited,
        // as the operational endpoints.
        let contracts = operations(&json)
            .into_iter()
            .filter(|(_, op)| op["tags"] != serde_json::json!(["operations"]))
            .filter(|(_, op)| op["operationId"] != "deliveryRuntimeKeys")
            .collect::<Vec<_>>();
        assert_eq!(contracts.len(), 11 + 7 + 12, "all three contracts");
        for (name, op) in contracts {
            let limited = &op["responses"]["429"];
            assert_eq!(
                limited["headers"]["Retry-After"]["required"], true,
                "{name}"
            );
            assert_eq!(
                op["responses"]["401"]["content"], limited["content"],
                "{name}: shape"
            );
            assert!(op["responses"]["503"].is_object(), "{name}");
        }
    }

    #[test]
    fn keyed_posts_document_the_idempotency_answers_and_only_they() {
        let json = document_value();
        let mut keyed = Vec::new();
        for (name, op) in operations(&json) {
            let takes_key = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
            let responses = &op["responses"];
            if !takes_key {
                assert!(responses.get("422").is_none(), "{name}");
                continue;
            }
            keyed.push(name.clone());
            assert!(
                name.starts_with("post /v1/") || name.starts_with("post /bcws/"),
                "{name}"
            );
            assert_eq!(
                responses["422"]["content"], responses["400"]["content"],
                "{name}"
            );
            let in_flight = &responses["409"]["headers"]["Retry-After"];
            assert!(in_flight.is_object(), "{name}");
            assert!(
                in_flight.get("required").is_none(),
                "{name}: only when in flight"
            );
            for (status, response) in responses.as_object().expect("responses") {
                let replayable = status != "429";
                assert_eq!(
                    response["headers"][REPLAYED].is_object(),
                    replayable,
                    "{name} {status}"
                );
            }
        }
        assert_eq!(
            keyed.len(),
            9 + 6,
            "every delivery and billing POST: {keyed:?}"
        );
    }

    #[test]
    fn timeline_kinds_are_every_kind_the_domain_records() {
        let json = document_value();
        let kinds = &json["components"]["schemas"]["DeliveryTimelineKind"]["enum"];
        let kinds: Vec<&str> = kinds
            .as_array()
            .expect("an enum")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let domain: Vec<&str> = disputes_domain::EntryKind::ALL
            .iter()
            .map(|kind| kind.as_str())
            .collect();
        assert_eq!(kinds, domain);
        assert!(kinds.contains(&"reminder"));
    }

    #[test]
    fn invoice_emails_and_the_ticket_are_exact() {
        let json = document_value();
        let schemas = &json["components"]["schemas"];
        let email = &schemas["InvoiceEmail"];
        assert_eq!(
            email["required"],
            serde_json::json!(["to", "subject", "template", "sentAt"])
        );
        assert_eq!(
            email["properties"]["sentAt"]["$ref"],
            "#/components/schemas/InvoiceDateTime"
        );
        let ticket = &schemas["InvoiceFreshDeskTicket"];
        assert_eq!(
            ticket["required"],
            serde_json::json!(["id", "url", "status"])
        );
        assert_eq!(ticket["properties"]["id"]["type"], "integer");
        let statuses = &schemas["InvoiceFreshDeskTicketStatus"]["enum"];
        let expected: Vec<&str> = disputes_ports::TicketStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(statuses, &serde_json::json!(expected));
        let dispute = &schemas["InvoiceDispute"]["properties"]["freshDeskTicket"];
        assert!(dispute.to_string().contains("null"), "{dispute}");
    }

    #[test]
    fn the_documents_limits_are_the_domains() {
        use disputes_domain::{
            ActorId, BillingSubject, DeliverySubject, InvoiceSubject, MAX_MESSAGE, MAX_NOTES,
        };
        let json = document_value();
        let max = |schema: &str, field: &str| {
            json["components"]["schemas"][schema]["properties"][field]["maxLength"]
                .as_u64()
                .unwrap_or_else(|| panic!("{schema}.{field} has no maxLength"))
        };
        let limits: &[(&str, &str, usize)] = &[
            ("DeliverySurface", "campaignId", DeliverySubject::MAX_ID),
            ("DeliverySurface", "substrateId", DeliverySubject::MAX_ID),
            ("DeliveryOpenRequest", "openedBy", ActorId::MAX_LEN),
            ("DeliveryNoteRequest", "notes", MAX_NOTES),
            ("DeliveryNotesRequest", "notes", MAX_NOTES),
            ("DeliveryOperatorResponseRequest", "notes", MAX_NOTES),
            ("DeliveryAdvertiserResponseRequest", "notes", MAX_NOTES),
            ("DeliveryResolveRequest", "notes", MAX_NOTES),
            ("InvoiceOpenRequest", "invoice", InvoiceSubject::MAX_INVOICE),
            (
                "InvoiceOpenRequest",
                "category",
                InvoiceSubject::MAX_CATEGORY,
            ),
            (
                "InvoiceOpenRequest",
                "customerName",
                InvoiceSubject::MAX_CUSTOMER_NAME,
            ),
            ("InvoiceOpenRequest", "message", MAX_MESSAGE),
            ("InvoiceMessageRequest", "message", MAX_MESSAGE),
            ("InvoiceResolveRequest", "message", MAX_MESSAGE),
            ("BillingOpenNotes", "accountId", BillingSubject::MAX_ID),
            ("BillingOpenNotes", "billUnitId", BillingSubject::MAX_ID),
            ("BillingOpenNotes", "billId", BillingSubject::MAX_ID),
        ];
        for (schema, field, limit) in limits {
            assert_eq!(max(schema, field), *limit as u64, "{schema}.{field}");
        }
        let screen = &json["components"]["schemas"]["DeliveryScreenId"]["maxLength"];
        assert_eq!(
            screen.as_u64(),
            Some(DeliverySubject::MAX_ID as u64),
            "{screen}"
        );
    }

    #[test]
    fn cursors_and_keys_are_described_as_the_server_reads_them() {
        let cursor = crate::shared::cursor_text(disputes_domain::DisputeId::new(987_654).unwrap());
        assert!(!cursor.is_empty());
        assert!(cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        assert_eq!(CURSOR_PATTERN, "^[A-Za-z0-9_-]+$");
        let json = document_value();
        let invoice = &json["components"]["schemas"]["InvoiceListRequest"]["properties"]["cursor"];
        assert_eq!(invoice["pattern"], CURSOR_PATTERN, "{invoice}");
        let together = &json["components"]["schemas"]["InvoiceMessageRequest"]["dependentRequired"];
        assert_eq!(
            together["file"],
            serde_json::json!(["fileName"]),
            "{together}"
        );
        let key = json.to_string();
        assert!(
            key.contains(r#""maxLength":255,"minLength":1,"pattern":"^[!-~]+$""#),
            "the Idempotency-Key schema"
        );
    }

    #[test]
    fn each_status_names_the_contracts_codes_of_it() {
        let registry = &crate::delivery::CODES;
        for code in ["illegal_transition", "idempotency_key_in_flight"] {
            assert!(error_description(registry, 409).contains(code), "{code}");
        }
        assert!(error_description(registry, 422).contains("idempotency_key_reused"));
        assert!(error_description(registry, 429).contains("rate_limited"));
        assert!(error_description(registry, 503).contains("request_timeout"));
        let invoice = error_description(&crate::invoice::CODES, 400);
        assert!(invoice.contains("missing_category"), "{invoice}");
    }
}
