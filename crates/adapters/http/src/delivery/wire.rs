//! The delivery contract's JSON, as seed 000 shows it. Requests arrive with every field optional
//! so that a missing field is reported by name, in the envelope, next to every other problem.

use disputes_domain::{
    Claim, DeliverySubject, Dispute, EvidenceBundle, EvidenceItem, EvidenceKind, Period, Quantity,
    Remedy, Subject, Timestamp, Unit,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use disputes_ports::OpenRequest;

use super::codes;
use crate::shared::{decimal, format_time, parse_time, Issues, Problem};

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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceIn {
    #[serde(default)]
    pub proof_pack_ids: Vec<String>,
    #[serde(default)]
    pub metering_snapshot_ids: Vec<String>,
    #[serde(default)]
    pub settlement_application_ids: Vec<String>,
    #[serde(default)]
    pub attachment_refs: Vec<String>,
    pub auditor_report_ref: Option<String>,
}

/// `POST /v1/disputes`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenIn {
    pub disputed_period: Option<PeriodIn>,
    pub affected_surface: Option<SurfaceIn>,
    pub claimed_shortfall: Option<ShortfallIn>,
    pub opened_by: Option<String>,
    pub opened_by_role: Option<String>,
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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemedyIn {
    pub amount: Option<Value>,
    pub makegood_window: Option<PeriodIn>,
}

/// `POST /v1/disputes/{id}/operator-response`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorResponseIn {
    #[serde(default)]
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

/// `POST /v1/disputes/{id}/advertiser-response`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvertiserResponseIn {
    #[serde(default)]
    pub notes: String,
    pub decision: Option<String>,
}

/// `POST /v1/disputes/{id}/resolve`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveIn {
    pub outcome: Option<String>,
    pub settled_amount: Option<Value>,
    pub credit_note_id: Option<String>,
    pub makegood_campaign_id: Option<String>,
    pub settlement_adjustment_id: Option<String>,
    #[serde(default)]
    pub notes: String,
}

/// `POST /v1/disputes/{id}/withdraw` and `/notes`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotesIn {
    #[serde(default)]
    pub notes: String,
}

/// `GET /v1/disputes` query parameters, all as text so that each bad one is named.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    pub status: Option<String>,
    pub campaign_id: Option<String>,
    pub opened_after: Option<String>,
    pub opened_before: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

// ---- responses ----

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodOut {
    start: String,
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SurfaceOut<'d> {
    campaign_id: &'d str,
    screen_ids: &'d [String],
    substrate_id: Option<&'d str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShortfallOut<'d> {
    unit: &'d str,
    amount: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceOut<'d> {
    proof_pack_ids: Vec<&'d str>,
    metering_snapshot_ids: Vec<&'d str>,
    settlement_application_ids: Vec<&'d str>,
    attachment_refs: Vec<&'d str>,
    auditor_report_ref: Option<&'d str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemedyOut {
    amount: Option<String>,
    makegood_window: Option<PeriodOut>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorResponseOut<'d> {
    at: String,
    by: &'d str,
    notes: &'d str,
    proposed_remedy: Option<RemedyOut>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvertiserResponseOut<'d> {
    at: String,
    by: &'d str,
    notes: &'d str,
    decision: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolutionOut<'d> {
    outcome: &'static str,
    settled_amount: String,
    credit_note_id: Option<&'d str>,
    makegood_campaign_id: Option<&'d str>,
    settlement_adjustment_id: Option<&'d str>,
    resolved_at: String,
    resolved_by: &'d str,
    notes: &'d str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineOut<'d> {
    seq: i64,
    at: String,
    actor: &'d str,
    kind: &'static str,
    notes: &'d str,
    hash: String,
}

/// The seed's `data.dispute`, plus `status`, `version`, `respondBy` and `evidenceDigest`. Every
/// field is present; one with no value yet is `null`. Text the dispute holds as it is shown is
/// borrowed from it rather than copied: a page renders twenty disputes.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeOut<'d> {
    id: String,
    org_id: &'d str,
    created_at: String,
    updated_at: String,
    opened_by: &'d str,
    opened_by_role: &'static str,
    opened_at: String,
    disputed_period: PeriodOut,
    affected_surface: SurfaceOut<'d>,
    claimed_shortfall: ShortfallOut<'d>,
    evidence_bundle: EvidenceOut<'d>,
    evidence_digest: String,
    status: &'static str,
    version: i64,
    respond_by: Option<String>,
    operator_response: Option<OperatorResponseOut<'d>>,
    advertiser_response: Option<AdvertiserResponseOut<'d>>,
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
            id: d.id().to_string(),
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
            }),
            advertiser_response: d.opener_reply().map(|r| AdvertiserResponseOut {
                at: format_time(r.at),
                by: r.by.id.as_str(),
                notes: &r.notes,
                decision: r.decision.as_str(),
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
