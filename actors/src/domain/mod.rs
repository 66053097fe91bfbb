//! The pure domain core: state machines for machines, wallets, jackpot pools and hall GGR.
//!
//! Architecture invariant: nothing in this module (or below it) imports actix, tokio, a
//! Kafka or database client, reads a clock or draws randomness. Time arrives in the commands,
//! randomness through [`jackpot::HitPointSource`]. `tests/domain/architecture.rs` checks the
//! imports.

pub mod aml;
pub mod applied;
pub mod bonus;
pub mod desk;
pub mod error;
pub mod ggr;
pub mod ids;
pub mod jackpot;
pub mod kinds;
pub mod limits;
pub mod machine;
pub mod money;
pub mod time;
pub mod transfer;
pub mod voucher;
pub mod wallet;

pub use applied::Applied;
pub use error::{DomainError, SessionError, Subject};
pub use ggr::GgrDelta;
pub use kinds::{
    EntityKind, HandpayKind, IdKind, KycStatus, LogCode, MachineOp, ReportedMeter, SnapshotReason,
    Total, VoucherOpKind, VoucherRefusal, WalletOpKind,
};

/// The hash map of domain states: foldhash instead of SipHash. Profiling showed SipHash of
/// string ids as the largest cost of applying GGR deltas and contributions; foldhash is
/// several times faster and still seeded per process (no fixed collision pattern).
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub use ids::{
    AttendantId, Carried, EventId, HallId, MachineId, PlayerId, PoolId, RoundId, ServerId,
    SourceKey, TxId, ValidationNo,
};
pub use money::{Amount, Currency};
pub use time::{SkewLimits, Timestamp};
