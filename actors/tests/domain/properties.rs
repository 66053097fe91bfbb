//! Property tests of the domain core over generated event sequences.
//!
//! - machine: credits reconcile with the meters, meters never go back, refusals change
//!   nothing, and redelivery of any earlier event (same sequence number) changes nothing;
//! - wallet: the balance follows an independent reference model, never falls below the
//!   credit line, and applying a whole sequence twice equals applying it once;
//! - jackpot pool: every level's books balance, mystery levels hit exactly at their drawn
//!   point and never pay above the ceiling, replays are duplicates;
//! - conservation: a small network (machines, a multi-level pool with a mystery level, a hall)
//!   wired as the shells wire it, with redeliveries at every hop, never loses or invents money.
//!
//! Case counts: `PROPTEST_CASES` overrides every property's default when set.

use std::collections::HashMap;

use pitboss_actors::domain::aml::CashDir;
use pitboss_actors::domain::ggr::HallState;
use pitboss_actors::domain::jackpot::{
    HitPointSource, JackpotHit, LevelConfig, PoolCommand, PoolConfig, PoolMeta, PoolState, MICRO,
};
use pitboss_actors::domain::machine::{
    theoretical_win, Alert, Applied, CashInKind, CashOutKind, EventMeta, GgrDelta, MachineCommand,
    MachineEffect, MachineEnv, MachineProfile, MachineState, PatronCashFact, PlayerCardIn,
    RatedSession, SessionEnd, SignificantEvent,
};
use pitboss_actors::domain::wallet::{
    Recalled, TxKey, TxRecord, WalletCommand, WalletEffect, WalletMeta, WalletOp, WalletReply,
    WalletRules, WalletState,
};
use pitboss_actors::domain::{
    Amount, Currency, DomainError, EventId, HallId, MachineId, PlayerId, PoolId, RoundId, ServerId,
    SkewLimits, SourceKey, Subject, Timestamp, TxId, WalletOpKind,
};
use proptest::prelude::*;
use proptest::sample::Index;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const T0: i64 = 1_700_000_000_000;
const M: i128 = MICRO as i128;
/// The theoretical hold sessions are rated with (RULES.md M-12): 8.75 %.
const HOLD_PPM: i64 = 87_500;
/// Loyalty points per minor unit of theoretical win, in millionths: 0.3.
const POINTS_MICRO: i64 = 300_000;

/// The number of cases: `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default),
        ..ProptestConfig::default()
    }
}

fn amount(minor: i64) -> Amount {
    Amount::new(minor).expect("generated amounts are valid")
}

fn eur() -> Currency {
    Currency::new("EUR").unwrap()
}

fn usd() -> Currency {
    Currency::new("USD").unwrap()
}

fn pool_id(id: &str) -> PoolId {
    PoolId::new(id).unwrap()
}

fn hall_id() -> HallId {
    HallId::new("H-1").unwrap()
}

// ---------------------------------------------------------------------------------------------
// Generators shared by the machine properties

fn cash_in_kind() -> impl Strategy<Value = CashInKind> {
    prop_oneof![
        Just(CashInKind::Bill),
        Just(CashInKind::Ticket(None)),
        Just(CashInKind::Cashless)
    ]
}

fn cash_out_kind() -> impl Strategy<Value = CashOutKind> {
    prop_oneof![
        Just(CashOutKind::Ticket(None)),
        Just(CashOutKind::Cashless),
        Just(CashOutKind::Handpay)
    ]
}

fn significant() -> impl Strategy<Value = SignificantEvent> {
    prop_oneof![
        Just(SignificantEvent::DoorOpen),
        Just(SignificantEvent::DoorClose),
        (0u32..5).prop_map(SignificantEvent::Tilt),
        Just(SignificantEvent::TiltClear),
        Just(SignificantEvent::CommsLost),
        Just(SignificantEvent::CommsRestored),
    ]
}

/// Machine commands; jackpot claims name one of `pools`.
fn machine_cmd(pools: &'static [&'static str]) -> impl Strategy<Value = MachineCommand> {
    prop_oneof![
        6 => (1i64..=500).prop_map(|a| MachineCommand::Bet(amount(a))),
        3 => (1i64..=800).prop_map(|a| MachineCommand::Win(amount(a))),
        3 => Just(MachineCommand::GameEnd),
        4 => (cash_in_kind(), 1i64..=5_000).prop_map(|(k, a)| MachineCommand::CashIn(k, amount(a))),
        2 => (cash_out_kind(), 1i64..=3_000).prop_map(|(k, a)| MachineCommand::CashOut(k, amount(a))),
        1 => prop::sample::select(&["P-A", "P-B"][..])
            .prop_map(|p| MachineCommand::CardIn(PlayerId::new(p).unwrap())),
        1 => Just(MachineCommand::CardOut),
        1 => (prop::sample::select(pools), 0u8..4)
            .prop_map(|(p, level)| MachineCommand::JackpotHit { pool: pool_id(p), level, amount: None }),
        1 => significant().prop_map(MachineCommand::Significant),
    ]
}

/// How far the next sequence number jumps: mostly 1, sometimes a gap.
fn seq_step() -> impl Strategy<Value = u64> {
    prop_oneof![12 => Just(1u64), 1 => 2u64..5]
}

// ---------------------------------------------------------------------------------------------
// (1) Machine

const LARGE: i64 = 4_000;

#[derive(Clone, Debug)]
enum MachineOp {
    /// A new event, `step` after the previous sequence number, maybe in a foreign currency.
    Event {
        step: u64,
        cmd: MachineCommand,
        foreign: bool,
    },
    /// Redelivery of an earlier event.
    Redeliver(Index),
    /// A jackpot award for the machine.
    Award { level: u8, hit: u64, amount: i64 },
}

fn machine_op() -> impl Strategy<Value = MachineOp> {
    prop_oneof![
        14 => (seq_step(), machine_cmd(&["P-1", "P-2", "P-9"]), prop::bool::weighted(0.04))
            .prop_map(|(step, cmd, foreign)| MachineOp::Event { step, cmd, foreign }),
        3 => any::<Index>().prop_map(MachineOp::Redeliver),
        1 => (0u8..2, 1u64..6, 1i64..10_000)
            .prop_map(|(level, hit, amount)| MachineOp::Award { level, hit, amount }),
    ]
}

fn test_machine() -> MachineState {
    MachineState::new(
        MachineId::new("M-1").unwrap(),
        MachineProfile {
            hall: hall_id(),
            currency: eur(),
            pools: vec![pool_id("P-1"), pool_id("P-2")],
            large_cash_in_alert_minor: LARGE,
            handpay_threshold_minor: 0,
        },
    )
}

