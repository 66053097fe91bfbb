//! Actor tests with the in-memory store: the actor pipeline must end in the same money state
//! as the single-threaded reference processor for the same events, also while actors are
//! passivated and reloaded under it; and the recount must balance.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitboss::config::Config;
use pitboss::direct::Direct;
use pitboss::pipeline::{Inflight, Ingest, SourcePos};
use pitboss::recount::recount;
use pitboss::rng::KeyedHitPoints;
use pitboss::sim::Simulator;
use pitboss::wire;
use pitboss_actors::domain::ggr::GgrTotals;
use pitboss_actors::domain::wallet::{Answer, TxRecord};
use pitboss_actors::domain::WalletOpKind;
use pitboss_actors::shell::{MemorySink, MemoryStore, Output, Runtime, Snapshot, WalletStatus};

fn small_network() -> Config {
    let mut cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
    cfg.sim.halls = 3;
    cfg.sim.machines_per_hall = 20;
    cfg.sim.players = 50;
    cfg.sim.malformed_per_million = 2_000;
    cfg.sim.progressive_hit_per_million = 20_000;
    cfg.runtime.arbiters = 2;
    // Small mailboxes so the ingest side meets backpressure.
    cfg.runtime.mailbox_len_max = 4;
    // RULES.md M-12: a hall and a machine of their own theoretical hold (the runtime reads
    // them per event, the reference too: the wallets' loyalty points must agree).
    cfg.runtime
        .theoretical_hold_percent_halls
        .insert("H-002".into(), rust_decimal::Decimal::new(525, 2));
    cfg.runtime
        .theoretical_hold_percent_machines
        .insert("M-001-00003".into(), rust_decimal::Decimal::new(31, 0));
    cfg
}

/// The part of a state that does not depend on how events of different entities interleave
/// (pool hits do: which machine's contribution reaches a hit point first is a race).
///
/// Jackpots are booked in halls as awards arrive (RULES.md H-1), so which hall window holds
/// them is order-dependent too; that every award paid is booked once in some hall is not:
/// it is checked here (the amounts themselves depend on the order).
fn order_free(states: &[Snapshot]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let (mut paid, mut booked) = (0i64, 0i64);
    for s in states {
        match s {
            Snapshot::Machine(m) => {
                let mut m = m.clone();
                paid += m.meters.jackpot_paid;
                m.meters.jackpot_paid = 0;
                m.awards.clear();
                // Which machine wins a mystery level depends on timing: its awards and their
                // numbering (award_seq) too.
                m.effect_seq = 0;
                m.award_seq = 0;
                out.insert(format!("machine {}", m.id), format!("{m:?}"));
            }
            Snapshot::Wallet(w) => {
                // Each answer's balance after it depends on when a machine's transfer reached
                // the wallet (RULES.md W-10: a fact from another actor, in no fixed order
                // with the player's commands); the final balance is compared, and every
                // answer's delta.
                let mut window: Vec<String> = w
                    .window
                    .iter()
                    .map(|(k, v)| {
                        let mut v = v.clone();
                        if let TxRecord::Answered(a) = &mut v {
                            if let Answer::Applied { balance, .. } = &mut a.answer {
                                *balance = 0;
                            }
                        }
                        format!("{k:?}={v:?}")
                    })
                    .collect();
                window.sort();
                // Loyalty points (RULES.md M-12) are summed over the player's sessions, in
                // any order.
                let points = w.loyalty.as_ref().map(|l| l.points);
                let fixed = (w.balance, &w.totals, w.ops, &w.window_order, points);
                out.insert(format!("wallet {}", w.id), format!("{fixed:?} {window:?}"));
            }
            Snapshot::Pool(p) => {
                let contributed: Vec<i128> = p.levels.iter().map(|l| l.contributed_micro).collect();
                out.insert(
                    format!("pool {}", p.id),
                    format!("{contributed:?} {:?}", p.last_seq.len()),
                );
            }
            Snapshot::Voucher(v) => {
                // Where a voucher ends and what it owes; its answers and alerts are not
                // order-free: a machine's ticket-in can reach it before the machine's own
                // redemption request (RULES.md V-5 counts it either way).
                let fixed = (
                    v.status.name(),
                    v.issue
                        .as_ref()
                        .map(|i| (i.amount, i.hall.clone(), i.by.clone())),
                    v.liability(),
                    v.unbacked,
                    v.reprinted,
                );
                out.insert(format!("voucher {}", v.number), format!("{fixed:?}"));
            }
            Snapshot::Desk(k) => {
                // What each shift and the desk booked; not when a voucher's cash reached the
                // desk (before or after a close: a revision, RULES.md D-5).
                let plain = |s: &pitboss_actors::domain::desk::ShiftFigures| {
                    let mut s = s.clone();
                    s.revision = 0;
                    s
                };
                let fixed = (
                    k.next,
                    k.open.as_ref().map(plain),
                    k.closed.iter().map(plain).collect::<Vec<_>>(),
                    (k.unshifted_in, k.unshifted_out, k.cash_in, k.cash_out),
                );
                out.insert(format!("desk {}", k.id), format!("{fixed:?}"));
            }
            Snapshot::Hall(h) => {
                booked += h.totals.jackpots;
                let no_jackpots = |t: &GgrTotals| GgrTotals {
                    jackpots: 0,
                    ..t.clone()
                };
                let windows: Vec<_> = h
                    .windows
                    .iter()
                    .map(|(k, w)| (*k, no_jackpots(&w.totals)))
                    .collect();
                out.insert(
                    format!("hall {}", h.id),
                    format!("{:?} {windows:?}", no_jackpots(&h.totals)),
                );
            }
        }
    }
    assert_eq!(paid, booked, "every jackpot paid is booked once in a hall");
    assert!(
        out.keys().any(|k| k.starts_with("voucher ")),
        "the simulator plays tickets (RULES.md V)"
    );
    out
}

