//! The delivery contract's JSON, as seed 000 shows it. Requests arrive with every field optional
//! so that a missing field is reported by name, in the envelope, next to every other problem.

use disputes_domain::{
    Adjustment, Claim, DeliverySubject, Dispute, DisputeId, EvidenceBundle, EvidenceItem,
    EvidenceKind, LedgerOutcome, PartyRole, Period, Quantity, Remedy, ResolutionKind, Stance,
    Status, Subject, Timestamp, Unit,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

use disputes_ports::OpenRequest;

use super::codes;
use crate::shared::schema::{Decision, DeliveryOutcome, DisputeStatus, Outcome, TimelineKind};
use crate::shared::{decimal, format_time, parse_time, Issues, Problem};

/// The prefix of a dispute's id on this wire, as the vendor writes them (`dispute:42`).
pub const ID_PREFIX: &str = "dispute:";

/// A dispute's id as this wire shows it.
pub fn id_text(id: DisputeId) -> String {
    format!("{ID_PREFIX}{id}")
}

/// The vendor's name of each status, its `state`. The vendor has one state after the
/// advertiser answered, where we keep whether it accepted (`accepted`) or not
/// (`under_review`); and it has no expiry, which ours names `EXPIRED`.
pub const STATES: &[(Status, &str)] = &[
    (Status::Open, "OPENED"),
    (Status::Investigating, "INVESTIGATING"),
    (Status::EvidenceGathered, "EVIDENCE_GATHERED"),
    (Status::Responded, "OPERATOR_RESPONDED"),
    (Status::Accepted, "ADVERTISER_RESPONDED"),
    (Status::UnderReview, "ADVERTISER_RESPONDED"),
    (Status::Escalated, "ESCALATED"),
    (Status::Resolved, "RESOLVED"),
    (Status::Withdrawn, "WITHDRAWN"),
    (Status::Expired, "EXPIRED"),
];

/// The vendor's name of `status`.
pub fn state_name(status: Status) -> &'static str {
    STATES
        .iter()
        .find(|(known, _)| *known == status)
        .map_or("OPENED", |(_, name)| name)
}

/// Every state name once, in the lifecycle's order.
pub fn state_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for (_, name) in STATES {
        if !names.contains(name) {
            names.push(name);
        }
    }
    names
}

/// The statuses a state name stands for; `None` for a name that is no state.
pub fn statuses_of(state: &str) -> Option<Vec<Status>> {
    let statuses = STATES
        .iter()
        .filter(|(_, name)| *name == state)
        .map(|(status, _)| *status)
        .collect::<Vec<_>>();
    (!statuses.is_empty()).then_some(statuses)
}

/// The document's schema of `state`: every state name.
pub struct DeliveryState;

impl utoipa::PartialSchema for DeliveryState {
    fn schema() -> RefOr<Schema> {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(state_names()))
                .description(Some(
                    "A dispute's state, by the delivery vendor's names (`EXPIRED` is ours: the vendor has no expiry).",
                ))
                .into(),
        )
    }
}

impl ToSchema for DeliveryState {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("DeliveryState")
    }
}

/// How many disputes are in each state, every state named (zero included), in the lifecycle's
/// order: the list's `counts`.
#[derive(Debug)]
pub struct StateCounts(Vec<(&'static str, u64)>);

impl StateCounts {
    /// The counts of states from the counts of statuses (two statuses share a state).
    pub fn of(by_status: &[(Status, u64)]) -> Self {
        let mut counts = state_names()
            .into_iter()
            .map(|name| (name, 0))
            .collect::<Vec<_>>();
        for (status, n) in by_status {
            let name = state_name(*status);
            if let Some((_, count)) = counts.iter_mut().find(|(known, _)| *known == name) {
                *count += n;
            }
        }
        StateCounts(counts)
    }
}

impl Serialize for StateCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, n)| (*name, n)))
    }
}

impl utoipa::PartialSchema for StateCounts {
    fn schema() -> RefOr<Schema> {
        let counts = state_names().into_iter().fold(
            ObjectBuilder::new().schema_type(Type::Object),
            |object, name| {
                object
                    .property(
                        name,
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(0)),
                    )
                    .required(name)
            },
        );
        RefOr::T(
            counts
                .description(Some(
                    "How many of the tenant's disputes that match the filters (all but `state` and `status`, over every page) are in each state.",
                ))
                .into(),
        )
    }
}

impl ToSchema for StateCounts {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("DeliveryStateCounts")
    }
}

/// A domain name as this wire writes it: the vendor's upper-case style (`PARTIAL`,
/// `CREDIT_ISSUED`, `TAX_AUTHORITY`).
fn upper(name: &str) -> String {
    name.to_ascii_uppercase()
}

