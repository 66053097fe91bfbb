use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use pitboss_actors::domain::machine::LogEntry;
use pitboss_actors::domain::wallet::{Recalled, TxKey};
use pitboss_actors::domain::{HallId, MachineId, PlayerId, Timestamp};
use pitboss_actors::shell::ports::{BoxFuture, Position, Stash, Stored, StoredWindows};
use pitboss_actors::shell::{EntityKey, MemoryStore, Snapshot, StateStore, StoreError};

/// A store in memory that reports its flushes durable and keeps the positions flushed with
/// them: a stand-in for a durable store shared by instances (or surviving a restart), so
/// the tests exercise the commit protocol. It is not durable across a real crash.
#[derive(Default)]
pub struct SharedStore {
    inner: MemoryStore,
    pending: Mutex<Vec<Position>>,
    positions: Mutex<BTreeMap<(String, i32), i64>>,
    /// Flushes so far.
    pub flushes: AtomicU64,
}

impl StateStore for SharedStore {
    fn load(&self, key: &EntityKey) -> BoxFuture<Result<Option<Stored>, StoreError>> {
        self.inner.load(key)
    }
    fn stash(&self, stash: Stash) {
        self.inner.stash(stash)
    }
    fn all(&self) -> BoxFuture<Result<Vec<Snapshot>, StoreError>> {
        self.inner.all()
    }
    fn recall(&self, player: &PlayerId, keys: &[TxKey]) -> BoxFuture<Result<Recalled, StoreError>> {
        self.inner.recall(player, keys)
    }
    fn recall_windows(
        &self,
        hall: &HallId,
        windows: &[Timestamp],
    ) -> BoxFuture<Result<StoredWindows, StoreError>> {
        self.inner.recall_windows(hall, windows)
    }
    fn machine_log(
        &self,
        machine: &MachineId,
        before: u64,
        limit: usize,
    ) -> BoxFuture<Result<Vec<LogEntry>, StoreError>> {
        self.inner.machine_log(machine, before, limit)
    }
    fn flush(&self) -> BoxFuture<Result<bool, StoreError>> {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap());
        let mut p = self.positions.lock().unwrap();
        for pos in pending {
            p.insert((pos.topic, pos.partition), pos.next_offset);
        }
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Ok(true) })
    }
    fn stash_position(&self, position: Position) {
        self.pending.lock().unwrap().push(position);
    }
    fn positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        let v = self
            .positions
            .lock()
            .unwrap()
            .iter()
            .map(|((topic, partition), next_offset)| Position {
                topic: topic.clone(),
                partition: *partition,
                next_offset: *next_offset,
            })
            .collect();
        Box::pin(async move { Ok(v) })
    }
}
