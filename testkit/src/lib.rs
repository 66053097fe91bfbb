//! What pitboss's tests and its load harness share: a real Kafka broker (Tansu) on a free
//! loopback port, a child process that cannot outlive its test, names no other test uses,
//! and waiting on a condition with a deadline (a test never sleeps for a fixed time to wait
//! for a result).
//!
//! Dev-only: `tests/` (through the root package's dev-dependencies) and `load-tests/` use
//! it; the pitboss library never does, so nothing here can leak into the product.

pub mod child;
#[cfg(feature = "cql")]
pub mod cql;
#[cfg(feature = "http")]
pub mod http;
pub mod names;
pub mod tansu;
pub mod wait;

pub use child::ChildGuard;
pub use names::{free_port, unique};
pub use tansu::{Broker, DurableBroker};

use std::path::{Path, PathBuf};

/// The workspace's root directory (where `scripts/` and `target/` are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit/ sits in the workspace")
        .to_path_buf()
}
