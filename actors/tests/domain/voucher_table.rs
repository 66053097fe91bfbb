//! The voucher state machine, rule by rule (RULES.md V): each test names the rule it holds.

use pitboss_actors::domain::machine::Alert;
use pitboss_actors::domain::voucher::{
    Party, Reply, VoucherCommand, VoucherEffect, VoucherFact, VoucherMeta, VoucherMove, VoucherOp,
    VoucherPolicy, VoucherState, VoucherStatus,
};
use pitboss_actors::domain::{
    Amount, Currency, DomainError, EventId, HallId, MachineId, ServerId, Timestamp, TxId,
    ValidationNo, VoucherOpKind,
};

const DAY: i64 = 86_400_000;

fn eur() -> Currency {
    Currency::new("EUR").unwrap()
}

fn number() -> ValidationNo {
    ValidationNo::new("001234567890123456").unwrap()
}

fn m(id: &str) -> Party {
    Party::Machine(MachineId::new(id).unwrap())
}

fn desk(id: &str) -> Party {
    Party::Desk(ServerId::new(id).unwrap())
}

fn meta(n: u128, time: i64, hall: &str) -> VoucherMeta {
    VoucherMeta {
        event_id: EventId(n),
        time: Timestamp(time),
        hall: HallId::new(hall).unwrap(),
    }
}

fn cmd(party: Party, tx: &str, op: VoucherOp) -> VoucherCommand {
    VoucherCommand {
        party,
        tx: TxId::new(tx).unwrap(),
        op,
    }
}

fn amount(a: i64) -> Amount {
    Amount::new(a).unwrap()
}

fn printed(machine: &str, a: i64) -> VoucherFact {
    VoucherFact::Printed(MachineId::new(machine).unwrap(), amount(a))
}

fn credited(machine: &str, a: i64) -> VoucherFact {
    VoucherFact::Credited(MachineId::new(machine).unwrap(), amount(a))
}

struct T {
    v: VoucherState,
    policy: VoucherPolicy,
    fx: Vec<VoucherEffect>,
}

impl T {
    fn new() -> Self {
        Self {
            v: VoucherState::new(number(), eur()),
            policy: VoucherPolicy::default(),
            fx: Vec::new(),
        }
    }

    fn fact(&mut self, meta: VoucherMeta, fact: VoucherFact) -> Reply {
        self.fx.clear();
        let r = self.v.apply_fact(&meta, &fact, &self.policy, &mut self.fx);
        self.v.assert_invariants();
        r.unwrap()
    }

    fn command(&mut self, meta: VoucherMeta, c: VoucherCommand) -> Result<Reply, DomainError> {
        self.fx.clear();
        let r = self.v.apply(&meta, &c, eur(), &self.policy, &mut self.fx);
        self.v.assert_invariants();
        r
    }

    /// The refusal code of the command's answer (`None`: applied).
    fn answer(&mut self, meta: VoucherMeta, c: VoucherCommand) -> Option<&'static str> {
        self.command(meta, c).unwrap();
        let note = self
            .fx
            .iter()
            .rev()
            .find_map(|e| match e {
                VoucherEffect::Note(n) if n.tx.is_some() => Some(n.clone()),
                _ => None,
            })
            .expect("every command is answered");
        note.refused.map(|e| e.code())
    }

    fn moves(&self) -> Vec<(VoucherMove, i64, i64)> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                VoucherEffect::Moved {
                    kind,
                    delta,
                    liability,
                    ..
                } => Some((*kind, *delta, *liability)),
                _ => None,
            })
            .collect()
    }

    fn alerts(&self) -> Vec<&'static str> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                VoucherEffect::Alert(a) => Some(a.code()),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn v2_a_printed_ticket_issues_the_voucher_and_a_second_print_of_the_number_owes_nothing() {
    let mut t = T::new();
    assert_eq!(
        t.fact(meta(1, 1_000, "H-1"), printed("M-1", 2_500)),
        Reply::Done
    );
    assert_eq!(t.v.status, VoucherStatus::Issued);
    assert_eq!(t.v.liability(), 2_500);
    assert_eq!(t.moves(), vec![(VoucherMove::Issue, 2_500, 2_500)]);
    let issue = t.v.issue.clone().unwrap();
    assert_eq!(issue.hall.as_str(), "H-1");
    assert_eq!(issue.expires, Some(Timestamp(1_000 + 30 * DAY)));
    // The same fact delivered again: applied once.
    assert_eq!(
        t.fact(meta(1, 1_000, "H-1"), printed("M-1", 2_500)),
        Reply::Repeat
    );
    assert!(t.fx.is_empty());
    // Another machine prints the same number: counted there, owed once.
    t.fact(meta(2, 2_000, "H-2"), printed("M-9", 700));
    assert_eq!(t.v.liability(), 2_500);
    assert_eq!(t.v.reprinted, 700);
    assert!(t.moves().is_empty());
    assert_eq!(t.alerts(), vec!["voucher_number_reused"]);
}

