//! The cash desk's shifts, rule by rule (RULES.md D): each test names the rule it holds.

use pitboss_actors::domain::desk::{
    CashDir, CashSource, DeskCash, DeskCommand, DeskEffect, DeskMeta, DeskMove, DeskOp, DeskState,
    Reply, ShiftNote, ShiftOp, SHIFTS_KEPT,
};
use pitboss_actors::domain::machine::Alert;
use pitboss_actors::domain::{
    Amount, Currency, DomainError, EventId, HallId, ServerId, Timestamp, TxId,
};

fn eur() -> Currency {
    Currency::new("EUR").unwrap()
}

fn meta(n: u128, time: i64) -> DeskMeta {
    DeskMeta {
        event_id: EventId(n),
        time: Timestamp(time),
        hall: HallId::new("H-1").unwrap(),
    }
}

fn open(cashier: &str, float: i64) -> DeskOp {
    DeskOp::Open {
        cashier: cashier.into(),
        float,
    }
}

fn fill(a: i64) -> DeskOp {
    DeskOp::Fill(Amount::new(a).unwrap())
}

fn credit(a: i64) -> DeskOp {
    DeskOp::Credit(Amount::new(a).unwrap())
}

fn close(counted: i64) -> DeskOp {
    DeskOp::Close { counted }
}

fn cash_in(a: i64) -> DeskCash {
    DeskCash {
        dir: CashDir::In,
        amount: a,
    }
}

fn cash_out(a: i64) -> DeskCash {
    DeskCash {
        dir: CashDir::Out,
        amount: a,
    }
}

struct T {
    d: DeskState,
    fx: Vec<DeskEffect>,
    n: u128,
}

impl T {
    fn new() -> Self {
        Self {
            d: DeskState::new(ServerId::new("CAGE-1").unwrap(), eur()),
            fx: Vec::new(),
            n: 0,
        }
    }

    /// A command at `time` in the network's currency; its answer.
    fn cmd(&mut self, tx: &str, op: DeskOp, time: i64) -> ShiftNote {
        self.cmd_in(tx, op, time, eur())
    }

    fn cmd_in(&mut self, tx: &str, op: DeskOp, time: i64, currency: Currency) -> ShiftNote {
        self.n += 1;
        self.fx.clear();
        let c = DeskCommand {
            tx: TxId::new(tx).unwrap(),
            op,
        };
        self.d
            .apply(&meta(self.n, time), &c, currency, &mut self.fx)
            .unwrap();
        self.d.assert_invariants();
        self.note()
    }

    /// A ticket's cash operation with event id `id` at `time`.
    fn cash(&mut self, id: u128, cash: DeskCash, time: i64) -> Reply {
        self.cash_of(id, cash, CashSource::Ticket, time)
    }

    /// A cash operation of `source` with event id `id` at `time`.
    fn cash_of(&mut self, id: u128, cash: DeskCash, source: CashSource, time: i64) -> Reply {
        self.fx.clear();
        let r = self
            .d
            .apply_cash(&meta(1_000_000 + id, time), cash, source, &mut self.fx)
            .unwrap();
        self.d.assert_invariants();
        r
    }

    fn note(&self) -> ShiftNote {
        let notes: Vec<_> = self
            .fx
            .iter()
            .filter_map(|e| match e {
                DeskEffect::Note(n) => Some((**n).clone()),
                _ => None,
            })
            .collect();
        assert_eq!(notes.len(), 1, "one answer: {:?}", self.fx);
        notes.into_iter().next().unwrap()
    }

    fn alerts(&self) -> Vec<Alert> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                DeskEffect::Alert(a) => Some(a.clone()),
                _ => None,
            })
            .collect()
    }

    /// The ledger movements: (kind, level, delta, balance).
    fn moves(&self) -> Vec<(DeskMove, u8, i64, i64)> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                DeskEffect::Moved {
                    kind,
                    level,
                    delta,
                    balance,
                    ..
                } => Some((*kind, *level, *delta, *balance)),
                _ => None,
            })
            .collect()
    }
}

