//! What the scenario tests share: `pitboss-load run --scenario S --spawn --json` against a
//! fresh Tansu broker, its JSON headline and its report directory.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use testkit::{Broker, ChildGuard};

/// A finished run.
pub struct Run {
    /// The JSON headline.
    pub headline: serde_json::Value,
    pub stderr: String,
    /// The report directory (`report.json`, `report.html`).
    pub out: tempfile::TempDir,
}

/// Runs `pitboss-load run` on `scenario` (relative to `load-tests/`) with `--spawn --json`
/// and `--timeout-secs wait_secs`, killing it after `limit`, against a fresh in-memory Tansu
/// or, with `spawn_broker`, a durable one the harness starts (and may restart). Fails unless
/// it exited 0.
pub fn run_scenario(scenario: &str, wait_secs: u64, limit: Duration, spawn_broker: bool) -> Run {
    let load = PathBuf::from(env!("CARGO_BIN_EXE_pitboss-load"));
    let pitboss = load.with_file_name(format!("pitboss{}", std::env::consts::EXE_SUFFIX));
    assert!(
        pitboss.is_file(),
        "no pitboss binary at {}: run `cargo build --bin pitboss` (same profile and target \
         directory) before `cargo test -p pitboss-load`; `cargo test --workspace` builds it",
        pitboss.display()
    );
    // Kept until the run ends.
    let broker = (!spawn_broker).then(Broker::start);
    let out = tempfile::tempdir().expect("a report directory");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join(scenario);
    let mut cmd = Command::new(&load);
    cmd.args(["run", "--scenario"]).arg(&scenario);
    match &broker {
        Some(b) => cmd
            .args(["--brokers", &b.addr, "--broker-pid"])
            .arg(b.pid().to_string()),
        None => cmd.arg("--spawn-broker"),
    };
    let mut child = cmd
        .args(["--spawn", "--json", "--timeout-secs"])
        .arg(wait_secs.to_string())
        .arg("--out")
        .arg(out.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(ChildGuard)
        .expect("starting pitboss-load");
    // Read both pipes while it runs, so that it never blocks on a full one.
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out_reader = read(Box::new(child.stdout.take().expect("stdout")));
    let err_reader = read(Box::new(child.stderr.take().expect("stderr")));
    let Some(status) = child.wait_timeout(limit).expect("waiting for pitboss-load") else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "pitboss-load did not finish within {limit:?}; stderr:\n{}",
            err_reader.join().unwrap_or_default()
        );
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
    let headline = serde_json::from_str(line).expect("the headline is JSON");
    Run {
        headline,
        stderr,
        out,
    }
}
