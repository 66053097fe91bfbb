//! Where entity state is kept: the [`StateStore`] port, what goes through it (keys,
//! snapshots, stashes, input positions), why a call failed ([`StoreError`]), and the
//! in-memory store of tests and the demo.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use crate::domain::desk::DeskState;
use crate::domain::ggr::{GgrTotals, HallState};
use crate::domain::jackpot::PoolState;
use crate::domain::machine::{LogEntry, MachineState};
use crate::domain::voucher::VoucherState;
use crate::domain::wallet::{Recalled, TxKey, TxRecord, WalletState};
use crate::domain::{
    EntityKind, HallId, MachineId, PlayerId, PoolId, ServerId, Timestamp, ValidationNo,
};

use crate::shell::ports::ledger::LedgerEntry;

/// A boxed future, as ports return them.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Stored GGR windows of a hall: per window asked, its totals and revision (`None`: not
/// stored).
pub type StoredWindows = Vec<(Timestamp, Option<(GgrTotals, u32)>)>;

/// Which entity a snapshot belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EntityKey {
    Machine(MachineId),
    Wallet(PlayerId),
    Pool(PoolId),
    /// A hall's GGR.
    Hall(HallId),
    /// A TITO voucher.
    Voucher(ValidationNo),
    /// A cash desk (RULES.md D).
    Desk(ServerId),
}

impl EntityKey {
    pub fn kind(&self) -> EntityKind {
        match self {
            EntityKey::Machine(_) => EntityKind::Machine,
            EntityKey::Wallet(_) => EntityKind::Wallet,
            EntityKey::Pool(_) => EntityKind::Pool,
            EntityKey::Hall(_) => EntityKind::Hall,
            EntityKey::Voucher(_) => EntityKind::Voucher,
            EntityKey::Desk(_) => EntityKind::Desk,
        }
    }

    pub fn id_str(&self) -> &str {
        match self {
            EntityKey::Machine(id) => id.as_str(),
            EntityKey::Wallet(id) => id.as_str(),
            EntityKey::Pool(id) => id.as_str(),
            EntityKey::Hall(id) => id.as_str(),
            EntityKey::Voucher(id) => id.as_str(),
            EntityKey::Desk(id) => id.as_str(),
        }
    }
}

/// The state of one entity, as stored.
///
/// A machine's state is the largest by far; a snapshot is a transient value (a stash, a
/// read), so boxing it would cost an allocation per hand-over to save bytes nobody keeps.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Snapshot {
    Machine(MachineState),
    Wallet(WalletState),
    Pool(PoolState),
    /// A hall's GGR.
    Hall(HallState),
    /// A TITO voucher.
    Voucher(VoucherState),
    /// A cash desk.
    Desk(DeskState),
}

impl Snapshot {
    pub fn key(&self) -> EntityKey {
        match self {
            Snapshot::Machine(s) => EntityKey::Machine(s.id.clone()),
            Snapshot::Wallet(s) => EntityKey::Wallet(s.id.clone()),
            Snapshot::Pool(s) => EntityKey::Pool(s.id.clone()),
            Snapshot::Hall(s) => EntityKey::Hall(s.id.clone()),
            Snapshot::Voucher(s) => EntityKey::Voucher(s.number),
            Snapshot::Desk(s) => EntityKey::Desk(s.id.clone()),
        }
    }
}

/// Why a store call failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store: {message}")]
pub struct StoreError {
    failure: Failure,
    message: String,
}

/// Whether a failed store call may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The store is unreachable, overloaded or timed out: retry with backoff.
    Transient,
    /// Trying again cannot help (a record this build cannot read, a schema or configuration
    /// the store refuses, a broken file): stop and say why.
    Permanent,
    /// The checkpoint is not this instance's to write any more: another instance claimed a
    /// partition it covers ([`StateStore::claim`]) and goes on from the last checkpoint
    /// applied before it. Trying again cannot help.
    Fenced,
}

impl StoreError {
    /// A failure as its adapter classified it.
    pub fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
        }
    }

    /// A failure that may heal: the caller retries with backoff.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Transient,
            message: message.into(),
        }
    }

    /// A failure that cannot heal by retrying: the caller stops and reports it.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Permanent,
            message: message.into(),
        }
    }

    /// Another instance owns a partition the checkpoint covers ([`Failure::Fenced`]).
    pub fn fenced(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Fenced,
            message: message.into(),
        }
    }

    /// Whether trying again may help.
    pub fn failure(&self) -> Failure {
        self.failure
    }

    /// True when trying again may help.
    pub fn is_transient(&self) -> bool {
        self.failure == Failure::Transient
    }

    /// True when another instance owns what the call would have written.
    pub fn is_fenced(&self) -> bool {
        self.failure == Failure::Fenced
    }

    /// What failed, without the `store: ` prefix of the display.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same failure with `context` before its message (`context: message`).
    pub fn context(self, context: impl std::fmt::Display) -> Self {
        Self {
            failure: self.failure,
            message: format!("{context}: {}", self.message),
        }
    }
}

