//! Table-driven tests of the machine (EGM) state machine, `MachineState::apply` and
//! `MachineState::apply_award`.
//!
//! Every table case starts from a fresh machine, applies its setup events (sequence numbers
//! 1, 2, ...), snapshots the state, applies the command under test with the next sequence
//! number and then checks three things exactly: the result (or the refusal's message), the
//! whole state against the snapshot plus the case's expected changes, and the effects.
//! Each case then redelivers the same event and checks that it is a repeat that changes nothing.

use pitboss_actors::domain::machine::{
    Alert, Applied, CashInKind, CashOutKind, EventMeta, GgrDelta, LogEntry, MachineCommand,
    MachineEffect, MachineEnv, MachineProfile, MachineState, MeterDiff, MeterReport, PromoCredit,
    SignificantEvent, TicketFact, EPOCHS_KEPT, HOLES_KEPT,
};
use pitboss_actors::domain::machine::{
    MachineTransfer, PlayerCardIn, RatedSession, Rating, SessionEnd, WalletTransferFact,
};
use pitboss_actors::domain::transfer::{Direction, TransferFact};
use pitboss_actors::domain::voucher::VoucherFact;
use pitboss_actors::domain::TxId;
use pitboss_actors::domain::{
    Amount, AttendantId, Currency, DomainError, EventId, HallId, HandpayKind, LogCode, MachineId,
    MachineOp, PlayerId, PoolId, ReportedMeter, SkewLimits, SnapshotReason, SourceKey, Timestamp,
    Total, ValidationNo,
};

/// Event time of sequence number 0: 2023-11-14T22:13:20Z, 20 s into a minute.
const T0: i64 = 1_700_000_000_000;
/// Cash in at or above this raises an AML alert on the test machine.
const LARGE_CASH_IN: i64 = 1_000_000;
/// The theoretical hold the machine rates card sessions with (RULES.md M-12): 8 %.
const HOLD_PPM: i64 = 80_000;
/// Loyalty points per minor unit of theoretical win, in millionths: 0.5.
const POINTS_MICRO: i64 = 500_000;

fn amount(minor: i64) -> Amount {
    Amount::new(minor).expect("valid test amount")
}

fn currency(code: &str) -> Currency {
    Currency::new(code).expect("valid test currency")
}

fn validation() -> ValidationNo {
    ValidationNo::new("000000000000004242").unwrap()
}

fn machine_id() -> MachineId {
    MachineId::new("M-17").unwrap()
}

fn hall() -> HallId {
    HallId::new("H-1").unwrap()
}

fn pool(id: &str) -> PoolId {
    PoolId::new(id).unwrap()
}

fn player(id: &str) -> PlayerId {
    PlayerId::new(id).unwrap()
}

fn profile(threshold: i64) -> MachineProfile {
    MachineProfile {
        hall: hall(),
        currency: currency("EUR"),
        pools: vec![pool("P-1"), pool("P-2")],
        large_cash_in_alert_minor: threshold,
        handpay_threshold_minor: 0,
    }
}

fn profile_of(h: &HallId) -> MachineProfile {
    MachineProfile {
        hall: h.clone(),
        pools: vec![pool("P-9")],
        ..profile(LARGE_CASH_IN)
    }
}

/// The configuration the machine reads: default skew limits; every other hall plays for
/// pool P-9.
fn env() -> MachineEnv<'static> {
    MachineEnv {
        skew: SkewLimits::default(),
        profile_of: &profile_of,
        hold_of: &|_| HOLD_PPM,
        loyalty_micro_points: POINTS_MICRO,
    }
}

fn machine() -> MachineState {
    MachineState::new(machine_id(), profile(LARGE_CASH_IN))
}

/// The envelope of the event with sequence number `seq`: one second per number.
fn meta(seq: u64) -> EventMeta {
    EventMeta::new(
        EventId(0xE000 + u128::from(seq)),
        seq,
        Timestamp(T0 + 1_000 * seq as i64),
    )
}

/// The GGR delta of an event in order (its effect number is its sequence number).
fn ggr_delta(meta: &EventMeta, bets: i64, wins: i64, games: i64) -> GgrDelta {
    GgrDelta {
        source: SourceKey::Machine(machine_id()),
        seq: meta.seq,
        cause: meta.event_id,
        hall: hall(),
        window: meta.time.window_start(),
        bets,
        wins,
        games,
        jackpots: 0,
        promo: 0,
    }
}

fn ggr(meta: &EventMeta, bets: i64, wins: i64, games: i64) -> MachineEffect {
    MachineEffect::Ggr(ggr_delta(meta, bets, wins, games))
}

fn contributions(bet: i64) -> Vec<MachineEffect> {
    ["P-1", "P-2"]
        .iter()
        .map(|p| MachineEffect::Contribute {
            pool: pool(p),
            bet: amount(bet),
            eligible: true,
        })
        .collect()
}

fn bet(a: i64) -> MachineCommand {
    MachineCommand::Bet(amount(a))
}

fn win(a: i64) -> MachineCommand {
    MachineCommand::Win(amount(a))
}

fn bill(a: i64) -> MachineCommand {
    MachineCommand::CashIn(CashInKind::Bill, amount(a))
}

fn cash_out(kind: CashOutKind, a: i64) -> MachineCommand {
    MachineCommand::CashOut(kind, amount(a))
}

fn transfer(direction: Direction, a: i64) -> MachineCommand {
    MachineCommand::Transfer(Box::new(MachineTransfer {
        direction,
        transfer: TxId::new("T-1").unwrap(),
        player: player("P-1"),
        amount: amount(a),
        credit: Default::default(),
    }))
}

/// The wallet's fact of a transfer, numbered by the machine's effect number `seq` (its
/// count of applied events: the setup's and the command).
fn transfer_fact(direction: Direction, a: i64, at: i64, seq: u64) -> MachineEffect {
    MachineEffect::Transfer(Box::new(WalletTransferFact {
        player: player("P-1"),
        fact: TransferFact {
            transfer: TxId::new("T-1").unwrap(),
            machine: machine_id(),
            direction,
            amount: amount(a),
            credit: Default::default(),
            seq,
        },
        hall: hall(),
        at: Timestamp(at),
    }))
}

/// A card-in for the player's wallet (RULES.md W-9), at the command's time.
fn carded(meta: &EventMeta, p: &str) -> MachineEffect {
    MachineEffect::CardIn(Box::new(PlayerCardIn {
        player: player(p),
        hall: hall(),
        at: meta.time,
    }))
}

/// A session rated from event `from` on (RULES.md M-12).
fn rating(from: u64, coin_in: i64, coin_out: i64, games: u64) -> Box<Rating> {
    Box::new(Rating {
        start: meta(from).time,
        started_by: meta(from).event_id,
        coin_in,
        coin_out,
        games,
    })
}

/// A session of `p` rated `r`, ended by event `end` (RULES.md M-12).
fn rated(p: &str, r: Rating, end: u64, how: SessionEnd, theo: i64) -> MachineEffect {
    MachineEffect::Rated(Box::new(RatedSession {
        player: player(p),
        hall: hall(),
        rating: r,
        end: meta(end).time,
        ended_by: how,
        theoretical_win: theo,
        points: theo * POINTS_MICRO / 1_000_000,
    }))
}

fn sig(ev: SignificantEvent) -> MachineCommand {
    MachineCommand::Significant(ev)
}

/// Applies `cmds` as events 1, 2, ... to a fresh machine; each must be accepted.
fn prepared(cmds: &[MachineCommand]) -> MachineState {
    let mut m = machine();
    for (i, c) in cmds.iter().enumerate() {
        let mut fx = Vec::new();
        let r = m.apply(&hall(), &meta(i as u64 + 1), c, None, &env(), &mut fx);
        assert_eq!(r, Ok(Applied::Done), "setup event {c:?}");
        m.assert_invariants();
    }
    m
}

struct Case {
    name: &'static str,
    /// Events applied first, all accepted.
    setup: Vec<MachineCommand>,
    /// The command under test.
    cmd: MachineCommand,
    /// The currency the envelope names, if any.
    currency: Option<&'static str>,
    /// `Ok(())` for an accepted command, or the refusal's message.
    outcome: Result<(), &'static str>,
    /// What the command changes, applied to the snapshot taken before it (accepted commands
    /// only: a refused command changes nothing but the last sequence number).
    change: fn(&mut MachineState),
    /// The effects expected, given the envelope of the command under test.
    effects: fn(&EventMeta) -> Vec<MachineEffect>,
}

fn no_change(_: &mut MachineState) {}

fn variance(op: MachineOp, amount: i64, credits: i64) -> MachineEffect {
    MachineEffect::Alert(Alert::CreditVariance {
        machine: machine_id(),
        op,
        amount,
        credits,
        shortfall: amount - credits,
    })
}

fn contribution(p: &str, a: i64) -> MachineEffect {
    MachineEffect::Contribute {
        pool: pool(p),
        bet: amount(a),
        eligible: true,
    }
}

fn claim_refused(p: &str, level: u8, code: &'static str) -> Vec<MachineEffect> {
    vec![MachineEffect::Alert(Alert::ClaimRefused {
        machine: machine_id(),
        pool: pool(p),
        level,
        code,
    })]
}

fn win_outside(a: i64) -> MachineEffect {
    MachineEffect::Alert(Alert::WinOutsideGame {
        machine: machine_id(),
        amount: a,
    })
}

fn wrong_currency(c: &str) -> Vec<MachineEffect> {
    vec![MachineEffect::Alert(Alert::WrongCurrency {
        machine: machine_id(),
        currency: currency(c),
    })]
}