#[test]
fn v2_a_desk_issues_once_and_a_second_issue_is_refused() {
    let mut t = T::new();
    let issue = cmd(desk("D-1"), "t1", VoucherOp::Issue(amount(10_000)));
    assert_eq!(t.answer(meta(1, 0, "H-1"), issue), None);
    assert_eq!(t.moves(), vec![(VoucherMove::Issue, 10_000, 10_000)]);
    let again = cmd(desk("D-2"), "t9", VoucherOp::Issue(amount(10_000)));
    assert_eq!(t.answer(meta(2, 0, "H-1"), again), Some("voucher_exists"));
    assert_eq!(t.v.liability(), 10_000);
}

#[test]
fn v3_requests_are_refused_in_the_order_the_rules_give() {
    let mut t = T::new();
    let req = |who: Party, tx: &str, a: i64| cmd(who, tx, VoucherOp::Redeem(amount(a)));
    assert_eq!(
        t.answer(meta(1, 0, "H-1"), req(m("M-2"), "r1", 100)),
        Some("voucher_unknown")
    );
    t.fact(meta(2, 10, "H-1"), printed("M-1", 100));
    assert_eq!(
        t.answer(meta(3, 20, "H-1"), req(m("M-2"), "r2", 101)),
        Some("voucher_amount_mismatch")
    );
    assert_eq!(t.answer(meta(4, 30, "H-1"), req(m("M-2"), "r3", 100)), None);
    assert!(matches!(t.v.status, VoucherStatus::Held { .. }));
    assert_eq!(t.v.liability(), 100, "a hold moves no money");
    assert_eq!(
        t.answer(meta(5, 40, "H-1"), req(desk("D-1"), "r4", 100)),
        Some("voucher_pending_elsewhere")
    );
    // The holder asks again (a retry under a new tx): its hold is renewed.
    assert_eq!(t.answer(meta(6, 50, "H-1"), req(m("M-2"), "r5", 100)), None);
    assert_eq!(
        t.v.status,
        VoucherStatus::Held {
            by: m("M-2"),
            until: Timestamp(50 + 60_000)
        }
    );
    t.fact(meta(7, 60, "H-1"), credited("M-2", 100));
    assert_eq!(
        t.answer(meta(8, 70, "H-1"), req(desk("D-1"), "r6", 100)),
        Some("voucher_already_redeemed")
    );
}

#[test]
fn v3_a_home_only_halls_tickets_are_refused_elsewhere() {
    let mut t = T::new();
    t.policy.home_only.insert(HallId::new("H-1").unwrap());
    t.fact(meta(1, 0, "H-1"), printed("M-1", 500));
    let req = cmd(m("M-7"), "r1", VoucherOp::Redeem(amount(500)));
    assert_eq!(t.answer(meta(2, 1, "H-2"), req), Some("voucher_wrong_hall"));
    let req = cmd(m("M-3"), "r1", VoucherOp::Redeem(amount(500)));
    assert_eq!(t.answer(meta(3, 2, "H-1"), req), None);
}

