//! The dependency rule of the hexagon, read from `cargo metadata`:
//! domain ← ports ← adapters ← app.
//!
//! Beside the layers sit two crates of shared store code: the row model (`disputes-rows`),
//! which only the stores may depend on, and the conformance suites (`disputes-conformance`),
//! which implementations of the ports use as a dev-dependency only. Both see only the domain
//! and the ports. The worked examples (every package under `examples/`) are held to what they
//! teach: an implementation of the ports needs the domain and the ports, nothing else of ours,
//! and runs the suites as a dev-dependency.
//!
//! The domain depends on no crate of ours and on a short allowlist of libraries (in
//! particular no serde, sqlx, axum or tokio). Ports see only the domain and know no
//! wire or storage format. Adapters (every package under `crates/adapters/`) see
//! only domain and ports, never each other and never the app. The app may wire
//! anything together. Only direct dependencies are checked: feature unification
//! across the workspace would otherwise blame the domain for features that the
//! adapters turn on.

use std::{collections::BTreeSet, path::Path, process::Command};

use serde_json::{json, Value};

const DOMAIN: &str = "disputes-domain";
const PORTS: &str = "disputes-ports";
const APP: &str = "disputes-app";
/// The store-neutral row model the two stores share.
const ROWS: &str = "disputes-rows";
/// The ports' conformance suites.
const CONFORMANCE: &str = "disputes-conformance";
/// The only crates that may depend on [`ROWS`].
const STORES: &[&str] = &["disputes-sqlite", "disputes-postgres"];

/// Workspace crates that are tooling around the hexagon rather than a layer of it.
const TOOLING: &[&str] = &["xtask", "disputes-e2e", "disputes-bench"];

/// Every library the domain may use; anything else must be argued for here first.
const DOMAIN_ALLOWED: &[&str] = &["chrono", "rust_decimal", "sha2", "thiserror"];
/// Extra libraries the domain's own tests may use.
const DOMAIN_DEV_ALLOWED: &[&str] = &["proptest"];
/// Wire formats, storage and runtimes that have no place in the domain.
const DOMAIN_FORBIDDEN: &[&str] = &[
    "serde",
    "serde_json",
    "sqlx",
    "axum",
    "tokio",
    "async-trait",
];
/// The ports describe contracts, not formats or stores; the row model and the suites are as
/// store-neutral as the ports they serve.
const PORTS_FORBIDDEN: &[&str] = &["serde", "serde_json", "sqlx", "axum"];

/// Where a workspace crate sits in the hexagon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Domain,
    Ports,
    Adapter,
    /// Code shared by the stores: the row model.
    StoreModel,
    /// The conformance suites, for tests only.
    Conformance,
    /// A worked example of implementing the ports (`examples/`).
    Example,
    App,
    Tooling,
}

/// One direct dependency as `cargo metadata` declares it.
#[derive(Debug)]
struct Dependency<'a> {
    name: &'a str,
    /// `None` for normal dependencies, `Some("dev")` or `Some("build")` otherwise.
    kind: Option<&'a str>,
}

impl Dependency<'_> {
    fn is_dev(&self) -> bool {
        self.kind == Some("dev")
    }

    fn describe_kind(&self) -> &'static str {
        match self.kind {
            Some("dev") => "dev-dependency",
            Some("build") => "build-dependency",
            _ => "dependency",
        }
    }
}

/// Returns one human-readable line per broken rule, naming the crate and the dependency.
fn layering_violations(metadata: &Value) -> Vec<String> {
    let root = metadata["workspace_root"]
        .as_str()
        .expect("metadata has a workspace_root");
    let adapters_dir = Path::new(root).join("crates").join("adapters");
    let examples_dir = Path::new(root).join("examples");
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .expect("metadata lists workspace_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages: Vec<&Value> = metadata["packages"]
        .as_array()
        .expect("metadata lists packages")
        .iter()
        .filter(|package| {
            package["id"]
                .as_str()
                .is_some_and(|id| members.contains(id))
        })
        .collect();
    let ours: BTreeSet<&str> = packages
        .iter()
        .filter_map(|package| package["name"].as_str())
        .collect();

    let mut violations = Vec::new();
    for package in packages {
        let name = package["name"].as_str().expect("package has a name");
        let manifest = Path::new(package["manifest_path"].as_str().unwrap_or_default());
        let Some(layer) = layer_of(name, manifest, &adapters_dir, &examples_dir) else {
            violations.push(format!(
                "{name} is a workspace crate in no known layer; place it in the dependency rule of tests/tests/architecture.rs"
            ));
            continue;
        };
        let dependencies = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|dep| Dependency {
                name: dep["name"].as_str().expect("dependency has a name"),
                kind: dep["kind"].as_str(),
            });
        for dep in dependencies {
            if let Some(why) = broken_rule(name, layer, &dep, &ours) {
                violations.push(format!(
                    "{name} must not have {} `{}`: {why}",
                    dep.describe_kind(),
                    dep.name
                ));
            }
        }
    }
    violations
}