/// Retry timing for a failing store: the wait doubles from `first` up to `max` and a
/// success resets it. A permanent failure gets no retry ([`Backoff::retry`]).
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    delay: Duration,
}

impl Default for Backoff {
    /// 100 ms doubling up to 5 s: the checkpoint retries.
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(5))
    }
}

impl Backoff {
    /// A backoff starting at `first`, capped at `max`.
    pub const fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            delay: first,
        }
    }

    /// The wait before the next attempt after a failure (and doubles the next one).
    pub fn failed(&mut self) -> Duration {
        let d = self.delay;
        self.delay = (self.delay * 2).min(self.max);
        d
    }

    /// The wait before the next attempt after `error`, or `None` when it is permanent and
    /// there must be no next attempt.
    pub fn retry(&mut self, error: &StoreError) -> Option<Duration> {
        error.is_transient().then(|| self.failed())
    }

    /// Resets after a success.
    pub fn succeeded(&mut self) {
        self.delay = self.first;
    }
}

/// What an entity hands to the store: its state, and the money movements since its
/// previous hand-over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stash {
    /// The entity's current state.
    pub snapshot: Snapshot,
    /// The number of its last movement (the ledger's length for this entity).
    pub movements: u64,
    /// Its movements since the previous stash, in order.
    pub ledger: Vec<LedgerEntry>,
    /// A wallet's answered commands (and tombstones) recorded or changed since the previous
    /// stash, in order (RULES.md W-1: every answer is stored with the checkpoint that
    /// applied it). Empty for other entities.
    pub txs: Vec<(TxKey, TxRecord)>,
    /// A machine's event log entries (RULES.md M-9) made since the previous stash, in
    /// order, stored with the checkpoint that made them. Empty for other entities.
    pub log: Vec<LogEntry>,
}

impl Stash {
    /// A stash of a state with no ledger.
    pub fn state(snapshot: Snapshot) -> Self {
        Self {
            snapshot,
            movements: 0,
            ledger: Vec::new(),
            txs: Vec::new(),
            log: Vec::new(),
        }
    }
}

/// What a store returns for an entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The entity's last stashed state.
    pub snapshot: Snapshot,
    /// The number of its last movement at that state.
    pub movements: u64,
}

/// The input position a checkpoint reflects: the next offset to read from a partition.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    pub topic: String,
    pub partition: i32,
    /// The next offset to read (everything before it is reflected in the stored state).
    pub next_offset: i64,
}

