//! Store outages and crashes in the middle of a checkpoint.
//!
//! - The embedded store made to fail (every checkpoint transaction aborted) and the CQL
//!   server stopped and restarted: flushes fail, the store reports itself unhealthy, nothing
//!   stashed is lost, input positions do not advance; when the store returns, one flush
//!   writes everything and the state after a restart is exact.
//! - A CQL checkpoint stopped after its commit point is applied again from the redo log on
//!   the next start; one stopped before its commit point leaves the previous checkpoint.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{assert_same_states, messages, small_network, CqlServer, Driver, Harness};
use pitboss::recount::recount;
use pitboss::sim::Simulator;
use pitboss::store::{audit, AuditReport, Backoff, CqlFaults};
use pitboss_actors::shell::{EntityKey, Position, Snapshot};

const T0: i64 = 1_800_000_000_000;

fn sim_position(next: u64) -> Vec<Position> {
    vec![Position {
        topic: "sim".into(),
        partition: 0,
        next_offset: next as i64,
    }]
}

/// Waits for a checkpoint to succeed, retrying with backoff, up to a deadline.
async fn checkpoint_until_ok(d: &Driver, deadline: Duration) {
    let until = Instant::now() + deadline;
    let mut backoff = Backoff::default();
    loop {
        match d.checkpoint().await {
            Ok(durable) => {
                assert!(durable);
                return;
            }
            Err(e) => {
                assert!(
                    !d.rt.store.healthy(),
                    "a failing store reports unhealthy: {e}"
                );
                assert!(Instant::now() < until, "the store did not come back: {e}");
                tokio::time::sleep(backoff.failed()).await;
            }
        }
    }
}

/// Starts (`true`) or ends an outage of the harness' store.
async fn outage(h: &mut Harness, on: bool) {
    match h {
        Harness::Embedded { faults, .. } => faults.writes.store(on, Ordering::SeqCst),
        Harness::Cql {
            server: Some(s), ..
        } => {
            if on {
                s.stop()
            } else {
                s.restart().await
            }
        }
        _ => unreachable!("no outage for this store"),
    }
}

/// The processor's loop against a store that fails for a while.
async fn outage_and_recovery(mut h: Harness) -> Harness {
    let cfg = small_network();
    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = messages(&mut sim, 6_000, T0);
    let mut d = Driver::start(&cfg, h.store());

    // Before: checkpoints work, positions advance.
    d.feed(&msgs[..2_000]).await;
    assert!(d.checkpoint().await.unwrap());
    assert_eq!(d.rt.store.positions().await.unwrap(), sim_position(2_000));

    // The outage: every checkpoint fails, the state waits in the store's buffer.
    if !matches!(h, Harness::Embedded { .. }) {
        // Processed while the server is up (every entity they name is loaded: a new one,
        // such as a freshly printed ticket's voucher, needs the store to load, RULES.md V),
        // checkpointed while it is down.
        d.feed(&msgs[2_000..2_100]).await;
        d.inflight.drained().await;
        d.rt.quiesce().await;
    }
    outage(&mut h, true).await;
    if matches!(h, Harness::Embedded { .. }) {
        // Reads still work: processing goes on, checkpoints fail and keep their content.
        d.feed(&msgs[2_000..4_000]).await;
        let e = d.checkpoint().await.unwrap_err();
        assert!(!d.rt.store.healthy(), "unhealthy after {e}");
        let backlog = d.rt.store.backlog();
        assert!(backlog > 0, "the failed checkpoint is kept");
        d.feed(&msgs[4_000..5_000]).await;
        assert!(d.checkpoint().await.is_err());
        assert!(d.rt.store.backlog() >= backlog, "nothing dropped");
        // Entities passivated now come back from the buffer.
        let ids = d.rt.live_machine_ids();
        d.rt.passivate_now::<pitboss_actors::shell::MachineEntity>(&ids[..5])
            .await;
    } else {
        // The server is gone: checkpoints fail, and an entity seen for the first time
        // cannot load (its actor retries with backoff), so processing stalls (the
        // in-flight bound is the backpressure) until the server is back.
        let e = d.checkpoint().await.unwrap_err();
        assert!(!d.rt.store.healthy(), "unhealthy after {e}");
        assert!(d.rt.store.backlog() > 0, "the failed checkpoint is kept");
        assert_eq!(
            d.rt.store.positions().await.ok(),
            None,
            "positions cannot be read while the server is down"
        );
        let (_, ()) = tokio::join!(d.feed(&msgs[2_100..5_000]), async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            outage(&mut h, false).await;
        });
    }

    // Recovery.
    outage(&mut h, false).await;
    d.feed(&msgs[5_000..]).await;
    checkpoint_until_ok(&d, Duration::from_secs(60)).await;
    assert!(d.rt.store.healthy());
    assert_eq!(d.rt.store.backlog(), 0);
    assert_eq!(d.rt.store.positions().await.unwrap(), sim_position(6_000));

    let before = d.states().await;
    let r = recount(&before);
    assert!(r.conservation_ok, "{r:#?}");
    assert!(sim.sent().matches(&r), "{:?} vs {r:#?}", sim.sent());
    d.rt.stop();
    drop(d);

    // A restart: everything comes back from the store, exactly.
    let (_, report) = reopen_and_check(&mut h, &before, 6_000).await;
    assert!(report.ledger_entries > 1_000);
    h
}

