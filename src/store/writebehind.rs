//! Write-behind over a durable backend: `stash` records a state in memory (the latest per
//! entity wins, so an entity updated a thousand times between two flushes is written once),
//! `flush` writes everything recorded so far to the backend as one atomic checkpoint and
//! resolves when it is durable.
//!
//! The store never flushes on its own. A checkpoint is only recoverable exactly if it is a
//! consistent cut: every effect a stored state sent to another entity is stored with that
//! entity. The processor knows when that holds (nothing in flight) and calls `flush` then; a
//! timer inside the store does not know, so there is none. Between flushes the buffer holds
//! at most one state per entity plus the ledger entries of the events since the last flush;
//! `backlog` reports its size so the source can pause at `store.backlog-max`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use pitboss_actors::domain::ggr::GgrTotals;
use pitboss_actors::domain::machine::LogEntry;
use pitboss_actors::domain::wallet::{Recalled, TxKey, TxRecord};
use pitboss_actors::domain::{HallId, MachineId, PlayerId, Timestamp};
use pitboss_actors::shell::ports::{BoxFuture, StoredWindows};
use pitboss_actors::shell::{
    EntityKey, LedgerEntry, Position, Snapshot, Stash, StateStore, StoreError, Stored,
};

use super::audit::AuditSource;
use super::codec::GgrRow;

/// One checkpoint: the states, ledger entries and input positions stashed since the
/// previous one.
#[derive(Default, Debug)]
pub struct Batch {
    /// The latest state of each entity, with its movement count.
    pub entities: HashMap<EntityKey, (Snapshot, u64)>,
    /// Each entity's movements since the previous checkpoint, in order.
    pub ledger: HashMap<EntityKey, Vec<LedgerEntry>>,
    /// Ledger entries in `ledger`.
    pub ledger_len: usize,
    /// The next offset to read, per (topic, partition).
    pub positions: BTreeMap<(String, i32), i64>,
    /// Wallet transaction records made or changed since the previous checkpoint, the latest
    /// per key (RULES.md W-1).
    pub txs: HashMap<(PlayerId, TxKey), TxRecord>,
    /// Machines' event log entries made since the previous checkpoint (RULES.md M-9), by
    /// machine and number.
    pub log: BTreeMap<(MachineId, u64), LogEntry>,
}

impl Batch {
    /// True when the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
            && self.ledger_len == 0
            && self.positions.is_empty()
            && self.txs.is_empty()
            && self.log.is_empty()
    }

    fn add(&mut self, stash: Stash) {
        let key = stash.snapshot.key();
        if let Snapshot::Wallet(w) = &stash.snapshot {
            for (k, r) in stash.txs {
                self.txs.insert((w.id.clone(), k), r);
            }
        }
        if let Snapshot::Machine(m) = &stash.snapshot {
            for e in stash.log {
                self.log.insert((m.id.clone(), e.number), e);
            }
        }
        if !stash.ledger.is_empty() {
            self.ledger_len += stash.ledger.len();
            match self.ledger.get_mut(&key) {
                Some(v) => v.extend_from_slice(&stash.ledger),
                None => {
                    self.ledger.insert(key.clone(), stash.ledger);
                }
            }
        }
        self.entities.insert(key, (stash.snapshot, stash.movements));
    }

    /// Puts an older batch (a failed flush) under this one: states already newer here stay,
    /// the older ledger entries go first.
    fn merge_older(&mut self, older: Batch) {
        for (k, v) in older.entities {
            self.entities.entry(k).or_insert(v);
        }
        for (k, mut old) in older.ledger {
            self.ledger_len += old.len();
            if let Some(newer) = self.ledger.remove(&k) {
                old.extend(newer);
            }
            self.ledger.insert(k, old);
        }
        for (k, v) in older.positions {
            self.positions.entry(k).or_insert(v);
        }
        for (k, v) in older.txs {
            self.txs.entry(k).or_insert(v);
        }
        for (k, v) in older.log {
            self.log.entry(k).or_insert(v);
        }
    }

    /// Drops the rows of `entities` (states, ledger entries, wallet transactions, machine
    /// log entries) and the positions of `partitions`; how many rows went.
    fn forget(&mut self, entities: &[EntityKey], partitions: &[(String, i32)]) -> usize {
        let before = self.len() + self.positions.len();
        let (mut players, mut machines) = (HashSet::new(), HashSet::new());
        for k in entities {
            self.entities.remove(k);
            if let Some(l) = self.ledger.remove(k) {
                self.ledger_len -= l.len();
            }
            match k {
                EntityKey::Wallet(p) => {
                    players.insert(p);
                }
                EntityKey::Machine(m) => {
                    machines.insert(m);
                }
                _ => {}
            }
        }
        if !players.is_empty() {
            self.txs.retain(|(w, _), _| !players.contains(w));
        }
        if !machines.is_empty() {
            self.log.retain(|(m, _), _| !machines.contains(m));
        }
        for p in partitions {
            self.positions.remove(p);
        }
        before - (self.len() + self.positions.len())
    }

    /// The batch's log entries of `machine` numbered below `before`, newest first.
    fn log_of(&self, machine: &MachineId, before: u64) -> impl Iterator<Item = &LogEntry> {
        self.log
            .range((machine.clone(), 0)..(machine.clone(), before))
            .rev()
            .map(|(_, e)| e)
    }

    /// Rows the batch holds before GGR rows: states, ledger entries, wallet transactions and
    /// machine log entries.
    pub fn len(&self) -> usize {
        self.entities.len() + self.ledger_len + self.txs.len() + self.log.len()
    }

    /// The batch's input positions.
    pub fn position_list(&self) -> Vec<Position> {
        self.positions
            .iter()
            .map(|((topic, partition), next_offset)| Position {
                topic: topic.clone(),
                partition: *partition,
                next_offset: *next_offset,
            })
            .collect()
    }
}