/// Whether the machine must refuse `cmd`, judged from the state before it: facts are
/// counted (RULES.md M-2..M-4); only another currency or an unlinked pool's claim is refused.
fn machine_must_refuse(m: &MachineState, cmd: &MachineCommand, foreign: bool) -> bool {
    foreign
        || match cmd {
            MachineCommand::JackpotHit { pool, .. } => {
                !m.profile.pools.contains(pool)
                    || !m.game_open
                    || !m.status.online
                    || m.status.tilt.is_some()
            }
            _ => false,
        }
}

fn env() -> MachineEnv<'static> {
    MachineEnv {
        skew: SkewLimits::default(),
        profile_of: &|_| unreachable!("the test machine never moves"),
        hold_of: &|_| HOLD_PPM,
        loyalty_micro_points: POINTS_MICRO,
    }
}

fn without_alerts(fx: &[MachineEffect]) -> Vec<MachineEffect> {
    fx.iter()
        .filter(|e| !matches!(e, MachineEffect::Alert(_)))
        .cloned()
        .collect()
}

/// The money effects an accepted command must produce (significant events aside).
fn machine_money_effects(
    m: &MachineState,
    meta: &EventMeta,
    effect_seq: u64,
    cmd: &MachineCommand,
) -> Option<Vec<MachineEffect>> {
    let ggr = |bets, wins, games| {
        MachineEffect::Ggr(GgrDelta {
            source: SourceKey::Machine(m.id.clone()),
            seq: effect_seq,
            cause: meta.event_id,
            hall: hall_id(),
            window: meta.time.window_start(),
            bets,
            wins,
            games,
            jackpots: 0,
            promo: 0,
        })
    };
    let patron = |amount: i64, dir: CashDir| -> Vec<MachineEffect> {
        m.session
            .iter()
            .map(|p| {
                MachineEffect::Cash(Box::new(PatronCashFact {
                    player: p.clone(),
                    hall: hall_id(),
                    at: meta.time,
                    amount,
                    dir,
                }))
            })
            .collect()
    };
    let rated = |how: SessionEnd| {
        let (player, rating) = (m.session.clone()?, m.rating.as_deref()?.clone());
        let theoretical_win = theoretical_win(rating.coin_in, HOLD_PPM);
        Some(MachineEffect::Rated(Box::new(RatedSession {
            player,
            hall: hall_id(),
            rating,
            end: meta.time,
            ended_by: how,
            theoretical_win,
            points: theoretical_win * POINTS_MICRO / 1_000_000,
        })))
    };
    Some(match cmd {
        MachineCommand::Bet(a) => {
            let mut fx = vec![ggr(a.minor(), 0, 0)];
            for p in &m.profile.pools {
                fx.push(MachineEffect::Contribute {
                    pool: p.clone(),
                    bet: *a,
                    eligible: m.status.online && m.status.tilt.is_none(),
                });
            }
            fx
        }
        MachineCommand::Win(a) => vec![ggr(0, a.minor(), 0)],
        MachineCommand::GameEnd => vec![ggr(0, 0, 1)],
        // RULES.md W-11: bills in and handpays out of a carded-in player are the player's.
        MachineCommand::CashIn(CashInKind::Bill, a) => patron(a.minor(), CashDir::In),
        MachineCommand::CashOut(CashOutKind::Handpay, a) => patron(a.minor(), CashDir::Out),
        MachineCommand::CashIn(..) | MachineCommand::CashOut(..) | MachineCommand::Transfer(_) => {
            vec![]
        }
        // RULES.md M-12: the session ends, rated with what was applied since its card-in.
        MachineCommand::CardOut => rated(SessionEnd::CardOut).into_iter().collect(),
        MachineCommand::CardIn(p) => {
            let mut fx = Vec::new();
            if m.session.as_ref().is_some_and(|s| s != p) {
                fx.extend(rated(SessionEnd::CardIn));
            }
            // RULES.md W-9: for the player's wallet.
            fx.push(MachineEffect::CardIn(Box::new(PlayerCardIn {
                player: p.clone(),
                hall: hall_id(),
                at: meta.time,
            })));
            fx
        }
        MachineCommand::JackpotHit {
            pool,
            level,
            amount,
        } => vec![MachineEffect::ClaimHit {
            pool: pool.clone(),
            level: *level,
            bet: m.game_bet,
            amount: *amount,
        }],
        MachineCommand::Significant(_)
        | MachineCommand::MeterSnapshot { .. }
        | MachineCommand::HandpayPending { .. }
        | MachineCommand::HandpayReset { .. } => return None,
    })
}

fn credits_delta(cmd: &MachineCommand) -> i64 {
    match cmd {
        MachineCommand::Bet(a) | MachineCommand::CashOut(_, a) => -a.minor(),
        MachineCommand::Win(a) | MachineCommand::CashIn(_, a) => a.minor(),
        _ => 0,
    }
}

