//! The embedded store: one redb file in the data directory.
//!
//! Why redb: pure Rust (no C toolchain, no system library), a single file, ACID with
//! copy-on-write B-trees and fsync on commit, and a plain key-value API we control the
//! layout of. One write transaction per flush makes a whole checkpoint (states, ledger,
//! GGR windows, input positions) atomic: after a crash the file holds the last committed
//! checkpoint exactly, never half of one. Quick-repair is on: each commit also saves the
//! allocator state, so reopening after a crash does not walk the whole file (restart time
//! stays flat as the state grows). An LSM store (fjall, RocksDB) would take writes faster
//! but needs its own journal tuning and compaction; at one transaction per second the
//! B-tree's write cost is not what limits us, and reads (lazy loads) are single lookups.
//!
//! Layout (keys are bytes; `key` = one kind byte `m`/`w`/`p`/`h` + the entity id):
//!
//! | table      | key                                   | value                                |
//! |------------|---------------------------------------|--------------------------------------|
//! | entities   | key                                   | record: version, movements, state    |
//! | journal    | checkpoint number, chunk (BE)         | the checkpoint's ledger pages        |
//! | ggr        | hall id, 0x00, window start (BE)      | bets, wins, games, revision          |
//! | positions  | topic, 0x00, partition (BE)           | next offset                          |
//! | wallet_txs | player, provider, tx (each: length u16 BE, bytes) | a wallet's answered command or tombstone (RULES.md W-1) |
//! | wallet_tx_expiry | first-write time (ms, BE), then the wallet_txs key | nothing: the retention index |
//! | machine_log | machine id, 0x00, entry number (BE)  | a machine's event log entry (RULES.md M-9) |
//! | meta       | `format`                              | layout version                       |
//!
//! The ledger is a journal: each checkpoint appends its ledger pages (per entity, the
//! entries since the previous checkpoint, consecutive movement numbers) under the next
//! checkpoint number (kept in `meta`, advanced in the same transaction), in chunks of about
//! a megabyte. Appending at the end of the B-tree dirties a few pages per checkpoint, where
//! a key per entity would dirty a page per entity touched; the audit reads the journal
//! whole. A failed checkpoint is rolled back whole, so its number is reused by the next
//! attempt and no movement is ever stored twice; the movement numbers inside (stored with
//! each state) keep the per-entity order.
//!
//! Wallet transactions are kept for `store.wallet-tx-retention-days` from their first write
//! (RULES.md W-1): the first write of a key also enters it in `wallet_tx_expiry`, ordered by
//! time, and every checkpoint deletes, in the same transaction, the keys whose first write
//! is older than the retention (at most [`EXPIRE_PER_CHECKPOINT`] of them, the rest at the
//! next one). The cost follows what expires, not what is kept. Rows written before this
//! index existed are kept.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pitboss_actors::domain::desk::DeskState;
use pitboss_actors::domain::ggr::GgrTotals;
use pitboss_actors::domain::machine::LogEntry;
use pitboss_actors::domain::wallet::{Recalled, TxKey};
use pitboss_actors::domain::{EntityKind, HallId, MachineId, PlayerId, Timestamp};
use pitboss_actors::shell::ports::{BoxFuture, StoredWindows};
use pitboss_actors::shell::{EntityKey, Failure, Position, Snapshot, StoreError, Stored};
use redb::{Database, ReadableTable, TableDefinition};

use super::audit::{AuditSource, LedgerSink};
use super::codec::{self, GgrRow};
use super::writebehind::{Backend, Batch, Written};

pub(super) const ENTITIES: TableDefinition<'static, &[u8], &[u8]> =
    TableDefinition::new("entities");
pub(super) const JOURNAL: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("journal");
pub(super) const GGR: TableDefinition<'static, &[u8], &[u8]> = TableDefinition::new("ggr");
pub(super) const POSITIONS: TableDefinition<'static, &[u8], i64> =
    TableDefinition::new("positions");
pub(super) const META: TableDefinition<'static, &str, u64> = TableDefinition::new("meta");
pub(super) const WALLET_TXS: TableDefinition<'static, &[u8], &[u8]> =
    TableDefinition::new("wallet_txs");
pub(super) const MACHINE_LOG: TableDefinition<'static, &[u8], &[u8]> =
    TableDefinition::new("machine_log");
pub(super) const WALLET_TX_EXPIRY: TableDefinition<'static, &[u8], ()> =
    TableDefinition::new("wallet_tx_expiry");

/// Most wallet transactions one checkpoint deletes for age: a backlog (after a long stop)
/// is worked off over several checkpoints instead of making one of them long.
pub const EXPIRE_PER_CHECKPOINT: usize = 10_000;

