//! Exact recovery: random states of every kind (including the parts no column shows: a
//! wallet's idempotency window with its refusals, a pool's remainders, pending changes and
//! hit points, the last sequence number per source) go through each store and come back
//! equal.

use std::collections::{HashMap, VecDeque};

use crate::support::Harness;
use pitboss::store::codec::{decode_record, encode_record};
use pitboss_actors::domain::aml::{CashDir, CashMove, PatronCash};
use pitboss_actors::domain::bonus::Bonus;
use pitboss_actors::domain::desk::{
    Answered as DeskAnswered, DeskCash, DeskOp, DeskRefusal, DeskState, ShiftFigures, ShiftNote,
    ShiftOp,
};
use pitboss_actors::domain::ggr::{GgrTotals, GgrWindow, HallState, SourceMark, WindowClosed};
use pitboss_actors::domain::jackpot::{LevelConfig, LevelState, PoolState};
use pitboss_actors::domain::limits::{DepositPeriod, Deposited, LimitKind, Limits, Lost, Session};
use pitboss_actors::domain::machine::{
    AwardMark, EpochMarks, HitOrigin, MachineProfile, MachineState, MachineStatus, MeterBaseline,
    MeterReport, Meters, OpenHandpay, Rating, Reconciliation,
};
use pitboss_actors::domain::transfer::{
    CreditType, Direction, Hold, TransferFact, Transfers, Waiting,
};
use pitboss_actors::domain::voucher::{
    Answered as VoucherAnswered, EarlyCredit, Issue, Party, VoucherNote, VoucherOp, VoucherState,
    VoucherStatus,
};
use pitboss_actors::domain::wallet::{
    Answer, Answered, BetBonus, BetBooking, BetStatus, BonusAnswer, Loyalty, TxKey, TxRecord,
    WalletOp, WalletState, WalletTotals,
};
use pitboss_actors::domain::{
    Amount, Carried, Currency, DomainError, EventId, FastMap, HallId, HandpayKind, IdKind,
    KycStatus, MachineId, PlayerId, PoolId, RoundId, ServerId, SessionError, SnapshotReason,
    SourceKey, Subject, Timestamp, Total, TxId, ValidationNo, VoucherRefusal, WalletOpKind,
};
use pitboss_actors::shell::{Snapshot, Stash};
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};

fn id() -> impl Strategy<Value = String> {
    "[A-Z]{1,3}-[0-9]{1,5}"
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![Just("EUR"), Just("USD"), Just("GBP")].prop_map(|c| Currency::new(c).unwrap())
}

