//! The D rules: a cash desk opens, fills, credits and closes its shifts (D-1, D-2, D-4),
//! answers each command once (D-6, D-7); the cash its vouchers moved is booked to the
//! shift whose time covers it, revising a closed one (D-3, D-5), or `unshifted` until a
//! shift that opens at or before its time takes it (D-3).
//!
//! Read from `RULES.md` section D alone. Where the text leaves a choice open, the reading
//! taken is said where it is applied:
//! - `wrong_currency` is checked first for every command (D-2 says so of fills and credits
//!   "as in D-1": the same order for an open and a close);
//! - an output's shift, when the desk has none open, is its newest closed shift (D-7: "the
//!   shift as it is after the command"), number 0 when it never had one;
//! - `operations` counts the cash operations of D-3 (the vouchers' facts) booked to the
//!   shift, not its fills and credits (commands, not "cash operations booked");
//! - when several shifts' times cover an operation (a desk's clock is not checked, so
//!   shifts may overlap), the newest of them takes it;
//! - a repeat (D-6) publishes the first answer again as it was, with the first command's
//!   cause and time; a conflict is refused `tx_conflict` by a `refused` output, not a
//!   `shift` one (D-7's id, `shift <desk> <tx>`, is the first answer's: W-2 and W-6 say so
//!   of wallets), and is not remembered;
//! - the desk's hall, for a revision's output, is the hall of its latest command;
//! - a cash operation that would overflow (D-4, E-5) is refused like a machine's fact: a
//!   refusal and an alert `overflow`, and not remembered as booked;
//! - the 64 unshifted operations kept (D-3) are the newest booked `unshifted`, whatever
//!   made them so (no shift open, dated before the open one, older than every kept one);
//!   those a shift takes at its opening leave the list, the others keep their order; a
//!   shift that opens takes every kept one dated at or after its opening, even one dated
//!   after its close (D-3 names no end);
//! - an opening whose taken operations would take a figure beyond 64 bits is refused
//!   `overflow` (D-4: "a figure ... beyond 64 bits refuses the command").
//!
//! D-10 (a wallet's deposit or withdrawal applied at a listed cash desk) is booked by the
//! same code as a ticket's cash ([`Model::desk_wallet_cash`]); the readings taken:
//! - `wallet_in` / `wallet_out` count what the desk booked ("in every case": to the open
//!   shift, to a closed one it revises, or unshifted), once per event id like the rest of
//!   its cash; an operation the desk does not book (delivered again, or refused as an
//!   overflow, E-5) is not counted there either;
//! - a shift that takes a kept unshifted deposit at its opening (D-3) moves it out of
//!   `unshifted_in` only: it stays in `wallet_in` (booked once, counted once);
//! - a desk's hall is its commands' `source.hall` (D: "its hall the commands'
//!   `source.hall`"); the `source.hall` the wallet forwards ("the desk's hall") names the
//!   hall only of a desk no command reached yet, and a desk's command names it from then
//!   on (so a revision's output names the hall of the desk's latest command, whatever hall
//!   the wallet command that caused it came from).

use super::shifts::DeskAnswered;
use super::state::Model;
use super::types::{
    DeskAlert, Outcome, ShiftRow, ShiftView, UnshiftedOp, DESK_ANSWERS_KEPT, DESK_OPS_KEPT,
    DESK_SHIFTS_KEPT, DESK_UNSHIFTED_KEPT,
};
use super::validate::{DeskEvent, DeskOpModel};

impl Model {
    /// A desk command (D-1, D-2, D-4), answered once (D-6) with one output (D-7).
    pub(super) fn apply_desk(&mut self, ev: DeskEvent) -> Outcome {
        let d = self.desks.entry(ev.desk.clone()).or_default();
        // D-6: (desk, tx) identifies the command; the same content is a repeat (the first
        // answer again, nothing changes), other content a conflict.
        if let Some(first) = d.answers.iter().find(|a| a.tx == ev.tx) {
            if first.op == ev.op && first.currency == ev.currency {
                let row = first.row.clone();
                self.shifts.push(row);
                return Outcome::Repeat;
            }
            return Outcome::Refused("tx_conflict");
        }
        d.hall = Some(ev.hall.clone());
        let answer = self.desk_command(&ev);
        let d = self.desks.get_mut(&ev.desk).expect("exists");
        let row = ShiftRow {
            desk: ev.desk.clone(),
            op: ev.op.name(),
            tx: Some(ev.tx.clone()),
            amount: ev.op.amount(),
            refused: answer.err(),
            hall: ev.hall.clone(),
            shift: d.current(),
            cause: ev.id.clone(),
            time: ev.time,
        };
        d.answers.push_back(DeskAnswered {
            tx: ev.tx.clone(),
            op: ev.op.clone(),
            currency: ev.currency.clone(),
            row: row.clone(),
        });
        while d.answers.len() > DESK_ANSWERS_KEPT {
            d.answers.pop_front();
        }
        self.shifts.push(row);
        match answer {
            Ok(()) => Outcome::Applied,
            Err(code) => Outcome::Refused(code),
        }
    }

