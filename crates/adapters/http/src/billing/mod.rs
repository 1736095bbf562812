//! The billing contract (seed 004, SPEC §4): Oracle Billing Care's item disputes and settlements
//! under `/bcws/webresources/v1.0`, HTTP Basic logins of a tenant's billing users, bodies in JSON
//! or XML, ids as BRM POIDs, and every error as `{type, title, status, detail, o:errorCode}`.

pub(crate) mod codes;
mod keyed;
mod media;
mod poid;
pub(crate) mod wire;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::header::{AUTHORIZATION, LOCATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use disputes_domain::{BillingSubject, Dispute, DisputeId, Role, SubjectKind};
use disputes_ports::{Disputed, ListQuery, OpenRequest, Principal, ServiceError};
use serde::Deserialize;
use serde_json::json;

use crate::ops::login_caller;
use crate::shared::{
    authenticated, export, keyed, page_size, parse_cursor, Authenticates, ErrorShape, Problem,
};
use crate::SharedState;
pub use codes::REGISTRY as CODES;
use keyed::Answers;
use media::{Body, Format};
use wire::{
    ArActionOut, BillNotesOut, DisputeOut, EventOpenIn, OpenIn, OpenedOn, PageOut, ReferenceOut,
    SettlementIn, SettlementReportOut,
};

/// Where this contract lives.
pub const BASE_PATH: &str = "/bcws/webresources/v1.0";
/// SPEC §6: request bodies of this contract are at most 1 MiB; XML is bounded by it too.
const BODY_LIMIT: usize = 1024 * 1024;
const KIND: SubjectKind = SubjectKind::Billing;
/// Declares the `o:` prefix of `o:errorCode` in XML errors.
const ERROR_NAMESPACE: (&str, &str) = ("xmlns:o", "urn:disputes:billing:errors");

/// The contract's routes, to be nested under [`BASE_PATH`]: every one authenticated once, both
/// POSTs guarded by their `Idempotency-Key`, and anything else answered in this contract's shape.
pub fn router(state: &SharedState) -> Router<SharedState> {
    let read = |handler| authenticated::<Billing>(state, handler);
    Router::new()
        .route(
            "/disputes/item/{item_id}",
            keyed::<Billing>(state, Answers::Dispute, post(open_item)),
        )
        .route(
            "/disputes/bill/{bill_id}",
            keyed::<Billing>(state, Answers::Dispute, post(open_bill))
                .merge(read(get(open_of_bill))),
        )
        .route(
            "/disputes/event",
            keyed::<Billing>(state, Answers::Dispute, post(open_events)),
        )
        .route("/disputes/{dispute_id}", read(get(show)))
        .route("/disputes/{dispute_id}/export", read(get(export_dispute)))
        .route("/disputes/account/{account_id}", read(get(list)))
        .route("/disputes/notes/{bill_id}", read(get(notes_of_bill)))
        .route(
            "/disputes/settlement/item/{dispute_id}",
            keyed::<Billing>(state, Answers::Settlement, post(settle_item)),
        )
        .route(
            "/disputes/settlement/bill/{bill_id}",
            keyed::<Billing>(state, Answers::Settlement, post(settle_bill)),
        )
        .route(
            "/disputes/settlement/event/{event_id}",
            keyed::<Billing>(state, Answers::Settlement, post(settle_event)),
        )
        .route(
            "/disputes/settlement/{settlement_id}",
            read(get(settlement)),
        )
        .fallback(crate::unknown_route::<Billing>)
        .method_not_allowed_fallback(crate::method_not_allowed::<Billing>)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The contract marker for shared layers.
#[derive(Debug)]
pub struct Billing;

/// A problem in this contract's error shape, as JSON or as the XML `headers` ask for.
impl ErrorShape for Billing {
    fn render(headers: &HeaderMap, problem: Problem) -> Response {
        BillingError::new(problem, Format::of(headers)).into_response()
    }
}

/// The caller, from `Authorization: Basic base64(username:password)`: a login that
/// `disputes key create --role billing --username NAME` issued. Only billing users speak this
/// contract; each login has a rate-limit bucket of its own.
impl Authenticates for Billing {
    async fn authenticate(
        state: &SharedState,
        _: &Method,
        headers: &HeaderMap,
    ) -> Result<(Principal, String), Problem> {
        let (username, password) =
            basic_credentials(headers).ok_or_else(Problem::unauthenticated)?;
        let principal = state
            .credentials
            .authenticate_login(&username, &password)
            .await?;
        if principal.actor.role != Role::Billing {
            return Err(Problem::new(
                codes::FORBIDDEN_ROLE,
                format!(
                    "the {} role may not use the billing contract",
                    principal.actor.role
                ),
            ));
        }
        let bucket = login_caller(&principal);
        Ok((principal, bucket))
    }
}

/// The caller of a handler of this contract.
type Caller = crate::shared::Caller<Billing>;

/// An error of this contract: `{"type", "title", "status", "detail", "o:errorCode"}` in the format
/// the client accepts. `type` names the HTTP status's definition, as Oracle's REST services do;
/// `o:errorCode` is the stable code clients branch on.
#[derive(Debug)]
pub struct BillingError {
    problem: Problem,
    format: Format,
}

impl BillingError {
    fn new(problem: Problem, format: Format) -> Self {
        BillingError { problem, format }
    }
}

impl IntoResponse for BillingError {
    fn into_response(self) -> Response {
        let problem = self.problem;
        let code = problem.code;
        CODES.check(code);
        let status = code.status;
        let body = json!({
            "type": type_uri(status),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": problem.message,
            "o:errorCode": code.name,
        });
        let mut response = self
            .format
            .render(status, "error", &[ERROR_NAMESPACE], &body);
        problem.annotate(&mut response);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="disputes""#),
            );
        }
        response
    }
}

