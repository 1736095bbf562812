//! `disputes-bench seal-cost`: what integrity costs per dispute, measured on the domain and the
//! keyring alone (no store, no HTTP): the canonical state and its digest, the verification of a
//! dispute's chain, an Ed25519 seal, and a seal's check, uncached and remembered.

use std::hint::black_box;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use disputes_domain::{
    Actor, ActorId, Claim, DeliverySubject, Dispute, DisputeId, DisputePolicy, EvidenceBundle,
    EvidenceItem, EvidenceKind, OpenDispute, Period, Quantity, Remedy, Role, Subject, TenantId,
    Unit,
};
use disputes_ports::Keyring;
use disputes_signing::FileKeyring;

/// A delivery dispute with an operator's response: three facts groups, two entries.
fn responded() -> anyhow::Result<Dispute> {
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
    let period = Period::new("disputedPeriod", at, at + Duration::days(7))?;
    let subject = DeliverySubject::new(
        "cmp_autumn_sale",
        vec!["scr_amsterdam_01".into(), "scr_rotterdam_07".into()],
        Some("sub_dooh_nl".into()),
        period,
    )?;
    let command = OpenDispute {
        tenant: TenantId::new("acme-media")?,
        subject: Subject::Delivery(subject),
        claim: Claim::new(Quantity::new(12_500.into(), Unit::new("impressions")?)?),
        opened_by: Actor::new(ActorId::new("dev_adv_42")?, Role::Advertiser),
        evidence: EvidenceBundle::new(vec![
            EvidenceItem::new(EvidenceKind::ProofPack, "pp_2026_10_a")?,
            EvidenceItem::new(EvidenceKind::MeteringSnapshot, "ms_2026_10_08")?,
        ]),
    };
    let policy = DisputePolicy::default();
    let mut dispute = Dispute::open(command, at, &policy)?.into_dispute(DisputeId::new(1)?);
    let remedy = Remedy {
        amount: Some(8_000.into()),
        makegood_window: None,
    };
    let operator = Actor::new(ActorId::new("dev_op_7")?, Role::Operator);
    dispute.respond(
        operator,
        None,
        "Two screens were dark.",
        Some(remedy),
        at,
        &policy,
    )?;
    Ok(dispute)
}

/// Mean microseconds of `op` over `n` runs.
fn micros(n: u32, mut op: impl FnMut(u32)) -> f64 {
    let started = Instant::now();
    for i in 0..n {
        op(i);
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

pub fn run() -> anyhow::Result<()> {
    const N: u32 = 20_000;
    let dir = tempfile_dir()?;
    let (keyring, _) = FileKeyring::open_or_create(&dir.join("signing-keys.json"))?;
    let dispute = responded()?;
    let tenant = dispute.tenant().clone();
    let head = dispute.timeline().last().expect("entries").clone();

    let state = micros(N, |_| {
        black_box(dispute.parts().state_digest());
    });
    let chain = micros(N, |_| {
        black_box(dispute.verify()).expect("a whole chain");
    });
    let statements: Vec<String> = (0..N)
        .map(|i| format!("{}{i}\n", head.seal_statement(&tenant)))
        .collect();
    let mut seals = Vec::with_capacity(N as usize);
    let seal = micros(N, |i| seals.push(keyring.seal(&statements[i as usize])));
    // Each statement once: none of these is remembered yet.
    let check = micros(N, |i| {
        keyring
            .check(&seals[i as usize], &statements[i as usize], Utc::now())
            .expect("a valid seal");
    });
    let remembered = micros(N, |i| {
        keyring
            .check(&seals[i as usize], &statements[i as usize], Utc::now())
            .expect("a valid seal");
    });
    println!("| what | µs per dispute |");
    println!("|---|---:|");
    println!("| canonical state and its digest (on every change and every read) | {state:.1} |");
    println!("| `Dispute::verify`: evidence, 2 entry hashes, state (every read) | {chain:.1} |");
    println!("| an Ed25519 seal (each entry written) | {seal:.1} |");
    println!("| a seal's check, first time (Ed25519 verify) | {check:.1} |");
    println!("| a seal's check, remembered | {remembered:.1} |");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A scratch directory for the keyring, under the system's temporary directory.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("disputes-seal-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
