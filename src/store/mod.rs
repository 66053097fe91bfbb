//! Durable state: the three implementations of the actors' [`StateStore`] port and what
//! builds them from the configuration.
//!
//! - `memory`: [`MemoryStore`] (from the actors crate): nothing survives a restart, so no
//!   input offset is ever committed (its flush reports `false`).
//! - `embedded`: a redb file in `store.data-dir` ([`embedded`]), the default: a single
//!   machine needs no server.
//! - `scylla`: ScyllaDB (or Cassandra) over CQL ([`scylla`]), for production.
//!
//! The durable two share the write-behind buffer ([`writebehind`]): `stash` coalesces by
//! entity in memory, `flush` writes one atomic checkpoint (a redb transaction; a redo log
//! for CQL, which has no multi-partition atomic write) and resolves when it is durable.
//! States are stored as versioned MessagePack records of storage types ([`codec`]), never of
//! the domain types themselves.

pub mod audit;
pub mod codec;
pub mod embedded;
pub mod scylla;
pub mod writebehind;

use std::path::PathBuf;
use std::sync::Arc;

use pitboss_actors::shell::{MemoryStore, StateStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::config::Config;

pub use audit::{audit, AuditReport, AuditSource, MemoryAudit};
pub use embedded::{Faults, Redb};
pub use scylla::{Cql, CqlFaults};
pub use writebehind::{Backend, WriteBehind, WriteStats};

/// The embedded store: write-behind over redb.
pub type EmbeddedStore = WriteBehind<Redb>;
/// The ScyllaDB store: write-behind over CQL.
pub type ScyllaStore = WriteBehind<Cql>;

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
    /// ScyllaDB settings.
    pub scylla: ScyllaConfig,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Embedded,
            data_dir: PathBuf::from("./data"),
            flush_interval_ms: 1000,
            batch_len_max: 1000,
            backlog_max: 1_000_000,
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
    /// Checks the bounds.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.batch_len_max == 0 || self.backlog_max == 0 || self.flush_interval_ms == 0 {
            return Err(StoreError(format!(
                "store.batch-len-max ({}), store.backlog-max ({}) and store.flush-interval-ms ({}) must be above 0",
                self.batch_len_max, self.backlog_max, self.flush_interval_ms
            )));
        }
        if self.scylla.page_len <= 0 {
            return Err(StoreError(format!(
                "store.scylla.page-len must be above 0, got {}",
                self.scylla.page_len
            )));
        }
        Ok(())
    }
}

/// Opens the embedded store in `cfg.data-dir`.
pub fn open_embedded(cfg: &StoreConfig) -> Result<Arc<EmbeddedStore>, StoreError> {
    cfg.validate()?;
    Ok(Arc::new(WriteBehind::new(Redb::open(&cfg.data_dir)?)))
}

/// Connects to ScyllaDB, recovers this instance's last checkpoint if it was not fully
/// applied, and returns the store.
pub async fn open_scylla(cfg: &StoreConfig) -> Result<Arc<ScyllaStore>, StoreError> {
    cfg.validate()?;
    Ok(Arc::new(WriteBehind::new(
        Cql::connect(&cfg.scylla, cfg.batch_len_max).await?,
    )))
}

/// A store as opened from the configuration, with what can audit it.
pub struct Opened {
    /// The store, for the runtime.
    pub store: Arc<dyn StateStore>,
    /// Its durable side, for audits (`None` for the in-memory store).
    pub audit: Option<Arc<dyn AuditSource>>,
}

/// Opens the store the configuration names, with its audit source.
pub async fn open(cfg: &Config) -> Result<Opened, StoreError> {
    let s = &cfg.store;
    Ok(match s.kind {
        StoreKind::Memory => Opened {
            store: Arc::new(MemoryStore::default()),
            audit: None,
        },
        StoreKind::Embedded => {
            let store = open_embedded(s)?;
            let audit: Arc<dyn AuditSource> = store.backend().clone();
            Opened {
                store,
                audit: Some(audit),
            }
        }
        StoreKind::Scylla => {
            let store = open_scylla(s).await?;
            let audit: Arc<dyn AuditSource> = store.backend().clone();
            Opened {
                store,
                audit: Some(audit),
            }
        }
    })
}

/// The store the configuration names: what `pitboss demo` and `pitboss run` use.
pub async fn open_store(cfg: &Config) -> Result<Arc<dyn StateStore>, StoreError> {
    Ok(open(cfg).await?.store)
}

/// Deletes the embedded store's file (`data-dir/pitboss.redb`), and only that file: the
/// data directory may hold other things (the HTTP audit log). Nothing to do for the other
/// stores. Returns whether a file was deleted.
pub fn clear_embedded(cfg: &StoreConfig) -> Result<bool, StoreError> {
    if cfg.kind != StoreKind::Embedded {
        return Ok(false);
    }
    let path = cfg.data_dir.join(embedded::FILE_NAME);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError(format!(
            "cannot delete the embedded store {}: {e}",
            path.display()
        ))),
    }
}

/// Retry timing after a failed flush: doubling from 100 ms up to 5 s, reset by a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    delay: std::time::Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { delay: Self::FIRST }
    }
}

impl Backoff {
    const FIRST: std::time::Duration = std::time::Duration::from_millis(100);
    const MAX: std::time::Duration = std::time::Duration::from_secs(5);

    /// The wait before the next attempt after a failure (and doubles the next one).
    pub fn failed(&mut self) -> std::time::Duration {
        let d = self.delay;
        self.delay = (self.delay * 2).min(Self::MAX);
        d
    }

    /// Resets after a success.
    pub fn succeeded(&mut self) {
        self.delay = Self::FIRST;
    }
}

/// Opens the configured store for `pitboss audit`.
pub async fn open_audit_source(cfg: &Config) -> Result<Box<dyn AuditSource>, StoreError> {
    let s = &cfg.store;
    s.validate()?;
    Ok(match s.kind {
        StoreKind::Memory => {
            return Err(StoreError(
                "store.kind is \"memory\": nothing is stored to audit".into(),
            ))
        }
        StoreKind::Embedded => Box::new(Redb::open(&s.data_dir)?),
        StoreKind::Scylla => Box::new(Cql::connect(&s.scylla, s.batch_len_max).await?),
    })
}

/// A checkpoint: every actor whose state changed hands it (and its ledger entries) to the
/// store, then the store writes them as one atomic checkpoint. Resolves to `true` when the
/// checkpoint is durable. Call it with nothing in flight (a consistent cut): the effects of
/// every input an actor has applied must have reached their targets.
pub async fn checkpoint(rt: &pitboss_actors::shell::Runtime) -> Result<bool, StoreError> {
    rt.checkpoint().await;
    rt.store.flush().await
}

/// `pitboss migrate`: creates what the configured store needs, idempotently. For ScyllaDB
/// the keyspace and the tables of `schemas/cql/`; for the embedded store its file and
/// tables. Returns what it did, one line per step.
pub async fn migrate(cfg: &Config) -> Result<Vec<String>, StoreError> {
    let s = &cfg.store;
    s.validate()?;
    match s.kind {
        StoreKind::Memory => Ok(vec!["store.kind is \"memory\": nothing to create".into()]),
        StoreKind::Embedded => {
            let r = Redb::open(&s.data_dir)?;
            Ok(vec![format!(
                "embedded store ready: {}",
                r.path().display()
            )])
        }
        StoreKind::Scylla => scylla::migrate(&s.scylla).await,
    }
}
