//! The store contract: one suite, run against every store — in memory, embedded (redb in a
//! temporary directory), the ScyllaDB adapter against an in-process CQL server (kassandra),
//! and the ScyllaDB adapter against a real ScyllaDB (ignored unless run with `--ignored` and
//! `SCYLLA_URI=host:port`). Each test gets its own directory or keyspace.

use std::sync::Arc;

use crate::support::Harness;
use pitboss::store::audit;
use pitboss_actors::domain::desk::DeskState;
use pitboss_actors::domain::ggr::HallState;
use pitboss_actors::domain::jackpot::{LevelConfig, PoolConfig, PoolState, MICRO};
use pitboss_actors::domain::machine::{
    EpochMarks, LogEntry, MachineProfile, MachineState, MeterReport,
};
use pitboss_actors::domain::voucher::VoucherState;
use pitboss_actors::domain::wallet::{
    TxKey, TxRecord, WalletCommand, WalletEffect, WalletMeta, WalletOp, WalletRules, WalletState,
};
use pitboss_actors::domain::{
    Amount, AttendantId, Currency, EventId, HallId, LogCode, MachineId, PlayerId, PoolId,
    ReportedMeter, RoundId, ServerId, Timestamp, TxId, ValidationNo,
};
use pitboss_actors::shell::{
    EntityKey, LedgerEntry, Movement, Position, Snapshot, Stash, StateStore, Stored,
};

const T0: i64 = 1_800_000_000_000;

fn eur() -> Currency {
    Currency::new("EUR").unwrap()
}

fn entry(n: u64, kind: Movement, amount: i64, balance: i64) -> LedgerEntry {
    LedgerEntry {
        n,
        kind,
        level: 0,
        amount,
        balance,
        cause: EventId(0x1000 + n as u128),
        causes: 1,
        time: Timestamp(T0 + n as i64 * 1000),
    }
}

/// A wallet after `deposits` deposits of 1,000 and a bet of 100 per deposit, with its
/// ledger (movements numbered from 1).
fn wallet(id: &str, deposits: u64) -> (WalletState, Vec<LedgerEntry>) {
    let mut w = WalletState::new(PlayerId::new(id).unwrap(), eur(), 0, 64);
    let mut ledger = Vec::new();
    let meta = WalletMeta {
        event_id: EventId(1),
        time: Timestamp(T0),
        hall: HallId::new("ONLINE-1").unwrap(),
    };
    let mut fx = Vec::new();
    for i in 0..deposits {
        for (j, op) in [
            WalletOp::Deposit(Amount::new(1000).unwrap()),
            WalletOp::Bet(Amount::new(100).unwrap()),
        ]
        .into_iter()
        .enumerate()
        {
            let kind = if j == 0 {
                Movement::Deposit
            } else {
                Movement::Bet
            };
            let amount = if j == 0 { 1000 } else { -100 };
            let cmd = WalletCommand {
                provider: ServerId::new("GS-1").unwrap(),
                tx: TxId::new(&format!("T-{i}-{j}")).unwrap(),
                op,
                round: None,
            };
            w.apply(
                &meta,
                &cmd,
                Some(eur()),
                &WalletRules::default(),
                &Vec::new(),
                &mut fx,
            )
            .unwrap();
            ledger.push(entry(w.ops, kind, amount, w.balance));
        }
    }
    w.assert_invariants();
    (w, ledger)
}

/// A wallet with cashless transfers (RULES.md W-10), built by the core: a deposit of 1,000,
/// two holds (400 and 300), the first taken by its machine as 350 (50 settled back), the
/// second still held, and 120 from a machine; its ledger from the core's own movements.
fn wallet_with_transfers(id: &str) -> (WalletState, Vec<LedgerEntry>) {
    use pitboss_actors::domain::transfer::{Direction, TransferFact};
    let mut w = WalletState::new(PlayerId::new(id).unwrap(), eur(), 0, 64);
    let meta = |n: u128| WalletMeta {
        event_id: EventId(0x2000 + n),
        time: Timestamp(T0 + n as i64),
        hall: HallId::new("ONLINE-1").unwrap(),
    };
    let machine = MachineId::new("M-1").unwrap();
    let amount = |a: i64| Amount::new(a).unwrap();
    let mut fx = Vec::new();
    let ops = [
        ("D-1", WalletOp::Deposit(amount(1_000))),
        (
            "X-1",
            WalletOp::TransferRequest {
                machine: machine.clone(),
                amount: amount(400),
                credit: Default::default(),
            },
        ),
        (
            "X-2",
            WalletOp::TransferRequest {
                machine: machine.clone(),
                amount: amount(300),
                credit: Default::default(),
            },
        ),
    ];
    for (n, (tx, op)) in ops.into_iter().enumerate() {
        let cmd = WalletCommand {
            provider: ServerId::new("AFT-1").unwrap(),
            tx: TxId::new(tx).unwrap(),
            op,
            round: None,
        };
        let rules = WalletRules::default();
        w.apply(
            &meta(n as u128),
            &cmd,
            Some(eur()),
            &rules,
            &Vec::new(),
            &mut fx,
        )
        .unwrap();
    }
    for (n, transfer, direction, a) in [
        (3, "X-1", Direction::ToMachine, 350),
        (4, "X-3", Direction::FromMachine, 120),
    ] {
        let fact = TransferFact {
            transfer: TxId::new(transfer).unwrap(),
            machine: machine.clone(),
            direction,
            amount: amount(a),
            credit: Default::default(),
            seq: n as u64,
        };
        w.apply_transfer(&meta(n), &fact, &WalletRules::default(), &mut fx)
            .unwrap();
    }
    w.assert_invariants();
    let ledger: Vec<LedgerEntry> = fx
        .iter()
        .filter_map(|e| match e {
            WalletEffect::Changed {
                kind,
                delta,
                balance,
                ..
            } => Movement::of_wallet(*kind).map(|m| (m, *delta, *balance)),
            _ => None,
        })
        .enumerate()
        .map(|(i, (m, delta, balance))| entry(i as u64 + 1, m, delta, balance))
        .collect();
    assert_eq!(
        (
            w.balance,
            w.held(),
            w.totals.to_machines,
            w.totals.from_machines
        ),
        (1_000 - 400 - 300 + 50 + 120, 300, 350, 120)
    );
    (w, ledger)
}

