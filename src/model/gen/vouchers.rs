//! Voucher flows (RULES.md V) mixed into generated streams: tickets machines print with
//! their validation numbers, requested by another machine or a cash desk and paid
//! (credited, committed), cancelled, requested twice by different redeemers, with a wrong
//! amount, redeemed twice, credited without a request or after their redemption, printed
//! again under a number in use, sold and voided at desks, holds that lapse, expiries,
//! repeats and conflicts of commands, redemptions outside a home-only hall, and invalid
//! numbers and senders.
//!
//! Like the rest of the generator it knows nothing of the outcomes: it keeps a rough idea
//! of each ticket (open, redeemed, voided, expired) only to pick flows that mean something.

use rand::Rng;

use crate::wire::{InputEnvelope, InputPayload, Source};

use super::super::types::{AMOUNT_MAX, DAY_MS};
use super::tickets::{State, Ticket};
use super::{
    cash_in, hall_name, ticket_in, ticket_out, World, CURRENCY, HOME_ONLY_HALL, SHORT_EXPIRY_HALL,
    VOUCHER_HOLD_MS,
};

/// Who sends a voucher command: a machine's gateway, or a server (a hall's cash desk, the
/// back office) standing in a hall.
#[derive(Clone, Debug)]
enum Sender {
    Machine(usize),
    Desk(String, String),
}

pub(super) fn redeem(number: &str, tx: String, amount: i64, currency: &str) -> InputPayload {
    InputPayload::VoucherRedeem {
        validation: number.to_owned(),
        tx,
        amount,
        currency: currency.to_owned(),
    }
}

pub(super) fn commit(number: &str, tx: String) -> InputPayload {
    InputPayload::VoucherCommit {
        validation: number.to_owned(),
        tx,
    }
}

fn cancel(number: &str, tx: String) -> InputPayload {
    InputPayload::VoucherCancel {
        validation: number.to_owned(),
        tx,
    }
}

pub(super) fn issue(number: &str, tx: String, amount: i64) -> InputPayload {
    InputPayload::VoucherIssue {
        validation: number.to_owned(),
        tx,
        amount,
        currency: CURRENCY.to_owned(),
    }
}

fn void(number: &str, tx: String) -> InputPayload {
    InputPayload::VoucherVoid {
        validation: number.to_owned(),
        tx,
        reason: "ticket reported stolen".to_owned(),
    }
}

/// The cash desk of a hall.
fn cage(hall: &str) -> Sender {
    Sender::Desk(
        format!("CAGE-{}", hall.trim_start_matches("H-")),
        hall.to_owned(),
    )
}

fn back_office() -> Sender {
    Sender::Desk("BACKOFFICE".to_owned(), hall_name(0))
}

impl World {
    /// A validation number for a ticket machine `m` prints now, or none (a producer that
    /// sends none: counted at the machine only, RULES.md V-2).
    pub(super) fn print_number(&mut self, m: usize, amount: i64) -> Option<String> {
        if amount > AMOUNT_MAX {
            // Not a valid event (after `amount_at_bounds`): no ticket is printed.
            return None;
        }
        if !self.vouchers.rng.gen_bool(0.85) {
            self.case("ticket_without_number");
            return None;
        }
        self.case("voucher_printed");
        let number = self.vouchers.fresh();
        let hall = self.machines[m].hall.clone();
        self.vouchers.tickets.push(Ticket {
            number: number.clone(),
            amount,
            hall,
            issued: self.now,
            state: State::Open,
        });
        Some(number)
    }

