//! The smoke scenario end to end: a real broker (Tansu) on a free loopback port,
//! `pitboss-load run --scenario scenarios/smoke.toml --spawn --json`, which starts a
//! `pitboss run`, offers the scenario, stops pitboss and checks the money. The test asserts
//! the accounting check passed, events went through and pitboss's CPU, memory and live
//! actors were measured.
//!
//! Needs the `pitboss` binary next to `pitboss-load` (`cargo test --workspace` builds it;
//! with `-p pitboss-load` run `cargo build --bin pitboss` first) and Tansu (see
//! `testkit::tansu`). A missing broker or binary fails the test; it never skips.

mod support;

#[test]
fn smoke_scenario_passes_its_accounting_check() {
    let run = support::run_scenario(
        "scenarios/smoke.toml",
        60,
        std::time::Duration::from_secs(100),
        false,
    );
    let (v, stderr, out) = (&run.headline, &run.stderr, &run.out);
    let line = v.to_string();
    assert_eq!(v["accounting_ok"], true, "{line}\n{stderr}");
    assert!(
        v["achieved_events_per_sec"].as_f64().unwrap_or(0.0) > 0.0,
        "{line}"
    );
    assert!(v["events"].as_u64().unwrap_or(0) > 0, "{line}");
    assert!(v["latency_samples"].as_u64().unwrap_or(0) > 0, "{line}");
    // With --spawn the harness measures pitboss: its CPU, and its memory and live actors
    // once a second (the smoke network's machines and players come alive during the run).
    assert!(
        v["pitboss_cpu_us_per_event"].as_f64().unwrap_or(0.0) > 0.0,
        "{line}"
    );
    assert!(v["rss_peak_bytes"].as_u64().unwrap_or(0) > 0, "{line}");
    assert!(
        v["live_entities_peak"].as_u64().unwrap_or(0)
            > v["live_entities_base"].as_u64().unwrap_or(u64::MAX),
        "{line}"
    );
    assert!(v["rss_bytes_per_live_entity"].is_f64(), "{line}");
    // The broker runs here (--broker-pid): its CPU is measured too.
    assert!(
        v["broker_cpu_us_per_event"].as_f64().unwrap_or(0.0) > 0.0,
        "{line}"
    );
    for f in ["report.json", "report.html"] {
        assert!(out.path().join(f).is_file(), "{f} written");
    }
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("report.json")).expect("report.json"),
    )
    .expect("report.json is JSON");
    // With --spawn every check is made (none skipped) unless the store was empty.
    let checks = report["accounting"]["checks"]
        .as_array()
        .expect("checks listed");
    assert!(checks.iter().all(|c| c["ok"] == true), "{checks:?}");
    let ggr = checks
        .iter()
        .find(|c| c["name"] == "GGR per hall (published)")
        .expect("GGR check");
    assert!(ggr["skipped"].is_null(), "GGR is checked with --spawn");
    // Once a second: pitboss's and the broker's CPU, and pitboss's consumer lag on the
    // input and the internal topics and its events in flight (its /metrics).
    let timeline = report["timeline"].as_array().expect("timeline");
    for (field, what) in [
        ("pitboss_cpu_cores", "pitboss's CPU"),
        ("broker_cpu_cores", "the broker's CPU"),
    ] {
        assert!(
            timeline
                .iter()
                .any(|s| s[field].as_f64().is_some_and(|c| c > 0.0)),
            "{what} per second: {timeline:?}"
        );
    }
    for field in [
        "input_lag_messages",
        "internal_lag_messages",
        "inflight_events",
        "input_partitions_assigned",
    ] {
        assert!(
            timeline.iter().any(|s| s[field].is_u64()),
            "{field} per second: {timeline:?}"
        );
    }
    // Every aggregate was published by the end, each naming its latest new input and
    // counting what it carried: together exactly what the reference delivered to halls and
    // pools.
    let kinds = &report["latency_by_kind"];
    for kind in ["ggr", "jackpot_levels"] {
        let k = &kinds[kind];
        assert!(k["samples"].as_u64().unwrap_or(0) > 0, "{kind}: {k}");
        assert!(
            k["expected_events"].as_u64().unwrap_or(0) > 0,
            "{kind}: {k}"
        );
        assert_eq!(k["carried_events"], k["expected_events"], "{kind}: {k}");
    }
    assert_eq!(kinds["ggr"]["in_headline"], false);
    let cov = |f: &str| report[f].as_f64().unwrap_or(-1.0);
    assert!(
        cov("latency_named") <= cov("latency_coverage")
            && cov("latency_coverage") <= cov("latency_coverage_with_windows")
            && cov("latency_coverage_with_windows") <= 1.0
            && cov("latency_coverage") > cov("latency_named"),
        "{kinds}"
    );
    eprintln!("{stderr}");
}