fn layer_of(
    name: &str,
    manifest: &Path,
    adapters_dir: &Path,
    examples_dir: &Path,
) -> Option<Layer> {
    match name {
        DOMAIN => Some(Layer::Domain),
        PORTS => Some(Layer::Ports),
        APP => Some(Layer::App),
        ROWS => Some(Layer::StoreModel),
        CONFORMANCE => Some(Layer::Conformance),
        _ if TOOLING.contains(&name) => Some(Layer::Tooling),
        _ if manifest.starts_with(adapters_dir) => Some(Layer::Adapter),
        _ if manifest.starts_with(examples_dir) => Some(Layer::Example),
        _ => None,
    }
}

/// Why `dep` is not allowed in `layer`, or `None` when it is. `name` is the depending crate.
fn broken_rule(
    name: &str,
    layer: Layer,
    dep: &Dependency<'_>,
    ours: &BTreeSet<&str>,
) -> Option<String> {
    let is_ours = ours.contains(dep.name);
    if !dep.is_dev() && layer != Layer::Tooling {
        if dep.name == CONFORMANCE {
            return Some("the conformance suites are for tests: a dev-dependency only".to_owned());
        }
        if dep.name == ROWS && !STORES.contains(&name) {
            return Some(format!(
                "the row model is the stores' own ({}); everything else sees the ports",
                STORES.join(", ")
            ));
        }
    }
    match layer {
        Layer::Domain => {
            if DOMAIN_FORBIDDEN.contains(&dep.name) {
                return Some("the domain knows no wire format, storage or runtime".to_owned());
            }
            if is_ours {
                return Some("the domain depends on no other crate of ours".to_owned());
            }
            let allowed = DOMAIN_ALLOWED.contains(&dep.name)
                || (dep.is_dev() && DOMAIN_DEV_ALLOWED.contains(&dep.name));
            if !allowed {
                return Some(format!(
                    "not on the domain's allowlist ({}; dev: {})",
                    DOMAIN_ALLOWED.join(", "),
                    DOMAIN_DEV_ALLOWED.join(", ")
                ));
            }
            None
        }
        // Tests may pull in helpers from any layer; the rule is about shipped code.
        _ if dep.is_dev() => None,
        Layer::Ports => {
            if PORTS_FORBIDDEN.contains(&dep.name) {
                return Some("ports know no wire or storage format".to_owned());
            }
            if is_ours && dep.name != DOMAIN {
                return Some(format!(
                    "ports may depend only on {DOMAIN} among our crates"
                ));
            }
            None
        }
        Layer::StoreModel | Layer::Conformance => {
            if PORTS_FORBIDDEN.contains(&dep.name) {
                return Some("shared store code knows no wire or storage format".to_owned());
            }
            if is_ours && dep.name != DOMAIN && dep.name != PORTS {
                return Some(format!(
                    "shared store code depends only on {DOMAIN} and {PORTS} among our crates"
                ));
            }
            None
        }
        Layer::Adapter => {
            if dep.name == APP {
                return Some("adapters are wired by the app, never the other way".to_owned());
            }
            if is_ours && dep.name != DOMAIN && dep.name != PORTS && dep.name != ROWS {
                return Some(format!(
                    "adapters never depend on each other, only on {DOMAIN} and {PORTS}"
                ));
            }
            None
        }
        Layer::Example => {
            if is_ours && dep.name != DOMAIN && dep.name != PORTS {
                return Some(format!(
                    "an example implements the ports with {DOMAIN} and {PORTS} alone; \
                     needing more means the ports are incomplete"
                ));
            }
            None
        }
        Layer::App | Layer::Tooling => None,
    }
}

fn workspace_metadata() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package lives one level below the workspace root");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // `--no-deps` still lists every member's declared dependencies, which is all we
    // check, and spares resolving the whole graph.
    let output = Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

#[test]
fn workspace_follows_the_dependency_rule() {
    let metadata = workspace_metadata();
    let names: Vec<&str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|package| package["name"].as_str())
        .collect();
    // Guard against checking an empty or unexpected graph and passing vacuously.
    for expected in [
        DOMAIN,
        PORTS,
        APP,
        ROWS,
        CONFORMANCE,
        "disputes-sqlite",
        "disputes-http",
        "disputes-example-memory-store",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from cargo metadata"
        );
    }

    let violations = layering_violations(&metadata);
    assert!(
        violations.is_empty(),
        "the dependency rule (domain ← ports ← adapters ← app) is broken:\n  {}",
        violations.join("\n  ")
    );
}