/// Where entity state is kept. `stash` hands over a state synchronously (a passivating actor
/// must be able to let go of its state before another actor for the same entity loads it);
/// making it durable is the implementation's business.
///
/// Durable implementations are write-behind: `stash` only records the state (the latest per
/// entity wins), `flush` writes everything stashed so far as one atomic checkpoint. Flush
/// only at a consistent cut (no input in flight): a stored state whose effects on other
/// entities are not stored with it cannot be recovered exactly.
pub trait StateStore: Send + Sync + 'static {
    /// The last state of an entity, if any (stashed but not yet flushed states first).
    fn load(&self, key: &EntityKey) -> BoxFuture<Result<Option<Stored>, StoreError>>;
    /// Hands over an entity's current state and its movements since the previous stash.
    /// Must not block.
    fn stash(&self, stash: Stash);
    /// Every stored state (for recounts and audits; not on the hot path).
    fn all(&self) -> BoxFuture<Result<Vec<Snapshot>, StoreError>>;
    /// Makes everything stashed so far durable. Resolves to `true` when it is, `false` for a
    /// store that keeps nothing across a restart (then no input offset may ever be stored,
    /// and a restart replays the input from the start).
    fn flush(&self) -> BoxFuture<Result<bool, StoreError>>;
    /// Whether entities should record their money movements ([`LedgerEntry`]) for this
    /// store. Entities record nothing otherwise (no cost on the hot path).
    fn keeps_ledger(&self) -> bool {
        false
    }
    /// Rows stashed and not yet durable (states and ledger entries). The source pauses
    /// consumption while this is at `store.backlog-max` (backpressure).
    fn backlog(&self) -> usize {
        0
    }
    /// False while the store is failing (from a failed flush until the next one that
    /// succeeds): readiness.
    fn healthy(&self) -> bool {
        true
    }
    /// What the store holds for some of a wallet's command keys (stashed but not yet flushed
    /// records first): RULES.md W-1, an answer no longer in the wallet's memory is read back.
    /// A key the store does not hold comes back with `None`.
    fn recall(&self, player: &PlayerId, keys: &[TxKey]) -> BoxFuture<Result<Recalled, StoreError>>;
    /// What the store holds for some GGR windows of a hall (RULES.md H-2: a window that
    /// left the hall's memory is read back before a late delta revises it): per window, its
    /// totals and revision, `None` for a window not stored.
    fn recall_windows(
        &self,
        hall: &HallId,
        windows: &[Timestamp],
    ) -> BoxFuture<Result<StoredWindows, StoreError>>;
    /// The stored halls whose outbox holds publications not yet made (RULES.md H-2): the
    /// processor loads them so that they publish after its next durable checkpoint.
    fn halls_to_publish(&self) -> BoxFuture<Result<Vec<HallId>, StoreError>> {
        let all = self.all();
        Box::pin(async move {
            Ok(all
                .await?
                .into_iter()
                .filter_map(|s| match s {
                    Snapshot::Hall(h) if !h.outbox.is_empty() => Some(h.id),
                    _ => None,
                })
                .collect())
        })
    }
    /// A machine's event log (RULES.md M-9), newest first: at most `limit` entries numbered
    /// below `before`, stashed ones included. For the newest entries `before` is the
    /// machine's `log_seq + 1`: a store may read its way down from `before` (the CQL store
    /// reads a partition per 1,024 numbers), so it must not be far above it.
    fn machine_log(
        &self,
        machine: &MachineId,
        before: u64,
        limit: usize,
    ) -> BoxFuture<Result<Vec<LogEntry>, StoreError>>;
    /// Records the input position the next flush makes durable together with the state.
    fn stash_position(&self, _position: Position) {}
    /// The input positions stored with the last durable flush.
    fn positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    /// Drops what waits to be written (not yet durable) for `entities` and the input
    /// positions of `partitions` ((topic, partition)): they were handed to another instance,
    /// which continues from the last durable state and the positions stored with it; a
    /// write of them after the hand-over could land after that instance's newer state.
    /// Dropping them is what a crash at the hand-over would do. A store that writes at
    /// once has nothing waiting.
    fn forget(&self, _entities: &[EntityKey], _partitions: &[(String, i32)]) {}
    /// Claims input partitions ((topic, partition)) for this instance before it applies any
    /// of their records: a store several instances share records a fence per partition,
    /// newer than every claim before it, and refuses to apply a checkpoint this instance
    /// wrote for a partition another instance has claimed since (a redo log recovered late,
    /// a write from an instance that lost the partition while it stalled). A store only one
    /// instance uses has nothing to fence.
    fn claim(&self, _partitions: &[(String, i32)]) -> BoxFuture<Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

/// A store in memory. Keeps no ledger unless made with [`MemoryStore::with_ledger`].
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<EntityKey, Stored>>,
    txs: Mutex<HashMap<(PlayerId, TxKey), TxRecord>>,
    ggr: Mutex<HashMap<(HallId, Timestamp), (GgrTotals, u32)>>,
    ledger: Option<Mutex<Vec<(EntityKey, LedgerEntry)>>>,
    log: Mutex<HashMap<MachineId, std::collections::BTreeMap<u64, LogEntry>>>,
}

impl MemoryStore {
    /// A store in memory that keeps the money ledger too (tests of the ledger and audits).
    pub fn with_ledger() -> Self {
        Self {
            map: Mutex::default(),
            txs: Mutex::default(),
            ggr: Mutex::default(),
            ledger: Some(Mutex::default()),
            log: Mutex::default(),
        }
    }

    /// The ledger kept so far, in stash order (empty unless made with
    /// [`MemoryStore::with_ledger`]).
    pub fn ledger(&self) -> Vec<(EntityKey, LedgerEntry)> {
        self.ledger
            .as_ref()
            .map(|l| l.lock().expect("store lock").clone())
            .unwrap_or_default()
    }

    /// Every stored state with its movement count.
    pub fn stored(&self) -> Vec<Stored> {
        self.map
            .lock()
            .expect("store lock")
            .values()
            .cloned()
            .collect()
    }
}

impl StateStore for MemoryStore {
    fn load(&self, key: &EntityKey) -> BoxFuture<Result<Option<Stored>, StoreError>> {
        let got = self.map.lock().expect("store lock").get(key).cloned();
        Box::pin(async move { Ok(got) })
    }

