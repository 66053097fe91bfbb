//! Where outputs go: the [`Output`] an entity emits and the [`EventSink`] port, with the
//! in-memory sinks of tests, the demo and the benchmarks.

use std::sync::Mutex;

use crate::domain::aml::AmlCase;
use crate::domain::desk::ShiftNote;
use crate::domain::ggr::WindowClosed;
use crate::domain::jackpot::JackpotHit;
use crate::domain::machine::{Alert, RatedSession};
use crate::domain::voucher::VoucherNote;
use crate::domain::wallet::TransferSettled;
use crate::domain::{
    Carried, Currency, EventId, PlayerId, PoolId, RoundId, ServerId, TxId, WalletOpKind,
};
use crate::domain::{MachineId, ValidationNo};

use crate::shell::ack::AckToken;

/// One level of a pool as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelView {
    /// Level index.
    pub level: u8,
    pub name: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Hits so far.
    pub hits: u64,
}

/// How a wallet command was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalletStatus {
    /// Applied.
    Applied {
        /// Signed change of the balance.
        delta: i64,
        /// Balance after.
        balance: i64,
        /// The bonus account's change and balance after, once the wallet has had one
        /// (RULES.md W-12).
        bonus: Option<crate::domain::wallet::BonusAnswer>,
    },
    /// Refused.
    Refused {
        /// [`crate::domain::DomainError::code`].
        code: &'static str,
        /// Why, in words.
        reason: String,
    },
}

/// An output event, before it is given its wire form and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A hall's GGR window, published at close (and again, revised, after late events).
    Ggr {
        window: WindowClosed,
        currency: Currency,
    },
    /// Current levels of a pool (throttled).
    JackpotLevels {
        pool: PoolId,
        currency: Currency,
        levels: Vec<LevelView>,
        /// The contributions and claims applied since the previous publication (their latest
        /// names the output's cause, so the load harness can time it).
        carried: Carried,
    },
    /// A jackpot hit (published at once).
    JackpotHit { hit: JackpotHit, currency: Currency },
    /// The answer to a wallet command (RULES.md W-6): every command gets one, a repeat the
    /// first one again (same content, same cause).
    Wallet {
        player: PlayerId,
        /// The sender (`source.server`), part of the key.
        provider: ServerId,
        tx: TxId,
        /// Which operation.
        kind: WalletOpKind,
        /// Applied (signed change, balance after) or refused (code, reason).
        status: WalletStatus,
        /// The command's currency.
        currency: Currency,
        /// The command's round, echoed when it named one (RULES.md E-2).
        round: Option<RoundId>,
        /// The input event that got the answer first.
        cause: EventId,
    },
    /// What happened to a voucher (RULES.md V): a command's answer (a repeat gets the first
    /// one again), a machine's ticket fact applied, an expiry or a lapsed hold booked.
    Voucher {
        validation: ValidationNo,
        /// The voucher's currency.
        currency: Currency,
        note: VoucherNote,
    },
    /// A desk command's answer or a closed shift revised (RULES.md D-7).
    Shift {
        desk: ServerId,
        /// The network's currency.
        currency: Currency,
        note: Box<ShiftNote>,
    },
    /// A case for the compliance officers (RULES.md W-11).
    AmlCase { case: Box<AmlCase> },
    /// What a machine's acknowledgement of a cashless transfer settled in a wallet (RULES.md
    /// W-10), named by the acknowledgement.
    Transfer {
        player: PlayerId,
        /// The wallet's currency.
        currency: Currency,
        settled: Box<TransferSettled>,
        /// The machine's event that acknowledged it.
        cause: EventId,
    },
    /// A card session ended, rated (RULES.md M-12): published once, named by the event
    /// that ended it.
    RatedSession {
        machine: MachineId,
        /// The machine's currency.
        currency: Currency,
        session: Box<RatedSession>,
        /// The event that ended it.
        cause: EventId,
    },
    Alert {
        /// What happened.
        alert: Alert,
        /// The input event.
        cause: EventId,
        /// Position among the alerts of that event (0, 1, ...).
        index: u32,
    },
    /// An input message that could not be decoded or validated.
    Rejected {
        /// Why, in words.
        reason: String,
        /// Why, as a short stable code (a metrics label).
        code: &'static str,
        /// The message's bytes, unchanged.
        original: Vec<u8>,
        /// The message's key.
        key: Option<Vec<u8>>,
        /// Source partition (-1 if not from Kafka).
        partition: i32,
        /// Source offset (-1 if not from Kafka).
        offset: i64,
    },
    /// An input event the core refused (valid on the wire, refused by the rules).
    Refused {
        /// The entity the event addressed (machine or player id).
        entity: String,
        /// Why, as a stable code ([`crate::domain::DomainError::code`]).
        code: &'static str,
        /// Why, in words.
        reason: String,
        /// The input event.
        cause: EventId,
    },
}

/// Where outputs go. `emit` must not block; an implementation that completes later keeps a
/// clone of `ack` until the output is durable (or calls [`AckToken::fail`]).
pub trait EventSink: Send + Sync + 'static {
    fn emit(&self, output: Output, ack: &AckToken);
}

/// A sink that keeps everything in memory (tests, demo).
#[derive(Default)]
pub struct MemorySink {
    outputs: Mutex<Vec<Output>>,
}

impl MemorySink {
    /// Everything emitted so far.
    pub fn outputs(&self) -> Vec<Output> {
        self.outputs.lock().expect("sink lock").clone()
    }

    /// Takes everything emitted so far.
    pub fn take(&self) -> Vec<Output> {
        std::mem::take(&mut *self.outputs.lock().expect("sink lock"))
    }
}

impl EventSink for MemorySink {
    fn emit(&self, output: Output, _ack: &AckToken) {
        self.outputs.lock().expect("sink lock").push(output);
    }
}

/// A sink that counts and drops (benchmarks).
#[derive(Default)]
pub struct NullSink {
    count: std::sync::atomic::AtomicU64,
}

impl NullSink {
    /// Outputs seen.
    pub fn count(&self) -> u64 {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl EventSink for NullSink {
    fn emit(&self, _output: Output, _ack: &AckToken) {
        self.count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