    /// Sends a voucher command at `time` (its event time; a desk's is never checked).
    fn send_voucher_at(&mut self, from: &Sender, payload: InputPayload, time: i64) {
        let event_id = self.next_id();
        let (hall, machine, server, v2) = match from {
            Sender::Machine(m) => {
                let mach = &self.machines[*m];
                (mach.hall.clone(), Some(mach.id.clone()), None, mach.v2)
            }
            // Desks speak both versions (RULES.md E-2: vouchers are in both).
            Sender::Desk(d, h) => (
                h.clone(),
                None,
                Some(d.clone()),
                self.vouchers.rng.gen_bool(0.7),
            ),
        };
        let env = InputEnvelope {
            event_id,
            schema_version: if v2 { 2 } else { 1 },
            source: Source {
                hall,
                machine,
                server,
            },
            epoch: None,
            seq: 0,
            event_time: time,
            receive_time: v2.then_some(self.now + 2),
            payload,
        };
        self.vouchers.sent.push(env.clone());
        // RULES.md D-3: what the desk's drawer should hold, as far as the generator knows.
        if let Sender::Desk(desk, _) = from {
            let delta = match &env.payload {
                InputPayload::VoucherIssue { amount, .. } => *amount,
                InputPayload::VoucherCommit { validation, .. } => self
                    .vouchers
                    .tickets
                    .iter()
                    .rev()
                    .find(|t| t.number == *validation)
                    .map_or(0, |t| -t.amount),
                _ => 0,
            };
            self.desks.note_cash(desk, time, delta);
        }
        // Keyed by its validation number (RULES.md V-1).
        self.push(env);
    }

    fn send_voucher(&mut self, from: &Sender, payload: InputPayload) {
        let now = self.now;
        self.send_voucher_at(from, payload, now);
    }

    /// A machine credits a ticket (RULES.md V-5).
    fn credit(&mut self, m: usize, amount: i64, number: &str) {
        self.machines[m].credits += amount;
        self.send_machine(m, ticket_in(amount, number.to_owned()));
    }

    /// An open ticket among the recent ones, optionally of one hall.
    fn open_ticket(&mut self, hall: Option<&str>) -> Option<usize> {
        self.ticket_where(|t| t.state == State::Open && hall.is_none_or(|h| t.hall == h))
    }

    fn ticket_where(&mut self, f: impl Fn(&Ticket) -> bool) -> Option<usize> {
        let n = self.vouchers.tickets.len();
        let found: Vec<usize> = (n.saturating_sub(400)..n)
            .filter(|i| f(&self.vouchers.tickets[*i]))
            .collect();
        (!found.is_empty()).then(|| found[self.vouchers.rng.gen_range(0..found.len())])
    }

    fn machine_in(&mut self, hall: &str) -> Option<usize> {
        let found: Vec<usize> = (0..self.machines.len())
            .filter(|i| self.machines[*i].hall == hall)
            .collect();
        (!found.is_empty()).then(|| found[self.vouchers.rng.gen_range(0..found.len())])
    }

    fn any_machine(&mut self) -> usize {
        self.vouchers.rng.gen_range(0..self.machines.len())
    }

    fn any_hall(&mut self) -> String {
        hall_name(self.vouchers.rng.gen_range(0..self.halls))
    }

    /// Where ticket `t` may be redeemed: anywhere, or in its hall if that hall keeps its
    /// tickets at home (RULES.md V-3).
    fn redeem_hall(&mut self, t: usize) -> String {
        let hall = self.vouchers.tickets[t].hall.clone();
        if hall == hall_name(HOME_ONLY_HALL) {
            hall
        } else {
            self.any_hall()
        }
    }

    /// A machine that may redeem ticket `t`, if one stands where it may.
    fn redeeming_machine(&mut self, t: usize) -> Option<usize> {
        let hall = self.redeem_hall(t);
        self.machine_in(&hall)
    }

    /// A desk that may redeem ticket `t`.
    fn redeeming_desk(&mut self, t: usize) -> Sender {
        let hall = self.redeem_hall(t);
        cage(&hall)
    }

    /// A desk sells a ticket (RULES.md V-2); its index.
    pub(super) fn desk_issue(&mut self, hall: Option<String>) -> usize {
        self.case("voucher_desk_issue");
        let hall = hall.unwrap_or_else(|| self.any_hall());
        let desk = cage(&hall);
        let number = self.vouchers.fresh();
        let amount = self.vouchers.rng.gen_range(5..200) * 100;
        let tx = self.vouchers.tx();
        self.send_voucher(&desk, issue(&number, tx, amount));
        self.vouchers.tickets.push(Ticket {
            number,
            amount,
            hall,
            issued: self.now,
            state: State::Open,
        });
        self.vouchers.tickets.len() - 1
    }

    /// An open ticket, a desk's new one when there is none.
    fn some_open_ticket(&mut self) -> usize {
        match self.open_ticket(None) {
            Some(t) => t,
            None => self.desk_issue(None),
        }
    }