/// The wall clock, in ms since the epoch; tests pass their own.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How long wallet transactions are kept, and the clock that ages them.
#[derive(Clone)]
pub struct Retention {
    /// Milliseconds from a key's first write.
    pub wallet_tx_ms: i64,
    pub clock: Clock,
}

impl Retention {
    /// The given retention against the system clock.
    pub fn wall(wallet_tx_ms: i64) -> Self {
        Self {
            wallet_tx_ms,
            clock: Arc::new(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64)
            }),
        }
    }
}

impl Default for Retention {
    /// The default of `store.wallet-tx-retention-days` (30).
    fn default() -> Self {
        Self::wall(30 * 86_400_000)
    }
}

/// The layout version this build writes.
pub(super) const FORMAT: u64 = 1;

/// The file name in the data directory.
pub const FILE_NAME: &str = "pitboss.redb";

/// Switches that make the embedded store fail on purpose (outage tests): while set, every
/// write aborts its transaction (after writing into it, before committing) and every read
/// fails.
#[derive(Debug, Default)]
pub struct Faults {
    /// Fail checkpoints.
    pub writes: AtomicBool,
    /// Fail reads.
    pub reads: AtomicBool,
}

/// The redb backend.
pub struct Redb {
    db: Arc<Database>,
    path: PathBuf,
    faults: Arc<Faults>,
    retention: Retention,
}

/// Whether a redb failure may heal. I/O may (a disk freed, a device back) and so may a lock
/// held by another process; a corrupt file, a layout this build cannot use, or the state redb
/// keeps after an I/O error inside a commit (it asks to be reopened) cannot.
fn failure(e: &redb::Error) -> Failure {
    match e {
        redb::Error::Io(_) | redb::Error::DatabaseAlreadyOpen => Failure::Transient,
        _ => Failure::Permanent,
    }
}

/// Every stored state of one kind: its keys are one range, from its kind byte.
fn states_of_kind(db: &Database, p: &Path, kind: EntityKind) -> Result<Vec<Snapshot>, StoreError> {
    let tx = db.begin_read().map_err(err("starting a read", p))?;
    let t = tx
        .open_table(ENTITIES)
        .map_err(err("opening entities", p))?;
    let (lo, hi) = codec::kind_key_range(kind);
    let mut out = Vec::new();
    for item in t
        .range(&lo[..]..&hi[..])
        .map_err(err("reading states", p))?
    {
        let (k, v) = item.map_err(err("reading states", p))?;
        let (snapshot, _) = codec::decode_record(v.value())
            .map_err(|e| e.context(format_args!("{:?}", codec::key_from_bytes(k.value()))))?;
        out.push(snapshot);
    }
    Ok(out)
}

fn err<'a, E: Into<redb::Error>>(
    what: &'static str,
    path: &'a Path,
) -> impl Fn(E) -> StoreError + 'a {
    move |e| {
        let e: redb::Error = e.into();
        StoreError::new(
            failure(&e),
            format!("embedded store {}: {what}: {e}", path.display()),
        )
    }
}

fn ggr_key(hall: &HallId, window: Timestamp) -> Vec<u8> {
    let mut k = Vec::with_capacity(hall.as_str().len() + 9);
    k.extend_from_slice(hall.as_str().as_bytes());
    k.push(0);
    // Flip the sign bit so that negative instants sort first.
    k.extend_from_slice(&((window.0 as u64) ^ (1 << 63)).to_be_bytes());
    k
}

/// A stored GGR row from its key and value.
fn ggr_row(k: &[u8], v: &[u8]) -> Result<GgrRow, StoreError> {
    let (hall, window) = ggr_from_key(k)?;
    let (totals, revision): (GgrTotals, u32) = codec::decode_ggr(v)?;
    Ok(GgrRow {
        hall,
        window,
        totals,
        revision,
    })
}

fn ggr_from_key(k: &[u8]) -> Result<(HallId, Timestamp), StoreError> {
    let bad = || StoreError::permanent(format!("malformed GGR key {k:?}"));
    let split = k.len().checked_sub(9).ok_or_else(bad)?;
    let hall = std::str::from_utf8(&k[..split]).map_err(|_| bad())?;
    let raw: [u8; 8] = k[split + 1..].try_into().map_err(|_| bad())?;
    let w = (u64::from_be_bytes(raw) ^ (1 << 63)) as i64;
    Ok((
        HallId::new(hall).map_err(|e| StoreError::permanent(format!("GGR key: {e}")))?,
        Timestamp(w),
    ))
}

/// A wallet transaction's key: each part length-prefixed, so no id can run into the next.
fn tx_key(player: &PlayerId, key: &TxKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(64);
    for part in [player.as_str(), key.provider.as_str(), key.tx.as_str()] {
        k.extend_from_slice(&(part.len() as u16).to_be_bytes());
        k.extend_from_slice(part.as_bytes());
    }
    k
}

