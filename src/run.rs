//! `pitboss run`: the Kafka processor. Wires the consumer-group source, the actor runtime,
//! the Kafka sink and (with internal topics) the effect router, and runs until shutdown.
//!
//! [`run`] takes its shutdown signal from outside (a [`Shutdown`]), like mini-redis'
//! `server::run`: the binary connects it to SIGINT/SIGTERM, tests to a button.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use dashmap::DashMap;
use pitboss_actors::shell::{EventSink, StateStore};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::app::{self, PeriodicJobs, Shutdown};
use crate::config::Config;
use crate::http::JackpotFeed;
use crate::kafka::admin::{self, Created};
use crate::kafka::processor::{Processor, ProcessorSettings};
use crate::kafka::producer::Produce;
use crate::kafka::router::{KafkaRouter, RouterTopics};
use crate::kafka::sink::KafkaSink;
use crate::kafka::source::{Source, TopicMap};
use crate::kafka::{Fatal, RunStats};
use crate::readiness::Readiness;
use crate::recount::{recount, Recount};
use crate::report::publish::{DayPublisher, DayTee};
use crate::store::backup::{run_schedule, Backups, Schedule};

pub use crate::app::shutdown_channel;

/// Options for [`run_with`] (tests and tools).
#[derive(Default, Clone)]
pub struct RunOptions {
    /// Use this store instead of the configured one (`[store]`).
    pub store: Option<Arc<dyn StateStore>>,
    /// Counters to update while running (the caller can watch them).
    pub stats: Arc<RunStats>,
    /// Serve the HTTP side (metrics, health, feed, APIs) on `http.addr`; a failure to bind
    /// fails the run. `pitboss run` does; tests that do not look at it leave it off.
    pub http: bool,
    /// Readiness flags (`/readyz`), shared with the caller.
    pub readiness: Arc<Readiness>,
    /// At the end, read every entity's state (live actors and the whole store) and recount
    /// the money into [`RunReport::recount`]. Off by default: the read grows with the store
    /// and only tests look at the result.
    pub recount: bool,
}

/// What a run did.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// Wall time, seconds.
    pub duration_secs: f64,
    /// Input messages completed (accepted, refused or rejected).
    pub input_messages: u64,
    /// Input messages rejected.
    pub rejected: u64,
    /// Internal messages completed.
    pub internal_messages: u64,
    /// Effects they carried.
    pub internal_effects: u64,
    /// Outputs emitted, by topic.
    pub outputs: BTreeMap<String, u64>,
    /// Offset commits made.
    pub commits: u64,
    /// Partition assignments received.
    pub assignments: u64,
    /// Revocations handled.
    pub revocations: u64,
    /// Records the broker acknowledged (outputs and internal messages).
    pub records_delivered: u64,
    /// Records that waited for room in the producer's queue.
    pub records_backlogged: u64,
    /// Whether the store reported the state durable.
    pub durable_store: bool,
    /// The recount of every entity's state at the end (live actors and the store), if
    /// [`RunOptions::recount`] asked for it.
    pub recount: Option<Recount>,
}

/// Creates every topic of the configuration (internal ones included); existing topics
/// are left as they are. Returns each topic and whether it was created.
pub async fn create_topics(cfg: &Config) -> anyhow::Result<Vec<(String, i32, bool)>> {
    cfg.kafka.validate().map_err(|e| anyhow!(e))?;
    let specs = admin::topic_specs(&cfg.kafka, true);
    let done = admin::create_topics(&cfg.kafka, &specs)
        .await
        .with_context(|| format!("creating topics on {}", cfg.kafka.brokers))?;
    Ok(specs
        .iter()
        .map(|s| {
            let created = done
                .iter()
                .any(|(n, c)| *n == s.name && *c == Created::Created);
            (s.name.clone(), s.partitions, created)
        })
        .collect())
}