fn code(n: &ShiftNote) -> Option<&'static str> {
    n.refused.as_ref().map(DomainError::code)
}

#[test]
fn d1_a_shift_opens_with_its_float_and_a_second_open_is_refused() {
    let mut t = T::new();
    let a = t.cmd("t1", open("ANNA", 50_000), 1_000);
    assert_eq!(code(&a), None);
    assert_eq!(a.op, ShiftOp::Open);
    assert_eq!((a.shift.number, a.shift.cashier.as_str()), (1, "ANNA"));
    assert_eq!((a.shift.float, a.shift.expected()), (50_000, 50_000));
    assert_eq!(t.moves(), vec![(DeskMove::Float, 0, 50_000, 50_000)]);
    let b = t.cmd("t2", open("BEN", 10_000), 2_000);
    assert_eq!(code(&b), Some("shift_already_open"));
    assert_eq!(b.shift.cashier, "ANNA", "the answer shows the open shift");
    assert!(t.moves().is_empty());
}

#[test]
fn d1_another_currency_is_refused_first() {
    let mut t = T::new();
    t.cmd("t1", open("ANNA", 0), 1_000);
    let usd = Currency::new("USD").unwrap();
    let a = t.cmd_in("t2", open("BEN", 0), 2_000, usd);
    assert_eq!(
        code(&a),
        Some("wrong_currency"),
        "before shift_already_open"
    );
    let b = t.cmd_in("t3", fill(100), 2_000, usd);
    assert_eq!(code(&b), Some("wrong_currency"));
}

#[test]
fn d2_fills_and_credits_need_an_open_shift_and_move_the_drawer() {
    let mut t = T::new();
    assert_eq!(code(&t.cmd("t1", fill(1_000), 500)), Some("shift_not_open"));
    assert_eq!(
        code(&t.cmd("t2", credit(1_000), 500)),
        Some("shift_not_open")
    );
    t.cmd("t3", open("ANNA", 10_000), 1_000);
    let f = t.cmd("t4", fill(5_000), 2_000);
    assert_eq!((f.shift.fills, f.shift.expected()), (5_000, 15_000));
    assert_eq!(t.moves(), vec![(DeskMove::Fill, 0, 5_000, 15_000)]);
    let c = t.cmd("t5", credit(12_000), 3_000);
    assert_eq!((c.shift.credits, c.shift.expected()), (12_000, 3_000));
    assert_eq!(t.moves(), vec![(DeskMove::Credit, 0, -12_000, 3_000)]);
}

#[test]
fn d3_ticket_sales_and_payments_are_booked_to_the_open_shift() {
    let mut t = T::new();
    t.cmd("t1", open("ANNA", 10_000), 1_000);
    assert_eq!(t.cash(1, cash_in(2_500), 1_500), Reply::Done);
    assert_eq!(t.moves(), vec![(DeskMove::CashIn, 0, 2_500, 12_500)]);
    assert_eq!(t.cash(2, cash_out(4_000), 1_600), Reply::Done);
    assert_eq!(t.moves(), vec![(DeskMove::CashOut, 0, -4_000, 8_500)]);
    assert!(
        t.fx.iter().all(|e| !matches!(e, DeskEffect::Note(_))),
        "no output"
    );
    let open = t.d.open.clone().unwrap();
    assert_eq!(
        (open.cash_in, open.cash_out, open.operations),
        (2_500, 4_000, 2)
    );
    assert_eq!((t.d.cash_in, t.d.cash_out), (2_500, 4_000));
    // The same operation again (a replay) is booked once.
    assert_eq!(t.cash(2, cash_out(4_000), 1_600), Reply::Repeat);
    assert!(t.fx.is_empty());
    assert_eq!(t.d.open.as_ref().unwrap().cash_out, 4_000);
}

