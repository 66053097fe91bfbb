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
use crate::domain::{Currency, EventId, HallId, MachineId, PlayerId, PoolId, Timestamp, TxId};

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

/// What a ledger entry records: which balance or meter moved. Machines move their credits
/// (bets, wins, cash in and out) and pass jackpot awards through; wallets move their balance;
/// pools move a level's holdings (in micro-units).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Movement {
    /// A wager: machine credits or wallet balance down.
    Bet,
    /// A payout: machine credits or wallet balance up.
    Win,
    /// A banknote into a machine.
    BillIn,
    /// A ticket redeemed at a machine.
    TicketIn,
    /// A cashless transfer into a machine.
    CashlessIn,
    /// A ticket printed by a machine.
    TicketOut,
    /// A cashless transfer out of a machine.
    CashlessOut,
    /// A cash out paid by hand.
    Handpay,
    /// A jackpot award paid by hand for a hit on the machine (its credits do not change).
    JackpotPaid,
    /// Money into a wallet.
    Deposit,
    /// Money out of a wallet.
    Withdrawal,
    /// A rolled-back bet refunded to a wallet.
    Refund,
    /// The operator funds a pool level's seed (at creation and after each hit).
    Seed,
    /// Bet contributions into a pool level (aggregated, see [`LedgerEntry::causes`]).
    Contribution,
    /// A pool level paid out by a hit.
    Hit,
}

impl Movement {
    /// Every movement, for lookups.
    pub const ALL: [Movement; 15] = [
        Movement::Bet,
        Movement::Win,
        Movement::BillIn,
        Movement::TicketIn,
        Movement::CashlessIn,
        Movement::TicketOut,
        Movement::CashlessOut,
        Movement::Handpay,
        Movement::JackpotPaid,
        Movement::Deposit,
        Movement::Withdrawal,
        Movement::Refund,
        Movement::Seed,
        Movement::Contribution,
        Movement::Hit,
    ];

    /// A short stable name (stored in the ledger).
    pub fn code(self) -> &'static str {
        match self {
            Movement::Bet => "bet",
            Movement::Win => "win",
            Movement::BillIn => "bill_in",
            Movement::TicketIn => "ticket_in",
            Movement::CashlessIn => "cashless_in",
            Movement::TicketOut => "ticket_out",
            Movement::CashlessOut => "cashless_out",
            Movement::Handpay => "handpay",
            Movement::JackpotPaid => "jackpot_paid",
            Movement::Deposit => "deposit",
            Movement::Withdrawal => "withdrawal",
            Movement::Refund => "refund",
            Movement::Seed => "seed",
            Movement::Contribution => "contribution",
            Movement::Hit => "hit",
        }
    }

    /// The movement with this [`Movement::code`].
    pub fn from_code(code: &str) -> Option<Movement> {
        Movement::ALL.into_iter().find(|m| m.code() == code)
    }
}

/// One money movement of one entity, with its cause: the money ledger. Entities number their
/// movements 1, 2, ... without gaps, and the number is stored with their state, so a movement
/// replayed after a crash gets the same number and its write is an idempotent upsert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The entity's movement number (1, 2, ...).
    pub n: u64,
    /// What moved.
    pub kind: Movement,
    /// The pool level (0 for machines and wallets).
    pub level: u8,
    /// Signed change: minor units for machines and wallets, micro-units for pools.
    pub amount: i64,
    /// Balance after: machine credits, wallet balance, or the pool level's holdings
    /// (level, reserve and remainder) in micro-units.
    pub balance: i64,
    /// The input event that caused it; for an aggregate, the last one folded in.
    pub cause: EventId,
    /// Input events folded into this entry: 1, except for pool contributions, which are
    /// summed per level between two checkpoints (or until the level's next hit), and 0 for
    /// the seed funded when a pool is created.
    pub causes: u32,
    /// Event time; pools record processing time (a pool command carries no event time).
    pub time: Timestamp,
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
}

impl Stash {
    /// A stash of a state with no ledger.
    pub fn state(snapshot: Snapshot) -> Self {
        Self {
            snapshot,
            movements: 0,
            ledger: Vec::new(),
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
    /// The topic.
    pub topic: String,
    /// The partition.
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
    /// Records the input position the next flush makes durable together with the state.
    fn stash_position(&self, _position: Position) {}
    /// The input positions stored with the last durable flush.
    fn positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// A store in memory. Keeps no ledger unless made with [`MemoryStore::with_ledger`].
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<EntityKey, Stored>>,
    ledger: Option<Mutex<Vec<(EntityKey, LedgerEntry)>>>,
}

impl MemoryStore {
    /// A store in memory that keeps the money ledger too (tests of the ledger and audits).
    pub fn with_ledger() -> Self {
        Self {
            map: Mutex::default(),
            ledger: Some(Mutex::default()),
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
        if let Some(l) = &self.ledger {
            let mut l = l.lock().expect("store lock");
            l.extend(stash.ledger.iter().map(|e| (key.clone(), *e)));
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

    fn keeps_ledger(&self) -> bool {
        self.ledger.is_some()
    }
}
