//! The actix shells: one actor per machine, wallet, pool and hall, the router that creates
//! them on first use and passivates them when idle, and the ports they use.
//!
//! Shells hold no business rule: they feed the domain state machines, route the effects
//! and hand outputs to the sink. Imports follow the data: the runtime knows the actors and
//! entities; an entity knows only its [`context::EntityContext`] and the messages
//! ([`messages`]) it sends; the generic actor knows only its [`actor::Host`].

pub mod ack;
pub mod actor;
pub mod config;
pub mod context;
pub mod entities;
pub mod input;
pub mod ledger;
pub mod messages;
pub mod ports;
pub mod runtime;

pub use ack::AckToken;
pub use config::{Directory, EntitySettings, HoldOverrides, PoolSpec, RuntimeConfig};
pub use context::{Counter, EntityContext};
pub use entities::{
    DeskEntity, HallEntity, MachineEntity, PoolChange, PoolEntity, VoucherEntity, WalletEntity,
};
pub use input::Input;
pub use messages::{
    DeskMsg, EffectRouter, HallMsg, MachineMsg, PlayerFact, PoolMsg, Remote, VoucherMsg, WalletMsg,
};
pub use ports::{
    Backoff, Clock, EntityKey, EventSink, Failure, HitPointFactory, LedgerEntry, LevelView,
    ManualClock, MemorySink, MemoryStore, Movement, NullSink, Output, Position, Snapshot, Stash,
    StateStore, StoreError, Stored, SystemClock, WalletStatus,
};
pub use runtime::admin::PoolAdminError;
pub use runtime::{Hosted, Runtime, RuntimeStats};
