//! `pitboss-load kafka`: throughput of `pitboss run` against the limits set by the broker.
//!
//! Fills a fresh input topic with simulated events, then measures, in one run and over the
//! same topic:
//!
//! - a bare rdkafka consumer (pitboss's own consumer settings, its own group) draining it,
//!   touching every payload: the consumer's ceiling;
//! - pitboss processing it with every output and internal effect produced, its embedded
//!   store checkpointing every `commit_interval_ms`: the clock runs from the first message
//!   consumed until its group has committed every topic it consumes (the input and the
//!   internal topics) to their ends, so every event and every effect it caused is applied
//!   and durable. The time until every input event was complete (its outputs and effects
//!   acknowledged by the broker, not yet applied by their targets) is reported beside it.
//!   The end state is recounted and must balance and hold exactly the money the simulator
//!   sent; every output record read back must decode;
//! - the **Kafka I/O floor** ([`floor::io_floor`]): a bare client that consumes the same
//!   input and produces the same records pitboss produced (read back: same topics'
//!   partition counts, keys and bytes), consuming the internal ones again.
//!
//! `ratio` = pitboss events/s / bare consumer events/s; `ratio_to_io_floor` = pitboss
//! events/s / I/O floor events/s.

mod floor;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pitboss::config::Config;
use pitboss::kafka::admin::TopicSpec;
use pitboss::kafka::source::consumer_config;
use pitboss::kafka::RunStats;
use pitboss::run::{run_with, shutdown_channel, RunOptions};
use pitboss::sim::Simulator;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use serde::Serialize;

use crate::harness;

/// How often pitboss checkpoints and commits in this measurement unless told otherwise:
/// the clock stops at the commit that covers the last event, so with `pitboss run`'s
/// default (5 s) a run of a few seconds would measure the timer.
pub const COMMIT_INTERVAL_MS: u64 = 1000;

/// Options of the Kafka measurement.
pub struct KafkaOptions {
    /// Bootstrap servers.
    pub brokers: String,
    /// Events to produce and process.
    pub events: usize,
    /// Machines (halls of 100).
    pub machines: u32,
    /// Online players.
    pub players: u32,
    /// Partitions of the input topic (and of the internal ones).
    pub partitions: i32,
    /// Route effects through the internal topics (the multi-instance mode).
    pub internal_topics: bool,
    /// pitboss's checkpoint and commit interval (`kafka.commit-interval-ms`).
    pub commit_interval_ms: u64,
}

/// The report (one JSON line).
#[derive(Debug, Serialize)]
pub struct KafkaReport {
    events: usize,
    machines: u32,
    players: u32,
    partitions: i32,
    internal_topics: bool,
    arbiters: usize,
    commit_interval_ms: u64,
    /// pitboss: events per second from the first message consumed until every consumed
    /// topic (input and internal) was committed to its end.
    events_per_sec: f64,
    /// pitboss: events per second until every input event was complete (its outputs and
    /// effects acknowledged by the broker; the effects not yet applied by their targets).
    processed_events_per_sec: f64,
    /// The bare consumer: messages per second.
    raw_consumer_events_per_sec: f64,
    /// events_per_sec / raw_consumer_events_per_sec.
    ratio: f64,
    /// The Kafka I/O floor: input events per second of a bare client doing pitboss's Kafka
    /// work (the same input consumed, the same records produced, the internal ones
    /// consumed again, offsets committed).
    io_floor_events_per_sec: f64,
    /// events_per_sec / io_floor_events_per_sec.
    ratio_to_io_floor: f64,
    pitboss_secs: f64,
    pitboss_processed_secs: f64,
    raw_consumer_secs: f64,
    io_floor_secs: f64,
    /// CPU seconds of this process (pitboss and its Kafka clients; the offset reader's polls
    /// too) from pitboss's start until its group committed everything.
    pitboss_cpu_secs: f64,
    /// pitboss_cpu_secs × 10⁶ / events.
    cpu_us_per_event: f64,
    fill_events_per_sec: f64,
    internal_effects: u64,
    /// Records the broker acknowledged to pitboss (outputs and internal messages).
    records_produced: u64,
    records_backlogged: u64,
    /// What pitboss produced, read back after the run (the I/O floor produces the same).
    output_records: u64,
    output_bytes: u64,
    internal_records: u64,
    internal_bytes: u64,
}