    pub(super) fn ticket(&self, t: usize) -> (String, i64) {
        let t = &self.vouchers.tickets[t];
        (t.number.clone(), t.amount)
    }

    pub(super) fn set_state(&mut self, t: usize, s: State) {
        self.vouchers.tickets[t].state = s;
    }

    /// One voucher flow.
    pub(super) fn voucher_flow(&mut self) {
        let roll = self.vouchers.rng.gen_range(0..28);
        match roll {
            // Requested by a machine's gateway, then credited by it.
            0..=3 => {
                let t = self.some_open_ticket();
                let (number, amount) = self.ticket(t);
                let Some(m) = self.redeeming_machine(t) else {
                    return;
                };
                self.case("voucher_machine_redeem");
                let tx = self.vouchers.tx();
                self.send_voucher(&Sender::Machine(m), redeem(&number, tx, amount, CURRENCY));
                self.credit(m, amount, &number);
                self.set_state(t, State::Redeemed);
            }
            // Requested and paid at a desk.
            4..=6 => {
                self.case("voucher_desk_redeem");
                let t = self.some_open_ticket();
                let (number, amount) = self.ticket(t);
                let desk = self.redeeming_desk(t);
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, redeem(&number, tx, amount, CURRENCY));
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, commit(&number, tx));
                self.set_state(t, State::Redeemed);
            }
            // Requested, then returned: cancelled; now and then cancelled first by someone
            // who does not hold it.
            7 => {
                self.case("voucher_cancel");
                let t = self.some_open_ticket();
                let (number, amount) = self.ticket(t);
                let from = match self.redeeming_machine(t) {
                    Some(m) if self.vouchers.rng.gen_bool(0.5) => Sender::Machine(m),
                    _ => self.redeeming_desk(t),
                };
                let tx = self.vouchers.tx();
                self.send_voucher(&from, redeem(&number, tx, amount, CURRENCY));
                if self.vouchers.rng.gen_bool(0.3) {
                    self.case("voucher_cancel_by_another");
                    let other = back_office();
                    let tx = self.vouchers.tx();
                    self.send_voucher(&other, cancel(&number, tx));
                }
                let tx = self.vouchers.tx();
                self.send_voucher(&from, cancel(&number, tx));
            }
            // Requested by a machine, then by a desk while the machine holds it.
            8 => {
                let t = self.some_open_ticket();
                let (number, amount) = self.ticket(t);
                let Some(m) = self.redeeming_machine(t) else {
                    return;
                };
                self.case("voucher_pending_elsewhere");
                let tx = self.vouchers.tx();
                self.send_voucher(&Sender::Machine(m), redeem(&number, tx, amount, CURRENCY));
                let desk = self.redeeming_desk(t);
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, redeem(&number, tx, amount, CURRENCY));
                self.credit(m, amount, &number);
                self.set_state(t, State::Redeemed);
            }
            // The wrong amount asked, then the right one.
            9 => {
                self.case("voucher_amount_mismatch");
                let t = self.some_open_ticket();
                let (number, amount) = self.ticket(t);
                let desk = self.redeeming_desk(t);
                let off = self.vouchers.rng.gen_range(1..100);
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, redeem(&number, tx, amount + off, CURRENCY));
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, redeem(&number, tx, amount, CURRENCY));
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, commit(&number, tx));
                self.set_state(t, State::Redeemed);
            }
            // A redeemed ticket asked for again (and paid again by a desk that holds
            // nothing).
            10 => {
                self.case("voucher_redeemed_twice");
                let Some(t) = self.ticket_where(|t| t.state == State::Redeemed) else {
                    return;
                };
                let (number, amount) = self.ticket(t);
                let desk = self.redeeming_desk(t);
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, redeem(&number, tx, amount, CURRENCY));
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, commit(&number, tx));
            }
            // Credited at a machine without a request; now and then while a desk holds
            // it, which then commits too late.
            11 => {
                self.case("voucher_redeemed_without_hold");
                let t = self.some_open_ticket();
                let (number, amount) = self.ticket(t);
                let Some(m) = self.redeeming_machine(t) else {
                    return;
                };
                let desk = self.redeeming_desk(t);
                let held = self.vouchers.rng.gen_bool(0.4);
                if held {
                    let tx = self.vouchers.tx();
                    self.send_voucher(&desk, redeem(&number, tx, amount, CURRENCY));
                }
                self.credit(m, amount, &number);
                if held {
                    let tx = self.vouchers.tx();
                    self.send_voucher(&desk, commit(&number, tx));
                }
                self.set_state(t, State::Redeemed);
            }
            // Credited at a machine though nothing is owed on it: after its redemption,
            // or never issued.
            12 => {
                self.case("voucher_credit_unbacked");
                let m = self.any_machine();
                match self.ticket_where(|t| t.state != State::Open) {
                    Some(t) if self.vouchers.rng.gen_bool(0.7) => {
                        let (number, amount) = self.ticket(t);
                        self.credit(m, amount, &number);
                    }
                    _ => {
                        let number = self.vouchers.fresh();
                        let amount = self.vouchers.rng.gen_range(1..100) * 100;
                        self.credit(m, amount, &number);
                    }
                }
            }
            // Requested by a machine that credits another amount.
            13 => {
                let t = self.some_open_ticket();
                let (number, amount) = self.ticket(t);
                let Some(m) = self.redeeming_machine(t) else {
                    return;
                };
                self.case("voucher_amount_variance");
                let tx = self.vouchers.tx();
                self.send_voucher(&Sender::Machine(m), redeem(&number, tx, amount, CURRENCY));
                let off = self.vouchers.rng.gen_range(1..50);
                let credited = if self.vouchers.rng.gen_bool(0.5) || amount <= off {
                    amount + off
                } else {
                    amount - off
                };
                self.credit(m, credited, &number);
                self.set_state(t, State::Redeemed);
            }
            // A machine prints a ticket under a number already in use.
            14 => {
                let Some(t) = self.ticket_where(|_| true) else {
                    return;
                };
                self.case("voucher_reprinted");
                let (number, _) = self.ticket(t);
                let m = self.any_machine();
                let amount = self.machines[m].credits.clamp(100, 50_000);
                self.machines[m].credits -= amount;
                self.send_machine(m, ticket_out(amount, number));
            }
            // A desk sells a ticket; now and then another desk sells one under the same
            // number.
            15 | 16 => {
                let t = self.desk_issue(None);
                if self.vouchers.rng.gen_bool(0.4) {
                    self.case("voucher_exists");
                    let (number, amount) = self.ticket(t);
                    let hall = self.any_hall();
                    let tx = self.vouchers.tx();
                    self.send_voucher(&cage(&hall), issue(&number, tx, amount + 100));
                }
            }
            // The back office voids a ticket, which is then asked for; now and then it
            // tries while a desk holds it.
            17 => {
                self.case("voucher_void");
                let t = self.some_open_ticket();
                let (number, amount) = self.ticket(t);
                let desk = self.redeeming_desk(t);
                if self.vouchers.rng.gen_bool(0.3) {
                    self.case("voucher_void_held");
                    let tx = self.vouchers.tx();
                    self.send_voucher(&desk, redeem(&number, tx, amount, CURRENCY));
                    let tx = self.vouchers.tx();
                    self.send_voucher(&back_office(), void(&number, tx));
                    let tx = self.vouchers.tx();
                    self.send_voucher(&desk, commit(&number, tx));
                    self.set_state(t, State::Redeemed);
                } else {
                    let tx = self.vouchers.tx();
                    self.send_voucher(&back_office(), void(&number, tx));
                    let tx = self.vouchers.tx();
                    self.send_voucher(&desk, redeem(&number, tx, amount, CURRENCY));
                    self.set_state(t, State::Voided);
                }
            }
            // A machine's request lapses; a desk asks after the hold time and pays.
            18 => {
                let t = self.some_open_ticket();
                let (number, amount) = self.ticket(t);
                let Some(m) = self.redeeming_machine(t) else {
                    return;
                };
                self.case("voucher_hold_lapsed");
                let tx = self.vouchers.tx();
                self.send_voucher(&Sender::Machine(m), redeem(&number, tx, amount, CURRENCY));
                self.now += VOUCHER_HOLD_MS + self.vouchers.rng.gen_range(1_000..60_000);
                let desk = self.redeeming_desk(t);
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, redeem(&number, tx, amount, CURRENCY));
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, commit(&number, tx));
                self.set_state(t, State::Redeemed);
            }
            // A ticket of the short-expiry hall asked for after its expiry (a desk's clock
            // a day on), and now and then credited at a machine anyway.
            19 => {
                self.case("voucher_expired");
                let hall = hall_name(SHORT_EXPIRY_HALL);
                let t = match self.open_ticket(Some(&hall)) {
                    Some(t) => t,
                    None => self.desk_issue(Some(hall.clone())),
                };
                let (number, amount) = self.ticket(t);
                let late = self.vouchers.tickets[t].issued
                    + DAY_MS
                    + self.vouchers.rng.gen_range(60_000..3_600_000);
                let tx = self.vouchers.tx();
                self.send_voucher_at(&cage(&hall), redeem(&number, tx, amount, CURRENCY), late);
                self.set_state(t, State::Expired);
                if self.vouchers.rng.gen_bool(0.5) {
                    let m = self.any_machine();
                    self.credit(m, amount, &number);
                }
            }
            // A command delivered again (same sender, same tx, same content).
            20 => {
                let n = self.vouchers.sent.len();
                if n == 0 {
                    return;
                }
                self.case("voucher_repeat");
                let i = self.vouchers.rng.gen_range(n.saturating_sub(200)..n);
                let mut env = self.vouchers.sent[i].clone();
                env.event_id = self.next_id();
                env.event_time = env.event_time.max(self.now);
                self.push(env);
            }
            // The same key with another amount.
            21 => {
                let n = self.vouchers.sent.len();
                let Some(i) = (n.saturating_sub(200)..n).rev().find(|i| {
                    matches!(
                        self.vouchers.sent[*i].payload,
                        InputPayload::VoucherRedeem { .. } | InputPayload::VoucherIssue { .. }
                    )
                }) else {
                    return;
                };
                self.case("voucher_tx_conflict");
                let mut env = self.vouchers.sent[i].clone();
                env.event_id = self.next_id();
                env.event_time = env.event_time.max(self.now);
                if let InputPayload::VoucherRedeem { amount, .. }
                | InputPayload::VoucherIssue { amount, .. } = &mut env.payload
                {
                    *amount += 1;
                }
                self.push(env);
            }
            // A home-only hall's ticket asked for in another hall, then where it may be.
            22 => {
                self.case("voucher_wrong_hall");
                let home = hall_name(HOME_ONLY_HALL);
                let t = match self.open_ticket(Some(&home)) {
                    Some(t) => t,
                    None => self.desk_issue(Some(home.clone())),
                };
                let (number, amount) = self.ticket(t);
                let away = hall_name((HOME_ONLY_HALL + 1) % self.halls);
                let from = match self.machine_in(&away) {
                    Some(m) if self.vouchers.rng.gen_bool(0.5) => Sender::Machine(m),
                    _ => cage(&away),
                };
                let tx = self.vouchers.tx();
                self.send_voucher(&from, redeem(&number, tx, amount, CURRENCY));
                let tx = self.vouchers.tx();
                self.send_voucher(&cage(&home), redeem(&number, tx, amount, CURRENCY));
                let tx = self.vouchers.tx();
                self.send_voucher(&cage(&home), commit(&number, tx));
                self.set_state(t, State::Redeemed);
            }
            // Not valid events (RULES.md E-1): a number that is not 18 digits, a number on
            // a bill, a desk's command from a machine.
            23 => self.invalid_voucher(),
            // A request in another currency: of an open ticket, or of a number never
            // issued (V-3 checks the currency last); or a desk selling a ticket in another
            // currency (E-4).
            24 => {
                self.case("voucher_wrong_currency");
                if self.vouchers.rng.gen_bool(0.2) {
                    self.case("voucher_wrong_currency_issue");
                    let number = self.vouchers.fresh();
                    let mut pay = issue(&number, self.vouchers.tx(), 1_000);
                    if let InputPayload::VoucherIssue { currency, .. } = &mut pay {
                        *currency = "USD".to_owned();
                    }
                    let hall = self.any_hall();
                    return self.send_voucher(&cage(&hall), pay);
                }
                let (number, amount) = if self.vouchers.rng.gen_bool(0.7) {
                    let t = self.some_open_ticket();
                    self.ticket(t)
                } else {
                    self.case("voucher_wrong_currency_unknown");
                    (self.vouchers.fresh(), 1_000)
                };
                let desk = cage(&hall_name(HOME_ONLY_HALL));
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, redeem(&number, tx, amount, "USD"));
            }
            // A commit or cancel by a sender that holds nothing.
            25 => {
                self.case("voucher_not_held");
                let t = self.some_open_ticket();
                let (number, _) = self.ticket(t);
                if self.vouchers.rng.gen_bool(0.5) {
                    let desk = self.redeeming_desk(t);
                    let tx = self.vouchers.tx();
                    self.send_voucher(&desk, commit(&number, tx));
                } else {
                    let m = self.any_machine();
                    let tx = self.vouchers.tx();
                    self.send_voucher(&Sender::Machine(m), cancel(&number, tx));
                }
            }
            // A ticket-in read before the print that issued it (they travel on different
            // partitions): the print redeems it (RULES.md V-5), sometimes for another amount.
            27 => {
                let printer = self.any_machine();
                let c = self.machines[printer].credits;
                if c <= 0 || c > AMOUNT_MAX {
                    return;
                }
                self.case("voucher_credit_before_print");
                let number = self.vouchers.fresh();
                let credited = if self.vouchers.rng.gen_bool(0.8) {
                    c
                } else {
                    c.saturating_add(100).min(AMOUNT_MAX)
                };
                let m = self.any_machine();
                self.credit(m, credited, &number);
                self.machines[printer].credits = 0;
                self.send_machine(printer, super::ticket_out(c, number));
            }
            // A number never issued asked for.
            _ => {
                self.case("voucher_unknown");
                let number = self.vouchers.fresh();
                let from = if self.vouchers.rng.gen_bool(0.5) {
                    Sender::Machine(self.any_machine())
                } else {
                    let hall = self.any_hall();
                    cage(&hall)
                };
                let tx = self.vouchers.tx();
                self.send_voucher(&from, redeem(&number, tx, 2_500, CURRENCY));
            }
        }
    }

    /// Voucher messages that are not valid events (RULES.md E-1, V-1); not kept for
    /// repeats and conflicts.
    fn invalid_voucher(&mut self) {
        self.case("voucher_invalid");
        let sent = self.vouchers.sent.len();
        self.invalid_voucher_message();
        self.vouchers.sent.truncate(sent);
    }

    fn invalid_voucher_message(&mut self) {
        let number = self.vouchers.fresh();
        match self.vouchers.rng.gen_range(0..5) {
            0 => {
                self.case("voucher_invalid_number");
                let bad = match self.vouchers.rng.gen_range(0..3) {
                    0 => number[1..].to_owned(),
                    1 => format!("{number}0"),
                    _ => format!("{}A", &number[1..]),
                };
                let desk = cage(&hall_name(0));
                let tx = self.vouchers.tx();
                self.send_voucher(&desk, redeem(&bad, tx, 1_000, CURRENCY));
            }
            1 => {
                // A machine event that is not applied: its sequence number is sent again.
                self.case("validation_on_bill");
                let m = self.any_machine();
                let mut pay = cash_in("bill", 1_000);
                if let InputPayload::CashIn { validation, .. } = &mut pay {
                    *validation = Some(number);
                }
                let env = self.machine_event(m, pay);
                self.machines[m].seq -= 1;
                self.push(env);
            }
            2 => {
                self.case("voucher_invalid_number");
                let m = self.any_machine();
                let env = self.machine_event(m, ticket_out(1_000, format!("{}-", &number[1..])));
                self.machines[m].seq -= 1;
                self.push(env);
            }
            3 => {
                self.case("voucher_invalid_source");
                let m = self.any_machine();
                let tx = self.vouchers.tx();
                self.send_voucher(&Sender::Machine(m), issue(&number, tx, 1_000));
            }
            _ => {
                self.case("voucher_invalid_source");
                let m = self.any_machine();
                let tx = self.vouchers.tx();
                self.send_voucher(&Sender::Machine(m), commit(&number, tx));
            }
        }
    }
}
