//! Cash desk flows (RULES.md D) mixed into generated streams: the halls' cages open shifts
//! (most of the time: the tickets they sell and pay between shifts are cash no shift
//! covers), take fills and credits, and close with the drawer counted as expected, over,
//! short or empty; closed twice, opened twice, fills and credits with no shift open, other
//! currencies, repeats and conflicts of commands; ticket sales and payments that reach a
//! desk dated inside a shift it closed (revisions), at a shift's opening or closing instant,
//! before its first shift; cash read before the `shift_open` of the shift that takes it,
//! more of it than a desk keeps; a desk of quick shifts that closes more than a desk keeps and
//! then hears of a sale dated in one it no longer keeps; and desk commands that are not
//! events (cashiers empty, blank or too long, negative floats and counts, amounts of 0 or
//! beyond the bound, bad ids and currencies, sent from a machine).
//!
//! Like the rest of the generator it knows nothing of the outcomes: it keeps what it sent
//! (which shift it opened, roughly what the drawer holds) only to pick flows that mean
//! something. Its own random draws, so that adding it left the rest of every seed's draws
//! as they were (but for the validation numbers and tx ids of the vouchers it sells).

use rand::Rng;

use crate::wire::{InputEnvelope, InputPayload, Source};

use super::super::types::AMOUNT_MAX;
use super::desk_books::{Book, Open, RUSH};
use super::tickets::State;
use super::vouchers::{commit, issue, redeem};
use super::{hall_name, World, CURRENCY, START_MS};

/// Cashiers (RULES.md D-1: 1 to 64 bytes, spaces around a name allowed).
const CASHIERS: [&str; 5] = ["Ana", "Bo Li", "Čeněk Dvořák", "Dana O'Neil", " Eve "];

pub(super) fn open(tx: String, cashier: &str, float: i64) -> InputPayload {
    InputPayload::ShiftOpen {
        tx,
        cashier: cashier.to_owned(),
        float,
        currency: CURRENCY.to_owned(),
    }
}

fn fill(tx: String, amount: i64) -> InputPayload {
    InputPayload::DeskFill {
        tx,
        amount,
        currency: CURRENCY.to_owned(),
    }
}

fn credit(tx: String, amount: i64) -> InputPayload {
    InputPayload::DeskCredit {
        tx,
        amount,
        currency: CURRENCY.to_owned(),
    }
}

fn close(tx: String, counted: i64) -> InputPayload {
    InputPayload::ShiftClose {
        tx,
        counted,
        currency: CURRENCY.to_owned(),
    }
}

/// The same command with its amount (float, count) changed: another content
/// under the same key (RULES.md D-6).
fn other_content(p: &mut InputPayload) {
    match p {
        InputPayload::ShiftOpen { float, .. } => *float += 1,
        InputPayload::DeskFill { amount, .. } | InputPayload::DeskCredit { amount, .. } => {
            *amount += 1
        }
        InputPayload::ShiftClose { counted, .. } => *counted += 1,
        _ => {}
    }
}

fn set_currency(p: &mut InputPayload, to: &str) {
    match p {
        InputPayload::ShiftOpen { currency, .. }
        | InputPayload::DeskFill { currency, .. }
        | InputPayload::DeskCredit { currency, .. }
        | InputPayload::ShiftClose { currency, .. } => *currency = to.to_owned(),
        _ => {}
    }
}

impl World {
    /// The cash desk of hall `h` (the cage the voucher flows sell and pay at), in the
    /// generator's books.
    pub(super) fn cage_book(&mut self, h: usize) -> String {
        let hall = hall_name(h);
        let desk = format!("CAGE-{}", hall.trim_start_matches("H-"));
        self.desks
            .books
            .entry(desk.clone())
            .or_insert_with(|| Book {
                hall,
                ..Book::default()
            });
        desk
    }

