//! `pitboss-load kafka`: throughput of `pitboss run` against the limit set by the broker.
//!
//! Fills a fresh input topic with simulated events, then measures, in one run and over the
//! same topic:
//!
//! - a bare rdkafka consumer (pitboss's own consumer settings, its own group) draining it,
//!   touching every payload: the ceiling;
//! - pitboss processing it with every output and internal effect produced: the time from
//!   the first message consumed until every input event is complete (its outputs and
//!   effects acknowledged by the broker).
//!
//! `ratio` = pitboss events/s / bare consumer events/s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pitboss::config::Config;
use pitboss::kafka::source::consumer_config;
use pitboss::kafka::RunStats;
use pitboss::run::{run_with, shutdown_channel, RunOptions};
use pitboss::sim::Simulator;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use serde::Serialize;

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
    /// pitboss: input events completed per second.
    events_per_sec: f64,
    /// The bare consumer: messages per second.
    raw_consumer_events_per_sec: f64,
    /// events_per_sec / raw_consumer_events_per_sec.
    ratio: f64,
    pitboss_secs: f64,
    raw_consumer_secs: f64,
    fill_events_per_sec: f64,
    internal_effects: u64,
    records_produced: u64,
    records_backlogged: u64,
}

/// Runs the measurement.
pub fn run(opts: KafkaOptions) -> anyhow::Result<KafkaReport> {
    let mut cfg = Config::load(None).context("loading configuration")?;
    cfg.sim.machines_per_hall = 100;
    cfg.sim.halls = opts.machines.div_ceil(100).max(1);
    cfg.sim.players = opts.players;
    cfg.sim.malformed_per_million = 0;
    let prefix = testkit::unique("load");
    {
        let k = &mut cfg.kafka;
        k.brokers = opts.brokers.clone();
        testkit::names::prefix_topics(k, &prefix);
        k.internal_topics = opts.internal_topics;
        k.partitions.input = opts.partitions;
        k.partitions.internal = opts.partitions;
        // A new group forms in about half the session timeout on Tansu: keep it short.
        k.consumer
            .entry("session.timeout.ms".into())
            .or_insert_with(|| toml::Value::String("6000".into()));
    }
    // The store `pitboss run` uses by default: embedded, in a fresh directory (removed at
    // the end), so the figure includes checkpoints to disk.
    let state_dir = std::env::temp_dir().join(format!("{prefix}-state"));
    cfg.store.kind = pitboss::store::StoreKind::Embedded;
    cfg.store.data_dir = state_dir.clone();
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

    // pitboss, with outputs and effects produced.
    let stats = Arc::new(RunStats::default());
    let (button, shutdown) = shutdown_channel();
    let n = opts.events as u64;
    let s = stats.clone();
    let (report, pitboss_secs) = system.block_on(async move {
        let waiter = async {
            let deadline = Instant::now() + Duration::from_secs(1200);
            while s.inputs() < n && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let secs = s
                .first_message
                .get()
                .map_or(0.0, |f| f.elapsed().as_secs_f64());
            let _ = button.send(true);
            secs
        };
        let opts = RunOptions {
            store: None,
            stats: s.clone(),
            ..Default::default()
        };
        tokio::join!(run_with(cfg, opts, shutdown), waiter)
    });
    let _ = std::fs::remove_dir_all(&state_dir);
    let report = report?;
    if report.input_messages < n {
        bail!(
            "pitboss completed only {} of {n} events",
            report.input_messages
        );
    }
    let eps = |secs: f64| opts.events as f64 / secs;
    Ok(KafkaReport {
        events: opts.events,
        machines: opts.machines,
        players: opts.players,
        partitions: opts.partitions,
        internal_topics: opts.internal_topics,
        arbiters,
        events_per_sec: eps(pitboss_secs),
        raw_consumer_events_per_sec: eps(raw_secs),
        ratio: raw_secs / pitboss_secs,
        pitboss_secs,
        raw_consumer_secs: raw_secs,
        fill_events_per_sec: eps(fill_secs),
        internal_effects: report.internal_effects,
        records_produced: report.records_delivered,
        records_backlogged: report.records_backlogged,
    })
}
