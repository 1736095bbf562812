//! The delivery contract (seed 000, SPEC §2): `/v1/disputes`, Bearer API keys, and the
//! `{ok, data, contractVersion}` envelope on every answer, errors included.

mod codes;
mod keyed;
pub(crate) mod webhooks;
pub(crate) mod wire;

use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use disputes_domain::{
    ActorId, Decision, DeliverySubject, DisputeId, Outcome, Role, Settlement, Stance, Status,
    SubjectKind, Version,
};
use disputes_ports::{ListQuery, OpenRequest, Principal, Scope, ServiceError};
use serde::Serialize;
use serde_json::json;

use crate::shared::{
    authenticated, cursor_text, decimal, export, keyed, page_size, parse_cursor, parse_time,
    Authenticates, Contract, ErrorShape, JsonBody, Problem,
};
use crate::SharedState;
pub use codes::REGISTRY as CODES;
use keyed::Answers;
use wire::{
    AdvertiserResponseIn, DisputeOut, ListParams, NoteIn, NotesIn, OpenIn, OperatorResponseIn,
    ResolveIn, StateCounts, TransitionAdvertiserIn, TransitionIn, TransitionOperatorIn,
};

/// Where this contract lives; unknown routes below it answer in its error shape.
pub const BASE_PATH: &str = "/v1";
const CONTRACT_VERSION: &str = "v1.0";
/// SPEC §6: request bodies of this contract are at most 1 MiB.
const BODY_LIMIT: usize = 1024 * 1024;
const KIND: SubjectKind = SubjectKind::Delivery;

