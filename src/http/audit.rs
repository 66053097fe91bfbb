//! The admin audit log: every authenticated admin request that asks for a change (who,
//! what, when, before, after, outcome), written before it is answered. An append-only file
//! of JSON lines, synced to disk per entry.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// When, RFC 3339 (UTC).
    pub at: String,
    /// The key's name.
    pub who: String,
    /// The key's role.
    pub role: String,
    /// `pool.create`, `pool.level.change`, `store.backup` or `voucher.void`.
    pub action: String,
    /// The pool (and level) acted on.
    pub target: String,
    /// The request body as received.
    pub request: serde_json::Value,
    /// `ok`, or why not (`forbidden`, `invalid`, `not_found`, `conflict`, `refused`,
    /// `timeout`, `unavailable`, `error`).
    pub outcome: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The refusal's message, if refused.
    pub error: Option<String>,
    /// The pool before (`null` for a creation or a refusal).
    pub before: Option<serde_json::Value>,
    /// The pool after (`null` for a refusal).
    pub after: Option<serde_json::Value>,
}

/// The append-only audit log (JSON lines).
pub struct AuditLog {
    path: PathBuf,
    lock: Mutex<()>,
}

impl AuditLog {
    /// A log at `path` (created, with its directory, at the first entry).
    pub fn new(path: &str) -> Self {
        Self {
            path: PathBuf::from(path),
            lock: Mutex::new(()),
        }
    }

    fn open(&self) -> std::io::Result<std::fs::File> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
    }

    /// Checks that the log can be appended to (before a change is made).
    pub fn check_writable(&self) -> std::io::Result<()> {
        let _g = self.lock.lock().expect("audit lock");
        self.open().map(drop)
    }

    /// Appends an entry and syncs it to disk.
    pub fn append(&self, entry: &AuditEntry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let _g = self.lock.lock().expect("audit lock");
        let mut f = self.open()?;
        f.write_all(&line)?;
        f.sync_data()
    }

    /// The newest `limit` entries, oldest first.
    pub fn tail(&self, limit: usize) -> std::io::Result<Vec<serde_json::Value>> {
        let _g = self.lock.lock().expect("audit lock");
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let start = lines.len().saturating_sub(limit);
        lines[start..]
            .iter()
            .map(|l| serde_json::from_str(l).map_err(std::io::Error::other))
            .collect()
    }
}

// ms since the epoch as RFC 3339 UTC with milliseconds (`2023-11-14T22:13:20.000Z`).
pub use crate::clock::rfc3339;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
    }
}
