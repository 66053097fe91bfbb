// The serial guard is held for the whole test on purpose: the tests of this file share
// the machine with a broker each and must not overlap.
#![allow(clippy::await_holding_lock)]
//! Stopping `pitboss run` mid-stream and starting it again with the same group leaves the
//! output totals exact: with the in-memory store by a full replay (nothing was committed),
//! with a store that reports its flushes durable by resuming after the committed offsets.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use pitboss::config::Config;
use pitboss::kafka::RunStats;
use pitboss::run::{run_with, shutdown_channel, RunOptions, RunReport};
use pitboss::sim::Simulator;
use pitboss_actors::shell::StateStore;
use support::{Broker, Outputs, SharedStore, T0};

const EVENTS: i64 = 8_000;

/// Runs one processor until `stop_when` holds for its stats (then presses shutdown), and
/// returns its report.
async fn run_until(
    cfg: &Config,
    store: Option<Arc<dyn StateStore>>,
    stop_when: impl Fn(&RunStats) -> bool,
    catch_up: bool,
    prior: &[Arc<RunStats>],
) -> (RunReport, Arc<RunStats>) {
    let stats = Arc::new(RunStats::default());
    let (button, shutdown) = shutdown_channel();
    let opts = RunOptions {
        store,
        stats: stats.clone(),
        recount: true,
        ..Default::default()
    };
    let waiter = async {
        support::wait_for("the stop condition", Duration::from_secs(120), || {
            stop_when(&stats)
        })
        .await;
        if catch_up {
            let mut all = prior.to_vec();
            all.push(stats.clone());
            support::wait_caught_up(cfg, &all, Duration::from_secs(60)).await;
        }
        button.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(run_with(cfg.clone(), opts, shutdown), waiter);
    (report.expect("pitboss run"), stats)
}

async fn scenario(tag: &str, broker: &Broker) -> (Config, Simulator, Vec<(String, Vec<u8>)>) {
    let mut cfg = support::config(broker, tag);
    cfg.sim.malformed_per_million = 0;
    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = support::keyed(
        &(0..EVENTS)
            .map(|i| sim.next(T0 + i * 20))
            .collect::<Vec<_>>(),
    );
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");
    (cfg, sim, msgs)
}

async fn produce(cfg: &Config, msgs: &[(String, Vec<u8>)]) {
    let (brokers, topic, m) = (
        cfg.kafka.brokers.clone(),
        cfg.kafka.topics.input.clone(),
        msgs.to_vec(),
    );
    tokio::task::spawn_blocking(move || support::produce(&brokers, &topic, &m))
        .await
        .unwrap();
}

async fn outputs(cfg: &Config, durable: bool) -> Outputs {
    let (brokers, topics) = (cfg.kafka.brokers.clone(), support::output_topics(cfg));
    let recs = tokio::task::spawn_blocking(move || support::read_all(&brokers, &topics))
        .await
        .unwrap();
    if durable {
        Outputs::new(recs)
    } else {
        Outputs::without_durable_state(recs)
    }
}

#[actix_rt::test]
async fn a_restart_with_the_in_memory_store_replays_everything_and_totals_stay_exact() {
    let _serial = support::serial();
    let broker = Broker::start();
    let (cfg, sim, msgs) = scenario("restart-mem", &broker).await;
    produce(&cfg, &msgs).await;
    let expected = support::expected(&cfg, &msgs).await;
    let n = msgs.len() as u64;

    // First run: stopped (cleanly) half way.
    let (first, _) = run_until(&cfg, None, |s| s.inputs() >= n / 2, false, &[]).await;
    assert!(first.input_messages >= n / 2);
    assert_eq!(
        first.commits, 0,
        "nothing may be committed without a durable store"
    );

    // Second run, same group, a new (empty) in-memory store: everything is replayed.
    let (second, _) = run_until(&cfg, None, |s| s.inputs() >= n, true, &[]).await;
    assert_eq!(second.input_messages, n, "a full replay");
    let r = second.recount.as_ref().expect("recounted");
    assert!(r.conservation_ok, "{r:#?}");
    assert!(
        sim.sent().matches(r),
        "simulator {:?} vs recount {r:#?}",
        sim.sent()
    );

    // The outputs of both runs together: every id has one content (jackpot hits included:
    // pools replay their commands in log order), GGR windows aside (the second run starts
    // them from zero: nothing was kept), and the totals are exact.
    let out = outputs(&cfg, false).await;
    out.check(&expected);
    let (hits, paid) = out.hits();
    assert!(hits > 0);
    assert_eq!((hits, paid), (r.jackpot_hits, r.jackpots_paid_by_pools));
}

#[actix_rt::test]
async fn a_restart_with_a_durable_store_resumes_after_the_committed_offsets() {
    let _serial = support::serial();
    let broker = Broker::start();
    let (cfg, sim, msgs) = scenario("restart-durable", &broker).await;
    let expected = support::expected(&cfg, &msgs).await;
    let n = msgs.len() as u64;
    let store = Arc::new(SharedStore::default());

    // The first run sees 60% of the stream and is stopped (cleanly) half way through it.
    let cut = msgs.len() * 6 / 10;
    produce(&cfg, &msgs[..cut]).await;
    let (first, first_stats) = run_until(
        &cfg,
        Some(store.clone()),
        |s| s.inputs() >= n * 3 / 10,
        false,
        &[],
    )
    .await;
    assert!(first.durable_store);
    assert!(first.commits > 0, "the final round commits");
    assert!(first.input_messages < n);

    // The rest arrives; the second run starts where the first stopped.
    produce(&cfg, &msgs[cut..]).await;
    let done = first.input_messages;
    let (second, _) = run_until(
        &cfg,
        Some(store.clone()),
        move |s| s.inputs() + done >= n,
        true,
        &[first_stats],
    )
    .await;
    assert_eq!(
        second.input_messages + first.input_messages,
        n,
        "resumed exactly after the committed offsets"
    );
    let r = second.recount.as_ref().expect("recounted");
    assert!(r.conservation_ok, "{r:#?}");
    assert!(
        sim.sent().matches(r),
        "simulator {:?} vs recount {r:#?}",
        sim.sent()
    );

    // Every id has one content, GGR windows included (RULES.md H-2, finding 16): a window
    // published at the first run's shutdown and changed by the second run is published
    // again under its next revision.
    let out = outputs(&cfg, true).await;
    out.check(&expected);
    let (hits, paid) = out.hits();
    assert_eq!((hits, paid), (r.jackpot_hits, r.jackpots_paid_by_pools));
    assert!(
        out.ggr_revisions() > 0,
        "the stream was cut inside a window: the second run revises it"
    );
}