/// The event log entry (RULES.md M-9) of a significant event applied as event `meta.seq` to
/// a machine with no money meters moved, after one entry per earlier event.
fn logged(meta: &EventMeta, code: LogCode, tilt: Option<u32>) -> MachineEffect {
    MachineEffect::Log(Box::new(LogEntry {
        number: meta.seq,
        code,
        time: meta.time,
        cause: meta.event_id,
        tilt,
        amount: None,
        attendant: None,
        meters: MeterReport::default(),
    }))
}

fn log_entry(fx: MachineEffect) -> LogEntry {
    match fx {
        MachineEffect::Log(e) => *e,
        other => panic!("not a log entry: {other:?}"),
    }
}

fn no_effects(_: &EventMeta) -> Vec<MachineEffect> {
    Vec::new()
}

fn run(case: &Case) {
    let name = case.name;
    let mut m = prepared(&case.setup);
    let before = m.clone();
    let seq = case.setup.len() as u64 + 1;
    let meta = meta(seq);
    let cur = case.currency.map(currency);
    let mut fx = Vec::new();
    let result = m.apply(&hall(), &meta, &case.cmd, cur, &env(), &mut fx);

    let mut expected = before.clone();
    // Every event that passes the sequence check is recorded and numbers its effects.
    assert_eq!(m.last_seq(), Some(seq), "{name}: sequence number recorded");
    assert_eq!(m.effect_seq, before.effect_seq + 1, "{name}: effect number");
    expected.marks = m.marks.clone();
    expected.effect_seq = m.effect_seq;
    // Where pool-reaching events were booked (for awards) and the open game's bets (for
    // claims): held by their own tests.
    expected.hit_origins = m.hit_origins.clone();
    expected.game_bet = m.game_bet;
    match (&case.outcome, &result) {
        (Ok(()), Ok(Applied::Done)) => {
            expected.last_event_time = meta.time;
            (case.change)(&mut expected);
        }
        (Err(msg), Err(e)) => assert_eq!(e.to_string(), *msg, "{name}: refusal message"),
        (want, got) => panic!("{name}: expected {want:?}, got {got:?}"),
    }
    assert_eq!(m, expected, "{name}: state after the command");
    assert_eq!(fx, (case.effects)(&meta), "{name}: effects");
    m.assert_invariants();
    assert!(
        m.meters.dominates(&before.meters),
        "{name}: a meter went back"
    );

    // Redelivery of the same event (same sequence number): a repeat, nothing changes.
    let after = m.clone();
    let mut fx = Vec::new();
    assert_eq!(
        m.apply(&hall(), &meta, &case.cmd, cur, &env(), &mut fx),
        Ok(Applied::Duplicate),
        "{name}: redelivery"
    );
    assert!(fx.is_empty(), "{name}: redelivery produced effects {fx:?}");
    assert_eq!(m, after, "{name}: redelivery changed the state");
}

