//! The voucher (TITO ticket) state machine: one per validation number (RULES.md V).
//!
//! A voucher is money the house owes whoever holds the ticket: its *liability*. It enters by
//! an issue (a machine printed it, a fact; or a cash desk sold it, a command) and leaves
//! exactly once: redeemed (at a machine, a fact; or paid at a desk, a command), expired or
//! voided. Redemption is two-phase: a request holds the voucher for one redeemer, which then
//! commits (the money moves) or cancels (the voucher is open again); a hold never committed
//! lapses after the policy's hold time.
//!
//! Commands are answered (V-7: a repeat gets the first answer, the same key with other
//! content is a conflict); machine facts are counted, and what they contradict is a variance
//! recorded on the voucher and alerted (V-5), never refused. Time is the event time of the
//! message being applied: expiry and lapsed holds are booked when the voucher is next
//! touched at or after their time, at their own time (V-6).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use super::desk::{CashDir, DeskCash};
use super::error::DomainError;
use super::ids::{EventId, HallId, MachineId, ServerId, TxId, ValidationNo};
use super::kinds::{Total, VoucherOpKind, VoucherRefusal};
use super::machine::Alert;
pub use super::machine::VoucherFact;
use super::money::{add, Amount, Currency};
use super::time::Timestamp;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// Commands answered that a voucher keeps, newest last (V-7). A voucher is asked a handful of
/// times in its life; a flood of refused requests forgets its oldest answers first.
pub const ANSWERS_KEPT: usize = 32;

/// Machine facts a voucher keeps the cause of, to apply a redelivered fact once (V-7).
pub const FACTS_KEPT: usize = 16;

/// Who issues, holds or redeems a voucher.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// A machine (ticket out, ticket in).
    Machine(MachineId),
    /// A cash desk (or another server: the back office that voids).
    Desk(ServerId),
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Party::Machine(m) => write!(f, "machine {m}"),
            Party::Desk(d) => write!(f, "desk {d}"),
        }
    }
}

/// What a voucher command asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoucherOp {
    /// A desk sells a ticket for this amount (V-2).
    Issue(Amount),
    /// Hold the voucher for the sender, who names the amount the ticket shows (V-3).
    Redeem(Amount),
    /// Pay the voucher the sender holds (a desk; a machine commits by its ticket-in, V-4).
    Commit,
    /// Release the sender's hold: the ticket was returned (V-4).
    Cancel,
    /// An operator voids an open voucher, with the reason (V-6).
    Void(String),
}

impl VoucherOp {
    /// Which operation, without its content.
    pub fn kind(&self) -> VoucherOpKind {
        match self {
            VoucherOp::Issue(_) => VoucherOpKind::Issue,
            VoucherOp::Redeem(_) => VoucherOpKind::Redeem,
            VoucherOp::Commit => VoucherOpKind::Commit,
            VoucherOp::Cancel => VoucherOpKind::Cancel,
            VoucherOp::Void(_) => VoucherOpKind::Void,
        }
    }
}

/// A voucher command: an operation under the sender's transaction id (the key, V-7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoucherCommand {
    pub party: Party,
    pub tx: TxId,
    pub op: VoucherOp,
}

/// What the envelope tells the voucher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoucherMeta {
    /// The input event.
    pub event_id: EventId,
    /// Event time (a machine fact: its booked time).
    pub time: Timestamp,
    /// The hall the sender stands in.
    pub hall: HallId,
}

/// The network's voucher policy (the `[vouchers]` configuration), passed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoucherPolicy {
    /// Days a voucher stays redeemable after its issue (0: never expires).
    pub expiry_days: u32,
    /// Halls with their own expiry (days).
    pub hall_expiry_days: BTreeMap<HallId, u32>,
    /// How long a redemption hold lasts, in milliseconds.
    pub hold_ms: i64,
    /// Halls whose vouchers are redeemed only in the hall itself.
    pub home_only: BTreeSet<HallId>,
}

impl Default for VoucherPolicy {
    /// 30 days, a 60 s hold, redeemable anywhere.
    fn default() -> Self {
        Self {
            expiry_days: 30,
            hall_expiry_days: BTreeMap::new(),
            hold_ms: 60_000,
            home_only: BTreeSet::new(),
        }
    }
}

