//! The four entity kinds the runtime hosts. Each feeds its domain state machine and routes
//! the effects through its [`EntityContext`](crate::shell::context::EntityContext); no
//! business rule lives here.

pub mod hall;
pub mod machine;
pub mod pool;
pub mod wallet;

pub use hall::HallEntity;
pub use machine::MachineEntity;
pub use pool::{PoolChange, PoolEntity};
pub use wallet::WalletEntity;
