//! Readiness is reported by the parts that know (the Kafka processor, the checkpoints,
//! shutdown) and served by the HTTP side (`/readyz`, the `pitboss_ready` gauge); it lives
//! here so that neither side imports the other.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

/// Whether this instance should get traffic. The processor sets `consuming` (partitions
/// assigned and being consumed; the demo: its loop has started), the store adapter
/// `store_reachable` (last load or flush succeeded; the in-memory store: always), and
/// shutdown clears `accepting` first so load balancers stop sending before it drains.
#[derive(Debug)]
pub struct Readiness {
    consuming: AtomicBool,
    store_reachable: AtomicBool,
    accepting: AtomicBool,
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new()
    }
}

impl Readiness {
    /// Not ready: nothing consumed yet, store not yet reached.
    pub fn new() -> Self {
        Self {
            consuming: AtomicBool::new(false),
            store_reachable: AtomicBool::new(false),
            accepting: AtomicBool::new(true),
        }
    }

    /// The processor is (or is no longer) consuming its input.
    pub fn set_consuming(&self, v: bool) {
        self.consuming.store(v, Ordering::Relaxed);
    }

    /// The store answered (or failed).
    pub fn set_store_reachable(&self, v: bool) {
        self.store_reachable.store(v, Ordering::Relaxed);
    }

    /// Shutting down: not ready from now on.
    pub fn set_shutting_down(&self) {
        self.accepting.store(false, Ordering::Relaxed);
    }

    /// Consuming, store reachable and not shutting down.
    pub fn is_ready(&self) -> bool {
        self.consuming.load(Ordering::Relaxed)
            && self.store_reachable.load(Ordering::Relaxed)
            && self.accepting.load(Ordering::Relaxed)
    }

    /// The flags, as `/readyz` shows them.
    pub fn report(&self) -> ReadyReport {
        ReadyReport {
            ready: self.is_ready(),
            consuming: self.consuming.load(Ordering::Relaxed),
            store_reachable: self.store_reachable.load(Ordering::Relaxed),
            shutting_down: !self.accepting.load(Ordering::Relaxed),
        }
    }
}

/// The flags behind [`Readiness::is_ready`].
#[derive(Debug, Serialize)]
pub struct ReadyReport {
    pub ready: bool,
    pub consuming: bool,
    pub store_reachable: bool,
    pub shutting_down: bool,
}