/// The contract's routes, to be nested under [`BASE_PATH`]: every one authenticated once, every
/// POST guarded by its `Idempotency-Key`, and anything else answered in the envelope.
pub fn router(state: &SharedState) -> Router<SharedState> {
    let changes = |handler| keyed::<Delivery>(state, Answers::Changed, handler);
    Router::new()
        // The guard passes GETs through untouched.
        .route(
            "/disputes",
            keyed::<Delivery>(state, Answers::Opened, post(open).get(list)),
        )
        .route(
            "/disputes/{id}",
            authenticated::<Delivery>(state, get(show)),
        )
        // The keys anyone checks seals and exports with: public, as the vendor serves them.
        .route("/runtime-keys", get(runtime_keys))
        .route(
            "/disputes/{id}/operator-response",
            changes(post(operator_response)),
        )
        .route(
            "/disputes/{id}/advertiser-response",
            changes(post(advertiser_response)),
        )
        .route("/disputes/{id}/transition", changes(post(transition)))
        .route("/disputes/{id}/resolve", changes(post(resolve)))
        .route("/disputes/{id}/withdraw", changes(post(withdraw)))
        .route("/disputes/{id}/escalate", changes(post(escalate)))
        .route("/disputes/{id}/notes", changes(post(add_note)))
        .route(
            "/webhooks",
            keyed::<Delivery>(state, Answers::Subscribed, post(webhooks::register)),
        )
        .fallback(crate::unknown_route::<Delivery>)
        .method_not_allowed_fallback(crate::method_not_allowed::<Delivery>)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The contract marker for shared extractors and layers.
#[derive(Debug)]
pub struct Delivery;

impl Contract for Delivery {
    type Error = DeliveryError;
}

impl ErrorShape for Delivery {
    fn render(_: &HeaderMap, problem: Problem) -> Response {
        DeliveryError(problem).into_response()
    }
}

/// The caller, from `Authorization: Bearer <key>`. Only advertiser and operator keys speak this
/// contract, reading with scope `audit:read` and changing with `settlement:write`, as the vendor
/// has it; each key has a rate-limit bucket of its own.
impl Authenticates for Delivery {
    async fn authenticate(
        state: &SharedState,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<(Principal, String), Problem> {
        let header = headers
            .get(AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or_else(Problem::unauthenticated)?;
        let (scheme, key) = header
            .split_once(' ')
            .ok_or_else(Problem::unauthenticated)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Problem::unauthenticated());
        }
        let holder = state.credentials.authenticate(key.trim()).await?;
        let role = holder.principal.actor.role;
        if !matches!(role, Role::Advertiser | Role::Operator) {
            return Err(forbidden(role, "use the delivery contract"));
        }
        let needed = if method.is_safe() {
            Scope::AuditRead
        } else {
            Scope::SettlementWrite
        };
        if !needed.granted_by(&holder.scopes) {
            return Err(Problem::new(
                codes::INSUFFICIENT_SCOPE,
                format!("this key lacks the scope {needed}"),
            ));
        }
        Ok((holder.principal, format!("key {}", holder.key_id)))
    }
}

/// The caller of a handler of this contract.
type Caller = crate::shared::Caller<Delivery>;

/// An error in the envelope: `{"ok": false, "error": {code, message, details}, "contractVersion"}`.
#[derive(Debug)]
pub struct DeliveryError(Problem);

impl From<Problem> for DeliveryError {
    fn from(p: Problem) -> Self {
        DeliveryError(p)
    }
}

impl From<disputes_ports::ServiceError> for DeliveryError {
    fn from(e: disputes_ports::ServiceError) -> Self {
        let duplicate = match &e {
            ServiceError::Duplicate { existing } => Some(*existing),
            _ => None,
        };
        let mut problem = Problem::from(e);
        // This wire names disputes `dispute:<n>`: the one a duplicate points at too, so that a
        // client can fetch it with the id as given.
        if let Some(existing) = duplicate {
            let id = wire::id_text(existing);
            problem.message = format!("an open dispute ({id}) already covers this subject");
            for detail in &mut problem.details {
                detail.issue.clone_from(&id);
            }
        }
        DeliveryError(problem)
    }
}

impl From<disputes_domain::DomainError> for DeliveryError {
    fn from(e: disputes_domain::DomainError) -> Self {
        DeliveryError(e.into())
    }
}

impl IntoResponse for DeliveryError {
    fn into_response(self) -> Response {
        let p = self.0;
        CODES.check(p.code);
        let body = json!({
            "ok": false,
            "error": { "code": p.code.name, "message": p.message, "details": p.details },
            "contractVersion": CONTRACT_VERSION,
        });
        let mut response = (p.status(), Json(body)).into_response();
        p.annotate(&mut response);
        if p.status() == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

type Body<T> = JsonBody<T, Delivery>;
type Answer = Result<Response, DeliveryError>;

/// The success envelope. Typed rather than a `serde_json::Value`, so that a response is
/// serialised straight from the wire structs: building the `Value` tree first was about 40 % of a
/// get's instructions and 60 % of a list page's (docs/benchmarks.md, Profile). The document is
/// the same; only the order of its keys in the bytes follows the structs.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<T> {
    ok: bool,
    data: T,
    contract_version: &'static str,
}

fn envelope(status: StatusCode, data: impl Serialize) -> Response {
    envelope_sized(status, data, 2048)
}

/// [`envelope`] for a body of about `capacity` bytes. Written into a `Vec` of that size rather
/// than through `Json`, whose `BytesMut` writer starts at 128 bytes and takes every one of
/// serde_json's many small writes through `BufMut`: a page of disputes is tens of kilobytes.
/// The bytes and the content type are `Json`'s.
fn envelope_sized(status: StatusCode, data: impl Serialize, capacity: usize) -> Response {
    let body = Envelope {
        ok: true,
        data,
        contract_version: CONTRACT_VERSION,
    };
    let mut bytes = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut bytes, &body) {
        Ok(()) => (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            bytes,
        )
            .into_response(),
        Err(e) => DeliveryError(Problem::internal(&e)).into_response(),
    }
}

/// `data` of an answer that carries one dispute.
#[derive(Serialize)]
struct OneDispute<'d> {
    dispute: DisputeOut<'d>,
}

/// `data` of a page of the list.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DisputePage<'d> {
    disputes: Vec<DisputeOut<'d>>,
    next_cursor: Option<String>,
    total: u64,
    counts: StateCounts,
}

/// A dispute in the envelope, with its version as the `ETag` for a later `If-Match`.
fn dispute_answer(status: StatusCode, d: &disputes_domain::Dispute) -> Answer {
    let dispute = DisputeOut::render(d)?;
    let mut response = envelope(status, OneDispute { dispute });
    let etag = HeaderValue::from_str(&format!("\"{}\"", d.version()))
        .map_err(|e| Problem::internal(&e))?;
    response.headers_mut().insert(ETAG, etag);
    Ok(response)
}

