//! Table-driven tests of the wallet state machine, `WalletState::apply`.
//!
//! Every table case starts from a fresh wallet, applies its setup commands, then the command
//! under test, and checks the answer (balance or refusal message), the balance, the running
//! totals, the operation count and the effects exactly. Each case then repeats the command
//! and checks that the repeat returns the first answer and changes nothing.

use pitboss_actors::domain::wallet::{
    TxKind, WalletCommand, WalletEffect, WalletMeta, WalletOp, WalletReply, WalletState,
    WalletTotals,
};
use pitboss_actors::domain::{
    Amount, Currency, DomainError, EventId, GgrDelta, HallId, PlayerId, SourceKey, Subject,
    Timestamp, TxId, WalletOpKind,
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
    WalletCommand { tx: tx(id), op }
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
    let r = w.apply(&meta(), &cmd(id, op), eur(), fx);
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
            hall: hall(),
            window: Timestamp(T0).window_start(),
            bets,
            wins,
            games: 0,
            jackpots: 0,
        }));
    }
    if let Some((kind, delta)) = case.changed {
        want_fx.push(WalletEffect::Changed {
            tx: tx(case.tx),
            kind: WalletOpKind::from_name(kind).expect("a wallet operation"),
            delta,
            balance: w.balance,
        });
    }
    assert_eq!(fx, want_fx, "{name}: effects");

    // Every answered command is remembered; its repeat returns the first answer, unchanged.
    if !matches!(got, Err(DomainError::WrongCurrency { .. })) {
        assert!(
            w.window.contains_key(&tx(case.tx)),
            "{name}: not remembered"
        );
    }
    let after = w.clone();
    let mut fx = Vec::new();
    let again = apply(&mut w, case.tx, case.op.clone(), &mut fx);
    let want_again = got.map(|r| WalletReply { repeat: true, ..r });
    assert_eq!(again, want_again, "{name}: repeat");
    assert!(fx.is_empty(), "{name}: repeat produced effects");
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
            want: Err("bet B-1 in wallet P-1 was rolled back before it arrived"),
            totals: same,
            ggr: None,
            changed: None,
        },
        Case {
            name: "another operation under a tombstoned id is refused",
            credit_line: 0,
            setup: vec![("D-1", deposit(500)), ("R-1", rollback("B-1"))],
            tx: "B-1",
            op: deposit(100),
            want: Err("transaction B-1 in wallet P-1 was already used for a rolled-back bet"),
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
            name: "credit line lets a withdrawal take the balance below zero",
            credit_line: 1_000,
            setup: vec![],
            tx: "T-1",
            op: withdraw(1_000),
            want: Ok(-1_000),
            totals: |t| t.withdrawals = 1_000,
            ggr: None,
            changed: Some(("withdrawal", -1_000)),
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
    // The id decides, not the payload: a different operation under a used id is a repeat.
    assert_eq!(apply(&mut w, "D-1", withdraw(1), &mut fx), repeat(1_000));
    assert_eq!(apply(&mut w, "B-1", bet(999_999), &mut fx), repeat(700));
    // Even in another currency.
    let usd = Currency::new("USD").unwrap();
    assert_eq!(
        w.apply(&meta(), &cmd("D-1", deposit(1)), usd, &mut fx),
        repeat(1_000)
    );
    assert!(fx.is_empty());
    assert_eq!(w, snapshot);
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
fn wrong_currency_is_refused_and_not_remembered() {
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    let usd = Currency::new("USD").unwrap();
    let r = w.apply(&meta(), &cmd("D-1", deposit(100)), usd, &mut fx);
    assert_eq!(
        r,
        Err(DomainError::WrongCurrency {
            entity: Subject::Wallet("P-1".into()),
            expected: "EUR".into(),
            got: "USD".into(),
        })
    );
    assert_eq!(
        r.unwrap_err().to_string(),
        "currency USD does not match wallet P-1's currency EUR"
    );
    assert!(fx.is_empty());
    assert_eq!(w, wallet(0, 64));
    // The same id in the right currency is a first application.
    assert_eq!(apply(&mut w, "D-1", deposit(100), &mut fx), fresh(100));
}

#[test]
fn rollback_of_unknown_bet_leaves_a_tombstone() {
    let mut w = wallet(0, 64);
    let mut fx = Vec::new();
    apply(&mut w, "D-1", deposit(1_000), &mut fx).unwrap();
    fx.clear();
    assert_eq!(apply(&mut w, "R-1", rollback("B-1"), &mut fx), fresh(1_000));
    assert!(fx.is_empty());
    assert_eq!(w.window[&tx("B-1")].kind, TxKind::Tombstone);
    assert_eq!(w.window[&tx("R-1")].kind, TxKind::Rollback);

    // The late bet is refused, every time, and changes nothing.
    let before = w.clone();
    for _ in 0..3 {
        assert_eq!(
            apply(&mut w, "B-1", bet(100), &mut fx),
            Err(DomainError::BetRolledBack {
                tx: "B-1".into(),
                player: "P-1".into(),
            })
        );
    }
    assert!(fx.is_empty());
    assert_eq!(w, before);
    // The rollback's repeat is a repeat.
    assert_eq!(
        apply(&mut w, "R-1", rollback("B-1"), &mut fx),
        repeat(1_000)
    );
    // A second rollback of the same missing bet finds the tombstone: no refund, no new one.
    assert_eq!(apply(&mut w, "R-2", rollback("B-1"), &mut fx), fresh(1_000));
    assert!(fx.is_empty());
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
    assert_eq!(
        w.window[&tx("B-1")].kind,
        TxKind::Bet {
            amount: 400,
            rolled_back: true,
        }
    );
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
    assert!(fx.is_empty());
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
    apply(&mut w, "W-1", withdraw(200), &mut fx).unwrap();
    assert_eq!(w.balance, -500);
    assert_eq!(
        apply(&mut w, "B-2", bet(1), &mut fx),
        Err(DomainError::InsufficientFunds {
            what: WalletOpKind::Bet,
            amount: 1,
            available: 0,
            player: "P-1".into(),
        })
    );
    // A refund moves the floor back up.
    apply(&mut w, "R-1", rollback("B-1"), &mut fx).unwrap();
    assert_eq!(w.balance, -200);
    assert_eq!(apply(&mut w, "B-3", bet(300), &mut fx), fresh(-500));
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
fn idempotency_window_is_bounded_and_evicts_oldest_first() {
    let mut w = wallet(0, 3);
    let mut fx = Vec::new();
    for i in 1..=5 {
        apply(&mut w, &format!("D-{i}"), deposit(10), &mut fx).unwrap();
        assert!(w.window.len() <= 3);
    }
    assert_eq!(w.balance, 50);
    let remembered: Vec<&str> = w.window_order.iter().map(TxId::as_str).collect();
    assert_eq!(remembered, ["D-3", "D-4", "D-5"]);
    // Still in the window: a repeat.
    assert_eq!(apply(&mut w, "D-5", deposit(10), &mut fx), repeat(50));
    assert_eq!(apply(&mut w, "D-3", deposit(10), &mut fx), repeat(30));
    // Beyond the window: forgotten, so the id is applied again (the window's documented bound).
    assert_eq!(apply(&mut w, "D-1", deposit(10), &mut fx), fresh(60));
    let remembered: Vec<&str> = w.window_order.iter().map(TxId::as_str).collect();
    assert_eq!(remembered, ["D-4", "D-5", "D-1"]);
    // Refusals take a place in the window too.
    let _ = apply(&mut w, "X-1", withdraw(1_000), &mut fx);
    let remembered: Vec<&str> = w.window_order.iter().map(TxId::as_str).collect();
    assert_eq!(remembered, ["D-5", "D-1", "X-1"]);
}

#[test]
fn tombstone_takes_a_place_in_the_window() {
    let mut w = wallet(0, 4);
    let mut fx = Vec::new();
    apply(&mut w, "D-1", deposit(100), &mut fx).unwrap();
    apply(&mut w, "R-1", rollback("B-1"), &mut fx).unwrap();
    let remembered: Vec<&str> = w.window_order.iter().map(TxId::as_str).collect();
    assert_eq!(remembered, ["D-1", "B-1", "R-1"]);
    // Two more commands push the tombstone out; then the late bet is no longer recognised.
    apply(&mut w, "D-2", deposit(100), &mut fx).unwrap();
    assert!(apply(&mut w, "B-1", bet(10), &mut fx).is_err());
    apply(&mut w, "D-3", deposit(100), &mut fx).unwrap();
    apply(&mut w, "D-4", deposit(100), &mut fx).unwrap();
    assert!(!w.window.contains_key(&tx("B-1")));
    assert_eq!(apply(&mut w, "B-1", bet(10), &mut fx), fresh(390));
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
            WalletEffect::Changed { .. } => None,
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
            WalletEffect::Ggr(_) => None,
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