impl VoucherPolicy {
    /// When a voucher issued at `at` in `hall` expires (V-6), if it does.
    pub fn expires(&self, hall: &HallId, at: Timestamp) -> Option<Timestamp> {
        let days = self
            .hall_expiry_days
            .get(hall)
            .copied()
            .unwrap_or(self.expiry_days);
        (days > 0).then(|| Timestamp(at.0.saturating_add(i64::from(days) * DAY_MS)))
    }
}

/// Where a voucher stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoucherStatus {
    /// Never issued (a voucher answers requests for unknown numbers too).
    Unissued,
    /// Open: liability.
    Issued,
    /// Held for one redeemer until a time (still liability).
    Held { by: Party, until: Timestamp },
    /// Paid out.
    Redeemed { by: Party, at: Timestamp },
    /// Expired unredeemed (booked at its expiry time).
    Expired { at: Timestamp },
    /// Voided by an operator.
    Voided { at: Timestamp, reason: String },
}

impl VoucherStatus {
    /// The stable text (outputs, the store, the API).
    pub fn name(&self) -> &'static str {
        match self {
            VoucherStatus::Unissued => "unissued",
            VoucherStatus::Issued => "issued",
            VoucherStatus::Held { .. } => "held",
            VoucherStatus::Redeemed { .. } => "redeemed",
            VoucherStatus::Expired { .. } => "expired",
            VoucherStatus::Voided { .. } => "voided",
        }
    }

    /// Whether the voucher is owed (issued or held).
    pub fn is_open(&self) -> bool {
        matches!(self, VoucherStatus::Issued | VoucherStatus::Held { .. })
    }
}

/// How a voucher came to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Minor units.
    pub amount: i64,
    /// The issuing hall.
    pub hall: HallId,
    /// Who issued it.
    pub by: Party,
    /// Issue time.
    pub at: Timestamp,
    /// Expiry time, if it expires.
    pub expires: Option<Timestamp>,
    /// The input event that issued it.
    pub cause: EventId,
}

/// A machine's ticket-in on a number nobody had issued yet (V-5): kept until the print that
/// issued it arrives, which it then redeems.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlyCredit {
    /// The machine that credited it.
    pub machine: MachineId,
    /// What it credited (minor units).
    pub amount: i64,
    /// When (the machine's booked time).
    pub at: Timestamp,
}

/// A money movement of a voucher's liability (the ledger).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoucherMove {
    Issue,
    Redeem,
    Expire,
    Void,
}

/// What a voucher publishes: an answer, a fact applied, a lapse booked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoucherNote {
    /// What happened.
    pub op: VoucherOpKind,
    /// Who sent it (for a lapse: the holder or the issuer).
    pub party: Party,
    /// The command's transaction id.
    pub tx: Option<TxId>,
    /// The amount the message named (0 when it names none).
    pub amount: i64,
    /// Refused, and why (`None`: applied).
    pub refused: Option<DomainError>,
    /// Where the voucher stands after it.
    pub status: &'static str,
    /// The voucher's amount and issuing hall, once issued.
    pub voucher: Option<(i64, HallId)>,
    /// The input event that caused it (for a repeat, the first one).
    pub cause: EventId,
    /// The time it was booked at.
    pub time: Timestamp,
}

/// A command answered, as remembered (V-7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    pub party: Party,
    pub tx: TxId,
    /// The content: the operation and the currency.
    pub op: VoucherOp,
    pub currency: Currency,
    /// The answer as published.
    pub note: VoucherNote,
}

/// Something the voucher's actor must do after an apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoucherEffect {
    /// The liability moved (the ledger): signed change, liability after.
    Moved {
        kind: VoucherMove,
        delta: i64,
        liability: i64,
        time: Timestamp,
    },
    /// Publish on the voucher topic.
    Note(VoucherNote),
    /// An alert for the operators.
    Alert(Alert),
    /// Cash a desk took or paid for this voucher (RULES.md D-3), for the desk to book.
    Desk(ServerId, DeskCash),
}

/// The voucher's reply, for the caller's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Applied.
    Done,
    /// A repeat: nothing changed.
    Repeat,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoucherState {
    pub number: ValidationNo,
    /// The network's currency (E-4).
    pub currency: Currency,
    /// How it was issued (`None` while unissued).
    pub issue: Option<Issue>,
    pub status: VoucherStatus,
    /// Money machines credited on this number that no open voucher covered (V-5).
    pub unbacked: i64,
    /// Money machines printed under this number after it was in use (V-5).
    pub reprinted: i64,
    /// The first credit on this number while it was unissued, waiting for its print (V-5).
    pub early: Option<EarlyCredit>,
    /// Causes of the machine facts applied, oldest first (at most [`FACTS_KEPT`]).
    pub facts: VecDeque<EventId>,
    /// Commands answered, oldest first (at most [`ANSWERS_KEPT`]).
    pub answered: VecDeque<Answered>,
}

