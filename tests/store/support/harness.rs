use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitboss::store::{self, AuditSource, Cql, MemoryAudit, Redb, ScyllaConfig, StoreConfig};
use pitboss_actors::shell::{MemoryStore, StateStore};
use testkit::names::unique_keyspace;

use super::CqlServer;

/// Settings for a test keyspace on `nodes`. `kassandra` turns off the driver's metadata
/// refresh after DDL (kassandra answers those queries wrongly).
pub fn scylla_config(nodes: Vec<String>, keyspace: &str, kassandra: bool) -> ScyllaConfig {
    ScyllaConfig {
        nodes,
        keyspace: keyspace.into(),
        replication: "{'class': 'SimpleStrategy', 'replication_factor': 1}".into(),
        consistency: "one".into(),
        refresh_metadata_on_schema_agreement: !kassandra,
        request_timeout_ms: 2000,
        page_len: 50,
        ..ScyllaConfig::default()
    }
}

/// `SCYLLA_URI` (host:port of a real ScyllaDB), if set.
pub fn scylla_uri() -> Option<String> {
    std::env::var("SCYLLA_URI").ok().filter(|s| !s.is_empty())
}

/// Creates the keyspace and tables (twice: `migrate` must be idempotent).
pub async fn migrate(cfg: &ScyllaConfig) {
    let mut c = pitboss::config::Config::load_with_env(None, Vec::new()).expect("defaults");
    c.store = StoreConfig {
        kind: store::StoreKind::Scylla,
        scylla: cfg.clone(),
        ..StoreConfig::default()
    };
    store::migrate(&c.store).await.expect("migrate");
    store::migrate(&c.store).await.expect("migrate again");
}

/// A store under test, opened the same way for every kind.
#[allow(clippy::large_enum_variant)]
pub enum Harness {
    Memory(Arc<MemoryStore>),
    Embedded {
        dir: tempfile::TempDir,
        store: Option<Arc<store::EmbeddedStore>>,
        faults: Arc<store::Faults>,
    },
    Cql {
        server: Option<CqlServer>,
        cfg: ScyllaConfig,
        store: Option<Arc<store::ScyllaStore>>,
    },
}

pub const BATCH_LEN_MAX: usize = 7;

impl Harness {
    pub fn memory() -> Self {
        Harness::Memory(Arc::new(MemoryStore::with_ledger()))
    }

    pub fn embedded() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let faults = Arc::new(store::Faults::default());
        let mut h = Harness::Embedded {
            dir,
            store: None,
            faults,
        };
        h.open_embedded();
        h
    }

    fn open_embedded(&mut self) {
        if let Harness::Embedded { dir, store, faults } = self {
            *store = None;
            let r = Redb::open_with_faults(dir.path(), faults.clone()).expect("open redb");
            *store = Some(Arc::new(store::WriteBehind::new(r)));
        }
    }

    pub async fn kassandra() -> Self {
        let server = CqlServer::start().await;
        let cfg = scylla_config(
            vec![server.addr.to_string()],
            &unique_keyspace("contract"),
            true,
        );
        Self::cql(Some(server), cfg).await
    }

    /// A real ScyllaDB at `SCYLLA_URI`. The tests using it are ignored unless asked for
    /// (`--ignored`); asked for without `SCYLLA_URI`, they fail instead of passing unseen.
    pub async fn scylla() -> Self {
        let uri = scylla_uri().expect(
            "SCYLLA_URI is not set: this test needs a real ScyllaDB (SCYLLA_URI=host:port)",
        );
        let cfg = scylla_config(vec![uri], &unique_keyspace("pitboss_test"), false);
        Self::cql(None, cfg).await
    }

    async fn cql(server: Option<CqlServer>, cfg: ScyllaConfig) -> Self {
        migrate(&cfg).await;
        let mut h = Harness::Cql {
            server,
            cfg,
            store: None,
        };
        h.reopen().await;
        h
    }

    pub fn durable(&self) -> bool {
        !matches!(self, Harness::Memory(_))
    }

    pub fn store(&self) -> Arc<dyn StateStore> {
        match self {
            Harness::Memory(m) => m.clone(),
            Harness::Embedded { store, .. } => store.clone().expect("open"),
            Harness::Cql { store, .. } => store.clone().expect("open"),
        }
    }

    pub fn audit_source(&self) -> Arc<dyn AuditSource> {
        match self {
            Harness::Memory(m) => Arc::new(MemoryAudit(m.clone())),
            Harness::Embedded { store, .. } => store.as_ref().expect("open").backend().clone(),
            Harness::Cql { store, .. } => store.as_ref().expect("open").backend().clone(),
        }
    }

    /// Drops the store (everything not flushed with it) and opens it again from what is
    /// durable: a restart. The in-memory store keeps everything (there is nothing to reopen).
    pub async fn reopen(&mut self) {
        // Wait until nobody else holds the store (a stopped runtime's actors let go of it
        // as their arbiters wind down): the embedded file can be open only once.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let holders = match self {
                Harness::Memory(_) => 1,
                Harness::Embedded { store, .. } => store.as_ref().map_or(1, Arc::strong_count),
                Harness::Cql { store, .. } => store.as_ref().map_or(1, Arc::strong_count),
            };
            if holders <= 1 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the store is still held by {holders} owners"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        match self {
            Harness::Memory(_) => {}
            Harness::Embedded { .. } => self.open_embedded(),
            Harness::Cql { cfg, store, .. } => {
                *store = None;
                let c = Cql::connect(cfg, BATCH_LEN_MAX).await.expect("connect");
                *store = Some(Arc::new(store::WriteBehind::new(c)));
            }
        }
    }

    pub fn data_dir(&self) -> Option<PathBuf> {
        match self {
            Harness::Embedded { dir, .. } => Some(dir.path().to_path_buf()),
            _ => None,
        }
    }
}

impl Harness {
    /// Feeds `n` simulated messages of `cfg`'s network from `t0`, `step_ms` apart, through a
    /// runtime on this store, checkpoints them, stops, and opens the store again (a clean
    /// restart): what a report then reads is what the run stored.
    pub async fn run_simulated(
        &mut self,
        cfg: &pitboss::config::Config,
        n: i64,
        t0: i64,
        step_ms: i64,
    ) {
        let mut sim = pitboss::sim::Simulator::new(cfg).unwrap();
        let msgs: Vec<_> = (0..n).map(|i| sim.next(t0 + i * step_ms)).collect();
        let mut d = super::Driver::start(cfg, self.store());
        d.feed(&msgs).await;
        assert!(d.checkpoint().await.unwrap());
        d.rt.stop();
        drop(d);
        self.reopen().await;
    }
}
