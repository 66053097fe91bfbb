// The serial guard is held for the whole test on purpose: the tests of this file share
// the machine with a broker each and must not overlap.
#![allow(clippy::await_holding_lock)]
//! The embedded store is one machine's disk: an instance using it must be its consumer
//! group's only member. A second instance joining the group is refused before it consumes
//! anything, with a message saying why; the first goes on.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use pitboss::kafka::{RunStats, Src};
use pitboss::run::{run_with, shutdown_channel, RunOptions};
use pitboss::sim::Simulator;
use pitboss::store::StoreKind;
use support::{Broker, T0};

#[actix_rt::test]
async fn a_second_instance_with_the_embedded_store_is_refused_and_the_first_goes_on() {
    let _serial = support::serial();
    let broker = Broker::start();
    let mut cfg = support::config(&broker, "sole");
    cfg.store.kind = StoreKind::Embedded;
    let dirs = tempfile::tempdir().unwrap();
    let mut first = cfg.clone();
    first.store.data_dir = dirs.path().join("first");
    let mut second = cfg.clone();
    second.store.data_dir = dirs.path().join("second");
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");
    let inputs = cfg.kafka.partitions.input as usize;

    let stats = Arc::new(RunStats::default());
    let (button, shutdown) = shutdown_channel();
    let opts = RunOptions {
        stats: stats.clone(),
        ..Default::default()
    };
    let owned = |s: &RunStats| {
        s.assigned()
            .iter()
            .filter(|(src, _)| *src == Src::Input)
            .count()
    };
    let rest = async {
        support::wait_for(
            "the first instance owns every input partition",
            Duration::from_secs(60),
            || owned(&stats) == inputs,
        )
        .await;

        let (_never, shutdown2) = shutdown_channel();
        let refused = tokio::time::timeout(
            Duration::from_secs(60),
            run_with(second, RunOptions::default(), shutdown2),
        )
        .await
        .expect("the second instance stops by itself")
        .expect_err("the second instance must not run");
        let msg = format!("{refused:#}");
        assert!(
            msg.contains("must be its consumer group's only member")
                && msg.contains("store.kind = \"scylla\""),
            "{msg}"
        );

        // The first owns everything again and processes what arrives.
        support::wait_for(
            "the first instance owns every input partition again",
            Duration::from_secs(60),
            || owned(&stats) == inputs,
        )
        .await;
        let mut sim = Simulator::new(&cfg).unwrap();
        let msgs = support::keyed(&(0..500).map(|i| sim.next(T0 + i * 20)).collect::<Vec<_>>());
        let (brokers, topic, m) = (
            cfg.kafka.brokers.clone(),
            cfg.kafka.topics.input.clone(),
            msgs.clone(),
        );
        tokio::task::spawn_blocking(move || support::produce(&brokers, &topic, &m))
            .await
            .unwrap();
        support::wait_for(
            "the first instance processed them",
            Duration::from_secs(60),
            || stats.inputs() >= msgs.len() as u64,
        )
        .await;
        // ... and commits them after a durable checkpoint, before it is asked to stop (a
        // run on a loaded CI machine once ended with no commit counted, its final commit at
        // the stop not made: see the note of 2026-12-07; this test is about membership).
        support::wait_for(
            "the first instance committed what it processed",
            Duration::from_secs(60),
            || stats.commits.load(std::sync::atomic::Ordering::Relaxed) > 0,
        )
        .await;
        button.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(run_with(first, opts, shutdown), rest);
    let report = report.expect("the first instance stops cleanly");
    assert!(report.commits > 0);
}