fn cases() -> Vec<Case> {
    use CashInKind::{Bill, Cashless, Ticket};
    vec![
        // ---- bets ----
        Case {
            name: "bet from credits opens a game and contributes to every linked pool",
            setup: vec![bill(1_000)],
            cmd: bet(250),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 750;
                m.meters.coin_in = 250;
                m.game_open = true;
                m.game_won = false;
            },
            effects: |meta| {
                let mut fx = vec![ggr(meta, 250, 0, 0)];
                fx.extend(contributions(250));
                fx
            },
        },
        Case {
            name: "bet of exactly all credits",
            setup: vec![bill(1_000)],
            cmd: bet(1_000),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 0;
                m.meters.coin_in = 1_000;
                m.game_open = true;
            },
            effects: |meta| {
                let mut fx = vec![ggr(meta, 1_000, 0, 0)];
                fx.extend(contributions(1_000));
                fx
            },
        },
        Case {
            name: "second bet of the same game keeps the game and its win flag",
            setup: vec![bill(1_000), bet(100), win(50)],
            cmd: bet(100),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 850;
                m.meters.coin_in = 200;
                assert!(m.game_open && m.game_won);
            },
            effects: |meta| {
                let mut fx = vec![ggr(meta, 100, 0, 0)];
                fx.extend(contributions(100));
                fx
            },
        },
        Case {
            name: "first bet after a game end starts a new game that has not won",
            setup: vec![bill(1_000), bet(100), win(300), MachineCommand::GameEnd],
            cmd: bet(10),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 1_190;
                m.meters.coin_in = 110;
                m.game_open = true;
                m.game_won = false;
            },
            effects: |meta| {
                let mut fx = vec![ggr(meta, 10, 0, 0)];
                fx.extend(contributions(10));
                fx
            },
        },
        Case {
            name: "credit_variance: bet larger than credits is applied, credits go negative",
            setup: vec![bill(1_000)],
            cmd: bet(1_250),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = -250;
                m.meters.coin_in = 1_250;
                m.game_open = true;
            },
            effects: |meta| {
                vec![
                    variance(MachineOp::Bet, 1_250, 1_000),
                    ggr(meta, 1_250, 0, 0),
                    contribution("P-1", 1_250),
                    contribution("P-2", 1_250),
                ]
            },
        },
        Case {
            name: "credit_variance: bet on an empty machine is applied",
            setup: vec![],
            cmd: bet(1),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = -1;
                m.meters.coin_in = 1;
                m.game_open = true;
            },
            effects: |meta| {
                vec![
                    variance(MachineOp::Bet, 1, 0),
                    ggr(meta, 1, 0, 0),
                    contribution("P-1", 1),
                    contribution("P-2", 1),
                ]
            },
        },
        Case {
            name: "bet in the machine's currency",
            setup: vec![bill(1_000)],
            cmd: bet(100),
            currency: Some("EUR"),
            outcome: Ok(()),
            change: |m| {
                m.credits = 900;
                m.meters.coin_in = 100;
                m.game_open = true;
            },
            effects: |meta| {
                let mut fx = vec![ggr(meta, 100, 0, 0)];
                fx.extend(contributions(100));
                fx
            },
        },
        Case {
            name: "wrong_currency: bet in another currency is refused and alerted",
            setup: vec![bill(1_000)],
            cmd: bet(100),
            currency: Some("USD"),
            outcome: Err("currency USD does not match machine M-17's currency EUR"),
            change: no_change,
            effects: |_| wrong_currency("USD"),
        },
        Case {
            name: "wrong_currency: cash in in another currency is refused and alerted",
            setup: vec![],
            cmd: bill(500),
            currency: Some("GBP"),
            outcome: Err("currency GBP does not match machine M-17's currency EUR"),
            change: no_change,
            effects: |_| wrong_currency("GBP"),
        },
        // ---- wins and game end ----
        Case {
            name: "win pays credits and marks the game won",
            setup: vec![bill(1_000), bet(100)],
            cmd: win(500),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 1_400;
                m.meters.coin_out = 500;
                m.game_won = true;
            },
            effects: |meta| vec![ggr(meta, 0, 500, 0)],
        },
        Case {
            name: "second win of the same game adds up",
            setup: vec![bill(1_000), bet(100), win(500)],
            cmd: win(20),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 1_420;
                m.meters.coin_out = 520;
            },
            effects: |meta| vec![ggr(meta, 0, 20, 0)],
        },
        Case {
            name: "win_outside_game: a win with no game in progress is applied",
            setup: vec![bill(1_000)],
            cmd: win(500),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 1_500;
                m.meters.coin_out = 500;
            },
            effects: |meta| vec![win_outside(500), ggr(meta, 0, 500, 0)],
        },
        Case {
            name: "win_outside_game: a win after the game ended is applied, the game stays lost",
            setup: vec![bill(1_000), bet(100), MachineCommand::GameEnd],
            cmd: win(500),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 1_400;
                m.meters.coin_out = 500;
            },
            effects: |meta| vec![win_outside(500), ggr(meta, 0, 500, 0)],
        },
        Case {
            name: "game end of a won game counts a game played and won",
            setup: vec![bill(1_000), bet(100), win(40)],
            cmd: MachineCommand::GameEnd,
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.meters.games_played = 1;
                m.meters.games_won = 1;
                m.game_open = false;
                m.game_won = false;
            },
            effects: |meta| vec![ggr(meta, 0, 0, 1)],
        },
        Case {
            name: "game end of a lost game counts a game played only",
            setup: vec![bill(1_000), bet(100)],
            cmd: MachineCommand::GameEnd,
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.meters.games_played = 1;
                m.game_open = false;
            },
            effects: |meta| vec![ggr(meta, 0, 0, 1)],
        },
        Case {
            name: "game_end_without_bet: counted as a game played",
            setup: vec![bill(1_000)],
            cmd: MachineCommand::GameEnd,
            currency: None,
            outcome: Ok(()),
            change: |m| m.meters.games_played = 1,
            effects: |meta| {
                vec![
                    MachineEffect::Alert(Alert::GameEndWithoutBet {
                        machine: machine_id(),
                    }),
                    ggr(meta, 0, 0, 1),
                ]
            },
        },
        Case {
            name: "meters accumulate over several games",
            setup: vec![
                bill(1_000),
                bet(100),
                win(300),
                MachineCommand::GameEnd,
                bet(50),
                MachineCommand::GameEnd,
                bet(20),
                win(10),
            ],
            cmd: MachineCommand::GameEnd,
            currency: None,
            outcome: Ok(()),
            change: |m| {
                assert_eq!(m.credits, 1_000 - 100 + 300 - 50 - 20 + 10);
                assert_eq!((m.meters.coin_in, m.meters.coin_out), (170, 310));
                m.meters.games_played = 3;
                m.meters.games_won = 2;
                m.game_open = false;
                m.game_won = false;
            },
            effects: |meta| vec![ggr(meta, 0, 0, 1)],
        },
        // ---- cash in ----
        Case {
            name: "bill in",
            setup: vec![bill(100)],
            cmd: MachineCommand::CashIn(Bill, amount(2_000)),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 2_100;
                m.meters.bills_in = 2_100;
            },
            effects: no_effects,
        },
        Case {
            name: "ticket in",
            setup: vec![bill(100)],
            cmd: MachineCommand::CashIn(Ticket(None), amount(2_000)),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 2_100;
                m.meters.tickets_in = 2_000;
            },
            effects: no_effects,
        },
        Case {
            name: "cashless in",
            setup: vec![bill(100)],
            cmd: MachineCommand::CashIn(Cashless, amount(2_000)),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 2_100;
                m.meters.cashless_in = 2_000;
            },
            effects: no_effects,
        },
        Case {
            name: "cash in just below the AML threshold raises no alert",
            setup: vec![],
            cmd: MachineCommand::CashIn(Ticket(None), amount(LARGE_CASH_IN - 1)),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = LARGE_CASH_IN - 1;
                m.meters.tickets_in = LARGE_CASH_IN - 1;
            },
            effects: no_effects,
        },
        Case {
            name: "cash in at the AML threshold raises a large cash-in alert",
            setup: vec![],
            cmd: MachineCommand::CashIn(Cashless, amount(LARGE_CASH_IN)),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = LARGE_CASH_IN;
                m.meters.cashless_in = LARGE_CASH_IN;
            },
            effects: |_| {
                vec![MachineEffect::Alert(Alert::LargeCashIn {
                    machine: machine_id(),
                    amount: LARGE_CASH_IN,
                })]
            },
        },
        Case {
            name: "bill above the AML threshold raises a large cash-in alert",
            setup: vec![bill(5)],
            cmd: bill(LARGE_CASH_IN + 5),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = LARGE_CASH_IN + 10;
                m.meters.bills_in = LARGE_CASH_IN + 10;
            },
            effects: |_| {
                vec![MachineEffect::Alert(Alert::LargeCashIn {
                    machine: machine_id(),
                    amount: LARGE_CASH_IN + 5,
                })]
            },
        },
        // ---- cash out ----
        Case {
            name: "ticket out",
            setup: vec![bill(1_000)],
            cmd: cash_out(CashOutKind::Ticket(None), 400),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 600;
                m.meters.tickets_out = 400;
            },
            effects: no_effects,
        },
        Case {
            name: "ticket out with a validation number issues its voucher (V-2)",
            setup: vec![bill(1_000)],
            cmd: cash_out(CashOutKind::Ticket(Some(validation())), 400),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 600;
                m.meters.tickets_out = 400;
            },
            effects: |_| {
                vec![MachineEffect::Voucher(Box::new(TicketFact {
                    validation: validation(),
                    fact: VoucherFact::Printed(machine_id(), amount(400)),
                    hall: hall(),
                    at: Timestamp(T0 + 2_000),
                }))]
            },
        },
        Case {
            name: "ticket in with a validation number redeems its voucher (V-5)",
            setup: vec![],
            cmd: MachineCommand::CashIn(CashInKind::Ticket(Some(validation())), amount(700)),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 700;
                m.meters.tickets_in = 700;
            },
            effects: |_| {
                vec![MachineEffect::Voucher(Box::new(TicketFact {
                    validation: validation(),
                    fact: VoucherFact::Credited(machine_id(), amount(700)),
                    hall: hall(),
                    at: Timestamp(T0 + 1_000),
                }))]
            },
        },
        Case {
            name: "a transfer to the machine counts as cashless in and reaches the wallet (W-10)",
            setup: vec![],
            cmd: transfer(Direction::ToMachine, 700),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 700;
                m.meters.cashless_in = 700;
            },
            effects: |_| vec![transfer_fact(Direction::ToMachine, 700, T0 + 1_000, 1)],
        },
        Case {
            name: "a transfer from the machine counts as cashless out and reaches the wallet (W-10)",
            setup: vec![bill(1_000)],
            cmd: transfer(Direction::FromMachine, 400),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 600;
                m.meters.cashless_out = 400;
            },
            effects: |_| vec![transfer_fact(Direction::FromMachine, 400, T0 + 2_000, 2)],
        },
        Case {
            name: "a transfer from the machine beyond its credits is counted like a cash out (W-10, M-2)",
            setup: vec![bill(100)],
            cmd: transfer(Direction::FromMachine, 400),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = -300;
                m.meters.cashless_out = 400;
            },
            effects: |_| {
                vec![
                    variance(MachineOp::CashOut, 400, 100),
                    transfer_fact(Direction::FromMachine, 400, T0 + 2_000, 2),
                ]
            },
        },
        Case {
            name: "cashless out of all credits",
            setup: vec![bill(1_000)],
            cmd: cash_out(CashOutKind::Cashless, 1_000),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 0;
                m.meters.cashless_out = 1_000;
            },
            effects: no_effects,
        },
        Case {
            name: "handpay",
            setup: vec![bill(1_000), bet(100), win(5_000)],
            cmd: cash_out(CashOutKind::Handpay, 5_900),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = 0;
                m.meters.handpaid = 5_900;
            },
            effects: no_effects,
        },
        Case {
            name: "credit_variance: cash out larger than credits is applied",
            setup: vec![bill(1_000)],
            cmd: cash_out(CashOutKind::Ticket(None), 1_001),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = -1;
                m.meters.tickets_out = 1_001;
            },
            effects: |_| vec![variance(MachineOp::CashOut, 1_001, 1_000)],
        },
        Case {
            name: "credit_variance: handpay on an empty machine is applied",
            setup: vec![],
            cmd: cash_out(CashOutKind::Handpay, 10),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.credits = -10;
                m.meters.handpaid = 10;
            },
            effects: |_| vec![variance(MachineOp::CashOut, 10, 0)],
        },
        // ---- card in / out ----
        Case {
            name: "card in opens a session",
            setup: vec![],
            cmd: MachineCommand::CardIn(player("P-1")),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.session = Some(player("P-1"));
                m.rating = Some(rating(1, 0, 0, 0));
            },
            effects: |meta| vec![carded(meta, "P-1")],
        },
        Case {
            name: "card in of the carded-in player again is accepted",
            setup: vec![MachineCommand::CardIn(player("P-1"))],
            cmd: MachineCommand::CardIn(player("P-1")),
            currency: None,
            outcome: Ok(()),
            change: no_change,
            effects: |meta| vec![carded(meta, "P-1")],
        },
        Case {
            name: "card_session_overlap: card in ends the other session and starts the new one",
            setup: vec![MachineCommand::CardIn(player("P-1"))],
            cmd: MachineCommand::CardIn(player("P-2")),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.session = Some(player("P-2"));
                m.rating = Some(rating(2, 0, 0, 0));
            },
            effects: |meta| {
                vec![
                    MachineEffect::Alert(Alert::CardSessionOverlap {
                        machine: machine_id(),
                        player: player("P-2"),
                        previous: player("P-1"),
                    }),
                    rated("P-1", *rating(1, 0, 0, 0), 2, SessionEnd::CardIn, 0),
                    carded(meta, "P-2"),
                ]
            },
        },
        Case {
            name: "card out closes the session",
            setup: vec![MachineCommand::CardIn(player("P-1"))],
            cmd: MachineCommand::CardOut,
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.session = None;
                m.rating = None;
            },
            effects: |_| vec![rated("P-1", *rating(1, 0, 0, 0), 2, SessionEnd::CardOut, 0)],
        },
        Case {
            name: "M-12: a card-out rates the session with the play applied since the card-in",
            setup: vec![
                bill(1_000),
                MachineCommand::CardIn(player("P-1")),
                bet(300),
                win(100),
                MachineCommand::GameEnd,
                bet(5),
            ],
            cmd: MachineCommand::CardOut,
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.session = None;
                m.rating = None;
            },
            // 305 x 8 % = 24.4: rounded down.
            effects: |_| {
                vec![rated(
                    "P-1",
                    *rating(2, 305, 100, 1),
                    7,
                    SessionEnd::CardOut,
                    24,
                )]
            },
        },
        Case {
            name: "card_out_without_session: nothing changes but the alert",
            setup: vec![],
            cmd: MachineCommand::CardOut,
            currency: None,
            outcome: Ok(()),
            change: no_change,
            effects: |_| {
                vec![MachineEffect::Alert(Alert::CardOutWithoutSession {
                    machine: machine_id(),
                })]
            },
        },
        // ---- jackpot claims ----
        Case {
            name: "jackpot hit on a linked pool in a game asks the pool to pay",
            setup: vec![bill(1_000), bet(100), bet(50)],
            cmd: MachineCommand::JackpotHit {
                pool: pool("P-2"),
                level: 3,
                amount: Some(amount(5_005)),
            },
            currency: Some("EUR"),
            outcome: Ok(()),
            change: no_change,
            effects: |_| {
                vec![MachineEffect::ClaimHit {
                    pool: pool("P-2"),
                    level: 3,
                    bet: 150,
                    amount: Some(amount(5_005)),
                }]
            },
        },
        Case {
            name: "jackpot_not_eligible: a claim with no game in progress is refused",
            setup: vec![bill(1_000), bet(100), MachineCommand::GameEnd],
            cmd: MachineCommand::JackpotHit {
                pool: pool("P-2"),
                level: 3,
                amount: None,
            },
            currency: None,
            outcome: Err("machine M-17 may not win level 3 of pool P-2: no game in progress"),
            change: no_change,
            effects: |_| claim_refused("P-2", 3, "jackpot_not_eligible"),
        },
        Case {
            name: "jackpot_not_eligible: a claim from a tilted machine is refused",
            setup: vec![bill(1_000), bet(100), sig(SignificantEvent::Tilt(7))],
            cmd: MachineCommand::JackpotHit {
                pool: pool("P-1"),
                level: 0,
                amount: None,
            },
            currency: None,
            outcome: Err("machine M-17 may not win level 0 of pool P-1: in tilt"),
            change: no_change,
            effects: |_| claim_refused("P-1", 0, "jackpot_not_eligible"),
        },
        Case {
            name: "jackpot_not_eligible: a claim from an offline machine is refused",
            setup: vec![bill(1_000), bet(100), sig(SignificantEvent::CommsLost)],
            cmd: MachineCommand::JackpotHit {
                pool: pool("P-1"),
                level: 0,
                amount: None,
            },
            currency: None,
            outcome: Err("machine M-17 may not win level 0 of pool P-1: offline"),
            change: no_change,
            effects: |_| claim_refused("P-1", 0, "jackpot_not_eligible"),
        },
        Case {
            name: "pool_not_linked: a claim on a pool the machine does not play for is refused",
            setup: vec![bill(1_000)],
            cmd: MachineCommand::JackpotHit {
                pool: pool("P-9"),
                level: 0,
                amount: None,
            },
            currency: None,
            outcome: Err("machine M-17 does not contribute to pool P-9"),
            change: no_change,
            effects: |_| claim_refused("P-9", 0, "pool_not_linked"),
        },
        // ---- significant events ----
        Case {
            name: "door open counts, flags and alerts",
            setup: vec![],
            cmd: sig(SignificantEvent::DoorOpen),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.meters.doors_opened = 1;
                m.status.door_open = true;
                m.log_seq += 1;
            },
            effects: |meta| {
                let mut fx = vec![MachineEffect::Alert(Alert::DoorOpen {
                    machine: machine_id(),
                })];
                fx.push(logged(meta, LogCode::DoorOpen, None));
                fx
            },
        },
        Case {
            name: "door open while already open counts nothing and does not alert again",
            setup: vec![sig(SignificantEvent::DoorOpen)],
            cmd: sig(SignificantEvent::DoorOpen),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.log_seq += 1;
            },
            effects: |meta| vec![logged(meta, LogCode::DoorOpen, None)],
        },
        Case {
            name: "door close",
            setup: vec![sig(SignificantEvent::DoorOpen)],
            cmd: sig(SignificantEvent::DoorClose),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.status.door_open = false;
                m.log_seq += 1;
            },
            effects: |meta| vec![logged(meta, LogCode::DoorClose, None)],
        },
        Case {
            name: "door reopened after closing counts a second opening",
            setup: vec![
                sig(SignificantEvent::DoorOpen),
                sig(SignificantEvent::DoorClose),
            ],
            cmd: sig(SignificantEvent::DoorOpen),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.meters.doors_opened = 2;
                m.status.door_open = true;
                m.log_seq += 1;
            },
            effects: |meta| {
                let mut fx = vec![MachineEffect::Alert(Alert::DoorOpen {
                    machine: machine_id(),
                })];
                fx.push(logged(meta, LogCode::DoorOpen, None));
                fx
            },
        },
        Case {
            name: "tilt flags and alerts with its code",
            setup: vec![],
            cmd: sig(SignificantEvent::Tilt(42)),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.status.tilt = Some(42);
                m.log_seq += 1;
            },
            effects: |meta| {
                let mut fx = vec![MachineEffect::Alert(Alert::Tilt {
                    machine: machine_id(),
                    code: 42,
                })];
                fx.push(logged(meta, LogCode::Tilt, Some(42)));
                fx
            },
        },
        Case {
            name: "tilt clear",
            setup: vec![sig(SignificantEvent::Tilt(42))],
            cmd: sig(SignificantEvent::TiltClear),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.status.tilt = None;
                m.log_seq += 1;
            },
            effects: |meta| vec![logged(meta, LogCode::TiltClear, None)],
        },
        Case {
            name: "comms lost flags offline and alerts",
            setup: vec![],
            cmd: sig(SignificantEvent::CommsLost),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.status.online = false;
                m.log_seq += 1;
            },
            effects: |meta| {
                let mut fx = vec![MachineEffect::Alert(Alert::CommsLost {
                    machine: machine_id(),
                })];
                fx.push(logged(meta, LogCode::CommsLost, None));
                fx
            },
        },
        Case {
            name: "comms lost while offline does not alert again",
            setup: vec![sig(SignificantEvent::CommsLost)],
            cmd: sig(SignificantEvent::CommsLost),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.log_seq += 1;
            },
            effects: |meta| vec![logged(meta, LogCode::CommsLost, None)],
        },
        Case {
            name: "comms restored",
            setup: vec![sig(SignificantEvent::CommsLost)],
            cmd: sig(SignificantEvent::CommsRestored),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.status.online = true;
                m.log_seq += 1;
            },
            effects: |meta| vec![logged(meta, LogCode::CommsRestored, None)],
        },
        Case {
            name: "M-12: comms lost ends the rated session; the player stays carded in",
            setup: vec![
                bill(1_000),
                MachineCommand::CardIn(player("P-1")),
                bet(300),
                MachineCommand::GameEnd,
            ],
            cmd: sig(SignificantEvent::CommsLost),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.status.online = false;
                m.log_seq += 1;
                m.rating = None;
            },
            // 300 x 8 % = 24.
            effects: |meta| {
                vec![
                    MachineEffect::Alert(Alert::CommsLost {
                        machine: machine_id(),
                    }),
                    rated("P-1", *rating(2, 300, 0, 1), 5, SessionEnd::CommsLost, 24),
                    // The machine's first log entry, with the meters after the bet and the
                    // game end (coin in, games played, bills in).
                    MachineEffect::Log(Box::new(LogEntry {
                        number: 1,
                        meters: MeterReport([300, 0, 0, 0, 1, 0, 1_000, 0, 0, 0, 0]),
                        ..log_entry(logged(meta, LogCode::CommsLost, None))
                    })),
                ]
            },
        },
        Case {
            name: "M-12: comms restored rates a new session of the player still carded in",
            setup: vec![
                MachineCommand::CardIn(player("P-1")),
                sig(SignificantEvent::CommsLost),
            ],
            cmd: sig(SignificantEvent::CommsRestored),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.status.online = true;
                m.log_seq += 1;
                m.rating = Some(rating(3, 0, 0, 0));
            },
            // The second log entry (a card-in is not logged).
            effects: |meta| {
                vec![MachineEffect::Log(Box::new(LogEntry {
                    number: 2,
                    ..log_entry(logged(meta, LogCode::CommsRestored, None))
                }))]
            },
        },
        Case {
            name: "M-12: power off ends the rated session",
            setup: vec![MachineCommand::CardIn(player("P-1"))],
            cmd: sig(SignificantEvent::PowerOff),
            currency: None,
            outcome: Ok(()),
            change: |m| {
                m.status.online = false;
                m.log_seq += 1;
                m.rating = None;
            },
            effects: |meta| {
                vec![
                    MachineEffect::Alert(Alert::PowerOff {
                        machine: machine_id(),
                    }),
                    rated("P-1", *rating(1, 0, 0, 0), 2, SessionEnd::PowerOff, 0),
                    MachineEffect::Log(Box::new(LogEntry {
                        number: 1,
                        ..log_entry(logged(meta, LogCode::PowerOff, None))
                    })),
                ]
            },
        },
    ]
}

