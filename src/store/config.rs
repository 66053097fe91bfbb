//! The `[store]` section of the configuration: which store, and its bounds and settings.
//! The stores are opened from it alone.

use std::path::PathBuf;

use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

/// Which store holds the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// A redb file in `data-dir`.
    Embedded,
    /// Memory only: nothing survives a restart.
    Memory,
    /// ScyllaDB or Cassandra.
    Scylla,
}

/// The `[store]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct StoreConfig {
    /// Which store.
    pub kind: StoreKind,
    /// Directory of the embedded store's file (`pitboss.redb`).
    pub data_dir: PathBuf,
    /// How often the demo (and `pitboss-load store`) takes a checkpoint: every changed
    /// actor stashes its state, then the store writes them as one checkpoint. `pitboss
    /// run` checkpoints at `kafka.commit-interval-ms` instead.
    pub flush_interval_ms: u64,
    /// Most rows per write request: a CQL redo-log chunk holds at most this many items, and
    /// at most this many statements are in flight while a checkpoint is applied. (The
    /// embedded store writes a whole checkpoint in one transaction regardless.)
    pub batch_len_max: usize,
    /// Rows stashed but not yet durable (states and ledger entries) at which the source
    /// pauses consumption until a checkpoint has written them.
    pub backlog_max: usize,
    /// How long a wallet command's answer is kept in the store for a retry (RULES.md W-1),
    /// counted from its first answer: an older retry is a new command. Days, at least 1.
    pub wallet_tx_retention_days: u32,
    /// Where scheduled backups of the embedded store go (`store::backup`): one directory
    /// per backup, `pitboss-<UTC time>`. Empty: no schedule.
    pub backup_dir: PathBuf,
    /// Seconds between scheduled backups taken by `pitboss run`; 0 = no schedule.
    pub backup_interval_secs: u64,
    /// Scheduled backups kept in `backup-dir` (the newest; older ones are removed).
    pub backup_keep: u32,
    /// ScyllaDB settings.
    pub scylla: ScyllaConfig,
}

/// Scheduled backups may not come more often than this: each copies the whole store.
pub const BACKUP_INTERVAL_SECS_MIN: u64 = 60;

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Embedded,
            data_dir: PathBuf::from("./data"),
            flush_interval_ms: 1000,
            batch_len_max: 1000,
            backlog_max: 1_000_000,
            wallet_tx_retention_days: 30,
            backup_dir: PathBuf::new(),
            backup_interval_secs: 0,
            backup_keep: 7,
            scylla: ScyllaConfig::default(),
        }
    }
}

/// The `[store.scylla]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ScyllaConfig {
    /// Contact points, `host:port`.
    pub nodes: Vec<String>,
    /// The keyspace.
    pub keyspace: String,
    /// The keyspace's replication, as CQL (used by `pitboss migrate` when it creates it).
    pub replication: String,
    /// Consistency of reads and writes: `one`, `two`, `three`, `quorum`, `all`,
    /// `local_quorum`, `each_quorum`, `local_one`.
    pub consistency: String,
    /// Prefer replicas in this datacenter (empty: no preference).
    pub local_dc: String,
    /// Username for password authentication (empty: no authentication).
    pub username: String,
    /// Password (from the environment: `PITBOSS_STORE__SCYLLA__PASSWORD`).
    #[serde(serialize_with = "redact")]
    pub password: String,
    /// Connect over TLS.
    pub tls: bool,
    /// PEM file of the CA that signed the nodes' certificates (empty: the system's roots
    /// are not used; TLS then needs this file).
    pub tls_ca_file: PathBuf,
    /// PEM client certificate chain, for nodes that require client authentication.
    pub tls_cert_file: PathBuf,
    /// PEM private key of the client certificate.
    pub tls_key_file: PathBuf,
    /// Longest wait for one request, milliseconds.
    pub request_timeout_ms: u64,
    /// This instance's name: the key of its checkpoint redo log. Unique per instance
    /// writing to the keyspace, and stable across its restarts.
    pub instance: String,
    /// Refresh the driver's schema metadata after DDL. Turn off only for the in-process CQL
    /// server of the tests (kassandra), which miscounts bind markers in the driver's
    /// metadata queries.
    pub refresh_metadata_on_schema_agreement: bool,
    /// Rows per page when reading many (audit, recount, recovery).
    pub page_len: i32,
}

