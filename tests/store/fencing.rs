//! Fencing a shared CQL store (issue 15, ARCHITECTURE.md "Running several instances"): an
//! instance claims each input partition it is assigned, and a checkpoint is applied only
//! while the fences it was written under are the partitions' newest claims. So a checkpoint
//! of an instance that lost its partitions (it died between its redo log's commit point and
//! the tables, or it kept running unaware) never lands after the new owner's newer state.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::support::{assert_same_states, messages, migrate, scylla_config, small_network};
use crate::support::{CqlServer, Driver, BATCH_LEN_MAX};
use pitboss::recount::recount;
use pitboss::sim::Simulator;
use pitboss::store::{audit, Cql, ScyllaConfig, ScyllaStore, WriteBehind};
use pitboss_actors::shell::{Position, StateStore};
use testkit::names::unique_keyspace;

const T0: i64 = 1_800_000_000_000;

/// The input partition the driver's positions name.
fn partition() -> Vec<(String, i32)> {
    vec![("sim".into(), 0)]
}

/// Instances `a` and `b` sharing one keyspace of a fresh CQL server.
async fn two_instances(server: &CqlServer) -> (ScyllaConfig, ScyllaConfig) {
    let shared = scylla_config(
        vec![server.addr.to_string()],
        &unique_keyspace("fence"),
        true,
    );
    migrate(&shared).await;
    let a = ScyllaConfig {
        instance: "a".into(),
        ..shared.clone()
    };
    let b = ScyllaConfig {
        instance: "b".into(),
        ..shared
    };
    (a, b)
}

/// Connects (and so recovers the instance's redo log).
async fn open(cfg: &ScyllaConfig) -> Arc<ScyllaStore> {
    let c = Cql::connect(cfg, BATCH_LEN_MAX).await.expect("connect");
    Arc::new(WriteBehind::new(c))
}

async fn stored_position(store: &ScyllaStore) -> i64 {
    let p: Vec<Position> = store.positions().await.unwrap();
    assert_eq!(p.len(), 1, "{p:?}");
    p[0].next_offset
}

/// Instance `b` takes the partition over from position 1,000 and applies events up to
/// 4,000; its states.
async fn new_owner_goes_on(
    cfg: &pitboss::config::Config,
    b: &Arc<ScyllaStore>,
    msgs: &[pitboss::sim::SimMessage],
) -> Vec<pitboss_actors::shell::Snapshot> {
    b.claim(&partition()).await.unwrap();
    assert_eq!(stored_position(b).await, 1_000);
    let mut d = Driver::start(cfg, b.clone());
    d.sent = 1_000;
    d.feed(&msgs[1_000..4_000]).await;
    assert!(d.checkpoint().await.unwrap());
    let newest = d.states().await;
    d.rt.stop();
    newest
}

/// Instance `a` claims the partition, checkpoints the first 1,000 events and applies the next
/// 1,000 without a checkpoint yet: its store and its driver.
async fn first_owner(
    cfg: &pitboss::config::Config,
    cfg_a: &ScyllaConfig,
    msgs: &[pitboss::sim::SimMessage],
) -> (Arc<ScyllaStore>, Driver) {
    let a = open(cfg_a).await;
    a.claim(&partition()).await.unwrap();
    let mut d = Driver::start(cfg, a.clone());
    d.feed(&msgs[..1_000]).await;
    assert!(d.checkpoint().await.unwrap());
    d.feed(&msgs[1_000..2_000]).await;
    (a, d)
}

#[actix_rt::test]
async fn a_late_redo_log_recovery_does_not_overwrite_the_new_owners_state() {
    let server = CqlServer::start().await;
    let (cfg_a, cfg_b) = two_instances(&server).await;
    let cfg = small_network();
    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = messages(&mut sim, 4_000, T0);

    // Instance a owns the partition, then it dies between the commit point of its next
    // checkpoint (events up to 2,000) and the tables.
    let (a, d) = first_owner(&cfg, &cfg_a, &msgs).await;
    a.backend()
        .faults()
        .after_commit
        .store(true, Ordering::SeqCst);
    let e = d.checkpoint().await.unwrap_err();
    assert!(e.to_string().contains("after committing"), "{e}");
    d.rt.stop();
    drop(d);
    drop(a);

    // Instance b is assigned the partition and goes on from what is stored.
    let b = open(&cfg_b).await;
    let newest = new_owner_goes_on(&cfg, &b, &msgs).await;

    // Instance a starts again: its committed checkpoint is not applied over b's state.
    let a = open(&cfg_a).await;
    let stored = a.all().await.unwrap();
    assert_same_states(&stored, &newest);
    assert_eq!(stored_position(&a).await, 4_000);
    let report = audit(a.backend().as_ref()).await.unwrap();
    assert!(report.ok(), "{:#?}", report.differences);
    let r = recount(&stored);
    assert!(r.conservation_ok && sim.sent().matches(&r), "{r:#?}");
}

#[actix_rt::test]
async fn an_instance_that_lost_its_partition_unaware_cannot_write_over_the_new_owner() {
    let server = CqlServer::start().await;
    let (cfg_a, cfg_b) = two_instances(&server).await;
    let cfg = small_network();
    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = messages(&mut sim, 4_000, T0);

    // Instance a stalls (its next checkpoint waits) while the group gives its partition to
    // b, which goes on from what is stored.
    let (a, da) = first_owner(&cfg, &cfg_a, &msgs).await;
    let b = open(&cfg_b).await;
    let newest = new_owner_goes_on(&cfg, &b, &msgs).await;

    // Instance a's late checkpoint is refused for good, and changes nothing.
    let e = da.checkpoint().await.unwrap_err();
    assert!(
        e.is_fenced(),
        "a fenced checkpoint says so, and is not retried: {e}"
    );
    assert!(e.to_string().contains("fenced off"), "{e}");
    da.rt.stop();
    drop(da);
    let stored = b.all().await.unwrap();
    assert_same_states(&stored, &newest);
    assert_eq!(stored_position(&b).await, 4_000);

    // Nor does a's next start apply it from the redo log.
    drop(a);
    let a = open(&cfg_a).await;
    assert_same_states(&a.all().await.unwrap(), &newest);
    let report = audit(a.backend().as_ref()).await.unwrap();
    assert!(report.ok(), "{:#?}", report.differences);
}