/// The section of RFC 2616 that defines `status`, the `type` Oracle's REST errors carry.
fn type_uri(status: StatusCode) -> String {
    let section = match status.as_u16() {
        400 => "10.4.1",
        401 => "10.4.2",
        403 => "10.4.4",
        404 => "10.4.5",
        405 => "10.4.6",
        409 => "10.4.10",
        412 => "10.4.13",
        413 => "10.4.14",
        415 => "10.4.16",
        // RFC 2616 predates 429; RFC 6585 defines it.
        429 => return "https://www.rfc-editor.org/rfc/rfc6585#section-4".to_owned(),
        500 => "10.5.1",
        503 => "10.5.4",
        _ => return "about:blank".to_owned(),
    };
    format!("http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec{section}")
}

type Answer = Result<Response, BillingError>;

/// The username and password of a well-formed Basic `Authorization` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let header = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

/// One path parameter, percent-decoded; `+` stays `+` (it means a space only in query strings).
#[derive(Debug)]
pub struct PathParam(String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = BillingError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let format = Format::of(&parts.headers);
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| PathParam(value))
            .map_err(|rejection: PathRejection| {
                format.error()(Problem::new(codes::INVALID_PATH, rejection.body_text()))
            })
    }
}

/// The API's base for the references this contract writes: the server's public URL and the base
/// path, or the base path alone (a reference relative to the server) when none is configured.
/// Never the request's `Host`: a client could make the server write any host it likes.
fn base_url(state: &SharedState) -> String {
    match &state.public_url {
        Some(public) => format!("{}{BASE_PATH}", public.as_str()),
        None => BASE_PATH.to_owned(),
    }
}

/// A `201` with a reference to what was created, and its uri as the `Location`.
fn created(format: Format, root: &str, id: &str, uri: &str) -> Answer {
    let mut response = format.answer(StatusCode::CREATED, root, &ReferenceOut::new(id, uri));
    let location = HeaderValue::from_str(uri).map_err(|e| format.error()(Problem::internal(&e)))?;
    response.headers_mut().insert(LOCATION, location);
    Ok(response)
}