impl VoucherState {
    /// A voucher nobody has issued yet.
    pub fn new(number: ValidationNo, currency: Currency) -> Self {
        Self {
            number,
            currency,
            issue: None,
            status: VoucherStatus::Unissued,
            unbacked: 0,
            reprinted: 0,
            early: None,
            facts: VecDeque::new(),
            answered: VecDeque::new(),
        }
    }

    /// The voucher's amount (0 while unissued).
    pub fn amount(&self) -> i64 {
        self.issue.as_ref().map_or(0, |i| i.amount)
    }

    /// What the house owes on it: its amount while open, else 0 (V-8).
    pub fn liability(&self) -> i64 {
        if self.status.is_open() {
            self.amount()
        } else {
            0
        }
    }

    fn refusal(&self, refusal: VoucherRefusal, detail: String) -> DomainError {
        DomainError::Voucher {
            refusal,
            validation: self.number.to_string(),
            detail,
        }
    }

    fn note(
        &self,
        op: VoucherOpKind,
        party: Party,
        amount: i64,
        meta: &VoucherMeta,
        time: Timestamp,
    ) -> VoucherNote {
        VoucherNote {
            op,
            party,
            tx: None,
            amount,
            refused: None,
            status: self.status.name(),
            voucher: self.issue.as_ref().map(|i| (i.amount, i.hall.clone())),
            cause: meta.event_id,
            time,
        }
    }

    fn moved(&self, kind: VoucherMove, delta: i64, time: Timestamp) -> VoucherEffect {
        VoucherEffect::Moved {
            kind,
            delta,
            liability: self.liability(),
            time,
        }
    }

    /// V-5: a voucher just issued (for `a`, at `t`) that a machine credited before its issue
    /// was read (a ticket-in and its print reach the voucher from different partitions) is
    /// redeemed by that credit at once, as if the credit came after: the credit leaves
    /// `unbacked` but for what it differed from the voucher (alerted as a variance).
    fn redeem_early(
        &mut self,
        a: i64,
        t: Timestamp,
        fx: &mut Vec<VoucherEffect>,
    ) -> Result<(), DomainError> {
        let Some(early) = self.early.take() else {
            return Ok(());
        };
        self.unbacked = add(self.unbacked, -a, Total::VoucherVariance)?;
        if early.amount != a {
            fx.push(VoucherEffect::Alert(Alert::VoucherAmountVariance {
                machine: early.machine.clone(),
                validation: self.number,
                voucher: a,
                credited: early.amount,
            }));
        }
        self.status = VoucherStatus::Redeemed {
            by: Party::Machine(early.machine),
            at: t,
        };
        fx.push(self.moved(VoucherMove::Redeem, -a, t));
        Ok(())
    }

    /// V-6: books what has lapsed by `now`: a hold past its time is released (an alert),
    /// then an open voucher past its expiry expires (a movement), each at its own time.
    fn lapse(&mut self, meta: &VoucherMeta, fx: &mut Vec<VoucherEffect>) {
        let now = meta.time;
        if let VoucherStatus::Held { by, until } = &self.status {
            if now >= *until {
                let (by, until) = (by.clone(), *until);
                self.status = VoucherStatus::Issued;
                fx.push(VoucherEffect::Alert(Alert::VoucherHoldReleased {
                    validation: self.number,
                    holder: by.to_string(),
                    machine: match &by {
                        Party::Machine(m) => Some(m.clone()),
                        Party::Desk(_) => None,
                    },
                    amount: self.amount(),
                }));
                fx.push(VoucherEffect::Note(self.note(
                    VoucherOpKind::Release,
                    by,
                    0,
                    meta,
                    until,
                )));
            }
        }
        let Some(issue) = &self.issue else { return };
        if let (VoucherStatus::Issued, Some(at)) = (&self.status, issue.expires) {
            if now >= at {
                let (amount, by) = (issue.amount, issue.by.clone());
                self.status = VoucherStatus::Expired { at };
                fx.push(self.moved(VoucherMove::Expire, -amount, at));
                fx.push(VoucherEffect::Note(self.note(
                    VoucherOpKind::Expire,
                    by,
                    0,
                    meta,
                    at,
                )));
            }
        }
    }

