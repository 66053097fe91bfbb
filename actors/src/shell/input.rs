//! What the ingest side hands the runtime: an input event already decoded, validated and
//! turned into a domain command for one entity.

use crate::domain::desk::{DeskCommand, DeskMeta};
use crate::domain::machine::{EventMeta, MachineCommand};
use crate::domain::voucher::{VoucherCommand, VoucherMeta};
use crate::domain::wallet::{WalletCommand, WalletMeta};
use crate::domain::{Currency, HallId, MachineId, PlayerId, ServerId, ValidationNo};

/// A validated input event addressed to one entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// An event of a machine.
    Machine {
        machine: MachineId,
        /// The hall the source says it stands in.
        hall: HallId,
        /// Event id, sequence number, event time.
        meta: EventMeta,
        cmd: MachineCommand,
        /// The currency of the event's amount, if it carries one.
        currency: Option<Currency>,
    },
    /// A wallet command of an online game server (or cash desk).
    Wallet {
        player: PlayerId,
        /// Event id, event time, hall (brand).
        meta: WalletMeta,
        cmd: WalletCommand,
        /// The currency of the amount (`None`: the command names no amount, RULES.md W-8).
        currency: Option<Currency>,
    },
    /// A voucher command (RULES.md V-2..V-6).
    Voucher {
        validation: ValidationNo,
        /// Event id, event time, the sender's hall.
        meta: VoucherMeta,
        cmd: VoucherCommand,
        /// The currency of the amount (`None`: the command names no amount).
        currency: Option<Currency>,
    },
    /// A cash desk's shift command (RULES.md D-1, D-2, D-4).
    Desk {
        desk: ServerId,
        /// Event id, event time, the desk's hall.
        meta: DeskMeta,
        cmd: DeskCommand,
        currency: Currency,
    },
}

impl Input {
    pub fn event_id(&self) -> crate::domain::EventId {
        match self {
            Input::Machine { meta, .. } => meta.event_id,
            Input::Wallet { meta, .. } => meta.event_id,
            Input::Voucher { meta, .. } => meta.event_id,
            Input::Desk { meta, .. } => meta.event_id,
        }
    }
}