/// The dispute a path's POID names; anything that is not one of ours is simply not found.
fn dispute_id(format: Format, poid: Option<DisputeId>) -> Result<DisputeId, BillingError> {
    poid.ok_or_else(|| format.error()(Problem::not_found()))
}

/// Opens an item dispute: Billing Care's `POST /disputes/item/{itemId}`.
async fn open_item(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(item_id): PathParam,
    Body(body): Body<OpenIn>,
) -> Answer {
    let request = body
        .into_request(OpenedOn::Item(item_id))
        .map_err(format.error())?;
    open(&state, format, &caller, request, "this item").await
}

/// Opens a dispute of a whole bill: Billing Care's `POST /disputes/bill/{billId}`.
async fn open_bill(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(bill_id): PathParam,
    Body(body): Body<OpenIn>,
) -> Answer {
    let request = body
        .into_request(OpenedOn::Bill(bill_id))
        .map_err(format.error())?;
    open(&state, format, &caller, request, "this bill").await
}

/// Opens a dispute of an account's usage events: Billing Care's `POST /disputes/event`.
async fn open_events(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    Body(body): Body<EventOpenIn>,
) -> Answer {
    let request = body.into_request().map_err(format.error())?;
    open(&state, format, &caller, request, "one of these events").await
}

/// Opens the dispute `request` describes and answers with its reference; a clash with an open
/// dispute of the same `what` is named the way this contract names disputes.
async fn open(
    state: &SharedState,
    format: Format,
    caller: &Caller,
    request: OpenRequest,
    what: &str,
) -> Answer {
    let dispute = state
        .billing
        .open(&caller.principal, request, caller.key())
        .await
        .map_err(|e| match e {
            ServiceError::Duplicate { existing } => Problem::new(
                codes::DUPLICATE_DISPUTE,
                format!(
                    "an open dispute ({}) already covers {what}",
                    poid::dispute(existing)
                ),
            ),
            other => other.into(),
        })
        .map_err(format.error())?;
    let id = poid::dispute(dispute.id());
    let uri = format!("{}/disputes/{id}", base_url(state));
    created(format, "resource", &id, &uri)
}

async fn show(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(id): PathParam,
) -> Answer {
    let dispute = read_dispute(&state, format, &caller, &id).await?;
    let body = DisputeOut::render(&dispute, &base_url(&state)).map_err(format.error())?;
    Ok(format.answer(StatusCode::OK, "dispute", &body))
}

/// The caller's dispute of the POID `id`.
async fn read_dispute(
    state: &SharedState,
    format: Format,
    caller: &Caller,
    id: &str,
) -> Result<disputes_domain::Dispute, BillingError> {
    let id = dispute_id(format, poid::parse_dispute(id))?;
    state
        .disputes
        .get(&caller.principal, id, KIND)
        .await
        .map_err(format.error())
}

/// `GET /disputes/{disputeId}/export`: the dispute `GET /disputes/{disputeId}` shows, as a signed
/// `export.v1` envelope that the delivery vendor's verifier checks against `GET
/// /v1/runtime-keys` (an extension; Billing Care has none). Always JSON, the envelope's own
/// format; a failure answers as the client asked.
async fn export_dispute(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(id): PathParam,
) -> Answer {
    let dispute = read_dispute(&state, format, &caller, &id).await?;
    let shown = DisputeOut::render(&dispute, &base_url(&state))
        .and_then(|body| serde_json::to_value(body).map_err(|e| Problem::internal(&e)))
        .map_err(format.error())?;
    let envelope = export::dispute_export(&state.signing, &dispute, shown);
    Ok(Format::Json.answer(StatusCode::OK, "export", &envelope))
}