#[test]
fn v4_a_desk_commits_what_it_holds_and_a_cancel_opens_the_voucher_again() {
    let mut t = T::new();
    t.fact(meta(1, 0, "H-1"), printed("M-1", 4_000));
    let commit = cmd(desk("D-1"), "c0", VoucherOp::Commit);
    assert_eq!(
        t.answer(meta(2, 1, "H-1"), commit),
        Some("voucher_not_held")
    );
    let req = cmd(desk("D-1"), "r1", VoucherOp::Redeem(amount(4_000)));
    assert_eq!(t.answer(meta(3, 2, "H-1"), req), None);
    let cancel_other = cmd(desk("D-2"), "x1", VoucherOp::Cancel);
    assert_eq!(
        t.answer(meta(4, 3, "H-1"), cancel_other),
        Some("voucher_not_held")
    );
    let cancel = cmd(desk("D-1"), "x2", VoucherOp::Cancel);
    assert_eq!(t.answer(meta(5, 4, "H-1"), cancel), None);
    assert_eq!(t.v.status, VoucherStatus::Issued);
    assert!(t.moves().is_empty());
    let req = cmd(desk("D-1"), "r2", VoucherOp::Redeem(amount(4_000)));
    assert_eq!(t.answer(meta(6, 5, "H-1"), req), None);
    let commit = cmd(desk("D-1"), "c1", VoucherOp::Commit);
    assert_eq!(t.answer(meta(7, 6, "H-1"), commit), None);
    assert_eq!(t.moves(), vec![(VoucherMove::Redeem, -4_000, 0)]);
    assert_eq!(
        t.v.status,
        VoucherStatus::Redeemed {
            by: desk("D-1"),
            at: Timestamp(6)
        }
    );
    let commit = cmd(desk("D-1"), "c2", VoucherOp::Commit);
    assert_eq!(
        t.answer(meta(8, 7, "H-1"), commit),
        Some("voucher_already_redeemed")
    );
}

#[test]
fn v5_a_machines_ticket_in_is_counted_whatever_the_voucher_says() {
    // Held for it: redeemed, no alert.
    let mut t = T::new();
    t.fact(meta(1, 0, "H-1"), printed("M-1", 900));
    let req = cmd(m("M-2"), "r1", VoucherOp::Redeem(amount(900)));
    t.answer(meta(2, 1, "H-1"), req);
    t.fact(meta(3, 2, "H-1"), credited("M-2", 900));
    assert_eq!(t.moves(), vec![(VoucherMove::Redeem, -900, 0)]);
    assert!(t.alerts().is_empty());
    // Credited again elsewhere: nothing is owed to pay it.
    t.fact(meta(4, 3, "H-1"), credited("M-5", 900));
    assert!(t.moves().is_empty());
    assert_eq!(t.v.unbacked, 900);
    assert_eq!(t.alerts(), vec!["voucher_credit_unbacked"]);

    // Open and not held for it, for another amount: redeemed, both alerted.
    let mut t = T::new();
    t.fact(meta(1, 0, "H-1"), printed("M-1", 900));
    let req = cmd(desk("D-1"), "r1", VoucherOp::Redeem(amount(900)));
    t.answer(meta(2, 1, "H-1"), req);
    t.fact(meta(3, 2, "H-1"), credited("M-2", 1_000));
    assert_eq!(t.moves(), vec![(VoucherMove::Redeem, -900, 0)]);
    assert_eq!(t.v.unbacked, 100);
    assert_eq!(
        t.alerts(),
        vec!["voucher_redeemed_without_hold", "voucher_amount_variance"]
    );
    let Some(VoucherEffect::Alert(Alert::VoucherRedeemedWithoutHold { holder, .. })) =
        t.fx.iter().find(|e| matches!(e, VoucherEffect::Alert(_)))
    else {
        panic!("{:?}", t.fx)
    };
    assert_eq!(holder.as_deref(), Some("desk D-1"));
    // The desk that held it cannot pay it now.
    let commit = cmd(desk("D-1"), "c1", VoucherOp::Commit);
    assert_eq!(
        t.answer(meta(4, 3, "H-1"), commit),
        Some("voucher_already_redeemed")
    );

    // Never issued: the whole amount is unbacked.
    let mut t = T::new();
    t.fact(meta(1, 0, "H-1"), credited("M-2", 300));
    assert_eq!(t.v.status, VoucherStatus::Unissued);
    assert_eq!(t.v.unbacked, 300);
    assert_eq!(t.alerts(), vec!["voucher_credit_unbacked"]);
}