#[test]
fn table_of_commands() {
    let cases = cases();
    assert!(cases.len() >= 40);
    for case in &cases {
        run(case);
    }
}

#[test]
fn refused_event_changes_nothing_but_the_sequence_marks() {
    let mut m = prepared(&[bill(1_000)]);
    let before = m.clone();
    let mut fx = Vec::new();
    // A later event time than everything before: the refusal must not move the clock either.
    let late = EventMeta {
        time: Timestamp(T0 + 3_600_000),
        ..meta(2)
    };
    let usd = Some(currency("USD"));
    let err = m
        .apply(&hall(), &late, &bet(1_250), usd, &env(), &mut fx)
        .unwrap_err();
    assert_eq!(err.code(), "wrong_currency");
    assert_eq!(fx, wrong_currency("USD"));
    assert_eq!(
        m,
        MachineState {
            marks: m.marks.clone(),
            effect_seq: 2,
            ..before.clone()
        }
    );
    assert_eq!(m.last_seq(), Some(2));
    // Refused once: its redelivery is a repeat, not a second refusal.
    fx.clear();
    assert_eq!(
        m.apply(&hall(), &late, &bet(1_250), usd, &env(), &mut fx),
        Ok(Applied::Duplicate)
    );
    assert!(fx.is_empty());
    // The next event is applied normally.
    assert_eq!(
        m.apply(&hall(), &meta(3), &bet(1_000), None, &env(), &mut fx),
        Ok(Applied::Done)
    );
    assert_eq!(m.credits, 0);
    m.assert_invariants();
}

