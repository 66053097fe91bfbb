//! Several `pitboss run` instances under faults, end to end (issue 15): a real broker
//! (Tansu) and `pitboss-load run --scenario ... --spawn --json`, which starts three
//! instances in one group on a CQL store the harness serves, applies the scenario's faults,
//! stops the instances one after another and checks every unit of money against the
//! independent model, the published outputs and `pitboss audit`.
//!
//! Needs the `pitboss` binary next to `pitboss-load` (`cargo test --workspace` builds it)
//! and Tansu (see `testkit::tansu`). A missing broker or binary fails the test.

mod support;

use std::time::Duration;

/// The headline and standard error of a run of `scenario`; its report's log of faults
/// must name every one the headline counts.
fn run(scenario: &str) -> (serde_json::Value, String) {
    let r = support::run_scenario(scenario, 180, Duration::from_secs(600));
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(r.out.path().join("report.json")).expect("report.json"),
    )
    .expect("report.json is JSON");
    let log = report["chaos"]["log"].as_array().expect("the chaos log");
    let count = |what: &str| {
        log.iter()
            .filter(|l| l.as_str().is_some_and(|l| l.contains(what)))
            .count() as u64
    };
    assert_eq!(
        count("SIGKILL"),
        r.headline["kills"].as_u64().unwrap(),
        "{log:?}"
    );
    assert_eq!(
        count("left cleanly"),
        r.headline["rebalances"].as_u64().unwrap(),
        "{log:?}"
    );
    (r.headline, r.stderr)
}

/// Three instances, one of which leaves and comes back, and all of which stop one after
/// another at the end: the rebalances hand machines, wallets, halls and the wide-area pool
/// between instances through the shared store. (Before RULES.md H-2's hand-over rule, the
/// last instance's halls kept their final windows in the store: "GGR per hall (published)"
/// failed.)
#[test]
fn three_instances_and_their_rebalances_account_for_every_unit_of_money() {
    let (v, stderr) = run("scenarios/three-instances.toml");
    assert_eq!(v["instances"], 3, "{v}");
    assert_eq!(v["rebalances"], 1, "{v}");
    assert_eq!(v["unplanned_exits"], 0, "{v}\n{stderr}");
    assert!(v["events"].as_u64().unwrap_or(0) > 0, "{v}");
    assert_eq!(v["accounting_ok"], true, "{v}\n{stderr}");
}

/// The chaos scenario: five SIGKILLs (some in a start-up), a leave and return, and the
/// store down for 10 s.
#[test]
#[ignore = "two open findings make it fail some runs (BENCHMARKS.md, Chaos): a cashless \
            transfer's machine acknowledgement (internal topic) can reach a lagging wallet \
            before the wallet's earlier commands (input topic), so outcomes differ from the \
            input-order reference; and with Tansu the group was seen never to reassign \
            after a leave during the store outage (--chaos-seed 3)"]
fn chaos_scenario_accounts_for_every_unit_of_money() {
    let (v, stderr) = run("scenarios/chaos.toml");
    assert_eq!(v["instances"], 3, "{v}");
    assert!(v["kills"].as_u64().unwrap_or(0) >= 5, "{v}");
    assert!(v["kills_in_start_up"].as_u64().unwrap_or(0) >= 1, "{v}");
    assert!(v["rebalances"].as_u64().unwrap_or(0) >= 1, "{v}");
    assert!(
        v["store_outage_secs"].as_f64().unwrap_or(0.0) >= 10.0,
        "{v}"
    );
    assert_eq!(v["unplanned_exits"], 0, "{v}\n{stderr}");
    assert_eq!(v["accounting_ok"], true, "{v}\n{stderr}");
}