    /// What a new command does: `Err` is its refusal's code.
    fn desk_command(&mut self, ev: &DeskEvent) -> Result<(), &'static str> {
        // E-4, D-1: another currency, checked first for every command.
        if ev.currency != self.cfg.currency {
            return Err("wrong_currency");
        }
        let d = self.desks.get_mut(&ev.desk).expect("exists");
        match &ev.op {
            // D-1: the next shift, at the command's time.
            DeskOpModel::Open(cashier, float) => {
                if d.open.is_some() {
                    return Err("shift_already_open");
                }
                let mut s = ShiftView {
                    number: d.next + 1,
                    cashier: cashier.clone(),
                    opened_at: ev.time,
                    float: *float,
                    ..ShiftView::default()
                };
                // D-3: the kept unshifted operations dated at or after the opening were
                // read before it (from another partition): the shift takes them, after its
                // float; they leave the unshifted cash (their alerts stand). The others
                // stay kept, in their order.
                let (taken, kept): (Vec<UnshiftedOp>, Vec<UnshiftedOp>) = d
                    .unshifted_ops
                    .iter()
                    .cloned()
                    .partition(|o| o.time >= ev.time);
                let (mut unshifted_in, mut unshifted_out) = (d.unshifted_in, d.unshifted_out);
                for o in &taken {
                    let (figure, unshifted) = if o.cash_in {
                        (&mut s.cash_in, &mut unshifted_in)
                    } else {
                        (&mut s.cash_out, &mut unshifted_out)
                    };
                    // D-4, E-5 (reading: the open is the command a figure beyond 64 bits
                    // refuses; never so with amounts within the bound).
                    *figure = figure.checked_add(o.amount).ok_or("overflow")?;
                    *unshifted -= o.amount;
                    s.operations += 1;
                }
                if !in_bounds(&s) {
                    return Err("overflow");
                }
                d.next = s.number;
                d.open = Some(s);
                d.unshifted_ops = kept.into();
                d.unshifted_in = unshifted_in;
                d.unshifted_out = unshifted_out;
            }
            // D-2; D-4's bound (E-5): a figure or the expected cash beyond 64 bits.
            DeskOpModel::Fill(a) | DeskOpModel::Credit(a) => {
                let Some(s) = d.open.as_mut() else {
                    return Err("shift_not_open");
                };
                let mut next = s.clone();
                let figure = if matches!(ev.op, DeskOpModel::Fill(_)) {
                    &mut next.fills
                } else {
                    &mut next.credits
                };
                *figure = figure.checked_add(*a).ok_or("overflow")?;
                if !in_bounds(&next) {
                    return Err("overflow");
                }
                *s = next;
            }
            // D-4: closed at the command's time (its opening time if that is later) with
            // what was counted; the expected cash and the variance within 64 bits (E-5).
            DeskOpModel::Close(counted) => {
                let Some(s) = d.open.as_ref() else {
                    return Err("shift_not_open");
                };
                let mut s = s.clone();
                s.closed_at = Some(ev.time.max(s.opened_at));
                s.counted = Some(*counted);
                if !in_bounds(&s) {
                    return Err("overflow");
                }
                d.open = None;
                let (expected, variance, number) = (s.expected(), counted - s.expected(), s.number);
                d.closed.push_back(s);
                while d.closed.len() > DESK_SHIFTS_KEPT {
                    d.closed.pop_front();
                }
                if variance != 0 {
                    self.desk_alert(DeskAlert::ShiftVariance {
                        desk: ev.desk.clone(),
                        shift: number,
                        expected,
                        counted: *counted,
                        variance,
                    });
                }
            }
        }
        Ok(())
    }

    /// D-10: a wallet deposit (`cash_in`) or withdrawal of `amount` the wallet applied for
    /// the cash desk `desk` (the command's provider, a listed desk) at `time` in `hall`,
    /// caused by the input event `cause`: booked exactly as a ticket's cash (D-3), and
    /// counted apart as the wallet's (`wallet_in`, `wallet_out`) when booked.
    pub(super) fn desk_wallet_cash(
        &mut self,
        desk: &str,
        hall: &str,
        time: i64,
        cause: &str,
        (amount, cash_in): (i64, bool),
    ) {
        // Reading: the forwarded `source.hall` names the hall of a desk no command reached
        // yet; its commands name it otherwise (see the module's comment).
        let d = self.desks.entry(desk.to_owned()).or_default();
        d.hall.get_or_insert_with(|| hall.to_owned());
        if !self.desk_cash(desk, time, cause, amount, cash_in) {
            return;
        }
        let d = self.desks.get_mut(desk).expect("booked");
        // Within the desk's `cash_in` / `cash_out`, which did not overflow.
        if cash_in {
            d.wallet_in += amount;
        } else {
            d.wallet_out += amount;
        }
    }

    /// D-3: a cash operation a voucher applied for desk `desk` (the voucher command's
    /// sender) at `time`, caused by the input event `cause`: `amount` in (a ticket sold) or
    /// out (a ticket paid). Never refused by a rule; booked once per event id; one that
    /// would take a figure beyond 64 bits is refused like a fact and counted nowhere (D-4,
    /// E-5). Returns whether it was booked (not a redelivery, not refused).
    pub(super) fn desk_cash(
        &mut self,
        desk: &str,
        time: i64,
        cause: &str,
        amount: i64,
        cash_in: bool,
    ) -> bool {
        let d = self.desks.entry(desk.to_owned()).or_default();
        if d.booked.iter().any(|b| b == cause) {
            return false;
        }
        // The desk's all-time books (D-9).
        let total = if cash_in { d.cash_in } else { d.cash_out };
        let Some(total) = total.checked_add(amount) else {
            return self.desk_overflow();
        };
        let moved = |s: &ShiftView| -> Option<ShiftView> {
            let mut n = s.clone();
            let figure = if cash_in {
                &mut n.cash_in
            } else {
                &mut n.cash_out
            };
            *figure = figure.checked_add(amount)?;
            n.operations += 1;
            in_bounds(&n).then_some(n)
        };
        // Where it goes: the open shift, if it opened at or before the operation; else
        // (D-5) a closed shift that covers it (opened at or before it, closed after it),
        // the newest first (reading: for overlapping shifts); else no shift.
        let booked = if let Some(s) = d.open.as_ref().filter(|s| s.opened_at <= time) {
            let Some(n) = moved(s) else {
                return self.desk_overflow();
            };
            d.open = Some(n);
            Booked::Open
        } else if let Some(i) = d
            .closed
            .iter()
            .rposition(|s| s.opened_at <= time && s.closed_at.is_some_and(|c| c > time))
        {
            let before = d.closed[i].variance();
            let Some(mut n) = moved(&d.closed[i]) else {
                return self.desk_overflow();
            };
            n.revision += 1;
            d.closed[i] = n.clone();
            Booked::Revised(before, n)
        } else {
            let unshifted = if cash_in {
                &mut d.unshifted_in
            } else {
                &mut d.unshifted_out
            };
            let Some(sum) = unshifted.checked_add(amount) else {
                return self.desk_overflow();
            };
            *unshifted = sum;
            // D-3: kept, the newest 64, for a shift that opens later at or before its time.
            d.unshifted_ops.push_back(UnshiftedOp {
                time,
                cash_in,
                amount,
            });
            while d.unshifted_ops.len() > DESK_UNSHIFTED_KEPT {
                d.unshifted_ops.pop_front();
            }
            Booked::Unshifted
        };
        if cash_in {
            d.cash_in = total;
        } else {
            d.cash_out = total;
        }
        d.booked.push_back(cause.to_owned());
        while d.booked.len() > DESK_OPS_KEPT {
            d.booked.pop_front();
        }
        match booked {
            Booked::Open => {}
            Booked::Revised(before, shift) => {
                // D-5: the revised shift is published; its variance is alerted again when,
                // after the revision, it is other than 0 and not what it was before. A
                // revision that brings it back to 0 is not alerted (the drawer adds up).
                let after = shift.variance();
                let row = ShiftRow {
                    desk: desk.to_owned(),
                    op: "revise",
                    tx: None,
                    amount: 0,
                    refused: None,
                    hall: d.hall.clone().unwrap_or_default(),
                    shift: shift.clone(),
                    cause: cause.to_owned(),
                    time,
                };
                self.shifts.push(row);
                if after != Some(0) && after != before {
                    self.desk_alert(DeskAlert::ShiftVariance {
                        desk: desk.to_owned(),
                        shift: shift.number,
                        expected: shift.expected(),
                        counted: shift.counted.unwrap_or(0),
                        variance: after.unwrap_or(0),
                    });
                }
            }
            // No shift covers it: alerted with its signed amount.
            Booked::Unshifted => self.desk_alert(DeskAlert::CashWithoutShift {
                desk: desk.to_owned(),
                amount: if cash_in { amount } else { -amount },
            }),
        }
        true
    }

    /// E-5: a cash operation that would overflow a figure is refused like a fact (not
    /// booked: `false`).
    fn desk_overflow(&mut self) -> bool {
        self.alert("overflow");
        *self.refusals.entry("overflow").or_default() += 1;
        *self.desk_refusals.entry("overflow").or_default() += 1;
        false
    }

    fn desk_alert(&mut self, a: DeskAlert) {
        let code = match &a {
            DeskAlert::ShiftVariance { .. } => "shift_variance",
            DeskAlert::CashWithoutShift { .. } => "desk_cash_without_shift",
        };
        self.alert(code);
        self.desk_alerts.push(a);
    }
}

