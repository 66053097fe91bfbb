//! A consumer-group rebalance loses and duplicates nothing: a second instance joins
//! mid-stream (the first hands over the actors of the partitions it loses, through the
//! store, before the revocation completes), processes its share, and leaves (handing its
//! share back). The two instances share one store, which stands in for a shared durable
//! store (ScyllaDB): this models the production setup, not a crash.

use crate::support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pitboss::kafka::{RunStats, Src};
use pitboss::run::{run_with, shutdown_channel, RunOptions};
use pitboss::sim::Simulator;
use pitboss_actors::shell::StateStore;
use support::{Broker, Outputs, SharedStore, T0};

const EVENTS: i64 = 9_000;

#[actix_rt::test]
async fn a_second_instance_joins_and_leaves_mid_stream_and_nothing_is_lost_or_doubled() {
    let _serial = support::serial();
    let broker = Broker::start();
    let mut cfg = support::config(&broker, "rebalance");
    cfg.sim.malformed_per_million = 500;
    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = support::keyed(
        &(0..EVENTS)
            .map(|i| sim.next(T0 + i * 20))
            .collect::<Vec<_>>(),
    );
    let expected = support::expected(&cfg, &msgs).await;
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");
    let input_partitions = cfg.kafka.partitions.input as usize;

    let store: Arc<dyn StateStore> = Arc::new(SharedStore::default());
    let (stats_a, stats_b) = (Arc::new(RunStats::default()), Arc::new(RunStats::default()));
    let (button_a, shutdown_a) = shutdown_channel();
    let (button_b, shutdown_b) = shutdown_channel();
    let (start_b, b_done) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let produce = |range: std::ops::Range<usize>| {
        let (brokers, topic) = (cfg.kafka.brokers.clone(), cfg.kafka.topics.input.clone());
        let m = msgs[range].to_vec();
        async move {
            tokio::task::spawn_blocking(move || support::produce(&brokers, &topic, &m))
                .await
                .unwrap();
        }
    };
    let thirds = [0, msgs.len() / 3, msgs.len() * 2 / 3, msgs.len()];
    let input_of = |s: &RunStats| {
        s.assigned()
            .iter()
            .filter(|(src, _)| *src == Src::Input)
            .count()
    };

    let run_a = run_with(
        cfg.clone(),
        RunOptions {
            store: Some(store.clone()),
            stats: stats_a.clone(),
            recount: true,
            ..Default::default()
        },
        shutdown_a,
    );
    let run_b = async {
        support::wait_for("B's turn", Duration::from_secs(120), || {
            start_b.load(Ordering::SeqCst)
        })
        .await;
        let r = run_with(
            cfg.clone(),
            RunOptions {
                store: Some(store.clone()),
                stats: stats_b.clone(),
                ..Default::default()
            },
            shutdown_b,
        )
        .await;
        b_done.store(true, Ordering::SeqCst);
        r
    };
    let control = async {
        let both = [stats_a.clone(), stats_b.clone()];
        // A alone takes the first third.
        produce(thirds[0]..thirds[1]).await;
        support::wait_for(
            "A processes the first third",
            Duration::from_secs(60),
            || stats_a.inputs() >= thirds[1] as u64,
        )
        .await;
        // B joins: A's partitions are revoked and split between A and B.
        start_b.store(true, Ordering::SeqCst);
        support::wait_for(
            "B gets partitions and A keeps some",
            Duration::from_secs(60),
            || {
                input_of(&stats_b) > 0
                    && input_of(&stats_a) > 0
                    && input_of(&stats_a) + input_of(&stats_b) == input_partitions
            },
        )
        .await;
        produce(thirds[1]..thirds[2]).await;
        support::wait_caught_up(&cfg, &both, Duration::from_secs(60)).await;
        // B leaves: A takes everything back.
        button_b.send(true).unwrap();
        support::wait_for("B has stopped", Duration::from_secs(60), || {
            b_done.load(Ordering::SeqCst)
        })
        .await;
        support::wait_for(
            "A owns every partition again",
            Duration::from_secs(60),
            || input_of(&stats_a) == input_partitions,
        )
        .await;
        produce(thirds[2]..thirds[3]).await;
        support::wait_caught_up(&cfg, &both, Duration::from_secs(60)).await;
        button_a.send(true).unwrap();
    };
    let (report_a, report_b, ()) = tokio::join!(run_a, run_b, control);
    let (report_a, report_b) = (report_a.expect("instance A"), report_b.expect("instance B"));

    assert!(
        report_b.input_messages > 0,
        "B processed part of the stream"
    );
    assert!(
        stats_a.revocations.load(Ordering::Relaxed) >= 2,
        "A lost partitions twice (join and leave)"
    );
    assert!(
        stats_a.handed_over.load(Ordering::Relaxed) > 0,
        "A handed actors over"
    );
    assert!(report_a.commits > 0 && report_b.commits > 0);
    // Each message was completed once: the revocations committed exactly what was done.
    assert_eq!(
        report_a.input_messages + report_b.input_messages,
        msgs.len() as u64
    );

    // A ends owning everything: its live actors and the shared store hold the whole state.
    let r = report_a.recount.as_ref().expect("recounted");
    assert!(r.conservation_ok, "{r:#?}");
    assert!(
        sim.sent().matches(r),
        "simulator {:?} vs recount {r:#?}",
        sim.sent()
    );

    let (brokers, topics) = (cfg.kafka.brokers.clone(), support::output_topics(&cfg));
    let recs = tokio::task::spawn_blocking(move || support::read_all(&brokers, &topics))
        .await
        .unwrap();
    let out = Outputs::new(recs);
    out.check(&expected);
    let (hits, paid) = out.hits();
    assert!(hits > 0);
    assert_eq!((hits, paid), (r.jackpot_hits, r.jackpots_paid_by_pools));
    assert_eq!(out.rejections().len(), expected.rejected);
}