/// The value of `all` whose upper-case name is `name`; else a refusal of `field` listing them.
fn by_upper_name<T: Copy>(
    all: &[T],
    name_of: impl Fn(T) -> &'static str,
    field: &str,
    name: &str,
) -> Result<T, Problem> {
    all.iter()
        .copied()
        .find(|v| upper(name_of(*v)) == name)
        .ok_or_else(|| {
            let names = all.iter().map(|v| upper(name_of(*v))).collect::<Vec<_>>();
            Problem::field(field, format!("must be one of {}", names.join(", ")))
        })
}

/// A stance as this wire writes it (`PARTIAL`).
pub fn stance_name(stance: Stance) -> String {
    upper(stance.as_str())
}

/// A stance from its wire name (`ACCEPT`, `PARTIAL` or `REJECT`); `field` names it in the error.
pub fn stance(field: &str, name: &str) -> Result<Stance, Problem> {
    by_upper_name(Stance::ALL, Stance::as_str, field, name)
}

/// A resolution kind from its wire name (`CREDIT_ISSUED`, ...).
pub fn resolution_kind(name: &str) -> Result<ResolutionKind, Problem> {
    by_upper_name(ResolutionKind::ALL, ResolutionKind::as_str, "kind", name)
}

/// A settlement adjustment's changes from its wire map of party role → signed integer cents,
/// in the order given.
pub fn adjustments(map: serde_json::Map<String, Value>) -> Result<Vec<Adjustment>, Problem> {
    map.into_iter()
        .map(|(party, cents)| {
            let field = format!("adjustments.{party}");
            Ok(Adjustment {
                party: by_upper_name(PartyRole::ALL, PartyRole::as_str, &field, &party)?,
                cents: cents
                    .as_i64()
                    .ok_or_else(|| Problem::field(&field, "must be a whole number of cents"))?,
            })
        })
        .collect()
}

/// The document's schema of the adjustments map: each party role at most once, each a signed
/// integer of cents, at least one.
pub struct AdjustmentsIn;

impl utoipa::PartialSchema for AdjustmentsIn {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::AdditionalProperties;
        let parties = PartyRole::ALL.iter().fold(
            ObjectBuilder::new().schema_type(Type::Object),
            |object, party| {
                object.property(
                    upper(party.as_str()),
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(i64::MIN as f64))
                        .maximum(Some(i64::MAX as f64)),
                )
            },
        );
        RefOr::T(
            parties
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
                .min_properties(Some(1))
                .description(Some(
                    "A settlement adjustment: party role → signed integer cents (negative reduces the party's amount).",
                ))
                .into(),
        )
    }
}

impl ToSchema for AdjustmentsIn {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("DeliveryAdjustments")
    }
}

/// How a dispute was resolved, by the vendor's kinds.
#[derive(ToSchema)]
#[schema(as = DeliveryResolutionKind, rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)] // Only the document reads it: the handler reads the kind as text.
pub enum ResolutionKindIn {
    CreditIssued,
    MakegoodDelivered,
    SettlementAdjustment,
    NoCredit,
    Other,
}

/// A settlement adjustment's changes as this wire shows them: party role → cents, in order.
#[derive(Debug)]
pub struct AdjustmentsOut<'d>(&'d [Adjustment]);

impl Serialize for AdjustmentsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|a| (upper(a.party.as_str()), a.cents)))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodIn {
    pub start: Option<String>,
    pub end: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurfaceIn {
    pub campaign_id: Option<String>,
    pub screen_ids: Option<Vec<String>>,
    pub substrate_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShortfallIn {
    pub unit: Option<String>,
    pub amount: Option<Value>,
}

// Each request type is also its schema in the OpenAPI document (`ToSchema`): what a client must
// send, which is stricter than what the type reads (every field optional, so that the handler
// names each missing one), hence the `value_type`s and `required`s.

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryEvidenceRequest,
    description = "References to the evidence behind a claim; every list may be left out."
)]
pub struct EvidenceIn {
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, nullable = false, required = false)]
    pub proof_pack_ids: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, nullable = false, required = false)]
    pub metering_snapshot_ids: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, nullable = false, required = false)]
    pub settlement_application_ids: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, nullable = false, required = false)]
    pub attachment_refs: Vec<String>,
    pub auditor_report_ref: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DeliveryOpenRequest, description = "`POST /v1/disputes`.", example = json!({
    "disputedPeriod": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z"},
    "affectedSurface": {"campaignId": "cmp_8841", "screenIds": ["scr_12", "scr_13"]},
    "claimedShortfall": {"unit": "EUR", "amount": "1250.00"},
    "openedBy": "dev_adv_3",
    "openedByRole": "advertiser",
    "evidenceBundle": {"proofPackIds": ["pp_77"]}
}))]
pub struct OpenIn {
    #[schema(value_type = PeriodOut, required = true)]
    pub disputed_period: Option<PeriodIn>,
    #[schema(value_type = SurfaceOut, required = true)]
    pub affected_surface: Option<SurfaceIn>,
    #[schema(value_type = ShortfallOut, required = true)]
    pub claimed_shortfall: Option<ShortfallIn>,
    /// Who opened it, as the caller's systems name them; the key's developer if not given.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    pub opened_by: Option<String>,
    #[schema(value_type = Option<OpenedByRole>)]
    pub opened_by_role: Option<String>,
    /// Required: at least one of `proofPackIds`, `meteringSnapshotIds` or
    /// `settlementApplicationIds` must name something (else 400 `evidence_required`).
    #[schema(value_type = EvidenceIn, required = true)]
    pub evidence_bundle: Option<EvidenceIn>,
}