    /// A message from `desk` at `time`, in either version (RULES.md D: both accept them).
    fn desk_envelope(&mut self, desk: &str, time: i64, payload: InputPayload) -> InputEnvelope {
        let hall = self.desks.books[desk].hall.clone();
        let v2 = self.desks.rng.gen_bool(0.7);
        InputEnvelope {
            event_id: self.next_id(),
            schema_version: if v2 { 2 } else { 1 },
            source: Source {
                hall,
                machine: None,
                server: Some(desk.to_owned()),
            },
            epoch: None,
            seq: 0,
            event_time: time,
            receive_time: v2.then_some(self.now + 2),
            payload,
        }
    }

    /// Sends a desk command, keyed by the desk (RULES.md D), and keeps it for repeats.
    fn send_desk_at(&mut self, desk: &str, time: i64, payload: InputPayload) {
        let env = self.desk_envelope(desk, time, payload);
        self.desks.sent.push(env.clone());
        self.push_desk(env);
    }

    fn push_desk(&mut self, env: InputEnvelope) {
        let key = env.source.server.clone().unwrap_or_default();
        let bytes = env.to_bytes();
        self.push_item(bytes, Some(env), key);
    }

    fn send_desk(&mut self, desk: &str, payload: InputPayload) {
        let now = self.now;
        self.send_desk_at(desk, now, payload);
    }

    /// A voucher command from `desk` dated `time` (keyed by its validation number): the
    /// drawer's cash reaches the desk through the voucher (RULES.md D-3).
    fn desk_voucher(&mut self, desk: &str, time: i64, payload: InputPayload) {
        if let InputPayload::VoucherIssue { amount, .. } = &payload {
            self.desks.note_cash(desk, time, *amount);
        }
        let env = self.desk_envelope(desk, time, payload);
        self.push(env);
    }

    /// `desk` sells a new ticket dated `time`.
    fn desk_sale(&mut self, desk: &str, time: i64) {
        let number = self.vouchers.fresh();
        let amount = self.desks.rng.gen_range(5..200) * 100;
        let tx = self.vouchers.tx();
        self.desk_voucher(desk, time, issue(&number, tx, amount));
    }

    /// `desk` pays an open ticket of its hall, dated `time`; false when it knows none.
    fn desk_payment(&mut self, desk: &str, time: i64) -> bool {
        let hall = self.desks.books[desk].hall.clone();
        let n = self.vouchers.tickets.len();
        let open: Vec<usize> = (n.saturating_sub(400)..n)
            .filter(|i| {
                let t = &self.vouchers.tickets[*i];
                t.state == State::Open && t.hall == hall
            })
            .collect();
        if open.is_empty() {
            return false;
        }
        let t = open[self.desks.rng.gen_range(0..open.len())];
        let (number, amount) = self.ticket(t);
        self.desks.note_cash(desk, time, -amount);
        let tx = self.vouchers.tx();
        self.desk_voucher(desk, time, redeem(&number, tx, amount, CURRENCY));
        let tx = self.vouchers.tx();
        self.desk_voucher(desk, time, commit(&number, tx));
        self.set_state(t, State::Redeemed);
        true
    }

