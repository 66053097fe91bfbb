//! Shared by the store tests: an in-process CQL server (kassandra) that can be stopped and
//! restarted on the same port, harnesses that open each store kind the same way, and state
//! builders.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use kassandra::frame::request::Request;
use kassandra::frame::response::error::Error as CqlError;
use kassandra::frame::response::Response;
use kassandra::frame::{request_stream, response_sink};
use kassandra::KassandraSession;
use pitboss::store::{self, AuditSource, Cql, MemoryAudit, Redb, ScyllaConfig, StoreConfig};
use pitboss_actors::shell::{MemoryStore, StateStore};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// kassandra served on 127.0.0.1: the state lives in this process, so the server can be
/// stopped (every connection cut, the port closed) and started again with its data.
pub struct CqlServer {
    pub addr: SocketAddr,
    session: Arc<Mutex<KassandraSession>>,
    accept: Option<JoinHandle<()>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl CqlServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut me = Self {
            addr,
            session: Arc::new(Mutex::new(KassandraSession::new())),
            accept: None,
            conns: Arc::default(),
        };
        me.serve(listener);
        me
    }

    fn serve(&mut self, listener: TcpListener) {
        let (session, conns) = (self.session.clone(), self.conns.clone());
        self.accept = Some(tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let t = tokio::spawn(client(session.clone(), stream));
                conns.lock().unwrap().push(t);
            }
        }));
    }

    /// Closes the port and cuts every connection (the data stays).
    pub fn stop(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    /// Serves again on the same port.
    pub async fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot bind {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }
}

impl Drop for CqlServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn client(session: Arc<Mutex<KassandraSession>>, mut stream: TcpStream) {
    let (mut read, mut write) = stream.split();
    let mut requests = request_stream(&mut read);
    let mut sink = response_sink(&mut write);
    while let Some(frame) = requests.next().await {
        let Ok((frame, opcode, data)) = frame else {
            break;
        };
        let response = if frame.version.is_unsupported() {
            Response::unsupported_version()
        } else {
            match Request::deserialize(opcode, &data, frame.flags) {
                Ok(req) => handle(&session, req),
                Err(e) => Response::Error(e),
            }
        };
        if sink.send((response, frame.stream)).await.is_err() {
            break;
        }
    }
}

fn handle(session: &Mutex<KassandraSession>, req: Request<'_>) -> Response {
    // kassandra panics on some statements; answer with an error instead of dying.
    let run = |f: &mut dyn FnMut(&mut KassandraSession) -> Response| -> Response {
        let mut s = session.lock().unwrap_or_else(|p| p.into_inner());
        std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut s))).unwrap_or_else(|_| {
            Response::Error(CqlError::new(
                kassandra::error::DbError::ServerError,
                "kassandra panicked",
            ))
        })
    };
    let result = |r: Result<_, CqlError>| match r {
        Ok(r) => Response::Result(r),
        Err(e) => Response::Error(e),
    };
    match req {
        Request::StartUp(_) | Request::Register { .. } => Response::Ready,
        Request::Options => Response::options(),
        Request::Query(q) => {
            let mut q = Some(q);
            run(&mut |s| result(s.process(q.take().expect("once"))))
        }
        Request::Prepare(q) => {
            let mut q = Some(q);
            run(&mut |s| result(s.prepare(q.take().expect("once"))))
        }
        Request::Execute(e) => {
            let mut e = Some(e);
            run(&mut |s| result(s.execute(e.take().expect("once"))))
        }
        Request::Batch(b) => {
            let mut b = Some(b);
            run(&mut |s| result(s.process_batch(b.take().expect("once"))))
        }
        Request::AuthResponse => Response::Error(CqlError::new(
            kassandra::error::DbError::ProtocolError,
            "authentication is not supported",
        )),
    }
}

static KEYSPACE_SEQ: AtomicU64 = AtomicU64::new(0);