#[test]
fn d3_cash_no_shift_covers_is_unshifted_and_alerted() {
    let mut t = T::new();
    t.cash(1, cash_in(700), 500);
    assert_eq!(t.moves(), vec![(DeskMove::CashIn, 1, 700, 700)]);
    let desk = ServerId::new("CAGE-1").unwrap();
    assert_eq!(
        t.alerts(),
        vec![Alert::DeskCashWithoutShift {
            desk: desk.clone(),
            amount: 700
        }]
    );
    t.cmd("t1", open("ANNA", 0), 1_000);
    // Before the shift opened: unshifted too.
    t.cash(2, cash_out(300), 900);
    assert_eq!(t.moves(), vec![(DeskMove::CashOut, 1, -300, 400)]);
    assert_eq!((t.d.unshifted_in, t.d.unshifted_out), (700, 300));
    assert_eq!(t.d.open.as_ref().unwrap().operations, 0);
    assert_eq!((t.d.cash_in, t.d.cash_out), (700, 300));
}

#[test]
fn d4_the_close_compares_counted_with_expected_and_empties_the_drawer() {
    let mut t = T::new();
    t.cmd("t1", open("ANNA", 10_000), 1_000);
    t.cash(1, cash_in(2_000), 1_100);
    t.cmd("t2", fill(3_000), 1_200);
    t.cmd("t3", credit(1_000), 1_300);
    t.cash(2, cash_out(500), 1_400);
    let c = t.cmd("t4", close(13_400), 2_000);
    assert_eq!(code(&c), None);
    assert_eq!(c.op, ShiftOp::Close);
    assert_eq!(c.shift.expected(), 10_000 + 2_000 - 500 + 3_000 - 1_000);
    assert_eq!(c.shift.counted, Some(13_400));
    assert_eq!(c.shift.variance(), Some(-100), "100 short");
    assert_eq!(c.shift.closed_at, Some(Timestamp(2_000)));
    assert_eq!(t.moves(), vec![(DeskMove::Close, 0, -13_500, 0)]);
    let desk = ServerId::new("CAGE-1").unwrap();
    assert_eq!(
        t.alerts(),
        vec![Alert::ShiftVariance {
            desk,
            shift: 1,
            expected: 13_500,
            counted: 13_400,
            variance: -100
        }]
    );
    assert!(t.d.open.is_none());
    assert_eq!(t.d.closed.len(), 1);
    // Balanced: no alert.
    t.cmd("t5", open("BEN", 100), 3_000);
    t.cmd("t6", close(100), 4_000);
    assert!(t.alerts().is_empty());
}

#[test]
fn d4_a_shift_closed_twice_is_refused_the_second_time() {
    let mut t = T::new();
    t.cmd("t1", open("ANNA", 100), 1_000);
    t.cmd("t2", close(100), 2_000);
    let again = t.cmd("t3", close(100), 2_100);
    assert_eq!(code(&again), Some("shift_not_open"));
    assert_eq!(again.shift.number, 1, "the answer shows the latest shift");
    assert!(t.moves().is_empty());
    // The first close's tx again is a repeat: its first answer.
    let first = t.cmd("t2", close(100), 2_200);
    assert_eq!((code(&first), first.op), (None, ShiftOp::Close));
    assert_eq!(first.time, Timestamp(2_000));
}

#[test]
fn d4_a_close_dated_before_the_open_closes_at_the_open() {
    let mut t = T::new();
    t.cmd("t1", open("ANNA", 100), 5_000);
    let c = t.cmd("t2", close(100), 4_000);
    assert_eq!(c.shift.closed_at, Some(Timestamp(5_000)));
}

