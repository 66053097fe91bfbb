//! Table-driven tests of the wallet state machine, `WalletState::apply`.
//!
//! Every table case starts from a fresh wallet, applies its setup commands, then the command
//! under test, and checks the answer (balance or refusal message), the balance, the running
//! totals, the operation count and the effects exactly. Each case then repeats the command
//! and checks that the repeat returns the first answer and changes nothing.

use pitboss_actors::domain::limits::{DepositPeriod, LimitKind};
use pitboss_actors::domain::wallet::{
    Answer, BetStatus, TxKey, TxRecord, WalletCommand, WalletEffect, WalletMeta, WalletOp,
    WalletReply, WalletRules, WalletState, WalletTotals,
};
use pitboss_actors::domain::{
    Amount, Currency, DomainError, EventId, GgrDelta, HallId, KycStatus, PlayerId, RoundId,
    ServerId, SourceKey, Subject, Timestamp, TxId, WalletOpKind,
};

const T0: i64 = 1_700_000_000_000;

fn amount(minor: i64) -> Amount {
    Amount::new(minor).expect("valid test amount")
}

fn eur() -> Currency {
    Currency::new("EUR").unwrap()
}

fn tx(id: &str) -> TxId {
    TxId::new(id).unwrap()
}

fn player() -> PlayerId {
    PlayerId::new("P-1").unwrap()
}

fn hall() -> HallId {
    HallId::new("BRAND-1").unwrap()
}

fn meta() -> WalletMeta {
    WalletMeta {
        event_id: EventId(7),
        time: Timestamp(T0),
        hall: hall(),
    }
}

fn wallet(credit_line: i64, window_len: usize) -> WalletState {
    WalletState::new(player(), eur(), credit_line, window_len)
}

fn cmd(id: &str, op: WalletOp) -> WalletCommand {
    WalletCommand {
        provider: ServerId::new("GS-1").unwrap(),
        tx: tx(id),
        op,
        round: None,
    }
}

fn key(id: &str) -> TxKey {
    TxKey {
        provider: ServerId::new("GS-1").unwrap(),
        tx: tx(id),
    }
}

/// The effects that move money or GGR (not the answers and records every command makes).
fn money(fx: &[WalletEffect]) -> Vec<WalletEffect> {
    fx.iter()
        .filter(|e| matches!(e, WalletEffect::Ggr(_) | WalletEffect::Changed { .. }))
        .cloned()
        .collect()
}

/// The answers published, as (tx, repeat, answer).
fn answers(fx: &[WalletEffect]) -> Vec<(String, bool, Answer)> {
    fx.iter()
        .filter_map(|e| match e {
            WalletEffect::Answer {
                key,
                answered,
                repeat,
            } => Some((key.tx.to_string(), *repeat, answered.answer.clone())),
            _ => None,
        })
        .collect()
}

fn deposit(a: i64) -> WalletOp {
    WalletOp::Deposit(amount(a))
}

fn withdraw(a: i64) -> WalletOp {
    WalletOp::Withdraw(amount(a))
}

fn bet(a: i64) -> WalletOp {
    WalletOp::Bet(amount(a))
}

fn win(a: i64, bet_tx: Option<&str>) -> WalletOp {
    WalletOp::Win {
        amount: amount(a),
        bet_tx: bet_tx.map(tx),
    }
}

fn rollback(bet_tx: &str) -> WalletOp {
    WalletOp::Rollback { bet_tx: tx(bet_tx) }
}

/// Applies a command and checks the invariants.
fn apply(
    w: &mut WalletState,
    id: &str,
    op: WalletOp,
    fx: &mut Vec<WalletEffect>,
) -> Result<WalletReply, DomainError> {
    let r = w.apply(
        &meta(),
        &cmd(id, op),
        Some(eur()),
        &WalletRules::default(),
        &Vec::new(),
        fx,
    );
    w.assert_invariants();
    r
}

fn fresh(balance: i64) -> Result<WalletReply, DomainError> {
    Ok(WalletReply {
        balance,
        repeat: false,
    })
}

fn repeat(balance: i64) -> Result<WalletReply, DomainError> {
    Ok(WalletReply {
        balance,
        repeat: true,
    })
}