/// A wallet with a bonus account (RULES.md W-12), built by the core: a deposit of 100, an
/// award of 500 to wager once, 200 of it sent to a machine as restricted credits, a bet of
/// 400 (100 cash, 300 bonus), its win of 200 split 150 to the bonus, and a bet of 100 that
/// meets the wagering (50 and 50), so the 100 left converts; its ledger at both levels.
fn wallet_with_bonus(id: &str) -> (WalletState, Vec<LedgerEntry>) {
    use pitboss_actors::domain::transfer::{CreditType, Direction, TransferFact};
    let mut w = WalletState::new(PlayerId::new(id).unwrap(), eur(), 0, 64);
    let meta = |n: u128| WalletMeta {
        event_id: EventId(0x3000 + n),
        time: Timestamp(T0 + n as i64),
        hall: HallId::new("ONLINE-1").unwrap(),
    };
    let machine = MachineId::new("M-1").unwrap();
    let amount = |a: i64| Amount::new(a).unwrap();
    let rules = WalletRules::default();
    let mut fx = Vec::new();
    let mut apply = |w: &mut WalletState, n: u128, tx: &str, op| {
        let cmd = WalletCommand {
            provider: ServerId::new("PROMO-1").unwrap(),
            tx: TxId::new(tx).unwrap(),
            op,
            round: None,
        };
        w.apply(&meta(n), &cmd, Some(eur()), &rules, &Vec::new(), &mut fx)
            .unwrap();
    };
    apply(&mut w, 0, "D-1", WalletOp::Deposit(amount(100)));
    let award = WalletOp::BonusAward {
        amount: amount(500),
        wagering: 1,
        expires: Timestamp(T0 + 86_400_000),
    };
    apply(&mut w, 1, "A-1", award);
    let request = WalletOp::TransferRequest {
        machine: machine.clone(),
        amount: amount(200),
        credit: CreditType::Restricted,
    };
    apply(&mut w, 2, "X-1", request);
    let fact = TransferFact {
        transfer: TxId::new("X-1").unwrap(),
        machine,
        direction: Direction::ToMachine,
        amount: amount(200),
        credit: CreditType::Restricted,
        seq: 1,
    };
    w.apply_transfer(&meta(3), &fact, &rules, &mut fx).unwrap();
    let mut apply = |w: &mut WalletState, n: u128, tx: &str, op| {
        let cmd = WalletCommand {
            provider: ServerId::new("GS-1").unwrap(),
            tx: TxId::new(tx).unwrap(),
            op,
            round: None,
        };
        w.apply(&meta(n), &cmd, Some(eur()), &rules, &Vec::new(), &mut fx)
            .unwrap();
    };
    apply(&mut w, 4, "B-1", WalletOp::Bet(amount(400)));
    let win = WalletOp::Win {
        amount: amount(200),
        bet_tx: Some(TxId::new("B-1").unwrap()),
    };
    apply(&mut w, 5, "W-1", win);
    apply(&mut w, 6, "B-2", WalletOp::Bet(amount(100)));
    w.assert_invariants();
    let ledger: Vec<LedgerEntry> = fx
        .iter()
        .filter_map(|e| match e {
            WalletEffect::Changed {
                kind,
                level,
                delta,
                balance,
                ..
            } => Movement::of_wallet(*kind).map(|m| (m, *level, *delta, *balance)),
            _ => None,
        })
        .enumerate()
        .map(|(i, (m, level, delta, balance))| LedgerEntry {
            level,
            ..entry(i as u64 + 1, m, delta, balance)
        })
        .collect();
    let b = w.bonus.as_deref().cloned().unwrap();
    assert_eq!(
        (
            w.balance,
            b.balance,
            b.staked,
            b.won,
            b.converted,
            b.to_machines
        ),
        (100, 0, 350, 150, 100, 200)
    );
    (w, ledger)
}