fn assert_same(actual: &BTreeMap<String, String>, expected: &BTreeMap<String, String>) {
    let keys: Vec<_> = actual.keys().chain(expected.keys()).collect();
    for k in keys {
        assert_eq!(actual.get(k), expected.get(k), "entity {k} differs");
    }
}

async fn run_actors(
    cfg: &Config,
    msgs: &[pitboss::sim::SimMessage],
    passivate_every: Option<Duration>,
) -> (Vec<Snapshot>, Vec<Output>, u64) {
    let sink = Arc::new(MemorySink::default());
    let rt = Runtime::start(
        cfg.runtime_config().expect("runtime config"),
        sink.clone(),
        Arc::new(MemoryStore::default()),
        Arc::new(KeyedHitPoints::new(&cfg.runtime.hit_point_secret)),
        Arc::new(pitboss_actors::shell::SystemClock),
    );
    let ingest = Ingest::new(rt.clone());
    let inflight = Inflight::new(512);
    let mut last_sweep = Instant::now();
    for (i, chunk) in msgs.chunks(64).enumerate() {
        let ack = inflight
            .begin(chunk.len(), |ok| assert!(ok, "an input failed"))
            .await;
        for (j, m) in chunk.iter().enumerate() {
            let pos = SourcePos {
                partition: 0,
                offset: (i * 64 + j) as i64,
            };
            ingest
                .process(&m.bytes, Some(m.key.as_bytes()), pos, &ack)
                .await;
        }
        drop(ack);
        if let Some(every) = passivate_every {
            if last_sweep.elapsed() >= every {
                // Two sweeps: the first marks actors idle, the second passivates the ones
                // that stayed idle in between.
                rt.sweep_idle();
                last_sweep = Instant::now();
            }
        }
    }
    inflight.drained().await;
    rt.quiesce().await;
    let passivated: u64 = rt
        .stats
        .passivated
        .iter()
        .map(|a| a.load(std::sync::atomic::Ordering::Relaxed))
        .sum();
    let states = rt.collect().await.expect("collect");
    rt.stop();
    (states, sink.take(), passivated)
}

fn reference(cfg: &Config, msgs: &[pitboss::sim::SimMessage]) -> Vec<Snapshot> {
    let mut d = Direct::new(
        cfg.runtime_config().expect("runtime config"),
        &cfg.runtime.hit_point_secret,
    );
    for m in msgs {
        if let Ok(input) = wire::decode_input(&m.bytes) {
            d.apply(input);
        }
    }
    d.snapshots()
}