struct Case {
    name: &'static str,
    credit_line: i64,
    /// `(tx, op)` applied first; refusals allowed (they are part of the history).
    setup: Vec<(&'static str, WalletOp)>,
    tx: &'static str,
    op: WalletOp,
    /// The balance answered, or the refusal's message.
    want: Result<i64, &'static str>,
    /// Changes to the totals.
    totals: fn(&mut WalletTotals),
    /// The effects, given the wallet after the command: `(GGR bets, GGR wins)` if a GGR delta
    /// is expected, and `(kind, delta)` if a balance change is published.
    ggr: Option<(i64, i64)>,
    changed: Option<(&'static str, i64)>,
}

fn same(_: &mut WalletTotals) {}

fn run(case: &Case) {
    let name = case.name;
    let mut w = wallet(case.credit_line, 64);
    for (id, op) in &case.setup {
        let mut fx = Vec::new();
        let _ = apply(&mut w, id, op.clone(), &mut fx);
    }
    let before = w.clone();
    let mut fx = Vec::new();
    let got = apply(&mut w, case.tx, case.op.clone(), &mut fx);

    let mut totals = before.totals.clone();
    (case.totals)(&mut totals);
    assert_eq!(w.totals, totals, "{name}: totals");
    let changed_money = w.balance != before.balance;
    match (&case.want, &got) {
        (Ok(b), Ok(reply)) => {
            assert_eq!(
                reply,
                &WalletReply {
                    balance: *b,
                    repeat: false
                },
                "{name}"
            );
            assert_eq!(w.balance, *b, "{name}: balance");
        }
        (Err(msg), Err(e)) => {
            assert_eq!(e.to_string(), *msg, "{name}: refusal message");
            assert_eq!(
                w.balance, before.balance,
                "{name}: a refusal moved the balance"
            );
        }
        (want, got) => panic!("{name}: expected {want:?}, got {got:?}"),
    }
    let ops = if case.changed.is_some() {
        before.ops + 1
    } else {
        before.ops
    };
    assert_eq!(w.ops, ops, "{name}: operation count");
    assert_eq!(
        changed_money,
        case.changed.is_some(),
        "{name}: the balance moves exactly when a change is published"
    );

    let mut want_fx = Vec::new();
    if let Some((bets, wins)) = case.ggr {
        want_fx.push(WalletEffect::Ggr(GgrDelta {
            source: SourceKey::Wallet(player()),
            seq: w.ops,
            cause: meta().event_id,
            hall: hall(),
            window: Timestamp(T0).window_start(),
            bets,
            wins,
            games: 0,
            jackpots: 0,
            promo: 0,
        }));
    }
    if let Some((kind, delta)) = case.changed {
        want_fx.push(WalletEffect::Changed {
            tx: tx(case.tx),
            kind: WalletOpKind::from_name(kind).expect("a wallet operation"),
            level: 0,
            delta,
            balance: w.balance,
        });
    }
    assert_eq!(money(&fx), want_fx, "{name}: effects");
    let conflict = matches!(got, Err(DomainError::TxConflict { .. }));
    // W-6: every command is answered once (a conflict on its own, W-2).
    assert_eq!(
        answers(&fx).len(),
        usize::from(!conflict),
        "{name}: answers"
    );

    // Every answered command is remembered; its repeat returns the first answer, unchanged.
    if !conflict {
        assert!(
            w.window.contains_key(&key(case.tx)),
            "{name}: not remembered"
        );
    }
    let after = w.clone();
    let mut fx = Vec::new();
    let again = apply(&mut w, case.tx, case.op.clone(), &mut fx);
    let want_again = got.map(|r| WalletReply { repeat: true, ..r });
    assert_eq!(again, want_again, "{name}: repeat");
    assert!(money(&fx).is_empty(), "{name}: repeat moved money");
    let republished: Vec<bool> = answers(&fx).iter().map(|a| a.1).collect();
    let want_republished: &[bool] = if conflict { &[] } else { &[true] };
    assert_eq!(
        republished, want_republished,
        "{name}: the first answer again"
    );
    assert_eq!(w, after, "{name}: repeat changed the wallet");
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "deposit",
            credit_line: 0,
            setup: vec![],
            tx: "T-1",
            op: deposit(500),
            want: Ok(500),
            totals: |t| t.deposits = 500,
            ggr: None,
            changed: Some(("deposit", 500)),
        },
        Case {
            name: "withdrawal",
            credit_line: 0,
            setup: vec![("D-1", deposit(500))],
            tx: "T-1",
            op: withdraw(200),
            want: Ok(300),
            totals: |t| t.withdrawals = 200,
            ggr: None,
            changed: Some(("withdrawal", -200)),
        },
        Case {
            name: "withdrawal of the whole balance",
            credit_line: 0,
            setup: vec![("D-1", deposit(500))],
            tx: "T-1",
            op: withdraw(500),
            want: Ok(0),
            totals: |t| t.withdrawals = 500,
            ggr: None,
            changed: Some(("withdrawal", -500)),
        },
        Case {
            name: "withdrawal above the balance is refused",
            credit_line: 0,
            setup: vec![("D-1", deposit(500))],
            tx: "T-1",
            op: withdraw(501),
            want: Err("withdrawal 501 exceeds available balance 500 in wallet P-1"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "bet",
            credit_line: 0,
            setup: vec![("D-1", deposit(500))],
            tx: "B-1",
            op: bet(100),
            want: Ok(400),
            totals: |t| t.bets = 100,
            ggr: Some((100, 0)),
            changed: Some(("bet", -100)),
        },
        Case {
            name: "bet above the balance is refused",
            credit_line: 0,
            setup: vec![("D-1", deposit(500))],
            tx: "B-1",
            op: bet(501),
            want: Err("bet 501 exceeds available balance 500 in wallet P-1"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "bet on an empty wallet is refused",
            credit_line: 0,
            setup: vec![],
            tx: "B-1",
            op: bet(1),
            want: Err("bet 1 exceeds available balance 0 in wallet P-1"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "win",
            credit_line: 0,
            setup: vec![("D-1", deposit(500)), ("B-1", bet(100))],
            tx: "W-1",
            op: win(250, None),
            want: Ok(650),
            totals: |t| t.wins = 250,
            ggr: Some((0, 250)),
            changed: Some(("win", 250)),
        },
        Case {
            name: "win naming its bet",
            credit_line: 0,
            setup: vec![("D-1", deposit(500)), ("B-1", bet(100))],
            tx: "W-1",
            op: win(250, Some("B-1")),
            want: Ok(650),
            totals: |t| t.wins = 250,
            ggr: Some((0, 250)),
            changed: Some(("win", 250)),
        },
        Case {
            name: "win on an empty wallet",
            credit_line: 0,
            setup: vec![],
            tx: "W-1",
            op: win(1, None),
            want: Ok(1),
            totals: |t| t.wins = 1,
            ggr: Some((0, 1)),
            changed: Some(("win", 1)),
        },
        Case {
            name: "rollback of an applied bet refunds it",
            credit_line: 0,
            setup: vec![("D-1", deposit(500)), ("B-1", bet(100))],
            tx: "R-1",
            op: rollback("B-1"),
            want: Ok(500),
            totals: |t| t.refunds = 100,
            ggr: Some((-100, 0)),
            changed: Some(("rollback", 100)),
        },
        Case {
            name: "rollback of a bet already rolled back refunds nothing",
            credit_line: 0,
            setup: vec![
                ("D-1", deposit(500)),
                ("B-1", bet(100)),
                ("R-1", rollback("B-1")),
            ],
            tx: "R-2",
            op: rollback("B-1"),
            want: Ok(500),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "rollback of a refused bet refunds nothing",
            credit_line: 0,
            setup: vec![("D-1", deposit(50)), ("B-1", bet(100))],
            tx: "R-1",
            op: rollback("B-1"),
            want: Ok(50),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "rollback of an unknown bet answers the balance and refunds nothing",
            credit_line: 0,
            setup: vec![("D-1", deposit(50))],
            tx: "R-1",
            op: rollback("B-9"),
            want: Ok(50),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "rollback of a deposit is refused",
            credit_line: 0,
            setup: vec![("T-1", deposit(50))],
            tx: "R-1",
            op: rollback("T-1"),
            want: Err("rollback R-1 refers to T-1, which is not a bet in wallet P-1"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "rollback of a rollback is refused",
            credit_line: 0,
            setup: vec![
                ("D-1", deposit(500)),
                ("B-1", bet(100)),
                ("R-1", rollback("B-1")),
            ],
            tx: "R-2",
            op: rollback("R-1"),
            want: Err("rollback R-2 refers to R-1, which is not a bet in wallet P-1"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "late bet after the rollback of it is refused",
            credit_line: 0,
            setup: vec![("D-1", deposit(500)), ("R-1", rollback("B-1"))],
            tx: "B-1",
            op: bet(100),
            want: Err("bet B-1 in wallet P-1 was rolled back"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "another operation under a tombstoned key is a conflict",
            credit_line: 0,
            setup: vec![("D-1", deposit(500)), ("R-1", rollback("B-1"))],
            tx: "B-1",
            op: deposit(100),
            want: Err(
                "transaction B-1 of provider GS-1 in wallet P-1 was already answered for other content",
            ),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "credit line lets a bet take the balance below zero",
            credit_line: 1_000,
            setup: vec![("D-1", deposit(200))],
            tx: "B-1",
            op: bet(1_200),
            want: Ok(-1_000),
            totals: |t| t.bets = 1_200,
            ggr: Some((1_200, 0)),
            changed: Some(("bet", -1_200)),
        },
        Case {
            name: "credit line bounds a bet",
            credit_line: 1_000,
            setup: vec![("D-1", deposit(200))],
            tx: "B-1",
            op: bet(1_201),
            want: Err("bet 1201 exceeds available balance 1200 in wallet P-1"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "a withdrawal never draws on the credit line (W-3)",
            credit_line: 1_000,
            setup: vec![],
            tx: "T-1",
            op: withdraw(1_000),
            want: Err("withdrawal 1000 exceeds available balance 0 in wallet P-1"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "a withdrawal takes at most the balance, credit line or not",
            credit_line: 1_000,
            setup: vec![("D-1", deposit(300))],
            tx: "T-1",
            op: withdraw(301),
            want: Err("withdrawal 301 exceeds available balance 300 in wallet P-1"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "a win naming a bet never seen is refused (W-4)",
            credit_line: 0,
            setup: vec![("D-1", deposit(500))],
            tx: "W-1",
            op: win(250, Some("B-9")),
            want: Err("win W-1 names bet B-9, which wallet P-1 has not seen"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "a win naming a refused bet is refused (W-4)",
            credit_line: 0,
            setup: vec![("B-1", bet(100))],
            tx: "W-1",
            op: win(250, Some("B-1")),
            want: Err("win W-1 names bet B-1, which wallet P-1 refused"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "a win naming a rolled-back bet is refused (W-4)",
            credit_line: 0,
            setup: vec![
                ("D-1", deposit(500)),
                ("B-1", bet(100)),
                ("R-1", rollback("B-1")),
            ],
            tx: "W-1",
            op: win(250, Some("B-1")),
            want: Err("bet B-1 in wallet P-1 was rolled back"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "a win naming a deposit is refused as an unknown bet (W-4)",
            credit_line: 0,
            setup: vec![("D-1", deposit(500))],
            tx: "W-1",
            op: win(250, Some("D-1")),
            want: Err("win W-1 names bet D-1, which wallet P-1 has not seen"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "a settled bet cannot be rolled back (W-5)",
            credit_line: 0,
            setup: vec![
                ("D-1", deposit(500)),
                ("B-1", bet(100)),
                ("W-1", win(250, Some("B-1"))),
            ],
            tx: "R-1",
            op: rollback("B-1"),
            want: Err("rollback R-1 names bet B-1, which a win already settled in wallet P-1"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "a second win may name a settled bet",
            credit_line: 0,
            setup: vec![
                ("D-1", deposit(500)),
                ("B-1", bet(100)),
                ("W-1", win(250, Some("B-1"))),
            ],
            tx: "W-2",
            op: win(50, Some("B-1")),
            want: Ok(700),
            totals: |t| t.wins = 300,
            ggr: Some((0, 50)),
            changed: Some(("win", 50)),
        },
        Case {
            name: "credit line used up: nothing more",
            credit_line: 1_000,
            setup: vec![("B-1", bet(1_000))],
            tx: "B-2",
            op: bet(1),
            want: Err("bet 1 exceeds available balance 0 in wallet P-1"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "deposit repays a used credit line",
            credit_line: 1_000,
            setup: vec![("B-1", bet(1_000))],
            tx: "D-1",
            op: deposit(1_500),
            want: Ok(500),
            totals: |t| t.deposits = 1_500,
            ggr: None,
            changed: Some(("deposit", 1_500)),
        },
    ]
}

#[test]
fn table_of_commands() {
    let cases = cases();
    assert!(cases.len() >= 20);
    for case in &cases {
        run(case);
    }
}

#[test]
fn repeat_returns_the_first_answer_and_changes_nothing() {
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    assert_eq!(apply(&mut w, "D-1", deposit(1_000), &mut fx), fresh(1_000));
    assert_eq!(apply(&mut w, "B-1", bet(300), &mut fx), fresh(700));
    assert_eq!(
        apply(&mut w, "W-1", win(50, Some("B-1")), &mut fx),
        fresh(750)
    );
    // A refused withdrawal.
    let refused = apply(&mut w, "X-1", withdraw(10_000), &mut fx);
    assert_eq!(
        refused,
        Err(DomainError::InsufficientFunds {
            what: WalletOpKind::Withdrawal,
            amount: 10_000,
            available: 750,
            player: "P-1".into(),
        })
    );
    let snapshot = w.clone();

    fx.clear();
    // Each repeat returns the answer of its first application, not the current balance.
    assert_eq!(apply(&mut w, "D-1", deposit(1_000), &mut fx), repeat(1_000));
    assert_eq!(apply(&mut w, "B-1", bet(300), &mut fx), repeat(700));
    assert_eq!(
        apply(&mut w, "W-1", win(50, Some("B-1")), &mut fx),
        repeat(750)
    );
    // A refusal is repeated as the same refusal.
    assert_eq!(apply(&mut w, "X-1", withdraw(10_000), &mut fx), refused);
    assert_eq!(
        answers(&fx),
        [
            (
                "D-1".to_string(),
                true,
                Answer::Applied {
                    delta: 1_000,
                    balance: 1_000
                }
            ),
            (
                "B-1".to_string(),
                true,
                Answer::Applied {
                    delta: -300,
                    balance: 700
                }
            ),
            (
                "W-1".to_string(),
                true,
                Answer::Applied {
                    delta: 50,
                    balance: 750
                }
            ),
            (
                "X-1".to_string(),
                true,
                Answer::Refused(refused.clone().unwrap_err())
            ),
        ]
    );
    fx.clear();
    // W-2: the key and the content decide: other content under a used key is a conflict,
    // refused without an answer of its own (the key's answer is taken).
    let conflict = |tx: &str| {
        Err(DomainError::TxConflict {
            provider: "GS-1".into(),
            tx: tx.into(),
            player: "P-1".into(),
        })
    };
    assert_eq!(apply(&mut w, "D-1", withdraw(1), &mut fx), conflict("D-1"));
    assert_eq!(apply(&mut w, "B-1", bet(999_999), &mut fx), conflict("B-1"));
    assert_eq!(
        apply(&mut w, "W-1", win(50, None), &mut fx),
        conflict("W-1")
    );
    // Even the same amount in another currency.
    let usd = Currency::new("USD").unwrap();
    assert_eq!(
        w.apply(
            &meta(),
            &cmd("D-1", deposit(1_000)),
            Some(usd),
            &WalletRules::default(),
            &Vec::new(),
            &mut fx
        ),
        conflict("D-1")
    );
    assert!(fx.is_empty());
    assert_eq!(w, snapshot);
    // Another provider's transaction 1001 is another command.
    let other = WalletCommand {
        provider: ServerId::new("GS-2").unwrap(),
        ..cmd("D-1", withdraw(1))
    };
    assert_eq!(
        w.apply(
            &meta(),
            &other,
            Some(eur()),
            &WalletRules::default(),
            &Vec::new(),
            &mut fx
        ),
        fresh(749)
    );
}

/// A command naming a game round (version 2 `round`, RULES.md E-2).
fn in_round(id: &str, op: WalletOp, round: Option<&str>) -> WalletCommand {
    WalletCommand {
        round: round.map(|r| RoundId::new(r).unwrap()),
        ..cmd(id, op)
    }
}

/// The rounds the published answers echo, as (tx, repeat, round).
fn answer_rounds(fx: &[WalletEffect]) -> Vec<(String, bool, Option<String>)> {
    fx.iter()
        .filter_map(|e| match e {
            WalletEffect::Answer {
                key,
                answered,
                repeat,
            } => Some((
                key.tx.to_string(),
                *repeat,
                answered.round.as_ref().map(RoundId::to_string),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_repeat_with_another_round_is_a_conflict_and_with_the_same_round_a_repeat() {
    // W-2: the round is part of the content: under the same key, another round (or a round
    // where the first had none, or none where it had one) is a conflict; the first answer
    // stands. The same round is a repeat and gets the first answer, round included.
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    fn send(
        w: &mut WalletState,
        c: &WalletCommand,
        fx: &mut Vec<WalletEffect>,
    ) -> Result<WalletReply, DomainError> {
        fx.clear();
        let r = w.apply(
            &meta(),
            c,
            Some(eur()),
            &WalletRules::default(),
            &Vec::new(),
            fx,
        );
        w.assert_invariants();
        r
    }
    assert_eq!(
        send(&mut w, &in_round("D-1", deposit(1_000), None), &mut fx),
        fresh(1_000)
    );
    assert_eq!(
        send(&mut w, &in_round("B-1", bet(300), Some("R-77")), &mut fx),
        fresh(700)
    );
    assert_eq!(
        answer_rounds(&fx),
        [("B-1".to_string(), false, Some("R-77".to_string()))],
        "the answer echoes the round"
    );
    let snapshot = w.clone();

    let conflict = |tx: &str| {
        Err(DomainError::TxConflict {
            provider: "GS-1".into(),
            tx: tx.into(),
            player: "P-1".into(),
        })
    };
    for other in [Some("R-78"), None] {
        assert_eq!(
            send(&mut w, &in_round("B-1", bet(300), other), &mut fx),
            conflict("B-1"),
            "bet B-1 in round {other:?}"
        );
        assert!(fx.is_empty(), "a conflict has no answer of its own");
    }
    assert_eq!(
        send(
            &mut w,
            &in_round("D-1", deposit(1_000), Some("R-1")),
            &mut fx
        ),
        conflict("D-1"),
        "a round where the first had none"
    );
    assert_eq!(w, snapshot, "a conflict changes nothing");

    // The same round: the first answer again, with its round and its balance.
    assert_eq!(
        send(&mut w, &in_round("B-1", bet(300), Some("R-77")), &mut fx),
        repeat(700)
    );
    assert_eq!(
        answer_rounds(&fx),
        [("B-1".to_string(), true, Some("R-77".to_string()))]
    );
    assert_eq!(
        answers(&fx)[0].2,
        Answer::Applied {
            delta: -300,
            balance: 700
        }
    );
    assert_eq!(w, snapshot, "a repeat changes nothing");

    // The same holds for a key recalled from the store (W-1): the stored record keeps the
    // round.
    let mut small = wallet(0, 1);
    let mut stored = Vec::new();
    for c in [
        in_round("D-1", deposit(1_000), None),
        in_round("B-1", bet(300), Some("R-77")),
        in_round("D-2", deposit(5), None),
    ] {
        send(&mut small, &c, &mut fx).unwrap();
        stored.extend(fx.iter().filter_map(|e| match e {
            WalletEffect::Remember(k, r) => Some((k.clone(), Some(r.clone()))),
            _ => None,
        }));
    }
    let late = in_round("B-1", bet(300), Some("R-78"));
    assert_eq!(small.missing(&late), [key("B-1")]);
    let recalled: Vec<_> = stored
        .into_iter()
        .filter(|(k, _)| k == &key("B-1"))
        .collect();
    assert_eq!(
        small.apply(
            &meta(),
            &late,
            Some(eur()),
            &WalletRules::default(),
            &recalled,
            &mut fx
        ),
        conflict("B-1")
    );
    fx.clear();
    let retry = in_round("B-1", bet(300), Some("R-77"));
    assert_eq!(
        small.apply(
            &meta(),
            &retry,
            Some(eur()),
            &WalletRules::default(),
            &recalled,
            &mut fx
        ),
        repeat(700)
    );
    assert_eq!(
        answer_rounds(&fx),
        [("B-1".to_string(), true, Some("R-77".to_string()))]
    );
    assert_eq!(small.balance, 705);
}

#[test]
fn refused_bet_stays_refused_after_funds_arrive() {
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    let first = apply(&mut w, "B-1", bet(100), &mut fx);
    assert!(matches!(
        first,
        Err(DomainError::InsufficientFunds {
            what: WalletOpKind::Bet,
            ..
        })
    ));
    apply(&mut w, "D-1", deposit(1_000), &mut fx).unwrap();
    assert_eq!(apply(&mut w, "B-1", bet(100), &mut fx), first);
    assert_eq!(w.balance, 1_000);
    assert_eq!(w.totals.bets, 0);
}

#[test]
fn wrong_currency_is_refused_and_answered() {
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    let usd = Currency::new("USD").unwrap();
    let r = w.apply(
        &meta(),
        &cmd("D-1", deposit(100)),
        Some(usd),
        &WalletRules::default(),
        &Vec::new(),
        &mut fx,
    );
    let e = DomainError::WrongCurrency {
        entity: Subject::Wallet("P-1".into()),
        expected: "EUR".into(),
        got: "USD".into(),
    };
    assert_eq!(r, Err(e.clone()));
    assert_eq!(
        e.to_string(),
        "currency USD does not match wallet P-1's currency EUR"
    );
    assert!(money(&fx).is_empty());
    assert_eq!(answers(&fx), [("D-1".into(), false, Answer::Refused(e))]);
    assert_eq!((w.balance, w.currency), (0, eur()));
    // The same key in the right currency is other content: a conflict, the refusal stands.
    fx.clear();
    assert!(matches!(
        apply(&mut w, "D-1", deposit(100), &mut fx),
        Err(DomainError::TxConflict { .. })
    ));
    assert_eq!(w.balance, 0);
}

#[test]
fn rollback_of_unknown_bet_leaves_a_tombstone() {
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    apply(&mut w, "D-1", deposit(1_000), &mut fx).unwrap();
    fx.clear();
    assert_eq!(apply(&mut w, "R-1", rollback("B-1"), &mut fx), fresh(1_000));
    assert!(money(&fx).is_empty());
    assert_eq!(w.window[&key("B-1")], TxRecord::Tombstone);
    assert!(matches!(
        &w.window[&key("R-1")],
        TxRecord::Answered(a) if a.op == rollback("B-1")
    ));

    // The late bet is refused, every time, and changes nothing.
    let refused = Err(DomainError::BetRolledBack {
        tx: "B-1".into(),
        player: "P-1".into(),
    });
    assert_eq!(apply(&mut w, "B-1", bet(100), &mut fx), refused);
    let before = w.clone();
    for _ in 0..3 {
        assert_eq!(apply(&mut w, "B-1", bet(100), &mut fx), refused);
    }
    assert!(money(&fx).is_empty());
    assert_eq!(w, before);
    // The rollback's repeat is a repeat.
    assert_eq!(
        apply(&mut w, "R-1", rollback("B-1"), &mut fx),
        repeat(1_000)
    );
    // A second rollback of the refused bet: no refund.
    assert_eq!(apply(&mut w, "R-2", rollback("B-1"), &mut fx), fresh(1_000));
    assert!(money(&fx).is_empty());
    assert_eq!(w.balance, 1_000);
    assert_eq!(w.totals, before.totals);
    assert_eq!(w.ops, before.ops);
}

#[test]
fn rollback_refunds_once_only() {
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    apply(&mut w, "D-1", deposit(1_000), &mut fx).unwrap();
    apply(&mut w, "B-1", bet(400), &mut fx).unwrap();
    assert_eq!(apply(&mut w, "R-1", rollback("B-1"), &mut fx), fresh(1_000));
    assert!(matches!(
        &w.window[&key("B-1")],
        TxRecord::Answered(a) if a.bet.as_ref().map(|b| b.status) == Some(BetStatus::RolledBack)
    ));
    let after_refund = w.clone();
    fx.clear();
    // Repeat of the rollback: the first answer, nothing changes.
    assert_eq!(
        apply(&mut w, "R-1", rollback("B-1"), &mut fx),
        repeat(1_000)
    );
    // Other rollbacks of the same bet: answered, nothing refunded.
    assert_eq!(apply(&mut w, "R-2", rollback("B-1"), &mut fx), fresh(1_000));
    assert_eq!(apply(&mut w, "R-3", rollback("B-1"), &mut fx), fresh(1_000));
    assert!(money(&fx).is_empty());
    assert_eq!(w.totals.refunds, 400);
    assert_eq!(w.balance, 1_000);
    assert_eq!(w.ops, after_refund.ops);
    // The bet's own repeat still answers its first balance.
    assert_eq!(apply(&mut w, "B-1", bet(400), &mut fx), repeat(600));
}

#[test]
fn balance_never_goes_negative_without_a_credit_line() {
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    apply(&mut w, "D-1", deposit(100), &mut fx).unwrap();
    for (i, a) in [60, 60, 40, 1, 1].into_iter().enumerate() {
        let r = apply(&mut w, &format!("B-{i}"), bet(a), &mut fx);
        assert!(w.balance >= 0);
        let want_ok = matches!(i, 0 | 2);
        assert_eq!(r.is_ok(), want_ok, "bet {i} of {a}: {r:?}");
    }
    assert_eq!(w.balance, 0);
}

#[test]
fn credit_line_is_the_floor() {
    let mut w = wallet(500, 64);
    let mut fx = Vec::new();
    apply(&mut w, "B-1", bet(300), &mut fx).unwrap();
    apply(&mut w, "B-2", bet(200), &mut fx).unwrap();
    assert_eq!(w.balance, -500);
    assert_eq!(
        apply(&mut w, "B-3", bet(1), &mut fx),
        Err(DomainError::InsufficientFunds {
            what: WalletOpKind::Bet,
            amount: 1,
            available: 0,
            player: "P-1".into(),
        })
    );
    // A refund moves the floor back up; a withdrawal still gets nothing.
    apply(&mut w, "R-1", rollback("B-1"), &mut fx).unwrap();
    assert_eq!(w.balance, -200);
    assert!(apply(&mut w, "X-1", withdraw(1), &mut fx).is_err());
    assert_eq!(apply(&mut w, "B-4", bet(300), &mut fx), fresh(-500));
}

#[test]
fn constructor_clamps_credit_line_and_window() {
    let w = wallet(-50, 0);
    assert_eq!(w.credit_line, 0);
    assert_eq!(w.window_len, 1);
    assert_eq!(w.balance, 0);
    w.assert_invariants();
}

#[test]
fn memory_is_bounded_and_what_left_it_is_recalled() {
    let mut w = wallet(0, 3);
    let mut fx = Vec::new();
    for i in 1..=5 {
        apply(&mut w, &format!("D-{i}"), deposit(10), &mut fx).unwrap();
        assert!(w.window.len() <= 3);
    }
    assert_eq!(w.balance, 50);
    let remembered = |w: &WalletState| -> Vec<String> {
        w.window_order.iter().map(|k| k.tx.to_string()).collect()
    };
    assert_eq!(remembered(&w), ["D-3", "D-4", "D-5"]);
    // In memory: a repeat, nothing to read.
    assert!(w.missing(&cmd("D-5", deposit(10))).is_empty());
    assert_eq!(apply(&mut w, "D-5", deposit(10), &mut fx), repeat(50));
    // Out of memory: the wallet names the key, and what the store holds decides (W-1).
    let old = cmd("D-1", deposit(10));
    assert_eq!(w.missing(&old), [key("D-1")]);
    let stored: Vec<(TxKey, TxRecord)> = fx
        .iter()
        .filter_map(|e| match e {
            WalletEffect::Remember(k, r) => Some((k.clone(), r.clone())),
            _ => None,
        })
        .collect();
    let recalled = vec![(
        key("D-1"),
        stored
            .iter()
            .find(|(k, _)| k == &key("D-1"))
            .map(|(_, r)| r.clone()),
    )];
    assert!(
        recalled[0].1.is_some(),
        "every answer was handed to the store"
    );
    let r = w.apply(
        &meta(),
        &old,
        Some(eur()),
        &WalletRules::default(),
        &recalled,
        &mut fx,
    );
    assert_eq!(r, repeat(10), "the first answer, from the store");
    assert_eq!(w.balance, 50);
    assert_eq!(remembered(&w), ["D-4", "D-5", "D-1"]);
    // Refusals take a place in memory too.
    let _ = apply(&mut w, "X-1", withdraw(1_000), &mut fx);
    assert_eq!(remembered(&w), ["D-5", "D-1", "X-1"]);
}

#[test]
fn a_tombstone_out_of_memory_still_refuses_its_bet() {
    let mut w = wallet(0, 2);
    let mut fx = Vec::new();
    apply(&mut w, "D-1", deposit(100), &mut fx).unwrap();
    apply(&mut w, "R-1", rollback("B-1"), &mut fx).unwrap();
    apply(&mut w, "D-2", deposit(100), &mut fx).unwrap();
    assert!(!w.window.contains_key(&key("B-1")));
    assert!(fx
        .iter()
        .any(|e| matches!(e, WalletEffect::Remember(k, TxRecord::Tombstone) if k == &key("B-1"))));
    let late = cmd("B-1", bet(10));
    assert_eq!(w.missing(&late), [key("B-1")]);
    let recalled = vec![(key("B-1"), Some(TxRecord::Tombstone))];
    assert!(matches!(
        w.apply(
            &meta(),
            &late,
            Some(eur()),
            &WalletRules::default(),
            &recalled,
            &mut fx
        ),
        Err(DomainError::BetRolledBack { .. })
    ));
    assert_eq!(w.balance, 200);
}

#[test]
fn ggr_deltas_are_sequenced_by_applied_operations() {
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    apply(&mut w, "D-1", deposit(1_000), &mut fx).unwrap(); // op 1, no GGR
    apply(&mut w, "X-1", bet(5_000), &mut fx).unwrap_err(); // refused: no op
    apply(&mut w, "B-1", bet(100), &mut fx).unwrap(); // op 2
    apply(&mut w, "W-1", win(30, None), &mut fx).unwrap(); // op 3
    apply(&mut w, "R-1", rollback("B-1"), &mut fx).unwrap(); // op 4
    apply(&mut w, "R-2", rollback("B-1"), &mut fx).unwrap(); // nothing to refund: no op
    let deltas: Vec<(u64, i64, i64)> = fx
        .iter()
        .filter_map(|e| match e {
            WalletEffect::Ggr(d) => Some((d.seq, d.bets, d.wins)),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, [(2, 100, 0), (3, 0, 30), (4, -100, 0)]);
    assert_eq!(w.ops, 4);
    assert_eq!(w.balance, 1_030);
    let changes: Vec<(&str, i64, i64)> = fx
        .iter()
        .filter_map(|e| match e {
            WalletEffect::Changed {
                kind,
                delta,
                balance,
                ..
            } => Some((kind.name(), *delta, *balance)),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("deposit", 1_000, 1_000),
            ("bet", -100, 900),
            ("win", 30, 930),
            ("rollback", 100, 1_030)
        ]
    );
}

#[test]
fn a_rollback_reverses_the_bet_in_the_bets_window() {
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    apply(&mut w, "D-1", deposit(1_000), &mut fx).unwrap();
    // The bet at 23:59:59.5 (window 23:59), the rollback two seconds later.
    let bet_time = Timestamp(T0 - T0.rem_euclid(86_400_000) + 86_399_500);
    let at = |t: Timestamp| WalletMeta { time: t, ..meta() };
    w.apply(
        &at(bet_time),
        &cmd("B-1", bet(100)),
        Some(eur()),
        &WalletRules::default(),
        &Vec::new(),
        &mut fx,
    )
    .unwrap();
    fx.clear();
    w.apply(
        &at(Timestamp(bet_time.0 + 2_000)),
        &cmd("R-1", rollback("B-1")),
        Some(eur()),
        &WalletRules::default(),
        &Vec::new(),
        &mut fx,
    )
    .unwrap();
    let windows: Vec<(Timestamp, i64)> = fx
        .iter()
        .filter_map(|e| match e {
            WalletEffect::Ggr(d) => Some((d.window, d.bets)),
            _ => None,
        })
        .collect();
    assert_eq!(windows, [(bet_time.window_start(), -100)]);
}

/// Applies a command at `t` under `rules` and checks the invariants. The player rules (a KYC
/// status, a self-exclusion, a limit removed) name no currency; the rest name the wallet's.
fn apply_under(
    w: &mut WalletState,
    id: &str,
    op: WalletOp,
    t: i64,
    rules: &WalletRules<'_>,
    fx: &mut Vec<WalletEffect>,
) -> Result<WalletReply, DomainError> {
    let currency = match &op {
        WalletOp::Kyc(_) | WalletOp::SelfExclude { .. } | WalletOp::Limit { amount: None, .. } => {
            None
        }
        _ => Some(eur()),
    };
    let m = WalletMeta {
        time: Timestamp(t),
        ..meta()
    };
    let r = w.apply(&m, &cmd(id, op), currency, rules, &Vec::new(), fx);
    w.assert_invariants();
    r
}

/// Applies a command under a KYC withdrawal limit (W-8).
fn apply_kyc(
    w: &mut WalletState,
    id: &str,
    op: WalletOp,
    max: Option<i64>,
    fx: &mut Vec<WalletEffect>,
) -> Result<WalletReply, DomainError> {
    let rules = WalletRules {
        kyc_withdrawal_max: max,
        ..WalletRules::default()
    };
    apply_under(w, id, op, T0, &rules, fx)
}

#[test]
fn w8_an_unverified_player_withdraws_up_to_the_limit_and_a_verified_one_beyond() {
    let max = Some(1_000);
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    apply_kyc(&mut w, "D-1", deposit(5_000), max, &mut fx).unwrap();
    // A player nobody verified yet is unverified.
    assert_eq!(w.kyc, KycStatus::Unverified);
    // At the limit: allowed.
    assert_eq!(
        apply_kyc(&mut w, "W-1", withdraw(1_000), max, &mut fx),
        fresh(4_000)
    );
    // One above: refused, nothing moves, the refusal is the answer.
    fx.clear();
    let before = w.clone();
    let refused = apply_kyc(&mut w, "W-2", withdraw(1_001), max, &mut fx);
    let e = DomainError::KycRequired {
        amount: 1_001,
        max: 1_000,
        status: KycStatus::Unverified,
        player: "P-1".into(),
    };
    assert_eq!(refused, Err(e.clone()));
    assert_eq!(e.code(), "kyc_required");
    assert!(money(&fx).is_empty());
    assert_eq!(answers(&fx), [("W-2".into(), false, Answer::Refused(e))]);
    assert_eq!((w.balance, &w.totals), (before.balance, &before.totals));
    // Deposits and bets are not limited.
    assert_eq!(
        apply_kyc(&mut w, "B-1", bet(3_000), max, &mut fx),
        fresh(1_000)
    );
    // The KYC provider verifies the player: an answer like any other, no money moved.
    fx.clear();
    assert_eq!(
        apply_kyc(
            &mut w,
            "K-1",
            WalletOp::Kyc(KycStatus::Verified),
            max,
            &mut fx
        ),
        fresh(1_000)
    );
    assert!(money(&fx).is_empty());
    assert_eq!(
        answers(&fx),
        [(
            "K-1".into(),
            false,
            Answer::Applied {
                delta: 0,
                balance: 1_000
            }
        )]
    );
    assert_eq!(w.kyc, KycStatus::Verified);
    assert_eq!(w.ops, 3, "a KYC status is not a money operation");
    apply_kyc(&mut w, "D-2", deposit(5_000), max, &mut fx).unwrap();
    assert_eq!(
        apply_kyc(&mut w, "W-3", withdraw(6_000), max, &mut fx),
        fresh(0)
    );
    // The refused withdrawal's repeat still gets its first answer (W-2), now verified.
    fx.clear();
    let again = apply_kyc(&mut w, "W-2", withdraw(1_001), max, &mut fx);
    assert!(matches!(again, Err(DomainError::KycRequired { .. })));
    assert_eq!(answers(&fx).len(), 1);
    assert!(answers(&fx)[0].1, "a repeat");
    // Without a configured limit nobody is held back.
    let mut free = wallet(0, 64);
    apply_kyc(&mut free, "D-1", deposit(5_000), None, &mut fx).unwrap();
    assert_eq!(
        apply_kyc(&mut free, "W-1", withdraw(5_000), None, &mut fx),
        fresh(0)
    );
}

#[test]
fn w8_a_blocked_player_may_not_pay_in_stake_or_take_out_but_is_paid_what_is_owed() {
    let mut fx = Vec::new();
    let mut w = wallet(500, 64);
    apply_kyc(&mut w, "D-1", deposit(1_000), None, &mut fx).unwrap();
    apply_kyc(&mut w, "B-1", bet(100), None, &mut fx).unwrap();
    apply_kyc(&mut w, "B-2", bet(50), None, &mut fx).unwrap();
    apply_kyc(
        &mut w,
        "K-1",
        WalletOp::Kyc(KycStatus::Blocked),
        None,
        &mut fx,
    )
    .unwrap();
    let before = w.clone();
    for (id, op, what, amount) in [
        ("D-2", deposit(10), WalletOpKind::Deposit, 10),
        ("B-3", bet(10), WalletOpKind::Bet, 10),
        ("W-1", withdraw(10), WalletOpKind::Withdrawal, 10),
    ] {
        fx.clear();
        let e = DomainError::PlayerBlocked {
            what,
            amount,
            player: "P-1".into(),
        };
        assert_eq!(
            apply_kyc(&mut w, id, op, Some(1_000_000), &mut fx),
            Err(e.clone())
        );
        assert_eq!(e.code(), "player_blocked");
        assert!(money(&fx).is_empty());
    }
    assert_eq!((w.balance, &w.totals), (before.balance, &before.totals));
    // A win for a bet placed before the block, and a rollback of another, still apply:
    // refusing them would keep the player's money.
    assert_eq!(
        apply_kyc(&mut w, "N-1", win(300, Some("B-1")), None, &mut fx),
        fresh(1_150)
    );
    assert_eq!(
        apply_kyc(&mut w, "R-1", rollback("B-2"), None, &mut fx),
        fresh(1_200)
    );
    // Lifting the block (back to unverified) lets the player pay in again.
    apply_kyc(
        &mut w,
        "K-2",
        WalletOp::Kyc(KycStatus::Unverified),
        None,
        &mut fx,
    )
    .unwrap();
    assert_eq!(
        apply_kyc(&mut w, "D-2b", deposit(10), None, &mut fx),
        fresh(1_210)
    );
    // A KYC status conflicts with another command under its key, like any command (W-2).
    assert!(matches!(
        apply_kyc(&mut w, "K-2", deposit(10), None, &mut fx),
        Err(DomainError::TxConflict { .. })
    ));
}

/// Applies a command at `t` under the default rules (UTC periods, 24-hour cooling-off).
fn apply_at(
    w: &mut WalletState,
    id: &str,
    op: WalletOp,
    t: i64,
    fx: &mut Vec<WalletEffect>,
) -> Result<WalletReply, DomainError> {
    apply_under(w, id, op, t, &WalletRules::default(), fx)
}

fn limit(period: DepositPeriod, a: Option<i64>) -> WalletOp {
    WalletOp::Limit {
        kind: LimitKind::Deposit,
        period,
        amount: a.map(amount),
    }
}

fn loss_limit(period: DepositPeriod, a: Option<i64>) -> WalletOp {
    WalletOp::Limit {
        kind: LimitKind::Loss,
        period,
        amount: a.map(amount),
    }
}

const HOUR: i64 = 3_600_000;
/// 2026-03-04T00:00:00Z, a Wednesday.
const WED: i64 = 1_772_582_400_000;

#[test]
fn w9_deposits_count_per_utc_day_week_and_month_against_their_limits() {
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    // Deposited before any limit: it counts once one is set.
    apply_at(&mut w, "D-1", deposit(600), WED + HOUR, &mut fx).unwrap();
    apply_at(
        &mut w,
        "L-1",
        limit(DepositPeriod::Day, Some(1_000)),
        WED + 2 * HOUR,
        &mut fx,
    )
    .unwrap();
    assert_eq!(w.ops, 1, "a limit is not a money operation");
    // 600 + 400 = the limit: allowed; one more: refused, nothing moves.
    assert_eq!(
        apply_at(&mut w, "D-2", deposit(400), WED + 3 * HOUR, &mut fx),
        fresh(1_000)
    );
    let before = (w.balance, w.totals.clone(), w.deposited);
    fx.clear();
    let e = DomainError::LimitDeposit {
        period: DepositPeriod::Day,
        limit: 1_000,
        used: 1_000,
        amount: 1,
        player: "P-1".into(),
    };
    assert_eq!(
        apply_at(&mut w, "D-3", deposit(1), WED + 4 * HOUR, &mut fx),
        Err(e.clone())
    );
    assert_eq!(e.code(), "limit_deposit");
    assert!(money(&fx).is_empty());
    assert_eq!((w.balance, w.totals.clone(), w.deposited), before);
    // The next UTC day starts from nothing; bets and withdrawals are not limited.
    assert_eq!(
        apply_at(&mut w, "D-4", deposit(1_000), WED + 25 * HOUR, &mut fx),
        fresh(2_000)
    );
    assert_eq!(
        apply_at(&mut w, "B-1", bet(1_500), WED + 26 * HOUR, &mut fx),
        fresh(500)
    );
    // A weekly limit counts Monday to Sunday: 2,000 so far this week.
    apply_at(
        &mut w,
        "L-2",
        limit(DepositPeriod::Week, Some(2_500)),
        WED + 27 * HOUR,
        &mut fx,
    )
    .unwrap();
    let refused = apply_at(&mut w, "D-5", deposit(501), WED + 49 * HOUR, &mut fx);
    assert!(
        matches!(
            refused,
            Err(DomainError::LimitDeposit {
                period: DepositPeriod::Week,
                used: 2_000,
                ..
            })
        ),
        "{refused:?}"
    );
    // Monday 2026-03-09: a new week (and day); the month goes on.
    let monday = WED + 5 * 24 * HOUR;
    apply_at(
        &mut w,
        "L-3",
        limit(DepositPeriod::Month, Some(3_000)),
        monday,
        &mut fx,
    )
    .unwrap();
    assert_eq!(
        apply_at(&mut w, "D-6", deposit(1_000), monday + HOUR, &mut fx),
        fresh(1_500)
    );
    let refused = apply_at(&mut w, "D-7", deposit(1), monday + 2 * HOUR, &mut fx);
    assert!(
        matches!(
            refused,
            Err(DomainError::LimitDeposit {
                period: DepositPeriod::Day,
                ..
            })
        ),
        "the day's limit is full first: {refused:?}"
    );
    let refused = apply_at(&mut w, "D-8", deposit(1), monday + 25 * HOUR, &mut fx);
    assert!(
        matches!(
            refused,
            Err(DomainError::LimitDeposit {
                period: DepositPeriod::Month,
                used: 3_000,
                ..
            })
        ),
        "{refused:?}"
    );
}

#[test]
fn w9_bets_count_their_net_loss_per_period_against_the_loss_limits() {
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    apply_at(&mut w, "D-1", deposit(10_000), WED, &mut fx).unwrap();
    // Lost before any limit: it counts once one is set (bets 700, a win of 200 back).
    apply_at(&mut w, "B-1", bet(700), WED + HOUR, &mut fx).unwrap();
    apply_at(&mut w, "W-1", win(200, Some("B-1")), WED + HOUR, &mut fx).unwrap();
    assert_eq!(w.lost[0].1, 500);
    apply_at(
        &mut w,
        "L-1",
        loss_limit(DepositPeriod::Day, Some(1_000)),
        WED + 2 * HOUR,
        &mut fx,
    )
    .unwrap();
    assert_eq!(w.ops, 3, "a limit is not a money operation");
    // 500 lost + 500 = the limit: allowed; one more: refused, nothing moves.
    assert_eq!(
        apply_at(&mut w, "B-2", bet(500), WED + 3 * HOUR, &mut fx),
        fresh(9_000)
    );
    let before = (w.balance, w.totals.clone(), w.lost);
    fx.clear();
    let e = DomainError::LimitLoss {
        period: DepositPeriod::Day,
        limit: 1_000,
        lost: 1_000,
        amount: 1,
        player: "P-1".into(),
    };
    assert_eq!(
        apply_at(&mut w, "B-3", bet(1), WED + 4 * HOUR, &mut fx),
        Err(e.clone())
    );
    assert_eq!(e.code(), "limit_loss");
    assert!(money(&fx).is_empty());
    assert_eq!((w.balance, w.totals.clone(), w.lost), before);
    // Deposits and withdrawals are not limited by a loss limit.
    apply_at(&mut w, "D-2", deposit(5_000), WED + 4 * HOUR, &mut fx).unwrap();
    apply_at(&mut w, "X-1", withdraw(100), WED + 4 * HOUR, &mut fx).unwrap();
    // A refund lowers the period's loss, and so does a win: room to stake again.
    apply_at(&mut w, "R-1", rollback("B-2"), WED + 5 * HOUR, &mut fx).unwrap();
    assert_eq!(w.lost[0].1, 500);
    apply_at(&mut w, "B-4", bet(500), WED + 5 * HOUR, &mut fx).unwrap();
    apply_at(
        &mut w,
        "W-2",
        win(300, Some("B-4")),
        WED + 6 * HOUR,
        &mut fx,
    )
    .unwrap();
    assert_eq!(
        apply_at(&mut w, "B-5", bet(300), WED + 6 * HOUR, &mut fx),
        fresh(13_900)
    );
    // A player ahead may stake more than the limit: the win is counted as won back.
    let next = WED + 25 * HOUR;
    apply_at(&mut w, "W-3", win(2_000, None), next, &mut fx).unwrap();
    assert_eq!(w.lost[0], (Timestamp(WED + 24 * HOUR), -2_000));
    assert_eq!(
        apply_at(&mut w, "B-6", bet(3_000), next + HOUR, &mut fx),
        fresh(12_900)
    );
    let refused = apply_at(&mut w, "B-7", bet(1), next + HOUR, &mut fx);
    assert!(
        matches!(
            refused,
            Err(DomainError::LimitLoss {
                period: DepositPeriod::Day,
                lost: 1_000,
                ..
            })
        ),
        "{refused:?}"
    );
    // A raised loss limit waits out the cooling-off; a weekly one counts the week so far
    // (1,000 on Wednesday and 1,000 on Thursday).
    apply_at(
        &mut w,
        "L-2",
        loss_limit(DepositPeriod::Day, Some(5_000)),
        next + 2 * HOUR,
        &mut fx,
    )
    .unwrap();
    assert!(apply_at(&mut w, "B-8", bet(1), next + 3 * HOUR, &mut fx).is_err());
    apply_at(
        &mut w,
        "L-3",
        loss_limit(DepositPeriod::Week, Some(2_500)),
        next + 3 * HOUR,
        &mut fx,
    )
    .unwrap();
    let after = next + 26 * HOUR;
    let refused = apply_at(&mut w, "B-9", bet(501), after, &mut fx);
    assert!(
        matches!(
            refused,
            Err(DomainError::LimitLoss {
                period: DepositPeriod::Week,
                limit: 2_500,
                lost: 2_000,
                amount: 501,
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(
        apply_at(&mut w, "B-10", bet(500), after, &mut fx),
        fresh(12_400)
    );
}

#[test]
fn w9_a_session_that_lasted_its_limit_refuses_bets_until_a_break_ends_it() {
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    let minute = 60_000;
    let brk = WalletRules::default().session_break_ms;
    assert_eq!(brk, 30 * minute);
    apply_at(&mut w, "D-1", deposit(10_000), WED, &mut fx).unwrap();
    // Played before the limit existed: the session counts from its first bet.
    apply_at(&mut w, "B-1", bet(10), WED, &mut fx).unwrap();
    let limit = WalletOp::SessionLimit { minutes: Some(60) };
    apply_at(&mut w, "S-1", limit, WED + 10 * minute, &mut fx).unwrap();
    assert_eq!(w.ops, 2, "a limit is not a money operation");
    // Breaks of up to 30 minutes keep the session going: 29 minutes, then 29 more.
    apply_at(&mut w, "B-2", bet(10), WED + 29 * minute, &mut fx).unwrap();
    apply_at(
        &mut w,
        "W-1",
        win(5, Some("B-2")),
        WED + 58 * minute,
        &mut fx,
    )
    .unwrap();
    assert_eq!(
        apply_at(&mut w, "B-3", bet(10), WED + 60 * minute - 1, &mut fx),
        fresh(9_975)
    );
    // An hour after its first bet, the session refuses bets; nothing moves.
    let before = (w.balance, w.totals.clone(), w.session);
    fx.clear();
    let e = DomainError::LimitSession {
        minutes: 60,
        started: WED,
        amount: 10,
        player: "P-1".into(),
    };
    assert_eq!(
        apply_at(&mut w, "B-4", bet(10), WED + 60 * minute, &mut fx),
        Err(e.clone())
    );
    assert_eq!(e.code(), "limit_session");
    assert!(money(&fx).is_empty());
    assert_eq!((w.balance, w.totals.clone(), w.session), before);
    // Refused bets do not keep it going; deposits and withdrawals are not play.
    apply_at(&mut w, "D-2", deposit(100), WED + 70 * minute, &mut fx).unwrap();
    let last = WED + 60 * minute - 1;
    assert!(apply_at(&mut w, "B-5", bet(10), last + brk, &mut fx).is_err());
    // A break of more than 30 minutes since the last bet or win starts a new session.
    assert_eq!(
        apply_at(&mut w, "B-6", bet(10), last + brk + 1, &mut fx),
        fresh(10_065)
    );
    assert_eq!(w.session.map(|s| s.start), Some(Timestamp(last + brk + 1)));
    // A longer limit waits out the cooling-off; a removal too.
    let t = last + brk + 2;
    let longer = WalletOp::SessionLimit { minutes: Some(120) };
    apply_at(&mut w, "S-2", longer, t, &mut fx).unwrap();
    assert_eq!(w.limits.as_ref().and_then(|l| l.session), Some(60 * minute));
    apply_at(&mut w, "B-7", bet(10), t + 25 * minute, &mut fx).unwrap();
    apply_at(&mut w, "B-8", bet(10), t + 50 * minute, &mut fx).unwrap();
    let refused = apply_at(&mut w, "B-9", bet(10), t + 61 * minute, &mut fx);
    assert!(
        matches!(refused, Err(DomainError::LimitSession { minutes: 60, .. })),
        "{refused:?}"
    );
}

#[test]
fn w9_a_lower_limit_is_at_once_a_higher_one_or_a_removal_after_the_cooling_off() {
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    apply_at(
        &mut w,
        "L-1",
        limit(DepositPeriod::Day, Some(100)),
        WED,
        &mut fx,
    )
    .unwrap();
    apply_at(
        &mut w,
        "L-2",
        limit(DepositPeriod::Day, Some(5_000)),
        WED + HOUR,
        &mut fx,
    )
    .unwrap();
    // Still 100 for the next 24 hours.
    assert!(apply_at(&mut w, "D-1", deposit(101), WED + 2 * HOUR, &mut fx).is_err());
    assert!(apply_at(&mut w, "D-2", deposit(101), WED + 25 * HOUR - 1, &mut fx).is_err());
    assert_eq!(
        apply_at(&mut w, "D-3", deposit(4_000), WED + 25 * HOUR, &mut fx),
        fresh(4_000)
    );
    // A removal waits too; a lower limit meanwhile replaces the waiting removal at once.
    apply_at(
        &mut w,
        "L-3",
        limit(DepositPeriod::Day, None),
        WED + 30 * HOUR,
        &mut fx,
    )
    .unwrap();
    assert!(apply_at(&mut w, "D-4", deposit(5_001), WED + 31 * HOUR, &mut fx).is_err());
    apply_at(
        &mut w,
        "L-4",
        limit(DepositPeriod::Day, Some(10)),
        WED + 32 * HOUR,
        &mut fx,
    )
    .unwrap();
    assert!(apply_at(&mut w, "D-5", deposit(11), WED + 100 * HOUR, &mut fx).is_err());
    assert_eq!(
        apply_at(&mut w, "D-6", deposit(10), WED + 100 * HOUR, &mut fx),
        fresh(4_010)
    );
}

#[test]
fn w9_a_self_excluded_player_may_not_pay_in_or_stake_and_cannot_cut_it_short() {
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    apply_at(&mut w, "D-1", deposit(1_000), WED, &mut fx).unwrap();
    apply_at(&mut w, "B-1", bet(100), WED + 1, &mut fx).unwrap();
    let until = WED + 48 * HOUR;
    let op = WalletOp::SelfExclude {
        until: Timestamp(until),
    };
    assert_eq!(apply_at(&mut w, "X-1", op, WED + HOUR, &mut fx), fresh(900));
    for (id, op, what) in [
        ("D-2", deposit(10), WalletOpKind::Deposit),
        ("B-2", bet(10), WalletOpKind::Bet),
    ] {
        let e = DomainError::SelfExcluded {
            what,
            until,
            player: "P-1".into(),
        };
        assert_eq!(
            apply_at(&mut w, id, op, WED + 2 * HOUR, &mut fx),
            Err(e.clone())
        );
        assert_eq!(e.code(), "self_excluded");
    }
    // The player's money is not held: withdrawals, wins and rollbacks apply.
    assert_eq!(
        apply_at(&mut w, "W-1", withdraw(100), WED + 3 * HOUR, &mut fx),
        fresh(800)
    );
    assert_eq!(
        apply_at(&mut w, "N-1", win(50, Some("B-1")), WED + 3 * HOUR, &mut fx),
        fresh(850)
    );
    // Shorter: refused; longer: extends.
    let shorter = WalletOp::SelfExclude {
        until: Timestamp(until - 1),
    };
    let r = apply_at(&mut w, "X-2", shorter, WED + 4 * HOUR, &mut fx);
    assert!(
        matches!(r, Err(DomainError::SelfExclusionActive { .. })),
        "{r:?}"
    );
    assert_eq!(r.unwrap_err().code(), "self_exclusion_active");
    let longer = WalletOp::SelfExclude {
        until: Timestamp(until + HOUR),
    };
    apply_at(&mut w, "X-3", longer, WED + 4 * HOUR, &mut fx).unwrap();
    assert!(apply_at(&mut w, "D-3", deposit(10), until + HOUR - 1, &mut fx).is_err());
    // Over: play again.
    assert_eq!(
        apply_at(&mut w, "D-4", deposit(10), until + HOUR, &mut fx),
        fresh(860)
    );
}

#[test]
fn w9_a_self_excluded_players_card_in_raises_an_alert_and_changes_nothing() {
    use pitboss_actors::domain::machine::Alert;
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    let m = pitboss_actors::domain::MachineId::new("M-9").unwrap();
    let at = |t: i64| WalletMeta {
        time: Timestamp(t),
        ..meta()
    };
    // Not excluded: nothing.
    w.apply_card_in(&at(WED), &m, &mut fx);
    assert!(fx.is_empty(), "{fx:?}");
    let until = WED + 48 * HOUR;
    let op = WalletOp::SelfExclude {
        until: Timestamp(until),
    };
    apply_at(&mut w, "X-1", op, WED + HOUR, &mut fx).unwrap();
    fx.clear();
    let before = w.clone();
    // In force: the alert names the machine, the player and the end; nothing moves.
    w.apply_card_in(&at(until - 1), &m, &mut fx);
    let alert = Alert::SelfExcludedCardIn {
        machine: m.clone(),
        player: player(),
        until: Timestamp(until),
    };
    assert_eq!(alert.code(), "self_excluded_card_in");
    assert_eq!(fx, vec![WalletEffect::Alert(alert)]);
    assert_eq!(w, before);
    // Over (the end is exclusive): nothing.
    fx.clear();
    w.apply_card_in(&at(until), &m, &mut fx);
    assert!(fx.is_empty(), "{fx:?}");
}

#[test]
fn m12_a_rated_sessions_points_are_counted_once_per_machine_and_effect_number() {
    use pitboss_actors::domain::Applied;
    let mut w = wallet(0, 64);
    let (m1, m2) = (machine("M-1"), machine("M-2"));
    assert_eq!(w.points(), 0);
    assert_eq!(w.apply_points(&m1, 5, 30), Applied::Done);
    // Redelivered after a crash: the same number, or an older one, is not counted again.
    assert_eq!(w.apply_points(&m1, 5, 30), Applied::Duplicate);
    assert_eq!(w.apply_points(&m1, 3, 7), Applied::Duplicate);
    // Another machine numbers its own; a newer session of the first counts.
    assert_eq!(w.apply_points(&m2, 1, 4), Applied::Done);
    assert_eq!(w.apply_points(&m1, 9, 6), Applied::Done);
    assert_eq!(w.points(), 40);
    // Points are not money.
    assert_eq!((w.balance, w.ops), (0, 0));
}

// --- W-10: cashless transfers ---------------------------------------------------------

fn machine(id: &str) -> pitboss_actors::domain::MachineId {
    pitboss_actors::domain::MachineId::new(id).unwrap()
}

fn transfer_request(m: &str, a: i64) -> WalletOp {
    WalletOp::TransferRequest {
        machine: machine(m),
        amount: amount(a),
        credit: Default::default(),
    }
}

fn transfer_cancel(t: &str) -> WalletOp {
    WalletOp::TransferCancel { transfer: tx(t) }
}

/// A machine's acknowledgement (`ToMachine`) or cash-out (`FromMachine`) of a transfer, by
/// the machine's event `event` at `t`.
fn fact(
    w: &mut WalletState,
    t: &str,
    direction: Direction,
    a: i64,
    event: u128,
    at: i64,
    fx: &mut Vec<WalletEffect>,
) -> Applied {
    let m = WalletMeta {
        event_id: EventId(event),
        time: Timestamp(at),
        hall: hall(),
    };
    // Not numbered: these cases tell a redelivery by the newest acknowledgements (the
    // machine's effect number has its own case).
    let f = TransferFact {
        transfer: tx(t),
        machine: machine("EGM-1"),
        direction,
        amount: amount(a),
        credit: Default::default(),
        seq: 0,
    };
    let r = w
        .apply_transfer(&m, &f, &WalletRules::default(), fx)
        .expect("a transfer fact is never refused");
    w.assert_invariants();
    r
}

fn alerts(fx: &[WalletEffect]) -> Vec<&'static str> {
    fx.iter()
        .filter_map(|e| match e {
            WalletEffect::Alert(a) | WalletEffect::TransferAlert(_, a) => Some(a.code()),
            _ => None,
        })
        .collect()
}

fn ledger(fx: &[WalletEffect]) -> Vec<(WalletOpKind, i64)> {
    fx.iter()
        .filter_map(|e| match e {
            WalletEffect::Changed { kind, delta, .. } => Some((*kind, *delta)),
            _ => None,
        })
        .collect()
}

use pitboss_actors::domain::transfer::{Direction, TransferFact};
use pitboss_actors::domain::Applied;

#[test]
fn w10_a_request_holds_the_money_and_the_machines_acknowledgement_pays_it() {
    let rules = WalletRules::default();
    let mut fx = Vec::new();
    let mut w = wallet(500, 64);
    apply_under(&mut w, "D-1", deposit(1_000), T0, &rules, &mut fx).unwrap();
    fx.clear();
    // Held: the balance drops, the hold keeps the money.
    assert_eq!(
        apply_under(
            &mut w,
            "T-1",
            transfer_request("EGM-1", 700),
            T0,
            &rules,
            &mut fx
        ),
        fresh(300)
    );
    assert_eq!((w.balance, w.held()), (300, 700));
    assert_eq!(ledger(&fx), vec![(WalletOpKind::TransferRequest, -700)]);
    // The credit line never pays a transfer.
    fx.clear();
    let refused = apply_under(
        &mut w,
        "T-2",
        transfer_request("EGM-1", 301),
        T0,
        &rules,
        &mut fx,
    );
    assert_eq!(refused.unwrap_err().code(), "insufficient_funds");
    // The machine takes it: the hold pays, the balance does not move again.
    fx.clear();
    assert_eq!(
        fact(
            &mut w,
            "T-1",
            Direction::ToMachine,
            700,
            100,
            T0 + 1_000,
            &mut fx
        ),
        Applied::Done
    );
    assert_eq!((w.balance, w.held(), w.totals.to_machines), (300, 0, 700));
    assert!(ledger(&fx).is_empty() && alerts(&fx).is_empty());
    // The same fact again (a redelivery) is a duplicate; a cancel finds nothing held.
    fx.clear();
    assert_eq!(
        fact(
            &mut w,
            "T-1",
            Direction::ToMachine,
            700,
            100,
            T0 + 1_000,
            &mut fx
        ),
        Applied::Duplicate
    );
    let e = apply_under(
        &mut w,
        "C-1",
        transfer_cancel("T-1"),
        T0 + 2_000,
        &rules,
        &mut fx,
    );
    assert_eq!(
        e,
        Err(DomainError::TransferNotHeld {
            transfer: "T-1".into(),
            player: "P-1".into(),
            acknowledged: true,
        })
    );
    assert_eq!(e.unwrap_err().code(), "transfer_not_held");
    assert_eq!(w.balance, 300);
}

#[test]
fn w10_a_cancel_or_a_lapse_gives_the_hold_back_and_a_late_acknowledgement_pays_from_the_balance() {
    let rules = WalletRules {
        transfer_hold_ms: 10_000,
        ..WalletRules::default()
    };
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    apply_under(&mut w, "D-1", deposit(1_000), T0, &rules, &mut fx).unwrap();
    apply_under(
        &mut w,
        "T-1",
        transfer_request("EGM-1", 400),
        T0,
        &rules,
        &mut fx,
    )
    .unwrap();
    fx.clear();
    assert_eq!(
        apply_under(
            &mut w,
            "C-1",
            transfer_cancel("T-1"),
            T0 + 1,
            &rules,
            &mut fx
        ),
        fresh(1_000)
    );
    assert_eq!(ledger(&fx), vec![(WalletOpKind::TransferCancel, 400)]);
    assert!(
        w.transfers.is_none(),
        "nothing held or remembered: no box kept"
    );
    // A hold nobody answers lapses at the first message after its time.
    apply_under(
        &mut w,
        "T-2",
        transfer_request("EGM-1", 600),
        T0,
        &rules,
        &mut fx,
    )
    .unwrap();
    fx.clear();
    apply_under(&mut w, "B-1", bet(100), T0 + 10_000, &rules, &mut fx).unwrap();
    assert_eq!(w.held(), 600, "a hold lasts until its time, inclusive");
    fx.clear();
    apply_under(&mut w, "B-2", bet(100), T0 + 10_001, &rules, &mut fx).unwrap();
    assert_eq!((w.held(), w.balance), (0, 800));
    assert_eq!(alerts(&fx), vec!["transfer_hold_released"]);
    assert_eq!(
        ledger(&fx),
        vec![
            (WalletOpKind::TransferRelease, 600),
            (WalletOpKind::Bet, -100)
        ]
    );
    // The machine took it after all, and another without any request: each waits for a
    // request (the hold time of the acknowledgement's wallet rules, 60 s here), and then
    // the balance pays what it can, the rest is unbacked.
    fx.clear();
    fact(
        &mut w,
        "T-2",
        Direction::ToMachine,
        600,
        200,
        T0 + 20_000,
        &mut fx,
    );
    fact(
        &mut w,
        "T-3",
        Direction::ToMachine,
        500,
        201,
        T0 + 20_000,
        &mut fx,
    );
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!((w.balance, w.totals.to_machines), (800, 0));
    assert_eq!(w.next_lapse(), Some(Timestamp(T0 + 80_000)));
    let lapse = |at: i64| WalletMeta {
        event_id: EventId(999),
        time: Timestamp(at),
        hall: hall(),
    };
    w.apply_lapse(&lapse(T0 + 80_000), &mut fx);
    assert!(fx.is_empty(), "a wait lasts until its time, inclusive");
    w.apply_lapse(&lapse(T0 + 80_001), &mut fx);
    assert_eq!(
        (w.balance, w.totals.to_machines, w.unbacked()),
        (0, 800, 300)
    );
    assert_eq!(
        ledger(&fx),
        vec![
            (WalletOpKind::TransferSettle, -600),
            (WalletOpKind::TransferSettle, -200)
        ]
    );
    match &fx[3..] {
        [WalletEffect::Changed { .. }, WalletEffect::TransferAlert(cause, a), WalletEffect::Transfer(s)] =>
        {
            assert_eq!(*cause, EventId(201), "caused by its acknowledgement");
            assert_eq!(a.code(), "transfer_without_hold");
            assert_eq!(a.severity().name(), "critical", "money nobody paid for");
            // What it settled: no hold, 200 from the balance, 300 unbacked (RULES.md W-10),
            // under its acknowledgement's id.
            assert_eq!(
                (s.amount, s.held, s.delta, s.unbacked, s.repeated, s.balance),
                (500, 0, -200, 300, false, 0)
            );
            assert_eq!(s.event, EventId(201));
        }
        other => panic!("{other:?}"),
    }
}

/// An acknowledgement that reaches the wallet before its request and the wallet's earlier
/// commands (they come by different partitions) waits for the request: the outcome is the
/// input order's, where the request held the money first.
#[test]
fn w10_an_acknowledgement_before_its_request_waits_for_it() {
    let rules = WalletRules::default();
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    fact(
        &mut w,
        "T-1",
        Direction::ToMachine,
        1_000,
        100,
        T0 + 5,
        &mut fx,
    );
    assert!(fx.is_empty(), "{fx:?}");
    apply_under(&mut w, "D-1", deposit(2_000), T0, &rules, &mut fx).unwrap();
    fx.clear();
    assert_eq!(
        apply_under(
            &mut w,
            "T-1",
            transfer_request("EGM-1", 1_000),
            T0 + 1,
            &rules,
            &mut fx
        ),
        fresh(1_000)
    );
    assert_eq!(
        (w.balance, w.held(), w.totals.to_machines, w.unbacked()),
        (1_000, 0, 1_000, 0)
    );
    assert!(alerts(&fx).is_empty(), "{fx:?}");
    assert_eq!(ledger(&fx), vec![(WalletOpKind::TransferRequest, -1_000)]);
    let settled = fx.iter().find_map(|e| match e {
        WalletEffect::Transfer(s) => Some(s),
        _ => None,
    });
    let s = settled.expect("the acknowledgement settled at the request");
    assert_eq!(
        (s.held, s.delta, s.unbacked, s.event),
        (1_000, 0, 0, EventId(100))
    );
    assert_eq!(w.next_lapse(), None);
    // Redelivered, it is applied once.
    fx.clear();
    assert_eq!(
        fact(
            &mut w,
            "T-1",
            Direction::ToMachine,
            1_000,
            100,
            T0 + 5,
            &mut fx
        ),
        Applied::Duplicate
    );
}

#[test]
fn w10_the_machines_amount_counts_and_a_second_acknowledgement_is_not_paid_twice() {
    let rules = WalletRules::default();
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    apply_under(&mut w, "D-1", deposit(1_000), T0, &rules, &mut fx).unwrap();
    apply_under(
        &mut w,
        "T-1",
        transfer_request("EGM-1", 400),
        T0,
        &rules,
        &mut fx,
    )
    .unwrap();
    apply_under(
        &mut w,
        "T-2",
        transfer_request("EGM-1", 400),
        T0,
        &rules,
        &mut fx,
    )
    .unwrap();
    // Less than held: the rest goes back.
    fx.clear();
    fact(&mut w, "T-1", Direction::ToMachine, 300, 100, T0, &mut fx);
    assert_eq!((w.balance, w.held()), (300, 400));
    assert_eq!(ledger(&fx), vec![(WalletOpKind::TransferSettle, 100)]);
    assert_eq!(alerts(&fx), vec!["transfer_amount_variance"]);
    // More than held: the balance pays the difference.
    fx.clear();
    fact(&mut w, "T-2", Direction::ToMachine, 450, 101, T0, &mut fx);
    assert_eq!((w.balance, w.held(), w.totals.to_machines), (250, 0, 750));
    assert_eq!(ledger(&fx), vec![(WalletOpKind::TransferSettle, -50)]);
    // The same transfer acknowledged by another event: the player asked once.
    fx.clear();
    fact(&mut w, "T-2", Direction::ToMachine, 450, 102, T0, &mut fx);
    assert_eq!((w.balance, w.unbacked()), (250, 450));
    assert_eq!(alerts(&fx), vec!["transfer_acknowledged_twice"]);
    // A request read after its acknowledgement holds the money, and the acknowledgement,
    // which waited for it, takes the hold.
    fx.clear();
    fact(&mut w, "T-5", Direction::ToMachine, 100, 104, T0, &mut fx);
    assert!(alerts(&fx).is_empty());
    assert_eq!(
        apply_under(
            &mut w,
            "T-5",
            transfer_request("EGM-1", 100),
            T0,
            &rules,
            &mut fx
        ),
        fresh(150)
    );
    assert_eq!(w.held(), 0);
    // From a machine: the wallet receives what the machine sent.
    fx.clear();
    fact(
        &mut w,
        "T-9",
        Direction::FromMachine,
        1_200,
        103,
        T0,
        &mut fx,
    );
    assert_eq!((w.balance, w.totals.from_machines), (1_350, 1_200));
    assert_eq!(
        ledger(&fx),
        vec![(WalletOpKind::TransferFromMachine, 1_200)]
    );
}

/// A machine's facts carry its effect number, and reach the wallet in its order: a fact
/// redelivered after a crash (the machine's events replayed from a checkpoint) is applied
/// once, however many acknowledgements came between, where the newest 32 the wallet keeps
/// would have forgotten it.
#[test]
fn w10_a_fact_redelivered_after_many_others_is_applied_once() {
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    let numbered = |w: &mut WalletState, n: u64, machine_name: &str, fx: &mut Vec<WalletEffect>| {
        let m = WalletMeta {
            event_id: EventId(u128::from(n)),
            time: Timestamp(T0),
            hall: hall(),
        };
        let f = TransferFact {
            transfer: tx(&format!("X-{n}")),
            machine: machine(machine_name),
            direction: Direction::FromMachine,
            amount: amount(10),
            credit: Default::default(),
            seq: n,
        };
        w.apply_transfer(&m, &f, &WalletRules::default(), fx)
            .expect("never refused")
    };
    for n in 1..=100 {
        assert_eq!(numbered(&mut w, n, "EGM-1", &mut fx), Applied::Done);
    }
    assert_eq!(w.balance, 1_000);
    // The replay: every one of them again, the oldest long forgotten by the kept 32.
    for n in 1..=100 {
        assert_eq!(
            numbered(&mut w, n, "EGM-1", &mut fx),
            Applied::Duplicate,
            "fact {n}"
        );
    }
    assert_eq!((w.balance, w.totals.from_machines), (1_000, 1_000));
    // Another machine's numbers are its own.
    assert_eq!(numbered(&mut w, 5, "EGM-2", &mut fx), Applied::Done);
    assert_eq!(w.balance, 1_010);
    w.assert_invariants();
}

#[test]
fn w10_a_blocked_or_self_excluded_player_may_not_send_money_to_a_machine() {
    let rules = WalletRules::default();
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    apply_under(&mut w, "D-1", deposit(1_000), T0, &rules, &mut fx).unwrap();
    apply_under(
        &mut w,
        "K-1",
        WalletOp::Kyc(KycStatus::Blocked),
        T0,
        &rules,
        &mut fx,
    )
    .unwrap();
    let e = apply_under(
        &mut w,
        "T-1",
        transfer_request("EGM-1", 100),
        T0,
        &rules,
        &mut fx,
    );
    assert_eq!(e.unwrap_err().code(), "player_blocked");
    apply_under(
        &mut w,
        "K-2",
        WalletOp::Kyc(KycStatus::Verified),
        T0,
        &rules,
        &mut fx,
    )
    .unwrap();
    let until = WalletOp::SelfExclude {
        until: Timestamp(T0 + 1_000_000),
    };
    apply_under(&mut w, "X-1", until, T0, &rules, &mut fx).unwrap();
    let e = apply_under(
        &mut w,
        "T-2",
        transfer_request("EGM-1", 100),
        T0,
        &rules,
        &mut fx,
    );
    assert_eq!(e.unwrap_err().code(), "self_excluded");
    // Money from a machine is always received.
    fact(&mut w, "T-3", Direction::FromMachine, 50, 100, T0, &mut fx);
    assert_eq!((w.balance, w.held()), (1_050, 0));
}

/// A lapsed hold's alert is caused by its request, whichever message finds it lapsed (a
/// replay may order the wallet's messages differently): the same alert id either way.
#[test]
fn w10_a_lapsed_holds_alert_is_caused_by_its_request() {
    let rules = WalletRules {
        transfer_hold_ms: 1_000,
        ..WalletRules::default()
    };
    let mut fx = Vec::new();
    let mut w = wallet(0, 64);
    apply_under(&mut w, "D-1", deposit(1_000), T0, &rules, &mut fx).unwrap();
    let at = |event: u128, t: i64| WalletMeta {
        event_id: EventId(event),
        time: Timestamp(t),
        hall: hall(),
    };
    let request = cmd("T-1", transfer_request("EGM-1", 400));
    w.apply(
        &at(50, T0),
        &request,
        Some(eur()),
        &rules,
        &Vec::new(),
        &mut fx,
    )
    .unwrap();
    for (event, t) in [(60, T0 + 2_000), (61, T0 + 5_000)] {
        let mut w = w.clone();
        let mut fx = Vec::new();
        w.apply_lapse(&at(event, t), &mut fx);
        let caused: Vec<_> = fx
            .iter()
            .filter_map(|e| match e {
                WalletEffect::TransferAlert(cause, a) => Some((*cause, a.code())),
                _ => None,
            })
            .collect();
        assert_eq!(caused, vec![(EventId(50), "transfer_hold_released")]);
    }
}

/// RULES.md D-10: a deposit or withdrawal the wallet applies for a listed cash desk is cash
/// the desk books; refused ones, repeats and other providers' move no drawer.
#[test]
fn d10_cash_at_a_desk_goes_to_the_desk_once_and_only_when_applied() {
    use pitboss_actors::domain::desk::{CashDir, DeskCash};
    let desks: std::collections::BTreeSet<ServerId> =
        [ServerId::new("CAGE-1").unwrap()].into_iter().collect();
    let rules = WalletRules {
        cash_desks: &desks,
        ..WalletRules::default()
    };
    let mut w = wallet(0, 16);
    let mut run = |provider: &str, id: &str, op: WalletOp| {
        let mut fx = Vec::new();
        let c = WalletCommand {
            provider: ServerId::new(provider).unwrap(),
            tx: tx(id),
            op,
            round: None,
        };
        let r = w.apply(&meta(), &c, Some(eur()), &rules, &Vec::new(), &mut fx);
        w.assert_invariants();
        let desk: Vec<_> = fx
            .iter()
            .filter_map(|e| match e {
                WalletEffect::Desk(d, c) => Some((d.to_string(), *c)),
                _ => None,
            })
            .collect();
        (r.map(|r| r.balance), desk)
    };
    let at = |dir, amount| vec![("CAGE-1".to_string(), DeskCash { dir, amount })];
    assert_eq!(
        run("CAGE-1", "d1", deposit(50_000)),
        (Ok(50_000), at(CashDir::In, 50_000))
    );
    assert_eq!(
        run("CAGE-1", "d1", deposit(50_000)),
        (Ok(50_000), vec![]),
        "a repeat moves no cash again"
    );
    assert_eq!(
        run("CAGE-1", "w1", withdraw(80_000)).1,
        vec![],
        "refused for funds: nothing paid"
    );
    assert_eq!(
        run("CAGE-1", "w2", withdraw(20_000)),
        (Ok(30_000), at(CashDir::Out, 20_000))
    );
    assert_eq!(
        run("PSP-1", "d2", deposit(1_000)),
        (Ok(31_000), vec![]),
        "not a desk"
    );
    assert_eq!(
        run("CAGE-1", "b1", bet(1_000)).1,
        vec![],
        "a bet is no cash"
    );
    let t = &w.totals;
    assert_eq!(
        (
            t.deposits,
            t.withdrawals,
            t.desk_deposits,
            t.desk_withdrawals
        ),
        (51_000, 20_000, 50_000, 20_000)
    );
}