/// A machine with `bills` bills of 500 in and one bet of 200, with its ledger.
fn machine(id: &str, bills: u64) -> (MachineState, Vec<LedgerEntry>) {
    let profile = MachineProfile {
        hall: HallId::new("H-001").unwrap(),
        currency: eur(),
        pools: vec![PoolId::new("WAP-1").unwrap()],
        large_cash_in_alert_minor: 0,
        handpay_threshold_minor: 0,
    };
    let mut m = MachineState::new(MachineId::new(id).unwrap(), profile);
    let mut ledger = Vec::new();
    for i in 0..bills {
        m.meters.bills_in += 500;
        m.credits += 500;
        ledger.push(entry(i + 1, Movement::BillIn, 500, m.credits));
    }
    m.meters.coin_in += 200;
    m.credits -= 200;
    m.marks = vec![EpochMarks {
        epoch: 0,
        high: bills + 1,
        holes: Vec::new(),
        forgotten: Vec::new(),
    }];
    m.effect_seq = bills + 1;
    ledger.push(entry(bills + 1, Movement::Bet, -200, m.credits));
    m.assert_invariants();
    (m, ledger)
}

struct NoHits;

impl pitboss_actors::domain::jackpot::HitPointSource for NoHits {
    fn draw(&mut self, _: &PoolId, _: u8, _: u64, _lo: i64, hi: i64) -> i64 {
        hi
    }
}

/// A pool with one level, seeded, and one aggregated contribution.
fn pool(id: &str) -> (PoolState, Vec<LedgerEntry>) {
    let config = PoolConfig {
        currency: eur(),
        levels: vec![LevelConfig {
            name: "mini".into(),
            seed: 1000,
            contribution_ppm: 10_000,
            ceiling: Some(1_000_000),
            mystery: true,
            min_bet: 0,
        }],
    };
    let mut p = PoolState::new(PoolId::new(id).unwrap(), config, &mut NoHits).unwrap();
    let l = &mut p.levels[0];
    // A contribution of 1% of a bet of 250: 2.5 minor units.
    l.contributed_micro += 2_500_000;
    l.level += 2;
    l.frac += 500_000;
    p.assert_invariants();
    let held =
        |l: &pitboss_actors::domain::jackpot::LevelState| (l.level + l.reserve) * MICRO + l.frac;
    let mut seed = entry(1, Movement::Seed, 1000 * MICRO, 1000 * MICRO);
    seed.causes = 0;
    let mut contrib = entry(2, Movement::Contribution, 2_500_000, held(&p.levels[0]));
    contrib.causes = 3;
    (p, vec![seed, contrib])
}

fn hall(id: &str) -> HallState {
    let mut h = HallState::new(HallId::new(id).unwrap());
    let delta = pitboss_actors::domain::machine::GgrDelta {
        source: pitboss_actors::domain::SourceKey::Machine(MachineId::new("M-1").unwrap()),
        seq: 1,
        cause: pitboss_actors::domain::EventId(1),
        hall: h.id.clone(),
        window: Timestamp(T0).window_start(),
        bets: 200,
        wins: 50,
        games: 1,
        jackpots: 0,
        promo: 0,
    };
    h.apply(&delta).unwrap();
    h
}

/// A voucher a machine printed and a desk redeemed (RULES.md V), with its ledger: the
/// liability up at the issue, down at the redemption.
fn voucher(number: &str) -> (VoucherState, Vec<LedgerEntry>) {
    use pitboss_actors::domain::voucher::{
        Party, VoucherCommand, VoucherEffect, VoucherFact, VoucherMeta, VoucherOp, VoucherPolicy,
    };
    let mut v = VoucherState::new(ValidationNo::new(number).unwrap(), eur());
    let policy = VoucherPolicy::default();
    let meta = |n: u128| VoucherMeta {
        event_id: EventId(0x2000 + n),
        time: Timestamp(T0 + n as i64 * 1000),
        hall: HallId::new("H-001").unwrap(),
    };
    let desk = Party::Desk(ServerId::new("DESK-1").unwrap());
    let cmd = |tx: &str, op| VoucherCommand {
        party: desk.clone(),
        tx: TxId::new(tx).unwrap(),
        op,
    };
    let mut fx = Vec::new();
    let printed = VoucherFact::Printed(MachineId::new("M-1").unwrap(), Amount::new(2_500).unwrap());
    v.apply_fact(&meta(1), &printed, &policy, &mut fx).unwrap();
    let redeem = cmd("R-1", VoucherOp::Redeem(Amount::new(2_500).unwrap()));
    v.apply(&meta(2), &redeem, eur(), &policy, &mut fx).unwrap();
    v.apply(
        &meta(3),
        &cmd("C-1", VoucherOp::Commit),
        eur(),
        &policy,
        &mut fx,
    )
    .unwrap();
    let ledger = fx
        .iter()
        .filter_map(|e| match e {
            VoucherEffect::Moved {
                kind,
                delta,
                liability,
                time,
            } => Some((*kind, *delta, *liability, *time)),
            _ => None,
        })
        .enumerate()
        .map(|(i, (kind, delta, liability, time))| LedgerEntry {
            n: i as u64 + 1,
            kind: kind.into(),
            level: 0,
            amount: delta,
            balance: liability,
            cause: EventId(0x2000 + if i == 0 { 1 } else { 3 }),
            causes: 1,
            time,
        })
        .collect();
    (v, ledger)
}