/// Where a cash operation was booked (D-3).
enum Booked {
    Open,
    /// A closed shift, revised (D-5): its variance before, and the shift after.
    Revised(Option<i64>, ShiftView),
    Unshifted,
}

/// D-4, E-5: a shift's expected cash, and its variance once counted, fit in 64 bits.
fn in_bounds(s: &ShiftView) -> bool {
    let expected = i128::from(s.float) + i128::from(s.cash_in) - i128::from(s.cash_out)
        + i128::from(s.fills)
        - i128::from(s.credits);
    let fits = |v: i128| i64::try_from(v).is_ok();
    fits(expected) && s.counted.is_none_or(|c| fits(i128::from(c) - expected))
}

/// RULES.md D, one sequence at a time, as the rules read.
#[cfg(test)]
mod tests {
    use super::super::gen::{model_config, CURRENCY, START_MS};
    use super::super::{DeskAlert, Model, Outcome, ShiftView};
    use crate::wire::{InputEnvelope, InputPayload, Source};

    const DESK: &str = "CAGE-01";
    const HALL: &str = "H-01";
    /// The player of the D-10 tests.
    const PLAYER: &str = "P-00001";

    struct T {
        m: Model,
        ids: u128,
    }

    impl T {
        fn new() -> Self {
            Self {
                m: Model::new(model_config(), Box::new(|_, _, _, lo, _| lo)),
                ids: 0,
            }
        }

        /// D-10: with the desk listed as a cash desk (`runtime.cash-desks`).
        fn cage() -> Self {
            let mut cfg = model_config();
            cfg.cash_desks.insert(DESK.to_owned());
            Self {
                m: Model::new(cfg, Box::new(|_, _, _, lo, _| lo)),
                ids: 0,
            }
        }

        fn id(&mut self) -> String {
            self.ids += 1;
            uuid::Uuid::from_u128(0xde5c_0000_0000_4000_8000_0000_0000_0000 | self.ids)
                .hyphenated()
                .to_string()
        }

        /// A message of `version` from `desk` (or, with `machine`, from machine M-1) at `t`.
        fn env(&mut self, version: u32, machine: bool, t: i64, p: InputPayload) -> InputEnvelope {
            InputEnvelope {
                event_id: self.id(),
                schema_version: version,
                source: Source {
                    hall: HALL.to_owned(),
                    machine: machine.then(|| "M-1".to_owned()),
                    server: (!machine).then(|| DESK.to_owned()),
                },
                epoch: (machine && version == 2).then_some(0),
                seq: u64::from(machine),
                event_time: START_MS + t,
                receive_time: None,
                payload: p,
            }
        }

        fn send(&mut self, t: i64, p: InputPayload) -> Outcome {
            let e = self.env(2, false, t, p);
            self.m.apply(&e, None)
        }

        /// The desk sells ticket `n` for `amount` at `t` (V-2).
        fn sell(&mut self, t: i64, n: u64, amount: i64) -> Outcome {
            let tx = format!("VI-{n}");
            self.send(
                t,
                InputPayload::VoucherIssue {
                    validation: format!("{n:018}"),
                    tx,
                    amount,
                    currency: CURRENCY.to_owned(),
                },
            )
        }

        /// The desk asks for ticket `n` and pays it at `t` (V-3, V-4).
        fn pay(&mut self, t: i64, n: u64, amount: i64) -> Outcome {
            let validation = format!("{n:018}");
            let asked = self.send(
                t,
                InputPayload::VoucherRedeem {
                    validation: validation.clone(),
                    tx: format!("VR-{n}"),
                    amount,
                    currency: CURRENCY.to_owned(),
                },
            );
            assert_eq!(asked, Outcome::Applied);
            self.send(
                t,
                InputPayload::VoucherCommit {
                    validation,
                    tx: format!("VC-{n}"),
                },
            )
        }

        fn desk(&self) -> super::super::DeskView {
            self.m.desks()[DESK].clone()
        }