#[test]
fn v5_a_ticket_in_read_before_its_print_is_redeemed_by_the_print() {
    // The credit first (read ahead from another partition): unbacked, kept as early.
    let mut t = T::new();
    t.fact(meta(1, 0, "H-1"), credited("M-2", 500));
    assert_eq!(t.v.unbacked, 500);
    assert_eq!(t.alerts(), vec!["voucher_credit_unbacked"]);
    // A second credit before the print stays unbacked: a ticket is paid once.
    t.fact(meta(2, 1, "H-1"), credited("M-3", 500));
    assert_eq!(t.v.unbacked, 1_000);
    // The print: issued, then redeemed by the first credit's machine; liability 0.
    t.fact(meta(3, 2, "H-1"), printed("M-1", 500));
    assert_eq!(
        t.moves(),
        vec![
            (VoucherMove::Issue, 500, 500),
            (VoucherMove::Redeem, -500, 0)
        ]
    );
    assert!(t.alerts().is_empty(), "{:?}", t.fx);
    assert_eq!(t.v.unbacked, 500, "only the second credit is unbacked");
    assert_eq!(t.v.early, None);
    assert!(matches!(
        &t.v.status,
        VoucherStatus::Redeemed { by, at } if *by == m("M-2") && *at == Timestamp(2)
    ));
    assert_eq!(t.v.liability(), 0);

    // Another amount credited than printed: the difference stays, alerted.
    let mut t = T::new();
    t.fact(meta(1, 0, "H-1"), credited("M-2", 700));
    t.fact(meta(2, 1, "H-1"), printed("M-1", 500));
    assert_eq!(t.v.unbacked, 200);
    assert_eq!(t.alerts(), vec!["voucher_amount_variance"]);

    // A desk's sale read after the credit is redeemed by it the same way.
    let mut t = T::new();
    t.fact(meta(1, 0, "H-1"), credited("M-2", 400));
    let sale = cmd(desk("D-1"), "s1", VoucherOp::Issue(amount(400)));
    assert_eq!(t.answer(meta(2, 1, "H-1"), sale), None);
    assert_eq!(
        t.moves(),
        vec![
            (VoucherMove::Issue, 400, 400),
            (VoucherMove::Redeem, -400, 0)
        ]
    );
    assert_eq!(t.v.unbacked, 0);
}

#[test]
fn v6_expiry_is_booked_at_its_own_time_when_the_voucher_is_next_touched() {
    let mut t = T::new();
    t.policy
        .hall_expiry_days
        .insert(HallId::new("H-1").unwrap(), 1);
    t.fact(meta(1, 1_000, "H-1"), printed("M-1", 600));
    let req = cmd(m("M-2"), "r1", VoucherOp::Redeem(amount(600)));
    assert_eq!(
        t.answer(meta(2, 1_000 + 2 * DAY, "H-1"), req),
        Some("voucher_expired")
    );
    assert_eq!(t.moves(), vec![(VoucherMove::Expire, -600, 0)]);
    let Some(VoucherEffect::Moved { time, .. }) = t.fx.first() else {
        panic!("{:?}", t.fx)
    };
    assert_eq!(*time, Timestamp(1_000 + DAY), "booked at the expiry time");
    assert!(t.fx.iter().any(|e| matches!(
        e,
        VoucherEffect::Note(n) if n.op == VoucherOpKind::Expire
    )));
    // 0 days: never expires.
    let mut t = T::new();
    t.policy.expiry_days = 0;
    t.fact(meta(1, 0, "H-3"), printed("M-1", 600));
    assert_eq!(t.v.issue.as_ref().unwrap().expires, None);
}

