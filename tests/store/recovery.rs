//! Recovery through the actor runtime with the durable stores: actors load their state on
//! first use (after passivation and after a restart), and a crash between checkpoints is
//! repaired by replaying the input from the stored position — exactly, with the ledger
//! agreeing with the state.

use crate::support::{assert_same_states, messages, small_network, Driver, Harness};
use pitboss::recount::recount;
use pitboss::sim::Simulator;
use pitboss::store::audit;
use pitboss_actors::shell::{MachineEntity, Snapshot, WalletEntity};

const T0: i64 = 1_800_000_000_000;

async fn restart_is_exact_and_lazy(mut h: Harness) {
    let cfg = small_network();
    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = messages(&mut sim, 8_000, T0);
    let mut d = Driver::start(&cfg, h.store());
    for (i, chunk) in msgs.chunks(1_000).enumerate() {
        d.feed(chunk).await;
        assert!(d.checkpoint().await.unwrap());
        if i % 2 == 1 {
            // Two sweeps: every actor idle since the first is passivated by the second,
            // and the next events load it back from the store.
            d.rt.sweep_idle();
            d.rt.sweep_idle();
        }
    }
    let passivated: u64 =
        d.rt.stats
            .passivated
            .iter()
            .map(|a| a.load(std::sync::atomic::Ordering::Relaxed))
            .sum();
    assert!(passivated > 0, "the run passivated actors");
    assert!(d.checkpoint().await.unwrap());
    let before = d.states().await;
    let r = recount(&before);
    assert!(r.conservation_ok && sim.sent().matches(&r), "{r:#?}");
    d.rt.stop();
    drop(d);

    h.reopen().await;
    let d = Driver::start(&cfg, h.store());
    assert_eq!(
        d.rt.live_actors(),
        [0, 0, 0, 0, 0, 0],
        "nothing is loaded at start"
    );
    // One entity of each kind, on demand.
    let m = before
        .iter()
        .find_map(|s| match s {
            Snapshot::Machine(m) => Some(m.id.clone()),
            _ => None,
        })
        .unwrap();
    let got = d.rt.inspect::<MachineEntity>(&m).await.unwrap().unwrap();
    assert!(before.contains(&got));
    let w = before
        .iter()
        .find_map(|s| match s {
            Snapshot::Wallet(w) => Some(w.id.clone()),
            _ => None,
        })
        .unwrap();
    let got = d.rt.inspect::<WalletEntity>(&w).await.unwrap().unwrap();
    assert!(before.contains(&got));
    assert_same_states(&d.states().await, &before);

    // And it goes on from there.
    let more = messages(&mut sim, 2_000, T0 + 8_000 * 20);
    let mut d = d;
    d.sent = 8_000;
    d.feed(&more).await;
    assert!(d.checkpoint().await.unwrap());
    let r = recount(&d.states().await);
    assert!(r.conservation_ok && sim.sent().matches(&r), "{r:#?}");
    d.rt.stop();
    let report = audit(h.audit_source().as_ref()).await.unwrap();
    assert!(report.ok(), "{:#?}", report.differences);
}

/// A crash between checkpoints, then a replay from `replay_from` (at or before the stored
/// position: Kafka may hand back input the store already reflects).
async fn crash_and_replay(mut h: Harness, back: usize) {
    let cfg = small_network();
    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = messages(&mut sim, 6_000, T0);
    let mut d = Driver::start(&cfg, h.store());
    d.feed(&msgs[..3_000]).await;
    assert!(d.checkpoint().await.unwrap());
    d.feed(&msgs[3_000..5_000]).await;
    // The crash: no checkpoint, everything since the last one is lost with the process.
    d.rt.stop();
    drop(d);
    h.reopen().await;
    let stored = h.store().positions().await.unwrap();
    assert_eq!(stored.len(), 1);
    let from = stored[0].next_offset as usize - back;
    let mut d = Driver::start(&cfg, h.store());
    d.sent = from as u64;
    d.feed(&msgs[from..]).await;
    assert!(d.checkpoint().await.unwrap());
    let after = d.states().await;
    let r = recount(&after);
    assert!(
        r.conservation_ok && sim.sent().matches(&r),
        "no loss, no double count: sent {:?} vs {r:#?}",
        sim.sent()
    );
    d.rt.stop();
    let report = audit(h.audit_source().as_ref()).await.unwrap();
    assert!(report.ok(), "{:#?}", report.differences);
}

#[actix_rt::test]
async fn embedded_restart_is_exact_and_lazy() {
    restart_is_exact_and_lazy(Harness::embedded()).await;
}

#[actix_rt::test]
async fn cql_restart_is_exact_and_lazy() {
    restart_is_exact_and_lazy(Harness::kassandra().await).await;
}

#[actix_rt::test]
async fn embedded_crash_then_replay_from_the_stored_position() {
    crash_and_replay(Harness::embedded(), 0).await;
}

#[actix_rt::test]
async fn embedded_crash_then_replay_of_input_already_stored() {
    crash_and_replay(Harness::embedded(), 500).await;
}

#[actix_rt::test]
async fn cql_crash_then_replay_of_input_already_stored() {
    crash_and_replay(Harness::kassandra().await, 500).await;
}