    /// When something of this voucher lapses next, if anything does (V-6): a hold's end,
    /// else an open voucher's expiry. The sweep books it then ([`VoucherState::apply_lapse`]).
    pub fn next_lapse(&self) -> Option<Timestamp> {
        match &self.status {
            VoucherStatus::Held { until, .. } => Some(*until),
            VoucherStatus::Issued => self.issue.as_ref().and_then(|i| i.expires),
            _ => None,
        }
    }

    /// V-6, the sweep: books what has lapsed by `meta.time` (a hold's end, an expiry), as
    /// the voucher's next message would, for a voucher nobody touches again. `meta.time` is
    /// the time it lapsed at, so applying it again, or after a message that booked it
    /// already, changes nothing ([`Reply::Repeat`]).
    pub fn apply_lapse(&mut self, meta: &VoucherMeta, fx: &mut Vec<VoucherEffect>) -> Reply {
        let before = fx.len();
        self.lapse(meta, fx);
        if fx.len() == before {
            Reply::Repeat
        } else {
            Reply::Done
        }
    }

    /// Applies a fact a machine reported (V-2 printed, V-5 credited). Counted whatever the
    /// voucher's state; a contradiction is a variance and an alert. A fact already applied
    /// (its cause kept) changes nothing.
    pub fn apply_fact(
        &mut self,
        meta: &VoucherMeta,
        fact: &VoucherFact,
        policy: &VoucherPolicy,
        fx: &mut Vec<VoucherEffect>,
    ) -> Result<Reply, DomainError> {
        if self.facts.contains(&meta.event_id) {
            return Ok(Reply::Repeat);
        }
        self.lapse(meta, fx);
        let t = meta.time;
        let (op, machine, amount) = match fact {
            VoucherFact::Printed(machine, a) => {
                let a = a.minor();
                if self.status == VoucherStatus::Unissued {
                    self.issue = Some(Issue {
                        amount: a,
                        hall: meta.hall.clone(),
                        by: Party::Machine(machine.clone()),
                        at: t,
                        expires: policy.expires(&meta.hall, t),
                        cause: meta.event_id,
                    });
                    self.status = VoucherStatus::Issued;
                    fx.push(self.moved(VoucherMove::Issue, a, t));
                    self.redeem_early(a, t, fx)?;
                } else {
                    self.reprinted = add(self.reprinted, a, Total::VoucherVariance)?;
                    fx.push(VoucherEffect::Alert(Alert::VoucherNumberReused {
                        machine: machine.clone(),
                        validation: self.number,
                        amount: a,
                        status: self.status.name(),
                    }));
                }
                (VoucherOpKind::Printed, machine, a)
            }
            VoucherFact::Credited(machine, a) => {
                let a = a.minor();
                let me = Party::Machine(machine.clone());
                if self.status.is_open() {
                    let amount = self.amount();
                    let holder = match &self.status {
                        VoucherStatus::Held { by, .. } => Some(by.clone()),
                        _ => None,
                    };
                    if holder.as_ref() != Some(&me) {
                        fx.push(VoucherEffect::Alert(Alert::VoucherRedeemedWithoutHold {
                            machine: machine.clone(),
                            validation: self.number,
                            amount: a,
                            holder: holder.map(|h| h.to_string()),
                        }));
                    }
                    if a != amount {
                        self.unbacked = add(self.unbacked, a - amount, Total::VoucherVariance)?;
                        fx.push(VoucherEffect::Alert(Alert::VoucherAmountVariance {
                            machine: machine.clone(),
                            validation: self.number,
                            voucher: amount,
                            credited: a,
                        }));
                    }
                    self.status = VoucherStatus::Redeemed { by: me, at: t };
                    fx.push(self.moved(VoucherMove::Redeem, -amount, t));
                } else {
                    self.unbacked = add(self.unbacked, a, Total::VoucherVariance)?;
                    if self.status == VoucherStatus::Unissued && self.early.is_none() {
                        // V-5: its print may still come (read late from another partition).
                        self.early = Some(EarlyCredit {
                            machine: machine.clone(),
                            amount: a,
                            at: t,
                        });
                    }
                    fx.push(VoucherEffect::Alert(Alert::VoucherCreditUnbacked {
                        machine: machine.clone(),
                        validation: self.number,
                        amount: a,
                        status: self.status.name(),
                    }));
                }
                (VoucherOpKind::Credited, machine, a)
            }
        };
        self.facts.push_back(meta.event_id);
        while self.facts.len() > FACTS_KEPT {
            self.facts.pop_front();
        }
        fx.push(VoucherEffect::Note(self.note(
            op,
            Party::Machine(machine.clone()),
            amount,
            meta,
            t,
        )));
        Ok(Reply::Done)
    }

