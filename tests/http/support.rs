//! Shared by the HTTP tests: a running `pitboss demo` with its HTTP side on a free port and
//! the three API keys it knows, and the Debian peers they need. The HTTP client, the child
//! guard and the waiter come from `testkit`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};
pub use testkit::http::{get, send, Reply};
pub use testkit::wait::wait_for;
pub use testkit::{free_port, ChildGuard};

/// The API keys the test configuration knows: (key, name, role).
pub const KEYS: [(&str, &str, &str); 3] = [
    ("viewer-secret-1", "vic-viewer", "viewer"),
    ("operator-secret-2", "olga-operator", "operator"),
    ("admin-secret-3", "ada-admin", "admin"),
];

/// A binary that tests need, or a failure that says how to install it (never a skip).
pub fn require_binary(name: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{name} is not installed: apt-get install -y {package} (scripts/test installs it as root)"
    );
}

/// A `pitboss demo` child process serving HTTP; killed on drop.
pub struct Demo {
    child: ChildGuard,
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl Demo {
    /// Starts the demo with the test configuration (small network, a pool that hits often,
    /// the three API keys), with `env` set, and waits until /healthz answers.
    pub fn start(rate: u64, env: &[(&str, &str)]) -> Demo {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let audit = dir.path().join("audit.jsonl");
        let mut cfg = format!(
            r#"
[sim]
halls = 2
machines-per-hall = 25
players = 60

[http]
feed-level-interval-ms = 100
census-interval-ms = 200
audit-log = "{}"
"#,
            audit.display()
        );
        for (key, name, role) in KEYS {
            let sha = hex::encode(Sha256::digest(key.as_bytes()));
            cfg.push_str(&format!(
                "\n[[http.api-keys]]\nname = \"{name}\"\nkey-sha256 = \"{sha}\"\nrole = \"{role}\"\n"
            ));
        }
        cfg.push_str(
            r#"
# A pool that hits every few hundred bets (the mini level's ceiling is tiny).
[[pools]]
id = "FAST"
halls = []

[[pools.levels]]
name = "major"
seed-minor = 50000
contribution-percent = "0.5"
ceiling-minor = 5000000
mystery = true

[[pools.levels]]
name = "mini"
seed-minor = 100
contribution-percent = "2"
ceiling-minor = 600
mystery = true
"#,
        );
        let path = dir.path().join("pitboss.toml");
        std::fs::write(&path, cfg).expect("write config");
        let child = Command::new(env!("CARGO_BIN_EXE_pitboss"))
            .arg("--config")
            .arg(&path)
            .args(["demo", "--quiet", "--rate"])
            .arg(rate.to_string())
            .arg("--http-addr")
            .arg(format!("127.0.0.1:{port}"))
            // Its own directory: the embedded store and the audit log live there.
            .current_dir(dir.path())
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the pitboss binary starts");
        let mut demo = Demo {
            child: ChildGuard(child),
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let url = demo.url("/healthz");
        wait_for("the demo's /healthz", Duration::from_secs(60), || {
            if let Ok(Some(status)) = demo.child.try_wait() {
                panic!("pitboss demo exited early: {status}");
            }
            get(&url, None).ok().filter(|r| r.status == 200)
        });
        demo
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }
}

/// Sends each `(server, event time, payload)` as a wallet or desk command (schema version 1,
/// hall `hall`, event ids from `id_base` on) through the ingest path every message takes, and
/// waits until the runtime has applied them all.
pub async fn ingest_commands(
    rt: &std::sync::Arc<pitboss_actors::shell::Runtime>,
    hall: &str,
    id_base: u128,
    sends: Vec<(&str, i64, pitboss::wire::InputPayload)>,
) {
    use pitboss::pipeline::{Inflight, Ingest, SourcePos};
    let ingest = Ingest::new(rt.clone());
    let inflight = Inflight::new(16);
    for (i, (server, time, payload)) in sends.into_iter().enumerate() {
        let ev = pitboss::wire::InputEnvelope::wallet(
            uuid::Uuid::from_u128(id_base + i as u128),
            hall,
            server,
            0,
            time,
            payload,
        );
        let ack = inflight.begin(1, |ok| assert!(ok, "an input failed")).await;
        let key = ev.kafka_key().to_string();
        let pos = SourcePos {
            partition: 0,
            offset: i as i64,
        };
        ingest
            .process(&ev.to_bytes(), Some(key.as_bytes()), pos, &ack)
            .await;
    }
    inflight.drained().await;
    rt.quiesce().await;
}