#[test]
fn sequence_gap_is_reported_and_late_gap_fills_are_applied_once() {
    let mut m = prepared(&[bill(1_000)]);
    let mut fx = Vec::new();
    let r = m.apply(&hall(), &meta(5), &bet(100), None, &env(), &mut fx);
    assert_eq!(r, Ok(Applied::Done));
    assert_eq!(
        fx[0],
        MachineEffect::Alert(Alert::SequenceGap {
            machine: machine_id(),
            expected: 2,
            got: 5,
        })
    );
    assert_eq!(fx.len(), 2 + 2, "gap alert, GGR and two contributions");
    assert_eq!(m.last_seq(), Some(5));
    assert_eq!(m.marks[0].holes, vec![(2, 4)]);
    assert_eq!(m.credits, 900);

    // The next number after the gap is in order again: no alert.
    fx.clear();
    m.apply(&hall(), &meta(6), &win(10), None, &env(), &mut fx)
        .unwrap();
    assert!(!fx.iter().any(|e| matches!(e, MachineEffect::Alert(_))));

    // The skipped numbers arriving late (store-and-forward) are applied once, in any order.
    for seq in [3, 2, 4] {
        fx.clear();
        assert_eq!(
            m.apply(&hall(), &meta(seq), &bill(777), None, &env(), &mut fx),
            Ok(Applied::Done),
            "late gap-fill {seq}"
        );
        assert!(fx.is_empty());
    }
    assert!(m.marks[0].holes.is_empty());
    assert_eq!(m.credits, 900 + 10 + 3 * 777);
    // Then every number up to the highest is a repeat.
    for seq in 1..=6 {
        let before = m.clone();
        assert_eq!(
            m.apply(&hall(), &meta(seq), &bill(777), None, &env(), &mut fx),
            Ok(Applied::Duplicate)
        );
        assert_eq!(m, before);
    }
    m.assert_invariants();
}

#[test]
fn late_gap_fill_settles_a_credit_variance() {
    // The case: seq 1 cash in 2000, seq 3 bet (gap), seq 2 cash in 5000 arrives
    // late, then seq 4 bet 5000: every fact counted, credits end where the EGM's are.
    let mut m = prepared(&[bill(2_000)]);
    let mut fx = Vec::new();
    m.apply(&hall(), &meta(3), &bet(100), None, &env(), &mut fx)
        .unwrap();
    m.apply(&hall(), &meta(2), &bill(5_000), None, &env(), &mut fx)
        .unwrap();
    fx.clear();
    m.apply(&hall(), &meta(4), &bet(5_000), None, &env(), &mut fx)
        .unwrap();
    assert!(!fx
        .iter()
        .any(|e| matches!(e, MachineEffect::Alert(Alert::CreditVariance { .. }))));
    assert_eq!(m.credits, 1_900);
    assert_eq!(m.meters.coin_in, 5_100);
    m.assert_invariants();
}

#[test]
fn sequence_reset_starts_a_new_epoch_and_keeps_the_old_marks() {
    let mut m = prepared(&[bill(1_000), bet(100), bet(100)]);
    let mut fx = Vec::new();
    let e1 = |seq: u64| EventMeta {
        epoch: 1,
        ..meta(seq)
    };
    assert_eq!(
        m.apply(&hall(), &e1(1), &bet(50), None, &env(), &mut fx),
        Ok(Applied::Done)
    );
    assert_eq!(
        fx[0],
        MachineEffect::Alert(Alert::SequenceReset {
            machine: machine_id(),
            old_epoch: 0,
            old_high: 3,
            epoch: 1,
        })
    );
    assert_eq!(m.credits, 750);
    // Late events of epoch 0 are still told apart: 3 is a repeat, 4 is new.
    assert_eq!(
        m.apply(&hall(), &meta(3), &bet(100), None, &env(), &mut fx),
        Ok(Applied::Duplicate)
    );
    assert_eq!(
        m.apply(&hall(), &meta(4), &bet(100), None, &env(), &mut fx),
        Ok(Applied::Done)
    );
    assert_eq!(m.credits, 650);
    assert_eq!(
        m.apply(&hall(), &e1(1), &bet(50), None, &env(), &mut fx),
        Ok(Applied::Duplicate)
    );
    // Halls and pools see one effect number per applied event, increasing across epochs.
    assert_eq!(m.effect_seq, 5);
    m.assert_invariants();
}

#[test]
fn sequence_stale_refuses_events_of_epochs_no_longer_kept() {
    let mut m = machine();
    let mut fx = Vec::new();
    for epoch in 1..=5u64 {
        let e = EventMeta { epoch, ..meta(1) };
        assert_eq!(
            m.apply(&hall(), &e, &bill(10), None, &env(), &mut fx),
            Ok(Applied::Done)
        );
    }
    assert_eq!(m.marks.len(), EPOCHS_KEPT);
    assert_eq!(m.marks[0].epoch, 2);
    let before = m.clone();
    fx.clear();
    let old = EventMeta {
        epoch: 1,
        ..meta(2)
    };
    let err = m
        .apply(&hall(), &old, &bill(10), None, &env(), &mut fx)
        .unwrap_err();
    assert_eq!(err.code(), "sequence_stale");
    assert_eq!(
        fx,
        vec![MachineEffect::Alert(Alert::SequenceStale {
            machine: machine_id(),
            epoch: 1,
            seq: 2,
        })]
    );
    assert_eq!(m, before, "a stale event changes nothing");
    // An epoch between the kept ones is still new: applied, no reset alert.
    let mut m = machine();
    for epoch in [2u64, 6] {
        let e = EventMeta { epoch, ..meta(1) };
        m.apply(&hall(), &e, &bill(10), None, &env(), &mut fx)
            .unwrap();
    }
    fx.clear();
    let mid = EventMeta {
        epoch: 4,
        ..meta(1)
    };
    assert_eq!(
        m.apply(&hall(), &mid, &bill(10), None, &env(), &mut fx),
        Ok(Applied::Done)
    );
    assert!(fx.is_empty());
}

#[test]
fn first_event_records_the_numbers_below_it_as_holes() {
    let mut m = machine();
    let mut fx = Vec::new();
    m.apply(&hall(), &meta(10), &bill(100), None, &env(), &mut fx)
        .unwrap();
    assert!(fx.is_empty(), "no gap alert on the first event");
    assert_eq!(m.marks[0].holes, vec![(1, 9)]);
    assert_eq!(
        m.apply(&hall(), &meta(9), &bill(100), None, &env(), &mut fx),
        Ok(Applied::Done)
    );
    assert_eq!(m.marks[0].holes, vec![(1, 8)]);
    assert_eq!(m.credits, 200);
}

#[test]
fn hole_ranges_are_bounded_and_forgotten_ones_are_stale() {
    let mut m = prepared(&[bill(1)]);
    let mut fx = Vec::new();
    // Every other number: holes 2, 4, 6, ... one range each.
    let mut seq = 1;
    for _ in 0..HOLES_KEPT + 2 {
        seq += 2;
        m.apply(&hall(), &meta(seq), &bill(1), None, &env(), &mut fx)
            .unwrap();
    }
    assert_eq!(m.marks[0].holes.len(), HOLES_KEPT);
    assert_eq!(
        m.marks[0].holes[0],
        (6, 6),
        "the two oldest ranges forgotten"
    );
    assert_eq!(m.marks[0].forgotten, vec![(2, 2), (4, 4)]);
    let before = m.clone();
    fx.clear();
    let err = m
        .apply(&hall(), &meta(2), &bill(1), None, &env(), &mut fx)
        .unwrap_err();
    assert_eq!(err.code(), "sequence_stale");
    assert_eq!(m, before);
    // A kept hole is still filled once.
    assert_eq!(
        m.apply(&hall(), &meta(6), &bill(1), None, &env(), &mut fx),
        Ok(Applied::Done)
    );
    assert_eq!(
        m.apply(&hall(), &meta(6), &bill(1), None, &env(), &mut fx),
        Ok(Applied::Duplicate)
    );
}

#[test]
fn machine_moved_follows_the_newest_event_and_counts_in_the_named_hall() {
    let mut m = prepared(&[bill(1_000)]);
    let h2 = HallId::new("H-2").unwrap();
    let mut fx = Vec::new();
    m.apply(&h2, &meta(2), &bet(100), None, &env(), &mut fx)
        .unwrap();
    assert_eq!(m.profile.hall, h2);
    assert_eq!(m.profile.pools, vec![pool("P-9")]);
    assert_eq!(
        fx,
        vec![
            MachineEffect::Ggr(GgrDelta {
                hall: h2.clone(),
                ..ggr_delta(&meta(2), 100, 0, 0)
            }),
            contribution("P-9", 100),
            MachineEffect::Alert(Alert::MachineMoved {
                machine: machine_id(),
                from: hall(),
                to: h2.clone(),
            }),
        ]
    );
    // An older event naming the old hall is counted there, and does not move it back.
    fx.clear();
    let early = EventMeta {
        time: Timestamp(T0),
        ..meta(3)
    };
    m.apply(&hall(), &early, &win(10), None, &env(), &mut fx)
        .unwrap();
    assert_eq!(m.profile.hall, h2);
    assert_eq!(
        fx,
        vec![MachineEffect::Ggr(GgrDelta {
            seq: 3,
            ..ggr_delta(&early, 0, 10, 0)
        })]
    );
}

#[test]
fn clock_skew_books_the_event_at_its_receive_time() {
    let mut m = prepared(&[bill(1_000)]);
    let mut fx = Vec::new();
    let receive = Timestamp(T0 + 10_000);
    let fast = EventMeta {
        time: Timestamp(T0 + 3_600_000),
        receive_time: Some(receive),
        ..meta(2)
    };
    m.apply(&hall(), &fast, &bet(100), None, &env(), &mut fx)
        .unwrap();
    assert_eq!(
        fx[0],
        MachineEffect::Alert(Alert::ClockSkew {
            machine: machine_id(),
            event_time: fast.time,
            receive_time: receive,
        })
    );
    let MachineEffect::Ggr(d) = &fx[1] else {
        panic!("GGR expected: {fx:?}")
    };
    assert_eq!(d.window, receive.window_start());
    assert_eq!(m.last_event_time, receive);
}