/// Reopens the harness' store and checks it holds exactly `expected`, at input position
/// `position`, with a clean audit. Returns the states and the audit.
async fn reopen_and_check(
    h: &mut Harness,
    expected: &[Snapshot],
    position: u64,
) -> (Vec<Snapshot>, AuditReport) {
    h.reopen().await;
    let after = h.store().all().await.unwrap();
    assert_same_states(&after, expected);
    assert_eq!(h.store().positions().await.unwrap(), sim_position(position));
    let report = audit(h.audit_source().as_ref()).await.unwrap();
    assert!(report.ok(), "{:#?}", report.differences);
    (after, report)
}

#[actix_rt::test]
async fn embedded_store_failing_loses_nothing_and_recovers() {
    outage_and_recovery(Harness::embedded()).await;
}

#[actix_rt::test]
async fn cql_server_stopped_and_restarted_loses_nothing() {
    outage_and_recovery(Harness::kassandra().await).await;
}

#[tokio::test]
async fn embedded_reads_failing_make_loads_fail_not_lie() {
    let h = Harness::embedded();
    let Harness::Embedded { faults, .. } = &h else {
        unreachable!()
    };
    faults.reads.store(true, Ordering::SeqCst);
    let key = EntityKey::Wallet(pitboss_actors::domain::PlayerId::new("P-1").unwrap());
    let e = h.store().load(&key).await.unwrap_err();
    assert!(e.to_string().contains("injected read fault"), "{e}");
}

fn cql(h: &Harness) -> Arc<pitboss::store::ScyllaStore> {
    match h {
        Harness::Cql { store: Some(s), .. } => s.clone(),
        _ => unreachable!(),
    }
}

/// A CQL store fed 3,000 events, the first 1,000 checkpointed, whose second checkpoint
/// the fault `pick` stops (its error names `stage`); the process then "dies". Returns the
/// states after the first checkpoint and at the end.
struct Interrupted {
    h: Harness,
    cfg: pitboss::config::Config,
    sim: Simulator,
    msgs: Vec<pitboss::sim::SimMessage>,
    first: Vec<Snapshot>,
    last: Vec<Snapshot>,
}

async fn interrupted_cql_checkpoint(
    pick: fn(&CqlFaults) -> &std::sync::atomic::AtomicBool,
    stage: &str,
) -> Interrupted {
    let h = Harness::kassandra().await;
    let cfg = small_network();
    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = messages(&mut sim, 3_000, T0);
    let mut d = Driver::start(&cfg, h.store());
    d.feed(&msgs[..1_000]).await;
    assert!(d.checkpoint().await.unwrap());
    let first = d.states().await;
    d.feed(&msgs[1_000..]).await;
    pick(cql(&h).backend().faults()).store(true, Ordering::SeqCst);
    let e = d.checkpoint().await.unwrap_err();
    assert!(e.to_string().contains(stage), "{e}");
    let last = d.states().await;
    d.rt.stop();
    drop(d);
    Interrupted {
        h,
        cfg,
        sim,
        msgs,
        first,
        last,
    }
}