fn domain_error() -> impl Strategy<Value = DomainError> {
    use prop::sample::select;
    prop_oneof![
        (select(WalletOpKind::ALL), any::<i64>(), any::<i64>(), id()).prop_map(
            |(what, amount, available, player)| {
                DomainError::InsufficientFunds {
                    what,
                    amount,
                    available,
                    player,
                }
            }
        ),
        (id(), id()).prop_map(|(tx, player)| DomainError::BetRolledBack { tx, player }),
        (id(), id(), id()).prop_map(|(provider, tx, player)| DomainError::TxConflict {
            provider,
            tx,
            player
        }),
        (id(), id(), id()).prop_map(|(tx, bet_tx, player)| DomainError::BetUnknown {
            tx,
            bet_tx,
            player
        }),
        (id(), id(), id()).prop_map(|(tx, bet_tx, player)| DomainError::BetNotAccepted {
            tx,
            bet_tx,
            player
        }),
        (id(), id(), id()).prop_map(|(tx, bet_tx, player)| DomainError::BetSettled {
            tx,
            bet_tx,
            player
        }),
        (id(), id(), id()).prop_map(|(tx, bet_tx, player)| DomainError::RollbackOfNonBet {
            tx,
            bet_tx,
            player
        }),
        select(Total::ALL).prop_map(DomainError::Overflow),
        (any::<i64>(), any::<i64>(), select(KycStatus::ALL), id()).prop_map(
            |(amount, max, status, player)| DomainError::KycRequired {
                amount,
                max,
                status,
                player,
            }
        ),
        (select(WalletOpKind::ALL), any::<i64>(), id()).prop_map(|(what, until, player)| {
            DomainError::SelfExcluded {
                what,
                until,
                player,
            }
        }),
        (
            select(DepositPeriod::ALL.to_vec()),
            (any::<i64>(), any::<i64>(), any::<i64>()),
            id()
        )
            .prop_map(|(period, (limit, used, amount), player)| {
                DomainError::LimitDeposit {
                    period,
                    limit,
                    used,
                    amount,
                    player,
                }
            }),
        (
            select(DepositPeriod::ALL.to_vec()),
            (any::<i64>(), any::<i64>(), any::<i64>()),
            id()
        )
            .prop_map(|(period, (limit, lost, amount), player)| {
                DomainError::LimitLoss {
                    period,
                    limit,
                    lost,
                    amount,
                    player,
                }
            }),
        (any::<i64>(), any::<i64>(), any::<i64>(), id()).prop_map(
            |(minutes, started, amount, player)| DomainError::LimitSession {
                minutes,
                started,
                amount,
                player,
            }
        ),
        (any::<i64>(), any::<i64>(), id()).prop_map(|(until, asked, player)| {
            DomainError::SelfExclusionActive {
                until,
                asked,
                player,
            }
        }),
        (select(WalletOpKind::ALL), any::<i64>(), id()).prop_map(|(what, amount, player)| {
            DomainError::PlayerBlocked {
                what,
                amount,
                player,
            }
        }),
        id().prop_map(|player| DomainError::PlayerUnknown { player }),
        (id(), id(), id()).prop_map(|(machine, player, current)| DomainError::Session(
            SessionError::CardInWhileCarded {
                machine,
                player,
                current
            }
        )),
        id().prop_map(
            |machine| DomainError::Session(SessionError::CardOutWithNoPlayer { machine })
        ),
        (id(), id(), id()).prop_map(|(machine, hall, named)| DomainError::WrongHall {
            machine,
            hall,
            named
        }),
        (id(), currency(), currency()).prop_map(|(p, expected, got)| {
            DomainError::WrongCurrency {
                entity: Subject::Wallet(p),
                expected: expected.to_string(),
                got: got.to_string(),
            }
        }),
        any::<i64>().prop_map(DomainError::NonPositiveAmount),
        (select(IdKind::ALL), ".{0,8}")
            .prop_map(|(what, value)| DomainError::InvalidId { what, value }),
        (id(), any::<u8>()).prop_map(|(pool, level)| DomainError::UnknownLevel { pool, level }),
        (select(VoucherRefusal::ALL), "[0-9]{18}", ".{0,24}").prop_map(
            |(refusal, validation, detail)| DomainError::Voucher {
                refusal,
                validation,
                detail
            }
        ),
        (id(), id(), "[0-9]{18}").prop_map(|(party, tx, validation)| {
            DomainError::VoucherTxConflict {
                party,
                tx,
                validation,
            }
        }),
        ("[0-9]{18}", currency(), currency()).prop_map(|(v, expected, got)| {
            DomainError::WrongCurrency {
                entity: Subject::Voucher(v),
                expected: expected.to_string(),
                got: got.to_string(),
            }
        }),
        // RULES.md D.
        (any::<bool>(), id(), ".{0,24}").prop_map(|(open, desk, detail)| DomainError::Desk {
            refusal: if open {
                DeskRefusal::AlreadyOpen
            } else {
                DeskRefusal::NotOpen
            },
            desk,
            detail,
        }),
        (id(), id()).prop_map(|(desk, tx)| DomainError::DeskTxConflict { desk, tx }),
        (id(), currency(), currency()).prop_map(|(d, expected, got)| {
            DomainError::WrongCurrency {
                entity: Subject::Desk(d),
                expected: expected.to_string(),
                got: got.to_string(),
            }
        }),
    ]
}

fn wallet_op() -> impl Strategy<Value = WalletOp> {
    let amount = || (1i64..=1_000_000_000_000).prop_map(|a| Amount::new(a).unwrap());
    let tx = || id().prop_map(|t| TxId::new(&t).unwrap());
    prop_oneof![
        amount().prop_map(WalletOp::Deposit),
        amount().prop_map(WalletOp::Withdraw),
        amount().prop_map(WalletOp::Bet),
        (amount(), prop::option::of(tx()))
            .prop_map(|(amount, bet_tx)| WalletOp::Win { amount, bet_tx }),
        tx().prop_map(|bet_tx| WalletOp::Rollback { bet_tx }),
        prop::sample::select(KycStatus::ALL).prop_map(WalletOp::Kyc),
        (
            prop::sample::select(LimitKind::ALL.to_vec()),
            prop::sample::select(DepositPeriod::ALL.to_vec()),
            prop::option::of(amount())
        )
            .prop_map(|(kind, period, amount)| WalletOp::Limit {
                kind,
                period,
                amount
            }),
        prop::option::of(any::<u32>()).prop_map(|minutes| WalletOp::SessionLimit { minutes }),
        any::<i64>().prop_map(|t| WalletOp::SelfExclude {
            until: Timestamp(t)
        }),
        // RULES.md W-10, W-12: transfer requests of either credit type, bonus awards.
        (id(), amount(), any::<bool>()).prop_map(|(m, amount, restricted)| {
            WalletOp::TransferRequest {
                machine: MachineId::new(&m).unwrap(),
                amount,
                credit: credit(restricted),
            }
        }),
        tx().prop_map(|transfer| WalletOp::TransferCancel { transfer }),
        (amount(), 0u32..=100, any::<i64>()).prop_map(|(amount, wagering, t)| {
            WalletOp::BonusAward {
                amount,
                wagering,
                expires: Timestamp(t),
            }
        }),
    ]
}