#[test]
fn overflow_refuses_the_fact_and_changes_nothing() {
    let mut m = prepared(&[bill(1_000)]);
    m.meters.coin_in = i64::MAX - 10;
    m.credits = i64::MAX - 10;
    m.meters.bills_in = i64::MAX;
    m.meters.coin_out = i64::MAX;
    let mut fx = Vec::new();
    let before = m.clone();
    let err = m
        .apply(&hall(), &meta(2), &bet(100), None, &env(), &mut fx)
        .unwrap_err();
    assert_eq!(err.code(), "overflow");
    assert_eq!(
        fx,
        vec![MachineEffect::Alert(Alert::Overflow {
            machine: machine_id(),
            total: Total::CoinInMeter,
        })]
    );
    assert_eq!(
        m,
        MachineState {
            marks: m.marks.clone(),
            effect_seq: m.effect_seq,
            ..before
        }
    );
}

#[test]
fn first_event_may_have_any_sequence_number() {
    let mut m = machine();
    let mut fx = Vec::new();
    assert_eq!(
        m.apply(&hall(), &meta(1_000), &bill(10), None, &env(), &mut fx),
        Ok(Applied::Done)
    );
    assert!(fx.is_empty(), "no gap alert on the first event: {fx:?}");
    assert_eq!(m.last_seq(), Some(1_000));
    // Sequence number 0 is a valid first number too, and 1 follows it without a gap.
    let mut m = machine();
    m.apply(&hall(), &meta(0), &bill(10), None, &env(), &mut fx)
        .unwrap();
    m.apply(&hall(), &meta(1), &bill(10), None, &env(), &mut fx)
        .unwrap();
    assert!(fx.is_empty());
    assert_eq!(m.credits, 20);
}

#[test]
fn repeats_change_nothing_whatever_they_carry() {
    let mut m = prepared(&[bill(1_000), bet(100), win(50)]);
    let before = m.clone();
    let repeats = [
        (1, bill(1_000)),
        (2, bet(100)),
        (3, win(50)),
        (3, bet(1)),
        (2, MachineCommand::GameEnd),
        (1, sig(SignificantEvent::DoorOpen)),
        (3, cash_out(CashOutKind::Handpay, 1_000_000)),
        (0, MachineCommand::CardOut),
    ];
    for (seq, cmd) in repeats {
        let mut fx = Vec::new();
        // Even a repeat in the wrong currency is just a repeat.
        for cur in [None, Some(currency("USD"))] {
            assert_eq!(
                m.apply(&hall(), &meta(seq), &cmd, cur, &env(), &mut fx),
                Ok(Applied::Duplicate),
                "seq {seq} {cmd:?}"
            );
        }
        assert!(fx.is_empty());
        assert_eq!(m, before, "seq {seq} {cmd:?}");
    }
}

#[test]
fn event_time_never_goes_backwards() {
    let mut m = prepared(&[bill(1_000)]);
    let t1 = m.last_event_time;
    let mut fx = Vec::new();
    let early = EventMeta {
        time: Timestamp(T0 - 120_000),
        ..meta(2)
    };
    m.apply(&hall(), &early, &bet(100), None, &env(), &mut fx)
        .unwrap();
    assert_eq!(m.last_event_time, t1);
    assert_eq!(m.last_seq(), Some(2));
    // The GGR of the event still counts in the window of its own event time.
    assert_eq!(fx[0], ggr(&early, 100, 0, 0));
    assert_eq!(
        early.time.window_start(),
        Timestamp(1_699_999_860_000),
        "window start of 22:11:20 is 22:11:00"
    );
}

/// RULES.md M-13: promotional credits count on meters of their own and are not cash (no
/// large cash-in alert); a bet plays the restricted ones first, and what it played of them
/// is the GGR delta's `promo`; a cash-out never takes restricted credits (beyond the rest it
/// is a credit variance); non-restricted credits join the cashable ones.
#[test]
fn restricted_promotional_credits_are_played_first_and_never_cashed_out() {
    let mut m = MachineState::new(machine_id(), profile(500));
    let mut fx = Vec::new();
    let promo = |p, a| MachineCommand::CashIn(CashInKind::Promo(p), amount(a));
    let mut step = |m: &mut MachineState, seq: u64, cmd: MachineCommand| {
        fx.clear();
        let r = m.apply(&hall(), &meta(seq), &cmd, None, &env(), &mut fx);
        assert_eq!(r, Ok(Applied::Done), "{cmd:?}");
        m.assert_invariants();
        std::mem::take(&mut fx)
    };
    assert!(step(&mut m, 1, promo(PromoCredit::Restricted, 700)).is_empty());
    assert!(step(&mut m, 2, promo(PromoCredit::NonRestricted, 600)).is_empty());
    let large = MachineEffect::Alert(Alert::LargeCashIn {
        machine: machine_id(),
        amount: 1_000,
    });
    assert_eq!(step(&mut m, 3, bill(1_000)), vec![large]);
    assert_eq!(
        (
            m.meters.restricted_in,
            m.meters.nonrestricted_in,
            m.meters.cashless_in
        ),
        (700, 600, 0)
    );
    assert_eq!(m.credits, 2_300);
    // 500 of restricted credits, then 200 of the last 200 and 300 of the rest.
    let promo_ggr = |seq: u64, bets: i64, promo: i64| {
        MachineEffect::Ggr(GgrDelta {
            promo,
            ..ggr_delta(&meta(seq), bets, 0, 0)
        })
    };
    let fx4 = step(&mut m, 4, bet(500));
    assert_eq!(fx4[0], promo_ggr(4, 500, 500));
    assert_eq!(
        step(&mut m, 5, MachineCommand::GameEnd)[0],
        ggr(&meta(5), 0, 0, 1)
    );
    assert_eq!(step(&mut m, 6, bet(500))[0], promo_ggr(6, 500, 200));
    assert_eq!(m.meters.restricted_played, 700);
    assert_eq!(m.meters.restricted_credits(), 0);
    // Played out: the next bet plays none.
    step(&mut m, 7, MachineCommand::GameEnd);
    assert_eq!(step(&mut m, 8, bet(100))[0], promo_ggr(8, 100, 0));
    step(&mut m, 9, MachineCommand::GameEnd);
    // 300 more restricted: 1,500 credits, of which 1,200 may be cashed out.
    step(&mut m, 10, promo(PromoCredit::Restricted, 300));
    assert_eq!(m.credits, 1_500);
    assert!(step(&mut m, 11, cash_out(CashOutKind::Cashless, 1_200)).is_empty());
    assert_eq!(m.credits, 300);
    // The machine cashed out what it should not have: counted, and a variance.
    assert_eq!(
        step(&mut m, 12, cash_out(CashOutKind::Handpay, 100)),
        vec![variance(MachineOp::CashOut, 100, 0)]
    );
    assert_eq!((m.credits, m.meters.handpaid), (200, 100));
    // A promotional cash-in beyond the meter's range is refused like any other.
    let big = promo(PromoCredit::NonRestricted, 1_000_000_000_000);
    m.meters.nonrestricted_in = i64::MAX - 10;
    let r = m.apply(&hall(), &meta(13), &big, None, &env(), &mut fx);
    assert_eq!(r, Err(DomainError::Overflow(Total::PromoMeter)));
}

#[test]
fn large_cash_in_threshold_zero_never_alerts() {
    let mut m = MachineState::new(machine_id(), profile(0));
    let mut fx = Vec::new();
    m.apply(
        &hall(),
        &meta(1),
        &MachineCommand::CashIn(CashInKind::Bill, amount(1_000_000_000_000)),
        None,
        &env(),
        &mut fx,
    )
    .unwrap();
    assert!(fx.is_empty());
    assert_eq!(m.credits, 1_000_000_000_000);
    m.assert_invariants();
}

#[test]
fn machine_without_pools_sends_no_contributions_and_refuses_every_claim() {
    let mut m = MachineState::new(
        machine_id(),
        MachineProfile {
            pools: vec![],
            ..profile(LARGE_CASH_IN)
        },
    );
    let mut fx = Vec::new();
    m.apply(&hall(), &meta(1), &bill(100), None, &env(), &mut fx)
        .unwrap();
    m.apply(&hall(), &meta(2), &bet(100), None, &env(), &mut fx)
        .unwrap();
    assert_eq!(fx, vec![ggr(&meta(2), 100, 0, 0)]);
    fx.clear();
    let r = m.apply(
        &hall(),
        &meta(3),
        &MachineCommand::JackpotHit {
            pool: pool("P-1"),
            level: 0,
            amount: None,
        },
        None,
        &env(),
        &mut fx,
    );
    assert_eq!(
        r,
        Err(DomainError::PoolNotLinked {
            machine: "M-17".into(),
            pool: "P-1".into(),
        })
    );
    assert_eq!(fx, claim_refused("P-1", 0, "pool_not_linked"));
}

