//! The reading side: one thread reads every output topic from the beginning, records each
//! sampled event's latency (arrival - due time, by the output's cause id), counts the
//! sentinels' answers and keeps what the accounting check compares (last balances, GGR
//! windows, jackpot hits and levels, ids per kind).

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use pitboss::config::Config;
use pitboss::wire::{self, OutputEvent};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use testkit::wait::poll_until;

use super::child::PitbossChild;
use super::sender::{bit, set_bit, DUE_HEADER};
use super::sentinel::{round_of, Round};
use super::Shared;

/// The cause header pitboss puts on outputs (`pitboss::kafka::sink`).
const CAUSE_HEADER: &str = pitboss::kafka::sink::HEADER_CAUSE_EVENT_ID;
/// On an aggregate output: how many input events it is the first to include.
const COUNT_HEADER: &str = pitboss::kafka::sink::HEADER_CAUSE_COUNT;

/// The output kind whose latency is the window rule's, not pitboss's: a GGR window is
/// published when its hall's event time is past it by the grace period, or at shutdown
/// (RULES.md H-2), so its latency is reported apart and is not in the headline.
pub const WINDOW_KIND: &str = "ggr";
/// A pool's levels: an aggregate in the headline (published every hall tick).
pub const LEVELS_KIND: &str = "jackpot_levels";

/// The latency of one output kind.
pub struct KindLatency {
    /// Microseconds from the named event's due time, once per event.
    pub hist: Histogram<u64>,
    /// Events named by an output of this kind (its samples).
    pub samples: u64,
    /// Input events the timed outputs of this kind carry: 1 per sample, or for an aggregate
    /// the count it names (`pitboss-cause-count`).
    pub carried: u64,
    /// Bit `n`: event `n` already sampled for this kind.
    seen: Vec<u64>,
}
/// What the output consumer saw.
#[derive(Default)]
pub struct Observed {
    /// The newest revision of each (hall, window) published: bets, wins, games, revision
    /// (after a crash, a replay may publish an older revision again after a newer one).
    pub ggr: HashMap<(String, i64), (i64, i64, i64, u32)>,
    /// Ids seen again with other bytes than their first record: how many, and the first.
    pub id_conflicts: (u64, Option<String>),
    /// Last published balance per player (wallet and transfer outputs).
    pub balances: HashMap<String, i64>,
    /// Distinct jackpot hits: id -> (pool, level, amount).
    pub hits: HashMap<String, (String, u8, i64)>,
    /// Last published levels per pool: (level, amount, hits).
    pub levels: HashMap<String, Vec<(u8, i64, u64)>>,
    /// Distinct output ids per kind, each with a hash of its first record.
    pub ids: BTreeMap<&'static str, HashMap<String, u64>>,
    /// Records per kind (duplicates included).
    pub records: BTreeMap<&'static str, u64>,
    /// Records that do not decode, with the first error.
    pub undecodable: (u64, Option<String>),
    /// Consumer errors the reader rode out (the broker away: a restart).
    pub transient_errors: u64,
    /// When the input topic is read too: the [`payload_hash`] of every record in it.
    pub input_read: Option<HashSet<u64>>,
    /// Latency of each sampled event, microseconds.
    pub hist: Option<Histogram<u64>>,
    /// With --measure-broker: due time -> input record readable, microseconds.
    pub broker_hist: Option<Histogram<u64>>,
    /// The same per second after t0 in which the record was read.
    pub broker_per_sec: Vec<Option<Histogram<u64>>>,
    /// Per second after t0: outputs, samples, and a latency histogram.
    pub per_sec: Vec<(u64, u64, Option<Histogram<u64>>)>,
    /// First output after t0, ns after t0.
    pub first_output_ns: Option<u64>,
    /// Last output, ns after t0.
    pub last_output_ns: Option<u64>,
    /// Arrival of the last latency sample (an output caused by a simulated event), ns
    /// after t0.
    pub last_sample_ns: Option<u64>,
    /// Latency by output kind.
    pub by_kind: BTreeMap<&'static str, KindLatency>,
    /// Bit `n`: event `n` was named by an output of a headline kind (any but
    /// [`WINDOW_KIND`]); with `named_any`, by any output.
    pub named: Vec<u64>,
    pub named_any: Vec<u64>,
}

