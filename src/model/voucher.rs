//! The V rules: one voucher per validation number, issued once, held for one redeemer at a
//! time, redeemed, expired or voided once; commands answered once (V-7); machine facts
//! counted, never refused (V-2, V-5).
//!
//! Read from `RULES.md` section V alone. Where the text leaves a choice open, the reading
//! taken is said where it is applied (and listed in the module's tests' comments):
//! - a lapse (V-6) is booked when the message's time is at or after the hold's end or the
//!   expiry (a hold "until" a time is over at that time, as a voucher that "expires 30 days
//!   after" its issue is expired at that moment);
//! - a repeat and a conflicting repeat (V-7) apply nothing, so they book no lapse either;
//! - `wrong_currency` on a redemption is the last check, as V-3 lists it; on a desk's issue
//!   it follows `voucher_exists` (the state is checked first, as in V-3);
//! - a void of a held voucher is `voucher_pending_elsewhere` whoever holds it (V-6: "held:
//!   `voucher_pending_elsewhere`").

use super::state::Model;
use super::tickets::{Answered, Early, Fact, Status, Voucher};
use super::types::{Outcome, VOUCHER_ANSWERS_KEPT, VOUCHER_FACTS_KEPT};
use super::validate::{Party, VoucherEvent, VoucherOpModel};

