//! `pitboss backup` and `pitboss restore`: the commands around `store::backup`.
//!
//! `pitboss backup --to DIR` first tries the store file itself: if no process holds it, it
//! copies it directly. If the file is locked (redb allows one process at a time), the
//! process holding it is asked through its admin API (`POST /api/admin/backup` on
//! `http.addr`, or `--url`) with the admin key in `PITBOSS_API_KEY` or `--api-key-file`; the
//! backup is then written by that instance, on its machine. Either way the backup is
//! restored into a scratch directory and audited before the command reports success
//! (`--no-check` skips that).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};

use crate::config::{Config, API_KEY_ENV};
use crate::store::backup::{self, BackupError, CheckReport, Manifest, Restored, Taken};
use crate::store::StoreKind;

/// What `pitboss backup` was asked.
pub struct BackupArgs {
    /// The backup directory (empty or absent); made absolute against the current directory.
    pub to: PathBuf,
    /// The running instance's base URL (default: `http://` + `http.addr`).
    pub url: Option<String>,
    /// The admin key (from `PITBOSS_API_KEY` or `--api-key-file`).
    pub api_key: Option<String>,
    /// Skip the restore check.
    pub no_check: bool,
}

fn embedded_only(cfg: &Config, what: &str) -> anyhow::Result<()> {
    if cfg.store.kind != StoreKind::Embedded {
        bail!(
            "pitboss {what} works on the embedded store, but store.kind is {:?}: {}",
            cfg.store.kind,
            "back up ScyllaDB with `nodetool snapshot` and restore its snapshots, then run `pitboss audit` against the restored keyspace (README, \"Backups\")"
        );
    }
    Ok(())
}

/// The URL of the instance this configuration describes: its `http.addr`, with an
/// unspecified address (`0.0.0.0`, `[::]`) replaced by loopback.
fn default_url(cfg: &Config) -> String {
    let addr = cfg
        .http
        .addr
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]");
    format!("http://{addr}")
}

/// The admin key: `--api-key-file`'s content, else `PITBOSS_API_KEY`.
pub fn api_key(file: Option<&Path>) -> anyhow::Result<Option<String>> {
    if let Some(f) = file {
        let k = std::fs::read_to_string(f)
            .with_context(|| format!("reading the API key file {}", f.display()))?;
        return Ok(Some(k.trim().to_string()));
    }
    Ok(std::env::var(API_KEY_ENV).ok().filter(|k| !k.is_empty()))
}

/// `pitboss backup`.
pub async fn backup(cfg: &Config, args: BackupArgs) -> anyhow::Result<Taken> {
    embedded_only(cfg, "backup")?;
    let to = std::path::absolute(&args.to)
        .with_context(|| format!("the backup directory {}", args.to.display()))?;
    match backup::take_offline(&cfg.store.data_dir, &to, !args.no_check).await {
        Ok(t) => {
            eprintln!("no process holds the store: copied it from its file");
            Ok(t)
        }
        Err(BackupError::Locked(file)) => {
            let url = args.url.clone().unwrap_or_else(|| default_url(cfg));
            let Some(key) = args.api_key.clone() else {
                bail!(
                    "{} is held by a running process (pitboss run?), so that instance must take the backup through its admin API ({url}/api/admin/backup): give an admin key in {API_KEY_ENV} or with --api-key-file",
                    file.display()
                );
            };
            eprintln!("the store is held by a running process: asking the instance at {url}");
            let check = !args.no_check;
            tokio::task::spawn_blocking(move || online(&url, &key, &to, check, &file)).await?
        }
        Err(e) => Err(anyhow!(e)),
    }
}

/// Asks the instance at `url` for a backup into `to`.
fn online(url: &str, key: &str, to: &Path, check: bool, file: &Path) -> anyhow::Result<Taken> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        // A backup copies the whole store, then restores and audits it.
        .timeout_read(Duration::from_secs(6 * 3600))
        .build();
    let body = serde_json::json!({ "to": to, "check": check }).to_string();
    let endpoint = format!("{url}/api/admin/backup");
    let resp = agent
        .post(&endpoint)
        .set("Authorization", &format!("Bearer {key}"))
        .set("Content-Type", "application/json")
        .send_string(&body);
    let text = match resp {
        Ok(r) => r.into_string().context("reading the instance's answer")?,
        Err(ureq::Error::Status(code, r)) => {
            let text = r.into_string().unwrap_or_default();
            let msg = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or(text);
            bail!("the instance at {endpoint} refused the backup ({code}): {msg}");
        }
        Err(ureq::Error::Transport(t)) => bail!(
            "{} is locked by another process, and no pitboss instance answers at {endpoint} ({t}): \
             if pitboss run holds it with another http.addr, give --url; otherwise find the process holding the file",
            file.display()
        ),
    };
    #[derive(serde::Deserialize)]
    struct Answer {
        dir: PathBuf,
        manifest: Manifest,
        check: Option<CheckReport>,
    }
    let a: Answer = serde_json::from_str(&text)
        .with_context(|| format!("the instance's answer is not a backup report: {text}"))?;
    Ok(Taken {
        dir: a.dir,
        manifest: a.manifest,
        check: a.check,
    })
}

/// `pitboss restore`: into `store.data-dir`, which must be empty or absent.
pub async fn restore(cfg: &Config, from: &Path) -> anyhow::Result<Restored> {
    embedded_only(cfg, "restore")?;
    Ok(backup::restore_into(from, &cfg.store.data_dir).await?)
}

/// A manifest for people: several lines.
pub fn describe(m: &Manifest) -> String {
    let positions: Vec<String> = m
        .positions
        .iter()
        .map(|p| format!("{}/{}@{}", p.topic, p.partition, p.next_offset))
        .collect();
    let rows: Vec<String> = m.rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
    format!(
        "taken {} (checkpoint {}), {} bytes, SHA-256 {}\n  input positions: {}\n  rows: {}",
        m.created_at,
        m.checkpoint,
        m.file_bytes,
        m.file_sha256,
        if positions.is_empty() {
            "none".into()
        } else {
            positions.join(" ")
        },
        rows.join(", ")
    )
}

/// A restore check for people: one line.
pub fn describe_check(c: &CheckReport) -> String {
    match &c.error {
        Some(e) => format!("restore check FAILED: {e}"),
        None => format!(
            "restore check {}: restored and audited {} entities, {} ledger entries: {} differences{}",
            if c.ok { "ok" } else { "FAILED" },
            c.entities,
            c.ledger_entries,
            c.differences,
            if c.first_differences.is_empty() {
                String::new()
            } else {
                format!("\n    {}", c.first_differences.join("\n    "))
            }
        ),
    }
}