/// `If-Match` (SPEC §6): with a dispute's `ETag` (`"<version>"`) the change applies only to that
/// version of the dispute, else 412; absent or `*`, it applies to whatever version is current;
/// empty, it names no version at all (RFC 9110's empty list of entity tags), so none matches: a
/// 412 for a dispute that exists.
#[derive(Debug)]
pub enum IfMatch {
    Any,
    Version(Version),
    NoVersion,
}

impl IfMatch {
    /// The version a change must apply to, if any; for an empty `If-Match`, the 412 (or the 404
    /// of a dispute the caller cannot see).
    async fn version(
        self,
        state: &SharedState,
        caller: &Caller,
        id: DisputeId,
    ) -> Result<Option<Version>, DeliveryError> {
        match self {
            IfMatch::Any => Ok(None),
            IfMatch::Version(version) => Ok(Some(version)),
            IfMatch::NoVersion => {
                let current = state.disputes.get(&caller.principal, id, KIND).await?;
                Err(ServiceError::StaleVersion {
                    current: current.version(),
                }
                .into())
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = DeliveryError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(header) = parts.headers.get(IF_MATCH) else {
            return Ok(IfMatch::Any);
        };
        let invalid = || {
            Problem::field(
                "If-Match",
                "must be a dispute version as its ETag shows it, such as \"3\"",
            )
        };
        let text = header.to_str().map_err(|_| invalid())?.trim();
        match text {
            "*" => return Ok(IfMatch::Any),
            "" => return Ok(IfMatch::NoVersion),
            _ => {}
        }
        // Exactly what an ETag of ours looks like, weak or strong: a positive version of at most
        // 18 digits (so it fits), without sign or leading zeros; the document's pattern says so.
        let version = text
            .strip_prefix("W/")
            .unwrap_or(text)
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|digits| {
                (1..=18).contains(&digits.len())
                    && !digits.starts_with('0')
                    && digits.bytes().all(|b| b.is_ascii_digit())
            })
            .and_then(|digits| digits.parse::<i64>().ok())
            .and_then(|v| Version::new(v).ok())
            .ok_or_else(invalid)?;
        Ok(IfMatch::Version(version))
    }
}

fn forbidden(role: Role, action: &str) -> Problem {
    Problem::new(
        codes::FORBIDDEN_ROLE,
        format!("the {role} role may not {action}"),
    )
}

fn require_role(caller: &Caller, role: Role, action: &str) -> Result<(), DeliveryError> {
    if caller.principal.actor.role != role {
        return Err(forbidden(caller.principal.actor.role, action).into());
    }
    Ok(())
}

/// Ids are numbers on the store side and `dispute:<number>` on this wire, as the vendor writes
/// them; the bare number, which this contract answered before, is still read. Anything that is
/// not one of ours is simply not found.
fn dispute_id(raw: &str) -> Result<DisputeId, DeliveryError> {
    raw.strip_prefix(wire::ID_PREFIX)
        .unwrap_or(raw)
        .parse()
        .map_err(|_| Problem::not_found().into())
}

/// The caller, acting as the body's `actor` when it names one (the vendor's field): the name
/// the change is recorded under, and the one a withdrawal must match `openedBy` with.
fn acting(caller: &Caller, actor: Option<String>) -> Result<disputes_ports::Principal, Problem> {
    let id = actor.map(ActorId::new).transpose().map_err(|_| {
        Problem::field(
            "actor",
            "must be 1-128 characters without control characters",
        )
    })?;
    Ok(caller.principal.acting_as(id))
}

async fn open(
    State(state): State<SharedState>,
    caller: Caller,
    JsonBody(body, _): Body<OpenIn>,
) -> Answer {
    // The seed: anything but "operator" means advertiser, and it must be the key's own role.
    let claimed_role = match body.opened_by_role.as_deref() {
        Some("operator") => Role::Operator,
        _ => Role::Advertiser,
    };
    if claimed_role != caller.principal.actor.role {
        return Err(forbidden(
            caller.principal.actor.role,
            &format!("open a dispute as {claimed_role}"),
        )
        .into());
    }
    let opened_by = body
        .opened_by
        .clone()
        .map(ActorId::new)
        .transpose()
        .map_err(|_| {
            Problem::field(
                "openedBy",
                "must be 1-128 characters without control characters",
            )
        })?;
    let request = OpenRequest {
        opened_by,
        ..body.into_request()?
    };
    let dispute = state
        .disputes
        .open(&caller.principal, request, caller.key())
        .await?;
    dispute_answer(StatusCode::CREATED, &dispute)
}

/// `GET /v1/disputes/{id}`; with `?export=true`, the dispute as a signed export.
async fn show(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Result<Query<ShowParams>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let Query(params) = params.map_err(|e| Problem::new(codes::INVALID_QUERY, e.body_text()))?;
    let dispute = state
        .disputes
        .get(&caller.principal, dispute_id(&id)?, KIND)
        .await?;
    if params.export == Some(true) {
        let shown = serde_json::to_value(DisputeOut::render(&dispute)?)
            .map_err(|e| Problem::internal(&e))?;
        let export = export::dispute_export(&state.signing, &dispute, shown);
        return Ok(envelope_sized(StatusCode::OK, export, 16 * 1024));
    }
    dispute_answer(StatusCode::OK, &dispute)
}

/// The query of `GET /v1/disputes/{id}`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowParams {
    /// `true`: the dispute as a signed `export.v1` envelope (kind `dispute.export.v1`), which
    /// the vendor's verifier checks against `GET /v1/runtime-keys`.
    export: Option<bool>,
}