/// A desk with a closed shift and an open one, a ticket sold in each, and one paid with no
/// shift open (RULES.md D), with its ledger from its own effects.
fn desk(id: &str) -> (DeskState, Vec<LedgerEntry>) {
    use pitboss_actors::domain::desk::{
        CashDir, CashSource, DeskCash, DeskCommand, DeskEffect, DeskMeta, DeskOp,
    };
    let mut d = DeskState::new(ServerId::new(id).unwrap(), eur());
    let meta = |n: u128| DeskMeta {
        event_id: EventId(0x3000 + n),
        time: Timestamp(T0 + n as i64 * 1000),
        hall: HallId::new("H-001").unwrap(),
    };
    let mut fx = Vec::new();
    let mut causes = Vec::new();
    let mut cmd = |d: &mut DeskState, n: u128, tx: &str, op, fx: &mut Vec<DeskEffect>| {
        let before = fx.len();
        let c = DeskCommand {
            tx: TxId::new(tx).unwrap(),
            op,
        };
        d.apply(&meta(n), &c, eur(), fx).unwrap();
        causes.extend(std::iter::repeat_n(n, fx.len() - before));
    };
    cmd(
        &mut d,
        2,
        "S-1",
        DeskOp::Open {
            cashier: "C-7".into(),
            float: 10_000,
        },
        &mut fx,
    );
    cmd(&mut d, 4, "S-2", DeskOp::Close { counted: 12_000 }, &mut fx);
    cmd(
        &mut d,
        5,
        "S-3",
        DeskOp::Open {
            cashier: "C-8".into(),
            float: 5_000,
        },
        &mut fx,
    );
    let mut causes2 = causes.clone();
    for (n, dir, amount, source) in [
        (1, CashDir::Out, 700, CashSource::Ticket),
        (3, CashDir::In, 2_500, CashSource::Wallet),
        (6, CashDir::In, 100, CashSource::Ticket),
    ] {
        let before = fx.len();
        d.apply_cash(&meta(n), DeskCash { dir, amount }, source, &mut fx)
            .unwrap();
        causes2.extend(std::iter::repeat_n(n, fx.len() - before));
    }
    let ledger = fx
        .iter()
        .zip(causes2)
        .filter_map(|(e, n)| match e {
            DeskEffect::Moved {
                kind,
                level,
                delta,
                balance,
                time,
                ..
            } => Some((*kind, *level, *delta, *balance, *time, n)),
            _ => None,
        })
        .enumerate()
        .map(|(i, (kind, level, delta, balance, time, n))| LedgerEntry {
            n: i as u64 + 1,
            kind: kind.into(),
            level,
            amount: delta,
            balance,
            cause: EventId(0x3000 + n),
            causes: 1,
            time,
        })
        .collect();
    (d, ledger)
}

fn stash(snapshot: Snapshot, ledger: Vec<LedgerEntry>) -> Stash {
    Stash {
        snapshot,
        movements: ledger.last().map_or(0, |e| e.n),
        ledger,
        txs: Vec::new(),
        log: Vec::new(),
    }
}

fn key_w(id: &str) -> EntityKey {
    EntityKey::Wallet(PlayerId::new(id).unwrap())
}

async fn load(s: &Arc<dyn StateStore>, k: &EntityKey) -> Option<Stored> {
    s.load(k).await.expect("load")
}

async fn flush(h: &Harness) {
    let durable = h.store().flush().await.expect("flush");
    assert_eq!(durable, h.durable(), "flush reports durability");
}

async fn assert_audit_clean(h: &Harness) {
    let r = audit(h.audit_source().as_ref()).await.expect("audit");
    assert!(r.ok(), "audit differences: {:#?}", r.differences);
}

// ---- the suite ----

async fn missing_entities_load_as_none(h: Harness) {
    assert_eq!(load(&h.store(), &key_w("nobody")).await, None);
    assert!(h.store().all().await.unwrap().is_empty());
}