/// A dependency of a fake package: `(name, kind)`, kind as in `cargo metadata`.
type FakeDep = (&'static str, Option<&'static str>);
/// A fake workspace package: `(name, manifest dir relative to the root, dependencies)`.
type FakePackage = (&'static str, &'static str, Vec<FakeDep>);

/// A minimal `cargo metadata` document with the fields the rule reads.
fn fake_metadata(packages: &[FakePackage]) -> Value {
    let packages: Vec<Value> = packages
        .iter()
        .map(|(name, dir, deps)| {
            json!({
                "name": name,
                "id": format!("path+file:///ws/{dir}#{name}@0.1.0"),
                "manifest_path": format!("/ws/{dir}/Cargo.toml"),
                "dependencies": deps
                    .iter()
                    .map(|(dep, kind)| json!({ "name": dep, "kind": kind }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let members: Vec<Value> = packages.iter().map(|p| p["id"].clone()).collect();
    json!({ "workspace_root": "/ws", "workspace_members": members, "packages": packages })
}

fn healthy_workspace_with(extra_domain_dep: Option<FakeDep>) -> Vec<FakePackage> {
    let mut domain = vec![
        ("chrono", None),
        ("thiserror", None),
        ("proptest", Some("dev")),
    ];
    domain.extend(extra_domain_dep);
    vec![
        (DOMAIN, "crates/domain", domain),
        (
            PORTS,
            "crates/ports",
            vec![(DOMAIN, None), ("async-trait", None)],
        ),
        (ROWS, "crates/rows", vec![(DOMAIN, None), (PORTS, None)]),
        (
            CONFORMANCE,
            "crates/conformance",
            vec![(PORTS, None), ("tokio", None)],
        ),
        (
            "disputes-sqlite",
            "crates/adapters/sqlite",
            vec![
                (DOMAIN, None),
                (PORTS, None),
                (ROWS, None),
                ("sqlx", None),
                (CONFORMANCE, Some("dev")),
            ],
        ),
        (
            "disputes-http",
            "crates/adapters/http",
            vec![(DOMAIN, None), (PORTS, None), ("serde", None)],
        ),
        (
            APP,
            "crates/app",
            vec![
                (DOMAIN, None),
                ("disputes-sqlite", None),
                ("disputes-http", None),
            ],
        ),
    ]
}

fn check(packages: Vec<FakePackage>) -> Vec<String> {
    layering_violations(&fake_metadata(&packages))
}

#[test]
fn rule_accepts_a_healthy_workspace() {
    assert_eq!(check(healthy_workspace_with(None)), Vec::<String>::new());
}

#[test]
fn rule_reports_serde_in_the_domain() {
    // Shaped like real `cargo metadata --no-deps` output, trimmed to what the rule reads.
    let metadata = json!({
        "workspace_root": "/ws",
        "workspace_members": [
            "path+file:///ws/crates/domain#disputes-domain@0.1.0",
            "path+file:///ws/crates/ports#disputes-ports@0.1.0"
        ],
        "packages": [
            {
                "name": "disputes-domain",
                "id": "path+file:///ws/crates/domain#disputes-domain@0.1.0",
                "manifest_path": "/ws/crates/domain/Cargo.toml",
                "dependencies": [
                    { "name": "chrono", "kind": null, "optional": false },
                    { "name": "serde", "kind": null, "optional": false },
                    { "name": "proptest", "kind": "dev", "optional": false }
                ]
            },
            {
                "name": "disputes-ports",
                "id": "path+file:///ws/crates/ports#disputes-ports@0.1.0",
                "manifest_path": "/ws/crates/ports/Cargo.toml",
                "dependencies": [
                    { "name": "disputes-domain", "kind": null, "optional": false }
                ]
            }
        ]
    });
    let violations = layering_violations(&metadata);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].contains(DOMAIN) && violations[0].contains("`serde`"),
        "{violations:?}"
    );

    // The same holds when serde sneaks in next to an otherwise healthy workspace.
    let violations = check(healthy_workspace_with(Some(("serde", None))));
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].starts_with(DOMAIN), "{violations:?}");
}

#[test]
fn rule_reports_unlisted_and_dev_only_libraries_in_the_domain() {
    let violations = check(healthy_workspace_with(Some(("regex", None))));
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("`regex`"), "{violations:?}");

    // proptest is fine for the domain's tests but not for the domain itself.
    let violations = check(healthy_workspace_with(Some(("proptest", None))));
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("`proptest`"), "{violations:?}");
}