#[actix_rt::test]
async fn actors_match_the_reference_and_money_balances() {
    let cfg = small_network();
    let mut sim = Simulator::new(&cfg).expect("sim");
    let msgs: Vec<_> = (0..20_000)
        .map(|i| sim.next(1_800_000_000_000 + i * 20))
        .collect();
    let (states, outputs, _) = run_actors(&cfg, &msgs, None).await;
    let expected = reference(&cfg, &msgs);
    assert_same(&order_free(&states), &order_free(&expected));

    let r = recount(&states);
    assert!(r.conservation_ok, "{r:#?}");
    assert!(
        sim.sent().matches(&r),
        "simulator {:?} vs recount {r:#?}",
        sim.sent()
    );
    assert!(
        r.jackpot_hits > 0,
        "the scenario is meant to produce jackpot hits"
    );

    // Every malformed message was rejected with a reason and its position; every late bet
    // was refused.
    let rejected: Vec<_> = outputs
        .iter()
        .filter(|o| matches!(o, Output::Rejected { .. }))
        .collect();
    assert_eq!(rejected.len() as u64, sim.sent().malformed);
    for o in &rejected {
        if let Output::Rejected {
            reason,
            offset,
            original,
            ..
        } = o
        {
            assert!(!reason.is_empty());
            assert!(*offset >= 0);
            assert!(!original.is_empty());
        }
    }
    // W-5, W-6: a late bet under a tombstone is answered `refused` (`bet_rolled_back`), once
    // per key (a repeat republishes that answer under the same key).
    let late_bets_refused = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Wallet {
                player,
                provider,
                tx,
                kind: WalletOpKind::Bet,
                status:
                    WalletStatus::Refused {
                        code: "bet_rolled_back",
                        ..
                    },
                ..
            } => Some((player.clone(), provider.clone(), tx.clone())),
            _ => None,
        })
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    assert_eq!(late_bets_refused as u64, sim.sent().late_bets);
    let hits = outputs
        .iter()
        .filter(|o| matches!(o, Output::JackpotHit { .. }))
        .count();
    assert_eq!(hits as u64, r.jackpot_hits);
}

#[actix_rt::test]
async fn passivation_under_load_loses_nothing() {
    let mut cfg = small_network();
    cfg.sim.malformed_per_million = 0;
    let mut sim = Simulator::new(&cfg).expect("sim");
    let msgs: Vec<_> = (0..20_000)
        .map(|i| sim.next(1_800_000_000_000 + i * 20))
        .collect();
    let (states, _, passivated) = run_actors(&cfg, &msgs, Some(Duration::ZERO)).await;
    assert!(passivated > 0, "the test must actually passivate actors");
    let expected = reference(&cfg, &msgs);
    assert_same(&order_free(&states), &order_free(&expected));
    let r = recount(&states);
    assert!(r.conservation_ok, "{r:#?}");
    assert!(sim.sent().matches(&r));
}

#[actix_rt::test]
async fn redelivered_events_change_nothing() {
    let mut cfg = small_network();
    cfg.sim.malformed_per_million = 0;
    let mut sim = Simulator::new(&cfg).expect("sim");
    let msgs: Vec<_> = (0..5_000)
        .map(|i| sim.next(1_800_000_000_000 + i * 20))
        .collect();
    // Deliver everything, then the second half again (as after a crash before a commit).
    let mut twice = msgs.clone();
    twice.extend_from_slice(&msgs[2_500..]);
    let (once_states, _, _) = run_actors(&cfg, &msgs, None).await;
    let (twice_states, _, _) = run_actors(&cfg, &twice, None).await;
    assert_same(&order_free(&once_states), &order_free(&twice_states));
    let (once, twice) = (recount(&once_states), recount(&twice_states));
    assert!(once.conservation_ok && twice.conservation_ok);
    assert_eq!(
        (once.cash_in, once.bets, once.wins, once.ggr),
        (twice.cash_in, twice.bets, twice.wins, twice.ggr)
    );
}