#[test]
fn d5_a_late_operation_revises_the_closed_shift_it_belongs_to() {
    let mut t = T::new();
    t.cmd("t1", open("ANNA", 1_000), 1_000);
    t.cmd("t2", close(1_000), 2_000);
    t.cmd("t3", open("BEN", 500), 3_000);
    // A ticket paid at 1_500 (in ANNA's shift) arrives now.
    assert_eq!(t.cash(1, cash_out(200), 1_500), Reply::Done);
    let r = t.note();
    assert_eq!((r.op, r.tx.clone(), r.amount), (ShiftOp::Revise, None, 0));
    assert_eq!((r.shift.number, r.shift.revision), (1, 1));
    assert_eq!((r.shift.cash_out, r.shift.expected()), (200, 800));
    assert_eq!(
        r.shift.variance(),
        Some(200),
        "counted 1000 against 800: over"
    );
    // The operation and the drawer to the vault: the open shift's balance is untouched.
    assert_eq!(
        t.moves(),
        vec![
            (DeskMove::CashOut, 0, -200, 300),
            (DeskMove::Close, 0, 200, 500)
        ]
    );
    let desk = ServerId::new("CAGE-1").unwrap();
    assert_eq!(
        t.alerts(),
        vec![Alert::ShiftVariance {
            desk,
            shift: 1,
            expected: 800,
            counted: 1_000,
            variance: 200
        }]
    );
    assert_eq!(
        t.d.open.as_ref().unwrap().cash_out,
        0,
        "BEN's shift unchanged"
    );
    // At the close's own time: the next shift's (closed_at is exclusive).
    t.cash(2, cash_in(50), 3_000);
    assert_eq!(t.d.open.as_ref().unwrap().cash_in, 50);
}

#[test]
fn d5_only_the_last_shifts_are_kept() {
    let mut t = T::new();
    let n = SHIFTS_KEPT as i64 + 5;
    for i in 0..n {
        t.cmd(&format!("o{i}"), open("ANNA", 0), 10 * i);
        t.cmd(&format!("c{i}"), close(0), 10 * i + 5);
    }
    assert_eq!(t.d.closed.len(), SHIFTS_KEPT);
    assert_eq!(t.d.closed.front().unwrap().number, 6);
    // An operation in the first shift (dropped): unshifted.
    t.cash(1, cash_in(10), 1);
    assert_eq!(t.d.unshifted_in, 10);
    // In the oldest kept: revised.
    t.cash(2, cash_in(10), 51);
    assert_eq!(t.d.closed.front().unwrap().revision, 1);
}

#[test]
fn d6_a_repeat_gets_its_first_answer_and_other_content_is_a_conflict() {
    let mut t = T::new();
    let first = t.cmd("t1", open("ANNA", 100), 1_000);
    t.cmd("t2", fill(50), 1_100);
    let again = t.cmd("t1", open("ANNA", 100), 9_000);
    assert_eq!(again, first, "the first answer, as it was");
    assert!(t.moves().is_empty());
    t.n += 1;
    t.fx.clear();
    let c = DeskCommand {
        tx: TxId::new("t1").unwrap(),
        op: open("ANNA", 999),
    };
    let e =
        t.d.apply(&meta(t.n, 9_100), &c, eur(), &mut t.fx)
            .unwrap_err();
    assert_eq!(e.code(), "tx_conflict");
    assert!(t.fx.is_empty());
}

#[test]
fn e5_figures_beyond_64_bits_are_refused_and_change_nothing() {
    let mut t = T::new();
    t.cmd("t1", open("ANNA", i64::MAX - 10), 1_000);
    let f = t.cmd("t2", fill(100), 1_100);
    assert_eq!(code(&f), Some("overflow"));
    assert_eq!(t.d.open.as_ref().unwrap().fills, 0);
    t.fx.clear();
    let e =
        t.d.apply_cash(
            &meta(77, 1_200),
            cash_in(100),
            CashSource::Ticket,
            &mut t.fx,
        )
        .unwrap_err();
    assert_eq!(e.code(), "overflow");
    assert_eq!((t.d.cash_in, t.d.open.as_ref().unwrap().cash_in), (0, 0));
}

