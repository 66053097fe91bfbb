//! Shared by the tests/http_*.rs files: a running `pitboss demo` with its HTTP side on a free
//! port, a plain HTTP client, and waiting on a condition with a deadline (never a fixed sleep).

#![allow(dead_code)]

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The API keys the test configuration knows: (key, name, role).
pub const KEYS: [(&str, &str, &str); 3] = [
    ("viewer-secret-1", "vic-viewer", "viewer"),
    ("operator-secret-2", "olga-operator", "operator"),
    ("admin-secret-3", "ada-admin", "admin"),
];

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind port 0")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Polls `f` until it returns `Some`, or panics with `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A binary that tests need, or a failure that says how to install it (never a skip).
pub fn require_binary(name: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} is not installed: apt-get install -y {package} (.ci/run installs it)");
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn reply(r: Result<ureq::Response, ureq::Error>) -> Result<Reply, String> {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let mut body = String::new();
    resp.into_reader()
        .take(16 << 20)
        .read_to_string(&mut body)
        .map_err(|e| e.to_string())?;
    Ok(Reply { status, body })
}

/// GET with optional bearer key.
pub fn get(url: &str, key: Option<&str>) -> Result<Reply, String> {
    let mut req = ureq::get(url).timeout(Duration::from_secs(10));
    if let Some(k) = key {
        req = req.set("Authorization", &format!("Bearer {k}"));
    }
    reply(req.call())
}

/// A request with a JSON body (POST, PATCH).
pub fn send(method: &str, url: &str, key: Option<&str>, body: &str) -> Reply {
    let mut req = ureq::request(method, url)
        .timeout(Duration::from_secs(10))
        .set("Content-Type", "application/json");
    if let Some(k) = key {
        req = req.set("X-Api-Key", k);
    }
    reply(req.send_string(body)).expect("request sent")
}

/// A `pitboss demo` child process serving HTTP; killed on drop.
pub struct Demo {
    child: Child,
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
            child,
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

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process killed on drop (Prometheus, chromedriver).
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