        /// A wallet command from `server` (in the desk's hall) at `t`.
        fn wallet_from(&mut self, server: &str, t: i64, p: InputPayload) -> Outcome {
            let mut e = self.env(2, false, t, p);
            e.source.server = Some(server.to_owned());
            self.m.apply(&e, None)
        }

        /// The player deposits `amount` at the desk at `t` (D-10).
        fn deposit(&mut self, t: i64, tx: &str, amount: i64) -> Outcome {
            self.wallet_from(DESK, t, deposit_of(tx, amount))
        }

        /// The player withdraws `amount` at the desk at `t` (D-10).
        fn withdraw(&mut self, t: i64, tx: &str, amount: i64) -> Outcome {
            self.wallet_from(DESK, t, withdrawal_of(tx, amount))
        }

        fn wallet(&self) -> super::super::WalletView {
            self.m.wallets()[PLAYER].clone()
        }

        fn open_shift(&self) -> ShiftView {
            self.desk().open.expect("a shift is open")
        }

        fn closed(&self, number: u32) -> ShiftView {
            self.desk()
                .closed
                .into_iter()
                .find(|s| s.number == number)
                .expect("the shift is kept")
        }

        fn alerts(&self, code: &str) -> u64 {
            self.m.alerts.get(code).copied().unwrap_or(0)
        }
    }

    fn deposit_of(tx: &str, amount: i64) -> InputPayload {
        InputPayload::Deposit {
            player: PLAYER.to_owned(),
            tx: tx.to_owned(),
            amount,
            currency: CURRENCY.to_owned(),
            round: None,
        }
    }

    fn withdrawal_of(tx: &str, amount: i64) -> InputPayload {
        InputPayload::Withdraw {
            player: PLAYER.to_owned(),
            tx: tx.to_owned(),
            amount,
            currency: CURRENCY.to_owned(),
            round: None,
        }
    }

    fn open(tx: &str, cashier: &str, float: i64) -> InputPayload {
        InputPayload::ShiftOpen {
            tx: tx.to_owned(),
            cashier: cashier.to_owned(),
            float,
            currency: CURRENCY.to_owned(),
        }
    }

    fn fill(tx: &str, amount: i64) -> InputPayload {
        InputPayload::DeskFill {
            tx: tx.to_owned(),
            amount,
            currency: CURRENCY.to_owned(),
        }
    }

    fn credit(tx: &str, amount: i64) -> InputPayload {
        InputPayload::DeskCredit {
            tx: tx.to_owned(),
            amount,
            currency: CURRENCY.to_owned(),
        }
    }

    fn close(tx: &str, counted: i64) -> InputPayload {
        InputPayload::ShiftClose {
            tx: tx.to_owned(),
            counted,
            currency: CURRENCY.to_owned(),
        }
    }

    fn in_usd(mut p: InputPayload) -> InputPayload {
        match &mut p {
            InputPayload::ShiftOpen { currency, .. }
            | InputPayload::DeskFill { currency, .. }
            | InputPayload::DeskCredit { currency, .. }
            | InputPayload::ShiftClose { currency, .. } => *currency = "USD".to_owned(),
            _ => {}
        }
        p
    }

    /// D-1, D-2, D-4, D-7.
    #[test]
    fn a_shift_opens_takes_fills_and_credits_and_closes_with_its_variance() {
        let mut t = T::new();
        // Nothing open: refused, the output shows shift 0.
        assert_eq!(
            t.send(0, fill("f0", 100)),
            Outcome::Refused("shift_not_open")
        );
        let row = t.m.shifts.last().unwrap().clone();
        assert_eq!(
            (row.op, row.refused, row.shift.number, row.hall.as_str()),
            ("fill", Some("shift_not_open"), 0, HALL)
        );
        assert_eq!(t.send(100, open("o1", "Ana", 10_000)), Outcome::Applied);
        assert_eq!(
            (
                t.open_shift().number,
                t.open_shift().float,
                t.open_shift().opened_at
            ),
            (1, 10_000, START_MS + 100)
        );
        assert_eq!(
            t.send(101, open("o2", "Bo", 0)),
            Outcome::Refused("shift_already_open")
        );
        // Another currency is checked first.
        assert_eq!(
            t.send(102, in_usd(open("o3", "Bo", 0))),
            Outcome::Refused("wrong_currency")
        );
        assert_eq!(t.send(103, fill("f1", 5_000)), Outcome::Applied);
        assert_eq!(t.send(104, credit("c1", 2_000)), Outcome::Applied);
        assert_eq!(t.open_shift().expected(), 13_000);
        // Counted what was expected: no variance.
        assert_eq!(t.send(200, close("k1", 13_000)), Outcome::Applied);
        let s = t.closed(1);
        assert_eq!(
            (s.closed_at, s.counted, s.variance(), s.fills, s.credits),
            (Some(START_MS + 200), Some(13_000), Some(0), 5_000, 2_000)
        );
        assert_eq!(t.alerts("shift_variance"), 0);
        assert_eq!(t.desk().level_0(), 0);
        // Closed twice: refused the second time; fills and credits too.
        assert_eq!(
            t.send(201, close("k2", 13_000)),
            Outcome::Refused("shift_not_open")
        );
        assert_eq!(
            t.send(202, credit("c2", 1)),
            Outcome::Refused("shift_not_open")
        );
        assert_eq!(
            t.send(203, in_usd(fill("f2", 1))),
            Outcome::Refused("wrong_currency")
        );
        // The output of a refusal with none open shows the newest closed shift.
        assert_eq!(t.m.shifts.last().unwrap().shift, s);
        // The next shift, on an empty float, counted over by 100.
        assert_eq!(t.send(300, open("o4", "Bo", 0)), Outcome::Applied);
        assert_eq!(t.open_shift().number, 2);
        assert_eq!(t.desk().level_0(), 0);
        assert_eq!(t.send(301, fill("f3", 700)), Outcome::Applied);
        assert_eq!(t.desk().level_0(), 700);
        assert_eq!(t.send(400, close("k3", 800)), Outcome::Applied);
        assert_eq!(t.alerts("shift_variance"), 1);
        assert_eq!(
            t.m.desk_alerts.last(),
            Some(&DeskAlert::ShiftVariance {
                desk: DESK.to_owned(),
                shift: 2,
                expected: 700,
                counted: 800,
                variance: 100,
            })
        );
        // One output per command, each with its op, tx and amount.
        assert_eq!(t.m.shifts.len(), 13);
        let last = t.m.shifts.last().unwrap();
        assert_eq!(
            (last.op, last.tx.as_deref(), last.amount, last.shift.counted),
            ("close", Some("k3"), 800, Some(800))
        );
        assert_eq!(t.desk().next, 2);
        // A close dated before its shift's opening closes it at the opening: nothing falls
        // between, so a sale dated before it is not the shift's.
        assert_eq!(t.send(500, open("o5", "Cy", 0)), Outcome::Applied);
        assert_eq!(t.send(450, close("k5", 0)), Outcome::Applied);
        assert_eq!(t.closed(3).closed_at, Some(START_MS + 500));
        assert_eq!(t.sell(480, 1, 100), Outcome::Applied);
        assert_eq!((t.closed(3).cash_in, t.desk().unshifted_in), (0, 100));
    }