/// The output reader's thread.
pub struct Reader {
    shared: Arc<Shared>,
    consumer: Option<JoinHandle<anyhow::Result<Observed>>>,
}

impl Reader {
    /// Assigns every partition of the output topics (and of the input topic if
    /// `input_too`) from the beginning and starts reading.
    pub fn start(
        cfg: &Config,
        shared: Arc<Shared>,
        fetch_wait_ms: u32,
        input_too: bool,
    ) -> anyhow::Result<Self> {
        let mut topics: Vec<String> = cfg
            .kafka
            .topics
            .outputs()
            .into_iter()
            .map(str::to_string)
            .collect();
        topics.sort();
        topics.dedup();
        let input = input_too.then(|| cfg.kafka.topics.input.clone());
        topics.extend(input.clone());
        // One consumer for every topic: it fetches all their partitions in one request per
        // round. (A consumer per topic, as before, made a dozen fetch loops, each polling
        // the broker every `fetch_wait_ms`: most of Tansu's CPU in a run at 1,000 events/s.)
        let mut c = ClientConfig::new();
        for (k, v) in cfg.kafka.client_settings(&BTreeMap::new()) {
            c.set(k, v);
        }
        c.set("bootstrap.servers", &cfg.kafka.brokers)
            .set("group.id", format!("{}.load-reader", cfg.kafka.group_id))
            .set("enable.auto.commit", "false")
            // The broker may hold a fetch this long: it bounds what the reader adds to the
            // measured latency.
            .set("fetch.wait.max.ms", fetch_wait_ms.to_string());
        let consumer: BaseConsumer = c.create().context("creating an output reader")?;
        let mut tpl = TopicPartitionList::new();
        for t in &topics {
            for p in partition_ids(&consumer, t)? {
                tpl.add_partition_offset(t, p, Offset::Beginning)?;
            }
        }
        consumer
            .assign(&tpl)
            .context("assigning output partitions")?;
        let s = shared.clone();
        let consumer = std::thread::Builder::new()
            .name("load-reader".into())
            .spawn(move || read_outputs(consumer, input, s))?;
        Ok(Self {
            shared,
            consumer: Some(consumer),
        })
    }