/// Parses both ends of a `{start, end}` pair, noting each missing or malformed one.
fn times(
    field: &'static str,
    input: &PeriodIn,
    issues: &mut Issues,
) -> Option<(Timestamp, Timestamp)> {
    let mut time = |part: &str, value: &Option<String>| {
        let name = format!("{field}.{part}");
        let text = issues.required(&name, value.as_ref())?;
        issues.absorb(parse_time(&name, text))
    };
    let (start, end) = (time("start", &input.start), time("end", &input.end));
    Some((start?, end?))
}

/// A `{start, end}` pair of times; `field` names it in errors. Malformed times are
/// `validation_failed`; a start not before its end is the domain's `invalid_period`.
pub fn period(field: &'static str, input: &PeriodIn) -> Result<Period, Problem> {
    let mut issues = Issues::default();
    let parsed = times(field, input, &mut issues);
    issues.finish()?;
    let (start, end) = parsed.expect("finish() returned Ok, so both times parsed");
    Ok(Period::new(field, start, end)?)
}

impl OpenIn {
    /// The opening this body asks for, attributed to no one in particular (the caller sets
    /// `opened_by`). Checks presence of every required part first, then lets the domain
    /// validate values.
    pub fn into_request(self) -> Result<OpenRequest, Problem> {
        let mut issues = Issues::default();
        let period_in = issues.required("disputedPeriod", self.disputed_period.as_ref());
        let surface = issues.required("affectedSurface", self.affected_surface.as_ref());
        let shortfall = issues.required("claimedShortfall", self.claimed_shortfall.as_ref());
        let times = period_in.and_then(|p| times("disputedPeriod", p, &mut issues));
        if let Some(s) = surface {
            issues.required("affectedSurface.campaignId", s.campaign_id.as_ref());
            issues.required("affectedSurface.screenIds", s.screen_ids.as_ref());
        }
        let amount = shortfall.and_then(|s| {
            issues.required("claimedShortfall.unit", s.unit.as_ref());
            let amount = issues.required("claimedShortfall.amount", s.amount.as_ref())?;
            issues.absorb(decimal("claimedShortfall.amount", amount))
        });
        issues.finish()?;
        let (Some((start, end)), Some(surface), Some(shortfall), Some(amount)) =
            (times, surface, shortfall, amount)
        else {
            unreachable!("finish() returned Ok, so every required part is present")
        };
        let period = Period::new("disputedPeriod", start, end)?;

        let subject = DeliverySubject::new(
            surface.campaign_id.clone().unwrap_or_default(),
            surface.screen_ids.clone().unwrap_or_default(),
            surface.substrate_id.clone(),
            period,
        )?;
        let unit = Unit::new(shortfall.unit.clone().unwrap_or_default()).map_err(|_| {
            Problem::field(
                "claimedShortfall.unit",
                "must be an ISO 4217 currency code (EUR) or a lowercase delivery unit (impressions)",
            )
        })?;
        let quantity = Quantity::new(amount, unit).map_err(|_| {
            Problem::field("claimedShortfall.amount", "must be greater than zero")
                .with_code(codes::INVALID_AMOUNT)
        })?;
        Ok(OpenRequest {
            subject: Subject::Delivery(subject),
            claim: Claim::new(quantity),
            evidence: self.evidence_bundle.unwrap_or_default().into_bundle()?,
            opened_by: None,
        })
    }
}