    /// D-3, D-5, D-9.
    #[test]
    fn cash_is_booked_to_the_shift_its_time_falls_in_and_revises_a_closed_one() {
        let mut t = T::new();
        // Before the desk's first shift: unshifted, alerted with the amount.
        assert_eq!(t.sell(50, 1, 1_000), Outcome::Applied);
        assert_eq!(t.desk().unshifted_in, 1_000);
        assert_eq!(
            t.m.desk_alerts.last(),
            Some(&DeskAlert::CashWithoutShift {
                desk: DESK.to_owned(),
                amount: 1_000
            })
        );
        assert_eq!(t.send(100, open("o1", "Ana", 0)), Outcome::Applied);
        assert_eq!(t.sell(150, 2, 2_000), Outcome::Applied);
        assert_eq!(
            (t.open_shift().cash_in, t.open_shift().operations),
            (2_000, 1)
        );
        // Dated before the open shift, with no closed one: unshifted.
        assert_eq!(t.sell(90, 3, 300), Outcome::Applied);
        assert_eq!(t.desk().unshifted_in, 1_300);
        assert_eq!(t.pay(160, 2, 2_000), Outcome::Applied);
        assert_eq!(
            (t.open_shift().cash_out, t.open_shift().operations),
            (2_000, 2)
        );
        assert_eq!(t.pay(170, 1, 1_000), Outcome::Applied);
        assert_eq!(t.desk().level_0(), -1_000);
        assert_eq!(t.send(200, close("k1", 0)), Outcome::Applied);
        assert_eq!(t.alerts("shift_variance"), 1);
        // Read after the close, dated before it: the closed shift is revised, and its
        // variance alerted again.
        let outputs = t.m.shifts.len();
        assert_eq!(t.sell(199, 4, 500), Outcome::Applied);
        let s = t.closed(1);
        assert_eq!(
            (s.cash_in, s.revision, s.operations, s.variance()),
            (2_500, 1, 4, Some(500))
        );
        assert_eq!(t.alerts("shift_variance"), 2);
        assert_eq!(t.m.shifts.len(), outputs + 1);
        let row = t.m.shifts.last().unwrap();
        assert_eq!(
            (row.op, row.tx.as_deref(), row.amount, row.time, &row.shift),
            ("revise", None, 0, START_MS + 199, &s)
        );
        // A revision back to no variance is not alerted: the drawer adds up again (the
        // revised shift is still published).
        let outputs = t.m.shifts.len();
        assert_eq!(t.sell(120, 7, 500), Outcome::Applied);
        assert_eq!(t.closed(1).variance(), Some(0));
        assert_eq!(t.closed(1).revision, 2);
        assert_eq!(t.m.shifts.len(), outputs + 1);
        assert_eq!(t.alerts("shift_variance"), 2);
        // At the close's time: not closed after it, so no shift covers it.
        assert_eq!(t.sell(200, 5, 10), Outcome::Applied);
        assert_eq!(t.desk().unshifted_in, 1_310);
        // At the open's time: covered; from 0 to -10, alerted again.
        assert_eq!(t.sell(100, 6, 10), Outcome::Applied);
        assert_eq!(t.closed(1).cash_in, 3_010);
        assert_eq!(t.closed(1).variance(), Some(-10));
        assert_eq!(t.alerts("shift_variance"), 3);
        // Level 0 is 0 with no shift open; level 1 the unshifted net.
        assert_eq!((t.desk().level_0(), t.desk().level_1()), (0, 1_310));
        // The same operation delivered again is booked once.
        let before = t.desk();
        t.m.desk_cash(DESK, START_MS + 150, &before.booked[0], 99, true);
        assert_eq!(t.desk(), before);
        assert_eq!(t.alerts("desk_cash_without_shift"), 3);
        assert!(t.m.desk_books().is_empty(), "{:?}", t.m.desk_books());
    }

    /// D-6.
    #[test]
    fn a_repeat_gets_the_first_answer_and_another_content_is_a_conflict() {
        let mut t = T::new();
        assert_eq!(t.send(0, open("o1", "Ana", 1_000)), Outcome::Applied);
        let first = t.m.shifts.last().unwrap().clone();
        assert_eq!(t.send(1, fill("f1", 50)), Outcome::Applied);
        assert_eq!(t.send(2, open("o1", "Ana", 1_000)), Outcome::Repeat);
        assert_eq!(t.m.shifts.last(), Some(&first));
        let (state, outputs) = (t.desk(), t.m.shifts.len());
        for other in [
            open("o1", "Bo", 1_000),
            open("o1", "Ana", 1_001),
            fill("o1", 5),
        ] {
            assert_eq!(t.send(3, other), Outcome::Refused("tx_conflict"));
        }
        assert_eq!(
            t.send(3, in_usd(open("o1", "Ana", 1_000))),
            Outcome::Refused("tx_conflict")
        );
        // Refused by a `refused` output: the key's `shift` output is the first answer's.
        assert_eq!((t.desk(), t.m.shifts.len()), (state, outputs));
        // A refusal repeated is a repeat, counted once.
        assert_eq!(
            t.send(4, open("o2", "Bo", 0)),
            Outcome::Refused("shift_already_open")
        );
        assert_eq!(t.send(5, open("o2", "Bo", 0)), Outcome::Repeat);
        assert_eq!(t.m.desk_refusals.get("shift_already_open"), Some(&1));
        assert_eq!(t.m.desk_refusals.get("tx_conflict"), Some(&4));
        // The newest 64 answers are remembered: past them, `o1` is a new command.
        for i in 0..63 {
            assert_eq!(t.send(10 + i, fill(&format!("g{i}"), 1)), Outcome::Applied);
        }
        assert_eq!(
            t.send(100, open("o1", "Ana", 1_000)),
            Outcome::Refused("shift_already_open")
        );
        assert_eq!(t.desk().answers.len(), 64);
    }