fn redact<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if v.is_empty() { "" } else { "********" })
}

impl Default for ScyllaConfig {
    fn default() -> Self {
        Self {
            nodes: vec!["127.0.0.1:9042".into()],
            keyspace: "pitboss".into(),
            replication: "{'class': 'NetworkTopologyStrategy', 'replication_factor': 3}".into(),
            consistency: "local_quorum".into(),
            local_dc: String::new(),
            username: String::new(),
            password: String::new(),
            tls: false,
            tls_ca_file: PathBuf::new(),
            tls_cert_file: PathBuf::new(),
            tls_key_file: PathBuf::new(),
            request_timeout_ms: 5000,
            instance: "pitboss-0".into(),
            refresh_metadata_on_schema_agreement: true,
            page_len: 1000,
        }
    }
}

impl StoreConfig {
    /// The wallet-transaction retention in milliseconds.
    pub fn wallet_tx_retention_ms(&self) -> i64 {
        i64::from(self.wallet_tx_retention_days) * 86_400_000
    }

    /// Checks the bounds.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.batch_len_max == 0 || self.backlog_max == 0 || self.flush_interval_ms == 0 {
            return Err(StoreError::permanent(format!(
                "store.batch-len-max ({}), store.backlog-max ({}) and store.flush-interval-ms ({}) must be above 0",
                self.batch_len_max, self.backlog_max, self.flush_interval_ms
            )));
        }
        if !(1..=7300).contains(&self.wallet_tx_retention_days) {
            return Err(StoreError::permanent(format!(
                "store.wallet-tx-retention-days must be 1 to 7300 (a retry must find its first answer, RULES.md W-1; CQL's TTL ends at 20 years), got {}",
                self.wallet_tx_retention_days
            )));
        }
        self.validate_backup()?;
        if self.scylla.page_len <= 0 {
            return Err(StoreError::permanent(format!(
                "store.scylla.page-len must be above 0, got {}",
                self.scylla.page_len
            )));
        }
        Ok(())
    }

    /// Checks the backup schedule (`backup-dir`, `backup-interval-secs`, `backup-keep`).
    fn validate_backup(&self) -> Result<(), StoreError> {
        let bad = |m: String| Err(StoreError::permanent(m));
        if self.backup_keep == 0 {
            return bad(
                "store.backup-keep must be at least 1 (the newest backup is always kept)".into(),
            );
        }
        if self.backup_interval_secs == 0 {
            return Ok(());
        }
        if self.kind != StoreKind::Embedded {
            return bad(format!(
                "store.backup-interval-secs = {} schedules backups of the embedded store, but store.kind is {:?}: back up ScyllaDB with its own snapshots (README, \"Backups\")",
                self.backup_interval_secs,
                self.kind
            ));
        }
        if self.backup_interval_secs < BACKUP_INTERVAL_SECS_MIN {
            return bad(format!(
                "store.backup-interval-secs must be 0 (off) or at least {BACKUP_INTERVAL_SECS_MIN} (each backup copies the whole store), got {}",
                self.backup_interval_secs
            ));
        }
        if self.backup_dir.as_os_str().is_empty() {
            return bad("store.backup-interval-secs is set but store.backup-dir is empty: say where the backups go".into());
        }
        let inside = |a: &std::path::Path, b: &std::path::Path| {
            let (a, b) = (std::path::absolute(a), std::path::absolute(b));
            matches!((a, b), (Ok(a), Ok(b)) if a.starts_with(&b))
        };
        if inside(&self.backup_dir, &self.data_dir) || inside(&self.data_dir, &self.backup_dir) {
            return bad(format!(
                "store.backup-dir {} and store.data-dir {} must not contain each other: a backup on the data directory is lost with it, and a restore needs an empty data directory",
                self.backup_dir.display(),
                self.data_dir.display()
            ));
        }
        Ok(())
    }
}