/// The answers a voucher remembers (V-7), oldest first: the sender (`machine <id>`, `desk
/// <id>`), the tx, and the refusal's code (`None`: applied).
pub type VoucherAnswers = Vec<(String, String, Option<&'static str>)>;

impl Model {
    /// Every voucher's remembered answers (V-7), by validation number.
    pub fn voucher_answers(&self) -> std::collections::BTreeMap<String, VoucherAnswers> {
        self.vouchers
            .iter()
            .map(|(n, v)| {
                let answers = v
                    .answers
                    .iter()
                    .map(|a| (a.party.text(), a.tx.clone(), a.answer.err()))
                    .collect();
                (n.clone(), answers)
            })
            .collect()
    }

    /// Counts a voucher alert, among all alerts and among the vouchers' own.
    fn voucher_alert(&mut self, code: &'static str) {
        self.alert(code);
        *self.voucher_alerts.entry(code).or_default() += 1;
    }

    /// V-6: before a message is applied at `now`, a hold whose time has passed is released
    /// (alerted), then an issued voucher whose expiry has passed expires; a held voucher
    /// does not expire while its hold lasts.
    fn voucher_lapse(&mut self, number: &str, now: i64) {
        let v = self.vouchers.get_mut(number).expect("the voucher exists");
        let mut released = false;
        if let Status::Held { until, .. } = v.status {
            // Reading: the hold is over at its end time (see the module's comment).
            if now >= until {
                v.status = Status::Issued;
                released = true;
            }
        }
        if v.status == Status::Issued {
            if let Some(at) = v.expires {
                if now >= at {
                    v.status = Status::Expired;
                    v.books.expired += v.amount;
                }
            }
        }
        if released {
            self.voucher_alert("voucher_hold_released");
        }
    }

    /// A voucher command (V-2..V-4, V-6), answered once (V-7).
    pub(super) fn apply_voucher(&mut self, ev: VoucherEvent) -> Outcome {
        let v = self
            .vouchers
            .entry(ev.validation.clone())
            .or_insert_with(Voucher::new);
        // V-7: (validation number, sender, tx) identifies the command; the same content is a
        // repeat (the first answer again, nothing changes), other content a conflict.
        if let Some(first) = v
            .answers
            .iter()
            .find(|a| a.party == ev.party && a.tx == ev.tx)
        {
            return if first.op == ev.op && first.currency == ev.currency {
                Outcome::Repeat
            } else {
                Outcome::Refused("tx_conflict")
            };
        }
        self.voucher_lapse(&ev.validation, ev.time);
        let answer = self.voucher_command(&ev);
        let v = self.vouchers.get_mut(&ev.validation).expect("exists");
        v.answers.push_back(Answered {
            party: ev.party.clone(),
            tx: ev.tx.clone(),
            op: ev.op.clone(),
            currency: ev.currency.clone(),
            answer,
        });
        while v.answers.len() > VOUCHER_ANSWERS_KEPT {
            v.answers.pop_front();
        }
        // D-3: a desk's sale or payment applied moves its drawer's cash, at the command's
        // event time, under its event id.
        if let (Ok(()), Party::Desk(desk)) = (answer, &ev.party) {
            let moved = match ev.op {
                VoucherOpModel::Issue(a) => Some((a, true)),
                VoucherOpModel::Commit => Some((v.amount, false)),
                _ => None,
            };
            if let Some((amount, cash_in)) = moved {
                self.desk_cash(desk, ev.time, &ev.id, amount, cash_in);
            }
        }
        match answer {
            Ok(()) => Outcome::Applied,
            Err(code) => Outcome::Refused(code),
        }
    }

    /// What a new command does: `Err` is its refusal's code.
    fn voucher_command(&mut self, ev: &VoucherEvent) -> Result<(), &'static str> {
        let network = self.cfg.currency.clone();
        let hold_ms = self.cfg.voucher_hold_ms;
        let home_only = self
            .vouchers
            .get(&ev.validation)
            .and_then(|v| v.hall.as_ref())
            .is_some_and(|h| self.cfg.voucher_home_only_halls.contains(h));
        let expires = self.cfg.voucher_expiry(&ev.hall, ev.time);
        let wrong_currency = ev.currency.as_ref().is_some_and(|c| *c != network);
        let v = self.vouchers.get_mut(&ev.validation).expect("exists");
        let held_by_sender = matches!(&v.status, Status::Held { by, .. } if *by == ev.party);
        match &ev.op {
            // V-2: a desk sells a ticket under a number not yet in use.
            VoucherOpModel::Issue(a) => {
                if v.status != Status::Unissued {
                    return Err("voucher_exists");
                }
                // E-4 (reading: after the state, as in V-3).
                if wrong_currency {
                    return Err("wrong_currency");
                }
                v.issue(*a, &ev.hall, ev.party.clone(), expires);
                v.books.sold += a;
                // V-5: a machine's credit read before this sale redeems it.
                match v.redeem_early() {
                    Early::None => {}
                    Early::Redeemed { variance } => {
                        if variance {
                            self.voucher_alert("voucher_amount_variance");
                        }
                    }
                    Early::Overflow => return Err("overflow"),
                }
            }
            // V-3, in its order.
            VoucherOpModel::Redeem(a) => {
                if let Some(code) = v.status.closed_code() {
                    return Err(code);
                }
                if matches!(&v.status, Status::Held { .. }) && !held_by_sender {
                    return Err("voucher_pending_elsewhere");
                }
                if *a != v.amount {
                    return Err("voucher_amount_mismatch");
                }
                if home_only && v.hall.as_deref() != Some(ev.hall.as_str()) {
                    return Err("voucher_wrong_hall");
                }
                if wrong_currency {
                    return Err("wrong_currency");
                }
                // A new hold, or the holder's renewed; no money moves.
                v.status = Status::Held {
                    by: ev.party.clone(),
                    until: ev.time.saturating_add(hold_ms),
                };
            }
            // V-4: only the holder commits or cancels.
            VoucherOpModel::Commit | VoucherOpModel::Cancel => {
                if !held_by_sender {
                    return Err(if v.status == Status::Redeemed {
                        "voucher_already_redeemed"
                    } else {
                        "voucher_not_held"
                    });
                }
                if ev.op == VoucherOpModel::Commit {
                    v.status = Status::Redeemed;
                    v.books.paid += v.amount;
                } else {
                    v.status = Status::Issued;
                }
            }
            // V-6: only an issued voucher is voided; otherwise refused as in V-3.
            VoucherOpModel::Void(_) => {
                if let Some(code) = v.status.closed_code() {
                    return Err(code);
                }
                if matches!(&v.status, Status::Held { .. }) {
                    return Err("voucher_pending_elsewhere");
                }
                v.status = Status::Voided;
                v.books.voided += v.amount;
            }
        }
        Ok(())
    }

    /// A machine's ticket fact (V-2 printed, V-5 credited), after the machine applied its
    /// event: counted whatever the voucher's state; what it contradicts is recorded on the
    /// voucher and alerted.
    pub(super) fn voucher_fact(
        &mut self,
        number: &str,
        machine: &str,
        hall: &str,
        booked: i64,
        cause: &str,
        fact: Fact,
    ) {
        let expires = self.cfg.voucher_expiry(hall, booked);
        let v = self
            .vouchers
            .entry(number.to_owned())
            .or_insert_with(Voucher::new);
        // V-7: a fact already applied (its input event kept) is not applied twice.
        if v.facts.iter().any(|f| f == cause) {
            return;
        }
        self.voucher_lapse(number, booked);
        let me = Party::Machine(machine.to_owned());
        let v = self.vouchers.get_mut(number).expect("exists");
        let mut alerts: Vec<&'static str> = Vec::new();
        match fact {
            Fact::Printed(a) => {
                self.ticket_books.0 += a;
                if v.status == Status::Unissued {
                    v.issue(a, hall, me, expires);
                    v.books.printed += a;
                    // V-5: a ticket-in read before this print is redeemed by it.
                    match v.redeem_early() {
                        Early::None => {}
                        Early::Redeemed { variance } => {
                            if variance {
                                alerts.push("voucher_amount_variance");
                            }
                        }
                        Early::Overflow => return self.voucher_overflow(),
                    }
                } else {
                    // A number in use: counted at the machine, owed nothing new.
                    let Some(sum) = v.reprinted.checked_add(a) else {
                        return self.voucher_overflow();
                    };
                    v.reprinted = sum;
                    alerts.push("voucher_number_reused");
                }
            }
            Fact::Credited(a) => {
                self.ticket_books.1 += a;
                if v.status.open() {
                    if !matches!(&v.status, Status::Held { by, .. } if *by == me) {
                        alerts.push("voucher_redeemed_without_hold");
                    }
                    if a != v.amount {
                        let Some(sum) = v.unbacked.checked_add(a - v.amount) else {
                            return self.voucher_overflow();
                        };
                        v.unbacked = sum;
                        alerts.push("voucher_amount_variance");
                    }
                    v.status = Status::Redeemed;
                    v.books.credited += v.amount;
                } else {
                    // Never issued, redeemed, expired or voided: nothing owed pays it.
                    let Some(sum) = v.unbacked.checked_add(a) else {
                        return self.voucher_overflow();
                    };
                    v.unbacked = sum;
                    if v.status == Status::Unissued && v.early.is_none() {
                        // V-5: its print may still come.
                        v.early = Some((machine.to_owned(), a));
                    }
                    alerts.push("voucher_credit_unbacked");
                }
            }
        }
        v.facts.push_back(cause.to_owned());
        while v.facts.len() > VOUCHER_FACTS_KEPT {
            v.facts.pop_front();
        }
        for code in alerts {
            self.voucher_alert(code);
        }
    }

    /// E-5: a voucher total that would overflow is not counted.
    fn voucher_overflow(&mut self) {
        self.alert("overflow");
        *self.refusals.entry("overflow").or_default() += 1;
        *self.voucher_refusals.entry("overflow").or_default() += 1;
    }
}