#[test]
fn awards_are_recorded_once_per_pool_level_hit() {
    let mut m = prepared(&[bill(1_000), bet(100)]);
    let p1 = pool("P-1");
    let p2 = pool("P-2");
    // (pool, level, hit number, amount, expected result, jackpot paid after)
    let table: Vec<(&PoolId, u8, u64, i64, Applied, i64)> = vec![
        (&p1, 0, 1, 5_000, Applied::Done, 5_000),
        (&p1, 0, 1, 5_000, Applied::Duplicate, 5_000),
        (&p1, 0, 1, 9_999, Applied::Duplicate, 5_000),
        (&p1, 0, 2, 300, Applied::Done, 5_300),
        (&p1, 0, 1, 5_000, Applied::Duplicate, 5_300),
        (&p1, 0, 2, 300, Applied::Duplicate, 5_300),
        // Another level of the same pool has its own hit numbers.
        (&p1, 1, 1, 70, Applied::Done, 5_370),
        (&p1, 1, 1, 70, Applied::Duplicate, 5_370),
        // Another pool, same level index: its own numbers too.
        (&p2, 0, 1, 30, Applied::Done, 5_400),
        // Hit numbers may skip (hits of the level paid to other machines).
        (&p1, 0, 7, 100, Applied::Done, 5_500),
        (&p1, 0, 6, 100, Applied::Duplicate, 5_500),
    ];
    for (pool, level, hit, amt, want, paid) in table {
        let credits = m.credits;
        let meters = m.meters.clone();
        let mut fx = Vec::new();
        let r = m.apply_award(pool, level, hit, amount(amt), EventId(1), &mut fx);
        // Applied: booked once in the hall's jackpots; a replay books nothing.
        assert_eq!(fx.len(), usize::from(want == Applied::Done));
        assert_eq!(r, Ok(want), "{pool} level {level} hit {hit}");
        assert_eq!(
            m.meters.jackpot_paid, paid,
            "{pool} level {level} hit {hit}"
        );
        assert_eq!(
            m.credits, credits,
            "jackpot awards are handpaid, not credited"
        );
        assert!(m.meters.dominates(&meters));
        m.assert_invariants();
    }
    assert_eq!(m.awards.len(), 3);
    // Awards do not touch the event sequence.
    assert_eq!(m.last_seq(), Some(2));
}

#[test]
fn award_for_a_pool_the_machine_does_not_play_for_is_still_recorded() {
    // The pool decides who is paid; the machine only meters it.
    let mut m = machine();
    assert_eq!(
        m.apply_award(&pool("P-9"), 0, 1, amount(10), EventId(1), &mut Vec::new()),
        Ok(Applied::Done)
    );
    assert_eq!(m.meters.jackpot_paid, 10);
}

#[test]
fn game_cycle_reconciles_meters_and_credits() {
    let mut m = machine();
    let script = [
        MachineCommand::CashIn(CashInKind::Ticket(None), amount(2_000)),
        MachineCommand::CashIn(CashInKind::Cashless, amount(500)),
        bet(200),
        win(1_000),
        MachineCommand::GameEnd,
        bet(300),
        MachineCommand::GameEnd,
        cash_out(CashOutKind::Ticket(None), 1_000),
        cash_out(CashOutKind::Cashless, 500),
        cash_out(CashOutKind::Handpay, 1_500),
    ];
    let mut prev = m.meters.clone();
    for (i, c) in script.iter().enumerate() {
        let mut fx = Vec::new();
        m.apply(&hall(), &meta(i as u64 + 1), c, None, &env(), &mut fx)
            .unwrap();
        m.assert_invariants();
        assert!(m.meters.dominates(&prev));
        prev = m.meters.clone();
    }
    assert_eq!(m.credits, 0);
    assert_eq!(m.meters.cash_in(), 2_500);
    assert_eq!(m.meters.cash_out(), 3_000);
    assert_eq!(m.meters.coin_in, 500);
    assert_eq!(m.meters.coin_out, 1_000);
    assert_eq!((m.meters.games_played, m.meters.games_won), (2, 1));
}

#[test]
#[should_panic(expected = "credits")]
fn invariant_check_catches_tampered_credits() {
    let mut m = prepared(&[bill(1_000)]);
    m.credits += 1;
    m.assert_invariants();
}

#[test]
fn award_is_booked_in_the_hall_jackpots_in_the_window_of_the_hit() {
    // RULES.md H-1: bet at minute 0 (claiming a hit), a later event at minute 5, then the
    // award arrives: it counts in the window and hall of the claim, not of the newest event.
    let mut m = prepared(&[bill(1_000), bet(100)]);
    let claim = EventMeta {
        time: Timestamp(T0),
        ..meta(3)
    };
    let mut fx = Vec::new();
    let hit = MachineCommand::JackpotHit {
        pool: pool("P-1"),
        level: 0,
        amount: None,
    };
    m.apply(&hall(), &claim, &hit, None, &env(), &mut fx)
        .unwrap();
    let later = EventMeta {
        time: Timestamp(T0 + 300_000),
        ..meta(4)
    };
    m.apply(&hall(), &later, &bill(10), None, &env(), &mut fx)
        .unwrap();
    fx.clear();
    let r = m.apply_award(&pool("P-1"), 0, 1, amount(5_000), claim.event_id, &mut fx);
    assert_eq!(r, Ok(Applied::Done));
    assert_eq!(
        fx,
        vec![MachineEffect::Ggr(GgrDelta {
            // Awards are numbered apart from the machine's events (their own source).
            source: SourceKey::Award(m.id.clone()),
            seq: 1,
            bets: 0,
            jackpots: 5_000,
            ..ggr_delta(&claim, 0, 0, 0)
        })]
    );
    // An award whose cause is no longer remembered counts at the newest booked time.
    fx.clear();
    m.apply_award(&pool("P-1"), 0, 2, amount(7), EventId(0xDEAD), &mut fx)
        .unwrap();
    let MachineEffect::Ggr(d) = &fx[0] else {
        panic!("a GGR delta")
    };
    assert_eq!((d.window, d.jackpots), (later.time.window_start(), 7));
}

// RULES.md M-8: meter snapshots and reconciliation.

/// A snapshot reporting `coin_in`, `games_played` and `jackpot` (the rest 0), as of a
/// machine that had played before pitboss saw it (coin in from 1,000,000).
fn snapshot(coin_in: i64, games_played: i64, jackpot: i64) -> MachineCommand {
    let mut meters = MeterReport::default();
    meters.set(ReportedMeter::CoinIn, 1_000_000 + coin_in);
    meters.set(ReportedMeter::GamesPlayed, 500 + games_played);
    meters.set(ReportedMeter::Jackpot, jackpot);
    MachineCommand::MeterSnapshot {
        reason: SnapshotReason::Periodic,
        meters: Box::new(meters),
    }
}

fn apply_at(m: &mut MachineState, seq: u64, cmd: &MachineCommand) -> Vec<MachineEffect> {
    let mut fx = Vec::new();
    let r = m.apply(
        &hall(),
        &meta(seq),
        cmd,
        Some(currency("EUR")),
        &env(),
        &mut fx,
    );
    assert_eq!(r, Ok(Applied::Done), "event {seq}: {cmd:?}");
    m.assert_invariants();
    fx
}