fn credit(restricted: bool) -> CreditType {
    if restricted {
        CreditType::Restricted
    } else {
        CreditType::Cashable
    }
}

fn tx_record() -> impl Strategy<Value = TxRecord> {
    let answer = prop_oneof![
        (any::<i64>(), any::<i64>())
            .prop_map(|(delta, balance)| Answer::Applied { delta, balance }),
        domain_error().prop_map(Answer::Refused),
    ];
    let bet = prop::option::of(
        (
            0u8..3,
            id(),
            any::<i64>(),
            prop::option::of((0i64..1_000, 0i64..1_000)),
        )
            .prop_map(|(s, hall, window, bonus)| BetBooking {
                status: [BetStatus::Open, BetStatus::Settled, BetStatus::RolledBack][s as usize],
                hall: HallId::new(&hall).unwrap(),
                window: Timestamp(window),
                // RULES.md W-12: what the bonus paid and the wagering it counted, on some.
                bonus: bonus
                    .filter(|b| *b != (0, 0))
                    .map(|(paid, wagered)| Box::new(BetBonus { paid, wagered })),
            }),
    );
    let round = prop::option::of(id().prop_map(|r| RoundId::new(&r).unwrap()));
    let bonus = prop::option::of(
        (any::<i64>(), any::<i64>())
            .prop_map(|(delta, balance)| Box::new(BonusAnswer { delta, balance })),
    );
    let answered = (
        wallet_op(),
        currency(),
        round,
        answer,
        any::<u128>(),
        bet,
        bonus,
    )
        .prop_map(|(op, currency, round, answer, cause, bet, bonus)| {
            TxRecord::Answered(Answered {
                op,
                currency,
                round,
                answer,
                cause: EventId(cause),
                bet,
                bonus,
            })
        });
    prop_oneof![answered, Just(TxRecord::Tombstone)]
}

fn source() -> impl Strategy<Value = SourceKey> {
    prop_oneof![
        id().prop_map(|m| SourceKey::Machine(MachineId::new(&m).unwrap())),
        id().prop_map(|p| SourceKey::Wallet(PlayerId::new(&p).unwrap())),
    ]
}

fn machine() -> impl Strategy<Value = MachineState> {
    (
        (
            id(),
            id(),
            currency(),
            prop::collection::vec(id(), 0..3),
            any::<i64>(),
        ),
        (
            any::<i64>(),
            prop::array::uniform12(any::<i64>()),
            (
                prop::collection::vec(
                    (
                        any::<u64>(),
                        any::<u64>(),
                        prop::collection::vec(any::<(u64, u64)>(), 0..4),
                        prop::collection::vec(any::<(u64, u64)>(), 0..3),
                    ),
                    0..5,
                ),
                any::<u64>(),
            ),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            any::<Option<u32>>(),
            prop::option::of(id()),
        ),
        (any::<bool>(), any::<bool>(), any::<i64>()),
        prop::collection::vec((id(), any::<u8>(), any::<u64>()), 0..4),
    )
        .prop_map(
            |(
                (m, h, currency, pools, alert),
                (credits, mt, (marks, effect_seq)),
                st,
                (go, gw, t),
                aw,
            )| {
                MachineState {
                    id: MachineId::new(&m).unwrap(),
                    profile: MachineProfile {
                        hall: HallId::new(&h).unwrap(),
                        currency,
                        pools: pools.iter().map(|p| PoolId::new(p).unwrap()).collect(),
                        large_cash_in_alert_minor: alert,
                        handpay_threshold_minor: alert / 2,
                    },
                    credits,
                    meters: Meters {
                        coin_in: mt[0],
                        coin_out: mt[1],
                        games_played: mt[2],
                        games_won: mt[3],
                        bills_in: mt[4],
                        tickets_in: mt[5],
                        tickets_out: mt[6],
                        cashless_in: mt[7],
                        cashless_out: mt[8],
                        handpaid: mt[9],
                        jackpot_paid: mt[10],
                        jackpot_handpaid: mt[11] / 3,
                        doors_opened: mt[11],
                        restricted_in: mt[4] / 5,
                        nonrestricted_in: mt[5] / 7,
                        restricted_played: mt[6] / 11,
                    },
                    marks: marks
                        .into_iter()
                        .map(|(epoch, high, holes, forgotten)| EpochMarks {
                            epoch,
                            high,
                            holes,
                            forgotten,
                        })
                        .collect(),
                    effect_seq,
                    award_seq: effect_seq / 2,
                    log_seq: effect_seq / 3,
                    // RULES.md M-10: some machines wait for handpays.
                    handpays: (0..effect_seq % 3)
                        .map(|i| OpenHandpay {
                            kind: HandpayKind::ALL[(i % 2) as usize],
                            amount: (i as i64 + 1) * 1_000,
                            cause: EventId(u128::from(i) + 5),
                            hall: HallId::new(&h).unwrap(),
                            time: Timestamp(t.wrapping_sub(i as i64)),
                        })
                        .collect(),
                    status: MachineStatus {
                        online: st.0,
                        door_open: st.1,
                        tilt: st.2,
                    },
                    session: st.3.clone().map(|p| PlayerId::new(&p).unwrap()),
                    // RULES.md M-12: a carded-in player's session is rated (mostly).
                    rating: st.3.filter(|_| t % 5 != 0).map(|_| {
                        Box::new(Rating {
                            start: Timestamp(t.wrapping_sub(60_000)),
                            started_by: EventId(t as u128 ^ 0x5e55),
                            coin_in: mt[0] / 2,
                            coin_out: mt[1] / 3,
                            games: mt[2] as u64 / 2,
                        })
                    }),
                    game_open: go,
                    game_won: gw,
                    game_bet: t.wrapping_mul(7),
                    last_event_time: Timestamp(t),
                    awards: aw
                        .into_iter()
                        .map(|(pool, level, hit_number)| AwardMark {
                            pool: PoolId::new(&pool).unwrap(),
                            level,
                            hit_number,
                        })
                        .collect(),
                    hit_origins: (0..t.rem_euclid(3))
                        .map(|i| HitOrigin {
                            cause: EventId(i as u128 * 7),
                            hall: HallId::new(&h).unwrap(),
                            time: Timestamp(t.wrapping_add(i)),
                        })
                        .collect(),
                    // RULES.md M-8, from the meters drawn: some machines have reported.
                    reconcile: gw.then(|| {
                        let report =
                            |f: fn(usize) -> usize| MeterReport(std::array::from_fn(|i| mt[f(i)]));
                        Box::new(Reconciliation {
                            baseline: MeterBaseline {
                                cause: EventId(t as u128),
                                time: Timestamp(t),
                                reason: SnapshotReason::ALL[(effect_seq % 4) as usize],
                                reported: report(|i| i),
                                applied: report(|i| 11 - i),
                            },
                            variance: report(|i| (i + 3) % 12),
                        })
                    }),
                }
            },
        )
}