    fn stash(&self, stash: Stash) {
        let key = stash.snapshot.key();
        if let (Snapshot::Wallet(w), false) = (&stash.snapshot, stash.txs.is_empty()) {
            let mut txs = self.txs.lock().expect("store lock");
            for (k, r) in &stash.txs {
                txs.insert((w.id.clone(), k.clone()), r.clone());
            }
        }
        if let Snapshot::Hall(h) = &stash.snapshot {
            // Like the durable stores' GGR rows: every window a hall held, kept after it
            // leaves the hall's memory.
            let mut ggr = self.ggr.lock().expect("store lock");
            for (start, w) in &h.windows {
                ggr.insert((h.id.clone(), *start), (w.totals.clone(), w.revision));
            }
        }
        if let Some(l) = &self.ledger {
            let mut l = l.lock().expect("store lock");
            l.extend(stash.ledger.iter().map(|e| (key.clone(), *e)));
        }
        if let (Snapshot::Machine(m), false) = (&stash.snapshot, stash.log.is_empty()) {
            let mut log = self.log.lock().expect("store lock");
            let entries = log.entry(m.id.clone()).or_default();
            for e in &stash.log {
                entries.insert(e.number, e.clone());
            }
        }
        self.map.lock().expect("store lock").insert(
            key,
            Stored {
                snapshot: stash.snapshot,
                movements: stash.movements,
            },
        );
    }

    fn all(&self) -> BoxFuture<Result<Vec<Snapshot>, StoreError>> {
        let all = self
            .map
            .lock()
            .expect("store lock")
            .values()
            .map(|s| s.snapshot.clone())
            .collect();
        Box::pin(async move { Ok(all) })
    }

    fn flush(&self) -> BoxFuture<Result<bool, StoreError>> {
        Box::pin(async { Ok(false) })
    }

    fn recall(&self, player: &PlayerId, keys: &[TxKey]) -> BoxFuture<Result<Recalled, StoreError>> {
        let txs = self.txs.lock().expect("store lock");
        let got: Recalled = keys
            .iter()
            .map(|k| (k.clone(), txs.get(&(player.clone(), k.clone())).cloned()))
            .collect();
        Box::pin(async move { Ok(got) })
    }

    fn recall_windows(
        &self,
        hall: &HallId,
        windows: &[Timestamp],
    ) -> BoxFuture<Result<StoredWindows, StoreError>> {
        let ggr = self.ggr.lock().expect("store lock");
        let got: StoredWindows = windows
            .iter()
            .map(|w| (*w, ggr.get(&(hall.clone(), *w)).cloned()))
            .collect();
        Box::pin(async move { Ok(got) })
    }

    fn keeps_ledger(&self) -> bool {
        self.ledger.is_some()
    }

    fn machine_log(
        &self,
        machine: &MachineId,
        before: u64,
        limit: usize,
    ) -> BoxFuture<Result<Vec<LogEntry>, StoreError>> {
        let got = self
            .log
            .lock()
            .expect("store lock")
            .get(machine)
            .map(|m| {
                m.range(..before)
                    .rev()
                    .take(limit)
                    .map(|(_, e)| e.clone())
                    .collect()
            })
            .unwrap_or_default();
        Box::pin(async move { Ok(got) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_say_whether_to_retry() {
        let t = StoreError::transient("timed out");
        let p = StoreError::permanent("record version 2 is newer than this build reads (1)");
        assert!(t.is_transient());
        assert!(!p.is_transient());
        assert_eq!(p.failure(), Failure::Permanent);
        assert_eq!(t.to_string(), "store: timed out");
        let c = p.clone().context("reading machine M-1");
        assert_eq!(c.failure(), Failure::Permanent);
        assert_eq!(
            c.message(),
            "reading machine M-1: record version 2 is newer than this build reads (1)"
        );
    }

    #[test]
    fn backoff_doubles_resets_and_stops_on_permanent_failures() {
        let mut b = Backoff::new(Duration::from_millis(10), Duration::from_millis(35));
        let t = StoreError::transient("unreachable");
        assert_eq!(b.retry(&t), Some(Duration::from_millis(10)));
        assert_eq!(b.retry(&t), Some(Duration::from_millis(20)));
        assert_eq!(b.retry(&t), Some(Duration::from_millis(35)));
        assert_eq!(b.retry(&t), Some(Duration::from_millis(35)));
        assert_eq!(b.retry(&StoreError::permanent("corrupt")), None);
        b.succeeded();
        assert_eq!(b.failed(), Duration::from_millis(10));
    }
}
