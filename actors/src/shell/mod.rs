//! The actix shells: one actor per machine, wallet, pool and hall, the router that creates
//! them on first use and passivates them when idle, and the ports they use.
//!
//! Shells hold no business rule: they feed the domain state machines, route the effects
//! and hand outputs to the sink.

pub mod ack;
pub mod actor;
pub mod entities;
pub mod input;
pub mod ports;
pub mod runtime;

pub use ack::AckToken;
pub use entities::{
    HallEntity, HallMsg, MachineEntity, MachineMsg, PoolChange, PoolEntity, PoolMsg, WalletEntity,
    WalletMsg,
};
pub use input::Input;
pub use ports::{
    EntityKey, EventSink, LedgerEntry, LevelView, MemorySink, MemoryStore, Movement, NullSink,
    Output, Position, Snapshot, Stash, StateStore, StoreError, Stored,
};
pub use runtime::{
    Directory, EffectRouter, HitPointFactory, PoolAdminError, PoolSpec, Remote, Runtime,
    RuntimeConfig,
};