async fn stashed_states_load_before_and_after_flush_and_restart(mut h: Harness) {
    let (w, wl) = wallet("P-1", 3);
    let (m, ml) = machine("M-1", 4);
    let (p, pl) = pool("WAP-1");
    let hl = hall("H-001");
    let (v, vl) = voucher("000000000000000042");
    assert_eq!(vl.len(), 2, "issued and redeemed");
    let (wt, wtl) = wallet_with_transfers("P-AFT");
    assert_eq!(wtl.len(), 5, "deposit, two holds, a settle, one in");
    let (wb, wbl) = wallet_with_bonus("P-BONUS");
    let (k, kl) = desk("CAGE-1");
    assert_eq!(k.closed.len(), 1);
    assert_eq!(
        kl.len(),
        7,
        "two floats, a close, a ticket paid unshifted, two sold, a revision"
    );
    let stashes = vec![
        stash(Snapshot::Desk(k), kl),
        stash(Snapshot::Wallet(wt), wtl),
        stash(Snapshot::Wallet(wb), wbl),
        stash(Snapshot::Wallet(w), wl),
        stash(Snapshot::Machine(m), ml),
        stash(Snapshot::Pool(p), pl),
        stash(Snapshot::Hall(hl), Vec::new()),
        stash(Snapshot::Voucher(v), vl),
    ];
    let s = h.store();
    for st in &stashes {
        s.stash(st.clone());
    }
    // Visible before any flush.
    for st in &stashes {
        let got = load(&s, &st.snapshot.key()).await.expect("stashed state");
        assert_eq!(got.snapshot, st.snapshot);
        assert_eq!(got.movements, st.movements);
    }
    if h.durable() {
        assert!(s.backlog() > 0, "stashed rows wait for the flush");
    }
    flush(&h).await;
    assert_eq!(s.backlog(), 0);
    assert!(s.healthy());
    drop(s);
    h.reopen().await;
    let s = h.store();
    for st in &stashes {
        let got = load(&s, &st.snapshot.key())
            .await
            .unwrap_or_else(|| panic!("{:?} lost across a restart", st.snapshot.key()));
        assert_eq!(got.snapshot, st.snapshot, "exact round trip");
        assert_eq!(got.movements, st.movements);
    }
    let mut all: Vec<String> = s
        .all()
        .await
        .unwrap()
        .iter()
        .map(|x| format!("{:?}", x.key()))
        .collect();
    all.sort();
    assert_eq!(all.len(), 8, "{all:?}");
    assert_audit_clean(&h).await;
}

/// RULES.md W-1: every answer is stored with its checkpoint and read back by key (pending,
/// flushed, after a restart); the latest record of a key wins; an unknown key is `None`. A
/// record keeps its command's round (RULES.md E-2, W-2).
async fn wallet_transactions_are_recalled_before_and_after_flush_and_restart(mut h: Harness) {
    let mut w = WalletState::new(PlayerId::new("P-7").unwrap(), eur(), 0, 2);
    let meta = WalletMeta {
        event_id: EventId(9),
        time: Timestamp(T0),
        hall: HallId::new("ONLINE-1").unwrap(),
    };
    let mut fx = Vec::new();
    let c = |tx: &str, op| WalletCommand {
        provider: ServerId::new("GS-1").unwrap(),
        tx: TxId::new(tx).unwrap(),
        op,
        // The bet and its rollback name their game round.
        round: ["B-1", "R-1"]
            .contains(&tx)
            .then(|| RoundId::new("G-77").unwrap()),
    };
    for (tx, op) in [
        ("D-1", WalletOp::Deposit(Amount::new(1000).unwrap())),
        ("B-1", WalletOp::Bet(Amount::new(100).unwrap())),
        (
            "R-1",
            WalletOp::Rollback {
                bet_tx: TxId::new("B-1").unwrap(),
            },
        ),
        (
            "R-2",
            WalletOp::Rollback {
                bet_tx: TxId::new("B-9").unwrap(),
            },
        ),
    ] {
        let _ = w.apply(
            &meta,
            &c(tx, op),
            Some(eur()),
            &WalletRules::default(),
            &Vec::new(),
            &mut fx,
        );
    }
    let txs: Vec<(TxKey, TxRecord)> = fx
        .iter()
        .filter_map(|e| match e {
            WalletEffect::Remember(k, r) => Some((k.clone(), r.clone())),
            _ => None,
        })
        .collect();
    // The latest record per key, as the store must return it.
    let mut want = std::collections::BTreeMap::new();
    for (k, r) in &txs {
        want.insert(k.clone(), r.clone());
    }
    assert!(
        want.values()
            .any(|r| matches!(r, TxRecord::Answered(a) if a.round.is_some())),
        "some records name a round"
    );
    let mut keys: Vec<TxKey> = want.keys().cloned().collect();
    keys.push(TxKey {
        provider: ServerId::new("GS-2").unwrap(),
        tx: TxId::new("D-1").unwrap(),
    });
    // A missing key that sorts before stored ones: a server that read `tx = ?` as
    // `tx >= ?` would answer it with another transaction's record.
    keys.push(TxKey {
        provider: ServerId::new("GS-1").unwrap(),
        tx: TxId::new("A-0").unwrap(),
    });
    let expected: Vec<(TxKey, Option<TxRecord>)> = keys
        .iter()
        .map(|k| (k.clone(), want.get(k).cloned()))
        .collect();
    let player = w.id.clone();
    let s = h.store();
    let mut st = Stash::state(Snapshot::Wallet(w));
    st.txs = txs;
    s.stash(st);
    assert_eq!(s.recall(&player, &keys).await.unwrap(), expected, "pending");
    flush(&h).await;
    assert_eq!(s.recall(&player, &keys).await.unwrap(), expected, "flushed");
    drop(s);
    h.reopen().await;
    let s = h.store();
    if h.durable() {
        assert_eq!(
            s.recall(&player, &keys).await.unwrap(),
            expected,
            "after a restart"
        );
    }
}