/// A keyspace name no other test in this process uses.
pub fn unique_keyspace(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        KEYSPACE_SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

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
    store::migrate(&c).await.expect("migrate");
    store::migrate(&c).await.expect("migrate again");
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

    /// A real ScyllaDB at `SCYLLA_URI`, or `None` (the test is then skipped).
    pub async fn scylla() -> Option<Self> {
        let uri = scylla_uri()?;
        let cfg = scylla_config(vec![uri], &unique_keyspace("pitboss_test"), false);
        Some(Self::cql(None, cfg).await)
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

/// A small network for runtime tests.
pub fn small_network() -> pitboss::config::Config {
    let mut cfg = pitboss::config::Config::load_with_env(None, Vec::new()).expect("defaults");
    cfg.sim.halls = 3;
    cfg.sim.machines_per_hall = 20;
    cfg.sim.players = 50;
    cfg.sim.malformed_per_million = 2_000;
    cfg.sim.progressive_hit_per_million = 20_000;
    cfg.runtime.arbiters = 2;
    cfg.runtime.mailbox_len_max = 16;
    cfg
}

/// Feeds simulator messages to a runtime, as the demo and the Kafka source do, and takes
/// checkpoints at consistent cuts. The message number stands in for the input offset.
pub struct Driver {
    pub rt: Arc<pitboss_actors::shell::Runtime>,
    pub ingest: pitboss::pipeline::Ingest,
    pub inflight: pitboss::pipeline::Inflight,
    pub sent: u64,
}

impl Driver {
    pub fn start(cfg: &pitboss::config::Config, store: Arc<dyn StateStore>) -> Self {
        let rt = pitboss_actors::shell::Runtime::start(
            cfg.runtime_config().expect("runtime config"),
            Arc::new(pitboss_actors::shell::NullSink::default()),
            store,
            Arc::new(pitboss::rng::KeyedHitPoints::new(
                &cfg.runtime.hit_point_secret,
            )),
        );
        Self {
            ingest: pitboss::pipeline::Ingest::new(rt.clone()),
            inflight: pitboss::pipeline::Inflight::new(256),
            rt,
            sent: 0,
        }
    }

    pub async fn feed(&mut self, msgs: &[pitboss::sim::SimMessage]) {
        for chunk in msgs.chunks(64) {
            let ack = self
                .inflight
                .begin(chunk.len(), |ok| assert!(ok, "an input failed"))
                .await;
            for m in chunk {
                let pos = pitboss::pipeline::SourcePos {
                    partition: 0,
                    offset: self.sent as i64,
                };
                self.sent += 1;
                self.ingest
                    .process(&m.bytes, Some(m.key.as_bytes()), pos, &ack)
                    .await;
            }
        }
    }

    /// A checkpoint at a consistent cut, recording the input position it reflects.
    pub async fn checkpoint(&self) -> Result<bool, pitboss_actors::shell::StoreError> {
        self.inflight.drained().await;
        self.rt.quiesce().await;
        self.rt
            .store
            .stash_position(pitboss_actors::shell::Position {
                topic: "sim".into(),
                partition: 0,
                next_offset: self.sent as i64,
            });
        pitboss::store::checkpoint(&self.rt).await
    }

    /// Every entity's state, as the runtime sees it (live actors, then the store).
    pub async fn states(&self) -> Vec<pitboss_actors::shell::Snapshot> {
        self.inflight.drained().await;
        self.rt.quiesce().await;
        self.rt.collect().await.expect("collect")
    }
}

/// States by key.
pub fn by_key(
    states: &[pitboss_actors::shell::Snapshot],
) -> std::collections::BTreeMap<String, &pitboss_actors::shell::Snapshot> {
    states
        .iter()
        .map(|s| (format!("{:?}", s.key()), s))
        .collect()
}

/// Asserts two sets of states are equal (`==`: hash maps compare by content), naming the
/// first entity that differs.
pub fn assert_same_states(
    actual: &[pitboss_actors::shell::Snapshot],
    expected: &[pitboss_actors::shell::Snapshot],
) {
    let (a, e) = (by_key(actual), by_key(expected));
    for k in a.keys().chain(e.keys()) {
        assert!(
            a.get(k) == e.get(k),
            "entity {k} differs:\n actual   {:?}\n expected {:?}",
            a.get(k),
            e.get(k)
        );
    }
}

/// Messages from the simulator, with event time advancing 20 ms per message.
pub fn messages(
    sim: &mut pitboss::sim::Simulator,
    n: usize,
    t0: i64,
) -> Vec<pitboss::sim::SimMessage> {
    (0..n as i64).map(|i| sim.next(t0 + i * 20)).collect()
}