    /// D-5: the newest 100 closed shifts are kept; an operation older than all of them is
    /// unshifted.
    #[test]
    fn an_operation_older_than_every_kept_shift_is_unshifted() {
        let mut t = T::new();
        for i in 0..101 {
            let at = i * 10;
            assert_eq!(
                t.send(at, open(&format!("o{i}"), "Ana", 0)),
                Outcome::Applied
            );
            assert_eq!(t.send(at + 5, close(&format!("k{i}"), 0)), Outcome::Applied);
        }
        assert_eq!(t.desk().closed.len(), 100);
        assert_eq!(t.desk().closed[0].number, 2);
        assert_eq!(t.sell(2, 1, 100), Outcome::Applied);
        assert_eq!(t.desk().unshifted_in, 100);
        assert_eq!(t.sell(12, 2, 100), Outcome::Applied);
        assert_eq!(t.closed(2).cash_in, 100);
        assert_eq!(t.closed(2).revision, 1);
    }

    /// D-3: the unshifted operations kept are taken by a shift that then opens at or before
    /// their time, shown by the open's answer; those dated before it stay; only the newest
    /// 64 are kept, so older ones are never taken; the alerts stand.
    #[test]
    fn a_shift_that_opens_takes_the_kept_unshifted_cash_dated_at_or_after_it() {
        let mut t = T::new();
        // Read before the opening: dated before it, at it, after it; a payment after it.
        assert_eq!(t.sell(90, 1, 100), Outcome::Applied);
        assert_eq!(t.sell(100, 2, 200), Outcome::Applied);
        assert_eq!(t.sell(150, 3, 400), Outcome::Applied);
        assert_eq!(t.pay(160, 3, 400), Outcome::Applied);
        assert_eq!(t.desk().unshifted_ops.len(), 4);
        assert_eq!((t.desk().unshifted_in, t.desk().unshifted_out), (700, 400));
        assert_eq!(t.alerts("desk_cash_without_shift"), 4);
        assert_eq!(t.send(100, open("o1", "Ana", 1_000)), Outcome::Applied);
        let s = t.open_shift();
        assert_eq!(
            (s.cash_in, s.cash_out, s.operations, s.expected()),
            (600, 400, 3, 1_200)
        );
        // The open's answer shows them.
        assert_eq!(t.m.shifts.last().unwrap().shift, s);
        let d = t.desk();
        assert_eq!((d.unshifted_in, d.unshifted_out), (100, 0));
        assert_eq!(
            d.unshifted_ops,
            vec![super::super::UnshiftedOp {
                time: START_MS + 90,
                cash_in: true,
                amount: 100
            }]
        );
        assert_eq!((d.cash_in, d.cash_out), (700, 400));
        assert_eq!(t.alerts("desk_cash_without_shift"), 4);
        // Closed; 70 sales read before the next opening, all dated after it: the newest 64
        // are taken, the 6 before them stay unshifted.
        assert_eq!(t.send(200, close("k1", 1_200)), Outcome::Applied);
        for n in 0..70 {
            assert_eq!(
                t.sell(300 + n as i64, 10 + n, 10 + n as i64),
                Outcome::Applied
            );
        }
        assert_eq!(t.desk().unshifted_ops.len(), 64);
        assert_eq!(t.send(250, open("o2", "Bo", 0)), Outcome::Applied);
        let s = t.open_shift();
        let taken: i64 = (16..80).sum();
        assert_eq!((s.number, s.cash_in, s.operations), (2, taken, 64));
        let d = t.desk();
        assert_eq!(d.unshifted_in, 100 + (10..16).sum::<i64>());
        assert!(d.unshifted_ops.is_empty());
        assert!(t.m.desk_books().is_empty(), "{:?}", t.m.desk_books());
        // The 6 not kept are never taken: the next shift opening before them takes nothing.
        assert_eq!(t.send(260, close("k2", taken)), Outcome::Applied);
        assert_eq!(t.send(270, open("o3", "Cy", 0)), Outcome::Applied);
        assert_eq!(t.open_shift().operations, 0);
        // A refused opening takes nothing; the next one does.
        assert_eq!(t.send(290, close("k3", 0)), Outcome::Applied);
        assert_eq!(t.sell(400, 90, 5), Outcome::Applied);
        assert_eq!(
            t.send(300, in_usd(open("o4", "Cy", 0))),
            Outcome::Refused("wrong_currency")
        );
        assert_eq!(t.desk().unshifted_ops.len(), 1);
        assert_eq!(t.send(300, open("o5", "Cy", 0)), Outcome::Applied);
        assert_eq!(
            (t.open_shift().cash_in, t.desk().unshifted_ops.len()),
            (5, 0)
        );
        assert_eq!(t.alerts("desk_cash_without_shift"), 4 + 70 + 1);
    }