    /// Applies a command (V-2..V-4, V-6, V-7); `currency` is the command's (the voucher's own
    /// when it names no amount). Every command gets a [`VoucherEffect::Note`]
    /// (its answer) except a conflicting repeat, returned as `Err` (`tx_conflict`); a
    /// refusal is an answer too (`Ok`, with the refusal in the note).
    pub fn apply(
        &mut self,
        meta: &VoucherMeta,
        cmd: &VoucherCommand,
        currency: Currency,
        policy: &VoucherPolicy,
        fx: &mut Vec<VoucherEffect>,
    ) -> Result<Reply, DomainError> {
        if let Some(first) = self
            .answered
            .iter()
            .find(|a| a.party == cmd.party && a.tx == cmd.tx)
        {
            if first.op == cmd.op && first.currency == currency {
                fx.push(VoucherEffect::Note(first.note.clone()));
                return Ok(Reply::Repeat);
            }
            return Err(DomainError::VoucherTxConflict {
                party: cmd.party.to_string(),
                tx: cmd.tx.to_string(),
                validation: self.number.to_string(),
            });
        }
        self.lapse(meta, fx);
        let outcome = self.apply_new(meta, cmd, currency, policy, fx);
        let amount = match &cmd.op {
            VoucherOp::Issue(a) | VoucherOp::Redeem(a) => a.minor(),
            _ => 0,
        };
        let mut note = self.note(cmd.op.kind(), cmd.party.clone(), amount, meta, meta.time);
        note.tx = Some(cmd.tx.clone());
        note.refused = outcome.err();
        self.answered.push_back(Answered {
            party: cmd.party.clone(),
            tx: cmd.tx.clone(),
            op: cmd.op.clone(),
            currency,
            note: note.clone(),
        });
        while self.answered.len() > ANSWERS_KEPT {
            self.answered.pop_front();
        }
        fx.push(VoucherEffect::Note(note));
        Ok(Reply::Done)
    }

    /// Why a voucher that is not open cannot be redeemed, held or voided.
    fn closed(&self) -> Option<DomainError> {
        let (r, detail) = match &self.status {
            VoucherStatus::Unissued => (VoucherRefusal::Unknown, "was never issued".to_string()),
            VoucherStatus::Redeemed { by, .. } => (
                VoucherRefusal::AlreadyRedeemed,
                format!("was already redeemed by {by}"),
            ),
            VoucherStatus::Expired { at } => {
                (VoucherRefusal::Expired, format!("expired at {} ms", at.0))
            }
            VoucherStatus::Voided { reason, .. } => {
                (VoucherRefusal::Voided, format!("was voided: {reason}"))
            }
            VoucherStatus::Issued | VoucherStatus::Held { .. } => return None,
        };
        Some(self.refusal(r, detail))
    }

    /// E-4: a command's amount is in the network's currency (checked after the voucher's
    /// own reasons, V-2, V-3).
    fn currency(&self, currency: Currency) -> Result<(), DomainError> {
        if currency == self.currency {
            return Ok(());
        }
        Err(DomainError::WrongCurrency {
            entity: super::error::Subject::Voucher(self.number.to_string()),
            expected: self.currency.to_string(),
            got: currency.to_string(),
        })
    }