#[actix_rt::test]
async fn cql_checkpoint_stopped_after_its_commit_point_is_recovered_from_the_redo_log() {
    // The process "dies" between the commit point and the tables.
    let mut x = interrupted_cql_checkpoint(|f| &f.after_commit, "after committing").await;
    // The next start applies the committed checkpoint before anything is read.
    let (after, _) = reopen_and_check(&mut x.h, &x.last, 3_000).await;
    let r = recount(&after);
    assert!(r.conservation_ok && x.sim.sent().matches(&r), "{r:#?}");
}

#[actix_rt::test]
async fn cql_checkpoint_stopped_before_its_commit_point_leaves_the_previous_one() {
    let mut x = interrupted_cql_checkpoint(|f| &f.before_commit, "before committing").await;
    // Exactly the first checkpoint: a replay of the input from position 1,000 rebuilds the rest.
    reopen_and_check(&mut x.h, &x.first, 1_000).await;

    // Replaying the input after the stored position ends where an uninterrupted run ends.
    let mut d = Driver::start(&x.cfg, x.h.store());
    d.sent = 1_000;
    d.feed(&x.msgs[1_000..]).await;
    assert!(d.checkpoint().await.unwrap());
    let replayed = d.states().await;
    let r = recount(&replayed);
    assert!(r.conservation_ok && x.sim.sent().matches(&r), "{r:#?}");
    d.rt.stop();
}

#[tokio::test]
async fn a_restarted_cql_server_keeps_its_data() {
    // The harness' own promise, which the outage test relies on.
    let mut server = CqlServer::start().await;
    let cfg = crate::support::scylla_config(
        vec![server.addr.to_string()],
        &testkit::names::unique_keyspace("restart"),
        true,
    );
    crate::support::migrate(&cfg).await;
    server.stop();
    server.restart().await;
    pitboss::store::Cql::connect(&cfg, 10)
        .await
        .expect("tables survive a server restart");
}

/// A hand-over while the store fails (the revocation, ARCHITECTURE.md): what waits in the
/// write-behind buffer for the entities handed over and their partition's position is
/// dropped, so that when the store returns the next checkpoint leaves those entities at
/// their last durable state (the next owner continues from it; a late write could land after
/// the next owner's newer state), and writes the entities kept.
#[actix_rt::test]
async fn a_hand_over_during_an_outage_drops_what_waits_for_the_entities_handed_over() {
    let mut h = Harness::embedded();
    let cfg = small_network();
    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = messages(&mut sim, 3_000, T0);
    let mut d = Driver::start(&cfg, h.store());
    d.feed(&msgs[..1_000]).await;
    assert!(d.checkpoint().await.unwrap());
    let durable = h.store().all().await.unwrap();

    outage(&mut h, true).await;
    d.feed(&msgs[1_000..3_000]).await;
    assert!(d.checkpoint().await.is_err());
    let live = d.states().await;
    let backlog = d.rt.store.backlog();

    // Half of the machines go to another instance, with the partition's position.
    let ids = d.rt.live_machine_ids();
    let (gone, kept) = ids.split_at(ids.len() / 2);
    let keys: Vec<EntityKey> = gone.iter().cloned().map(EntityKey::Machine).collect();
    d.rt.passivate_now::<pitboss_actors::shell::MachineEntity>(gone)
        .await;
    d.rt.store.forget(&keys, &[("sim".into(), 0)]);
    assert!(
        d.rt.store.backlog() < backlog,
        "the handed-over rows are dropped"
    );

    outage(&mut h, false).await;
    let until = Instant::now() + Duration::from_secs(60);
    while d.rt.store.flush().await.is_err() {
        assert!(Instant::now() < until, "the store did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The partition's position stays where the last durable checkpoint left it.
    assert_eq!(h.store().positions().await.unwrap(), sim_position(1_000));
    let stored = h.store().all().await.unwrap();
    let find = |states: &[Snapshot], k: &EntityKey| states.iter().find(|s| &s.key() == k).cloned();
    let mut moved = 0;
    for k in &keys {
        let now = find(&live, k);
        assert_eq!(find(&stored, k), find(&durable, k), "{k:?} handed over");
        moved += usize::from(now != find(&durable, k));
    }
    assert!(
        moved > 0,
        "some handed-over machine changed during the outage"
    );
    for m in kept {
        let k = EntityKey::Machine(m.clone());
        assert_eq!(find(&stored, &k), find(&live, &k), "{k:?} kept");
    }
    d.rt.stop();
}