/// Points `cfg` at `brokers` with topics of their own (`prefix`) of `partitions`
/// partitions, a short session timeout, and the store `pitboss run` uses by default
/// (embedded) in a fresh directory, which it returns (the caller removes it at the end),
/// so a figure includes checkpoints to disk.
pub fn measured_run(
    cfg: &mut Config,
    brokers: &str,
    prefix: &str,
    partitions: i32,
) -> std::path::PathBuf {
    let k = &mut cfg.kafka;
    k.brokers = brokers.to_owned();
    testkit::names::prefix_topics(k, prefix);
    k.partitions.input = partitions;
    k.partitions.internal = partitions;
    // A new group forms in about half the session timeout on Tansu: keep it short.
    k.consumer
        .entry("session.timeout.ms".into())
        .or_insert_with(|| toml::Value::String("6000".into()));
    let state_dir = std::env::temp_dir().join(format!("{prefix}-state"));
    cfg.store.kind = pitboss::store::StoreKind::Embedded;
    cfg.store.data_dir = state_dir.clone();
    state_dir
}

/// Runs the measurement.
pub fn run(opts: KafkaOptions) -> anyhow::Result<KafkaReport> {
    let mut cfg = Config::load(None).context("loading configuration")?;
    cfg.sim.machines_per_hall = 100;
    cfg.sim.halls = opts.machines.div_ceil(100).max(1);
    cfg.sim.players = opts.players;
    cfg.sim.malformed_per_million = 0;
    let prefix = testkit::unique("load");
    let state_dir = measured_run(&mut cfg, &opts.brokers, &prefix, opts.partitions);
    cfg.kafka.internal_topics = opts.internal_topics;
    cfg.kafka.commit_interval_ms = opts.commit_interval_ms;
    let arbiters = cfg.runtime_config()?.arbiters;

    // The events, generated before anything is timed.
    let mut sim = Simulator::new(&cfg)?;
    let t0 = 1_800_000_000_000i64;
    // Each message with its event time: the record carries it, as a gateway whose clock
    // agrees with its machines would stamp it (pitboss checks event times against record
    // times, RULES.md E-3).
    let msgs: Vec<_> = (0..opts.events)
        .map(|i| {
            let t = t0 + (i as i64) / 50;
            (sim.next(t), t)
        })
        .collect();
    let sent = sim.sent().clone();

    let system = actix_rt::System::new();
    system
        .block_on(pitboss::run::create_topics(&cfg))
        .context("creating topics")?;

    // Fill.
    let producer: ThreadedProducer<rdkafka::producer::DefaultProducerContext> =
        pitboss::kafka::producer::producer_config(&cfg.kafka)
            .create()
            .context("creating the fill producer")?;
    let t = Instant::now();
    for (m, t) in &msgs {
        let mut rec = BaseRecord::to(&cfg.kafka.topics.input)
            .key(m.key.as_str())
            .payload(&m.bytes[..])
            .timestamp(*t);
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((_, r)) => {
                    rec = r;
                    producer.poll(Duration::from_millis(5));
                }
            }
        }
    }
    producer
        .flush(Duration::from_secs(300))
        .context("filling the input topic")?;
    let fill_secs = t.elapsed().as_secs_f64();
    drop(producer);
    drop(msgs);

    // The bare consumer: pitboss's consumer settings, its own group.
    let raw_secs = {
        let mut c = consumer_config(&cfg.kafka);
        c.set("group.id", format!("{prefix}.bare"));
        let consumer: BaseConsumer = c.create().context("creating the bare consumer")?;
        consumer.subscribe(&[&cfg.kafka.topics.input])?;
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut n = 0usize;
        let mut bytes = 0usize;
        let mut first = None;
        while n < opts.events {
            if Instant::now() > deadline {
                bail!("the bare consumer got only {n} of {} messages", opts.events);
            }
            if let Some(m) = consumer.poll(Duration::from_millis(100)) {
                let m = m?;
                first.get_or_insert_with(Instant::now);
                bytes += m.payload().map_or(0, <[u8]>::len) + m.key().map_or(0, <[u8]>::len);
                n += 1;
            }
        }
        std::hint::black_box(bytes);
        first.map_or(0.0, |f| f.elapsed().as_secs_f64())
    };

    // pitboss, with outputs and effects produced, until its group has committed every
    // topic it consumes to the end.
    let t = &cfg.kafka.topics;
    let stats = Arc::new(RunStats::default());
    let (button, shutdown) = shutdown_channel();
    let n = opts.events as u64;
    let s = stats.clone();
    let kafka_cfg = cfg.kafka.clone();
    let run_cfg = cfg.clone();
    let cpu0 = harness::cpu_secs(libc::RUSAGE_SELF);
    let (report, timing) = system.block_on(async move {
        let waiter = async {
            let deadline = Instant::now() + Duration::from_secs(1200);
            while s.inputs() < n && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let processed = Instant::now();
            let st = s.clone();
            let committed = tokio::task::spawn_blocking(move || {
                floor::wait_committed(&kafka_cfg, &st, n, Duration::from_secs(600))
            })
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r);
            let cpu = harness::cpu_secs(libc::RUSAGE_SELF) - cpu0;
            let timing = s.first_message.get().copied().map(|first| {
                committed.map(|c| {
                    (
                        c.duration_since(first).as_secs_f64(),
                        processed.duration_since(first).as_secs_f64(),
                        cpu,
                    )
                })
            });
            let _ = button.send(true);
            timing
        };
        let opts = RunOptions {
            store: None,
            stats: s.clone(),
            recount: true,
            ..Default::default()
        };
        tokio::join!(run_with(run_cfg, opts, shutdown), waiter)
    });
    let _ = std::fs::remove_dir_all(&state_dir);
    let report = report?;
    let (pitboss_secs, processed_secs, cpu_secs) =
        timing
            .context("pitboss consumed no message")?
            .context("waiting for pitboss's group to commit its topics")?;
    if report.input_messages < n {
        bail!(
            "pitboss completed only {} of {n} events",
            report.input_messages
        );
    }
    // What the clock timed must be a success: the end state balances and holds exactly
    // the money the simulator sent (its own sums, not the core's code).
    let r = report
        .recount
        .as_ref()
        .context("the run did not recount its end state")?;
    anyhow::ensure!(
        r.conservation_ok,
        "pitboss's end state does not balance: {r:#?}"
    );
    anyhow::ensure!(
        sent.matches(r),
        "pitboss's end state differs from what the simulator sent: sent {sent:?}, \
         recounted {r:#?}"
    );

    // What pitboss produced, read back: every output must decode, and every record the
    // broker acknowledged must be there.
    let mut produced_topics: Vec<(String, bool)> = Vec::new();
    for o in t.outputs() {
        if !produced_topics.iter().any(|(n, _)| n == o) {
            produced_topics.push((o.to_string(), false));
        }
    }
    if opts.internal_topics {
        produced_topics.extend(t.internal().iter().map(|s| (s.to_string(), true)));
    }
    let produced = floor::read_back(
        &cfg.kafka,
        &format!("{prefix}.readback"),
        &produced_topics,
        report.records_delivered,
        Duration::from_secs(300),
    )?;
    let (mut output_records, mut output_bytes, mut internal_records, mut internal_bytes) =
        (0u64, 0u64, 0u64, 0u64);
    for tr in &produced {
        if tr.internal {
            internal_records += tr.records.len() as u64;
            internal_bytes += tr.bytes();
        } else {
            output_records += tr.records.len() as u64;
            output_bytes += tr.bytes();
            for (_, payload) in &tr.records {
                pitboss::wire::decode_output(payload).map_err(|e| {
                    anyhow::anyhow!("an output on {} does not decode: {e}", tr.topic)
                })?;
            }
        }
    }
    for (topic, n) in &report.outputs {
        let got = produced
            .iter()
            .find(|tr| &tr.topic == topic)
            .map_or(0, |tr| tr.records.len() as u64);
        anyhow::ensure!(
            got == *n,
            "read back {got} records on {topic}, where pitboss emitted {n}"
        );
    }

    // The Kafka I/O floor: the same Kafka work without pitboss.
    let specs: Vec<TopicSpec> = produced
        .iter()
        .map(|tr| TopicSpec {
            name: floor::floor_topic(&tr.topic),
            partitions: tr.partitions,
        })
        .collect();
    system
        .block_on(pitboss::kafka::admin::create_topics(&cfg.kafka, &specs))
        .context("creating the I/O floor's topics")?;
    let io_floor_secs = floor::io_floor(
        &cfg.kafka,
        &format!("{prefix}.floor"),
        &t.input,
        opts.events,
        &produced,
        Duration::from_secs(600),
    )?;

    let eps = |secs: f64| opts.events as f64 / secs;
    Ok(KafkaReport {
        events: opts.events,
        machines: opts.machines,
        players: opts.players,
        partitions: opts.partitions,
        internal_topics: opts.internal_topics,
        arbiters,
        commit_interval_ms: opts.commit_interval_ms,
        events_per_sec: eps(pitboss_secs),
        processed_events_per_sec: eps(processed_secs),
        raw_consumer_events_per_sec: eps(raw_secs),
        ratio: raw_secs / pitboss_secs,
        io_floor_events_per_sec: eps(io_floor_secs),
        ratio_to_io_floor: io_floor_secs / pitboss_secs,
        pitboss_secs,
        pitboss_processed_secs: processed_secs,
        raw_consumer_secs: raw_secs,
        io_floor_secs,
        pitboss_cpu_secs: cpu_secs,
        cpu_us_per_event: cpu_secs * 1e6 / opts.events.max(1) as f64,
        fill_events_per_sec: eps(fill_secs),
        internal_effects: report.internal_effects,
        records_produced: report.records_delivered,
        records_backlogged: report.records_backlogged,
        output_records,
        output_bytes,
        internal_records,
        internal_bytes,
    })
}
