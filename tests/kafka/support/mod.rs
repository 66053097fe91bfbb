#![allow(clippy::type_complexity)]
//! Shared harness of the Kafka integration tests: a real broker (Tansu) on a free loopback
//! port, unique topics and group per test, a plain producer and consumer, the expected
//! results of a scenario (from the single-threaded reference processor and an in-process
//! actor run), and the checks of what lands on the output topics.
//!
//! The broker binary: `TANSU_BIN` if set, else `target/tansu/bin/tansu`, else
//! `scripts/install-tansu.sh` installs it there. If none works the test fails: a missing
//! broker never turns into a skipped test.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use pitboss::config::Config;
use pitboss::direct::Direct;
use pitboss::kafka::{RunStats, Src};
use pitboss::pipeline::{Inflight, Ingest, SourcePos};
use pitboss::rng::KeyedHitPoints;
use pitboss::sim::SimMessage;
use pitboss::wire::{self, OutputEvent};
use pitboss_actors::shell::ports::{BoxFuture, Position, Stash, Stored};
use pitboss_actors::shell::{
    EntityKey, MemorySink, MemoryStore, Output, Runtime, Snapshot, StateStore, StoreError,
};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::ClientContext;

/// Event time of the first simulated event (events are 20 ms apart).
pub const T0: i64 = 1_800_000_000_000;

/// Kafka tests share two cores with the broker: run them one at a time. Also installs a
/// log subscriber (`RUST_LOG`, off by default).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOG: OnceLock<()> = OnceLock::new();
    LOG.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
            )
            .with_test_writer()
            .try_init();
    });
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Tansu binary, installing it if needed. Panics (fails the test) if there is none.
pub fn tansu_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("TANSU_BIN") {
            let p = PathBuf::from(p);
            assert!(p.is_file(), "TANSU_BIN={} is not a file", p.display());
            return p;
        }
        let bin = repo().join("target/tansu/bin/tansu");
        if !bin.is_file() {
            let status = Command::new("bash")
                .arg(repo().join("scripts/install-tansu.sh"))
                .arg(repo().join("target/tansu"))
                .status()
                .expect("running scripts/install-tansu.sh");
            assert!(
                status.success(),
                "scripts/install-tansu.sh failed: the Kafka tests need Tansu"
            );
        }
        assert!(bin.is_file(), "no Tansu binary at {}", bin.display());
        bin
    })
    .clone()
}