    /// One desk flow.
    pub(super) fn desk_flow(&mut self) {
        let roll = self.desks.rng.gen_range(0..100);
        if roll < 8 {
            return self.rush_shift();
        }
        if roll < 13 {
            return self.invalid_desk();
        }
        if roll < 17 {
            return self.desk_repeat();
        }
        let h = self.desks.rng.gen_range(0..self.halls);
        let desk = self.cage_book(h);
        match self.desks.books[&desk].open.clone() {
            None => match self.desks.rng.gen_range(0..22) {
                0..=12 => self.open_shift(&desk),
                20 => self.cash_read_before_open(&desk),
                21 => self.unshifted_beyond_kept(&desk),
                13 | 14 => self.case("desk_left_unshifted"),
                15 => {
                    self.case("desk_fill_without_shift");
                    let tx = self.desks.tx();
                    self.send_desk(&desk, fill(tx, 1_000));
                }
                16 => {
                    self.case("desk_credit_without_shift");
                    let tx = self.desks.tx();
                    self.send_desk(&desk, credit(tx, 1_000));
                }
                17 => {
                    self.case("shift_close_without_shift");
                    let tx = self.desks.tx();
                    self.send_desk(&desk, close(tx, 0));
                }
                18 => self.desk_wrong_currency(&desk),
                _ => self.desk_cash_before_first_shift(&desk),
            },
            Some(o) => match self.desks.rng.gen_range(0..20) {
                0..=4 => {
                    self.case("desk_fill");
                    let a = self.desks.rng.gen_range(1..100) * 100;
                    self.note_drawer(&desk, a);
                    let tx = self.desks.tx();
                    self.send_desk(&desk, fill(tx, a));
                }
                5..=7 => {
                    self.case("desk_credit");
                    let a = self.desks.rng.gen_range(1..50) * 100;
                    self.note_drawer(&desk, -a);
                    let tx = self.desks.tx();
                    self.send_desk(&desk, credit(tx, a));
                }
                8..=12 => self.close_shift(&desk, o),
                13 => {
                    self.case("shift_open_twice");
                    let tx = self.desks.tx();
                    self.send_desk(&desk, open(tx, "Bo Li", 5_000));
                }
                14 => self.desk_wrong_currency(&desk),
                15 => {
                    // RULES.md D-3: open at or before the operation covers it.
                    self.case("desk_cash_at_open");
                    self.desk_sale(&desk, o.opened_at);
                }
                16 => self.desk_cash_before_first_shift(&desk),
                17 => self.desk_conflict(),
                _ => {
                    self.case("desk_payment_in_shift");
                    let now = self.now;
                    self.desk_payment(&desk, now);
                }
            },
        }
    }

    fn note_drawer(&mut self, desk: &str, delta: i64) {
        if let Some(o) = self.desks.books.get_mut(desk).and_then(|b| b.open.as_mut()) {
            o.cash += delta;
        }
    }

    /// RULES.md D-1: a shift opens with a float (now and then none) for a cashier (now and
    /// then one whose name is 64 bytes, the most).
    fn open_shift(&mut self, desk: &str) {
        self.case("shift_open");
        let float = [0, 20_000, 50_000, 100_000][self.desks.rng.gen_range(0..4)];
        if float == 0 {
            self.case("shift_float_zero");
        }
        let cashier = if self.desks.rng.gen_range(0..20) == 0 {
            self.case("cashier_at_bound");
            "É".repeat(32)
        } else {
            CASHIERS[self.desks.rng.gen_range(0..CASHIERS.len())].to_owned()
        };
        let now = self.now;
        if let Some(b) = self.desks.books.get_mut(desk) {
            // RULES.md D-3: the cash it sent with no shift open, dated at or after now.
            let taken: i64 = b
                .loose
                .iter()
                .filter(|(t, _)| *t >= now)
                .map(|(_, d)| d)
                .sum();
            b.loose.retain(|(t, _)| *t < now);
            b.open = Some(Open {
                opened_at: now,
                cash: float + taken,
            });
        }
        let tx = self.desks.tx();
        self.send_desk(desk, open(tx, &cashier, float));
    }