#[test]
fn v6_a_lapsed_hold_is_released_with_an_alert_and_a_held_voucher_waits_for_it_to_expire() {
    let mut t = T::new();
    t.policy
        .hall_expiry_days
        .insert(HallId::new("H-1").unwrap(), 1);
    t.fact(meta(1, 0, "H-1"), printed("M-1", 600));
    // Held just before the expiry.
    let req = cmd(desk("D-1"), "r1", VoucherOp::Redeem(amount(600)));
    assert_eq!(t.answer(meta(2, DAY - 10, "H-1"), req), None);
    // Past the expiry but within the hold: still held; the desk pays it.
    let other = cmd(desk("D-2"), "r2", VoucherOp::Redeem(amount(600)));
    assert_eq!(
        t.answer(meta(3, DAY + 10, "H-1"), other),
        Some("voucher_pending_elsewhere")
    );
    // After the hold: released (an alert), then expired.
    let other = cmd(desk("D-2"), "r3", VoucherOp::Redeem(amount(600)));
    assert_eq!(
        t.answer(meta(4, DAY + 120_000, "H-1"), other),
        Some("voucher_expired")
    );
    assert_eq!(t.alerts(), vec!["voucher_hold_released"]);
    assert_eq!(t.moves(), vec![(VoucherMove::Expire, -600, 0)]);
}

/// V-6, the sweep: a lapse sent at the time something lapses books what the voucher's next
/// message would have (a hold released, then an expiry at its own time), and nothing when
/// sent again or too early.
#[test]
fn v6_the_sweeps_lapse_books_what_the_next_message_would_and_only_once() {
    let mut t = T::new();
    t.policy
        .hall_expiry_days
        .insert(HallId::new("H-1").unwrap(), 1);
    t.fact(meta(1, 0, "H-1"), printed("M-1", 600));
    let req = cmd(desk("D-1"), "r1", VoucherOp::Redeem(amount(600)));
    assert_eq!(t.answer(meta(2, DAY - 10, "H-1"), req), None);
    let hold_end = DAY - 10 + t.policy.hold_ms;
    assert_eq!(t.v.next_lapse(), Some(Timestamp(hold_end)));
    let lapse = |t: &mut T, n: u128, at: i64| {
        t.fx.clear();
        let r = t.v.apply_lapse(&meta(n, at, "H-1"), &mut t.fx);
        t.v.assert_invariants();
        r
    };
    // Too early: nothing.
    assert_eq!(lapse(&mut t, 3, hold_end - 1), Reply::Repeat);
    assert!(t.fx.is_empty());
    // At the hold's end: released; the expiry (passed meanwhile) is at the hold's end too.
    assert_eq!(lapse(&mut t, 4, hold_end), Reply::Done);
    assert_eq!(t.alerts(), vec!["voucher_hold_released"]);
    assert_eq!(t.moves(), vec![(VoucherMove::Expire, -600, 0)]);
    let Some(VoucherEffect::Moved { time, .. }) =
        t.fx.iter()
            .find(|e| matches!(e, VoucherEffect::Moved { .. }))
    else {
        panic!("{:?}", t.fx)
    };
    assert_eq!(*time, Timestamp(DAY), "booked at the expiry time");
    assert_eq!(t.v.next_lapse(), None);
    // Sent again: nothing.
    assert_eq!(lapse(&mut t, 4, hold_end), Reply::Repeat);
    assert!(t.fx.is_empty());

    // An issued voucher lapses at its expiry: the same movement as a late touch books.
    let mut t = T::new();
    t.policy
        .hall_expiry_days
        .insert(HallId::new("H-1").unwrap(), 1);
    t.fact(meta(1, 1_000, "H-1"), printed("M-1", 600));
    assert_eq!(t.v.next_lapse(), Some(Timestamp(1_000 + DAY)));
    assert_eq!(lapse(&mut t, 2, 1_000 + DAY), Reply::Done);
    assert_eq!(t.moves(), vec![(VoucherMove::Expire, -600, 0)]);
    assert!(t.alerts().is_empty());
    let req = cmd(m("M-2"), "r1", VoucherOp::Redeem(amount(600)));
    assert_eq!(
        t.answer(meta(3, 1_000 + 2 * DAY, "H-1"), req),
        Some("voucher_expired")
    );
    assert!(t.moves().is_empty(), "expired once");
}