/// A `machine_log` key: the machine (printable ASCII, no 0x00), 0x00, the entry number.
fn log_key(machine: &MachineId, number: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(machine.as_str().len() + 9);
    k.extend_from_slice(machine.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(&number.to_be_bytes());
    k
}

fn position_key(topic: &str, partition: i32) -> Vec<u8> {
    let mut k = Vec::with_capacity(topic.len() + 5);
    k.extend_from_slice(topic.as_bytes());
    k.push(0);
    k.extend_from_slice(&partition.to_be_bytes());
    k
}

/// A `positions` row as the position it records.
pub(super) fn position_from_key(k: &[u8], next_offset: i64) -> Result<Position, StoreError> {
    let bad = || StoreError::permanent(format!("malformed position key {k:?}"));
    let split = k.len().checked_sub(5).ok_or_else(bad)?;
    let topic = std::str::from_utf8(&k[..split]).map_err(|_| bad())?;
    let raw: [u8; 4] = k[split + 1..].try_into().map_err(|_| bad())?;
    Ok(Position {
        topic: topic.to_string(),
        partition: i32::from_be_bytes(raw),
        next_offset,
    })
}

fn journal_key(checkpoint: u64, chunk: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&checkpoint.to_be_bytes());
    k[8..].copy_from_slice(&chunk.to_be_bytes());
    k
}

/// Largest journal chunk, bytes (about).
const JOURNAL_CHUNK_BYTES: usize = 1 << 20;

/// One entity's ledger entries of one checkpoint, in a journal chunk.
#[derive(serde::Serialize, serde::Deserialize)]
struct JournalPage {
    key: serde_bytes::ByteBuf,
    entries: serde_bytes::ByteBuf,
}

impl Redb {
    /// Opens (or creates) the store file `dir/pitboss.redb`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_faults(dir, Arc::new(Faults::default()))
    }

    /// As [`Redb::open`], with fault switches (tests).
    pub fn open_with_faults(dir: &Path, faults: Arc<Faults>) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::transient(format!(
                "embedded store: cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(FILE_NAME);
        let db = Database::builder()
            .create(&path)
            .map_err(err("opening", &path))?;
        let mut tx = db
            .begin_write()
            .map_err(err("starting a transaction", &path))?;
        tx.set_quick_repair(true);
        {
            let mut meta = tx.open_table(META).map_err(err("opening meta", &path))?;
            let format = meta
                .get("format")
                .map_err(err("reading the format", &path))?
                .map(|v| v.value());
            match format {
                None => {
                    meta.insert("format", FORMAT)
                        .map_err(err("writing the format", &path))?;
                }
                Some(f) if f > FORMAT => {
                    return Err(StoreError::permanent(format!(
                        "embedded store {}: layout version {f} is newer than this build reads ({FORMAT})",
                        path.display()
                    )))
                }
                Some(_) => {}
            }
            tx.open_table(ENTITIES)
                .map_err(err("creating tables", &path))?;
            tx.open_table(JOURNAL)
                .map_err(err("creating tables", &path))?;
            tx.open_table(GGR).map_err(err("creating tables", &path))?;
            tx.open_table(POSITIONS)
                .map_err(err("creating tables", &path))?;
            tx.open_table(WALLET_TXS)
                .map_err(err("creating tables", &path))?;
            tx.open_table(WALLET_TX_EXPIRY)
                .map_err(err("creating tables", &path))?;
            tx.open_table(MACHINE_LOG)
                .map_err(err("creating tables", &path))?;
        }
        tx.commit().map_err(err("creating tables", &path))?;
        Ok(Self {
            db: Arc::new(db),
            path,
            faults,
            retention: Retention::default(),
        })
    }

    /// Keeps wallet transactions for this retention (default: 30 days, system clock).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open database, for a backup's read transaction (`store::backup`): redb locks the
    /// file, so only the process holding it can read it while it runs.
    pub(super) fn database(&self) -> &Database {
        &self.db
    }

    /// Reads each key of `keys` (an id and its table key) in one read transaction, inline:
    /// point reads from the page cache cost less than a trip to a blocking thread.
    fn point_reads<I, T>(
        &self,
        table: TableDefinition<'static, &[u8], &[u8]>,
        (opening, reading): (&'static str, &'static str),
        keys: impl Iterator<Item = (I, Vec<u8>)>,
        decode: impl Fn(&[u8]) -> Result<T, StoreError>,
    ) -> Result<Vec<(I, Option<T>)>, StoreError> {
        self.check_reads()?;
        let p = &self.path;
        let tx = self.db.begin_read().map_err(err("starting a read", p))?;
        let t = tx.open_table(table).map_err(err(opening, p))?;
        keys.map(|(id, k)| {
            let v = t.get(&k[..]).map_err(err(reading, p))?;
            Ok((id, v.map(|v| decode(v.value())).transpose()?))
        })
        .collect()
    }

    fn check_reads(&self) -> Result<(), StoreError> {
        if self.faults.reads.load(Ordering::Acquire) {
            return Err(StoreError::transient(format!(
                "embedded store {}: injected read fault",
                self.path.display()
            )));
        }
        Ok(())
    }

    fn read_now(&self, key: &EntityKey) -> Result<Option<Stored>, StoreError> {
        self.check_reads()?;
        let p = &self.path;
        let tx = self.db.begin_read().map_err(err("starting a read", p))?;
        let t = tx
            .open_table(ENTITIES)
            .map_err(err("opening entities", p))?;
        let Some(v) = t
            .get(&codec::key_bytes(key)[..])
            .map_err(err("reading", p))?
        else {
            return Ok(None);
        };
        let (snapshot, movements) =
            codec::decode_record(v.value()).map_err(|e| e.context(format_args!("{key:?}")))?;
        Ok(Some(Stored {
            snapshot,
            movements,
        }))
    }

    /// Runs `f` on a blocking thread (redb calls block on disk).
    fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database, &Path) -> Result<T, StoreError> + Send + 'static,
    ) -> BoxFuture<Result<T, StoreError>> {
        let db = self.db.clone();
        let path = self.path.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || f(&db, &path))
                .await
                .map_err(|e| {
                    // A panic in the task is a bug; a cancelled task (runtime shutting down)
                    // may run again.
                    let failure = if e.is_panic() {
                        Failure::Permanent
                    } else {
                        Failure::Transient
                    };
                    StoreError::new(failure, format!("embedded store task: {e}"))
                })?
        })
    }
}

