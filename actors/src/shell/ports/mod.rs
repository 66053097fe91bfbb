//! The ports the actors talk to: where outputs go ([`EventSink`]), where state is kept
//! ([`StateStore`]), where time ([`Clock`]) and randomness ([`HitPointFactory`]) come from.
//! Adapters (Kafka, the embedded store, ScyllaDB) implement them in the root crate;
//! in-memory implementations live here for tests and the demo.

pub mod clock;
pub mod ledger;
pub mod random;
pub mod sink;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use ledger::{LedgerEntry, Movement};
pub use random::HitPointFactory;
pub use sink::{EventSink, LevelView, MemorySink, NullSink, Output, WalletStatus};
pub use store::{
    Backoff, BoxFuture, EntityKey, Failure, MemoryStore, Position, Snapshot, Stash, StateStore,
    StoreError, Stored, StoredWindows,
};
