//! The ports the actors talk to: where outputs go ([`EventSink`]) and where state is kept
//! ([`StateStore`]). Adapters (Kafka, the embedded store, ScyllaDB) implement them in the
//! root crate; in-memory implementations live here for tests and the demo.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::domain::ggr::{HallState, WindowClosed};
use crate::domain::jackpot::{JackpotHit, PoolState};
use crate::domain::machine::{Alert, MachineState};
use crate::domain::wallet::WalletState;
use crate::domain::{Currency, EventId, HallId, MachineId, PlayerId, PoolId, TxId};

use super::ack::AckToken;

/// A boxed future, as ports return them.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One level of a pool as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelView {
    /// Level index.
    pub level: u8,
    /// Level name.
    pub name: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Hits so far.
    pub hits: u64,
}

/// An output event, before it is given its wire form and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A hall's GGR window, published at close (and again, revised, after late events).
    Ggr {
        /// The closed window.
        window: WindowClosed,
        /// The hall's currency.
        currency: Currency,
    },
    /// Current levels of a pool (throttled).
    JackpotLevels {
        /// The pool.
        pool: PoolId,
        /// The pool's currency.
        currency: Currency,
        /// Its levels.
        levels: Vec<LevelView>,
    },
    /// A jackpot hit (published at once).
    JackpotHit {
        /// The hit.
        hit: JackpotHit,
        /// The pool's currency.
        currency: Currency,
    },
    /// A wallet balance change.
    Wallet {
        /// The player.
        player: PlayerId,
        /// The transaction.
        tx: TxId,
        /// deposit, withdrawal, bet, win or rollback.
        kind: &'static str,
        /// Signed change.
        delta: i64,
        /// Balance after.
        balance: i64,
        /// Currency.
        currency: Currency,
        /// The input event.
        cause: EventId,
    },
    /// An alert.
    Alert {
        /// What happened.
        alert: Alert,
        /// The input event.
        cause: EventId,
        /// Position among the alerts of that event (0, 1, ...).
        index: u32,
    },
    /// An input message that could not be decoded or validated.
    Rejected {
        /// Why, in words.
        reason: String,
        /// Why, as a short stable code (a metrics label).
        code: &'static str,
        /// The message's bytes, unchanged.
        original: Vec<u8>,
        /// The message's key.
        key: Option<Vec<u8>>,
        /// Source partition (-1 if not from Kafka).
        partition: i32,
        /// Source offset (-1 if not from Kafka).
        offset: i64,
    },
    /// An input event the core refused (valid on the wire, refused by the rules).
    Refused {
        /// The entity the event addressed (machine or player id).
        entity: String,
        /// Why.
        reason: String,
        /// The input event.
        cause: EventId,
    },
}

/// Where outputs go. `emit` must not block; an implementation that completes later keeps a
/// clone of `ack` until the output is durable (or calls [`AckToken::fail`]).
pub trait EventSink: Send + Sync + 'static {
    /// Hands over one output.
    fn emit(&self, output: Output, ack: &AckToken);
}

/// A sink that keeps everything in memory (tests, demo).
#[derive(Default)]
pub struct MemorySink {
    outputs: Mutex<Vec<Output>>,
}

impl MemorySink {
    /// Everything emitted so far.
    pub fn outputs(&self) -> Vec<Output> {
        self.outputs.lock().expect("sink lock").clone()
    }

    /// Takes everything emitted so far.
    pub fn take(&self) -> Vec<Output> {
        std::mem::take(&mut *self.outputs.lock().expect("sink lock"))
    }
}

impl EventSink for MemorySink {
    fn emit(&self, output: Output, _ack: &AckToken) {
        self.outputs.lock().expect("sink lock").push(output);
    }
}

/// A sink that counts and drops (benchmarks).
#[derive(Default)]
pub struct NullSink {
    count: std::sync::atomic::AtomicU64,
}

impl NullSink {
    /// Outputs seen.
    pub fn count(&self) -> u64 {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl EventSink for NullSink {
    fn emit(&self, _output: Output, _ack: &AckToken) {
        self.count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Which entity a snapshot belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EntityKey {
    /// A machine.
    Machine(MachineId),
    /// A wallet.
    Wallet(PlayerId),
    /// A jackpot pool.
    Pool(PoolId),
    /// A hall's GGR.
    Hall(HallId),
}

/// The state of one entity, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Snapshot {
    /// A machine.
    Machine(MachineState),
    /// A wallet.
    Wallet(WalletState),
    /// A jackpot pool.
    Pool(PoolState),
    /// A hall's GGR.
    Hall(HallState),
}

impl Snapshot {
    /// The entity it belongs to.
    pub fn key(&self) -> EntityKey {
        match self {
            Snapshot::Machine(s) => EntityKey::Machine(s.id.clone()),
            Snapshot::Wallet(s) => EntityKey::Wallet(s.id.clone()),
            Snapshot::Pool(s) => EntityKey::Pool(s.id.clone()),
            Snapshot::Hall(s) => EntityKey::Hall(s.id.clone()),
        }
    }
}

/// Why a store call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

/// Where entity state is kept. `stash` hands over a state synchronously (a passivating actor
/// must be able to let go of its state before another actor for the same entity loads it);
/// making it durable is the implementation's business.
pub trait StateStore: Send + Sync + 'static {
    /// The last state of an entity, if any.
    fn load(&self, key: &EntityKey) -> BoxFuture<Result<Option<Snapshot>, StoreError>>;
    /// Hands over an entity's current state.
    fn stash(&self, snapshot: Snapshot);
    /// Every stored state (for recounts and audits; not on the hot path).
    fn all(&self) -> BoxFuture<Result<Vec<Snapshot>, StoreError>>;
    /// Makes everything stashed so far durable. Resolves to `true` when it is, `false` for a
    /// store that keeps nothing across a restart (then no input offset may ever be stored,
    /// and a restart replays the input from the start).
    fn flush(&self) -> BoxFuture<Result<bool, StoreError>>;
}

/// A store in memory.
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<EntityKey, Snapshot>>,
}

impl StateStore for MemoryStore {
    fn load(&self, key: &EntityKey) -> BoxFuture<Result<Option<Snapshot>, StoreError>> {
        let got = self.map.lock().expect("store lock").get(key).cloned();
        Box::pin(async move { Ok(got) })
    }

    fn stash(&self, snapshot: Snapshot) {
        self.map
            .lock()
            .expect("store lock")
            .insert(snapshot.key(), snapshot);
    }

    fn all(&self) -> BoxFuture<Result<Vec<Snapshot>, StoreError>> {
        let all = self
            .map
            .lock()
            .expect("store lock")
            .values()
            .cloned()
            .collect();
        Box::pin(async move { Ok(all) })
    }

    fn flush(&self) -> BoxFuture<Result<bool, StoreError>> {
        Box::pin(async { Ok(false) })
    }
}
