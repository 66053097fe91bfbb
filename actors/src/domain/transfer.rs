//! Cashless transfers between a player's wallet and a machine (RULES.md W-10, AFT-style).
//!
//! Wallet to machine is two-phase: the wallet service's `transfer_request` holds the amount
//! in the wallet (the balance drops, the hold keeps it), the machine's acknowledgement (its
//! cashless cash-in naming the transfer) commits it, a `transfer_cancel` or the hold's lapse
//! gives it back. Machine to wallet is one fact: the machine's cashless cash-out naming the
//! transfer credits the wallet. The machine is the authority on what it took or sent: the
//! wallet books what the machine reports, and whatever the wallet's funds cannot cover is
//! kept as `unbacked` and alerted, never invented or dropped.

use std::collections::{BTreeMap, VecDeque};

use super::ids::{EventId, MachineId, TxId};
use super::money::Amount;
use super::time::Timestamp;

/// How long a transfer's hold lasts when the configuration does not say: 60 seconds
/// (`runtime.wallet-transfer-hold-secs`).
pub const TRANSFER_HOLD_MS_DEFAULT: i64 = 60_000;

/// How many acknowledged transfers a wallet remembers (to tell a redelivered fact from a
/// second acknowledgement, and a request read after its acknowledgement).
pub const TRANSFERS_DONE_KEPT: usize = 32;

/// Which way a machine says a transfer moved money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The machine took the money in (its cashless cash-in): the wallet pays it.
    ToMachine,
    /// The machine sent its credits out (its cashless cash-out): the wallet receives them.
    FromMachine,
}

impl Direction {
    /// The name on the wire, the internal topic and alerts.
    pub fn name(self) -> &'static str {
        match self {
            Direction::ToMachine => "to_machine",
            Direction::FromMachine => "from_machine",
        }
    }

    /// The direction of a name, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        [Direction::ToMachine, Direction::FromMachine]
            .into_iter()
            .find(|d| d.name() == name)
    }
}

/// What kind of credits a transfer between a wallet and a machine moves (RULES.md W-12, as
/// SAS AFT and G2S name them): the wallet's cash, or its bonus, which the machine takes as
/// restricted promotional credits (M-13). A wallet has no non-restricted credits to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CreditType {
    /// The player's money (the default).
    #[default]
    Cashable,
    /// Bonus money: played only, never cashed out.
    Restricted,
}

impl CreditType {
    /// The name on the wire and the internal topic.
    pub fn name(self) -> &'static str {
        match self {
            CreditType::Cashable => "cashable",
            CreditType::Restricted => "restricted",
        }
    }

    /// The credit type of a name, if it is one a wallet transfer may carry.
    pub fn from_name(name: &str) -> Option<Self> {
        [CreditType::Cashable, CreditType::Restricted]
            .into_iter()
            .find(|c| c.name() == name)
    }

    /// Whether it is the bonus's.
    pub fn is_restricted(self) -> bool {
        self == CreditType::Restricted
    }
}

/// A machine's word on a transfer, forwarded from the machine to the wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferFact {
    /// The transfer id (the wallet service's `tx` of its request).
    pub transfer: TxId,
    /// The machine that moved the money.
    pub machine: MachineId,
    pub direction: Direction,
    /// What the machine moved.
    pub amount: Amount,
    /// Which credits it took (RULES.md W-12; from a machine always cashable).
    pub credit: CreditType,
    /// The machine's effect number for the event (it grows with every event the machine
    /// applies): a machine's facts reach a wallet in this order, so one at or below the
    /// last the wallet applied from that machine is a redelivery, however old. 0: not
    /// numbered (an item written before the number existed), told apart by the newest
    /// acknowledgements alone.
    pub seq: u64,
}

/// Money held in a wallet for a transfer to a machine that has not acknowledged it yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hold {
    pub transfer: TxId,
    pub machine: MachineId,
    /// Minor units.
    pub amount: i64,
    /// Cash or bonus (RULES.md W-12): where it came from and goes back to.
    pub credit: CreditType,
    /// The hold lapses (the money goes back to the balance) at the first message the wallet
    /// applies with a later time.
    pub until: Timestamp,
    /// The request's event: the cause of the alert if the hold lapses, whichever message
    /// finds it lapsed (`None`: a hold stored before it was kept).
    pub cause: Option<EventId>,
}