    /// RULES.md D-4, D-5: the shift closes counted as expected (as far as the generator
    /// knows), over or short, or empty; then, now and then, it is closed again, or a sale
    /// or payment dated inside it reaches the desk (a revision), or one dated at its close.
    fn close_shift(&mut self, desk: &str, o: Open) {
        self.case("shift_close");
        // What the generator believes the variance is when it counts the drawer over.
        let mut over = None;
        let counted = match self.desks.rng.gen_range(0..10) {
            0..=5 => {
                self.case("shift_counted_as_expected");
                o.cash.max(0)
            }
            6..=8 => {
                self.case("shift_counted_off");
                let off = self.desks.rng.gen_range(1..500);
                let off = if self.desks.rng.gen_bool(0.5) {
                    off
                } else {
                    -off
                };
                if off > 0 && o.cash >= 0 {
                    over = Some(off);
                }
                (o.cash + off).max(0)
            }
            _ => {
                self.case("shift_counted_zero");
                0
            }
        };
        let now = self.now;
        if let Some(b) = self.desks.books.get_mut(desk) {
            b.open = None;
            b.shifts.push((o.opened_at, now));
        }
        let tx = self.desks.tx();
        self.send_desk(desk, close(tx.clone(), counted));
        match self.desks.rng.gen_range(0..10) {
            0..=2 if now > o.opened_at => {
                // Read after the close, dated inside the shift.
                self.case("shift_revision");
                let at = self.desks.rng.gen_range(o.opened_at..now);
                if let Some(off) = over.filter(|_| self.desks.rng.gen_bool(0.5)) {
                    // RULES.md D-5: a sale of what was counted over brings the variance
                    // back to 0 (as far as the generator knows the drawer): not alerted.
                    self.case("shift_revision_to_balance");
                    let (number, tx) = (self.vouchers.fresh(), self.vouchers.tx());
                    self.desk_voucher(desk, at, issue(&number, tx, off));
                } else if self.desks.rng.gen_bool(0.3) && self.desk_payment(desk, at) {
                    self.case("shift_revision_payment");
                } else {
                    self.desk_sale(desk, at);
                }
            }
            3 => {
                self.case("shift_closed_twice");
                let tx = self.desks.tx();
                self.send_desk(desk, close(tx, counted));
            }
            4 => {
                // The same close again, as a retry: a repeat.
                self.case("shift_close_repeated");
                self.send_desk(desk, close(tx, counted));
            }
            5 => {
                // Closed at that instant, so not "closed after it": no shift covers it.
                self.case("desk_cash_at_close");
                self.desk_sale(desk, now);
            }
            _ => {}
        }
    }

    /// RULES.md D-3: cash read before a shift's `shift_open` (it travels through the
    /// vouchers' partitions): a sale dated before the opening (it stays unshifted), one at
    /// it and one after it, now and then a payment after it (the shift takes those), then
    /// the opening.
    fn cash_read_before_open(&mut self, desk: &str) {
        self.case("desk_cash_read_before_open");
        let now = self.now;
        let before = now - self.desks.rng.gen_range(1..30);
        self.desk_sale(desk, before);
        self.desk_sale(desk, now);
        let after = now + self.desks.rng.gen_range(1..30);
        self.desk_sale(desk, after);
        if self.desks.rng.gen_bool(0.5) && self.desk_payment(desk, after) {
            self.case("desk_payment_read_before_open");
        }
        self.open_shift(desk);
    }

    /// RULES.md D-3: more unshifted cash than a desk keeps (its newest 64), all dated at or
    /// after the opening of the shift whose `shift_open` is read after it: the shift takes
    /// the newest 64, the older ones stay unshifted.
    fn unshifted_beyond_kept(&mut self, desk: &str) {
        self.case("desk_unshifted_beyond_kept");
        let now = self.now;
        let n = self.desks.rng.gen_range(65..75);
        for i in 0..n {
            let at = now + i;
            if !(self.desks.rng.gen_range(0..8) == 0 && self.desk_payment(desk, at)) {
                self.desk_sale(desk, at);
            }
        }
        self.open_shift(desk);
    }

    /// RULES.md D-3: a sale reaching the desk dated before the stream (before any shift).
    fn desk_cash_before_first_shift(&mut self, desk: &str) {
        self.case("desk_cash_before_first_shift");
        let at = START_MS - self.desks.rng.gen_range(1..3_600_000);
        self.desk_sale(desk, at);
    }

    /// RULES.md D-1, D-2, E-4: a desk command in another currency, checked before the shift.
    fn desk_wrong_currency(&mut self, desk: &str) {
        self.case("desk_wrong_currency");
        let tx = self.desks.tx();
        let mut p = match self.desks.rng.gen_range(0..4) {
            0 => open(tx, "Ana", 1_000),
            1 => fill(tx, 1_000),
            2 => credit(tx, 1_000),
            _ => close(tx, 1_000),
        };
        set_currency(&mut p, "USD");
        self.send_desk(desk, p);
    }

