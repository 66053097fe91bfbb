//! The sending side: every event generated before the clock starts (and applied to the
//! reference processor), then offered open loop, each event when it is due, whatever the
//! broker or pitboss answered so far; and the sentinel deposits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use indicatif::ProgressBar;
use pitboss::config::Config;
use pitboss::direct::Direct;
use pitboss::model::Model;
use pitboss::model_check;
use pitboss::sim::{SentTotals, Simulator};
use pitboss::wire;
use pitboss_actors::shell::EntityKey;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

use super::reader::payload_hash;
use super::sentinel::{sentinel, Round};
use super::Shared;
use crate::scenario::Schedule;

/// Header on every simulated input record: its due time, ns after t0 (u64 big-endian).
pub const DUE_HEADER: &str = "pitboss-load-due-ns";

/// A producer context counting the broker's acknowledgements and failures (the first
/// failure's reason kept).
#[derive(Default)]
pub(crate) struct DeliveryCount {
    errors: AtomicU64,
    acked: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl DeliveryCount {
    /// Records the broker acknowledged.
    pub(crate) fn acked(&self) -> u64 {
        self.acked.load(Ordering::Relaxed)
    }

    /// An error if any record of `what` was not delivered, naming the first failure.
    pub(crate) fn check(&self, what: &str) -> anyhow::Result<()> {
        let errors = self.errors.load(Ordering::Relaxed);
        if errors > 0 {
            bail!(
                "{errors} {what} were not delivered to the broker (first error: {})",
                self.first_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                    .unwrap_or_default()
            );
        }
        Ok(())
    }
}

impl ClientContext for DeliveryCount {}

impl ProducerContext for DeliveryCount {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        match r {
            Ok(_) => {
                self.acked.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                let mut f = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
                f.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// What the events should have done, by two independent readings of the rules.
pub struct Reference {
    /// The reference processor (the core's state machines in one thread).
    pub direct: Direct,
    /// The independent model of RULES.md.
    pub model: Model,
    /// What the simulator says it sent.
    pub sent: SentTotals,
}

/// Which scenario events feed an aggregate output (a pool's levels, a hall's GGR windows),
/// from the reference processor's deliveries: the latency coverage counts them as covered
/// once their aggregates were published with a latency sample (`summary`).
#[derive(Default)]
pub struct Fed {
    /// Bit `n`: simulator event `n` reached a pool (a contribution or a claim).
    pub pool: Vec<u64>,
    /// Bit `n`: simulator event `n` reached a hall (a GGR delta).
    pub hall: Vec<u64>,
    /// Commands all events sent to pools, and deltas to halls.
    pub pool_deliveries: u64,
    pub hall_deliveries: u64,
}

/// Whether bit `n` of a bitset is set.
pub fn bit(set: &[u64], n: usize) -> bool {
    set.get(n / 64).is_some_and(|w| w & (1 << (n % 64)) != 0)
}

pub fn set_bit(set: &mut [u64], n: usize) {
    if let Some(w) = set.get_mut(n / 64) {
        *w |= 1 << (n % 64);
    }
}

/// The producer and what it measured.
pub struct Sender {
    cfg: Config,
    shared: Arc<Shared>,
    producer: ThreadedProducer<DeliveryCount>,
    /// The events (key, bytes, carries a simulator event id), generated before t0.
    msgs: Vec<(String, Vec<u8>, bool)>,
    /// The [`payload_hash`] of every scenario event, in order (for the check that the
    /// broker kept each one).
    pub sent_hashes: Vec<u64>,
    /// The reference processor and the independent model, fed the same events, and the
    /// simulator's totals.
    pub reference: Option<Reference>,
    /// Which events feed aggregate outputs.
    pub fed: Fed,
    progress: ProgressBar,
    /// The wall clock at the start, ms since the epoch: event times count from it.
    pub epoch0_ms: i64,
    /// Events sent per second after t0.
    pub sent_per_sec: Vec<u64>,
    /// The most an event was sent after it was due.
    pub send_lag_max_ns: u64,
    /// When the last event was sent, ns after t0 (for a backlog: after the fill started).
    pub last_send_ns: u64,
    /// Events sent.
    pub produced: u64,
    /// The warm-up sentinels were sent (the reference must apply them too).
    pub warm_sent: bool,
}

impl Sender {
    /// A sender over `cfg`'s input topic whose producer gathers events for `linger_ms`
    /// (gateways send at once; a long linger is latency the harness adds).
    pub fn new(
        cfg: &Config,
        shared: Arc<Shared>,
        progress: ProgressBar,
        linger_ms: u32,
    ) -> anyhow::Result<Self> {
        let mut pc = pitboss::kafka::producer::producer_config(&cfg.kafka);
        pc.set("linger.ms", linger_ms.to_string());
        let producer: ThreadedProducer<DeliveryCount> = pc
            .create_with_context(DeliveryCount::default())
            .context("creating the load producer")?;
        Ok(Self {
            cfg: cfg.clone(),
            shared,
            producer,
            msgs: Vec::new(),
            sent_hashes: Vec::new(),
            fed: Fed::default(),
            reference: None,
            progress,
            epoch0_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            sent_per_sec: Vec::new(),
            send_lag_max_ns: 0,
            last_send_ns: 0,
            produced: 0,
            warm_sent: false,
        })
    }

    /// Sends one record; retries only when the local queue is full.
    fn send(
        &self,
        topic: &str,
        key: &str,
        bytes: &[u8],
        partition: Option<i32>,
        ts: i64,
        due: Option<u64>,
    ) {
        let mut rec = BaseRecord::to(topic).key(key).payload(bytes).timestamp(ts);
        if let Some(p) = partition {
            rec = rec.partition(p);
        }
        if let Some(d) = due {
            let v = d.to_be_bytes();
            rec = rec.headers(OwnedHeaders::new_with_capacity(1).insert(Header {
                key: DUE_HEADER,
                value: Some(&v[..]),
            }));
        }
        loop {
            match self.producer.send(rec) {
                Ok(()) => return,
                Err((_, r)) => {
                    rec = r;
                    self.producer.poll(Duration::from_millis(1));
                }
            }
        }
    }

    /// Generates every event before anything is timed (so the simulator's cost is not in
    /// the measured window) and feeds each to the reference processor.
    pub fn generate(&mut self, sched: &Schedule) -> anyhow::Result<()> {
        let mut sim = Simulator::new(&self.cfg).context("creating the simulator")?;
        let rc = self.cfg.runtime_config()?;
        // Deliveries traced: which events reach a pool or a hall.
        let mut d = Direct::new(rc, &self.cfg.runtime.hit_point_secret).tracing_deliveries();
        let words = self.shared.due_ns.len() / 64 + 1;
        let mut fed = Fed {
            pool: vec![0; words],
            hall: vec![0; words],
            ..Fed::default()
        };
        // The simulator numbers the events that carry an id from 1 (as `produce` does).
        let mut n = 0usize;
        let mut model = Model::new(
            model_check::model_config_of(&self.cfg),
            model_check::draw(&self.cfg.runtime.hit_point_secret),
        );
        let mut msgs = Vec::with_capacity(sched.total as usize);
        for i in 0..sched.total {
            let ts = event_time_ms(self.epoch0_ms, sched, i);
            let malformed = sim.sent().malformed;
            let m = sim.next(ts);
            let has_id = sim.sent().malformed == malformed;
            n += usize::from(has_id);
            if let Ok(input) = wire::decode_input(&m.bytes) {
                d.apply(input);
                let (mut pools, mut halls) = (0, 0);
                for k in d.delivered() {
                    match k {
                        EntityKey::Pool(_) => pools += 1,
                        EntityKey::Hall(_) => halls += 1,
                        _ => {}
                    }
                }
                fed.pool_deliveries += pools;
                fed.hall_deliveries += halls;
                if has_id && pools > 0 {
                    set_bit(&mut fed.pool, n);
                }
                if has_id && halls > 0 {
                    set_bit(&mut fed.hall, n);
                }
            }
            // No receive time: the harness's event times are its own clock's (E-3).
            model.apply_bytes(&m.bytes, None);
            let key = if m.key.is_empty() {
                "-".to_string()
            } else {
                m.key
            };
            self.sent_hashes.push(payload_hash(&m.bytes));
            msgs.push((key, m.bytes, has_id));
            if i % 65_536 == 0 {
                self.progress.set_message(format!("generating events: {i}"));
            }
        }
        self.msgs = msgs;
        self.fed = fed;
        self.reference = Some(Reference {
            direct: d,
            model,
            sent: sim.sent().clone(),
        });
        Ok(())
    }

    /// Offers the scheduled events (open loop) or, for a backlog, all of them at once.
    pub fn produce(&mut self, sched: &Schedule, backlog: bool) -> anyhow::Result<()> {
        let topic = self.cfg.kafka.topics.input.clone();
        let shared = self.shared.clone();
        let t0 = if backlog {
            shared.now_ns()
        } else {
            shared.t0_ns.load(Ordering::Relaxed)
        };
        let mut n: usize = 0;
        let msgs = std::mem::take(&mut self.msgs);
        for (i, (key, bytes, has_id)) in (0u64..).zip(msgs.iter()) {
            let due = (sched.due_secs(i) * 1e9) as u64;
            let mut now = shared.now_ns().saturating_sub(t0);
            if !backlog {
                // Sleep until the event is due (at least 100 us: the events that fall due
                // meanwhile go out together). No spinning: the harness shares the cores
                // with the broker and pitboss.
                while now < due {
                    std::thread::sleep(Duration::from_nanos((due - now).max(100_000)));
                    now = shared.now_ns().saturating_sub(t0);
                }
                self.send_lag_max_ns = self.send_lag_max_ns.max(now - due);
            }
            let ts = event_time_ms(self.epoch0_ms, sched, i);
            if *has_id {
                n += 1;
                if let Some(slot) = shared.due_ns.get(n) {
                    slot.store(if backlog { 0 } else { due }, Ordering::Relaxed);
                }
            }
            self.send(&topic, key, bytes, None, ts, (!backlog).then_some(due));
            let sec = (now / 1_000_000_000) as usize;
            if self.sent_per_sec.len() <= sec {
                self.sent_per_sec.resize(sec + 1, 0);
            }
            self.sent_per_sec[sec] += 1;
            self.produced += 1;
            if i % 2048 == 0 {
                self.progress.set_position(i);
                let secs = now as f64 / 1e9;
                if !backlog && secs > 0.5 {
                    self.progress.set_message(format!(
                        "offering: sent {:.0} ev/s, send lag {:.1} ms, outputs {}",
                        i as f64 / secs,
                        (now.saturating_sub(due)) as f64 / 1e6,
                        shared.outputs.load(Ordering::Relaxed)
                    ));
                }
            }
        }
        self.last_send_ns = shared.now_ns().saturating_sub(t0);
        self.progress.set_position(sched.total);
        Ok(())
    }

    /// One deposit per input partition, to a player of its own.
    pub fn produce_sentinels(&mut self, round: Round, partitions: i32) -> anyhow::Result<()> {
        let topic = self.cfg.kafka.topics.input.clone();
        for p in 0..partitions {
            let (key, bytes) = sentinel(&self.cfg, round, p);
            let ts = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            self.send(&topic, &key, &bytes, Some(p), ts, None);
        }
        if round == Round::Warm {
            self.warm_sent = true;
        }
        Ok(())
    }

    /// Waits until the broker has acknowledged everything sent; an error if anything was
    /// not delivered.
    pub fn flush(&self) -> anyhow::Result<()> {
        self.producer
            .flush(Duration::from_secs(300))
            .context("the broker did not acknowledge the produced events")?;
        self.producer.context().check("events")
    }
}

/// Event time of event `i`: the run's start (wall clock) plus its due time.
fn event_time_ms(epoch0_ms: i64, sched: &Schedule, i: u64) -> i64 {
    epoch0_ms + (sched.due_secs(i) * 1000.0) as i64
}