/// RULES.md W-9: what a wallet deposited and lost per period, and its limits (pending
/// changes kept deposit limits first, as the core keeps them).
fn deposits_and_limits() -> impl Strategy<Value = (Deposited, Lost, Option<Box<Limits>>)> {
    let period = || prop::sample::select(DepositPeriod::ALL.to_vec());
    let sums = || prop::array::uniform3((any::<i64>(), any::<i64>()));
    let limits = || prop::array::uniform3(prop::option::of(any::<i64>()));
    let pending = || {
        prop::collection::vec(
            (period(), prop::option::of(any::<i64>()), any::<i64>()),
            0..3,
        )
    };
    (
        (sums(), sums()),
        prop::option::of((
            (limits(), limits()),
            (pending(), pending()),
            prop::option::of(any::<i64>()),
            (
                prop::option::of(any::<i64>()),
                prop::option::of((prop::option::of(any::<i64>()), any::<i64>())),
            ),
        )),
    )
        .prop_map(|((d, lost), l)| {
            let sums = |s: [(i64, i64); 3]| s.map(|(t, s)| (Timestamp(t), s));
            (
                sums(d),
                sums(lost),
                l.map(
                    |((deposit, loss), (deposits, losses), until, (session, waiting))| {
                        let deposits = deposits.into_iter().map(|p| (LimitKind::Deposit, p));
                        let losses = losses.into_iter().map(|p| (LimitKind::Loss, p));
                        Box::new(Limits {
                            deposit,
                            loss,
                            pending: deposits
                                .chain(losses)
                                .map(|(k, (p, a, t))| (k, p, a, Timestamp(t)))
                                .collect(),
                            excluded_until: until.map(Timestamp),
                            session,
                            session_pending: waiting.map(|(a, t)| (a, Timestamp(t))),
                        })
                    },
                ),
            )
        })
}