#[test]
fn v6_an_operator_voids_an_issued_voucher_only() {
    let mut t = T::new();
    let void = |tx: &str| cmd(desk("BO-1"), tx, VoucherOp::Void("stolen".into()));
    assert_eq!(
        t.answer(meta(1, 0, "H-1"), void("v0")),
        Some("voucher_unknown")
    );
    t.fact(meta(2, 1, "H-1"), printed("M-1", 800));
    let req = cmd(m("M-2"), "r1", VoucherOp::Redeem(amount(800)));
    t.answer(meta(3, 2, "H-1"), req);
    assert_eq!(
        t.answer(meta(4, 3, "H-1"), void("v1")),
        Some("voucher_pending_elsewhere")
    );
    let cancel = cmd(m("M-2"), "x1", VoucherOp::Cancel);
    t.answer(meta(5, 4, "H-1"), cancel);
    assert_eq!(t.answer(meta(6, 5, "H-1"), void("v2")), None);
    assert_eq!(t.moves(), vec![(VoucherMove::Void, -800, 0)]);
    assert_eq!(
        t.answer(meta(7, 6, "H-1"), void("v3")),
        Some("voucher_voided")
    );
    // A ticket-in of a voided voucher is counted at the machine and unbacked here.
    t.fact(meta(8, 7, "H-1"), credited("M-2", 800));
    assert_eq!(t.v.unbacked, 800);
}

#[test]
fn v7_a_repeat_gets_the_first_answer_and_other_content_is_a_conflict() {
    let mut t = T::new();
    t.fact(meta(1, 0, "H-1"), printed("M-1", 500));
    let req = cmd(m("M-2"), "r1", VoucherOp::Redeem(amount(400)));
    assert_eq!(
        t.answer(meta(2, 1, "H-1"), req.clone()),
        Some("voucher_amount_mismatch")
    );
    let first = t.fx.clone();
    // Repeated later, when it would now be answered otherwise: the first answer again.
    assert_eq!(t.command(meta(3, 2, "H-1"), req), Ok(Reply::Repeat));
    assert_eq!(t.fx, first);
    let other = cmd(m("M-2"), "r1", VoucherOp::Redeem(amount(500)));
    let e = t.command(meta(4, 3, "H-1"), other).unwrap_err();
    assert_eq!(e.code(), "tx_conflict");
    assert!(t.fx.is_empty());
    assert_eq!(t.v.status, VoucherStatus::Issued);
}

#[test]
fn v7_a_voucher_keeps_its_newest_answers_only() {
    use pitboss_actors::domain::voucher::ANSWERS_KEPT;
    let mut t = T::new();
    for i in 0..(ANSWERS_KEPT + 5) {
        let req = cmd(m("M-2"), &format!("r{i}"), VoucherOp::Redeem(amount(1)));
        t.answer(meta(i as u128, 0, "H-1"), req);
    }
    assert_eq!(t.v.answered.len(), ANSWERS_KEPT);
    assert_eq!(t.v.answered.front().unwrap().tx.as_str(), "r5");
}

#[test]
fn e4_a_command_in_another_currency_is_refused() {
    let mut t = T::new();
    t.fact(meta(1, 0, "H-1"), printed("M-1", 500));
    let req = cmd(m("M-2"), "r1", VoucherOp::Redeem(amount(500)));
    t.fx.clear();
    let usd = Currency::new("USD").unwrap();
    t.v.apply(&meta(2, 1, "H-1"), &req, usd, &t.policy, &mut t.fx)
        .unwrap();
    let Some(VoucherEffect::Note(n)) = t.fx.last() else {
        panic!("{:?}", t.fx)
    };
    assert_eq!(n.refused.as_ref().map(|e| e.code()), Some("wrong_currency"));
}