/// Runs the processor with the configured store, serving HTTP on `http.addr`, until
/// `shutdown` turns true (what `pitboss run` does). Call it inside an actix `System`.
/// Refuses to start with a hit-point secret fit only for the demo ([`Config::check_secret`]).
pub async fn run(cfg: Config, shutdown: Shutdown) -> anyhow::Result<RunReport> {
    cfg.check_secret()?;
    let opts = RunOptions {
        http: true,
        ..RunOptions::default()
    };
    run_with(cfg, opts, shutdown).await
}

/// [`run`] with options.
pub async fn run_with(
    cfg: Config,
    opts: RunOptions,
    shutdown: Shutdown,
) -> anyhow::Result<RunReport> {
    let k = cfg.kafka.clone();
    k.validate().map_err(|e| anyhow!(e))?;
    let rc = cfg.runtime_config()?;
    let internal = k.internal_topics;
    let started = Instant::now();

    if k.create_topics {
        let specs = admin::topic_specs(&k, internal);
        admin::create_topics(&k, &specs)
            .await
            .with_context(|| format!("creating topics on {}", k.brokers))?;
    }
    let t = k.topics.clone();
    let consumed = t.consumed(internal);
    let counts = {
        let k = k.clone();
        let names: Vec<String> = consumed.iter().map(|(_, n)| n.clone()).collect();
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            admin::partition_counts(&k, &refs, Duration::from_secs(30))
        })
        .await?
        .map_err(|e| anyhow!(e))?
    };
    let count = |name: &str| counts.get(name).copied().unwrap_or(0);
    // An award goes to the partition number its machine's events come from.
    if internal && count(&t.machine_awards) != count(&t.input) {
        bail!(
            "topic {} has {} partitions but the input topic {} has {}: they must be equal (an \
             award goes to the partition number its machine's events come from)",
            t.machine_awards,
            count(&t.machine_awards),
            t.input,
            count(&t.input)
        );
    }

    let fatal = Fatal::default();
    let produce = Produce::new(&k, fatal.clone()).context("creating the Kafka producer")?;
    let sink = Arc::new(KafkaSink::new(produce.clone(), &t));
    // The embedded store is this machine's disk: its instance must be alone in its group
    // (a store passed in by a caller is the caller's business).
    let local_store = opts.store.is_none() && cfg.store.kind == crate::store::StoreKind::Embedded;
    let (store, embedded, reports): (Arc<dyn StateStore>, _, _) = match opts.store {
        Some(s) => (s, None, None),
        None => {
            let opened = app::open_store(&cfg, false)
                .await
                .with_context(|| format!("opening the {:?} store", cfg.store.kind))?;
            let reports = app::reports(&cfg, &opened)?;
            (opened.store, opened.embedded, reports)
        }
    };
    // Backups of the embedded store are taken here: redb locks the file to this process.
    let backups = embedded.map(|r| Arc::new(Backups::new(r)));
    let backup_schedule = match (&backups, Schedule::from_config(&cfg.store)) {
        (Some(b), Some(schedule)) => {
            let stop = Arc::new(AtomicBool::new(false));
            tracing::info!(dir = %schedule.dir.display(), every = ?schedule.interval, keep = schedule.keep, "scheduled backups");
            actix_rt::spawn(run_schedule(b.clone(), schedule, stop.clone()));
            Some(stop)
        }
        _ => None,
    };
    let readiness = opts.readiness.clone();
    readiness.set_store_reachable(true);
    let feed = opts.http.then(|| JackpotFeed::new(&cfg.http));
    // Each hall's gaming day on the reports topic at its close (RULES.md H-5), from a store
    // that keeps GGR windows.
    let publisher = reports.clone().map(|r| {
        let sink = sink.clone();
        Arc::new(DayPublisher::new(
            r,
            cfg.runtime.ggr_grace_windows,
            Box::new(move |rec| sink.produce_record(&rec)),
        ))
    });
    let outputs: Arc<dyn EventSink> = match &publisher {
        Some(p) => Arc::new(DayTee::new(sink.clone(), p.clone())),
        None => sink.clone(),
    };
    let rt = app::start_runtime(&cfg, rc, outputs, store, feed.as_ref());
    let publishing = publisher.as_ref().map(|p| {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let every = Duration::from_millis(cfg.gaming_day.publish_interval_ms.max(1));
        let p = p.clone();
        actix_rt::spawn(app::every_until_stopped(every, stopped, move || {
            let p = p.clone();
            async move {
                p.tick().await;
            }
        }));
        stop
    });
    let (router, machine_partitions) = if internal {
        let map = Arc::new(DashMap::new());
        let r = KafkaRouter::start(
            produce.clone(),
            opts.stats.clone(),
            RouterTopics {
                pool_commands: (t.pool_commands.clone(), count(&t.pool_commands)),
                ggr_deltas: (t.ggr_deltas.clone(), count(&t.ggr_deltas)),
                machine_awards: (t.machine_awards.clone(), count(&t.machine_awards)),
                voucher_facts: (t.voucher_facts.clone(), count(&t.voucher_facts)),
                wallet_transfers: (t.wallet_transfers.clone(), count(&t.wallet_transfers)),
                desk_ops: (t.desk_ops.clone(), count(&t.desk_ops)),
            },
            map.clone(),
            k.outbox_items_max,
            Duration::from_millis(k.outbox_flush_interval_ms),
        );
        rt.set_router(r.clone()).map_err(|e| anyhow!(e))?;
        (Some(r), Some(map))
    } else {
        (None, None)
    };
    let jobs = PeriodicJobs::start(&rt, &cfg.runtime);
    // Commands sent to the input topic and answered (the gateway, the admin API's voucher
    // void); its reply listener starts with the gateway, or at the first void.
    let commands = Arc::new(
        crate::gateway::Commands::new(&k, cfg.gateway.waiting_max)
            .context("creating the command channel")?,
    );
    // The AML case book from the compliance topic, read from its beginning (RULES.md W-11):
    // every case of the network and every closing, again after a restart. Without it (the
    // topic unreadable at start) the book still takes this instance's own cases.
    let case_listener = match &feed {
        Some(feed) => {
            let (k, book) = (k.clone(), feed.clone());
            let topics = vec![t.compliance.clone()];
            let started = tokio::task::spawn_blocking(move || {
                crate::gateway::ReplyListener::start_with(
                    &k,
                    &topics,
                    true,
                    "aml-cases",
                    move |b| book.cases.offer(b),
                )
            })
            .await?;
            match started {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "the AML case book cannot read the compliance topic; it lists this instance's cases only");
                    None
                }
            }
        }
        None => None,
    };
    let http = if let Some(feed) = feed {
        let h = app::serve_http_with(
            &rt,
            feed,
            &readiness,
            &cfg.http,
            backups.clone(),
            Some(commands.clone()),
            reports,
        )
        .await
        .with_context(|| format!("serving HTTP on {} (http.addr)", cfg.http.addr))?;
        tracing::info!(addr = %h.addr, "serving metrics, health, the jackpot feed and the APIs");
        eprintln!(
            "pitboss run: http://{0}/metrics  http://{0}/readyz  jackpot display http://{0}/",
            h.addr
        );
        Some(h)
    } else {
        None
    };

    let gateway = if cfg.gateway.addr.is_empty() {
        None
    } else {
        let g = crate::gateway::serve(
            &cfg.gateway,
            &k,
            &cfg.network.currency,
            Some(rt.clone()),
            Some(commands.clone()),
        )
        .await
        .context("starting the gateway (gateway.addr)")?;
        eprintln!("pitboss run: gateway http://{}/gateway/v1/", g.addr);
        Some(g)
    };

    let stats = opts.stats.clone();
    let (work_tx, work_rx) = mpsc::channel(4);
    let (commit_tx, commit_rx) = std::sync::mpsc::channel();
    let topic_map = TopicMap::new(consumed);
    let mut source = Source::start(&k, topic_map.clone(), work_tx, commit_rx, stats.clone())
        .context("creating the Kafka consumer")?;
    tracing::info!(brokers = %k.brokers, group = %k.group_id, internal, "pitboss run: consuming");

    let mut processor = Processor::new(
        rt.clone(),
        ProcessorSettings {
            inflight_max: cfg.runtime.inflight_events_max,
            commit_interval: Duration::from_millis(k.commit_interval_ms),
            drain_timeout: Duration::from_millis(k.drain_timeout_ms),
            producer_flush_timeout: Duration::from_millis(k.producer_flush_timeout_ms),
            store_backlog_max: cfg.store.backlog_max,
            sole_member_of: local_store.then(|| count(&t.input) as usize),
        },
        stats.clone(),
        fatal.clone(),
        commit_tx,
        produce.clone(),
        router.clone(),
        machine_partitions,
        topic_map,
        readiness.clone(),
    );
    let stopper = source.stopper();
    let outcome = processor.run(work_rx, shutdown, stopper).await;
    readiness.set_shutting_down();
    if let Some(g) = gateway {
        g.stop().await;
    }
    if let Some(h) = http {
        h.stop().await;
    }
    commands.clone().stop().await;
    if let Some(l) = case_listener {
        let _ = tokio::task::spawn_blocking(move || l.stop()).await;
    }
    source.stop();
    let source = tokio::task::spawn_blocking(move || {
        source.join();
        source
    })
    .await?;
    drop(source);
    jobs.stop();
    if let Some(stop) = &backup_schedule {
        stop.store(true, Ordering::Relaxed);
    }
    if let (Some(p), Some(stop)) = (&publisher, &publishing) {
        // The days the last windows closed, before the producer's last flush.
        stop.send_replace(true);
        p.tick().await;
    }
    if let Some(r) = &router {
        r.stop();
    }
    let flushed = {
        let p = produce.clone();
        let timeout = Duration::from_millis(k.producer_flush_timeout_ms);
        tokio::task::spawn_blocking(move || p.flush(timeout)).await?
    };
    produce.stop();
    if let Err(e) = outcome {
        rt.stop();
        bail!("pitboss run stopped on an internal failure: {e}");
    }
    if let Err(e) = flushed {
        rt.stop();
        bail!("outputs not acknowledged at shutdown: {e}");
    }
    if let Some(e) = fatal.reason() {
        rt.stop();
        bail!("pitboss run stopped on an internal failure: {e}");
    }
    let recounted = if opts.recount {
        Some(recount(&rt.collect().await?))
    } else {
        None
    };
    let durable = rt.store.flush().await.unwrap_or(false);
    rt.stop();
    let outputs = sink
        .counts()
        .into_iter()
        .map(|(topic, n)| (t.output(topic).to_string(), n))
        .fold(BTreeMap::new(), |mut m, (name, n)| {
            *m.entry(name).or_insert(0) += n;
            m
        });
    Ok(RunReport {
        duration_secs: started.elapsed().as_secs_f64(),
        input_messages: stats.input_completed.load(Ordering::Relaxed),
        rejected: stats.rejected.load(Ordering::Relaxed),
        internal_messages: stats.internal_completed.load(Ordering::Relaxed),
        internal_effects: stats.internal_items.load(Ordering::Relaxed),
        outputs,
        commits: stats.commits.load(Ordering::Relaxed),
        assignments: stats.assignments.load(Ordering::Relaxed),
        revocations: stats.revocations.load(Ordering::Relaxed),
        records_delivered: produce.stats.delivered.load(Ordering::Relaxed),
        records_backlogged: produce.stats.backlogged.load(Ordering::Relaxed),
        durable_store: durable,
        recount: recounted,
    })
}