/// What a backend wrote for one checkpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Rows (keys) written: entity states, ledger rows or pages, GGR windows, positions.
    pub rows: u64,
    /// Bytes of keys and values written.
    pub bytes: u64,
}

/// A durable backend: writes a checkpoint atomically, reads states back.
pub trait Backend: AuditSource + Send + Sync + 'static {
    /// Writes one checkpoint; everything or nothing becomes visible.
    fn write(&self, batch: Arc<Batch>, ggr: Vec<GgrRow>) -> BoxFuture<Result<Written, StoreError>>;
    /// The stored state of one entity.
    fn read(&self, key: &EntityKey) -> BoxFuture<Result<Option<Stored>, StoreError>>;
    /// The input positions stored with the last checkpoint.
    fn read_positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>>;
    /// Stored wallet transactions of one player (RULES.md W-1); `None` for a key not stored.
    fn read_txs(
        &self,
        player: &PlayerId,
        keys: &[TxKey],
    ) -> BoxFuture<Result<Recalled, StoreError>>;
    /// Stored GGR windows of a hall (RULES.md H-2); `None` for a window not stored.
    fn read_windows(
        &self,
        hall: &HallId,
        windows: &[Timestamp],
    ) -> BoxFuture<Result<StoredWindows, StoreError>>;
    /// The stored halls whose outbox holds publications (RULES.md H-2).
    fn halls_to_publish(&self) -> BoxFuture<Result<Vec<HallId>, StoreError>>;
    /// A machine's stored event log (RULES.md M-9), newest first: at most `limit` entries
    /// numbered below `before`.
    fn read_log(
        &self,
        machine: &MachineId,
        before: u64,
        limit: usize,
    ) -> BoxFuture<Result<Vec<LogEntry>, StoreError>>;
    /// Claims input partitions for this instance ([`StateStore::claim`]); a backend only
    /// one instance uses has nothing to fence.
    fn claim(&self, _partitions: &[(String, i32)]) -> BoxFuture<Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Counters of a write-behind store.
#[derive(Debug, Default)]
pub struct WriteStats {
    /// Checkpoints written.
    pub flushes: AtomicU64,
    /// Checkpoints that failed (and were kept for the next attempt).
    pub failures: AtomicU64,
    /// Rows written to the backend (see [`Written::rows`]).
    pub rows: AtomicU64,
    /// Bytes of keys and values written to the backend.
    pub bytes: AtomicU64,
    /// Entity states written.
    pub states: AtomicU64,
    /// Ledger entries written.
    pub ledger_entries: AtomicU64,
    /// Duration of the last successful flush, microseconds.
    pub last_flush_micros: AtomicU64,
}

#[derive(Default)]
struct Buffers {
    pending: Batch,
    /// What the flush in progress is writing, or the batch a `flush` call sealed for it:
    /// still visible to `load` until durable.
    inflight: Option<Arc<Batch>>,
}

/// What was last written per hall window, so a flush writes only the windows that changed.
#[derive(Default)]
struct FlushState {
    ggr: HashMap<HallId, BTreeMap<Timestamp, (GgrTotals, u32)>>,
}