/// A Tansu broker with in-memory storage on a free loopback port; killed on drop.
pub struct Broker {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Broker {
    /// Starts a broker and waits until it accepts connections.
    pub fn start() -> Broker {
        let bin = tansu_bin();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("tcp://127.0.0.1:{port}");
        let mut child = Command::new(&bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(&addr).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("tansu exited before accepting connections: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "tansu did not accept connections on {addr} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker { child, addr }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A name no other test (or earlier run) uses.
pub fn unique(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{tag}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A small network with jackpot hits and rejections, against `broker`, with every topic
/// and the group unique to this call.
pub fn config(broker: &Broker, tag: &str) -> Config {
    let mut cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
    cfg.sim.halls = 3;
    cfg.sim.machines_per_hall = 20;
    cfg.sim.players = 50;
    cfg.sim.malformed_per_million = 2_000;
    cfg.sim.progressive_hit_per_million = 20_000;
    cfg.runtime.arbiters = 2;
    let k = &mut cfg.kafka;
    k.brokers = broker.addr.clone();
    let prefix = unique(tag);
    k.group_id = format!("{prefix}.group");
    let t = &mut k.topics;
    t.input = format!("{prefix}.game-events");
    t.ggr = format!("{prefix}.ggr");
    t.jackpots = format!("{prefix}.jackpots");
    t.wallet_events = format!("{prefix}.wallet-events");
    t.alerts = format!("{prefix}.alerts");
    t.rejected = format!("{prefix}.rejected");
    t.pool_commands = format!("{prefix}.internal.pool-commands");
    t.ggr_deltas = format!("{prefix}.internal.ggr-deltas");
    t.machine_awards = format!("{prefix}.internal.machine-awards");
    k.partitions.input = 4;
    k.partitions.outputs = 2;
    k.partitions.internal = 4;
    k.commit_interval_ms = 300;
    k.drain_timeout_ms = 10_000;
    // Tansu takes about half the session timeout to form a new group: keep it short.
    k.consumer.insert(
        "session.timeout.ms".into(),
        toml::Value::String("6000".into()),
    );
    k.consumer.insert(
        "heartbeat.interval.ms".into(),
        toml::Value::String("500".into()),
    );
    // In memory unless a test chooses a durable store (and its directory).
    cfg.store.kind = pitboss::store::StoreKind::Memory;
    cfg
}

/// The output topics of a configuration.
pub fn output_topics(cfg: &Config) -> Vec<String> {
    let t = &cfg.kafka.topics;
    let mut v: Vec<String> = t.outputs().into_iter().map(str::to_string).collect();
    v.dedup();
    v
}

/// The topics a processor consumes, by role.
pub fn consumed_topics(cfg: &Config) -> Vec<(Src, String)> {
    let t = &cfg.kafka.topics;
    let mut v = vec![(Src::Input, t.input.clone())];
    if cfg.kafka.internal_topics {
        v.push((Src::PoolCommands, t.pool_commands.clone()));
        v.push((Src::GgrDeltas, t.ggr_deltas.clone()));
        v.push((Src::MachineAwards, t.machine_awards.clone()));
    }
    v
}

struct Deliveries(Mutex<Vec<Option<Result<(i32, i64), String>>>>);

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = usize;
    fn delivery(&self, r: &DeliveryResult<'_>, i: usize) {
        let v = match r {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err(e.to_string()),
        };
        self.0.lock().unwrap()[i] = Some(v);
    }
}

/// Produces `msgs` (key, bytes) in order with a plain idempotent producer; returns each
/// message's partition and offset. Blocking.
pub fn produce(brokers: &str, topic: &str, msgs: &[(String, Vec<u8>)]) -> Vec<(i32, i64)> {
    let ctx = Deliveries(Mutex::new(vec![None; msgs.len()]));
    let p: ThreadedProducer<Deliveries> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create_with_context(ctx)
        .expect("producer");
    for (i, (key, bytes)) in msgs.iter().enumerate() {
        let mut rec = BaseRecord::with_opaque_to(topic, i)
            .key(key.as_str())
            .payload(&bytes[..]);
        loop {
            match p.send(rec) {
                Ok(()) => break,
                Err((_, r)) => {
                    // Queue full: wait for room.
                    rec = r;
                    p.poll(Duration::from_millis(10));
                }
            }
        }
    }
    p.flush(Duration::from_secs(60)).expect("flush");
    let got = p.context().0.lock().unwrap().clone();
    got.into_iter()
        .enumerate()
        .map(|(i, d)| match d {
            Some(Ok(pos)) => pos,
            other => panic!("message {i} not delivered: {other:?}"),
        })
        .collect()
}

/// Key and bytes of simulator messages.
pub fn keyed(msgs: &[SimMessage]) -> Vec<(String, Vec<u8>)> {
    msgs.iter()
        .map(|m| (m.key.clone(), m.bytes.clone()))
        .collect()
}

fn metadata_consumer(brokers: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("consumer")
}

/// The partition ids of `topic`. Blocking.
pub fn partitions(brokers: &str, topic: &str) -> Vec<i32> {
    let c = metadata_consumer(brokers);
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .expect("topic in metadata");
    t.partitions().iter().map(|p| p.id()).collect()
}

/// A consumer reading `topics` from the beginning, knowing per partition the offset after
/// the last record seen and whether it has reached the end of the log.
///
/// Ends are found by reading to end-of-partition, not from the broker's reported high
/// watermarks: Tansu 0.6 reports the base offset of the last batch + 1 there, which is too
/// low when the last batch holds several records.
pub struct EndReader {
    /// One consumer per topic: an end-of-partition event names only the partition.
    consumers: Vec<(String, BaseConsumer)>,
    /// (topic, partition) -> (offset after the last record, at end of log).
    pub ends: BTreeMap<(String, i32), (i64, bool)>,
    /// Records read, if asked to keep them.
    pub recs: Vec<Rec>,
    keep: bool,
}

impl EndReader {
    /// Assigns every partition of `topics` from the beginning. Blocking.
    pub fn new(brokers: &str, topics: &[String], keep: bool) -> Self {
        let mut consumers = Vec::new();
        let mut ends = BTreeMap::new();
        for t in topics {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", brokers)
                .set("group.id", unique("reader"))
                .set("enable.auto.commit", "false")
                .set("enable.partition.eof", "true")
                .set("fetch.wait.max.ms", "50")
                .create()
                .expect("consumer");
            let mut tpl = TopicPartitionList::new();
            for p in partitions(brokers, t) {
                tpl.add_partition_offset(t, p, Offset::Beginning).unwrap();
                ends.insert((t.clone(), p), (0, false));
            }
            consumer.assign(&tpl).expect("assign");
            consumers.push((t.clone(), consumer));
        }
        Self {
            consumers,
            ends,
            recs: Vec::new(),
            keep,
        }
    }

    /// Reads what is there for up to `d`; true if something new arrived.
    pub fn poll_for(&mut self, d: Duration) -> bool {
        let until = Instant::now() + d;
        let mut news = false;
        while Instant::now() < until {
            for (topic, c) in &self.consumers {
                loop {
                    match c.poll(Duration::ZERO) {
                        None => break,
                        Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                            if let Some(x) = self.ends.get_mut(&(topic.clone(), p)) {
                                x.1 = true;
                            }
                        }
                        Some(Err(e)) => panic!("reading {topic}: {e}"),
                        Some(Ok(m)) => {
                            news = true;
                            let key = (topic.clone(), m.partition());
                            if let Some(x) = self.ends.get_mut(&key) {
                                *x = (m.offset() + 1, false);
                            }
                            if self.keep {
                                let headers = m
                                    .headers()
                                    .map(|h| {
                                        h.iter()
                                            .map(|x| {
                                                (x.key.to_string(), x.value.map(<[u8]>::to_vec))
                                            })
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                self.recs.push(Rec {
                                    topic: key.0,
                                    partition: key.1,
                                    offset: m.offset(),
                                    key: m.key().map(<[u8]>::to_vec),
                                    headers,
                                    payload: m.payload().unwrap_or_default().to_vec(),
                                });
                            }
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        news
    }

    /// Every partition has been read to its end.
    pub fn at_end(&self) -> bool {
        self.ends.values().all(|(_, eof)| *eof)
    }
}

/// Waits (polling, with a deadline) until `cond` holds.
pub async fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the processors (together) have completed every message of every topic
/// they consume: every partition read to its end by a separate reader, every processor
/// position at or past that end, and no new message for a few polls. Nothing is in
/// flight then, and no internal message is waiting.
pub async fn wait_caught_up(cfg: &Config, stats: &[Arc<RunStats>], timeout: Duration) {
    let topics = consumed_topics(cfg);
    let brokers = cfg.kafka.brokers.clone();
    let stats: Vec<Arc<RunStats>> = stats.to_vec();
    tokio::task::spawn_blocking(move || {
        let names: Vec<String> = topics.iter().map(|(_, n)| n.clone()).collect();
        let mut reader = EndReader::new(&brokers, &names, false);
        let deadline = Instant::now() + timeout;
        let mut quiet = 0;
        loop {
            let news = reader.poll_for(Duration::from_millis(100));
            let mut positions: BTreeMap<(Src, i32), i64> = BTreeMap::new();
            for s in &stats {
                for (tp, o) in s.positions() {
                    let e = positions.entry(tp).or_insert(o);
                    *e = (*e).max(o);
                }
            }
            let mut behind = Vec::new();
            for ((topic, p), (end, eof)) in &reader.ends {
                let src = topics
                    .iter()
                    .find(|(_, n)| n == topic)
                    .map(|(s, _)| *s)
                    .unwrap();
                let pos = positions.get(&(src, *p)).copied().unwrap_or(0);
                if !eof || pos < *end {
                    behind.push(format!("{src:?}/{p}: {pos} of {end} (eof {eof})"));
                }
            }
            if behind.is_empty() && !news {
                quiet += 1;
                if quiet >= 3 {
                    return;
                }
            } else {
                quiet = 0;
            }
            assert!(
                Instant::now() < deadline,
                "not caught up after {timeout:?}: {behind:?}"
            );
        }
    })
    .await
    .expect("catch-up watcher");
}

/// One record read back from an output topic.
#[derive(Clone, Debug)]
pub struct Rec {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Headers.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Payload.
    pub payload: Vec<u8>,
}

/// Reads every record of `topics` from the beginning to their end (call it once nothing
/// writes to them any more). Blocking.
pub fn read_all(brokers: &str, topics: &[String]) -> Vec<Rec> {
    let mut r = EndReader::new(brokers, topics, true);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !r.at_end() {
        assert!(
            Instant::now() < deadline,
            "reading the output topics timed out"
        );
        r.poll_for(Duration::from_millis(100));
    }
    r.recs
}

/// What a scenario must produce, from the reference processor and an in-process actor run
/// over the same messages.
#[derive(Debug, Default)]
pub struct Expected {
    /// Per hall: bets, wins, games (all time).
    pub halls: BTreeMap<String, (i64, i64, i64)>,
    /// Final balance per player.
    pub balances: BTreeMap<String, i64>,
    /// Output ids of wallet changes, alerts and refusals.
    pub wallet_ids: BTreeSet<String>,
    /// Alert ids.
    pub alert_ids: BTreeSet<String>,
    /// Refusal ids.
    pub refused_ids: BTreeSet<String>,
    /// Messages rejected at the wire.
    pub rejected: usize,
}

/// Computes the expectations. Call inside an actix system (it runs the actors in process).
pub async fn expected(cfg: &Config, msgs: &[(String, Vec<u8>)]) -> Expected {
    let rc = cfg.runtime_config().expect("runtime config");
    let mut d = Direct::new(rc.clone(), &cfg.runtime.hit_point_secret);
    for (_, b) in msgs {
        if let Ok(input) = wire::decode_input(b) {
            d.apply(input);
        }
    }
    let mut e = Expected::default();
    for s in d.snapshots() {
        match s {
            Snapshot::Hall(h) => {
                e.halls.insert(
                    h.id.to_string(),
                    (h.totals.bets, h.totals.wins, h.totals.games),
                );
            }
            Snapshot::Wallet(w) => {
                e.balances.insert(w.id.to_string(), w.balance);
            }
            _ => {}
        }
    }
    let sink = Arc::new(MemorySink::default());
    let rt = Runtime::start(
        rc,
        sink.clone(),
        Arc::new(MemoryStore::default()),
        Arc::new(KeyedHitPoints::new(&cfg.runtime.hit_point_secret)),
    );
    let ingest = Ingest::new(rt.clone());
    let inflight = Inflight::new(4096);
    for (i, chunk) in msgs.chunks(64).enumerate() {
        let ack = inflight.begin(chunk.len(), |_| {}).await;
        for (j, (k, b)) in chunk.iter().enumerate() {
            let pos = SourcePos {
                partition: 0,
                offset: (i * 64 + j) as i64,
            };
            ingest.process(b, Some(k.as_bytes()), pos, &ack).await;
        }
    }
    inflight.drained().await;
    rt.quiesce().await;
    for o in sink.take() {
        let id = wire::encode_output(&o).id.to_string();
        match o {
            Output::Wallet { .. } => {
                e.wallet_ids.insert(id);
            }
            Output::Alert { .. } => {
                e.alert_ids.insert(id);
            }
            Output::Refused { .. } => {
                e.refused_ids.insert(id);
            }
            Output::Rejected { .. } => e.rejected += 1,
            _ => {}
        }
    }
    rt.stop();
    e
}

/// The output records, decoded and grouped, with the checks every test makes.
pub struct Outputs {
    /// Every record, in (topic, partition, offset) order.
    pub recs: Vec<Rec>,
}

fn header<'a>(r: &'a Rec, name: &str) -> Option<&'a [u8]> {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.as_deref())
}

impl Outputs {
    /// Decodes every record and checks the envelope against the headers; checks that every
    /// copy of an output id (except GGR windows, which a replay may revise under the same
    /// id) carries the same bytes.
    pub fn new(mut recs: Vec<Rec>) -> Self {
        recs.sort_by(|a, b| {
            (&a.topic, a.partition, a.offset).cmp(&(&b.topic, b.partition, b.offset))
        });
        let mut by_id: HashMap<String, &Rec> = HashMap::new();
        for r in &recs {
            let ev = wire::decode_output(&r.payload).unwrap_or_else(|e| {
                panic!(
                    "{}/{}@{} does not decode: {e}",
                    r.topic, r.partition, r.offset
                )
            });
            assert_eq!(
                header(r, "pitboss-schema-version"),
                Some(&b"1"[..]),
                "schema version header"
            );
            assert_eq!(
                header(r, "pitboss-output-id"),
                Some(ev.output_id().as_bytes()),
                "output id header"
            );
            let cause = match &ev {
                OutputEvent::Wallet(e) => e.cause_event_id.as_deref(),
                OutputEvent::Alert(e) => e.cause_event_id.as_deref(),
                OutputEvent::Refused(e) => e.cause_event_id.as_deref(),
                OutputEvent::JackpotHit(e) => e.cause_event_id.as_deref(),
                _ => None,
            };
            assert_eq!(
                header(r, "pitboss-cause-event-id"),
                cause.map(str::as_bytes),
                "cause header"
            );
            if matches!(ev, OutputEvent::Ggr(_)) {
                continue;
            }
            if let Some(first) = by_id.get(ev.output_id()) {
                assert_eq!(
                    first.payload,
                    r.payload,
                    "output {} has two different contents ({}/{}@{} and @{})",
                    ev.output_id(),
                    r.topic,
                    first.offset,
                    r.partition,
                    r.offset
                );
            } else {
                by_id.insert(ev.output_id().to_string(), r);
            }
        }
        Self { recs }
    }

    fn decoded(&self) -> impl Iterator<Item = (&Rec, OutputEvent<'_>)> {
        self.recs
            .iter()
            .map(|r| (r, wire::decode_output(&r.payload).expect("checked")))
    }

    /// Per hall: bets, wins and games summed over windows, each window taken from its last
    /// publication in the log.
    pub fn ggr_by_hall(&self) -> BTreeMap<String, (i64, i64, i64)> {
        let mut last: BTreeMap<(String, i64), (i64, i64, i64)> = BTreeMap::new();
        for (_, ev) in self.decoded() {
            if let OutputEvent::Ggr(g) = ev {
                let p = &g.payload;
                // Records are in log order: a later one replaces an earlier one.
                last.insert(
                    (p.hall.to_string(), p.window_start),
                    (p.bets, p.wins, p.games),
                );
            }
        }
        let mut out: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
        for ((hall, _), (b, w, g)) in last {
            let e = out.entry(hall).or_default();
            e.0 += b;
            e.1 += w;
            e.2 += g;
        }
        out
    }

    /// Distinct ids of one kind.
    pub fn ids(&self, kind: &str) -> BTreeSet<String> {
        self.decoded()
            .filter(|(_, ev)| ev.kind() == kind)
            .map(|(_, ev)| ev.output_id().to_string())
            .collect()
    }

    /// Final balance per player (last wallet output in the log).
    pub fn balances(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for (_, ev) in self.decoded() {
            if let OutputEvent::Wallet(w) = ev {
                out.insert(w.payload.player.to_string(), w.payload.balance);
            }
        }
        out
    }

    /// Distinct jackpot hits: count and total amount.
    pub fn hits(&self) -> (u64, i64) {
        let mut seen = BTreeMap::new();
        for (_, ev) in self.decoded() {
            if let OutputEvent::JackpotHit(h) = ev {
                seen.insert(h.output_id.to_string(), h.payload.amount);
            }
        }
        (seen.len() as u64, seen.values().sum())
    }

    /// Distinct rejections: (reason, code, original, original_len, partition, offset).
    pub fn rejections(&self) -> BTreeMap<String, (String, String, Vec<u8>, u64, i32, i64)> {
        let mut out = BTreeMap::new();
        for (_, ev) in self.decoded() {
            if let OutputEvent::Rejected(r) = ev {
                let p = &r.payload;
                out.insert(
                    r.output_id.to_string(),
                    (
                        p.reason.to_string(),
                        p.reason_code.to_string(),
                        p.original.0.to_vec(),
                        p.original_len,
                        p.partition,
                        p.offset,
                    ),
                );
            }
        }
        out
    }

    /// Checks GGR per hall, wallet ids and final balances, alert and refusal ids.
    pub fn check(&self, e: &Expected) {
        if self.ggr_by_hall() != e.halls {
            // Show the windows as published, to tell a missing window from a wrong one.
            for (r, ev) in self.decoded() {
                if let OutputEvent::Ggr(g) = ev {
                    eprintln!("{}@{} {:?}", r.partition, r.offset, g.payload);
                }
            }
        }
        assert_eq!(
            self.ggr_by_hall(),
            e.halls,
            "GGR per hall (bets, wins, games)"
        );
        assert_eq!(self.ids("wallet"), e.wallet_ids, "wallet outputs");
        assert_eq!(self.balances(), e.balances, "final wallet balances");
        assert_eq!(self.ids("alert"), e.alert_ids, "alerts");
        assert_eq!(self.ids("refused"), e.refused_ids, "refusals");
    }
}

/// A store in memory that reports its flushes durable and keeps the positions flushed with
/// them: a stand-in for a durable store shared by instances (or surviving a restart), so
/// the tests exercise the commit protocol. It is not durable across a real crash.
#[derive(Default)]
pub struct SharedStore {
    inner: MemoryStore,
    pending: Mutex<Vec<Position>>,
    positions: Mutex<BTreeMap<(String, i32), i64>>,
    /// Flushes so far.
    pub flushes: AtomicU64,
}

impl StateStore for SharedStore {
    fn load(&self, key: &EntityKey) -> BoxFuture<Result<Option<Stored>, StoreError>> {
        self.inner.load(key)
    }
    fn stash(&self, stash: Stash) {
        self.inner.stash(stash)
    }
    fn all(&self) -> BoxFuture<Result<Vec<Snapshot>, StoreError>> {
        self.inner.all()
    }
    fn flush(&self) -> BoxFuture<Result<bool, StoreError>> {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap());
        let mut p = self.positions.lock().unwrap();
        for pos in pending {
            p.insert((pos.topic, pos.partition), pos.next_offset);
        }
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Ok(true) })
    }
    fn stash_position(&self, position: Position) {
        self.pending.lock().unwrap().push(position);
    }
    fn positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        let v = self
            .positions
            .lock()
            .unwrap()
            .iter()
            .map(|((topic, partition), next_offset)| Position {
                topic: topic.clone(),
                partition: *partition,
                next_offset: *next_offset,
            })
            .collect();
        Box::pin(async move { Ok(v) })
    }
}

/// A child process killed (SIGKILL) when dropped if still running, so a failing test
/// leaves no `pitboss run` behind.
pub struct ChildGuard(pub std::process::Child);

impl std::ops::Deref for ChildGuard {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for ChildGuard {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `pitboss audit --config <config>` (the real binary `bin`) exits 0 and reports no
/// difference between the stored ledger and the stored state.
pub fn assert_audit_clean(bin: &str, config: &std::path::Path) {
    let out = Command::new(bin)
        .args(["audit", "--config"])
        .arg(config)
        .output()
        .expect("running pitboss audit");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pitboss audit: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" 0 differences"), "{text}");
}

/// `pitboss topics create --config <config>` (the real binary `bin`) succeeds; its listing.
pub fn topics_create_cli(bin: &str, config: &std::path::Path) -> String {
    let out = Command::new(bin)
        .args(["topics", "create", "--config"])
        .arg(config)
        .output()
        .expect("running pitboss topics create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