/// `GET /v1/runtime-keys`: every signing key, without authentication.
async fn runtime_keys(State(state): State<SharedState>) -> Response {
    envelope(
        StatusCode::OK,
        export::KeySet::of(&state.signing.published_keys()),
    )
}

impl ListParams {
    /// The query these parameters ask for, and whether no dispute can match it (a `status`
    /// outside the `state`: the counts are still those of the other filters).
    fn into_query(self) -> Result<(ListQuery, bool), Problem> {
        let limit = page_size(self.limit.as_deref())?;
        let by_state = self
            .state
            .map(|state| {
                wire::statuses_of(&state).ok_or_else(|| {
                    Problem::field(
                        "state",
                        format!("must be one of {}", wire::state_names().join(", ")),
                    )
                })
            })
            .transpose()?;
        let by_status = self
            .status
            .map(|status| {
                status.parse::<Status>().map_err(|_| {
                    let names = Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>();
                    Problem::field("status", format!("must be one of {}", names.join(", ")))
                })
            })
            .transpose()?;
        // Both filters apply: a status outside the state matches nothing.
        let matches_none = matches!((&by_state, by_status), (Some(of_state), Some(status)) if !of_state.contains(&status));
        let statuses = by_status
            .map(|status| vec![status])
            .or(by_state)
            .unwrap_or_default();
        let query = ListQuery {
            kind: Some(KIND),
            statuses,
            campaign_id: self
                .campaign_id
                .map(|c| DeliverySubject::campaign_filter("campaignId", c))
                .transpose()
                .map_err(Problem::refused_field)?,
            opened_after: self
                .opened_after
                .map(|t| parse_time("openedAfter", &t))
                .transpose()?,
            opened_before: self
                .opened_before
                .map(|t| parse_time("openedBefore", &t))
                .transpose()?,
            limit,
            after: self.cursor.map(|c| parse_cursor(&c)).transpose()?,
            ..ListQuery::default()
        };
        Ok((query, matches_none))
    }
}

async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let Query(params) = params.map_err(|e| Problem::new(codes::INVALID_QUERY, e.body_text()))?;
    let (query, matches_none) = params.into_query()?;
    let page = if matches_none {
        disputes_ports::Page {
            disputes: Vec::new(),
            next: None,
        }
    } else {
        state.disputes.list(&caller.principal, &query).await?
    };
    let by_status = state
        .disputes
        .count_by_status(&caller.principal, &query)
        .await?;
    let total = if matches_none {
        0
    } else {
        by_status
            .iter()
            .filter(|(status, _)| query.statuses.is_empty() || query.statuses.contains(status))
            .map(|(_, n)| n)
            .sum()
    };
    let disputes = page
        .disputes
        .iter()
        .map(DisputeOut::render)
        .collect::<Result<Vec<_>, _>>()?;
    // About one and a half kilobytes a dispute.
    let capacity = 256 + 1536 * disputes.len();
    Ok(envelope_sized(
        StatusCode::OK,
        DisputePage {
            disputes,
            next_cursor: page.next.map(cursor_text),
            total,
            counts: StateCounts::of(&by_status),
        },
        capacity,
    ))
}