impl EvidenceIn {
    fn into_bundle(self) -> Result<EvidenceBundle, Problem> {
        let groups = [
            (EvidenceKind::ProofPack, self.proof_pack_ids),
            (EvidenceKind::MeteringSnapshot, self.metering_snapshot_ids),
            (
                EvidenceKind::SettlementApplication,
                self.settlement_application_ids,
            ),
            (EvidenceKind::AttachmentRef, self.attachment_refs),
            (
                EvidenceKind::AuditorReport,
                self.auditor_report_ref.into_iter().collect(),
            ),
        ];
        let mut items = Vec::new();
        for (kind, values) in groups {
            for value in values {
                items.push(EvidenceItem::new(kind, value)?);
            }
        }
        Ok(EvidenceBundle::new(items))
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryRemedyRequest,
    description = "A remedy the operator proposes: an amount, a makegood window, or both."
)]
pub struct RemedyIn {
    #[schema(value_type = Option<String>, pattern = r"^-?[0-9]+(\.[0-9]+)?$", max_length = 28, example = "1250.00")]
    pub amount: Option<Value>,
    #[schema(value_type = Option<PeriodOut>)]
    pub makegood_window: Option<PeriodIn>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryOperatorResponseRequest,
    description = "`POST /v1/disputes/{id}/operator-response`."
)]
pub struct OperatorResponseIn {
    #[serde(default)]
    #[schema(value_type = Option<String>, nullable = false, required = false, max_length = 10000)]
    pub notes: String,
    pub proposed_remedy: Option<RemedyIn>,
}

impl RemedyIn {
    pub fn into_remedy(self) -> Result<Remedy, Problem> {
        let amount = self
            .amount
            .as_ref()
            .map(|a| decimal("proposedRemedy.amount", a))
            .transpose()?;
        let makegood_window = self
            .makegood_window
            .as_ref()
            .map(|w| period("proposedRemedy.makegoodWindow", w))
            .transpose()?;
        if amount.is_none() && makegood_window.is_none() {
            return Err(Problem::field(
                "proposedRemedy",
                "must propose an amount, a makegoodWindow, or both",
            ));
        }
        Ok(Remedy {
            amount,
            makegood_window,
        })
    }
}

/// The advertiser's answer to the operator's response.
#[derive(ToSchema)]
#[schema(as = DeliveryDecisionRequest, rename_all = "snake_case")]
#[allow(dead_code)] // Only the document reads it: the handler reads the decision as text.
pub enum DecisionIn {
    Accept,
    Reject,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryAdvertiserResponseRequest,
    description = "`POST /v1/disputes/{id}/advertiser-response`."
)]
pub struct AdvertiserResponseIn {
    #[serde(default)]
    #[schema(value_type = Option<String>, nullable = false, required = false, max_length = 10000)]
    pub notes: String,
    #[schema(value_type = DecisionIn, required = true)]
    pub decision: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryResolveRequest,
    description = "`POST /v1/disputes/{id}/resolve`: an `outcome`, a `kind` (the vendor's), or both. `CREDIT_ISSUED` needs `creditNoteId`, `MAKEGOOD_DELIVERED` needs `makegoodCampaignId`, `SETTLEMENT_ADJUSTMENT` needs `adjustments`, `OTHER` needs an `outcome`; without an outcome, `NO_CREDIT` denies and the others grant (in part when `settledAmount` is less than the claim).",
    example = json!({"kind": "SETTLEMENT_ADJUSTMENT", "adjustments": {"VENUE": -125000, "TENANT": 125000}, "notes": "Two screens were dark."})
)]
pub struct ResolveIn {
    #[schema(value_type = Option<DeliveryOutcome>)]
    pub outcome: Option<String>,
    #[schema(value_type = Option<ResolutionKindIn>)]
    pub kind: Option<String>,
    #[schema(value_type = Option<AdjustmentsIn>)]
    pub adjustments: Option<serde_json::Map<String, Value>>,
    /// The settlement application a settlement adjustment corrects, when the evidence links
    /// more than one.
    pub original_application_id: Option<String>,
    #[schema(value_type = Option<ActorName>)]
    pub actor: Option<String>,
    /// What is settled; at most the claimed amount.
    #[schema(value_type = Option<String>, pattern = r"^-?[0-9]+(\.[0-9]+)?$", max_length = 28, example = "1250.00")]
    pub settled_amount: Option<Value>,
    pub credit_note_id: Option<String>,
    pub makegood_campaign_id: Option<String>,
    pub settlement_adjustment_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, nullable = false, required = false, max_length = 10000)]
    pub notes: String,
}

/// Who acts, as the caller's systems name them: the key's developer if not given.
pub struct ActorName;

impl utoipa::PartialSchema for ActorName {
    fn schema() -> RefOr<Schema> {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(128))
                .pattern(Some("^[^\\u0000-\\u001f\\u007f-\\u009f]+$"))
                .description(Some(
                    "Who acts, as the caller's systems name them; the key's developer if not given.",
                ))
                .into(),
        )
    }
}

