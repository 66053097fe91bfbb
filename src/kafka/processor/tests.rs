//! The checkpoint loop's answer to store failures: retry what may heal, stop on what cannot.

use pitboss_actors::shell::{MemoryStore, StateStore, SystemClock};

use super::*;
use crate::config::Config;
use crate::rng::KeyedHitPoints;

/// A processor on an in-memory store, its runtime and its fatal flag (no broker is needed:
/// the producer connects only when it sends).
fn processor() -> (Processor, Arc<Runtime>, Fatal) {
    processor_on(Arc::new(MemoryStore::default()))
}

/// The same on `store`.
fn processor_on(store: Arc<dyn StateStore>) -> (Processor, Arc<Runtime>, Fatal) {
    let cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
    let rt = Runtime::start(
        cfg.runtime_config().expect("runtime config"),
        Arc::new(pitboss_actors::shell::NullSink::default()),
        store,
        Arc::new(KeyedHitPoints::new("test")),
        Arc::new(SystemClock),
    );
    let fatal = Fatal::default();
    let produce = Produce::new(&cfg.kafka, fatal.clone()).expect("producer");
    let (commits, _committed) = std_mpsc::channel();
    let settings = ProcessorSettings {
        inflight_max: 16,
        commit_interval: Duration::from_secs(1),
        drain_timeout: Duration::from_secs(1),
        producer_flush_timeout: Duration::from_secs(1),
        store_backlog_max: 1_000,
        sole_member_of: None,
    };
    let p = Processor::new(
        rt.clone(),
        settings,
        Arc::new(RunStats::default()),
        fatal.clone(),
        commits,
        produce,
        None,
        None,
        TopicMap::new(Vec::new()),
        Arc::new(Readiness::new()),
    );
    (p, rt, fatal)
}

#[actix_rt::test]
async fn the_checkpoint_loop_retries_what_may_heal_and_stops_on_what_cannot() {
    let (mut p, rt, fatal) = processor();

    let transient = StoreError::transient("the store timed out");
    p.flushed(Vec::new(), Instant::now(), Err(transient));
    assert!(
        p.store_health.backing_off(),
        "a transient failure is retried"
    );
    assert!(!fatal.is_set());

    // A checkpoint fenced off while leaving (a revocation, the shutdown) is dropped: another
    // instance has the partitions; fenced off otherwise, the processor stops.
    p.leaving = true;
    p.flushed(
        Vec::new(),
        Instant::now(),
        Err(StoreError::fenced("claimed by chaos-2")),
    );
    assert!(!fatal.is_set(), "fenced off while leaving: not a failure");
    p.leaving = false;

    let permanent = StoreError::permanent("stored record version 2 is newer than this build");
    p.flushed(Vec::new(), Instant::now(), Err(permanent));
    assert!(fatal.is_set(), "a permanent failure stops the processor");
    let reason = fatal.reason().expect("a reason");
    assert!(reason.contains("version 2 is newer"), "{reason}");
    rt.stop();
}

#[actix_rt::test]
async fn a_checkpoint_fenced_off_while_processing_stops_the_processor() {
    let (mut p, rt, fatal) = processor();
    p.flushed(
        Vec::new(),
        Instant::now(),
        Err(StoreError::fenced("claimed by chaos-2")),
    );
    assert!(fatal.is_set(), "an instance that lost its partitions stops");
    assert!(fatal.reason().unwrap().contains("claimed by chaos-2"));
    rt.stop();
}

/// A checkpoint holds what its cut stashed and nothing stashed later (an actor passivated
/// after the cut, say, with events past the cut's positions): the store takes its batch
/// within the cut, not when the processor's loop first polls the flush (which waited while
/// input was ready).
#[actix_rt::test]
async fn a_checkpoint_holds_its_cut_and_nothing_stashed_after_it() {
    use pitboss_actors::domain::ggr::HallState;
    use pitboss_actors::shell::{Snapshot, Stash};

    let dir = tempfile::tempdir().expect("a directory");
    let store: Arc<crate::store::EmbeddedStore> =
        Arc::new(crate::store::writebehind::WriteBehind::new(
            crate::store::embedded::Redb::open(dir.path()).expect("an embedded store"),
        ));
    let (mut p, rt, fatal) = processor_on(store.clone());
    let hall = |id: &str| {
        Stash::state(Snapshot::Hall(HallState::new(
            HallId::new(id).expect("an id"),
        )))
    };
    store.stash(hall("H-BEFORE"));
    let job = p.cut(None).await;
    // Stashed after the cut, before anything awaits the flush.
    store.stash(hall("H-AFTER"));
    assert_eq!(store.backlog(), 2, "both stashed, neither durable yet");
    let offsets = p.complete(job).await;
    assert!(offsets.is_empty(), "no positions were cut");
    assert!(!fatal.is_set());
    assert_eq!(
        store.backlog(),
        1,
        "the state stashed after the cut waits for the next checkpoint"
    );
    let durable = store.stats().states.load(Ordering::Relaxed);
    assert_eq!(
        durable, 1,
        "the checkpoint wrote the state its cut held, only"
    );
    rt.stop();
}