async fn operator_response(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body, _): Body<OperatorResponseIn>,
) -> Answer {
    require_role(&caller, Role::Operator, "send an operator response")?;
    let id = dispute_id(&id)?;
    let expected = if_match.version(&state, &caller, id).await?;
    let remedy = body.proposed_remedy.map(|r| r.into_remedy()).transpose()?;
    let dispute = state
        .disputes
        .respond(
            &caller.principal,
            id,
            KIND,
            caller.conditions(expected),
            None,
            &body.notes,
            remedy,
        )
        .await?;
    dispute_answer(StatusCode::OK, &dispute)
}

async fn advertiser_response(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body, _): Body<AdvertiserResponseIn>,
) -> Answer {
    require_role(&caller, Role::Advertiser, "send an advertiser response")?;
    let id = dispute_id(&id)?;
    let expected = if_match.version(&state, &caller, id).await?;
    let decision = match body.decision.as_deref() {
        Some("accept") => Decision::Accept,
        Some("reject") => Decision::Reject,
        Some(_) => return Err(Problem::field("decision", "must be accept or reject").into()),
        None => return Err(Problem::field("decision", "is required").into()),
    };
    let dispute = state
        .disputes
        .reply(
            &caller.principal,
            id,
            KIND,
            caller.conditions(expected),
            decision,
            None,
            &body.notes,
        )
        .await?;
    dispute_answer(StatusCode::OK, &dispute)
}

async fn resolve(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body, _): Body<ResolveIn>,
) -> Answer {
    require_role(&caller, Role::Operator, "resolve a dispute")?;
    let id = dispute_id(&id)?;
    let expected = if_match.version(&state, &caller, id).await?;
    // Which outcomes a party may choose is the domain's rule; which amount fits one, and what
    // each kind needs, is checked by `Dispute::settle`.
    let outcome = body
        .outcome
        .as_deref()
        .map(Outcome::parse_resolution)
        .transpose()
        .map_err(Problem::refused_field)?;
    let kind = body
        .kind
        .as_deref()
        .map(wire::resolution_kind)
        .transpose()?;
    if outcome.is_none() && kind.is_none() {
        return Err(Problem::field("outcome", "is required (or a kind)").into());
    }
    let settlement = Settlement {
        outcome,
        kind,
        adjustments: body
            .adjustments
            .map(wire::adjustments)
            .transpose()?
            .unwrap_or_default(),
        original_application_id: body.original_application_id,
        settled_amount: body
            .settled_amount
            .as_ref()
            .map(|a| decimal("settledAmount", a))
            .transpose()?,
        credit_note_id: body.credit_note_id,
        makegood_campaign_id: body.makegood_campaign_id,
        settlement_adjustment_id: body.settlement_adjustment_id,
        reason: None,
        notes: body.notes,
        ledger: None,
    };
    let by = acting(&caller, body.actor)?;
    let dispute = state
        .disputes
        .settle(&by, id, KIND, caller.conditions(expected), settlement)
        .await?;
    dispute_answer(StatusCode::OK, &dispute)
}

async fn withdraw(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body, _): Body<NotesIn>,
) -> Answer {
    let id = dispute_id(&id)?;
    let expected = if_match.version(&state, &caller, id).await?;
    let by = acting(&caller, body.actor)?;
    let dispute = state
        .disputes
        .withdraw(&by, id, KIND, caller.conditions(expected), &body.notes)
        .await?;
    dispute_answer(StatusCode::OK, &dispute)
}

/// Either party takes the dispute to mediation.
async fn escalate(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body, _): Body<NotesIn>,
) -> Answer {
    let id = dispute_id(&id)?;
    let expected = if_match.version(&state, &caller, id).await?;
    let by = acting(&caller, body.actor)?;
    let dispute = state
        .disputes
        .escalate(&by, id, KIND, caller.conditions(expected), &body.notes)
        .await?;
    dispute_answer(StatusCode::OK, &dispute)
}