/// `GET /disputes/account/{accountId}` query parameters, as text so that each bad one is named.
#[derive(Debug, Default, Deserialize)]
struct ListParams {
    /// Billing Care's: `all` (the default: child accounts too) or `childonly`.
    expand: Option<String>,
    /// Ours: a page at a time.
    limit: Option<String>,
    cursor: Option<String>,
}

impl ListParams {
    /// Whether the caller asked for our pages rather than Billing Care's listing.
    fn pages(&self) -> bool {
        self.limit.is_some() || self.cursor.is_some()
    }

    fn into_query(self, account_id: String) -> Result<ListQuery, Problem> {
        // No account has children here, so both of Billing Care's expansions list the same.
        if let Some(expand) = self.expand.as_deref() {
            if !matches!(expand, "all" | "childonly") {
                return Err(Problem::field("expand", "must be all or childonly"));
            }
        }
        let limit = page_size(self.limit.as_deref())?;
        let after = self.cursor.as_deref().map(parse_cursor).transpose()?;
        let account_id =
            BillingSubject::id_filter("accountId", account_id).map_err(Problem::refused_field)?;
        Ok(ListQuery {
            kind: Some(KIND),
            account_id: Some(account_id),
            limit,
            after,
            ..ListQuery::default()
        })
    }
}