    /// Waits until pitboss has answered the sentinel deposit of `round` on each of the
    /// `partitions`; an error if pitboss exits or `timeout` passes first.
    pub fn wait_sentinels(
        &mut self,
        round: Round,
        partitions: i32,
        timeout: Duration,
        mut child: Option<&mut PitbossChild>,
        progress: &ProgressBar,
    ) -> anyhow::Result<()> {
        let counter = match round {
            Round::Warm => &self.shared.warm_seen,
            Round::Final => &self.shared.final_seen,
        };
        let deadline = Instant::now() + timeout;
        let mut last_poll = Instant::now();
        while counter.load(Ordering::Relaxed) < partitions as usize {
            if let Some(c) = child.as_deref_mut() {
                c.check_running()?;
            }
            if self.consumer.as_ref().is_some_and(JoinHandle::is_finished) {
                let why = match self.consumer.take().map(JoinHandle::join) {
                    Some(Ok(Err(e))) => format!("{e:#}"),
                    Some(Err(_)) => "it panicked".into(),
                    _ => "it ended".into(),
                };
                bail!(
                    "the output reader stopped while waiting for the {} sentinels: {why}",
                    round.name()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "pitboss answered {} of the {partitions} {} sentinel deposits within {timeout:?} \
                     (it has not consumed every input partition); outputs seen so far: {}",
                    counter.load(Ordering::Relaxed),
                    round.name(),
                    self.shared.outputs.load(Ordering::Relaxed)
                );
            }
            if last_poll.elapsed() > Duration::from_millis(100) {
                // Delivery reports (and errors) are served by the producer's own thread;
                // this only refreshes the progress message.
                progress.set_message(format!(
                    "waiting for pitboss: {} outputs read",
                    self.shared.outputs.load(Ordering::Relaxed)
                ));
                last_poll = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }

    /// Reads the output topics to their end (call it once pitboss has stopped or caught
    /// up) and returns what was seen.
    pub fn finish(&mut self, timeout: Duration) -> anyhow::Result<Observed> {
        self.shared.finish.store(true, Ordering::Relaxed);
        let h = self
            .consumer
            .take()
            .ok_or_else(|| anyhow!("the output reader was not started"))?;
        if poll_until(timeout, Duration::from_millis(10), || {
            h.is_finished().then_some(())
        })
        .is_none()
        {
            bail!("the output topics were not read to their end within {timeout:?}");
        }
        h.join()
            .map_err(|_| anyhow!("the output reader panicked"))?
    }
}

/// Whether `c` has read every partition assigned to it to the partition's end (its high
/// watermark, asked of the broker).
fn at_end(c: &BaseConsumer) -> anyhow::Result<bool> {
    let positions = c.position().context("the output reader's positions")?;
    for e in positions.elements() {
        let (low, high) = c
            .fetch_watermarks(e.topic(), e.partition(), Duration::from_secs(10))
            .with_context(|| format!("the end of {}/{}", e.topic(), e.partition()))?;
        let done = match e.offset() {
            Offset::Offset(o) => o >= high,
            // Nothing read from it yet: at its end only if it is empty.
            _ => high <= low,
        };
        if !done {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The partitions of `topic`, waiting up to 30 s for it to appear.
fn partition_ids(c: &BaseConsumer, topic: &str) -> anyhow::Result<Vec<i32>> {
    let found = poll_until(
        Duration::from_secs(30),
        Duration::from_millis(100),
        || match c.fetch_metadata(Some(topic), Duration::from_secs(10)) {
            Err(e) => Some(Err(e)),
            Ok(md) => md
                .topics()
                .iter()
                .find(|t| t.name() == topic && !t.partitions().is_empty())
                .map(|t| Ok(t.partitions().iter().map(|p| p.id()).collect())),
        },
    );
    match found {
        Some(ids) => ids.with_context(|| format!("metadata of {topic}")),
        None => bail!("topic {topic} does not exist (did `pitboss topics create` run?)"),
    }
}

/// The number of partitions of the input topic.
pub fn input_partitions(cfg: &Config) -> anyhow::Result<i32> {
    let mut c = ClientConfig::new();
    for (k, v) in cfg.kafka.client_settings(&BTreeMap::new()) {
        c.set(k, v);
    }
    let consumer: BaseConsumer = c
        .set("bootstrap.servers", &cfg.kafka.brokers)
        .create()
        .context("creating a metadata client")?;
    Ok(partition_ids(&consumer, &cfg.kafka.topics.input)?.len() as i32)
}

fn new_hist(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, sigfig).expect("valid histogram bounds")
}

/// What identifies an input record for the check that the broker kept every record it
/// acknowledged (the same hash on the sending side).
pub fn payload_hash(b: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    // SipHash with fixed keys: the same value in the sender and the reader.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
}

/// A consumer error the client recovers from by itself: the broker went away (a restart)
/// or moved a partition, and the client reconnects and fetches on from its position.
fn transient(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::BrokerTransportFailure
                | C::AllBrokersDown
                | C::NetworkException
                | C::RequestTimedOut
                | C::OperationTimedOut
                | C::LeaderNotAvailable
                | C::NotLeaderForPartition
        )
    )
}

/// The output reader: every partition of every output topic, from the beginning.
fn read_outputs(
    consumer: BaseConsumer,
    input: Option<String>,
    shared: Arc<Shared>,
) -> anyhow::Result<Observed> {
    let mut obs = Observed {
        hist: Some(new_hist(3)),
        input_read: input.as_ref().map(|_| HashSet::new()),
        ..Observed::default()
    };
    let n_ids = shared.due_ns.len();
    obs.named = vec![0u64; n_ids / 64 + 1];
    obs.named_any = vec![0u64; n_ids / 64 + 1];
    let mut sentinels: HashSet<String> = HashSet::new();
    let mut quiet_rounds = 0u32;
    let c = &consumer;
    loop {
        let mut got = false;
        for _ in 0..16_384 {
            let m = match c.poll(Duration::ZERO) {
                None => break,
                Some(Err(e)) if transient(&e) => {
                    // The client reconnects and fetches on from where it was.
                    if obs.transient_errors == 0 {
                        eprintln!("pitboss-load: reading the outputs: {e} (retrying)");
                    }
                    obs.transient_errors += 1;
                    break;
                }
                Some(Err(e)) => return Err(anyhow!("reading the outputs: {e}")),
                Some(Ok(m)) => m,
            };
            got = true;
            let topic = m.topic();
            let now = shared.now_ns();
            let t0 = shared.t0_ns.load(Ordering::Relaxed);
            let since_t0 = (t0 != u64::MAX && now >= t0).then(|| now - t0);
            if input.as_deref() == Some(topic) {
                if let (Some(read), Some(b)) = (obs.input_read.as_mut(), m.payload()) {
                    read.insert(payload_hash(b));
                }
                // The broker floor: an input record readable by a consumer.
                let due = m
                    .headers()
                    .and_then(|h| h.iter().find(|x| x.key == DUE_HEADER))
                    .and_then(|x| x.value)
                    .and_then(|v| <[u8; 8]>::try_from(v).ok())
                    .map(u64::from_be_bytes);
                if let (Some(s), Some(due)) = (since_t0, due) {
                    let us = (s.saturating_sub(due) / 1000).max(1);
                    obs.broker_hist
                        .get_or_insert_with(|| new_hist(3))
                        .saturating_record(us);
                    let sec = (s / 1_000_000_000) as usize;
                    if obs.broker_per_sec.len() <= sec {
                        obs.broker_per_sec.resize_with(sec + 1, || None);
                    }
                    obs.broker_per_sec[sec]
                        .get_or_insert_with(|| new_hist(3))
                        .saturating_record(us);
                }
                continue;
            }
            shared.outputs.fetch_add(1, Ordering::Relaxed);
            if let Some(s) = since_t0 {
                obs.first_output_ns.get_or_insert(s);
                obs.last_output_ns = Some(s);
            }
            let sec = since_t0.map(|s| (s / 1_000_000_000) as usize);
            if let Some(sec) = sec {
                if obs.per_sec.len() <= sec {
                    obs.per_sec.resize_with(sec + 1, || (0, 0, None));
                }
                obs.per_sec[sec].0 += 1;
            }
            // The simulator event the output names, and how many it carries.
            let (cause, count) = match m.headers() {
                Some(h) => {
                    let value = |key: &str| {
                        h.iter()
                            .find(|x| x.key == key)
                            .and_then(|x| x.value)
                            .and_then(|v| std::str::from_utf8(v).ok())
                    };
                    let cause = value(CAUSE_HEADER)
                        .and_then(|v| uuid::Uuid::parse_str(v).ok())
                        .map(|id| id.as_u128())
                        .filter(|v| (v >> 64) as u64 == shared.seed)
                        .map(|v| v as u64 as usize)
                        .filter(|n| *n < n_ids);
                    (
                        cause,
                        value(COUNT_HEADER).and_then(|v| v.parse::<u64>().ok()),
                    )
                }
                None => (None, None),
            };
            let payload = m.payload().unwrap_or_default();
            let ev = match wire::decode_output(payload) {
                Ok(ev) => ev,
                Err(e) => {
                    obs.undecodable.0 += 1;
                    obs.undecodable.1.get_or_insert_with(|| {
                        format!("{topic}/{}@{}: {e}", m.partition(), m.offset())
                    });
                    continue;
                }
            };
            let kind = ev.kind();
            *obs.records.entry(kind).or_insert(0) += 1;
            // Latency: from the named event's due time.
            if let (Some(s), Some(n)) = (since_t0, cause) {
                let due = shared.due_ns[n].load(Ordering::Relaxed);
                let us = (s.saturating_sub(due) / 1000).max(1);
                let k = obs.by_kind.entry(kind).or_insert_with(|| KindLatency {
                    hist: new_hist(3),
                    samples: 0,
                    carried: 0,
                    seen: vec![0; n_ids / 64 + 1],
                });
                let new_for_kind = !bit(&k.seen, n);
                if new_for_kind {
                    set_bit(&mut k.seen, n);
                    k.samples += 1;
                    k.hist.saturating_record(us);
                }
                // An aggregate's every publication carries events no earlier one did.
                k.carried += match count {
                    Some(c) => c,
                    None => u64::from(new_for_kind),
                };
                set_bit(&mut obs.named_any, n);
                if kind != WINDOW_KIND && !bit(&obs.named, n) {
                    set_bit(&mut obs.named, n);
                    obs.last_sample_ns = Some(s);
                    if let Some(hist) = obs.hist.as_mut() {
                        hist.saturating_record(us);
                    }
                    if let Some(sec) = sec {
                        let slot = &mut obs.per_sec[sec];
                        slot.1 += 1;
                        slot.2
                            .get_or_insert_with(|| new_hist(2))
                            .saturating_record(us);
                    }
                }
            }
            let hash = {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                payload.hash(&mut h);
                h.finish()
            };
            let (first, conflict) = match obs
                .ids
                .entry(kind)
                .or_default()
                .entry(ev.output_id().to_string())
            {
                Entry::Vacant(v) => {
                    v.insert(hash);
                    (true, false)
                }
                Entry::Occupied(o) => (false, *o.get() != hash),
            };
            if conflict {
                obs.id_conflicts.0 += 1;
                obs.id_conflicts.1.get_or_insert_with(|| {
                    format!(
                        "{kind} {} ({topic}/{}@{})",
                        ev.output_id(),
                        m.partition(),
                        m.offset()
                    )
                });
            }
            match ev {
                OutputEvent::Ggr(g) => {
                    let p = g.payload;
                    let e = obs
                        .ggr
                        .entry((p.hall.to_string(), p.window_start))
                        .or_default();
                    if p.revision >= e.3 {
                        *e = (p.bets, p.wins, p.games, p.revision);
                    }
                }
                OutputEvent::Wallet(w) => {
                    let p = w.payload;
                    if let Some(round) = round_of(&p.player) {
                        if sentinels.insert(p.player.to_string()) {
                            let c = match round {
                                Round::Warm => &shared.warm_seen,
                                Round::Final => &shared.final_seen,
                            };
                            c.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    // A repeat republishes an earlier answer (RULES.md W-2) under its id:
                    // its balance is not the latest. A refusal carries no balance.
                    if let (true, Some(b)) = (first, p.balance) {
                        obs.balances.insert(p.player.to_string(), b);
                    }
                }
                // A settled cashless transfer carries the wallet's balance after it too
                // (on the same partition as the player's wallet outputs).
                OutputEvent::Transfer(t) if first && !t.payload.repeated => {
                    obs.balances
                        .insert(t.payload.player.to_string(), t.payload.balance);
                }
                OutputEvent::JackpotHit(h) => {
                    let p = h.payload;
                    obs.hits.insert(
                        h.output_id.to_string(),
                        (p.pool.to_string(), p.level, p.amount),
                    );
                }
                OutputEvent::JackpotLevels(l) => {
                    let p = l.payload;
                    obs.levels.insert(
                        p.pool.to_string(),
                        p.levels
                            .iter()
                            .map(|x| (x.level, x.amount, x.hits))
                            .collect(),
                    );
                }
                _ => {}
            }
        }
        if got {
            quiet_rounds = 0;
            continue;
        }
        if shared.finish.load(Ordering::Relaxed) {
            // Quiet for 200 ms: done if every partition was read to its end.
            quiet_rounds += 1;
            if quiet_rounds >= 20 {
                if at_end(c)? {
                    return Ok(obs);
                }
                quiet_rounds = 0;
            }
            std::thread::sleep(Duration::from_millis(10));
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}