impl ToSchema for ActorName {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("DeliveryActor")
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryNotesRequest,
    description = "`POST /v1/disputes/{id}/withdraw` and `POST /v1/disputes/{id}/escalate`. A withdrawal by an `actor` other than the dispute's `openedBy` is a 412 `not_opener`."
)]
pub struct NotesIn {
    #[serde(default)]
    #[schema(value_type = Option<String>, nullable = false, required = false, max_length = 10000)]
    pub notes: String,
    #[schema(value_type = Option<ActorName>)]
    pub actor: Option<String>,
}

/// The state a transition moves to.
#[derive(ToSchema)]
#[schema(as = DeliveryTransitionState, rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)] // Only the document reads it: the handler reads the state as text.
pub enum ToStateIn {
    Investigating,
    EvidenceGathered,
    OperatorResponded,
    AdvertiserResponded,
}

/// Where a party stands.
#[derive(ToSchema)]
#[schema(as = DeliveryStance, rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)] // Only the document reads it: the handler reads the stance as text.
pub enum StanceIn {
    Accept,
    Partial,
    Reject,
}

/// The operator's response of a transition to `OPERATOR_RESPONDED`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DeliveryTransitionOperatorResponse)]
pub struct TransitionOperatorIn {
    #[schema(value_type = StanceIn, required = true)]
    pub stance: Option<String>,
    #[schema(value_type = RemedyIn, required = true)]
    pub proposed_remedy: Option<RemedyIn>,
    #[serde(default)]
    #[schema(value_type = Option<String>, nullable = false, required = false, max_length = 10000)]
    pub notes: String,
}

/// The advertiser's response of a transition to `ADVERTISER_RESPONDED`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DeliveryTransitionAdvertiserResponse)]
pub struct TransitionAdvertiserIn {
    #[schema(value_type = StanceIn, required = true)]
    pub stance: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, nullable = false, required = false, max_length = 10000)]
    pub notes: String,
}

/// `POST /v1/disputes/{id}/transition`. Each leg reads only its own response: the other is
/// not looked at, whatever it holds, as the document's `oneOf` of legs says.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransitionIn {
    pub to_state: Option<String>,
    pub operator_response: Option<Value>,
    pub advertiser_response: Option<Value>,
    pub actor: Option<String>,
    /// The notes of an `INVESTIGATING` or `EVIDENCE_GATHERED` step.
    #[serde(default)]
    pub notes: String,
}

impl TransitionIn {
    /// The response named `field` (`operatorResponse` or `advertiserResponse`) as `T`.
    pub fn response<T: serde::de::DeserializeOwned>(
        value: Option<Value>,
        field: &str,
        to: &str,
    ) -> Result<T, Problem> {
        let value =
            value.ok_or_else(|| Problem::field(field, format!("is required to move to {to}")))?;
        serde_json::from_value(value)
            .map_err(|e| Problem::new(codes::INVALID_BODY, format!("{field}: {e}")))
    }
}

impl utoipa::PartialSchema for TransitionIn {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::OneOfBuilder;
        use utoipa::openapi::Ref;
        let notes = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(10000))
        };
        // Every leg: its state, and who acts; the response it needs, if any.
        let leg = |state: &str, description: &str, response: Option<(&str, &str)>| {
            let object = ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(description))
                .property(
                    "toState",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([state])),
                )
                .required("toState")
                .property("actor", <ActorName as utoipa::PartialSchema>::schema());
            match response {
                Some((field, schema)) => object
                    .property(field, Ref::from_schema_name(schema))
                    .required(field),
                None => object.property("notes", notes()),
            }
        };
        RefOr::T(
            OneOfBuilder::new()
                .item(leg("INVESTIGATING", "The operator acknowledged the dispute and is looking into it (operator keys).", None))
                .item(leg("EVIDENCE_GATHERED", "The operator's evidence is gathered (operator keys).", None))
                .item(leg(
                    "OPERATOR_RESPONDED",
                    "The operator's response: a stance and a proposed remedy (operator keys).",
                    Some(("operatorResponse", "DeliveryTransitionOperatorResponse")),
                ))
                .item(leg(
                    "ADVERTISER_RESPONDED",
                    "The advertiser's response: a stance (advertiser keys).",
                    Some(("advertiserResponse", "DeliveryTransitionAdvertiserResponse")),
                ))
                .description(Some(
                    "`POST /v1/disputes/{id}/transition`: the non-terminal legs of the lifecycle, one per `toState`. A transition the dispute's state does not allow is a 409.",
                ))
                .examples([json!({
                    "toState": "OPERATOR_RESPONDED",
                    "operatorResponse": {"stance": "PARTIAL", "proposedRemedy": {"amount": "600.00"}, "notes": "Two screens were dark on 3 November."}
                })])
                .into(),
        )
    }
}

