//! `pitboss run` against a real broker with the embedded store made to fail mid-stream:
//! while the store fails, no offset is committed, `/readyz`'s flags say not ready, and once
//! the backlog reaches its bound consumption pauses; when the store returns, processing
//! resumes and the stored state and the output topics are exact.

use crate::support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use pitboss::kafka::RunStats;
use pitboss::readiness::Readiness;
use pitboss::recount::recount;
use pitboss::run::{run_with, shutdown_channel, RunOptions};
use pitboss::sim::Simulator;
use pitboss::store::{EmbeddedStore, Faults, Redb, WriteBehind};
use pitboss_actors::shell::StateStore;
use support::{Broker, Outputs, T0};

const EVENTS: i64 = 6_000;

#[actix_rt::test]
async fn a_failing_store_stops_commits_reports_not_ready_pauses_and_recovers_exactly() {
    let _serial = support::serial();
    let broker = Broker::start();
    let mut cfg = support::config(&broker, "store-outage");
    cfg.sim.malformed_per_million = 0;
    // A small bound, so the pause is reached within the scenario.
    cfg.store.backlog_max = 500;
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store: Arc<EmbeddedStore> = Arc::new(WriteBehind::new(
        Redb::open_with_faults(dir.path(), faults.clone()).unwrap(),
    ));

    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = support::keyed(
        &(0..EVENTS)
            .map(|i| sim.next(T0 + i * 20))
            .collect::<Vec<_>>(),
    );
    pitboss::run::create_topics(&cfg).await.unwrap();
    let expected = support::expected(&cfg, &msgs).await;
    let produce = |part: Vec<(String, Vec<u8>)>| {
        let (b, t) = (cfg.kafka.brokers.clone(), cfg.kafka.topics.input.clone());
        tokio::task::spawn_blocking(move || support::produce(&b, &t, &part))
    };
    let half = msgs.len() / 2;
    produce(msgs[..half].to_vec()).await.unwrap();

    let stats = Arc::new(RunStats::default());
    let readiness = Arc::new(Readiness::new());
    let (button, shutdown) = shutdown_channel();
    let opts = RunOptions {
        store: Some(store.clone() as Arc<dyn StateStore>),
        stats: stats.clone(),
        readiness: readiness.clone(),
        ..Default::default()
    };
    let n = msgs.len() as u64;
    let script = async {
        let long = Duration::from_secs(120);
        // Healthy: the first half processed, committed, ready.
        support::wait_for("the first half, committed", long, || {
            stats.inputs() >= half as u64 && stats.commits.load(Ordering::Relaxed) > 0
        })
        .await;
        support::wait_for("ready", long, || readiness.is_ready()).await;

        // The store fails while the second half streams in (a checkpoint only writes, and
        // so only fails, when something changed).
        faults.writes.store(true, Ordering::SeqCst);
        let three_q = msgs.len() * 3 / 4;
        produce(msgs[half..three_q].to_vec()).await.unwrap();
        support::wait_for("a failed flush", long, || {
            stats.store_failures.load(Ordering::Relaxed) > 0
        })
        .await;
        // Flushes run one at a time: from the first failure on, none succeeds.
        let commits = stats.commits.load(Ordering::Relaxed);
        assert!(!readiness.is_ready(), "not ready while the store fails");
        support::wait_for("consumption paused on the backlog", long, || {
            stats.store_pauses.load(Ordering::Relaxed) > 0
        })
        .await;
        // The pause is taken with nothing in flight: from here nothing more is processed
        // (the rest of the stream is produced now) while the flush is retried.
        let at_pause = stats.inputs();
        produce(msgs[three_q..].to_vec()).await.unwrap();
        let failures = stats.store_failures.load(Ordering::Relaxed);
        support::wait_for("two more failed retries", long, || {
            stats.store_failures.load(Ordering::Relaxed) >= failures + 2
        })
        .await;
        assert_eq!(stats.inputs(), at_pause, "nothing processed while paused");
        assert!(at_pause < n, "paused before the end: {at_pause} of {n}");
        assert!(store.backlog() >= 500, "backlog {}", store.backlog());
        assert!(!store.healthy());
        assert_eq!(
            stats.commits.load(Ordering::Relaxed),
            commits,
            "no offset committed while the store fails"
        );

        // The store returns: everything processed, committed, ready again.
        faults.writes.store(false, Ordering::SeqCst);
        support::wait_for("everything processed after the outage", long, || {
            stats.inputs() >= n
        })
        .await;
        support::wait_for("ready again", long, || readiness.is_ready()).await;
        support::wait_for("commits again", long, || {
            stats.commits.load(Ordering::Relaxed) > commits
        })
        .await;
        // Effects through the internal topics (awards to machines) are processed too.
        support::wait_caught_up(&cfg, std::slice::from_ref(&stats), long).await;
        button.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(run_with(cfg.clone(), opts, shutdown), script);
    let report = report.expect("pitboss run");
    assert_eq!(report.input_messages, n);
    assert!(report.durable_store);

    // What the store holds is exact (everything flushed: nothing is left in its backlog).
    assert_eq!(store.backlog(), 0);
    let r = recount(&store.all().await.unwrap());
    assert!(r.conservation_ok, "{r:#?}");
    assert!(
        sim.sent().matches(&r),
        "sent {:?} vs stored {r:#?}",
        sim.sent()
    );
    let recs = tokio::task::spawn_blocking({
        let (b, t) = (cfg.kafka.brokers.clone(), support::output_topics(&cfg));
        move || support::read_all(&b, &t)
    })
    .await
    .unwrap();
    Outputs::new(recs).check(&expected);
}