async fn repeated_stashes_of_one_entity_coalesce(mut h: Harness) {
    let s = h.store();
    let (_, full) = wallet("P-2", 20);
    for k in 1..=20u64 {
        let (w, _) = wallet("P-2", k);
        // Each stash hands over the two movements since the previous one.
        let new: Vec<_> = full[(2 * (k - 1)) as usize..(2 * k) as usize].to_vec();
        s.stash(stash(Snapshot::Wallet(w), new));
    }
    if h.durable() {
        assert_eq!(s.backlog(), 1 + 40, "one state, forty ledger entries");
    }
    flush(&h).await;
    drop(s);
    h.reopen().await;
    let (last, _) = wallet("P-2", 20);
    let got = load(&h.store(), &key_w("P-2")).await.expect("stored");
    assert_eq!(got.snapshot, Snapshot::Wallet(last));
    assert_eq!(got.movements, 40);
    assert_audit_clean(&h).await;
}

async fn the_ledger_continues_across_flushes_and_restarts(mut h: Harness) {
    let (_, full) = wallet("P-3", 6);
    for round in 0..3u64 {
        let (w, _) = wallet("P-3", 2 * (round + 1));
        let new = full[(4 * round) as usize..(4 * (round + 1)) as usize].to_vec();
        h.store().stash(stash(Snapshot::Wallet(w), new));
        flush(&h).await;
        h.reopen().await;
        let got = load(&h.store(), &key_w("P-3")).await.expect("stored");
        assert_eq!(got.movements, 4 * (round + 1));
        assert_audit_clean(&h).await;
    }
}

async fn flushing_nothing_is_cheap_and_true(h: Harness) {
    flush(&h).await;
    flush(&h).await;
    assert_eq!(h.store().backlog(), 0);
}

async fn all_lists_stored_and_pending_states(h: Harness) {
    let s = h.store();
    let (a, al) = wallet("P-a", 1);
    s.stash(stash(Snapshot::Wallet(a), al));
    flush(&h).await;
    let (b, bl) = wallet("P-b", 1);
    s.stash(stash(Snapshot::Wallet(b), bl));
    // P-a is stored, P-b only stashed: both are listed, once each.
    let (a2, _) = wallet("P-a", 2);
    s.stash(Stash {
        snapshot: Snapshot::Wallet(a2.clone()),
        movements: 4,
        ledger: Vec::new(),
        txs: Vec::new(),
        log: Vec::new(),
    });
    let all = s.all().await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(
        all.contains(&Snapshot::Wallet(a2)),
        "the pending state wins"
    );
}

async fn positions_are_stored_with_the_checkpoint(mut h: Harness) {
    let s = h.store();
    s.stash_position(Position {
        topic: "pitboss.game-events".into(),
        partition: 3,
        next_offset: 1200,
    });
    s.stash_position(Position {
        topic: "pitboss.game-events".into(),
        partition: 3,
        next_offset: 1500,
    });
    s.stash_position(Position {
        topic: "pitboss.internal.pool-commands".into(),
        partition: 0,
        next_offset: 7,
    });
    flush(&h).await;
    drop(s);
    h.reopen().await;
    let mut got = h.store().positions().await.unwrap();
    got.sort();
    if h.durable() {
        assert_eq!(
            got,
            vec![
                Position {
                    topic: "pitboss.game-events".into(),
                    partition: 3,
                    next_offset: 1500
                },
                Position {
                    topic: "pitboss.internal.pool-commands".into(),
                    partition: 0,
                    next_offset: 7
                },
            ]
        );
    } else {
        assert!(
            got.is_empty(),
            "a store that keeps nothing has no positions"
        );
    }
}

async fn the_audit_reports_differences(h: Harness) {
    let s = h.store();
    // A machine whose ledger misses a bill: credits 800 in the state, 300 from the ledger.
    let (m, mut ml) = machine("M-9", 2);
    ml.remove(1);
    ml[1].n = 2;
    let movements = 3;
    s.stash(Stash {
        snapshot: Snapshot::Machine(m),
        movements,
        ledger: ml,
        txs: Vec::new(),
        log: Vec::new(),
    });
    // A ledger with no state behind it cannot be stashed through the port; a wallet whose
    // deposits disagree can.
    let (mut w, wl) = wallet("P-9", 1);
    w.totals.deposits += 1;
    s.stash(stash(Snapshot::Wallet(w), wl));
    // A wallet whose ledger misses a transfer's settlement (RULES.md W-10).
    let (w, mut wl) = wallet_with_transfers("P-8");
    let settle = wl
        .iter()
        .position(|e| e.kind == Movement::TransferSettle)
        .unwrap();
    wl.remove(settle);
    for (i, e) in wl.iter_mut().enumerate() {
        e.n = i as u64 + 1;
    }
    let mut st = stash(Snapshot::Wallet(w), wl);
    st.movements += 1;
    s.stash(st);
    // A wallet whose ledger misses its bonus's conversion into cash (RULES.md W-12).
    let (w, mut wl) = wallet_with_bonus("P-7");
    wl.retain(|e| e.kind != Movement::BonusConvert);
    for (i, e) in wl.iter_mut().enumerate() {
        e.n = i as u64 + 1;
    }
    let mut st = stash(Snapshot::Wallet(w), wl);
    st.movements += 2;
    s.stash(st);
    flush(&h).await;
    let r = audit(h.audit_source().as_ref()).await.unwrap();
    let text = r.differences.join("\n");
    assert!(
        text.contains("machine M-9: credits is 800 in the state but 300 from the ledger"),
        "{text}"
    );
    assert!(
        text.contains("machine M-9: the state counts 3 movements"),
        "{text}"
    );
    assert!(
        text.contains("bills in is 1000 in the state but 500"),
        "{text}"
    );
    assert!(
        text.contains("wallet P-9: deposits is 1001 in the state but 1000 from the ledger"),
        "{text}"
    );
    assert!(
        text.contains("wallet P-8: to machines + held is 650 in the state but 700 from the ledger"),
        "{text}"
    );
    assert!(
        text.contains("wallet P-7: bonus converted is 100 in the state but 0 from the ledger"),
        "{text}"
    );
    assert!(!r.ok());
}