    /// D-10 with D-3, D-5, D-9: a wallet's deposits and withdrawals applied at a listed desk
    /// are booked as its tickets' cash are, by their time: before any shift (unshifted,
    /// alerted), in the open shift, revising the closed one, at its close's instant (not
    /// covered); refused ones, a repeat and a conflict book nothing; the desk counts them
    /// apart, the wallet counts them among its deposits and withdrawals.
    #[test]
    fn wallet_cash_at_a_listed_desk_is_booked_as_a_tickets_cash() {
        let mut t = T::cage();
        // Before the desk's first shift (and before it heard any command).
        assert_eq!(t.deposit(50, "d1", 1_000), Outcome::Applied);
        let d = t.desk();
        assert_eq!(
            (d.unshifted_in, d.cash_in, d.wallet_in, d.next),
            (1_000, 1_000, 1_000, 0)
        );
        assert_eq!(
            t.m.desk_alerts.last(),
            Some(&DeskAlert::CashWithoutShift {
                desk: DESK.to_owned(),
                amount: 1_000
            })
        );
        assert_eq!(t.send(100, open("o1", "Ana", 500)), Outcome::Applied);
        assert_eq!(t.open_shift().operations, 0);
        // In the shift, beside a ticket sold.
        assert_eq!(t.sell(120, 1, 5_000), Outcome::Applied);
        assert_eq!(t.deposit(150, "d2", 800), Outcome::Applied);
        assert_eq!(t.withdraw(160, "w1", 300), Outcome::Applied);
        let s = t.open_shift();
        assert_eq!(
            (s.cash_in, s.cash_out, s.operations, s.expected()),
            (5_800, 300, 3, 6_000)
        );
        // Refused (the funds, W-3; the KYC limit, W-8), repeated (W-2, a retry under the
        // same tx with another event id) or conflicting: the drawer moves not.
        let (desk, outputs) = (t.desk(), t.m.shifts.len());
        assert_eq!(
            t.withdraw(170, "w2", 1_800),
            Outcome::Refused("insufficient_funds")
        );
        assert_eq!(
            t.withdraw(171, "w3", 2_500),
            Outcome::Refused("kyc_required")
        );
        assert_eq!(t.deposit(175, "d2", 800), Outcome::Repeat);
        assert_eq!(t.deposit(176, "d2", 801), Outcome::Refused("tx_conflict"));
        assert_eq!((t.desk(), t.m.shifts.len()), (desk, outputs));
        // Closed as expected; a deposit dated inside it read after the close revises it.
        assert_eq!(t.send(200, close("k1", 6_000)), Outcome::Applied);
        assert_eq!(t.alerts("shift_variance"), 0);
        assert_eq!(t.deposit(190, "d3", 250), Outcome::Applied);
        let s = t.closed(1);
        assert_eq!(
            (s.cash_in, s.revision, s.operations, s.variance()),
            (6_050, 1, 4, Some(-250))
        );
        let row = t.m.shifts.last().unwrap();
        assert_eq!(
            (row.op, row.hall.as_str(), row.time, &row.shift),
            ("revise", HALL, START_MS + 190, &s)
        );
        assert_eq!(t.alerts("shift_variance"), 1);
        // At the close's instant: no shift covers it.
        assert_eq!(t.withdraw(200, "w4", 100), Outcome::Applied);
        assert_eq!(
            t.m.desk_alerts.last(),
            Some(&DeskAlert::CashWithoutShift {
                desk: DESK.to_owned(),
                amount: -100
            })
        );
        let d = t.desk();
        assert_eq!(
            (d.cash_in, d.cash_out, d.wallet_in, d.wallet_out),
            (7_050, 400, 2_050, 400)
        );
        assert_eq!((d.unshifted_in, d.unshifted_out), (1_000, 100));
        let w = t.wallet();
        assert_eq!(
            (
                w.deposits,
                w.desk_deposits,
                w.withdrawals,
                w.desk_withdrawals
            ),
            (2_050, 2_050, 400, 400)
        );
        assert_eq!(w.balance, 1_650);
        // D-9: the tickets sold are the desk's cash in less its wallet cash.
        assert!(t.m.desk_books().is_empty(), "{:?}", t.m.desk_books());
        // The same operation delivered again is booked once, wallet cash included.
        let before = t.desk();
        let hall = HALL.to_owned();
        t.m.desk_wallet_cash(DESK, &hall, START_MS + 150, &before.booked[2], (99, true));
        assert_eq!(t.desk(), before);
    }

    /// D-10 with D-3: wallet cash read before the `shift_open` of a shift that opens at or
    /// before its time is taken by it at its opening, like a ticket's; it stays the desk's
    /// wallet cash. A deposit delivered again (the same message) is a wallet repeat: no
    /// second booking.
    #[test]
    fn wallet_cash_read_before_the_opening_is_taken_by_the_shift() {
        let mut t = T::cage();
        assert_eq!(t.deposit(300, "d1", 1_000), Outcome::Applied);
        assert_eq!(t.withdraw(310, "w1", 400), Outcome::Applied);
        let again = t.env(2, false, 240, deposit_of("d2", 50));
        assert_eq!(t.m.apply(&again, None), Outcome::Applied);
        assert_eq!(t.m.apply(&again, None), Outcome::Repeat);
        let d = t.desk();
        assert_eq!((d.unshifted_in, d.unshifted_out), (1_050, 400));
        assert_eq!(d.unshifted_ops.len(), 3);
        assert_eq!(t.alerts("desk_cash_without_shift"), 3);
        assert_eq!(t.send(250, open("o1", "Ana", 100)), Outcome::Applied);
        let s = t.open_shift();
        assert_eq!(
            (s.cash_in, s.cash_out, s.operations, s.expected()),
            (1_000, 400, 2, 700)
        );
        assert_eq!(t.m.shifts.last().unwrap().shift, s);
        let d = t.desk();
        assert_eq!((d.unshifted_in, d.unshifted_out), (50, 0));
        assert_eq!(
            (d.cash_in, d.cash_out, d.wallet_in, d.wallet_out),
            (1_050, 400, 1_050, 400)
        );
        assert_eq!(t.alerts("desk_cash_without_shift"), 3);
        assert!(t.m.desk_books().is_empty(), "{:?}", t.m.desk_books());
    }