proptest! {
    #![proptest_config(config(2_000))]

    #[test]
    fn machine_reconciles_and_ignores_redelivery(
        ops in prop::collection::vec(machine_op(), 1..80),
        replay in prop::collection::vec(any::<Index>(), 0..20),
    ) {
        let mut m = test_machine();
        let mut delivered: Vec<(EventMeta, MachineCommand, Option<Currency>)> = Vec::new();
        let mut seq = 0u64;
        let mut credits = 0i64;
        let mut jackpot_paid = 0i64;
        let mut last_hit: HashMap<u8, u64> = HashMap::new();

        for op in &ops {
            let before = m.clone();
            match op {
                MachineOp::Event { step, cmd, foreign } => {
                    seq += step;
                    let meta = EventMeta::new(
                        EventId(u128::from(seq)),
                        seq,
                        Timestamp(T0 + 700 * seq as i64),
                    );
                    let cur = if *foreign { Some(usd()) } else { Some(eur()) };
                    let mut fx = Vec::new();
                    let r = m.apply(&hall_id(), &meta, cmd, cur, &env(), &mut fx);
                    m.assert_invariants();
                    prop_assert!(m.meters.dominates(&before.meters), "a meter went back");

                    // A gap alert exactly when numbers were skipped.
                    let gap = before.last_seq().is_some() && *step > 1;
                    let alerted = matches!(
                        fx.first(),
                        Some(MachineEffect::Alert(Alert::SequenceGap { .. }))
                    );
                    prop_assert_eq!(alerted, gap);
                    let fx_rest = if gap { &fx[1..] } else { &fx[..] };

                    let refuse = machine_must_refuse(&before, cmd, *foreign);
                    match &r {
                        Ok(applied) => {
                            prop_assert!(!refuse, "{:?} accepted", cmd);
                            prop_assert_eq!(*applied, Applied::Done);
                            credits += credits_delta(cmd);
                            if let Some(want) = machine_money_effects(&before, &meta, m.effect_seq, cmd) {
                                prop_assert_eq!(without_alerts(fx_rest), want);
                            }
                        }
                        Err(e) => {
                            prop_assert!(refuse, "{:?} refused: {}", cmd, e);
                            // A refusal changes nothing but the sequence number.
                            let want = MachineState {
                                marks: m.marks.clone(),
                                effect_seq: m.effect_seq,
                                ..before.clone()
                            };
                            prop_assert_eq!(&m, &want);
                            prop_assert!(without_alerts(fx_rest).is_empty());
                        }
                    }
                    prop_assert_eq!(m.credits, credits);
                    prop_assert_eq!(
                        m.credits,
                        m.meters.cash_in() - m.meters.cash_out() - m.meters.coin_in
                            + m.meters.coin_out
                    );
                    delivered.push((meta, cmd.clone(), cur));
                }
                MachineOp::Redeliver(i) => {
                    if delivered.is_empty() {
                        continue;
                    }
                    let (meta, cmd, cur) = i.get(&delivered);
                    let mut fx = Vec::new();
                    prop_assert_eq!(m.apply(&hall_id(), meta, cmd, *cur, &env(), &mut fx), Ok(Applied::Duplicate));
                    prop_assert!(fx.is_empty());
                    prop_assert_eq!(&m, &before);
                }
                MachineOp::Award { level, hit, amount: a } => {
                    let r = m.apply_award(&pool_id("P-1"), *level, *hit, amount(*a), EventId(1), &mut Vec::new());
                    m.assert_invariants();
                    let last = last_hit.get(level).copied().unwrap_or(0);
                    if *hit > last {
                        prop_assert_eq!(r, Ok(Applied::Done));
                        last_hit.insert(*level, *hit);
                        jackpot_paid += a;
                    } else {
                        prop_assert_eq!(r, Ok(Applied::Duplicate));
                        prop_assert_eq!(&m, &before);
                    }
                    prop_assert_eq!(m.meters.jackpot_paid, jackpot_paid);
                    prop_assert_eq!(m.credits, before.credits);
                }
            }
        }

        // After the whole stream: redelivering any earlier events, in any order, changes nothing.
        let end = m.clone();
        if !delivered.is_empty() {
            for i in &replay {
                let (meta, cmd, cur) = i.get(&delivered);
                let mut fx = Vec::new();
                prop_assert_eq!(m.apply(&hall_id(), meta, cmd, *cur, &env(), &mut fx), Ok(Applied::Duplicate));
                prop_assert!(fx.is_empty());
            }
            for (meta, cmd, cur) in delivered.iter().rev() {
                let mut fx = Vec::new();
                prop_assert_eq!(m.apply(&hall_id(), meta, cmd, *cur, &env(), &mut fx), Ok(Applied::Duplicate));
            }
        }
        prop_assert_eq!(&m, &end);

        // And a second machine fed the same stream without any redelivery ends identical.
        let mut twin = test_machine();
        for (meta, cmd, cur) in &delivered {
            let _ = twin.apply(&hall_id(), meta, cmd, *cur, &env(), &mut Vec::new());
        }
        for op in &ops {
            if let MachineOp::Award { level, hit, amount: a } = op {
                twin.apply_award(&pool_id("P-1"), *level, *hit, amount(*a), EventId(1), &mut Vec::new()).unwrap();
            }
        }
        prop_assert_eq!(&twin, &m);
    }
}

// ---------------------------------------------------------------------------------------------
// (2) Wallet

const TX_IDS: usize = 12;

#[derive(Clone, Debug)]
struct WalletStep {
    tx: usize,
    op: WalletOp,
    foreign: bool,
    /// The game round (version 2 `round`), one of two, or none.
    round: Option<u8>,
}

fn tx_id(i: usize) -> TxId {
    TxId::new(&format!("T-{i}")).unwrap()
}

fn round_id(i: u8) -> RoundId {
    RoundId::new(&format!("R-{i}")).unwrap()
}

fn wallet_op() -> impl Strategy<Value = WalletOp> {
    prop_oneof![
        3 => (1i64..=1_000).prop_map(|a| WalletOp::Deposit(amount(a))),
        2 => (1i64..=1_000).prop_map(|a| WalletOp::Withdraw(amount(a))),
        5 => (1i64..=500).prop_map(|a| WalletOp::Bet(amount(a))),
        3 => (1i64..=800, prop::option::of(0..TX_IDS))
            .prop_map(|(a, b)| WalletOp::Win { amount: amount(a), bet_tx: b.map(tx_id) }),
        3 => (0..TX_IDS).prop_map(|b| WalletOp::Rollback { bet_tx: tx_id(b) }),
    ]
}

fn wallet_step() -> impl Strategy<Value = WalletStep> {
    (
        0..TX_IDS,
        wallet_op(),
        prop::bool::weighted(0.05),
        prop::option::weighted(0.2, 0..2u8),
    )
        .prop_map(|(tx, op, foreign, round)| WalletStep {
            tx,
            op,
            foreign,
            round,
        })
}

fn credit_line() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0i64), 1i64..=1_500]
}

/// Where an accepted bet stands, in the reference model.
#[derive(Clone, Copy, Debug, PartialEq)]
enum BetSt {
    Open,
    Settled,
    RolledBack,
}

/// What the reference model remembers of a transaction id (one provider: the key is the id).
#[derive(Clone, Debug)]
enum Remembered {
    Answer {
        /// The content, to tell a repeat from a conflict (W-2).
        op: WalletOp,
        foreign: bool,
        /// The round is content too (W-2).
        round: Option<u8>,
        /// `Some((amount, state))` for a bet that was accepted.
        bet: Option<(i64, BetSt)>,
        answer: Result<i64, DomainError>,
    },
    Tombstone,
}

/// An independent reference model of a wallet that remembers every answer (RULES.md W).
struct WalletModel {
    player: String,
    balance: i64,
    credit_line: i64,
    seen: HashMap<TxId, Remembered>,
}

impl WalletModel {
    fn new(credit_line: i64) -> Self {
        Self {
            player: "P-1".into(),
            balance: 0,
            credit_line,
            seen: HashMap::new(),
        }
    }