fn transfers() -> impl Strategy<Value = Option<Box<Transfers>>> {
    prop::option::of(
        (
            prop::collection::vec(
                (
                    id(),
                    id(),
                    any::<i64>(),
                    any::<i64>(),
                    prop::option::of(any::<u128>()),
                    any::<bool>(),
                ),
                0..3,
            ),
            prop::collection::vec((id(), any::<u128>()), 0..3),
            any::<i64>(),
            prop::collection::btree_map(id(), any::<u64>(), 0..3),
            prop::collection::vec(
                (
                    id(),
                    id(),
                    any::<bool>(),
                    1..1_000_000i64,
                    any::<u64>(),
                    any::<u128>(),
                    any::<i64>(),
                    any::<bool>(),
                ),
                0..3,
            ),
        )
            .prop_map(|(holds, done, unbacked, seen, waiting)| {
                Box::new(Transfers {
                    holds: holds
                        .into_iter()
                        .map(|(t, m, amount, until, cause, restricted)| Hold {
                            transfer: TxId::new(&t).unwrap(),
                            machine: MachineId::new(&m).unwrap(),
                            amount,
                            credit: credit(restricted),
                            until: Timestamp(until),
                            cause: cause.map(EventId),
                        })
                        .collect(),
                    done: done
                        .into_iter()
                        .map(|(t, c)| (TxId::new(&t).unwrap(), EventId(c)))
                        .collect(),
                    unbacked,
                    seen: seen
                        .into_iter()
                        .map(|(m, s)| (MachineId::new(&m).unwrap(), s))
                        .collect(),
                    waiting: waiting
                        .into_iter()
                        .map(
                            |(t, m, to, amount, seq, event, until, restricted)| Waiting {
                                fact: TransferFact {
                                    transfer: TxId::new(&t).unwrap(),
                                    machine: MachineId::new(&m).unwrap(),
                                    direction: if to {
                                        Direction::ToMachine
                                    } else {
                                        Direction::FromMachine
                                    },
                                    amount: Amount::new(amount).unwrap(),
                                    credit: credit(restricted),
                                    seq,
                                },
                                event: EventId(event),
                                until: Timestamp(until),
                            },
                        )
                        .collect(),
                })
            }),
    )
}

fn wallet() -> impl Strategy<Value = WalletState> {
    (
        (id(), currency(), any::<i64>(), any::<i64>()),
        (prop::array::uniform7(any::<i64>()), transfers()),
        (any::<u64>(), 1usize..300),
        prop::collection::btree_map(id(), tx_record(), 0..12),
        (
            any::<u64>(),
            prop::sample::select(KycStatus::ALL),
            deposits_and_limits(),
        ),
    )
        .prop_map(
            |(
                (p, currency, balance, credit_line),
                (t, transfers),
                (ops, len),
                window,
                (shuffle, kyc, (deposited, lost, limits)),
            )| {
                // The window's order is not the map's: rotate it by a random amount.
                let key = |k: &str| TxKey {
                    provider: ServerId::new(&format!("S{}", k.len())).unwrap(),
                    tx: TxId::new(k).unwrap(),
                };
                let mut order: VecDeque<TxKey> = window.keys().map(|k| key(k)).collect();
                if !order.is_empty() {
                    let n = order.len();
                    order.rotate_left((shuffle % n as u64) as usize);
                }
                let window: FastMap<TxKey, TxRecord> =
                    window.into_iter().map(|(k, v)| (key(&k), v)).collect();
                WalletState {
                    id: PlayerId::new(&p).unwrap(),
                    currency,
                    balance,
                    credit_line,
                    totals: WalletTotals {
                        deposits: t[0],
                        withdrawals: t[1],
                        bets: t[2],
                        wins: t[3],
                        refunds: t[4],
                        to_machines: t[5],
                        from_machines: t[6],
                        desk_deposits: t[0] / 3,
                        desk_withdrawals: t[1] / 5,
                    },
                    ops,
                    kyc,
                    deposited,
                    lost,
                    // A session on some wallets, from the numbers already drawn.
                    session: (shuffle % 3 != 0).then_some(Session {
                        start: Timestamp(balance),
                        last: Timestamp(credit_line),
                    }),
                    limits,
                    transfers,
                    // RULES.md M-12: points on some wallets, with the machines counted.
                    loyalty: (shuffle % 4 == 1).then(|| {
                        Box::new(Loyalty {
                            points: ops as i64,
                            seen: [(MachineId::new("M-7").unwrap(), ops / 2)].into(),
                        })
                    }),
                    // RULES.md W-11: the day's cash on some wallets.
                    cash: (shuffle % 5 == 2).then(|| {
                        let mv = |n: u64, dir| CashMove {
                            cause: EventId(u128::from(n)),
                            amount: balance.wrapping_add(n as i64),
                            at: Timestamp(credit_line),
                            dir,
                            machine: n.is_multiple_of(2).then(|| MachineId::new("M-3").unwrap()),
                        };
                        Box::new(PatronCash {
                            day: Timestamp(credit_line),
                            cash_in: balance,
                            cash_out: ops as i64,
                            opened: (ops % 16) as u8,
                            moves: vec![mv(1, CashDir::In), mv(2, CashDir::Out)],
                            left_out: (3, 4),
                            near: vec![mv(4, CashDir::In)],
                            seen: [(MachineId::new("M-3").unwrap(), ops)].into(),
                        })
                    }),
                    // RULES.md W-12: a bonus account on some wallets.
                    bonus: (shuffle % 3 == 1).then(|| {
                        Box::new(Bonus {
                            balance: t[0],
                            wagering_left: t[1],
                            expires: Timestamp(credit_line),
                            awarded: t[2],
                            staked: t[3],
                            won: t[4],
                            refunded: t[5],
                            converted: t[6],
                            expired: balance,
                            to_machines: ops as i64,
                        })
                    }),
                    window_len: len,
                    window_order: order,
                    forgotten: ops / 3,
                    window,
                }
            },
        )
}