    /// Applies a command never answered before: `Err` is its refusal.
    fn apply_new(
        &mut self,
        meta: &VoucherMeta,
        cmd: &VoucherCommand,
        currency: Currency,
        policy: &VoucherPolicy,
        fx: &mut Vec<VoucherEffect>,
    ) -> Result<(), DomainError> {
        let t = meta.time;
        let held_by_me = matches!(&self.status, VoucherStatus::Held { by, .. } if *by == cmd.party);
        match &cmd.op {
            VoucherOp::Issue(a) => {
                if self.status != VoucherStatus::Unissued {
                    return Err(self.refusal(
                        VoucherRefusal::Exists,
                        format!("is already {}", self.status.name()),
                    ));
                }
                self.currency(currency)?;
                self.issue = Some(Issue {
                    amount: a.minor(),
                    hall: meta.hall.clone(),
                    by: cmd.party.clone(),
                    at: t,
                    expires: policy.expires(&meta.hall, t),
                    cause: meta.event_id,
                });
                self.status = VoucherStatus::Issued;
                fx.push(self.moved(VoucherMove::Issue, a.minor(), t));
                if let Party::Desk(desk) = &cmd.party {
                    // D-3: the player paid the desk for the ticket.
                    fx.push(VoucherEffect::Desk(
                        desk.clone(),
                        DeskCash {
                            dir: CashDir::In,
                            amount: a.minor(),
                        },
                    ));
                }
                self.redeem_early(a.minor(), t, fx)?;
            }
            VoucherOp::Redeem(a) => {
                if let Some(e) = self.closed() {
                    return Err(e);
                }
                if let VoucherStatus::Held { by, .. } = &self.status {
                    if !held_by_me {
                        return Err(self.refusal(
                            VoucherRefusal::PendingElsewhere,
                            format!("is held by {by}"),
                        ));
                    }
                }
                let issue = self.issue.as_ref().expect("an open voucher was issued");
                if a.minor() != issue.amount {
                    return Err(self.refusal(
                        VoucherRefusal::AmountMismatch,
                        format!("is for {}, not {}", issue.amount, a.minor()),
                    ));
                }
                if policy.home_only.contains(&issue.hall) && meta.hall != issue.hall {
                    return Err(self.refusal(
                        VoucherRefusal::WrongHall,
                        format!(
                            "is redeemable only in hall {}, not {}",
                            issue.hall, meta.hall
                        ),
                    ));
                }
                self.currency(currency)?;
                // A new hold, or the holder's hold renewed (a retry with a new tx).
                self.status = VoucherStatus::Held {
                    by: cmd.party.clone(),
                    until: Timestamp(t.0.saturating_add(policy.hold_ms.max(0))),
                };
            }
            VoucherOp::Commit | VoucherOp::Cancel => {
                if !held_by_me {
                    if let Some(
                        e @ DomainError::Voucher {
                            refusal: VoucherRefusal::AlreadyRedeemed,
                            ..
                        },
                    ) = self.closed()
                    {
                        return Err(e);
                    }
                    return Err(self.refusal(
                        VoucherRefusal::NotHeld,
                        format!("is {}, not held by {}", self.status.name(), cmd.party),
                    ));
                }
                if cmd.op == VoucherOp::Commit {
                    let amount = self.amount();
                    self.status = VoucherStatus::Redeemed {
                        by: cmd.party.clone(),
                        at: t,
                    };
                    fx.push(self.moved(VoucherMove::Redeem, -amount, t));
                    if let Party::Desk(desk) = &cmd.party {
                        // D-3: the desk paid the ticket.
                        fx.push(VoucherEffect::Desk(
                            desk.clone(),
                            DeskCash {
                                dir: CashDir::Out,
                                amount,
                            },
                        ));
                    }
                } else {
                    self.status = VoucherStatus::Issued;
                }
            }
            VoucherOp::Void(reason) => {
                if let Some(e) = self.closed() {
                    return Err(e);
                }
                if let VoucherStatus::Held { by, .. } = &self.status {
                    return Err(
                        self.refusal(VoucherRefusal::PendingElsewhere, format!("is held by {by}"))
                    );
                }
                let amount = self.amount();
                self.status = VoucherStatus::Voided {
                    at: t,
                    reason: reason.clone(),
                };
                fx.push(self.moved(VoucherMove::Void, -amount, t));
            }
        }
        Ok(())
    }

    /// Checks the voucher's invariants; panics on a broken one.
    pub fn assert_invariants(&self) {
        assert_eq!(
            self.issue.is_none(),
            self.status == VoucherStatus::Unissued,
            "voucher {}: issued iff not unissued",
            self.number
        );
        assert!(self.amount() >= 0);
        assert!(
            self.reprinted >= 0,
            "voucher {}: reprinted below 0",
            self.number
        );
        assert!(
            self.early.is_none() || self.status == VoucherStatus::Unissued,
            "voucher {}: an early credit waits only while unissued",
            self.number
        );
        assert!(self.answered.len() <= ANSWERS_KEPT);
        assert!(self.facts.len() <= FACTS_KEPT);
    }
}