impl ToSchema for TransitionIn {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("DeliveryTransitionRequest")
    }
}

/// `POST /v1/disputes/{id}/notes`: the same body as a withdrawal's, but a note is required (text,
/// not blank, without control characters; the domain checks it, the document says it).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryNoteRequest,
    description = "`POST /v1/disputes/{id}/notes`: a note is text, not blank, without control characters."
)]
pub struct NoteIn {
    #[serde(default)]
    #[schema(
        value_type = String,
        required = true,
        max_length = 10000,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub notes: String,
}

/// `GET /v1/disputes` query parameters, all as text so that each bad one is named.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    /// The vendor's filter: one state name (`OPENED`, ...).
    pub state: Option<String>,
    /// Ours, kept: one status name (`open`, ...).
    pub status: Option<String>,
    pub campaign_id: Option<String>,
    pub opened_after: Option<String>,
    pub opened_before: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

// ---- responses ----
//
// Each answer type is also its schema in the OpenAPI document (`ToSchema`, named as the document
// names it), so a field changes in one place; `schema(description)` is what clients read there.

/// A screen's id, as the document shows it: 1 to [`DeliverySubject::MAX_ID`] characters without
/// control characters (the handler reads screen ids as text, the domain checks them).
pub struct ScreenId;

impl utoipa::PartialSchema for ScreenId {
    fn schema() -> RefOr<Schema> {
        RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(DeliverySubject::MAX_ID))
                .pattern(Some("^[^\\u0000-\\u001f\\u007f-\\u009f]+$"))
                .description(Some(
                    "A screen's id: 1 to 128 characters without control characters.",
                ))
                .into(),
        )
    }
}

impl ToSchema for ScreenId {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("DeliveryScreenId")
    }
}

/// Who opens a dispute: the key's own role (advertiser if not given).
#[derive(ToSchema)]
#[schema(as = DeliveryRole, rename_all = "snake_case")]
#[allow(dead_code)] // Only the document reads it: the handlers read the role as text.
pub enum OpenedByRole {
    Advertiser,
    Operator,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryPeriod,
    description = "A `{start, end}` pair of RFC 3339 times; the start comes before the end."
)]
pub struct PeriodOut {
    #[schema(format = DateTime)]
    start: String,
    #[schema(format = DateTime)]
    end: String,
}

impl From<Period> for PeriodOut {
    fn from(p: Period) -> Self {
        PeriodOut {
            start: format_time(p.start()),
            end: format_time(p.end()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliverySurface,
    description = "What was under-delivered: the campaign and the screens it ran on."
)]
pub struct SurfaceOut<'d> {
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    campaign_id: &'d str,
    /// At least one screen, none twice.
    #[schema(min_items = 1, value_type = Vec<ScreenId>)]
    screen_ids: &'d [String],
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    substrate_id: Option<&'d str>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryShortfall,
    description = "How much is claimed, in a currency (ISO 4217, `EUR`) or a delivery unit (`impressions`)."
)]
pub struct ShortfallOut<'d> {
    #[schema(pattern = "^([A-Z]{3}|[a-z_]{1,32})$", example = "EUR")]
    unit: &'d str,
    /// A decimal string, greater than zero.
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$", max_length = 28, example = "1250.00")]
    amount: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryEvidence,
    description = "References to the evidence behind a claim."
)]
pub struct EvidenceOut<'d> {
    proof_pack_ids: Vec<&'d str>,
    metering_snapshot_ids: Vec<&'d str>,
    settlement_application_ids: Vec<&'d str>,
    attachment_refs: Vec<&'d str>,
    auditor_report_ref: Option<&'d str>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryRemedy,
    description = "A proposed remedy; what was not proposed is `null`."
)]
pub struct RemedyOut {
    #[schema(
        pattern = r"^-?[0-9]+(\.[0-9]+)?$",
        max_length = 28,
        example = "1250.00",
        required = true
    )]
    amount: Option<String>,
    #[schema(required = true)]
    makegood_window: Option<PeriodOut>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DeliveryOperatorResponse, description = "The operator's response.")]
pub struct OperatorResponseOut<'d> {
    #[schema(format = DateTime)]
    at: String,
    by: &'d str,
    notes: &'d str,
    #[schema(required = true)]
    proposed_remedy: Option<RemedyOut>,
    /// Where the operator stands on the claim; `null` for a response through
    /// `operator-response`, which takes none.
    #[schema(value_type = Option<StanceIn>, required = true)]
    stance: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryAdvertiserResponse,
    description = "The opener's answer to the operator's response."
)]
pub struct AdvertiserResponseOut<'d> {
    #[schema(format = DateTime)]
    at: String,
    by: &'d str,
    notes: &'d str,
    #[schema(value_type = Decision)]
    decision: &'static str,
    /// Where the advertiser stands on the response (`ACCEPT` for an acceptance, `REJECT` for
    /// a rejection, unless it said `PARTIAL`); `null` when it only handed it back.
    #[schema(value_type = Option<StanceIn>, required = true)]
    stance: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DeliveryResolution, description = "How the dispute ended, once it has.")]
