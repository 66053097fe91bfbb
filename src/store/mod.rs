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
//!
//! Every failure says whether it may heal ([`pitboss_actors::shell::Failure`]): callers
//! retry transient ones with [`Backoff`] and stop on permanent ones. Stores are opened from
//! the `[store]` section alone ([`config`]).

pub mod audit;
pub mod backup;
pub mod codec;
pub mod config;
pub mod embedded;
pub mod scylla;
pub mod writebehind;

use std::sync::Arc;

use pitboss_actors::shell::{MemoryStore, StateStore, StoreError};

pub use audit::{audit, scan_into, AuditReport, AuditSource, Claim, LedgerSink, MemoryAudit};
pub use config::{ScyllaConfig, StoreConfig, StoreKind};
pub use embedded::{Clock, Faults, Redb, Retention};
pub use pitboss_actors::shell::Backoff;
pub use scylla::{Cql, CqlFaults};
pub use writebehind::{Backend, WriteBehind, WriteStats};

/// The embedded store: write-behind over redb.
pub type EmbeddedStore = WriteBehind<Redb>;
/// The ScyllaDB store: write-behind over CQL.
pub type ScyllaStore = WriteBehind<Cql>;

/// Opens the embedded store in `cfg.data-dir`.
pub fn open_embedded(cfg: &StoreConfig) -> Result<Arc<EmbeddedStore>, StoreError> {
    cfg.validate()?;
    Ok(Arc::new(WriteBehind::new(
        Redb::open(&cfg.data_dir)?
            .with_retention(embedded::Retention::wall(cfg.wallet_tx_retention_ms())),
    )))
}

/// Connects to ScyllaDB, recovers this instance's last checkpoint if it was not fully
/// applied, and returns the store.
pub async fn open_scylla(cfg: &StoreConfig) -> Result<Arc<ScyllaStore>, StoreError> {
    cfg.validate()?;
    Ok(Arc::new(WriteBehind::new(
        Cql::connect_with_retention(&cfg.scylla, cfg.batch_len_max, cfg.wallet_tx_retention_days)
            .await?,
    )))
}

/// A store as opened from the configuration, with what can audit it.
pub struct Opened {
    /// The store, for the runtime.
    pub store: Arc<dyn StateStore>,
    /// Its durable side, for audits (`None` for the in-memory store).
    pub audit: Option<Arc<dyn AuditSource>>,
    /// The embedded store's file, for backups taken by this process ([`backup::Backups`]);
    /// `None` for the other stores.
    pub embedded: Option<Arc<Redb>>,
}

/// Opens the store the configuration names, with its audit source.
pub async fn open(s: &StoreConfig) -> Result<Opened, StoreError> {
    Ok(match s.kind {
        StoreKind::Memory => Opened {
            store: Arc::new(MemoryStore::default()),
            audit: None,
            embedded: None,
        },
        StoreKind::Embedded => {
            let store = open_embedded(s)?;
            let audit: Arc<dyn AuditSource> = store.backend().clone();
            Opened {
                embedded: Some(store.backend().clone()),
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
                embedded: None,
            }
        }
    })
}

/// The store the configuration names: what `pitboss demo` and `pitboss run` use.
pub async fn open_store(cfg: &StoreConfig) -> Result<Arc<dyn StateStore>, StoreError> {
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
        Err(e) => Err(StoreError::transient(format!(
            "cannot delete the embedded store {}: {e}",
            path.display()
        ))),
    }
}

/// Opens the configured store for `pitboss audit`.
pub async fn open_audit_source(s: &StoreConfig) -> Result<Box<dyn AuditSource>, StoreError> {
    s.validate()?;
    Ok(match s.kind {
        StoreKind::Memory => {
            return Err(StoreError::permanent(
                "store.kind is \"memory\": nothing is stored to audit",
            ))
        }
        StoreKind::Embedded => Box::new(Redb::open(&s.data_dir)?),
        StoreKind::Scylla => Box::new(Cql::connect(&s.scylla, s.batch_len_max).await?),
    })
}

/// A checkpoint: every actor whose state changed hands it (and its ledger entries) to the
/// store, then the store writes them as one atomic checkpoint. Resolves to `true` when the
/// checkpoint is durable. Call it with nothing in flight (a consistent cut): the effects of
/// every input an actor has applied must have reached their targets. Once the store has
/// taken the checkpoint, the publications that waited for it go out (RULES.md H-2).
pub async fn checkpoint(rt: &pitboss_actors::shell::Runtime) -> Result<bool, StoreError> {
    rt.checkpoint().await;
    let durable = rt.store.flush().await?;
    // What waited for this checkpoint is published (RULES.md H-2).
    rt.release(&pitboss_actors::shell::AckToken::none());
    Ok(durable)
}

/// `pitboss migrate`: creates what the configured store needs, idempotently. For ScyllaDB
/// the keyspace and the tables of `schemas/cql/`; for the embedded store its file and
/// tables. Returns what it did, one line per step.
pub async fn migrate(s: &StoreConfig) -> Result<Vec<String>, StoreError> {
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
