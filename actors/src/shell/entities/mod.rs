//! The five entity kinds the runtime hosts. Each feeds its domain state machine and routes
//! the effects through its [`EntityContext`](crate::shell::context::EntityContext); no
//! business rule lives here.

pub mod desk;
pub mod hall;
pub mod machine;
pub mod pool;
pub mod voucher;
pub mod wallet;

pub use desk::DeskEntity;
pub use hall::HallEntity;
pub use machine::MachineEntity;
pub use pool::{PoolChange, PoolEntity};
pub use voucher::VoucherEntity;
pub use wallet::WalletEntity;

/// A per-thread effects buffer: what an entity's message fills, shared by the entities of
/// one thread (an arbiter handles one message at a time), so an idle entity keeps no buffer
/// of its own (four effects' capacity per live entity was about 400 bytes, issue 14).
type Scratch<T> = std::thread::LocalKey<std::cell::Cell<Vec<T>>>;

/// Takes the thread's buffer, empty (a new one if it is taken already).
pub(crate) fn take_scratch<T>(key: &'static Scratch<T>) -> Vec<T> {
    let mut v = key.take();
    v.clear();
    v
}

/// Gives the buffer back for the next message.
pub(crate) fn put_scratch<T>(key: &'static Scratch<T>, mut v: Vec<T>) {
    v.clear();
    key.set(v);
}