/// A `wallet_tx_expiry` key: the first-write time, then the `wallet_txs` key.
fn expiry_key(at_ms: i64, tx_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + tx_key.len());
    // Times before 1970 sort first: they are the oldest.
    k.extend_from_slice(&at_ms.max(0).to_be_bytes());
    k.extend_from_slice(tx_key);
    k
}

/// Deletes the wallet transactions first written before `cutoff_ms` (at most
/// [`EXPIRE_PER_CHECKPOINT`]), with their expiry entries. Returns the rows deleted.
fn expire_txs(tx: &redb::WriteTransaction, p: &Path, cutoff_ms: i64) -> Result<u64, StoreError> {
    let mut expiry = tx
        .open_table(WALLET_TX_EXPIRY)
        .map_err(err("opening the wallet transaction expiry", p))?;
    let end = cutoff_ms.max(0).to_be_bytes();
    let expired: Vec<Vec<u8>> = expiry
        .range::<&[u8]>(..&end[..])
        .map_err(err("reading the wallet transaction expiry", p))?
        .take(EXPIRE_PER_CHECKPOINT)
        .map(|e| e.map(|(k, _)| k.value().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(err("reading the wallet transaction expiry", p))?;
    if expired.is_empty() {
        return Ok(0);
    }
    let mut t = tx
        .open_table(WALLET_TXS)
        .map_err(err("opening wallet transactions", p))?;
    for k in &expired {
        expiry
            .remove(&k[..])
            .map_err(err("deleting a wallet transaction expiry", p))?;
        t.remove(&k[8..])
            .map_err(err("deleting an expired wallet transaction", p))?;
    }
    Ok(2 * expired.len() as u64)
}

fn write_batch(
    db: &Database,
    p: &Path,
    batch: &Batch,
    ggr: &[GgrRow],
    faults: &Faults,
    retention: &Retention,
) -> Result<Written, StoreError> {
    let now = (retention.clock)();
    let mut tx = db.begin_write().map_err(err("starting a transaction", p))?;
    tx.set_quick_repair(true);
    let (mut rows, mut bytes) = (0u64, 0u64);
    {
        // Sorted keys: neighbouring inserts touch the same B-tree pages.
        let mut states = Vec::with_capacity(batch.entities.len());
        for (key, (snapshot, movements)) in &batch.entities {
            states.push((
                codec::key_bytes(key),
                codec::encode_record(snapshot, *movements)?,
            ));
        }
        states.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut t = tx
            .open_table(ENTITIES)
            .map_err(err("opening entities", p))?;
        for (k, v) in &states {
            t.insert(&k[..], &v[..])
                .map_err(err("writing a state", p))?;
            rows += 1;
            bytes += (k.len() + v.len()) as u64;
        }
    }
    if !batch.ledger.is_empty() {
        let checkpoint = {
            let mut meta = tx.open_table(META).map_err(err("opening meta", p))?;
            let n = meta
                .get("checkpoint")
                .map_err(err("reading the checkpoint number", p))?
                .map_or(0, |v| v.value())
                + 1;
            meta.insert("checkpoint", n)
                .map_err(err("writing the checkpoint number", p))?;
            n
        };
        let mut t = tx
            .open_table(JOURNAL)
            .map_err(err("opening the journal", p))?;
        let mut chunks: Vec<Vec<JournalPage>> = vec![Vec::new()];
        let mut chunk_bytes = 0usize;
        for (key, entries) in &batch.ledger {
            let page = JournalPage {
                key: serde_bytes::ByteBuf::from(codec::key_bytes(key)),
                entries: serde_bytes::ByteBuf::from(codec::encode_entries(entries)?),
            };
            if chunk_bytes >= JOURNAL_CHUNK_BYTES {
                chunks.push(Vec::new());
                chunk_bytes = 0;
            }
            chunk_bytes += page.key.len() + page.entries.len();
            chunks.last_mut().expect("one chunk at least").push(page);
        }
        for (i, chunk) in chunks.iter().enumerate() {
            let v = rmp_serde::to_vec_named(chunk)
                .map_err(|e| StoreError::permanent(format!("encoding the journal: {e}")))?;
            let k = journal_key(checkpoint, i as u32);
            t.insert(&k[..], &v[..])
                .map_err(err("writing the journal", p))?;
            rows += 1;
            bytes += (k.len() + v.len()) as u64;
        }
    }
    {
        let mut t = tx.open_table(GGR).map_err(err("opening GGR", p))?;
        for row in ggr {
            let k = ggr_key(&row.hall, row.window);
            let value = codec::encode_ggr(row)?;
            t.insert(&k[..], &value[..])
                .map_err(err("writing GGR", p))?;
            rows += 1;
            bytes += (k.len() + value.len()) as u64;
        }
    }
    if !batch.txs.is_empty() {
        let mut txs = Vec::with_capacity(batch.txs.len());
        for ((player, key), record) in &batch.txs {
            txs.push((tx_key(player, key), codec::encode_tx(record)?));
        }
        txs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut t = tx
            .open_table(WALLET_TXS)
            .map_err(err("opening wallet transactions", p))?;
        let mut expiry = tx
            .open_table(WALLET_TX_EXPIRY)
            .map_err(err("opening the wallet transaction expiry", p))?;
        for (k, v) in &txs {
            let first = t
                .insert(&k[..], &v[..])
                .map_err(err("writing a wallet transaction", p))?
                .is_none();
            rows += 1;
            bytes += (k.len() + v.len()) as u64;
            if first {
                // Retention counts from the first answer (RULES.md W-1).
                expiry
                    .insert(&expiry_key(now, k)[..], ())
                    .map_err(err("writing the wallet transaction expiry", p))?;
                rows += 1;
                bytes += k.len() as u64 + 8;
            }
        }
    }
    rows += expire_txs(&tx, p, now - retention.wallet_tx_ms)?;
    if !batch.log.is_empty() {
        let mut t = tx
            .open_table(MACHINE_LOG)
            .map_err(err("opening the machine log", p))?;
        for ((machine, number), e) in &batch.log {
            let (k, v) = (log_key(machine, *number), codec::encode_log(e)?);
            t.insert(&k[..], &v[..])
                .map_err(err("writing a machine log entry", p))?;
            rows += 1;
            bytes += (k.len() + v.len()) as u64;
        }
    }
    {
        let mut t = tx
            .open_table(POSITIONS)
            .map_err(err("opening positions", p))?;
        for ((topic, partition), next) in &batch.positions {
            let k = position_key(topic, *partition);
            t.insert(&k[..], *next)
                .map_err(err("writing a position", p))?;
            rows += 1;
            bytes += k.len() as u64 + 8;
        }
    }
    if faults.writes.load(Ordering::Acquire) {
        // Dropping the transaction aborts it: nothing written above becomes visible.
        drop(tx);
        return Err(StoreError::transient(format!(
            "embedded store {}: injected write fault",
            p.display()
        )));
    }
    tx.commit().map_err(err("committing a checkpoint", p))?;
    Ok(Written { rows, bytes })
}

impl Backend for Redb {
    fn write(&self, batch: Arc<Batch>, ggr: Vec<GgrRow>) -> BoxFuture<Result<Written, StoreError>> {
        let (faults, retention) = (self.faults.clone(), self.retention.clone());
        self.blocking(move |db, p| write_batch(db, p, &batch, &ggr, &faults, &retention))
    }

    fn read(&self, key: &EntityKey) -> BoxFuture<Result<Option<Stored>, StoreError>> {
        // A point read from the page cache takes microseconds: done inline rather than on a
        // blocking thread, which would cost more than the read.
        let got = self.read_now(key);
        Box::pin(async move { got })
    }

    fn read_txs(
        &self,
        player: &PlayerId,
        keys: &[TxKey],
    ) -> BoxFuture<Result<Recalled, StoreError>> {
        let got = self.point_reads(
            WALLET_TXS,
            (
                "opening wallet transactions",
                "reading a wallet transaction",
            ),
            keys.iter().map(|k| (k.clone(), tx_key(player, k))),
            codec::decode_tx,
        );
        Box::pin(async move { got })
    }

    fn read_windows(
        &self,
        hall: &HallId,
        windows: &[Timestamp],
    ) -> BoxFuture<Result<StoredWindows, StoreError>> {
        let got = self.point_reads(
            GGR,
            ("opening GGR", "reading a GGR window"),
            windows.iter().map(|w| (*w, ggr_key(hall, *w))),
            codec::decode_ggr,
        );
        Box::pin(async move { got })
    }

    fn read_log(
        &self,
        machine: &MachineId,
        before: u64,
        limit: usize,
    ) -> BoxFuture<Result<Vec<LogEntry>, StoreError>> {
        let r = self.check_reads();
        let (lo, hi) = (log_key(machine, 0), log_key(machine, before));
        self.blocking(move |db, p| {
            r?;
            let tx = db.begin_read().map_err(err("starting a read", p))?;
            let t = tx
                .open_table(MACHINE_LOG)
                .map_err(err("opening the machine log", p))?;
            let mut out = Vec::new();
            let range = t
                .range(&lo[..]..&hi[..])
                .map_err(err("reading the machine log", p))?;
            for item in range.rev().take(limit) {
                let (_, v) = item.map_err(err("reading the machine log", p))?;
                out.push(codec::decode_log(v.value())?);
            }
            Ok(out)
        })
    }

    fn halls_to_publish(&self) -> BoxFuture<Result<Vec<HallId>, StoreError>> {
        let r = self.check_reads();
        self.blocking(move |db, p| {
            r?;
            let mut out = Vec::new();
            for s in states_of_kind(db, p, EntityKind::Hall)? {
                if let Snapshot::Hall(h) = s {
                    if !h.outbox.is_empty() {
                        out.push(h.id);
                    }
                }
            }
            Ok(out)
        })
    }

    fn read_positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        let r = self.check_reads();
        self.blocking(move |db, p| {
            r?;
            let tx = db.begin_read().map_err(err("starting a read", p))?;
            let t = tx
                .open_table(POSITIONS)
                .map_err(err("opening positions", p))?;
            let mut out = Vec::new();
            for item in t.iter().map_err(err("reading positions", p))? {
                let (k, v) = item.map_err(err("reading positions", p))?;
                out.push(position_from_key(k.value(), v.value())?);
            }
            Ok(out)
        })
    }
}

impl AuditSource for Redb {
    fn entities(&self) -> BoxFuture<Result<Vec<Stored>, StoreError>> {
        let r = self.check_reads();
        self.blocking(move |db, p| {
            r?;
            let tx = db.begin_read().map_err(err("starting a read", p))?;
            let t = tx
                .open_table(ENTITIES)
                .map_err(err("opening entities", p))?;
            let mut out = Vec::new();
            for item in t.iter().map_err(err("reading entities", p))? {
                let (k, v) = item.map_err(err("reading entities", p))?;
                let (snapshot, movements) = codec::decode_record(v.value()).map_err(|e| {
                    e.context(format_args!("{:?}", codec::key_from_bytes(k.value())))
                })?;
                out.push(Stored {
                    snapshot,
                    movements,
                });
            }
            Ok(out)
        })
    }

    fn scan_ledger(
        &self,
        mut totals: Box<dyn LedgerSink>,
    ) -> BoxFuture<Result<Box<dyn LedgerSink>, StoreError>> {
        let r = self.check_reads();
        self.blocking(move |db, p| {
            r?;
            let tx = db.begin_read().map_err(err("starting a read", p))?;
            let t = tx
                .open_table(JOURNAL)
                .map_err(err("opening the journal", p))?;
            for item in t.iter().map_err(err("reading the journal", p))? {
                let (_, v) = item.map_err(err("reading the journal", p))?;
                let pages: Vec<JournalPage> = rmp_serde::from_slice(v.value()).map_err(|e| {
                    StoreError::permanent(format!("a journal chunk cannot be decoded: {e}"))
                })?;
                for page in pages {
                    let key = codec::key_from_bytes(&page.key)?;
                    for e in codec::decode_entries(&page.entries)? {
                        totals.add(&key, &e);
                    }
                }
            }
            Ok(totals)
        })
    }

    fn positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        Backend::read_positions(self)
    }

    fn ggr_rows(&self) -> BoxFuture<Result<Option<Vec<GgrRow>>, StoreError>> {
        let r = self.check_reads();
        self.blocking(move |db, p| {
            r?;
            let tx = db.begin_read().map_err(err("starting a read", p))?;
            let t = tx.open_table(GGR).map_err(err("opening GGR", p))?;
            let mut out = Vec::new();
            for item in t.iter().map_err(err("reading GGR", p))? {
                let (k, v) = item.map_err(err("reading GGR", p))?;
                out.push(ggr_row(k.value(), v.value())?);
            }
            Ok(Some(out))
        })
    }

    /// The desks' keys are one range (their kind byte).
    fn desks(&self) -> BoxFuture<Result<Vec<DeskState>, StoreError>> {
        let r = self.check_reads();
        self.blocking(move |db, p| {
            r?;
            Ok(states_of_kind(db, p, EntityKind::Desk)?
                .into_iter()
                .filter_map(|s| match s {
                    Snapshot::Desk(d) => Some(d),
                    _ => None,
                })
                .collect())
        })
    }

    /// Per hall, a range of its windows: the keys sort by hall then window, so each hall is
    /// one seek to its first key and one range read, whatever the history stored.
    fn ggr_rows_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        hall: Option<HallId>,
    ) -> BoxFuture<Result<Option<Vec<GgrRow>>, StoreError>> {
        let r = self.check_reads();
        self.blocking(move |db, p| {
            r?;
            let tx = db.begin_read().map_err(err("starting a read", p))?;
            let t = tx.open_table(GGR).map_err(err("opening GGR", p))?;
            let mut out = Vec::new();
            if let Some(hall) = hall {
                let (lo, hi) = (ggr_key(&hall, from), ggr_key(&hall, to));
                for item in t.range(&lo[..]..&hi[..]).map_err(err("reading GGR", p))? {
                    let (k, v) = item.map_err(err("reading GGR", p))?;
                    out.push(ggr_row(k.value(), v.value())?);
                }
                return Ok(Some(out));
            }
            // The first key of the next hall is at or after `hall` + 0x01: a hall id has no
            // byte below 0x20, and its keys are `hall` + 0x00 + window.
            let mut next_hall: Vec<u8> = Vec::new();
            loop {
                let first = t
                    .range(&next_hall[..]..)
                    .map_err(err("reading GGR", p))?
                    .next();
                let Some(item) = first else { break };
                let (k, _) = item.map_err(err("reading GGR", p))?;
                let (hall, _) = ggr_from_key(k.value())?;
                let (lo, hi) = (ggr_key(&hall, from), ggr_key(&hall, to));
                for item in t.range(&lo[..]..&hi[..]).map_err(err("reading GGR", p))? {
                    let (k, v) = item.map_err(err("reading GGR", p))?;
                    out.push(ggr_row(k.value(), v.value())?);
                }
                next_hall = hall.as_str().as_bytes().to_vec();
                next_hall.push(1);
            }
            Ok(Some(out))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_failures_may_heal_a_broken_file_cannot() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
        assert_eq!(failure(&redb::Error::Io(io)), Failure::Transient);
        assert_eq!(
            failure(&redb::Error::Corrupted("bad page".into())),
            Failure::Permanent
        );
        assert_eq!(failure(&redb::Error::PreviousIo), Failure::Permanent);
        assert_eq!(
            failure(&redb::Error::UpgradeRequired(3)),
            Failure::Permanent
        );
    }

    #[test]
    fn injected_faults_are_transient_and_a_newer_layout_is_permanent() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Arc::new(Faults::default());
        let r = Redb::open_with_faults(dir.path(), faults.clone()).unwrap();
        faults.reads.store(true, Ordering::SeqCst);
        let key = EntityKey::Hall(HallId::new("H-1").unwrap());
        assert!(r.read_now(&key).unwrap_err().is_transient());
        drop(r);
        {
            let db = Database::builder()
                .create(dir.path().join(FILE_NAME))
                .unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(META)
                .unwrap()
                .insert("format", FORMAT + 1)
                .unwrap();
            tx.commit().unwrap();
        }
        let e = Redb::open(dir.path())
            .err()
            .expect("a newer layout is refused");
        assert!(!e.is_transient(), "{e}");
    }

    /// W-1 retention: a wallet transaction is deleted once its first write is older than the
    /// retention, counted from the first write even when the record changed since.
    #[test]
    fn wallet_transactions_expire_after_the_retention_from_their_first_write() {
        use pitboss_actors::domain::wallet::TxRecord;
        use pitboss_actors::domain::{ServerId, TxId};
        use redb::ReadableTableMetadata;
        use std::sync::atomic::AtomicI64;

        const DAY: i64 = 86_400_000;
        let dir = tempfile::tempdir().unwrap();
        let now = Arc::new(AtomicI64::new(100 * DAY));
        let clock = now.clone();
        let r = Redb::open(dir.path()).unwrap().with_retention(Retention {
            wallet_tx_ms: 30 * DAY,
            clock: Arc::new(move || clock.load(Ordering::SeqCst)),
        });
        let player = PlayerId::new("P-1").unwrap();
        let key = |tx: &str| TxKey {
            provider: ServerId::new("GS-1").unwrap(),
            tx: TxId::new(tx).unwrap(),
        };
        let write = |txs: &[&str]| {
            let mut b = Batch::default();
            for tx in txs {
                b.txs.insert((player.clone(), key(tx)), TxRecord::Tombstone);
            }
            write_batch(&r.db, &r.path, &b, &[], &r.faults, &r.retention).unwrap();
        };
        let held = |tx: &str| {
            let rtx = r.db.begin_read().unwrap();
            let t = rtx.open_table(WALLET_TXS).unwrap();
            t.get(&tx_key(&player, &key(tx))[..]).unwrap().is_some()
        };
        write(&["T-1"]);
        now.store(110 * DAY, Ordering::SeqCst);
        write(&["T-2", "T-1"]); // T-1 rewritten: its retention still counts from day 100
        now.store(130 * DAY - 1, Ordering::SeqCst);
        write(&[]);
        assert!(held("T-1") && held("T-2"), "within the retention");
        now.store(130 * DAY + 1, Ordering::SeqCst);
        write(&[]);
        assert!(!held("T-1"), "T-1 expired 30 days after its first write");
        assert!(held("T-2"), "T-2 is 20 days old");
        now.store(140 * DAY + 1, Ordering::SeqCst);
        write(&[]);
        assert!(!held("T-2"));
        let rtx = r.db.begin_read().unwrap();
        assert!(
            rtx.open_table(WALLET_TX_EXPIRY)
                .unwrap()
                .is_empty()
                .unwrap(),
            "the index holds nothing that was deleted"
        );
    }

    #[test]
    fn ggr_keys_sort_by_window_and_round_trip() {
        let h = HallId::new("H-1").unwrap();
        let a = ggr_key(&h, Timestamp(-60_000));
        let b = ggr_key(&h, Timestamp(0));
        let c = ggr_key(&h, Timestamp(60_000));
        assert!(a < b && b < c);
        assert_eq!(ggr_from_key(&c).unwrap(), (h, Timestamp(60_000)));
    }

    /// The report's read (issue 13): per hall, only the windows in the range, halls whose
    /// ids prefix each other included; the same rows as the full scan filtered.
    #[test]
    fn ggr_rows_between_reads_each_halls_range() {
        use pitboss_actors::domain::ggr::GgrTotals;
        let dir = tempfile::tempdir().unwrap();
        let r = Redb::open(dir.path()).unwrap();
        let mut rows = Vec::new();
        for hall in ["H-001", "H-0010", "H-002", "Z"] {
            for minute in 0..10 {
                rows.push(GgrRow {
                    hall: HallId::new(hall).unwrap(),
                    window: Timestamp(minute * 60_000),
                    totals: GgrTotals {
                        bets: minute + 1,
                        ..GgrTotals::default()
                    },
                    revision: 0,
                });
            }
        }
        write_batch(
            &r.db,
            &r.path,
            &Batch::default(),
            &rows,
            &r.faults,
            &r.retention,
        )
        .unwrap();
        let (from, to) = (Timestamp(3 * 60_000), Timestamp(7 * 60_000));
        let rt = tokio::runtime::Runtime::new().unwrap();
        let got = rt
            .block_on(AuditSource::ggr_rows_between(&r, from, to, None))
            .unwrap()
            .unwrap();
        let want: Vec<GgrRow> = rows
            .into_iter()
            .filter(|w| w.window >= from && w.window < to)
            .collect();
        assert_eq!(got.len(), 16);
        assert_eq!(got, want);
        // One hall: its own range, not the hall whose id it prefixes.
        let h = HallId::new("H-001").unwrap();
        let one = rt
            .block_on(AuditSource::ggr_rows_between(&r, from, to, Some(h.clone())))
            .unwrap()
            .unwrap();
        let want_one: Vec<GgrRow> = want.into_iter().filter(|w| w.hall == h).collect();
        assert_eq!(one.len(), 4);
        assert_eq!(one, want_one);
    }
}
