//! Counters and positions of a running processor, readable while it runs (tests wait on
//! them; a metrics exporter can read them).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use super::Tp;

/// What a processor has done so far.
#[derive(Debug, Default)]
pub struct RunStats {
    /// Input messages whose every effect is in Kafka (accepted, refused or rejected).
    pub input_completed: AtomicU64,
    /// Input messages rejected (undecodable or invalid).
    pub rejected: AtomicU64,
    /// Internal messages whose every effect is in Kafka.
    pub internal_completed: AtomicU64,
    /// Effects carried by those internal messages.
    pub internal_items: AtomicU64,
    /// Internal messages handed to the producer (by this instance's router). With one
    /// instance, equal to `internal_completed` when nothing is under way.
    pub internal_sent: AtomicU64,
    /// Offset commits requested.
    pub commits: AtomicU64,
    /// Partition assignments received.
    pub assignments: AtomicU64,
    /// Revocations handled.
    pub revocations: AtomicU64,
    /// Entities passivated by revocations.
    pub handed_over: AtomicU64,
    /// Times consumption paused because the store failed with its backlog at its bound.
    pub store_pauses: AtomicU64,
    /// Checkpoint rounds whose store flush failed.
    pub store_failures: AtomicU64,
    /// When the first message was consumed (measurements start there).
    pub first_message: OnceLock<Instant>,
    assigned: Mutex<Vec<Tp>>,
    positions: Mutex<BTreeMap<Tp, i64>>,
}

impl RunStats {
    pub(crate) fn record_positions(&self, advanced: &[(Tp, i64)]) {
        let mut p = self.positions.lock().expect("positions lock");
        for (tp, o) in advanced {
            let e = p.entry(*tp).or_insert(*o);
            *e = (*e).max(*o);
        }
    }

    pub(crate) fn set_assigned(&self, tps: Vec<Tp>) {
        *self.assigned.lock().expect("assigned lock") = tps;
    }

    /// The partitions assigned now.
    pub fn assigned(&self) -> Vec<Tp> {
        self.assigned.lock().expect("assigned lock").clone()
    }

    /// For every partition this processor has consumed from: the offset after the last
    /// message it completed (what a commit would store).
    pub fn positions(&self) -> BTreeMap<Tp, i64> {
        self.positions.lock().expect("positions lock").clone()
    }

    /// Input messages completed.
    pub fn inputs(&self) -> u64 {
        self.input_completed.load(Ordering::Relaxed)
    }
}