impl FlushState {
    fn ggr_rows(&self, batch: &Batch) -> Vec<GgrRow> {
        let mut rows = Vec::new();
        for (snapshot, _) in batch.entities.values() {
            let Snapshot::Hall(h) = snapshot else {
                continue;
            };
            let written = self.ggr.get(&h.id);
            for (start, w) in &h.windows {
                let same = written
                    .and_then(|m| m.get(start))
                    .is_some_and(|(t, r)| *t == w.totals && *r == w.revision);
                if !same {
                    rows.push(GgrRow {
                        hall: h.id.clone(),
                        window: *start,
                        totals: w.totals.clone(),
                        revision: w.revision,
                    });
                }
            }
        }
        rows
    }

    fn written(&mut self, batch: &Batch) {
        for (snapshot, _) in batch.entities.values() {
            if let Snapshot::Hall(h) = snapshot {
                let windows = h
                    .windows
                    .iter()
                    .map(|(k, w)| (*k, (w.totals.clone(), w.revision)))
                    .collect();
                self.ggr.insert(h.id.clone(), windows);
            }
        }
    }
}

/// A write-behind store over a backend.
pub struct WriteBehind<B: Backend>(Arc<Inner<B>>);

struct Inner<B: Backend> {
    backend: Arc<B>,
    buffers: Mutex<Buffers>,
    flushing: tokio::sync::Mutex<FlushState>,
    healthy: AtomicBool,
    stats: WriteStats,
}

/// Puts a batch back into the pending buffer if the flush writing it does not finish (an
/// error, or the flush's future dropped half way).
struct Restore<'a> {
    buffers: &'a Mutex<Buffers>,
    batch: Option<Arc<Batch>>,
}

impl Restore<'_> {
    fn done(mut self) {
        let mut b = lock(self.buffers);
        b.inflight = None;
        self.batch = None;
    }
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        if let Some(batch) = self.batch.take() {
            let mut b = lock(self.buffers);
            b.inflight = None;
            let older = Arc::try_unwrap(batch).unwrap_or_else(|shared| Batch {
                entities: shared.entities.clone(),
                ledger: shared.ledger.clone(),
                ledger_len: shared.ledger_len,
                positions: shared.positions.clone(),
                txs: shared.txs.clone(),
                log: shared.log.clone(),
            });
            b.pending.merge_older(older);
        }
    }
}

fn lock(m: &Mutex<Buffers>) -> std::sync::MutexGuard<'_, Buffers> {
    // A panic while holding this lock leaves plain data behind, still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<B: Backend> WriteBehind<B> {
    /// A write-behind store over `backend`.
    pub fn new(backend: B) -> Self {
        Self(Arc::new(Inner {
            backend: Arc::new(backend),
            buffers: Mutex::default(),
            flushing: tokio::sync::Mutex::new(FlushState::default()),
            healthy: AtomicBool::new(true),
            stats: WriteStats::default(),
        }))
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<B> {
        &self.0.backend
    }

    /// Counters.
    pub fn stats(&self) -> &WriteStats {
        &self.0.stats
    }
}

impl<B: Backend> Inner<B> {
    /// Writes what was stashed until the `flush` call: the batch it sealed (`sealed`), or,
    /// when it found a batch sealed or being written already, that batch's successor too.
    async fn flush(&self, sealed: bool) -> Result<bool, StoreError> {
        let mut fs = self.flushing.lock().await;
        loop {
            let (batch, took_sealed) = {
                let mut b = lock(&self.buffers);
                match &b.inflight {
                    // Sealed by a `flush` call (no write runs while this lock is held):
                    // written now, whichever call sealed it.
                    Some(s) => (s.clone(), true),
                    None => {
                        if b.pending.is_empty() {
                            return Ok(true);
                        }
                        let batch = Arc::new(std::mem::take(&mut b.pending));
                        b.inflight = Some(batch.clone());
                        (batch, false)
                    }
                }
            };
            self.write(&mut fs, batch).await?;
            // A call that sealed nothing found a batch sealed by another call: what it
            // stashed after that is in the next batch, written on the next turn.
            if sealed || !took_sealed {
                return Ok(true);
            }
        }
    }