/// A machine's acknowledgement of a transfer to it that reached the wallet before the
/// transfer's request (RULES.md W-10): it waits for the request until `until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub fact: TransferFact,
    /// The acknowledging event.
    pub event: EventId,
    /// The acknowledgement's time plus the hold time: a message at a later time settles it
    /// without a hold.
    pub until: Timestamp,
}

/// A wallet's transfers in flight and the ones it remembers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transfers {
    /// Holds waiting for their machine, oldest first.
    pub holds: Vec<Hold>,
    /// Acknowledgements waiting for their request, oldest first.
    pub waiting: Vec<Waiting>,
    /// The newest acknowledged transfers, oldest first, with the acknowledging event.
    pub done: VecDeque<(TxId, EventId)>,
    /// Acknowledged to machines beyond what the wallet could pay (W-10): counted at the
    /// machine, owed by nobody, alerted.
    pub unbacked: i64,
    /// Per machine, the effect number of the newest fact applied from it
    /// ([`TransferFact::seq`]): a fact redelivered after a crash, at or below it, is applied
    /// once however many acknowledgements came between.
    pub seen: BTreeMap<MachineId, u64>,
}

impl Transfers {
    /// The money held for transfers in flight.
    pub fn held(&self) -> i64 {
        self.holds.iter().map(|h| h.amount).sum()
    }

    /// True when nothing is held, remembered or unbacked (then the wallet keeps no box).
    pub fn is_empty(&self) -> bool {
        self.holds.is_empty()
            && self.waiting.is_empty()
            && self.done.is_empty()
            && self.unbacked == 0
            && self.seen.is_empty()
    }

    /// The hold of a transfer, removed.
    pub fn take_hold(&mut self, transfer: &TxId) -> Option<Hold> {
        let i = self.holds.iter().position(|h| &h.transfer == transfer)?;
        Some(self.holds.remove(i))
    }

    /// The hold of a transfer of a credit type, removed (RULES.md W-12: a hold pays only an
    /// acknowledgement of its own type).
    pub fn take_hold_of(&mut self, transfer: &TxId, credit: CreditType) -> Option<Hold> {
        let i = self
            .holds
            .iter()
            .position(|h| &h.transfer == transfer && h.credit == credit)?;
        Some(self.holds.remove(i))
    }

    /// Whether a machine's acknowledgement of the transfer was settled.
    pub fn settled(&self, transfer: &TxId) -> bool {
        self.done.iter().any(|(t, _)| t == transfer)
    }

    /// Whether a machine acknowledged the transfer already (settled or waiting).
    pub fn acknowledged(&self, transfer: &TxId) -> bool {
        self.settled(transfer) || self.waiting.iter().any(|w| &w.fact.transfer == transfer)
    }

    /// The acknowledgement of a transfer waiting for its request, removed.
    pub fn take_waiting(&mut self, transfer: &TxId) -> Option<Waiting> {
        let i = self
            .waiting
            .iter()
            .position(|w| &w.fact.transfer == transfer)?;
        Some(self.waiting.remove(i))
    }

    /// The acknowledgements whose wait has passed at `t`, removed, oldest first.
    pub fn waited(&mut self, t: Timestamp) -> Vec<Waiting> {
        take_before(&mut self.waiting, t, |w| w.until)
    }

    /// Whether the fact was applied already: its machine's effect number is at or below the
    /// newest applied from that machine.
    pub fn redelivered(&self, fact: &TransferFact) -> bool {
        fact.seq > 0 && self.seen.get(&fact.machine).is_some_and(|s| fact.seq <= *s)
    }

    /// Remembers an acknowledgement (the oldest beyond [`TRANSFERS_DONE_KEPT`] forgotten).
    pub fn acknowledge(&mut self, transfer: TxId, cause: EventId) {
        self.done.push_back((transfer, cause));
        while self.done.len() > TRANSFERS_DONE_KEPT {
            self.done.pop_front();
        }
    }

    /// The holds whose time has passed at `t`, removed, oldest first.
    pub fn lapsed(&mut self, t: Timestamp) -> Vec<Hold> {
        take_before(&mut self.holds, t, |h| h.until)
    }
}

/// The items of `v` whose time (`until`) is before `t`, removed, in their order.
fn take_before<T>(v: &mut Vec<T>, t: Timestamp, until: impl Fn(&T) -> Timestamp) -> Vec<T> {
    if v.iter().all(|x| until(x) >= t) {
        return Vec::new();
    }
    let (gone, kept) = std::mem::take(v).into_iter().partition(|x| until(x) < t);
    *v = kept;
    gone
}