fn level_config() -> impl Strategy<Value = LevelConfig> {
    (
        ".{0,10}",
        any::<i64>(),
        any::<i64>(),
        any::<Option<i64>>(),
        any::<bool>(),
    )
        .prop_map(
            |(name, seed, contribution_ppm, ceiling, mystery)| LevelConfig {
                name,
                seed,
                contribution_ppm,
                ceiling,
                mystery,
                min_bet: seed.wrapping_mul(3),
            },
        )
}

fn pool() -> impl Strategy<Value = PoolState> {
    let level = (
        level_config(),
        prop::option::of(level_config()),
        prop::array::uniform3(any::<i64>()),
        any::<Option<i64>>(),
        any::<u64>(),
        any::<i128>(),
        any::<i64>(),
        any::<i64>(),
    )
        .prop_map(
            |(config, pending, [level, frac, reserve], hit_point, hits, c, seeded, paid)| {
                LevelState {
                    config,
                    pending,
                    level,
                    frac,
                    reserve,
                    hit_point,
                    hits,
                    contributed_micro: c,
                    seeded,
                    paid,
                    variance: paid.wrapping_mul(3),
                }
            },
        );
    (
        id(),
        currency(),
        prop::collection::vec(level, 1..5),
        prop::collection::hash_map(source(), any::<u64>(), 0..6),
    )
        .prop_map(|(p, currency, levels, seqs)| PoolState {
            id: PoolId::new(&p).unwrap(),
            currency,
            levels,
            last_seq: seqs.into_iter().collect(),
        })
}

fn hall() -> impl Strategy<Value = HallState> {
    let totals =
        prop::array::uniform5(any::<i64>()).prop_map(|[bets, wins, games, jackpots, promo]| {
            GgrTotals {
                bets,
                wins,
                games,
                jackpots,
                promo,
            }
        });
    let window = (
        totals.clone(),
        any::<u32>(),
        any::<bool>(),
        any::<Option<u128>>(),
        any::<u32>(),
    )
        .prop_map(|(totals, revision, closed, cause, causes)| GgrWindow {
            totals,
            revision,
            closed,
            carried: Carried {
                latest: cause.map(EventId),
                count: causes,
            },
        });
    // The outbox: windows closed and waiting for a durable checkpoint (H-2).
    let closed = (
        any::<i64>(),
        totals.clone(),
        any::<u32>(),
        any::<Option<u128>>(),
        any::<u32>(),
    );
    (
        id(),
        totals,
        prop::collection::btree_map(any::<i64>(), window, 0..6),
        any::<i64>(),
        prop::collection::hash_map(source(), (any::<u64>(), any::<i64>()), 0..6),
        prop::collection::vec(closed, 0..4),
        any::<Option<i64>>(),
    )
        .prop_map(|(h, totals, windows, watermark, seqs, outbox, evicted)| {
            let id = HallId::new(&h).unwrap();
            HallState {
                totals,
                windows: windows
                    .into_iter()
                    .map(|(k, w)| (Timestamp(k), w))
                    .collect(),
                watermark: Timestamp(watermark),
                last_seq: seqs
                    .into_iter()
                    .map(|(k, (seq, heard))| {
                        (
                            k,
                            SourceMark {
                                seq,
                                heard: Timestamp(heard),
                            },
                        )
                    })
                    .collect(),
                outbox: outbox
                    .into_iter()
                    .map(|(w, totals, revision, cause, causes)| WindowClosed {
                        hall: id.clone(),
                        window: Timestamp(w),
                        totals,
                        revision,
                        carried: Carried {
                            latest: cause.map(EventId),
                            count: causes,
                        },
                    })
                    .collect(),
                evicted_upto: evicted.map(Timestamp),
                id,
            }
        })
}

fn party() -> impl Strategy<Value = Party> {
    prop_oneof![
        id().prop_map(|m| Party::Machine(MachineId::new(&m).unwrap())),
        id().prop_map(|d| Party::Desk(ServerId::new(&d).unwrap())),
    ]
}