    fn apply(
        &mut self,
        tx: &TxId,
        op: &WalletOp,
        foreign: bool,
        round: Option<u8>,
    ) -> Result<WalletReply, DomainError> {
        let player = self.player.clone();
        let conflict = || DomainError::TxConflict {
            provider: "GS-1".into(),
            tx: tx.to_string(),
            player: player.clone(),
        };
        let tombstoned = match self.seen.get(tx) {
            Some(Remembered::Tombstone) if !matches!(op, WalletOp::Bet(_)) => {
                return Err(conflict())
            }
            Some(Remembered::Tombstone) => true,
            Some(Remembered::Answer {
                op: op0,
                foreign: f0,
                round: r0,
                answer,
                ..
            }) => {
                return if op0 == op && *f0 == foreign && *r0 == round {
                    answer.clone().map(|balance| WalletReply {
                        balance,
                        repeat: true,
                    })
                } else {
                    Err(conflict())
                };
            }
            None => false,
        };
        let mut bet = None;
        let answer = if tombstoned {
            Err(DomainError::BetRolledBack {
                tx: tx.to_string(),
                player: player.clone(),
            })
        } else if foreign {
            Err(DomainError::WrongCurrency {
                entity: Subject::Wallet(player.clone()),
                expected: "EUR".into(),
                got: "USD".into(),
            })
        } else {
            match op {
                WalletOp::Deposit(a) => {
                    self.balance += a.minor();
                    Ok(self.balance)
                }
                WalletOp::Win { amount, bet_tx } => {
                    let check = match bet_tx {
                        None => Ok(None),
                        Some(b) => {
                            let (t, bt) = (tx.to_string(), b.to_string());
                            match self.seen.get(b) {
                                Some(Remembered::Tombstone) => Err(DomainError::BetRolledBack {
                                    tx: bt,
                                    player: player.clone(),
                                }),
                                Some(Remembered::Answer {
                                    op: WalletOp::Bet(_),
                                    bet,
                                    ..
                                }) => match bet {
                                    None => Err(DomainError::BetNotAccepted {
                                        tx: t,
                                        bet_tx: bt,
                                        player: player.clone(),
                                    }),
                                    Some((_, BetSt::RolledBack)) => {
                                        Err(DomainError::BetRolledBack {
                                            tx: bt,
                                            player: player.clone(),
                                        })
                                    }
                                    Some(_) => Ok(Some(b.clone())),
                                },
                                _ => Err(DomainError::BetUnknown {
                                    tx: t,
                                    bet_tx: bt,
                                    player: player.clone(),
                                }),
                            }
                        }
                    };
                    check.map(|settles| {
                        if let Some(b) = settles {
                            if let Some(Remembered::Answer {
                                bet: Some((_, st)), ..
                            }) = self.seen.get_mut(&b)
                            {
                                *st = BetSt::Settled;
                            }
                        }
                        self.balance += amount.minor();
                        self.balance
                    })
                }
                WalletOp::Withdraw(a) | WalletOp::Bet(a) => {
                    let is_bet = matches!(op, WalletOp::Bet(_));
                    // W-3: only a bet may use the credit line.
                    let available = if is_bet {
                        self.balance + self.credit_line
                    } else {
                        self.balance.max(0)
                    };
                    if a.minor() > available {
                        Err(DomainError::InsufficientFunds {
                            what: if is_bet {
                                WalletOpKind::Bet
                            } else {
                                WalletOpKind::Withdrawal
                            },
                            amount: a.minor(),
                            available,
                            player: player.clone(),
                        })
                    } else {
                        self.balance -= a.minor();
                        if is_bet {
                            bet = Some((a.minor(), BetSt::Open));
                        }
                        Ok(self.balance)
                    }
                }
                WalletOp::Rollback { bet_tx } => match self.seen.get_mut(bet_tx) {
                    None => {
                        self.seen.insert(bet_tx.clone(), Remembered::Tombstone);
                        Ok(self.balance)
                    }
                    Some(Remembered::Tombstone) => Ok(self.balance),
                    Some(Remembered::Answer {
                        op: WalletOp::Bet(_),
                        bet,
                        ..
                    }) => match bet {
                        None | Some((_, BetSt::RolledBack)) => Ok(self.balance),
                        Some((_, BetSt::Settled)) => Err(DomainError::BetSettled {
                            tx: tx.to_string(),
                            bet_tx: bet_tx.to_string(),
                            player: player.clone(),
                        }),
                        Some((a, st)) => {
                            *st = BetSt::RolledBack;
                            self.balance += *a;
                            Ok(self.balance)
                        }
                    },
                    Some(Remembered::Answer { .. }) => Err(DomainError::RollbackOfNonBet {
                        tx: tx.to_string(),
                        bet_tx: bet_tx.to_string(),
                        player: player.clone(),
                    }),
                },
                // The strategy sends no KYC status, limit, transfer or bonus; `wallet_table`,
                // `bonus_table` and the independent model check W-8 to W-12.
                WalletOp::Kyc(_)
                | WalletOp::Limit { .. }
                | WalletOp::SessionLimit { .. }
                | WalletOp::SelfExclude { .. }
                | WalletOp::TransferRequest { .. }
                | WalletOp::TransferCancel { .. }
                | WalletOp::BonusAward { .. } => {
                    unreachable!("no KYC status, limit, transfer or bonus is generated here")
                }
            }
        };
        self.seen.insert(
            tx.clone(),
            Remembered::Answer {
                op: op.clone(),
                foreign,
                round,
                bet,
                answer: answer.clone(),
            },
        );
        answer.map(|balance| WalletReply {
            balance,
            repeat: false,
        })
    }
}

fn wallet_meta() -> WalletMeta {
    WalletMeta {
        event_id: EventId(1),
        time: Timestamp(T0),
        hall: hall_id(),
    }
}

fn wallet_cmd(s: &WalletStep) -> WalletCommand {
    WalletCommand {
        provider: ServerId::new("GS-1").unwrap(),
        tx: tx_id(s.tx),
        op: s.op.clone(),
        round: s.round.map(round_id),
    }
}

fn check_wallet(w: &WalletState) -> Result<(), TestCaseError> {
    w.assert_invariants();
    let t = &w.totals;
    prop_assert_eq!(
        w.balance,
        t.deposits - t.withdrawals - t.bets + t.wins + t.refunds
    );
    prop_assert!(w.balance >= -w.credit_line);
    Ok(())
}

/// Applies one step to the wallet and the model and compares them.
fn wallet_step_checked(
    w: &mut WalletState,
    model: &mut WalletModel,
    s: &WalletStep,
) -> Result<Result<WalletReply, DomainError>, TestCaseError> {
    let before = w.clone();
    let cmd = wallet_cmd(s);
    let cur = if s.foreign { usd() } else { eur() };
    let mut fx = Vec::new();
    let got = w.apply(
        &wallet_meta(),
        &cmd,
        Some(cur),
        &WalletRules::default(),
        &Vec::new(),
        &mut fx,
    );
    check_wallet(w)?;
    let want = model.apply(&cmd.tx, &cmd.op, s.foreign, s.round);
    prop_assert_eq!(&got, &want, "{:?}", s);
    prop_assert_eq!(w.balance, model.balance);
    let moved = w.balance - before.balance;
    let published: i64 = fx
        .iter()
        .map(|e| match e {
            WalletEffect::Changed { delta, .. } => *delta,
            _ => 0,
        })
        .sum();
    prop_assert_eq!(
        published,
        moved,
        "published changes add up to the balance move"
    );
    let answers = fx
        .iter()
        .filter(|e| matches!(e, WalletEffect::Answer { .. }))
        .count();
    let conflict = matches!(got, Err(DomainError::TxConflict { .. }));
    // W-6: one answer per command; a conflict is answered on its own (W-2).
    prop_assert_eq!(answers, usize::from(!conflict));
    let repeat = matches!(before.window.get(&cmd.key()), Some(TxRecord::Answered(_)));
    if conflict || repeat {
        // Nothing changes at all.
        prop_assert_eq!(w, &before);
    } else if got.is_err() {
        // A first refusal: remembered, to be answered the same way again; no money moved.
        prop_assert!(w.window.contains_key(&cmd.key()));
        prop_assert_eq!(
            (w.balance, &w.totals, w.ops),
            (before.balance, &before.totals, before.ops)
        );
    }
    Ok(got)
}