pub struct ResolutionOut<'d> {
    #[schema(value_type = Outcome)]
    outcome: &'static str,
    #[schema(
        pattern = r"^-?[0-9]+(\.[0-9]+)?$",
        max_length = 28,
        example = "1250.00"
    )]
    settled_amount: String,
    #[schema(required = true)]
    credit_note_id: Option<&'d str>,
    #[schema(required = true)]
    makegood_campaign_id: Option<&'d str>,
    #[schema(required = true)]
    settlement_adjustment_id: Option<&'d str>,
    #[schema(format = DateTime)]
    resolved_at: String,
    resolved_by: &'d str,
    notes: &'d str,
    /// What was done about the claim; `null` when the operator gave only an outcome.
    #[schema(value_type = Option<ResolutionKindIn>, required = true)]
    kind: Option<String>,
    /// A settlement adjustment's changes; `null` for any other resolution.
    #[schema(value_type = Option<AdjustmentsIn>, required = true)]
    adjustments: Option<AdjustmentsOut<'d>>,
    /// The settlement application a settlement adjustment corrects, when one is known.
    #[schema(required = true)]
    original_application_id: Option<&'d str>,
    /// Whether the settlement system wrote the adjustment's override (its id is
    /// `settlementAdjustmentId`); `null` for any other resolution.
    #[schema(required = true)]
    override_applied: Option<bool>,
    /// Why it did not: `no_settlement_ledger`, `no_original_application`,
    /// `ambiguous_original_application`, `original_application_not_found`,
    /// `settlement_ledger_unavailable`.
    #[schema(required = true)]
    override_skipped: Option<&'d str>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryTimelineEntry,
    description = "One entry of the dispute's hash-chained history."
)]
pub struct TimelineOut<'d> {
    seq: i64,
    #[schema(format = DateTime)]
    at: String,
    actor: &'d str,
    #[schema(value_type = TimelineKind)]
    kind: &'static str,
    notes: &'d str,
    /// SHA-256 of this entry and the one before, in hex.
    hash: String,
}

/// The seed's `data.dispute`, plus `status`, `state`, `version`, `respondBy` and `evidenceDigest`. Every
/// field is present; one with no value yet is `null`. Text the dispute holds as it is shown is
/// borrowed from it rather than copied: a page renders twenty disputes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(
    as = DeliveryDispute,
    description = "A delivery dispute. Every field is present; one with no value yet is `null`."
)]
pub struct DisputeOut<'d> {
    id: String,
    org_id: &'d str,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    opened_by: &'d str,
    #[schema(value_type = OpenedByRole)]
    opened_by_role: &'static str,
    #[schema(format = DateTime)]
    opened_at: String,
    disputed_period: PeriodOut,
    affected_surface: SurfaceOut<'d>,
    claimed_shortfall: ShortfallOut<'d>,
    evidence_bundle: EvidenceOut<'d>,
    /// SHA-256 of the evidence bundle, in hex.
    evidence_digest: String,
    #[schema(value_type = DisputeStatus)]
    status: &'static str,
    /// The vendor's name of the status: `ADVERTISER_RESPONDED` stands for both `accepted` and
    /// `under_review`.
    #[schema(value_type = DeliveryState)]
    state: &'static str,
    /// Grows by one with every change; sent back as the `ETag`.
    version: i64,
    #[schema(format = DateTime, required = true)]
    respond_by: Option<String>,
    #[schema(required = true)]
    operator_response: Option<OperatorResponseOut<'d>>,
    #[schema(required = true)]
    advertiser_response: Option<AdvertiserResponseOut<'d>>,
    #[schema(required = true)]
    resolution: Option<ResolutionOut<'d>>,
    timeline: Vec<TimelineOut<'d>>,
}