fn voucher_status() -> impl Strategy<Value = VoucherStatus> {
    prop_oneof![
        Just(VoucherStatus::Issued),
        (party(), any::<i64>()).prop_map(|(by, t)| VoucherStatus::Held {
            by,
            until: Timestamp(t)
        }),
        (party(), any::<i64>()).prop_map(|(by, t)| VoucherStatus::Redeemed {
            by,
            at: Timestamp(t)
        }),
        any::<i64>().prop_map(|t| VoucherStatus::Expired { at: Timestamp(t) }),
        (any::<i64>(), "[a-z ]{0,20}").prop_map(|(t, reason)| VoucherStatus::Voided {
            at: Timestamp(t),
            reason
        }),
    ]
}

fn voucher_op() -> impl Strategy<Value = VoucherOp> {
    let amount = (1i64..1_000_000).prop_map(|a| Amount::new(a).unwrap());
    prop_oneof![
        amount.clone().prop_map(VoucherOp::Issue),
        amount.prop_map(VoucherOp::Redeem),
        Just(VoucherOp::Commit),
        Just(VoucherOp::Cancel),
        "[a-z ]{1,20}".prop_map(VoucherOp::Void),
    ]
}

/// A voucher with every part a record must keep (RULES.md V): its issue, where it stands,
/// its variances, the facts it applied and the answers it keeps, refusals included.
fn voucher() -> impl Strategy<Value = VoucherState> {
    let answered = (
        party(),
        id(),
        voucher_op(),
        currency(),
        prop::option::of(domain_error()),
        any::<u128>(),
        any::<i64>(),
        prop::option::of((any::<i64>(), id())),
    )
        .prop_map(|(party, tx, op, currency, refused, cause, time, voucher)| {
            let tx = TxId::new(&tx).unwrap();
            let note = VoucherNote {
                op: op.kind(),
                party: party.clone(),
                tx: Some(tx.clone()),
                amount: 7,
                refused,
                status: "held",
                voucher: voucher.map(|(a, h)| (a, HallId::new(&h).unwrap())),
                cause: EventId(cause),
                time: Timestamp(time),
            };
            VoucherAnswered {
                party,
                tx,
                op,
                currency,
                note,
            }
        });
    let issue = (
        any::<i64>(),
        id(),
        party(),
        any::<i64>(),
        any::<Option<i64>>(),
        any::<u128>(),
    )
        .prop_map(|(amount, hall, by, at, expires, cause)| Issue {
            amount,
            hall: HallId::new(&hall).unwrap(),
            by,
            at: Timestamp(at),
            expires: expires.map(Timestamp),
            cause: EventId(cause),
        });
    (
        0u64..1_000_000_000_000_000_000,
        currency(),
        prop::option::of((issue, voucher_status())),
        any::<i64>(),
        any::<i64>(),
        prop::collection::vec(any::<u128>(), 0..4),
        prop::collection::vec(answered, 0..4),
        prop::option::of((0u32..1000, any::<i64>(), any::<i64>())),
    )
        .prop_map(
            |(n, currency, issued, unbacked, reprinted, facts, answered, early)| {
                let (issue, status) = match issued {
                    Some((i, s)) => (Some(i), s),
                    None => (None, VoucherStatus::Unissued),
                };
                // A credit waits for its print only while the voucher is unissued.
                let early =
                    early
                        .filter(|_| status == VoucherStatus::Unissued)
                        .map(|(m, amount, at)| EarlyCredit {
                            machine: MachineId::new(&format!("M-{m}")).unwrap(),
                            amount,
                            at: Timestamp(at),
                        });
                VoucherState {
                    number: ValidationNo::new(&format!("{n:018}")).unwrap(),
                    currency,
                    issue,
                    status,
                    unbacked,
                    reprinted,
                    early,
                    facts: facts.into_iter().map(EventId).collect(),
                    answered: answered.into_iter().collect(),
                }
            },
        )
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    prop_oneof![
        machine().prop_map(Snapshot::Machine),
        wallet().prop_map(Snapshot::Wallet),
        pool().prop_map(Snapshot::Pool),
        hall().prop_map(Snapshot::Hall),
        voucher().prop_map(Snapshot::Voucher),
        desk().prop_map(Snapshot::Desk),
    ]
}

fn shift() -> impl Strategy<Value = ShiftFigures> {
    (
        (
            any::<u32>(),
            "[A-Z0-9-]{1,8}",
            any::<i64>(),
            any::<Option<i64>>(),
        ),
        (
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
        ),
        (any::<Option<i64>>(), any::<u32>(), any::<u32>()),
    )
        .prop_map(
            |(
                (number, cashier, opened, closed),
                (float, cash_in, cash_out, fills, credits),
                (counted, operations, revision),
            )| ShiftFigures {
                number,
                cashier,
                opened_at: Timestamp(opened),
                closed_at: closed.map(Timestamp),
                float,
                cash_in,
                cash_out,
                fills,
                credits,
                counted,
                operations,
                revision,
            },
        )
}