    /// D-10: only a listed desk's applied deposits and withdrawals move a drawer: not a
    /// payment provider's, not a desk's that is not listed, not a bet under a listed desk's
    /// id, not a refused one (a blocked player's, a self-excluded player's deposit, one
    /// beyond the deposit limit); a self-excluded player's withdrawal is paid (W-9).
    #[test]
    fn refused_and_unlisted_wallet_cash_moves_no_drawer() {
        let mut t = T::cage();
        let player = || PLAYER.to_owned();
        assert_eq!(
            t.wallet_from("PSP-1", 10, deposit_of("p1", 5_000)),
            Outcome::Applied
        );
        assert_eq!(
            t.wallet_from("CAGE-09", 11, deposit_of("c1", 5_000)),
            Outcome::Applied
        );
        assert_eq!(
            t.wallet_from("CAGE-09", 12, withdrawal_of("c2", 100)),
            Outcome::Applied
        );
        // Reading: D-10 names deposits and withdrawals; a bet under a desk's id is no cash.
        let bet = InputPayload::WalletBet {
            player: player(),
            tx: "b1".to_owned(),
            amount: 100,
            currency: CURRENCY.to_owned(),
            round: None,
        };
        assert_eq!(t.wallet_from(DESK, 13, bet), Outcome::Applied);
        let kyc = |tx: &str, status: &str| InputPayload::KycStatus {
            player: player(),
            tx: tx.to_owned(),
            status: status.to_owned(),
        };
        assert_eq!(
            t.wallet_from("KYC-1", 20, kyc("k1", "blocked")),
            Outcome::Applied
        );
        assert_eq!(t.deposit(21, "d1", 100), Outcome::Refused("player_blocked"));
        assert_eq!(
            t.withdraw(22, "w1", 100),
            Outcome::Refused("player_blocked")
        );
        assert_eq!(
            t.wallet_from("KYC-1", 30, kyc("k2", "verified")),
            Outcome::Applied
        );
        let exclusion = InputPayload::SelfExclusion {
            player: player(),
            tx: "x1".to_owned(),
            until: START_MS + 10_000,
        };
        assert_eq!(t.wallet_from("RG-1", 31, exclusion), Outcome::Applied);
        assert_eq!(t.deposit(40, "d2", 100), Outcome::Refused("self_excluded"));
        assert!(t.m.desks().is_empty(), "{:?}", t.m.desks());
        assert_eq!(t.withdraw(41, "w2", 500), Outcome::Applied);
        let limit = InputPayload::DepositLimit {
            player: player(),
            tx: "l1".to_owned(),
            period: "day".to_owned(),
            amount: Some(10_000),
            currency: Some(CURRENCY.to_owned()),
        };
        assert_eq!(t.wallet_from("RG-1", 20_000, limit), Outcome::Applied);
        assert_eq!(
            t.deposit(20_001, "d3", 1),
            Outcome::Refused("limit_deposit")
        );
        let d = t.desk();
        assert_eq!(
            (d.cash_in, d.cash_out, d.wallet_in, d.wallet_out),
            (0, 500, 0, 500)
        );
        assert_eq!((d.unshifted_out, d.next), (500, 0));
        let w = t.wallet();
        assert_eq!(
            (
                w.deposits,
                w.desk_deposits,
                w.withdrawals,
                w.desk_withdrawals
            ),
            (10_000, 0, 600, 500)
        );
        assert!(t.m.desk_books().is_empty(), "{:?}", t.m.desk_books());
    }

    /// D-10 with D: a desk's hall is its commands' `source.hall`; wallet cash from another
    /// hall that revises a shift gets the desk's hall in the revision's output. A desk no
    /// command reached takes the hall the wallet forwards.
    #[test]
    fn a_revision_by_wallet_cash_names_the_desks_hall() {
        let mut t = T::cage();
        assert_eq!(t.send(100, open("o1", "Ana", 0)), Outcome::Applied);
        assert_eq!(t.send(200, close("k1", 0)), Outcome::Applied);
        let mut e = t.env(2, false, 150, deposit_of("d1", 300));
        e.source.hall = "H-09".to_owned();
        assert_eq!(t.m.apply(&e, None), Outcome::Applied);
        let row = t.m.shifts.last().unwrap();
        assert_eq!((row.op, row.hall.as_str()), ("revise", HALL));
        assert_eq!(t.m.desks[DESK].hall.as_deref(), Some(HALL));
        t.m.cfg.cash_desks.insert("CAGE-09".to_owned());
        let mut e = t.env(2, false, 150, deposit_of("d2", 300));
        e.source.hall = "H-09".to_owned();
        e.source.server = Some("CAGE-09".to_owned());
        assert_eq!(t.m.apply(&e, None), Outcome::Applied);
        assert_eq!(t.m.desks["CAGE-09"].hall.as_deref(), Some("H-09"));
        assert_eq!(t.m.desks()["CAGE-09"].unshifted_in, 300);
    }

    /// E-1 for desk commands, both versions.
    #[test]
    fn desk_commands_that_are_not_events_are_rejected() {
        let mut t = T::new();
        for (p, code) in [
            (open("o1", "", 0), "malformed"),
            (open("o1", "   ", 0), "malformed"),
            (open("o1", &"x".repeat(65), 0), "malformed"),
            (open("o1", "Ana", -1), "invalid_amount"),
            (open("o1", "Ana", 1_000_000_000_001), "invalid_amount"),
            (open("o 1", "Ana", 0), "invalid_id"),
            (fill("f1", 0), "invalid_amount"),
            (credit("c1", -5), "invalid_amount"),
            (close("k1", -1), "invalid_amount"),
        ] {
            assert_eq!(t.send(0, p), Outcome::Rejected(code));
        }
        let mut eur = open("o1", "Ana", 0);
        if let InputPayload::ShiftOpen { currency, .. } = &mut eur {
            *currency = "eur".to_owned();
        }
        assert_eq!(t.send(0, eur), Outcome::Rejected("invalid_currency"));
        let e = t.env(2, true, 0, open("o1", "Ana", 0));
        assert_eq!(t.m.apply(&e, None), Outcome::Rejected("invalid_source"));
        assert!(t.m.desks().is_empty());
        // 64 bytes, not all spaces, in version 1: a shift; an empty drawer is counted 0.
        let name = format!(" {}", "É".repeat(31)) + " ";
        assert_eq!(name.len(), 64);
        let e = t.env(1, false, 0, open("o1", &name, 0));
        assert_eq!(t.m.apply(&e, None), Outcome::Applied);
        assert_eq!(t.send(1, close("k1", 0)), Outcome::Applied);
        assert_eq!(t.closed(1).cashier, name);
    }
}