impl<'d> DisputeOut<'d> {
    /// Renders a delivery dispute. The handlers only ever pass delivery disputes (the service
    /// filters by kind), so any other subject is a fault of ours.
    pub fn render(d: &'d Dispute) -> Result<Self, Problem> {
        let Subject::Delivery(subject) = d.subject() else {
            return Err(Problem::internal(&format!(
                "dispute {} is not a delivery dispute",
                d.id()
            )));
        };
        let evidence = d.evidence();
        let values = |kind| evidence.values(kind).collect::<Vec<_>>();
        Ok(DisputeOut {
            id: id_text(d.id()),
            org_id: d.tenant().as_str(),
            created_at: format_time(d.opened_at()),
            updated_at: format_time(d.updated_at()),
            opened_by: d.opened_by().id.as_str(),
            opened_by_role: d.opened_by().role.as_str(),
            opened_at: format_time(d.opened_at()),
            disputed_period: subject.period().into(),
            affected_surface: SurfaceOut {
                campaign_id: subject.campaign_id(),
                screen_ids: subject.screen_ids(),
                substrate_id: subject.substrate_id(),
            },
            claimed_shortfall: ShortfallOut {
                unit: d.claim().quantity.unit().as_str(),
                amount: d.claim().amount().to_string(),
            },
            evidence_bundle: EvidenceOut {
                proof_pack_ids: values(EvidenceKind::ProofPack),
                metering_snapshot_ids: values(EvidenceKind::MeteringSnapshot),
                settlement_application_ids: values(EvidenceKind::SettlementApplication),
                attachment_refs: values(EvidenceKind::AttachmentRef),
                auditor_report_ref: values(EvidenceKind::AuditorReport).into_iter().next(),
            },
            evidence_digest: d.evidence_digest().to_hex(),
            status: d.status().as_str(),
            state: state_name(d.status()),
            version: d.version().get(),
            respond_by: d.respond_by().map(format_time),
            operator_response: d.response().map(|r| OperatorResponseOut {
                at: format_time(r.at),
                by: r.by.id.as_str(),
                notes: &r.notes,
                proposed_remedy: r.remedy.as_ref().map(|m| RemedyOut {
                    amount: m.amount.map(|a| a.to_string()),
                    makegood_window: m.makegood_window.map(PeriodOut::from),
                }),
                stance: r.stance.map(stance_name),
            }),
            advertiser_response: d.opener_reply().map(|r| AdvertiserResponseOut {
                at: format_time(r.at),
                by: r.by.id.as_str(),
                notes: &r.notes,
                decision: r.decision.as_str(),
                stance: r.stance.map(stance_name),
            }),
            resolution: d.resolution().map(|r| ResolutionOut {
                outcome: r.outcome.as_str(),
                settled_amount: r.settled_amount.to_string(),
                credit_note_id: r.credit_note_id.as_deref(),
                makegood_campaign_id: r.makegood_campaign_id.as_deref(),
                settlement_adjustment_id: r.settlement_adjustment_id.as_deref(),
                resolved_at: format_time(r.at),
                resolved_by: r.by.id.as_str(),
                notes: &r.notes,
                kind: r.kind.map(|k| upper(k.as_str())),
                adjustments: (!r.adjustments.is_empty()).then_some(AdjustmentsOut(&r.adjustments)),
                original_application_id: r.original_application_id.as_deref(),
                override_applied: r.ledger.as_ref().map(LedgerOutcome::applied),
                override_skipped: r.ledger.as_ref().and_then(LedgerOutcome::skipped_reason),
            }),
            timeline: d
                .timeline()
                .iter()
                .map(|e| TimelineOut {
                    seq: e.seq(),
                    at: format_time(e.at()),
                    actor: e.actor().id.as_str(),
                    kind: e.kind().as_str(),
                    notes: e.notes(),
                    hash: e.hash().to_hex(),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_state_and_every_state_its_statuses() {
        for status in Status::ALL {
            let name = state_name(*status);
            assert!(
                STATES.iter().any(|(s, n)| s == status && *n == name),
                "{status} has no state"
            );
            assert!(statuses_of(name).unwrap().contains(status));
        }
        assert_eq!(
            statuses_of("ADVERTISER_RESPONDED").unwrap(),
            [Status::Accepted, Status::UnderReview]
        );
        assert_eq!(statuses_of("opened"), None, "state names are upper case");
    }

    #[test]
    fn counts_name_every_state_and_add_up_the_statuses_of_each() {
        let counts = StateCounts::of(&[
            (Status::Accepted, 2),
            (Status::UnderReview, 3),
            (Status::Open, 1),
        ]);
        let json = serde_json::to_value(&counts).unwrap();
        assert_eq!(json["ADVERTISER_RESPONDED"], 5);
        assert_eq!(json["OPENED"], 1);
        assert_eq!(json["ESCALATED"], 0);
        assert_eq!(json.as_object().unwrap().len(), state_names().len());
    }

    #[test]
    fn stances_read_as_they_are_written() {
        for s in Stance::ALL {
            assert_eq!(stance("stance", &stance_name(*s)).unwrap(), *s);
        }
        assert!(stance("stance", "partial").is_err());
    }
}