fn desk_op() -> impl Strategy<Value = DeskOp> {
    let amount = (1i64..=1_000_000_000_000).prop_map(|a| Amount::new(a).unwrap());
    prop_oneof![
        ("[A-Z0-9 -]{1,12}", any::<i64>())
            .prop_map(|(cashier, float)| DeskOp::Open { cashier, float }),
        amount.clone().prop_map(DeskOp::Fill),
        amount.prop_map(DeskOp::Credit),
        any::<i64>().prop_map(|counted| DeskOp::Close { counted }),
    ]
}

fn desk() -> impl Strategy<Value = DeskState> {
    let note = (
        prop::sample::select(ShiftOp::ALL.to_vec()),
        proptest::option::of(id()),
        any::<i64>(),
        proptest::option::of(domain_error()),
        (id(), shift(), any::<u128>(), any::<i64>()),
    )
        .prop_map(
            |(op, tx, amount, refused, (hall, shift, cause, time))| ShiftNote {
                op,
                tx: tx.map(|t| TxId::new(&t).unwrap()),
                amount,
                refused,
                hall: HallId::new(&hall).unwrap(),
                shift,
                cause: EventId(cause),
                time: Timestamp(time),
            },
        );
    let answered =
        (id(), desk_op(), currency(), note).prop_map(|(tx, op, currency, note)| DeskAnswered {
            tx: TxId::new(&tx).unwrap(),
            op,
            currency,
            note,
        });
    let cash = (any::<i64>(), any::<bool>(), any::<i64>()).prop_map(|(t, inward, amount)| {
        let dir = if inward { CashDir::In } else { CashDir::Out };
        (Timestamp(t), DeskCash { dir, amount })
    });
    (
        (id(), proptest::option::of(id()), currency(), any::<u32>()),
        (
            proptest::option::of(shift()),
            prop::collection::vec(shift(), 0..4),
        ),
        (any::<i64>(), any::<i64>(), any::<i64>(), any::<i64>()),
        (
            prop::collection::vec(any::<u128>(), 0..6),
            prop::collection::vec(cash, 0..4),
            prop::collection::vec(answered, 0..3),
        ),
    )
        .prop_map(
            |(
                (id, hall, currency, next),
                (open, closed),
                (unshifted_in, unshifted_out, cash_in, cash_out),
                (booked, unshifted_ops, answered),
            )| DeskState {
                id: ServerId::new(&id).unwrap(),
                hall: hall.map(|h| HallId::new(&h).unwrap()),
                currency,
                next,
                open,
                closed: closed.into_iter().collect(),
                unshifted_in,
                unshifted_out,
                cash_in,
                cash_out,
                wallet_in: cash_in / 3,
                wallet_out: cash_out / 7,
                booked: booked.into_iter().map(EventId).collect(),
                unshifted_ops: unshifted_ops.into_iter().collect(),
                answered: answered.into_iter().collect(),
            },
        )
}

proptest! {
    #![proptest_config(PtConfig::with_cases(512))]

    #[test]
    fn records_decode_to_the_state_encoded(s in snapshot(), movements in any::<u64>()) {
        let bytes = encode_record(&s, movements).unwrap();
        let (back, m) = decode_record(&bytes).unwrap();
        prop_assert_eq!(m, movements);
        prop_assert_eq!(back, s);
    }
}

/// Random batches of states through a store and a restart: each comes back equal.
fn through_store(h: Harness, rt: &tokio::runtime::Runtime, cases: u32) {
    let h = std::cell::RefCell::new(h);
    let mut runner = TestRunner::new(PtConfig::with_cases(cases));
    let batch = prop::collection::vec((snapshot(), any::<u64>()), 1..8);
    runner
        .run(&batch, |states| {
            let mut h = h.borrow_mut();
            rt.block_on(async {
                let store = h.store();
                for (s, m) in &states {
                    store.stash(Stash {
                        snapshot: s.clone(),
                        movements: *m,
                        ledger: Vec::new(),
                        txs: Vec::new(),
                        log: Vec::new(),
                    });
                }
                assert!(store.flush().await.unwrap());
                drop(store);
                h.reopen().await;
                // Later states of the same entity win.
                let mut last = HashMap::new();
                for (s, m) in &states {
                    last.insert(s.key(), (s.clone(), *m));
                }
                for (key, (s, m)) in last {
                    let got = h.store().load(&key).await.unwrap().expect("stored");
                    assert_eq!(got.snapshot, s);
                    assert_eq!(got.movements, m);
                }
            });
            Ok(())
        })
        .unwrap();
}

#[test]
fn random_states_survive_the_embedded_store() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    through_store(Harness::embedded(), &rt, 64);
}

#[test]
fn random_states_survive_the_cql_store() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(Harness::kassandra());
    through_store(h, &rt, 24);
}

#[test]
#[ignore = "needs a real ScyllaDB: set SCYLLA_URI"]
fn random_states_survive_a_real_scylladb() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(Harness::scylla());
    through_store(h, &rt, 24);
}