    async fn write(&self, fs: &mut FlushState, batch: Arc<Batch>) -> Result<(), StoreError> {
        let guard = Restore {
            buffers: &self.buffers,
            batch: Some(batch.clone()),
        };
        let started = Instant::now();
        let ggr = fs.ggr_rows(&batch);
        let windows = ggr.len();
        match self.backend.write(batch.clone(), ggr).await {
            Ok(w) => {
                tracing::debug!(
                    rows = w.rows,
                    states = batch.entities.len(),
                    ledger_entries = batch.ledger_len,
                    ledger_entities = batch.ledger.len(),
                    wallet_txs = batch.txs.len(),
                    machine_log = batch.log.len(),
                    windows,
                    took = ?started.elapsed(),
                    "checkpoint written"
                );
                fs.written(&batch);
                let s = &self.stats;
                s.flushes.fetch_add(1, Ordering::Relaxed);
                s.rows.fetch_add(w.rows, Ordering::Relaxed);
                s.bytes.fetch_add(w.bytes, Ordering::Relaxed);
                s.states
                    .fetch_add(batch.entities.len() as u64, Ordering::Relaxed);
                s.ledger_entries
                    .fetch_add(batch.ledger_len as u64, Ordering::Relaxed);
                s.last_flush_micros
                    .store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                drop(batch);
                guard.done();
                if !self.healthy.swap(true, Ordering::AcqRel) {
                    tracing::info!("store recovered: checkpoint written");
                }
                Ok(())
            }
            Err(e) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                if self.healthy.swap(false, Ordering::AcqRel) {
                    tracing::warn!(error = %e, "store failing: checkpoint kept for the next flush");
                }
                drop(batch);
                drop(guard);
                Err(e)
            }
        }
    }
}

impl<B: Backend> StateStore for WriteBehind<B> {
    fn load(&self, key: &EntityKey) -> BoxFuture<Result<Option<Stored>, StoreError>> {
        {
            let b = lock(&self.0.buffers);
            let found = b
                .pending
                .entities
                .get(key)
                .or_else(|| b.inflight.as_ref().and_then(|i| i.entities.get(key)));
            if let Some((snapshot, movements)) = found {
                let got = Stored {
                    snapshot: snapshot.clone(),
                    movements: *movements,
                };
                return Box::pin(async move { Ok(Some(got)) });
            }
        }
        self.0.backend.read(key)
    }

    fn stash(&self, stash: Stash) {
        lock(&self.0.buffers).pending.add(stash);
    }

    fn machine_log(
        &self,
        machine: &MachineId,
        before: u64,
        limit: usize,
    ) -> BoxFuture<Result<Vec<LogEntry>, StoreError>> {
        // Entries not yet durable first (newer than any stored), then the backend's.
        let mut got: Vec<LogEntry> = {
            let b = lock(&self.0.buffers);
            let mut v: Vec<LogEntry> = b.pending.log_of(machine, before).cloned().collect();
            if let Some(i) = &b.inflight {
                v.extend(i.log_of(machine, before).cloned());
            }
            v
        };
        let read = self.0.backend.read_log(machine, before, limit);
        Box::pin(async move {
            got.extend(read.await?);
            got.sort_unstable_by_key(|e| std::cmp::Reverse(e.number));
            got.dedup_by_key(|e| e.number);
            got.truncate(limit);
            Ok(got)
        })
    }

    fn recall(&self, player: &PlayerId, keys: &[TxKey]) -> BoxFuture<Result<Recalled, StoreError>> {
        let mut found: Recalled = Vec::with_capacity(keys.len());
        let mut rest: Vec<TxKey> = Vec::new();
        {
            let b = lock(&self.0.buffers);
            for k in keys {
                let id = (player.clone(), k.clone());
                match b
                    .pending
                    .txs
                    .get(&id)
                    .or_else(|| b.inflight.as_ref().and_then(|i| i.txs.get(&id)))
                {
                    Some(r) => found.push((k.clone(), Some(r.clone()))),
                    None => rest.push(k.clone()),
                }
            }
        }
        if rest.is_empty() {
            return Box::pin(async move { Ok(found) });
        }
        let read = self.0.backend.read_txs(player, &rest);
        Box::pin(async move {
            found.extend(read.await?);
            Ok(found)
        })
    }

    fn recall_windows(
        &self,
        hall: &HallId,
        windows: &[Timestamp],
    ) -> BoxFuture<Result<StoredWindows, StoreError>> {
        let mut found: StoredWindows = Vec::with_capacity(windows.len());
        let mut rest: Vec<Timestamp> = Vec::new();
        {
            let b = lock(&self.0.buffers);
            let key = EntityKey::Hall(hall.clone());
            let stashed = |batch: &Batch| match batch.entities.get(&key) {
                Some((Snapshot::Hall(h), _)) => Some(h.clone()),
                _ => None,
            };
            let newer = stashed(&b.pending);
            let older = b.inflight.as_deref().and_then(stashed);
            for w in windows {
                let hit = [&newer, &older]
                    .into_iter()
                    .flatten()
                    .find_map(|h| h.windows.get(w))
                    .map(|gw| (gw.totals.clone(), gw.revision));
                match hit {
                    Some(r) => found.push((*w, Some(r))),
                    None => rest.push(*w),
                }
            }
        }
        if rest.is_empty() {
            return Box::pin(async move { Ok(found) });
        }
        let read = self.0.backend.read_windows(hall, &rest);
        Box::pin(async move {
            found.extend(read.await?);
            Ok(found)
        })
    }