/// RULES.md, conservation and `pitboss audit`: an input applied twice, a running balance with
/// a break in it, and a store that marks input consumed but holds no state are all found.
async fn the_audit_finds_inputs_applied_twice_broken_chains_and_lost_state(h: Harness) {
    let s = h.store();
    // Consumed input, and nothing behind it.
    s.stash_position(Position {
        topic: "pitboss.game-events".into(),
        partition: 3,
        next_offset: 40,
    });
    flush(&h).await;
    let r = audit(h.audit_source().as_ref()).await.unwrap();
    if h.durable() {
        let text = r.differences.join("\n");
        assert!(
            text.contains(
                "records input consumed up to pitboss.game-events/3@40 but holds no state"
            ),
            "{text}"
        );
    } else {
        assert!(
            r.ok(),
            "a store that keeps no positions: {:?}",
            r.differences
        );
    }

    // Two bills booked under one input event: every sum agrees, the cause does not.
    let (m, mut ml) = machine("M-7", 2);
    ml[1].cause = ml[0].cause;
    s.stash(stash(Snapshot::Machine(m), ml));
    // A running balance that breaks and mends: the sums and the last balance agree.
    let (m, mut ml) = machine("M-6", 2);
    ml[0].balance -= 100;
    s.stash(stash(Snapshot::Machine(m), ml));
    flush(&h).await;
    let r = audit(h.audit_source().as_ref()).await.unwrap();
    let text = r.differences.join("\n");
    assert!(
        text.contains(&format!(
            "machine M-7: input {} moved its bill_in (level 0) twice, movements 1 and 2",
            EventId(0x1001)
        )),
        "{text}"
    );
    assert!(
        text.contains("machine M-6: movement 1 (chain 0) has balance 400, but the balance before it was 0 and it moved 500"),
        "{text}"
    );
    assert!(
        text.contains("machine M-6: movement 2 (chain 0) has balance 1000, but the balance before it was 400 and it moved 500"),
        "{text}"
    );
    assert!(!text.contains("machine M-6: credits"), "{text}");
    assert!(!text.contains("machine M-7: credits"), "{text}");
}

async fn stashes_during_a_flush_are_not_lost(mut h: Harness) {
    let s = h.store();
    for i in 0..50 {
        let (w, wl) = wallet(&format!("P-{i}"), 1);
        s.stash(stash(Snapshot::Wallet(w), wl));
    }
    let flushing = {
        let s = s.clone();
        tokio::spawn(async move { s.flush().await })
    };
    for i in 50..100 {
        let (w, wl) = wallet(&format!("P-{i}"), 1);
        s.stash(stash(Snapshot::Wallet(w), wl));
        tokio::task::yield_now().await;
    }
    // Everything stashed before this flush is durable when it resolves.
    let second = s.flush().await.unwrap();
    let first = flushing.await.unwrap().unwrap();
    assert_eq!((first, second), (h.durable(), h.durable()));
    drop(s);
    h.reopen().await;
    for i in 0..100 {
        assert!(
            load(&h.store(), &key_w(&format!("P-{i}"))).await.is_some(),
            "P-{i} lost"
        );
    }
    assert_audit_clean(&h).await;
}

/// A checkpoint is what was stashed until its `flush` call, even when its future is first
/// polled later (the processor's loop may take input first): a state stashed in between
/// waits for the next checkpoint. A flush called while another's batch waits writes that
/// batch and then its own stashes.
async fn a_flush_writes_what_was_stashed_until_its_call(mut h: Harness) {
    let s = h.store();
    let put = |s: &Arc<dyn StateStore>, id: &str| {
        let (w, wl) = wallet(id, 1);
        s.stash(stash(Snapshot::Wallet(w), wl));
    };
    put(&s, "P-A");
    let first = s.flush();
    put(&s, "P-B");
    assert_eq!(first.await.unwrap(), h.durable());
    drop(s);
    h.reopen().await;
    let s = h.store();
    assert!(load(&s, &key_w("P-A")).await.is_some(), "P-A lost");
    if h.durable() {
        assert!(
            load(&s, &key_w("P-B")).await.is_none(),
            "P-B, stashed after the flush call, was written with its checkpoint"
        );
    }

    put(&s, "P-C");
    let third = s.flush();
    put(&s, "P-D");
    let fourth = s.flush();
    put(&s, "P-E");
    // The later call resolves first: it wrote the batch the earlier call sealed, then its own.
    assert_eq!(fourth.await.unwrap(), h.durable());
    assert_eq!(
        s.backlog(),
        0,
        "what was stashed until the later call (P-D, and P-E with it) is written"
    );
    assert_eq!(third.await.unwrap(), h.durable());
    drop(s);
    h.reopen().await;
    let s = h.store();
    for id in ["P-A", "P-C", "P-D"] {
        assert!(load(&s, &key_w(id)).await.is_some(), "{id} lost");
    }
    drop(s);
    assert_audit_clean(&h).await;
}