/// The account's open disputes as Billing Care lists them: an array of A/R actions, newest
/// first. With `limit` or `cursor` (ours), every dispute of the account instead, settled ones
/// too, a page at a time: `{disputes, nextCursor}`.
async fn list(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(account_id): PathParam,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Answer {
    let Query(params) =
        params.map_err(|e| format.error()(Problem::new(codes::INVALID_QUERY, e.body_text())))?;
    let pages = params.pages();
    let query = params.into_query(account_id).map_err(format.error())?;
    if !pages {
        let open = state
            .billing
            .open_disputes(&caller.principal, query)
            .await
            .map_err(format.error())?;
        return ar_actions(format, &state, &open);
    }
    let page = state
        .disputes
        .list(&caller.principal, &query)
        .await
        .map_err(format.error())?;
    let body = PageOut::render(&page, &base_url(&state)).map_err(format.error())?;
    Ok(format.answer(StatusCode::OK, "disputeList", &body))
}

/// The bill's open disputes, as Billing Care lists them: an array of A/R actions.
async fn open_of_bill(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(bill_id): PathParam,
) -> Answer {
    let query = ListQuery {
        bill_id: Some(lookup_id(format, "billId", bill_id)?),
        ..ListQuery::default()
    };
    let open = state
        .billing
        .open_disputes(&caller.principal, query)
        .await
        .map_err(format.error())?;
    ar_actions(format, &state, &open)
}

/// The notes of the bill's newest dispute, open or settled; a bill no dispute named is not
/// found.
async fn notes_of_bill(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(bill_id): PathParam,
) -> Answer {
    let query = ListQuery {
        kind: Some(KIND),
        bill_id: Some(lookup_id(format, "billId", bill_id)?),
        limit: disputes_ports::PageSize::new(1).map_err(format.error())?,
        ..ListQuery::default()
    };
    let page = state
        .disputes
        .list(&caller.principal, &query)
        .await
        .map_err(format.error())?;
    let newest = page
        .disputes
        .first()
        .ok_or_else(|| format.error()(Problem::not_found()))?;
    let body = BillNotesOut::render(newest).map_err(format.error())?;
    Ok(format.answer(StatusCode::OK, "notesResponse", &body))
}

/// Open disputes as A/R actions: a bare array in JSON, as Billing Care answers;
/// `<arActionsList>` of `<arAction>` elements in XML, where a document needs one root.
fn ar_actions(format: Format, state: &SharedState, open: &[Dispute]) -> Answer {
    let actions = ArActionOut::render_all(open, &base_url(state)).map_err(format.error())?;
    Ok(match format {
        Format::Json => format.answer(StatusCode::OK, "arActionsList", &actions),
        Format::Xml(_) => format.answer(
            StatusCode::OK,
            "arActionsList",
            &json!({ "arAction": actions }),
        ),
    })
}

/// Settles the disputed item's dispute: Billing Care's `POST /disputes/settlement/item/{id}`,
/// `id` the item's (or, ours, the dispute's POID).
async fn settle_item(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(id): PathParam,
    Body(body): Body<SettlementIn>,
) -> Answer {
    let id = match poid::parse_dispute(&id) {
        Some(dispute) => dispute,
        None => {
            let item = lookup_id(format, "itemId", id)?;
            dispute_of(&state, format, &caller, Disputed::Item(&item)).await?
        }
    };
    settle(&state, format, &caller, id, body).await
}

/// Settles the disputed bill's dispute: `POST /disputes/settlement/bill/{billId}`.
async fn settle_bill(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(bill_id): PathParam,
    Body(body): Body<SettlementIn>,
) -> Answer {
    let bill = lookup_id(format, "billId", bill_id)?;
    let id = dispute_of(&state, format, &caller, Disputed::Bill(&bill)).await?;
    settle(&state, format, &caller, id, body).await
}

/// Settles the dispute of the events `eventId` is one of: `POST
/// /disputes/settlement/event/{eventId}`.
async fn settle_event(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(event_id): PathParam,
    Body(body): Body<SettlementIn>,
) -> Answer {
    let event = lookup_id(format, "eventId", event_id)?;
    let id = dispute_of(&state, format, &caller, Disputed::Event(&event)).await?;
    settle(&state, format, &caller, id, body).await
}

/// A path's billing id as a lookup's: only text such an id can be, else a 400 about `field`.
fn lookup_id(format: Format, field: &'static str, id: String) -> Result<String, BillingError> {
    BillingSubject::id_filter(field, id).map_err(|e| format.error()(Problem::refused_field(e)))
}

/// The dispute a settlement of `disputed` is for; none is a 404.
async fn dispute_of(
    state: &SharedState,
    format: Format,
    caller: &Caller,
    disputed: Disputed<'_>,
) -> Result<DisputeId, BillingError> {
    state
        .billing
        .dispute_of(&caller.principal, disputed)
        .await
        .map_err(format.error())
}

/// Settles dispute `id` in full, in part or not at all, by the amount granted. A dispute settles
/// once; its settlement's POID carries the dispute's number.
async fn settle(
    state: &SharedState,
    format: Format,
    caller: &Caller,
    id: DisputeId,
    body: SettlementIn,
) -> Answer {
    let request = body.into_request().map_err(format.error())?;
    let dispute = state
        .billing
        .settle(
            &caller.principal,
            id,
            request.amount,
            request.reason,
            request.notes,
            caller.key(),
        )
        .await
        .map_err(format.error())?;
    let settlement = poid::settlement(dispute.id());
    let uri = format!("{}/disputes/settlement/{settlement}", base_url(state));
    created(format, "resource", &settlement, &uri)
}

/// What was disputed and settled, and what the customer still owes of the disputed amount. The
/// id may be the settlement's POID or its dispute's.
async fn settlement(
    State(state): State<SharedState>,
    format: Format,
    caller: Caller,
    PathParam(id): PathParam,
) -> Answer {
    let id = dispute_id(format, poid::parse_settlement(&id))?;
    let dispute = state
        .disputes
        .get(&caller.principal, id, KIND)
        .await
        .map_err(format.error())?;
    let body = SettlementReportOut::render(&dispute, &base_url(&state)).ok_or_else(|| {
        format.error()(Problem::new(
            codes::SETTLEMENT_NOT_FOUND,
            "the dispute has not been settled",
        ))
    })?;
    Ok(format.answer(StatusCode::OK, "settlement", &body))
}