    /// RULES.md D-6: a recent desk command again (the same tx and content), as a retry with
    /// a new event id or the very message delivered again.
    fn desk_repeat(&mut self) {
        let n = self.desks.sent.len();
        if n == 0 {
            return;
        }
        self.case("desk_repeat");
        // Recent enough that its desk remembers it (its newest 64 answers).
        let i = self.desks.rng.gen_range(n.saturating_sub(16)..n);
        let mut env = self.desks.sent[i].clone();
        if self.desks.rng.gen_bool(0.7) {
            env.event_id = self.next_id();
            env.event_time = env.event_time.max(self.now);
        } else {
            self.case("desk_redelivered");
        }
        self.push_desk(env);
    }

    /// RULES.md D-6: a recent desk command's key with other content.
    fn desk_conflict(&mut self) {
        let n = self.desks.sent.len();
        if n == 0 {
            return;
        }
        self.case("desk_tx_conflict");
        let i = self.desks.rng.gen_range(n.saturating_sub(16)..n);
        let mut env = self.desks.sent[i].clone();
        env.event_id = self.next_id();
        env.event_time = env.event_time.max(self.now);
        other_content(&mut env.payload);
        self.push_desk(env);
    }

    /// RULES.md D-5: a quick shift at the rush desk (opened and closed at once, counted as
    /// floated); once it closed more than a desk keeps, now and then a sale dated in one
    /// it no longer keeps.
    fn rush_shift(&mut self) {
        let hall = hall_name(self.halls - 1);
        self.desks
            .books
            .entry(RUSH.to_owned())
            .or_insert_with(|| Book {
                hall,
                ..Book::default()
            });
        let n = self.desks.books[RUSH].shifts.len();
        if n > 105 && self.desks.rng.gen_range(0..4) == 0 {
            self.case("desk_cash_older_than_kept");
            let i = self.desks.rng.gen_range(0..n - 101);
            let (opened, _) = self.desks.books[RUSH].shifts[i];
            return self.desk_sale(RUSH, opened);
        }
        self.case("shift_rush");
        let float = self.desks.rng.gen_range(0..10) * 1_000;
        let now = self.now;
        let tx = self.desks.tx();
        self.send_desk_at(RUSH, now, open(tx, "Rush", float));
        let tx = self.desks.tx();
        self.send_desk_at(RUSH, now + 1, close(tx, float));
        if let Some(b) = self.desks.books.get_mut(RUSH) {
            b.shifts.push((now, now + 1));
        }
    }

    /// Desk commands that are not events (RULES.md E-1); not kept for repeats.
    fn invalid_desk(&mut self) {
        self.case("desk_invalid");
        let desk = self.cage_book(0);
        let tx = self.desks.tx();
        // Each kind in turn, so that every stream carries them all.
        self.desks.invalid += 1;
        let (case, p): (&'static str, InputPayload) = match self.desks.invalid % 11 {
            0 => ("desk_cashier_empty", open(tx, "", 0)),
            1 => ("desk_cashier_blank", open(tx, "   ", 0)),
            2 => (
                "desk_cashier_too_long",
                open(tx, &("É".repeat(32) + "x"), 0),
            ),
            3 => ("desk_float_negative", open(tx, "Ana", -1)),
            4 => ("desk_amount_zero", fill(tx, 0)),
            5 => ("desk_amount_negative", credit(tx, -100)),
            6 => ("desk_counted_negative", close(tx, -1)),
            7 => ("desk_amount_beyond_bound", fill(tx, AMOUNT_MAX + 1)),
            8 => ("desk_invalid_tx", fill(format!("{tx} x"), 100)),
            9 => {
                let mut p = fill(tx, 100);
                set_currency(&mut p, "eur");
                ("desk_invalid_currency", p)
            }
            _ => ("desk_command_from_machine", fill(tx, 100)),
        };
        self.case(case);
        let mut env = self.desk_envelope(&desk, self.now, p);
        if case == "desk_command_from_machine" {
            let m = self.desks.rng.gen_range(0..self.machines.len());
            env.source.machine = Some(self.machines[m].id.clone());
            env.source.server = None;
        }
        self.push_desk(env);
    }
}
