//! The smoke scenario end to end: a real broker (Tansu) on a free loopback port,
//! `pitboss-load run --scenario scenarios/smoke.toml --spawn --json`, which starts a
//! `pitboss run`, offers the scenario, stops pitboss and checks the money. The test asserts
//! the accounting check passed, events went through and pitboss's CPU, memory and live
//! actors were measured.
//!
//! Needs the `pitboss` binary next to `pitboss-load` (`cargo test --workspace` builds it;
//! with `-p pitboss-load` run `cargo build --bin pitboss` first) and Tansu (see
//! `testkit::tansu`). A missing broker or binary fails the test; it never skips.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use testkit::{Broker, ChildGuard};

#[test]
fn smoke_scenario_passes_its_accounting_check() {
    let load = PathBuf::from(env!("CARGO_BIN_EXE_pitboss-load"));
    let pitboss = load.with_file_name(format!("pitboss{}", std::env::consts::EXE_SUFFIX));
    assert!(
        pitboss.is_file(),
        "no pitboss binary at {}: run `cargo build --bin pitboss` (same profile and target \
         directory) before `cargo test -p pitboss-load`; `cargo test --workspace` builds it",
        pitboss.display()
    );
    let broker = Broker::start();
    let out = tempfile::tempdir().expect("a report directory");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smoke.toml");
    let mut child = Command::new(&load)
        .args(["run", "--scenario"])
        .arg(&scenario)
        .args([
            "--brokers",
            &broker.addr,
            "--spawn",
            "--json",
            "--timeout-secs",
            "60",
        ])
        .arg("--out")
        .arg(out.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(ChildGuard)
        .expect("starting pitboss-load");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = match child
        .wait_timeout(Duration::from_secs(100))
        .expect("waiting for pitboss-load")
    {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "pitboss-load did not finish within 100 s; stderr:\n{}",
                err_reader.join().unwrap_or_default()
            );
        }
    };
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = err_reader.join().expect("stderr reader");
    assert!(
        status.success(),
        "pitboss-load run failed ({status}):\n{stderr}\n{stdout}"
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON headline on stdout:\n{stdout}\n{stderr}"));
    let v: serde_json::Value = serde_json::from_str(line).expect("the headline is JSON");
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
    eprintln!("{stderr}");
}