#[test]
fn d3_an_operation_read_before_its_shift_opened_is_taken_by_the_shift() {
    let mut t = T::new();
    // Read first (another partition), dated after the opening that follows.
    t.cash(1, cash_in(400), 2_000);
    t.cash(2, cash_out(100), 500);
    assert_eq!((t.d.unshifted_in, t.d.unshifted_out), (400, 100));
    let a = t.cmd("t1", open("ANNA", 1_000), 1_000);
    assert_eq!(
        (a.shift.cash_in, a.shift.cash_out, a.shift.operations),
        (400, 0, 1)
    );
    assert_eq!(a.shift.expected(), 1_400);
    assert_eq!(
        t.moves(),
        vec![
            (DeskMove::Float, 0, 1_000, 1_000),
            (DeskMove::CashIn, 1, -400, -100),
            (DeskMove::CashIn, 0, 400, 1_400)
        ]
    );
    // The one dated before the opening stays unshifted.
    assert_eq!((t.d.unshifted_in, t.d.unshifted_out), (0, 100));
    assert_eq!(t.d.unshifted_ops.len(), 1);
    assert_eq!((t.d.cash_in, t.d.cash_out), (400, 100));
}

#[test]
fn d10_wallet_cash_is_booked_like_a_tickets_and_counted_apart() {
    let mut t = T::new();
    // Before any shift: unshifted, alerted, counted as wallet cash.
    assert_eq!(
        t.cash_of(1, cash_in(5_000), CashSource::Wallet, 500),
        Reply::Done
    );
    assert_eq!(t.moves(), [(DeskMove::CashIn, 1, 5_000, 5_000)]);
    assert_eq!(t.alerts().len(), 1, "desk_cash_without_shift");
    t.cmd("t1", open("ANNA", 10_000), 1_000);
    // In the shift: a deposit in, a withdrawal and a ticket out.
    t.cash_of(2, cash_in(30_000), CashSource::Wallet, 1_100);
    assert_eq!(t.moves(), [(DeskMove::CashIn, 0, 30_000, 40_000)]);
    t.cash_of(3, cash_out(12_000), CashSource::Wallet, 1_200);
    t.cash(4, cash_out(1_000), 1_300);
    let c = t.cmd("t2", close(27_000), 2_000);
    assert_eq!(
        (c.shift.cash_in, c.shift.cash_out, c.shift.operations),
        (30_000, 13_000, 3)
    );
    assert_eq!(c.shift.variance(), Some(0));
    // After the close, a withdrawal dated in the shift revises it.
    t.cash_of(5, cash_out(2_000), CashSource::Wallet, 1_900);
    let revised = t.note();
    assert_eq!(
        (revised.op, revised.shift.cash_out, revised.shift.variance()),
        (ShiftOp::Revise, 15_000, Some(2_000))
    );
    // Repeated: booked once.
    assert_eq!(
        t.cash_of(5, cash_out(2_000), CashSource::Wallet, 1_900),
        Reply::Repeat
    );
    // The totals: every operation, the wallet's apart.
    assert_eq!(
        (t.d.cash_in, t.d.cash_out, t.d.wallet_in, t.d.wallet_out),
        (35_000, 15_000, 35_000, 14_000)
    );
    assert_eq!(t.d.unshifted(), 5_000);
}

#[test]
fn d10_a_wallet_total_beyond_64_bits_books_nothing() {
    let mut t = T::new();
    t.cmd("t1", open("ANNA", 0), 1_000);
    t.cash_of(1, cash_in(i64::MAX - 10), CashSource::Wallet, 1_100);
    t.fx.clear();
    let e =
        t.d.apply_cash(&meta(9, 1_200), cash_in(100), CashSource::Wallet, &mut t.fx)
            .unwrap_err();
    assert_eq!(e.code(), "overflow");
    assert_eq!(
        (
            t.d.cash_in,
            t.d.wallet_in,
            t.d.open.as_ref().unwrap().cash_in
        ),
        (i64::MAX - 10, i64::MAX - 10, i64::MAX - 10)
    );
    assert!(t.fx.is_empty());
}
