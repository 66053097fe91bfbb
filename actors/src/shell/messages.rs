//! The messages entities receive, and the envelope ([`Remote`]) of those one entity sends
//! another, which may live in another process.

use crate::domain::aml::CashDir;
use crate::domain::desk::{CashSource, DeskCash, DeskCommand, DeskMeta};
use crate::domain::ggr::GgrTotals;
use crate::domain::jackpot::{JackpotHit, PoolCommand, PoolMeta};
use crate::domain::machine::{EventMeta, MachineCommand};
use crate::domain::transfer::TransferFact;
use crate::domain::voucher::{VoucherCommand, VoucherFact, VoucherMeta};
use crate::domain::wallet::{Recalled, WalletCommand, WalletMeta};
use crate::domain::{
    Currency, GgrDelta, HallId, MachineId, PlayerId, PoolId, ServerId, Timestamp, ValidationNo,
};

use crate::shell::ack::AckToken;

pub enum MachineMsg {
    /// An input event.
    Event {
        /// The hall named by the event's source.
        hall: HallId,
        /// Envelope facts.
        meta: EventMeta,
        cmd: MachineCommand,
        /// The amount's currency, if any.
        currency: Option<Currency>,
        /// Completion of the input event.
        ack: AckToken,
    },
    /// A jackpot award from a pool.
    Award {
        hit: JackpotHit,
        /// Completion of the input event that caused it.
        ack: AckToken,
    },
}

impl MachineMsg {
    /// Completion of the input event the message comes from.
    pub fn ack(&self) -> &AckToken {
        match self {
            MachineMsg::Event { ack, .. } | MachineMsg::Award { ack, .. } => ack,
        }
    }
}

pub enum WalletMsg {
    /// A command from the input topic.
    Command {
        /// Envelope facts.
        meta: WalletMeta,
        cmd: WalletCommand,
        /// The amount's currency (`None`: the command names no amount, W-8).
        currency: Option<Currency>,
        /// What the store held for the keys the command needs that were not in the
        /// wallet's memory (filled by the actor before the command is handled).
        recalled: Recalled,
        /// Completion of the input event.
        ack: AckToken,
    },
    /// A machine's word on a cashless transfer (RULES.md W-10), forwarded by the machine:
    /// `meta` is the machine's event (its id, booked time and hall).
    Transfer {
        meta: WalletMeta,
        fact: TransferFact,
        /// Completion of the input event that caused it.
        ack: AckToken,
    },
    /// What a machine tells the wallet about the player's play there (a card-in, points,
    /// cash), forwarded by the machine: `meta` is the machine's event, `seq` the machine's
    /// effect number for it (the wallet counts points and cash once per machine and number;
    /// a card-in's is not used, and the internal topic carries 0 for it).
    Player {
        meta: WalletMeta,
        machine: MachineId,
        seq: u64,
        fact: PlayerFact,
        /// Completion of the input event that caused it.
        ack: AckToken,
    },
    /// The sweep (RULES.md W-10): the holds whose time is before `meta.time` lapse, with
    /// nothing else to apply. `meta.event_id` names the lapse (not an input).
    Lapse { meta: WalletMeta, ack: AckToken },
}

/// What a machine tells a player's wallet about the player's play there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayerFact {
    /// The player's card-in (RULES.md W-9: the wallet knows the self-exclusion).
    CardIn,
    /// A rated session's loyalty points, above 0 (RULES.md M-12).
    Points(i64),
    /// Cash of the carded-in player (RULES.md W-11).
    Cash(i64, CashDir),
}

impl WalletMsg {
    /// Completion of the input event the message comes from.
    pub fn ack(&self) -> &AckToken {
        match self {
            WalletMsg::Command { ack, .. }
            | WalletMsg::Transfer { ack, .. }
            | WalletMsg::Player { ack, .. }
            | WalletMsg::Lapse { ack, .. } => ack,
        }
    }
}

/// A contribution or a claim for a pool.
pub struct PoolMsg {
    /// Who sent it, for deduplication.
    pub meta: PoolMeta,
    pub cmd: PoolCommand,
    /// Completion of the input event.
    pub ack: AckToken,
    /// Commands for the same pool after `cmd`, in order, with the same completion: a record
    /// of the internal topic grouped by pool, applied one by one in one turn of the actor
    /// exactly as that many messages would be (one actix message instead of one per
    /// command). Empty for a command sent alone.
    pub rest: Vec<(PoolMeta, PoolCommand)>,
}