#[test]
fn rule_reports_adapters_that_reach_sideways_or_up() {
    let mut packages = healthy_workspace_with(None);
    packages.push((
        "disputes-postgres",
        "crates/adapters/postgres",
        vec![(PORTS, None), ("disputes-sqlite", None), (APP, None)],
    ));
    let violations = check(packages);
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations
        .iter()
        .any(|v| v.contains("disputes-postgres") && v.contains("`disputes-sqlite`")));
    assert!(violations
        .iter()
        .any(|v| v.contains("disputes-postgres") && v.contains(&format!("`{APP}`"))));
}

#[test]
fn rule_reports_ports_that_know_formats_or_adapters() {
    let mut packages = healthy_workspace_with(None);
    packages[1].2.extend([
        ("serde", None),
        ("disputes-http", None),
        ("axum", Some("dev")),
    ]);
    let violations = check(packages);
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations.iter().all(|v| v.starts_with(PORTS)));
    assert!(violations.iter().any(|v| v.contains("`serde`")));
    assert!(violations.iter().any(|v| v.contains("`disputes-http`")));
}

#[test]
fn rule_ignores_dev_dependencies_between_our_crates() {
    let mut packages = healthy_workspace_with(None);
    packages[4].2.push(("disputes-http", Some("dev")));
    assert_eq!(check(packages), Vec::<String>::new());
}

#[test]
fn rule_reports_crates_outside_every_layer() {
    let mut packages = healthy_workspace_with(None);
    packages.push(("disputes-misc", "crates/misc", vec![]));
    let violations = check(packages);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("disputes-misc"), "{violations:?}");
}

#[test]
fn rule_accepts_the_bench_harness_as_tooling() {
    // The bench drives the built server and both databases directly; it is no layer's code.
    let mut packages = healthy_workspace_with(None);
    packages.push((
        "disputes-bench",
        "bench",
        vec![("sqlx", None), ("axum", None)],
    ));
    assert_eq!(check(packages), Vec::<String>::new());
}

#[test]
fn rule_keeps_the_row_model_to_the_stores_and_the_suites_to_tests() {
    let mut packages = healthy_workspace_with(None);
    // http is an adapter but no store; the app wires stores but reads no rows.
    packages[5].2.extend([(ROWS, None), (CONFORMANCE, None)]);
    packages[6].2.push((ROWS, None));
    // The row model knows no SQL driver, and no adapter.
    packages[2]
        .2
        .extend([("sqlx", None), ("disputes-http", None)]);
    let violations = check(packages);
    assert_eq!(violations.len(), 5, "{violations:?}");
    assert!(violations
        .iter()
        .any(|v| v.starts_with("disputes-http") && v.contains(&format!("`{ROWS}`"))));
    assert!(violations
        .iter()
        .any(|v| v.starts_with("disputes-http") && v.contains(&format!("`{CONFORMANCE}`"))));
    assert!(violations
        .iter()
        .any(|v| v.starts_with(APP) && v.contains(&format!("`{ROWS}`"))));
    assert!(violations
        .iter()
        .any(|v| v.starts_with(ROWS) && v.contains("`sqlx`")));
    assert!(violations
        .iter()
        .any(|v| v.starts_with(ROWS) && v.contains("`disputes-http`")));
}

#[test]
fn rule_keeps_examples_to_the_domain_and_the_ports() {
    let example = |deps: Vec<FakeDep>| {
        let mut packages = healthy_workspace_with(None);
        packages.push(("disputes-example-store", "examples/store", deps));
        check(packages)
    };
    let healthy = vec![
        (DOMAIN, None),
        (PORTS, None),
        ("async-trait", None),
        (CONFORMANCE, Some("dev")),
    ];
    assert_eq!(example(healthy), Vec::<String>::new());

    // The row model, an adapter or the suites outside tests: each one is reported.
    let violations = example(vec![
        (PORTS, None),
        (ROWS, None),
        ("disputes-sqlite", None),
        (CONFORMANCE, None),
    ]);
    assert_eq!(violations.len(), 3, "{violations:?}");
    assert!(violations
        .iter()
        .all(|v| v.starts_with("disputes-example-store")));
    for dep in [ROWS, "disputes-sqlite", CONFORMANCE] {
        assert!(
            violations.iter().any(|v| v.contains(&format!("`{dep}`"))),
            "{violations:?}"
        );
    }
}