proptest! {
    #![proptest_config(config(2_000))]

    #[test]
    fn wallet_follows_the_model_and_is_idempotent(
        credit in credit_line(),
        steps in prop::collection::vec(wallet_step(), 1..60),
    ) {
        let mut w = WalletState::new(PlayerId::new("P-1").unwrap(), eur(), credit, 64);
        let mut model = WalletModel::new(credit);
        for s in &steps {
            let _ = wallet_step_checked(&mut w, &mut model, s)?;
        }
        prop_assert_eq!(w.window.len(), model.seen.len());
        let once = w.clone();

        // The whole sequence again: every command is a repeat (or refused again), nothing moves.
        for s in &steps {
            if let Ok(reply) = wallet_step_checked(&mut w, &mut model, s)? {
                prop_assert!(reply.repeat, "{:?} applied twice", s);
            }
        }
        prop_assert_eq!(&w, &once);

        // Interleaving each command with its immediate repeat ends in the same state.
        let mut w2 = WalletState::new(PlayerId::new("P-1").unwrap(), eur(), credit, 64);
        let mut model2 = WalletModel::new(credit);
        for s in &steps {
            let _ = wallet_step_checked(&mut w2, &mut model2, s)?;
            let _ = wallet_step_checked(&mut w2, &mut model2, s)?;
        }
        prop_assert_eq!(&w2, &once);
    }

    /// W-1: a wallet with a small memory and every record in a store answers exactly as one
    /// that keeps everything in memory.
    #[test]
    fn a_small_memory_with_the_store_behind_it_answers_as_a_large_one(
        credit in credit_line(),
        window in 1usize..6,
        steps in prop::collection::vec(wallet_step(), 1..80),
    ) {
        let mut small = WalletState::new(PlayerId::new("P-1").unwrap(), eur(), credit, window);
        let mut large = WalletState::new(PlayerId::new("P-1").unwrap(), eur(), credit, 1_000);
        let mut store: HashMap<TxKey, TxRecord> = HashMap::new();
        for s in steps.iter().chain(&steps) {
            let cmd = wallet_cmd(s);
            let cur = if s.foreign { usd() } else { eur() };
            let recalled: Recalled = small
                .missing(&cmd)
                .into_iter()
                .map(|k| {
                    let r = store.get(&k).cloned();
                    (k, r)
                })
                .collect();
            let mut fx = Vec::new();
            let got = small.apply(&wallet_meta(), &cmd, Some(cur), &WalletRules::default(), &recalled, &mut fx);
            for e in fx {
                if let WalletEffect::Remember(k, r) = e {
                    store.insert(k, r);
                }
            }
            let want = large.apply(&wallet_meta(), &cmd, Some(cur), &WalletRules::default(), &Vec::new(), &mut Vec::new());
            check_wallet(&small)?;
            prop_assert!(small.window.len() <= window);
            prop_assert_eq!(&got, &want, "{:?}", s);
            prop_assert_eq!(
                (small.balance, &small.totals, small.ops),
                (large.balance, &large.totals, large.ops)
            );
        }
        // The store holds every record the large memory holds, as it stands.
        for (k, r) in &large.window {
            prop_assert_eq!(store.get(k), Some(r));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (3) Jackpot pools

/// A deterministic hit point source keyed like the production one (pool, level, reset): the
/// same key always draws the same point.
struct ChaChaPoints {
    seed: u64,
}

impl HitPointSource for ChaChaPoints {
    fn draw(&mut self, pool: &PoolId, level: u8, reset: u64, lo: i64, hi: i64) -> i64 {
        let mut key =
            self.seed ^ (u64::from(level) << 56) ^ reset.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for b in pool.as_str().bytes() {
            key = key.rotate_left(5) ^ u64::from(b);
        }
        ChaCha8Rng::seed_from_u64(key).gen_range(lo..=hi)
    }
}

fn level_config(mystery: bool) -> impl Strategy<Value = LevelConfig> {
    (
        prop_oneof![Just(0i64), 1i64..=5_000],
        prop_oneof![1 => Just(0i64), 8 => 1i64..=100_000],
        1i64..=3_000,
        any::<bool>(),
    )
        .prop_map(move |(seed, ppm, span, capped)| LevelConfig {
            name: if mystery {
                "mystery".into()
            } else {
                "progressive".into()
            },
            seed,
            contribution_ppm: ppm,
            ceiling: (mystery || capped).then_some(seed + span),
            mystery,
            min_bet: 0,
        })
}

fn any_level_config() -> impl Strategy<Value = LevelConfig> {
    any::<bool>().prop_flat_map(level_config)
}

#[derive(Clone, Debug)]
enum PoolOp {
    Contribute { machine: u8, bet: i64 },
    Claim { machine: u8, level: u8 },
    Replay(Index),
    Schedule { level: u8, config: LevelConfig },
}

fn pool_op() -> impl Strategy<Value = PoolOp> {
    prop_oneof![
        10 => (0u8..3, 1i64..=20_000).prop_map(|(machine, bet)| PoolOp::Contribute { machine, bet }),
        2 => (0u8..3, 0u8..5).prop_map(|(machine, level)| PoolOp::Claim { machine, level }),
        2 => any::<Index>().prop_map(PoolOp::Replay),
        1 => (0u8..4, any_level_config()).prop_map(|(level, config)| PoolOp::Schedule { level, config }),
    ]
}

fn machine_key(i: u8) -> MachineId {
    MachineId::new(&format!("M-{i}")).unwrap()
}

/// Checks every level's books and the mystery rules.
fn check_pool(p: &PoolState) -> Result<(), TestCaseError> {
    p.assert_invariants();
    for l in &p.levels {
        prop_assert_eq!(
            (i128::from(l.level) + i128::from(l.reserve)) * M + i128::from(l.frac),
            (i128::from(l.seeded) - i128::from(l.paid)) * M + l.contributed_micro
        );
        if l.config.mystery {
            let point = l.hit_point.unwrap();
            prop_assert!(point <= l.config.ceiling.unwrap().max(l.level));
        }
    }
    Ok(())
}

/// Checks the hits of one apply against the pool before it.
fn check_hits(
    before: &PoolState,
    after: &PoolState,
    cmd: &PoolCommand,
    hits: &[JackpotHit],
) -> Result<(), TestCaseError> {
    let mut hit_levels = Vec::new();
    for h in hits {
        let i = usize::from(h.level);
        let l = &before.levels[i];
        prop_assert_eq!(h.hit_number, l.hits + 1, "numbered in order");
        prop_assert_eq!(after.levels[i].hits, l.hits + 1);
        prop_assert!(
            !hit_levels.contains(&h.level),
            "a level hits at most once per command"
        );
        hit_levels.push(h.level);
        match cmd {
            PoolCommand::Contribute { machine, .. } => {
                prop_assert_eq!(&h.machine, machine);
                prop_assert!(
                    l.config.mystery,
                    "only mystery levels hit on a contribution"
                );
                let ceiling = l.config.ceiling.unwrap();
                prop_assert!(
                    h.amount.minor() <= ceiling,
                    "paid {} above ceiling {}",
                    h.amount,
                    ceiling
                );
                prop_assert!(h.amount.minor() >= l.hit_point.unwrap().min(ceiling));
            }
            PoolCommand::Claim { machine, level, .. } => {
                prop_assert_eq!(&h.machine, machine);
                prop_assert_eq!(h.level, *level);
                prop_assert!(!l.config.mystery);
                prop_assert_eq!(h.amount.minor(), l.level, "a claim pays the whole level");
            }
        }
    }
    // Mystery levels hit exactly when a contribution takes them to their point.
    if let PoolCommand::Contribute { bet, .. } = cmd {
        for (i, l) in before.levels.iter().enumerate() {
            if !l.config.mystery || l.config.contribution_ppm == 0 {
                continue;
            }
            let reached = l.level + (l.frac + bet.minor() * l.config.contribution_ppm) / MICRO;
            let hit = hit_levels.contains(&(i as u8));
            prop_assert_eq!(hit, reached >= l.hit_point.unwrap(), "level {}", i);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(2_000))]

    #[test]
    fn pool_books_balance_and_mystery_levels_respect_their_ceiling(
        levels in prop::collection::vec(any_level_config(), 1..=4),
        seed in any::<u64>(),
        ops in prop::collection::vec(pool_op(), 1..60),
    ) {
        let id = pool_id("P-1");
        let config = PoolConfig { currency: eur(), levels };
        let mut rng = ChaChaPoints { seed };
        let mut p = PoolState::new(id.clone(), config.clone(), &mut rng).unwrap();
        check_pool(&p)?;
        let mut seqs = [0u64; 3];
        let mut sent: Vec<(PoolMeta, PoolCommand)> = Vec::new();
        let mut log: Vec<Action> = Vec::new();
        let mut contributed = vec![0i128; p.levels.len()];
        let mut paid = vec![0i64; p.levels.len()];

        for op in &ops {
            let before = p.clone();
            let (machine, cmd) = match op {
                PoolOp::Schedule { level, config } => {
                    log.push(Action::Schedule(*level, config.clone()));
                    let r = p.schedule_change(*level, config.clone());
                    prop_assert_eq!(r.is_ok(), usize::from(*level) < p.levels.len());
                    if r.is_ok() {
                        prop_assert_eq!(p.levels[usize::from(*level)].pending.as_ref(), Some(config));
                        prop_assert_eq!(&p.levels[usize::from(*level)].config, &before.levels[usize::from(*level)].config);
                    }
                    continue;
                }
                PoolOp::Replay(i) => {
                    if sent.is_empty() {
                        continue;
                    }
                    let (meta, cmd) = i.get(&sent);
                    let mut hits = Vec::new();
                    prop_assert_eq!(p.apply(meta, cmd, &mut rng, &mut hits), Ok(Applied::Duplicate));
                    prop_assert!(hits.is_empty());
                    prop_assert_eq!(&p, &before);
                    continue;
                }
                PoolOp::Contribute { machine, bet } => {
                    (*machine, PoolCommand::Contribute { machine: machine_key(*machine), bet: amount(*bet), eligible: true })
                }
                PoolOp::Claim { machine, level } => {
                    (*machine, PoolCommand::Claim { machine: machine_key(*machine), level: *level, bet: 0, amount: None })
                }
            };
            let meta = pool_meta(&mut seqs, machine);
            let mut hits = Vec::new();
            let r = p.apply(&meta, &cmd, &mut rng, &mut hits);
            check_pool(&p)?;
            match &r {
                Ok(a) => {
                    prop_assert_eq!(*a, Applied::Done);
                    check_hits(&before, &p, &cmd, &hits)?;
                    if let PoolCommand::Contribute { bet, .. } = &cmd {
                        for (i, l) in before.levels.iter().enumerate() {
                            contributed[i] += i128::from(bet.minor() * l.config.contribution_ppm);
                        }
                    }
                }
                Err(e) => {
                    prop_assert!(hits.is_empty());
                    let PoolCommand::Claim { level, .. } = &cmd else {
                        return Err(TestCaseError::fail(format!("contribution refused: {e}")));
                    };
                    let l = before.levels.get(usize::from(*level));
                    prop_assert!(l.is_none_or(|l| l.config.mystery || l.level == 0), "{}", e);
                    let mut want = before.clone();
                    want.last_seq.insert(meta.source.clone(), meta.seq);
                    prop_assert_eq!(&p, &want);
                }
            }
            for h in &hits {
                paid[usize::from(h.level)] += h.amount.minor();
            }
            for (i, l) in p.levels.iter().enumerate() {
                prop_assert_eq!(l.contributed_micro, contributed[i]);
                prop_assert_eq!(l.paid, paid[i]);
            }
            log.push(Action::Apply(meta.clone(), cmd.clone()));
            sent.push((meta, cmd));
        }

        // Determinism: the same configuration, source seed and commands give the same pool.
        let mut again = PoolState::new(id, config, &mut ChaChaPoints { seed }).unwrap();
        for action in &log {
            match action {
                Action::Schedule(level, config) => {
                    let _ = again.schedule_change(*level, config.clone());
                }
                Action::Apply(meta, cmd) => {
                    let _ = again.apply(meta, cmd, &mut ChaChaPoints { seed }, &mut Vec::new());
                }
            }
        }
        prop_assert_eq!(&again, &p);
    }
}

/// What was done to a pool, to do it again.
enum Action {
    Schedule(u8, LevelConfig),
    Apply(PoolMeta, PoolCommand),
}

/// The envelope of the next pool command of machine `m`: its commands are numbered 1, 2, ...
fn pool_meta(seqs: &mut [u64; 3], m: u8) -> PoolMeta {
    seqs[usize::from(m)] += 1;
    let seq = seqs[usize::from(m)];
    PoolMeta {
        source: SourceKey::Machine(machine_key(m)),
        seq,
        cause: EventId((u128::from(m) << 64) | u128::from(seq)),
    }
}

// ---------------------------------------------------------------------------------------------
// (4) Conservation of money across a small network

const MACHINES: usize = 3;

#[derive(Clone, Debug)]
enum NetOp {
    /// A new event of a machine.
    Event {
        machine: usize,
        step: u64,
        cmd: MachineCommand,
    },
    /// An earlier event (picked modulo the number delivered) redelivered, and every message it
    /// caused sent again.
    Redeliver(usize),
    /// The hall closes its windows.
    Close,
}

/// Reads a mixed-radix number digit by digit: each `take(n)` yields a value in `0..n`.
struct Digits(u64);

impl Digits {
    fn take(&mut self, n: u64) -> u64 {
        let d = self.0 % n;
        self.0 /= n;
        d
    }

    fn amount(&mut self, max: u64) -> Amount {
        amount(1 + self.take(max) as i64)
    }
}

/// Decodes a machine command from random digits; 0 decodes to the simplest command (a bill
/// of 1), so shrinking a failing case moves towards simple commands.
fn decode_machine_cmd(d: &mut Digits, pools: &[&str]) -> MachineCommand {
    const IN: [CashInKind; 3] = [
        CashInKind::Bill,
        CashInKind::Ticket(None),
        CashInKind::Cashless,
    ];
    const OUT: [CashOutKind; 3] = [
        CashOutKind::Ticket(None),
        CashOutKind::Cashless,
        CashOutKind::Handpay,
    ];
    match d.take(21) {
        0..=3 => MachineCommand::CashIn(IN[d.take(3) as usize], d.amount(5_000)),
        4..=9 => MachineCommand::Bet(d.amount(500)),
        10..=12 => MachineCommand::Win(d.amount(800)),
        13..=15 => MachineCommand::GameEnd,
        16..=17 => MachineCommand::CashOut(OUT[d.take(3) as usize], d.amount(3_000)),
        18 => match d.take(3) {
            0 => MachineCommand::CardIn(PlayerId::new("P-A").unwrap()),
            1 => MachineCommand::CardIn(PlayerId::new("P-B").unwrap()),
            _ => MachineCommand::CardOut,
        },
        19 => MachineCommand::JackpotHit {
            pool: pool_id(pools[d.take(pools.len() as u64) as usize]),
            level: d.take(4) as u8,
            amount: None,
        },
        _ => MachineCommand::Significant(match d.take(6) {
            0 => SignificantEvent::DoorOpen,
            1 => SignificantEvent::DoorClose,
            2 => SignificantEvent::Tilt(d.take(5) as u32),
            3 => SignificantEvent::TiltClear,
            4 => SignificantEvent::CommsLost,
            _ => SignificantEvent::CommsRestored,
        }),
    }
}

fn decode_net_op(r: u64) -> NetOp {
    let mut d = Digits(r);
    match d.take(20) {
        0..=15 => {
            let machine = d.take(MACHINES as u64) as usize;
            let step = if d.take(13) == 12 { 2 + d.take(3) } else { 1 };
            let cmd = decode_machine_cmd(&mut d, &["P-1", "P-9"]);
            NetOp::Event { machine, step, cmd }
        }
        16..=18 => NetOp::Redeliver(d.0 as usize),
        _ => NetOp::Close,
    }
}

/// Network operations. The conservation property runs many cases, so an operation is drawn as
/// one random number and decoded (much cheaper in a debug build than a tree of `prop_oneof!`
/// strategies); failures still shrink, and are shown decoded.
fn net_op() -> impl Strategy<Value = NetOp> {
    any::<u64>().prop_map(decode_net_op)
}

/// A mystery level that hits every few bets of a small network.
fn busy_mystery_level() -> impl Strategy<Value = LevelConfig> {
    (0i64..=1_000, 20_000i64..=200_000, 1i64..=400).prop_map(|(seed, ppm, span)| LevelConfig {
        name: "mystery".into(),
        seed,
        contribution_ppm: ppm,
        ceiling: Some(seed + span),
        mystery: true,
        min_bet: 0,
    })
}

/// Pool levels: one to three progressive levels and a mystery level.
fn network_levels() -> impl Strategy<Value = Vec<LevelConfig>> {
    (
        prop::collection::vec(level_config(false), 1..=3),
        prop_oneof![3 => busy_mystery_level(), 1 => level_config(true)],
    )
        .prop_map(|(mut levels, mystery)| {
            levels.push(mystery);
            levels
        })
}

/// One delivered machine event and every message it caused.
struct Delivery {
    machine: usize,
    meta: EventMeta,
    cmd: MachineCommand,
    pool_cmds: Vec<(PoolMeta, PoolCommand)>,
    ggr: Vec<GgrDelta>,
    awards: Vec<JackpotHit>,
}

#[derive(Clone, PartialEq, Debug)]
struct Network {
    machines: Vec<MachineState>,
    pool: PoolState,
    hall: HallState,
}

impl Network {
    fn new(levels: Vec<LevelConfig>, rng: &mut ChaChaPoints) -> Self {
        let machines = (0..MACHINES)
            .map(|i| {
                MachineState::new(
                    machine_key(i as u8),
                    MachineProfile {
                        hall: hall_id(),
                        currency: eur(),
                        // The last machine plays for no pool.
                        pools: if i + 1 < MACHINES {
                            vec![pool_id("P-1")]
                        } else {
                            vec![]
                        },
                        large_cash_in_alert_minor: LARGE,
                        handpay_threshold_minor: 0,
                    },
                )
            })
            .collect();
        let config = PoolConfig {
            currency: eur(),
            levels,
        };
        Self {
            machines,
            pool: PoolState::new(pool_id("P-1"), config, rng).unwrap(),
            hall: HallState::new(hall_id()),
        }
    }

    fn machine_index(&self, id: &MachineId) -> usize {
        self.machines.iter().position(|m| &m.id == id).unwrap()
    }

    /// Pays the hits to the machines that won them, as the pool's shell does.
    fn pay(&mut self, hits: &[JackpotHit], d: &mut Delivery) -> Result<(), TestCaseError> {
        for h in hits {
            let j = self.machine_index(&h.machine);
            let mut fx = Vec::new();
            let r = self.machines[j].apply_award(
                &h.pool,
                h.level,
                h.hit_number,
                h.amount,
                h.cause,
                &mut fx,
            );
            prop_assert_eq!(r, Ok(Applied::Done));
            for e in fx {
                if let MachineEffect::Ggr(delta) = e {
                    prop_assert_eq!(delta.jackpots, h.amount.minor());
                    prop_assert_eq!(self.hall.apply(&delta), Ok(Applied::Done));
                    d.ggr.push(delta);
                }
            }
            self.machines[j].assert_invariants();
            d.awards.push(h.clone());
        }
        Ok(())
    }

    /// Routes a machine's effects: GGR to the hall, contributions and claims to the pool.
    fn route(
        &mut self,
        d: &mut Delivery,
        fx: Vec<MachineEffect>,
        rng: &mut ChaChaPoints,
    ) -> Result<(), TestCaseError> {
        let source = SourceKey::Machine(self.machines[d.machine].id.clone());
        let machine = self.machines[d.machine].id.clone();
        for e in fx {
            let cmd = match e {
                MachineEffect::Ggr(delta) => {
                    prop_assert_eq!(self.hall.apply(&delta), Ok(Applied::Done));
                    self.hall.assert_invariants();
                    d.ggr.push(delta);
                    continue;
                }
                MachineEffect::Alert(_)
                | MachineEffect::Log(_)
                | MachineEffect::HandpaidWin(..)
                | MachineEffect::CardIn(_)
                | MachineEffect::Rated(_)
                | MachineEffect::Cash(_) => continue,
                pooled => {
                    let (pool, cmd) =
                        PoolCommand::of_effect(&pooled, &machine).expect("a pool effect");
                    prop_assert_eq!(pool, &self.pool.id);
                    cmd
                }
            };
            let meta = PoolMeta {
                source: source.clone(),
                seq: d.meta.seq,
                cause: d.meta.event_id,
            };
            let mut hits = Vec::new();
            let r = self.pool.apply(&meta, &cmd, rng, &mut hits);
            check_pool(&self.pool)?;
            match (&cmd, &r) {
                (_, Ok(a)) => prop_assert_eq!(*a, Applied::Done),
                // A claim may be refused (a mystery level, no such level, nothing to pay).
                (PoolCommand::Claim { .. }, Err(_)) => {}
                (PoolCommand::Contribute { .. }, Err(e)) => {
                    return Err(TestCaseError::fail(format!("contribution refused: {e}")))
                }
            }
            self.pay(&hits, d)?;
            d.pool_cmds.push((meta, cmd));
        }
        Ok(())
    }

    /// Money in = money out or held, in micro-units.
    fn check_conservation(&self) -> Result<(), TestCaseError> {
        let sum = |f: &dyn Fn(&MachineState) -> i64| -> i128 {
            self.machines.iter().map(|m| i128::from(f(m))).sum()
        };
        let cash_in = sum(&|m| m.meters.cash_in());
        let cash_out = sum(&|m| m.meters.cash_out());
        let credits = sum(&|m| m.credits);
        let jackpot_paid = sum(&|m| m.meters.jackpot_paid);
        let machine_ggr = sum(&|m| m.meters.coin_in - m.meters.coin_out);
        let games = sum(&|m| m.meters.games_played);

        let levels = &self.pool.levels;
        let seeded: i128 = levels.iter().map(|l| i128::from(l.seeded)).sum();
        let paid: i128 = levels.iter().map(|l| i128::from(l.paid)).sum();
        let contributed: i128 = levels.iter().map(|l| l.contributed_micro).sum();
        let held = self.pool.held_micro();
        let hall_ggr = i128::from(self.hall.totals.ggr());

        prop_assert_eq!(
            jackpot_paid,
            paid,
            "machines' jackpot meters = pool payouts"
        );
        prop_assert_eq!(hall_ggr, machine_ggr, "hall GGR = sum of its machines' GGR");
        prop_assert_eq!(i128::from(self.hall.totals.games), games);
        // Total cash in + seeds funded = credits + cash out + jackpots paid + what the pool still
        // holds + the house's GGR net of contributions.
        prop_assert_eq!(
            (cash_in + seeded) * M,
            (credits + cash_out + jackpot_paid + hall_ggr) * M + held - contributed,
            "money was lost or invented"
        );
        Ok(())
    }
}

proptest! {
    #![proptest_config(config(10_000))]

    #[test]
    fn network_conserves_money(
        levels in network_levels(),
        seed in any::<u64>(),
        ops in prop::collection::vec(net_op(), 1..64),
    ) {
        let mut rng = ChaChaPoints { seed };
        let mut net = Network::new(levels, &mut rng);
        net.check_conservation()?;
        let mut seqs = [0u64; MACHINES];
        let mut log: Vec<Delivery> = Vec::new();
        let mut published = Vec::new();

        for op in &ops {
            match op {
                NetOp::Event { machine, step, cmd } => {
                    seqs[*machine] += step;
                    let seq = seqs[*machine];
                    let meta = EventMeta::new(
                        EventId(((*machine as u128) << 64) | u128::from(seq)),
                        seq,
                        // 20 s per number: a case spans several one-minute windows.
                        Timestamp(T0 + 20_000 * seq as i64),
                    );
                    let mut fx = Vec::new();
                    let r = net.machines[*machine].apply(&hall_id(), &meta, cmd, Some(eur()), &env(), &mut fx);
                    net.machines[*machine].assert_invariants();
                    prop_assert!(!matches!(r, Ok(Applied::Duplicate)));
                    let mut d = Delivery {
                        machine: *machine,
                        meta,
                        cmd: cmd.clone(),
                        pool_cmds: Vec::new(),
                        ggr: Vec::new(),
                        awards: Vec::new(),
                    };
                    net.route(&mut d, fx, &mut rng)?;
                    log.push(d);
                }
                NetOp::Redeliver(i) => {
                    if log.is_empty() {
                        continue;
                    }
                    let d = &log[i % log.len()];
                    let before = net.clone();
                    let mut fx = Vec::new();
                    let m = &mut net.machines[d.machine];
                    prop_assert_eq!(m.apply(&hall_id(), &d.meta, &d.cmd, Some(eur()), &env(), &mut fx), Ok(Applied::Duplicate));
                    prop_assert!(fx.is_empty());
                    for (meta, cmd) in &d.pool_cmds {
                        let mut hits = Vec::new();
                        prop_assert_eq!(net.pool.apply(meta, cmd, &mut rng, &mut hits), Ok(Applied::Duplicate));
                        prop_assert!(hits.is_empty());
                    }
                    for delta in &d.ggr {
                        prop_assert_eq!(net.hall.apply(delta), Ok(Applied::Duplicate));
                    }
                    for h in &d.awards {
                        let j = net.machine_index(&h.machine);
                        let r = net.machines[j].apply_award(&h.pool, h.level, h.hit_number, h.amount, h.cause, &mut Vec::new());
                        prop_assert_eq!(r, Ok(Applied::Duplicate));
                    }
                    prop_assert_eq!(&net, &before, "a redelivery changed the network");
                }
                NetOp::Close => {
                    net.hall.close_windows(1, false, 8, &mut published);
                    net.hall.assert_invariants();
                }
            }
            net.check_conservation()?;
        }
        // Every published window is a real window of this hall.
        for w in &published {
            prop_assert_eq!(&w.hall, &net.hall.id);
            prop_assert_eq!(w.window, w.window.window_start());
        }
    }
}