fn alerts(fx: &[MachineEffect]) -> Vec<&Alert> {
    fx.iter()
        .filter_map(|e| match e {
            MachineEffect::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

#[test]
fn the_first_snapshot_is_a_baseline_and_one_that_agrees_raises_nothing() {
    let mut m = prepared(&[bill(5_000)]);
    let fx = apply_at(&mut m, 2, &snapshot(0, 0, 0));
    assert!(alerts(&fx).is_empty(), "{fx:?}");
    // In the event log (M-9) with what the machine reported.
    let [MachineEffect::Log(entry)] = &fx[..] else {
        panic!("one log entry: {fx:?}");
    };
    assert_eq!((entry.number, entry.code), (1, LogCode::MeterSnapshot));
    assert_eq!(entry.meters.get(ReportedMeter::CoinIn), 1_000_000);
    let base = m.baseline().cloned().expect("a baseline");
    assert_eq!(base.cause, meta(2).event_id);
    assert_eq!(base.reported.get(ReportedMeter::CoinIn), 1_000_000);
    assert_eq!(base.applied.get(ReportedMeter::BillsIn), 5_000);
    apply_at(&mut m, 3, &bet(200));
    apply_at(&mut m, 4, &MachineCommand::GameEnd);
    // The bill counted before the baseline is not in the comparison.
    let fx = apply_at(&mut m, 5, &snapshot(200, 1, 0));
    assert!(alerts(&fx).is_empty(), "{fx:?}");
    assert!(m.meter_variance().is_zero());
    assert_eq!(m.baseline().unwrap().cause, meta(5).event_id);
}

#[test]
fn a_variance_is_alerted_and_a_late_gap_fill_settles_it_at_the_next_snapshot() {
    let mut m = prepared(&[bill(5_000)]);
    apply_at(&mut m, 2, &snapshot(0, 0, 0));
    // Event 3 (a bet of 100) is still in the gateway's buffer.
    apply_at(&mut m, 4, &bet(200));
    let fx = apply_at(&mut m, 5, &snapshot(300, 0, 0));
    assert_eq!(
        alerts(&fx),
        vec![&Alert::MeterVariance {
            machine: machine_id(),
            reason: SnapshotReason::Periodic,
            previous: meta(2).event_id,
            previous_time: meta(2).time,
            rows: vec![MeterDiff {
                meter: ReportedMeter::CoinIn,
                reported: 300,
                applied: 200,
            }],
        }]
    );
    assert_eq!(m.meter_variance().get(ReportedMeter::CoinIn), 100);
    // The late bet is counted, and the next snapshot shows the opposite variance: the sum
    // is back to zero.
    apply_at(&mut m, 3, &bet(100));
    let fx = apply_at(&mut m, 6, &snapshot(300, 0, 0));
    let [Alert::MeterVariance { rows, previous, .. }] = alerts(&fx)[..] else {
        panic!("one variance alert: {fx:?}");
    };
    assert_eq!(*previous, meta(5).event_id);
    assert_eq!(rows[0].variance(), -100);
    assert!(m.meter_variance().is_zero());
}

#[test]
fn a_meter_below_the_baseline_starts_a_new_baseline() {
    let mut m = prepared(&[bill(5_000)]);
    apply_at(&mut m, 2, &snapshot(0, 0, 0));
    apply_at(&mut m, 3, &bet(100));
    // A RAM clear: the machine's meters start again from zero.
    let mut cleared = MeterReport::default();
    cleared.set(ReportedMeter::CoinIn, 40);
    let cmd = MachineCommand::MeterSnapshot {
        reason: SnapshotReason::Request,
        meters: Box::new(cleared),
    };
    let fx = apply_at(&mut m, 4, &cmd);
    assert_eq!(
        alerts(&fx),
        vec![&Alert::MeterReset {
            machine: machine_id(),
            meter: ReportedMeter::CoinIn,
            previous: 1_000_000,
            reported: 40,
        }]
    );
    assert!(
        m.meter_variance().is_zero(),
        "nothing compared across a reset"
    );
    let base = m.baseline().unwrap();
    assert_eq!(base.reported, cleared);
    assert_eq!(base.reason, SnapshotReason::Request);
    // Compared from the new baseline on.
    apply_at(&mut m, 5, &bet(10));
    let mut next = cleared;
    next.set(ReportedMeter::CoinIn, 50);
    let cmd = MachineCommand::MeterSnapshot {
        reason: SnapshotReason::DayEnd,
        meters: Box::new(next),
    };
    assert!(alerts(&apply_at(&mut m, 6, &cmd)).is_empty());
}

#[test]
fn a_late_snapshot_is_not_compared_and_the_jackpot_meter_is_not_compared() {
    let mut m = prepared(&[bill(5_000)]);
    apply_at(&mut m, 2, &snapshot(0, 0, 0));
    apply_at(&mut m, 4, &bet(100));
    // Snapshot 3 was taken before the bet already applied: it changes nothing.
    let before = m.clone();
    let fx = apply_at(&mut m, 3, &snapshot(999, 9, 0));
    let [MachineEffect::Log(entry)] = &fx[..] else {
        panic!("only logged: {fx:?}");
    };
    assert_eq!(entry.code, LogCode::MeterSnapshot);
    assert_eq!(m.reconcile, before.reconcile);
    assert_eq!(m.log_seq, before.log_seq + 1);
    // Awards reach the machine from its pools asynchronously: a jackpot the machine
    // counted that pitboss has not booked yet is no variance.
    let fx = apply_at(&mut m, 5, &snapshot(100, 0, 25_000));
    assert!(alerts(&fx).is_empty(), "{fx:?}");
    // A repeat is a repeat; another currency is refused (E-4) and leaves the baseline.
    let mut fx = Vec::new();
    let again = m.apply(
        &hall(),
        &meta(5),
        &snapshot(100, 0, 25_000),
        None,
        &env(),
        &mut fx,
    );
    assert_eq!(again, Ok(Applied::Duplicate));
    let base = m.reconcile.clone();
    let usd = m.apply(
        &hall(),
        &meta(6),
        &snapshot(7, 0, 0),
        Some(currency("USD")),
        &env(),
        &mut fx,
    );
    assert!(
        matches!(usd, Err(DomainError::WrongCurrency { .. })),
        "{usd:?}"
    );
    assert_eq!(m.reconcile, base);
}

// RULES.md M-10: handpays.

fn pending(kind: HandpayKind, a: i64) -> MachineCommand {
    MachineCommand::HandpayPending {
        kind,
        amount: amount(a),
    }
}

fn reset(who: &str) -> MachineCommand {
    MachineCommand::HandpayReset {
        attendant: AttendantId::new(who).unwrap(),
    }
}

#[test]
fn cancelled_credits_are_paid_at_the_reset_as_a_cash_out_by_hand() {
    let mut m = prepared(&[bill(5_000)]);
    let fx = apply_at(&mut m, 2, &pending(HandpayKind::CancelledCredits, 5_000));
    assert_eq!(
        alerts(&fx),
        vec![&Alert::HandpayPending {
            machine: machine_id(),
            kind: HandpayKind::CancelledCredits,
            amount: 5_000,
        }]
    );
    // Nothing is paid yet: the machine is locked for it.
    assert_eq!((m.credits, m.meters.handpaid), (5_000, 0));
    assert_eq!(m.handpays.len(), 1);
    let fx = apply_at(&mut m, 3, &reset("ATT-1"));
    assert!(alerts(&fx).is_empty(), "{fx:?}");
    assert_eq!((m.credits, m.meters.handpaid), (0, 5_000));
    assert!(m.handpays.is_empty());
    let [MachineEffect::Log(e)] = &fx[..] else {
        panic!("one log entry: {fx:?}");
    };
    assert_eq!(e.code, LogCode::HandpayReset);
    assert_eq!(e.amount, Some(5_000));
    assert_eq!(e.attendant, AttendantId::new("ATT-1").ok());
}

#[test]
fn a_jackpot_handpay_is_a_win_paid_by_hand_in_the_window_it_was_pending() {
    let mut m = prepared(&[bill(5_000), bet(100)]);
    apply_at(&mut m, 3, &pending(HandpayKind::Jackpot, 250_000));
    assert!(m.game_won, "the open game paid something");
    let fx = apply_at(&mut m, 4, &reset("ATT-2"));
    // Credits unchanged; the win is in GGR where and when the machine locked up.
    assert_eq!(m.credits, 4_900);
    assert_eq!(m.meters.jackpot_handpaid, 250_000);
    assert_eq!(m.meters.coin_out, 0);
    let mut delta = ggr_delta(&meta(3), 0, 250_000, 0);
    // Booked by the reset (its sequence and its event), in the lock-up's window.
    delta.seq = 4;
    delta.cause = meta(4).event_id;
    assert!(fx.contains(&MachineEffect::Ggr(delta)), "{fx:?}");
    // The ledger books it at the lock-up's time too (a gaming day sums it where the hall's
    // window does).
    assert!(
        fx.contains(&MachineEffect::HandpaidWin(250_000, meta(3).time)),
        "{fx:?}"
    );
    m.assert_invariants();
}

#[test]
fn handpays_are_paid_oldest_first_and_a_reset_without_one_books_nothing() {
    let mut m = prepared(&[bill(1_000)]);
    let before = m.clone();
    let fx = apply_at(&mut m, 2, &reset("ATT-3"));
    assert_eq!(
        alerts(&fx),
        vec![&Alert::HandpayResetWithoutPending {
            machine: machine_id(),
            attendant: AttendantId::new("ATT-3").unwrap(),
        }]
    );
    assert_eq!((m.credits, &m.meters), (before.credits, &before.meters));
    apply_at(&mut m, 3, &pending(HandpayKind::CancelledCredits, 1_500));
    apply_at(&mut m, 4, &pending(HandpayKind::Jackpot, 70_000));
    // The first is beyond the credits: paid as reported, the shortfall alerted (M-2).
    let fx = apply_at(&mut m, 5, &reset("ATT-3"));
    assert!(
        alerts(&fx)
            .iter()
            .any(|a| matches!(a, Alert::CreditVariance { shortfall: 500, .. })),
        "{fx:?}"
    );
    assert_eq!((m.credits, m.handpays.len()), (-500, 1));
    apply_at(&mut m, 6, &reset("ATT-3"));
    assert_eq!(m.meters.jackpot_handpaid, 70_000);
    assert!(m.handpays.is_empty());
}

#[test]
fn a_credited_win_above_the_handpay_threshold_is_counted_and_alerted() {
    let mut m = MachineState::new(
        machine_id(),
        MachineProfile {
            handpay_threshold_minor: 120_000,
            ..profile(LARGE_CASH_IN)
        },
    );
    let mut fx = Vec::new();
    m.apply(&hall(), &meta(1), &win(119_999), None, &env(), &mut fx)
        .unwrap();
    assert!(!fx.iter().any(|e| matches!(
        e,
        MachineEffect::Alert(Alert::WinAboveHandpayThreshold { .. })
    )));
    fx.clear();
    m.apply(&hall(), &meta(2), &win(120_000), None, &env(), &mut fx)
        .unwrap();
    assert!(
        fx.contains(&MachineEffect::Alert(Alert::WinAboveHandpayThreshold {
            machine: machine_id(),
            amount: 120_000,
            threshold: 120_000,
        }))
    );
    assert_eq!(m.credits, 239_999);
}

#[test]
fn power_off_takes_the_machine_offline_with_an_alert_and_both_are_logged() {
    let mut m = prepared(&[bill(1_000)]);
    let fx = apply_at(&mut m, 2, &sig(SignificantEvent::PowerOff));
    assert_eq!(
        alerts(&fx),
        vec![&Alert::PowerOff {
            machine: machine_id()
        }]
    );
    assert!(!m.status.online);
    assert!(fx
        .iter()
        .any(|e| matches!(e, MachineEffect::Log(l) if l.code == LogCode::PowerOff)));
    let fx = apply_at(&mut m, 3, &sig(SignificantEvent::PowerOn));
    assert!(m.status.online);
    assert!(alerts(&fx).is_empty());
    assert!(fx
        .iter()
        .any(|e| matches!(e, MachineEffect::Log(l) if l.code == LogCode::PowerOn)));
}

#[test]
fn a_new_epoch_is_logged_as_a_sequence_reset_even_when_its_event_is_refused() {
    let mut m = prepared(&[bill(1_000)]);
    let mut fx = Vec::new();
    let mut next = meta(1);
    next.epoch = 1;
    let r = m.apply(
        &hall(),
        &next,
        &bill(500),
        Some(currency("USD")),
        &env(),
        &mut fx,
    );
    assert!(matches!(r, Err(DomainError::WrongCurrency { .. })), "{r:?}");
    let logged: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            MachineEffect::Log(l) => Some((l.number, l.code)),
            _ => None,
        })
        .collect();
    assert_eq!(logged, vec![(1, LogCode::SequenceReset)]);
}
