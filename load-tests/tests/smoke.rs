//! The smoke scenario end to end: a real broker (Tansu) on a free loopback port,
//! `pitboss-load run --scenario scenarios/smoke.toml --spawn --json`, which starts a
//! `pitboss run`, offers the scenario, stops pitboss and checks the money. The test asserts
//! the accounting check passed and events went through.
//!
//! Needs the `pitboss` binary next to `pitboss-load` (`cargo test --workspace` builds it;
//! with `-p pitboss-load` run `cargo build --bin pitboss` first) and Tansu (`TANSU_BIN`,
//! else `target/tansu/bin/tansu`, else `scripts/install-tansu.sh` installs it). A missing
//! broker or binary fails the test; it never skips.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("load-tests sits in the workspace")
        .to_path_buf()
}

fn tansu_bin() -> PathBuf {
    if let Ok(p) = std::env::var("TANSU_BIN") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "TANSU_BIN={} is not a file", p.display());
        return p;
    }
    let root = workspace();
    let bin = root.join("target/tansu/bin/tansu");
    if !bin.is_file() {
        let status = Command::new("bash")
            .arg(root.join("scripts/install-tansu.sh"))
            .arg(root.join("target/tansu"))
            .status()
            .expect("running scripts/install-tansu.sh");
        assert!(
            status.success(),
            "scripts/install-tansu.sh failed: the smoke load test needs Tansu (set TANSU_BIN)"
        );
    }
    assert!(bin.is_file(), "no Tansu binary at {}", bin.display());
    bin
}

/// Tansu with in-memory storage on a free port; killed on drop.
struct Broker {
    child: Child,
    addr: String,
}

impl Broker {
    fn start() -> Broker {
        let bin = tansu_bin();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("tcp://127.0.0.1:{port}");
        let mut child = Command::new(&bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(&addr).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("tansu exited before accepting connections: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "tansu did not accept connections on {addr} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker { child, addr }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
    let started = Instant::now();
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
    let deadline = started + Duration::from_secs(100);
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting for pitboss-load") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "pitboss-load did not finish within 100 s; stderr:\n{}",
                err_reader.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
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