/// Entries `from..=to` of a machine's event log (RULES.md M-9), each with its own meters.
fn log_entries(from: u64, to: u64) -> Vec<LogEntry> {
    (from..=to)
        .map(|n| {
            let mut meters = MeterReport::default();
            meters.set(ReportedMeter::CoinIn, n as i64 * 100);
            meters.set(ReportedMeter::GamesPlayed, n as i64);
            LogEntry {
                number: n,
                code: if n % 3 == 0 {
                    LogCode::Tilt
                } else {
                    LogCode::MeterSnapshot
                },
                time: Timestamp(T0 + n as i64),
                cause: EventId(u128::from(n) << 8),
                tilt: (n % 3 == 0).then_some(n as u32),
                amount: (n % 5 == 0).then_some(n as i64 * 10),
                attendant: (n % 5 == 0).then(|| AttendantId::new("ATT-9").unwrap()),
                meters,
            }
        })
        .collect()
}

async fn machine_log_pages_newest_first_before_and_after_flush_and_restart(mut h: Harness) {
    let (m1, _) = machine("M-1", 1);
    let (m10, _) = machine("M-10", 1);
    let id = m1.id.clone();
    let all = log_entries(1, 1_100);
    let s = h.store();
    let stash_log = |m: &MachineState, log: Vec<LogEntry>| {
        let mut st = Stash::state(Snapshot::Machine(m.clone()));
        st.log = log;
        st
    };
    // The first 600 durable, the rest only stashed; another machine whose id extends this
    // one's.
    s.stash(stash_log(&m1, all[..600].to_vec()));
    flush(&h).await;
    s.stash(stash_log(&m1, all[600..].to_vec()));
    s.stash(stash_log(&m10, log_entries(1, 3)));
    let numbers = |v: &[LogEntry]| v.iter().map(|e| e.number).collect::<Vec<_>>();
    let page = s.machine_log(&id, 1_101, 5).await.unwrap();
    assert_eq!(numbers(&page), vec![1_100, 1_099, 1_098, 1_097, 1_096]);
    assert_eq!(page[0], all[1_099], "the entry as stashed");
    // Across what is stashed and what is durable.
    let page = s.machine_log(&id, 603, 5).await.unwrap();
    assert_eq!(numbers(&page), vec![602, 601, 600, 599, 598]);
    flush(&h).await;
    // Across a CQL partition boundary (1,024 numbers a partition).
    let page = s.machine_log(&id, 1_030, 10).await.unwrap();
    assert_eq!(numbers(&page), (1_020..1_030).rev().collect::<Vec<_>>());
    drop(s);
    h.reopen().await;
    let s = h.store();
    if h.durable() {
        // Paging through the whole log gives every entry once, newest first, as stashed.
        let mut got = Vec::new();
        let mut before = 1_101;
        loop {
            let page = s.machine_log(&id, before, 100).await.unwrap();
            let Some(last) = page.last() else { break };
            before = last.number;
            got.extend(page);
        }
        let want: Vec<LogEntry> = all.iter().rev().cloned().collect();
        assert_eq!(got, want, "after a restart");
        assert_eq!(
            numbers(&s.machine_log(&m10.id, 4, 10).await.unwrap()),
            vec![3, 2, 1]
        );
        assert!(s.machine_log(&id, 1, 10).await.unwrap().is_empty());
    }
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $case() {
                super::$case(super::Harness::memory()).await
            })*
        }
        mod embedded {
            $(#[tokio::test]
            async fn $case() {
                super::$case(super::Harness::embedded()).await
            })*
        }
        mod kassandra {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::Harness::kassandra().await).await
            })*
        }
        /// Against a real ScyllaDB: `SCYLLA_URI=host:port`, with `--ignored`.
        mod scylla {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs a real ScyllaDB: set SCYLLA_URI"]
            async fn $case() {
                super::$case(super::Harness::scylla().await).await
            })*
        }
    };
}

suite!(
    missing_entities_load_as_none,
    stashed_states_load_before_and_after_flush_and_restart,
    repeated_stashes_of_one_entity_coalesce,
    the_ledger_continues_across_flushes_and_restarts,
    flushing_nothing_is_cheap_and_true,
    all_lists_stored_and_pending_states,
    positions_are_stored_with_the_checkpoint,
    the_audit_reports_differences,
    the_audit_finds_inputs_applied_twice_broken_chains_and_lost_state,
    stashes_during_a_flush_are_not_lost,
    a_flush_writes_what_was_stashed_until_its_call,
    wallet_transactions_are_recalled_before_and_after_flush_and_restart,
    machine_log_pages_newest_first_before_and_after_flush_and_restart,
);