    fn halls_to_publish(&self) -> BoxFuture<Result<Vec<HallId>, StoreError>> {
        let mut pending: HashMap<HallId, bool> = HashMap::new();
        {
            let b = lock(&self.0.buffers);
            for batch in b.inflight.as_deref().into_iter().chain([&b.pending]) {
                for (snapshot, _) in batch.entities.values() {
                    if let Snapshot::Hall(h) = snapshot {
                        pending.insert(h.id.clone(), !h.outbox.is_empty());
                    }
                }
            }
        }
        let stored = self.0.backend.halls_to_publish();
        Box::pin(async move {
            let mut halls: Vec<HallId> = stored
                .await?
                .into_iter()
                .filter(|h| !pending.contains_key(h))
                .collect();
            halls.extend(pending.into_iter().filter(|(_, w)| *w).map(|(h, _)| h));
            halls.sort();
            Ok(halls)
        })
    }

    fn all(&self) -> BoxFuture<Result<Vec<Snapshot>, StoreError>> {
        let (pending, inflight): (Vec<_>, Vec<_>) = {
            let b = lock(&self.0.buffers);
            (
                b.pending
                    .entities
                    .values()
                    .map(|(s, _)| s.clone())
                    .collect(),
                b.inflight
                    .iter()
                    .flat_map(|i| i.entities.values().map(|(s, _)| s.clone()))
                    .collect(),
            )
        };
        let stored = self.0.backend.entities();
        Box::pin(async move {
            let mut by_key: HashMap<EntityKey, Snapshot> = stored
                .await?
                .into_iter()
                .map(|s| (s.snapshot.key(), s.snapshot))
                .collect();
            for s in inflight.into_iter().chain(pending) {
                by_key.insert(s.key(), s);
            }
            Ok(by_key.into_values().collect())
        })
    }

    fn flush(&self) -> BoxFuture<Result<bool, StoreError>> {
        let inner = self.0.clone();
        // The checkpoint is what was stashed until this call, not until the future's first
        // poll: the caller may poll it later (the processor's loop takes ready input
        // first), and a state stashed meanwhile (an actor passivated after the cut, with
        // input past the cut's positions) waits for the next checkpoint. When a write runs
        // or a batch is sealed already, the rest is taken once that one is written.
        let sealed = {
            let mut b = lock(&inner.buffers);
            let seal = b.inflight.is_none() && !b.pending.is_empty();
            if seal {
                b.inflight = Some(Arc::new(std::mem::take(&mut b.pending)));
            }
            seal
        };
        Box::pin(async move { inner.flush(sealed).await })
    }

    fn keeps_ledger(&self) -> bool {
        true
    }

    fn backlog(&self) -> usize {
        let b = lock(&self.0.buffers);
        b.pending.len() + b.inflight.as_ref().map_or(0, |i| i.len())
    }

    fn healthy(&self) -> bool {
        self.0.healthy.load(Ordering::Acquire)
    }

    fn stash_position(&self, p: Position) {
        lock(&self.0.buffers)
            .pending
            .positions
            .insert((p.topic, p.partition), p.next_offset);
    }

    fn forget(&self, entities: &[EntityKey], partitions: &[(String, i32)]) {
        let mut b = lock(&self.0.buffers);
        let mut dropped = b.pending.forget(entities, partitions);
        // A sealed batch not being written yet (no clone of it is held) forgets them too.
        if let Some(sealed) = b.inflight.as_mut().and_then(Arc::get_mut) {
            dropped += sealed.forget(entities, partitions);
        }
        if dropped > 0 {
            tracing::warn!(
                rows = dropped,
                "handed over with a checkpoint not durable: its rows for the partitions handed over are dropped (the next owner replays from the last durable checkpoint)"
            );
        }
    }

    fn claim(&self, partitions: &[(String, i32)]) -> BoxFuture<Result<(), StoreError>> {
        self.0.backend.claim(partitions)
    }

    fn positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        self.0.backend.read_positions()
    }
}