/// The vendor's transition route: one leg of the lifecycle before a resolution, named by
/// `toState`. Whose leg it is follows the vendor (the operator's three, the advertiser's one);
/// the other states have routes of their own, and asking for one here is an illegal transition.
async fn transition(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body, _): Body<TransitionIn>,
) -> Answer {
    let id = dispute_id(&id)?;
    let to = match body.to_state.as_deref() {
        Some(name) => name,
        None => return Err(Problem::field("toState", "is required").into()),
    };
    let leg = Leg::named(to)?;
    require_role(&caller, leg.role(), &format!("move a dispute to {to}"))?;
    let expected = if_match.version(&state, &caller, id).await?;
    let by = acting(&caller, body.actor)?;
    let conditions = caller.conditions(expected);
    let disputes = &state.disputes;
    let dispute = match leg {
        Leg::Investigating => {
            disputes
                .investigate(&by, id, KIND, conditions, &body.notes)
                .await?
        }
        Leg::EvidenceGathered => {
            disputes
                .gather_evidence(&by, id, KIND, conditions, &body.notes)
                .await?
        }
        Leg::OperatorResponded => {
            let response: TransitionOperatorIn =
                TransitionIn::response(body.operator_response, "operatorResponse", to)?;
            let stance = required_stance("operatorResponse.stance", response.stance.as_deref())?;
            let remedy = response
                .proposed_remedy
                .ok_or_else(|| Problem::field("operatorResponse.proposedRemedy", "is required"))?
                .into_remedy()?;
            disputes
                .respond(
                    &by,
                    id,
                    KIND,
                    conditions,
                    Some(stance),
                    &response.notes,
                    Some(remedy),
                )
                .await?
        }
        Leg::AdvertiserResponded => {
            let response: TransitionAdvertiserIn =
                TransitionIn::response(body.advertiser_response, "advertiserResponse", to)?;
            let stance = required_stance("advertiserResponse.stance", response.stance.as_deref())?;
            disputes
                .reply(
                    &by,
                    id,
                    KIND,
                    conditions,
                    stance.decision(),
                    Some(stance),
                    &response.notes,
                )
                .await?
        }
    };
    dispute_answer(StatusCode::OK, &dispute)
}

fn required_stance(field: &'static str, name: Option<&str>) -> Result<Stance, Problem> {
    wire::stance(
        field,
        name.ok_or_else(|| Problem::field(field, "is required"))?,
    )
}

/// The legs the transition route drives.
#[derive(Debug, Clone, Copy)]
enum Leg {
    Investigating,
    EvidenceGathered,
    OperatorResponded,
    AdvertiserResponded,
}

impl Leg {
    /// The leg to the state `name`. A state with a route of its own (resolved, withdrawn,
    /// escalated) or none at all (opened, expired) is an illegal transition, as the vendor
    /// answers it; a name that is no state is a bad field.
    fn named(name: &str) -> Result<Leg, Problem> {
        Ok(match name {
            "INVESTIGATING" => Leg::Investigating,
            "EVIDENCE_GATHERED" => Leg::EvidenceGathered,
            "OPERATOR_RESPONDED" => Leg::OperatorResponded,
            "ADVERTISER_RESPONDED" => Leg::AdvertiserResponded,
            other if wire::statuses_of(other).is_some() => {
                let route = match other {
                    "RESOLVED" => ": use POST /v1/disputes/{id}/resolve",
                    "WITHDRAWN" => ": use POST /v1/disputes/{id}/withdraw",
                    "ESCALATED" => ": use POST /v1/disputes/{id}/escalate",
                    _ => "",
                };
                return Err(Problem::new(
                    codes::ILLEGAL_TRANSITION,
                    format!("the transition route cannot move a dispute to {other}{route}"),
                ));
            }
            _ => {
                return Err(Problem::field(
                    "toState",
                    "must be INVESTIGATING, EVIDENCE_GATHERED, OPERATOR_RESPONDED or ADVERTISER_RESPONDED",
                ))
            }
        })
    }

    /// Whose leg it is.
    fn role(self) -> Role {
        match self {
            Leg::AdvertiserResponded => Role::Advertiser,
            Leg::Investigating | Leg::EvidenceGathered | Leg::OperatorResponded => Role::Operator,
        }
    }
}

async fn add_note(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body, _): Body<NoteIn>,
) -> Answer {
    let id = dispute_id(&id)?;
    let expected = if_match.version(&state, &caller, id).await?;
    let dispute = state
        .disputes
        .add_note(
            &caller.principal,
            id,
            KIND,
            caller.conditions(expected),
            &body.notes,
        )
        .await?;
    dispute_answer(StatusCode::OK, &dispute)
}