/// Messages for a hall's GGR aggregator.
pub enum HallMsg {
    /// A GGR delta from a machine or wallet.
    Delta(GgrDelta, AckToken),
    /// A delta with its window as the store held it (the window had left memory: RULES.md
    /// H-2); made by the actor from a `Delta`, never sent.
    Recalled(GgrDelta, Option<(GgrTotals, u32)>, AckToken),
    /// Deltas for this hall, in the order their sources sent them, applied one by one in
    /// one turn of the actor exactly as that many `Delta` messages would be (a batch of the
    /// internal topic, grouped by hall: one actix message instead of one per delta).
    Deltas(Vec<GgrDelta>, AckToken),
    /// `Deltas` with the windows the store held for those of them whose window had left
    /// memory; made by the actor from `Deltas`, never sent.
    RecalledDeltas(
        Vec<GgrDelta>,
        Vec<(Timestamp, Option<(GgrTotals, u32)>)>,
        AckToken,
    ),
    /// Loads the hall (its stored outbox waits to be published after the next durable
    /// checkpoint); changes nothing.
    Wake(AckToken),
}

impl HallMsg {
    /// Completion of the input event the message comes from.
    pub fn ack(&self) -> &AckToken {
        match self {
            HallMsg::Delta(_, ack)
            | HallMsg::Recalled(_, _, ack)
            | HallMsg::Deltas(_, ack)
            | HallMsg::RecalledDeltas(_, _, ack)
            | HallMsg::Wake(ack) => ack,
        }
    }
}

/// Messages for a voucher.
pub enum VoucherMsg {
    /// A command of a cash desk, a machine's gateway or the back office (an input event).
    Command {
        meta: VoucherMeta,
        cmd: VoucherCommand,
        /// The amount's currency (`None`: the command names no amount).
        currency: Option<Currency>,
        /// Completion of the input event.
        ack: AckToken,
    },
    /// A ticket a machine printed or credited (RULES.md V-2, V-5), forwarded by the machine.
    Fact {
        meta: VoucherMeta,
        fact: VoucherFact,
        /// Completion of the input event that caused it.
        ack: AckToken,
    },
    /// The sweep (RULES.md V-6): book what has lapsed by `meta.time` (a hold's end, an
    /// expiry) on a voucher nobody touched since. `meta.event_id` names the lapse (the
    /// voucher and its time), so a repeat publishes under the same ids.
    Lapse { meta: VoucherMeta, ack: AckToken },
}

impl VoucherMsg {
    /// Completion of the input event the message comes from.
    pub fn ack(&self) -> &AckToken {
        match self {
            VoucherMsg::Command { ack, .. }
            | VoucherMsg::Fact { ack, .. }
            | VoucherMsg::Lapse { ack, .. } => ack,
        }
    }
}

/// Messages for a cash desk (RULES.md D).
pub enum DeskMsg {
    /// A shift command of the desk (an input event).
    Command {
        meta: DeskMeta,
        cmd: DeskCommand,
        currency: Currency,
        ack: AckToken,
    },
    /// A cash operation a voucher or a wallet applied for the desk (D-3, D-10): the
    /// command's event id and time.
    Cash {
        meta: DeskMeta,
        cash: DeskCash,
        source: CashSource,
        ack: AckToken,
    },
}

impl DeskMsg {
    /// Completion of the input event the message comes from.
    pub fn ack(&self) -> &AckToken {
        match self {
            DeskMsg::Command { ack, .. } | DeskMsg::Cash { ack, .. } => ack,
        }
    }
}

/// A message from one entity to another, which may live in another process.
pub enum Remote {
    /// A contribution or claim for a pool.
    Pool(PoolId, PoolMsg),
    /// A GGR delta for a hall.
    Hall(HallId, HallMsg),
    /// A jackpot award for a machine.
    Machine(MachineId, MachineMsg),
    /// A ticket fact for a voucher.
    Voucher(ValidationNo, VoucherMsg),
    /// A transfer fact for a wallet (RULES.md W-10).
    Wallet(PlayerId, WalletMsg),
    /// A shift command or a cash operation for a desk (RULES.md D).
    Desk(ServerId, DeskMsg),
}

/// Decides where messages between entities go. Without one, every entity is local. With
/// Kafka, pools and halls live with the partitions of internal topics keyed by them, so the
/// router produces these messages to those topics (holding the message's `AckToken` until
/// the broker has them) and the instance owning the partition delivers them.
pub trait EffectRouter: Send + Sync + 'static {
    /// Takes the message if its target lives elsewhere; gives it back if it is local.
    fn route(&self, msg: Remote) -> Option<Remote>;
}
