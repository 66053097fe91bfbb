//! The ScyllaDB store, over CQL with the `scylla` driver (prepared statements, token-aware
//! load balancing, configurable consistency, optional TLS and password authentication).
//!
//! Tables: `schemas/cql/`. Every write is a plain upsert with a deterministic key (no
//! counters, no lightweight transactions, no `USING TIMESTAMP`/`TTL`): single-writer actors
//! make them unnecessary, and a replay writes the same rows.
//!
//! CQL has no atomic write across partitions (a logged batch is bounded in size and only
//! eventually complete), but a checkpoint must become visible whole: a stored machine whose
//! jackpot contribution is not stored in its pool would lose it after a crash. So a
//! checkpoint goes through a redo log:
//!
//! 1. its items are written to `checkpoint_log` under a new epoch number, in chunks;
//! 2. `checkpoint_head` (one row per instance, a single-partition write, atomic) records
//!    the epoch and its chunk count: this is the commit point;
//! 3. the items are applied to the tables (idempotent upserts);
//! 4. the head is marked applied and the chunks are deleted.
//!
//! On start, a head not marked applied is applied again from its chunks before anything is
//! read. A failed flush is retried under a new epoch with the failed items merged under the
//! newer ones, so a log is never rewritten in place.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture as Fut;
use futures::{StreamExt, TryStreamExt};
use pitboss_actors::domain::ggr::GgrTotals;
use pitboss_actors::domain::{HallId, Timestamp};
use pitboss_actors::shell::ports::BoxFuture;
use pitboss_actors::shell::{EntityKey, LedgerEntry, Position, Snapshot, StoreError, Stored};
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::policies::load_balancing::DefaultPolicy;
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::Consistency;
use scylla::value::CqlTimestamp;
use serde::{Deserialize, Serialize};

use super::audit::{AuditSource, LedgerTotals};
use super::codec::{self, GgrRow};
use super::writebehind::{Backend, Batch, Written};
use super::ScyllaConfig;

/// The CQL files `pitboss migrate` applies, in order (keyspace first).
pub const SCHEMA: &[(&str, &str)] = &[
    (
        "00_keyspace.cql",
        include_str!("../../schemas/cql/00_keyspace.cql"),
    ),
    (
        "10_entities.cql",
        include_str!("../../schemas/cql/10_entities.cql"),
    ),
    (
        "20_ledger.cql",
        include_str!("../../schemas/cql/20_ledger.cql"),
    ),
    ("30_ggr.cql", include_str!("../../schemas/cql/30_ggr.cql")),
    (
        "40_vouchers.cql",
        include_str!("../../schemas/cql/40_vouchers.cql"),
    ),
    (
        "50_processor.cql",
        include_str!("../../schemas/cql/50_processor.cql"),
    ),
];

/// Largest redo-log chunk, bytes (a CQL cell should stay well below a megabyte or two).
const CHUNK_BYTES_MAX: usize = 1 << 20;

macro_rules! ctx {
    ($what:expr) => {
        |e| StoreError(format!("scylla: {}: {e}", $what))
    };
}

/// The statements of a CQL file: comments (`--`) removed, split at `;`.
pub fn statements(text: &str) -> Vec<String> {
    let cleaned: String = text
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    cleaned
        .split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

fn consistency(name: &str) -> Result<Consistency, StoreError> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "one" => Consistency::One,
        "two" => Consistency::Two,
        "three" => Consistency::Three,
        "quorum" => Consistency::Quorum,
        "all" => Consistency::All,
        "local_quorum" => Consistency::LocalQuorum,
        "each_quorum" => Consistency::EachQuorum,
        "local_one" => Consistency::LocalOne,
        other => {
            return Err(StoreError(format!(
                "store.scylla.consistency {other:?} is not one of one, two, three, quorum, all, local_quorum, each_quorum, local_one"
            )))
        }
    })
}

fn tls_config(cfg: &ScyllaConfig) -> Result<Arc<rustls::ClientConfig>, StoreError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let read_certs = |path: &Path| -> Result<Vec<CertificateDer<'static>>, StoreError> {
        CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| StoreError(format!("TLS certificates in {}: {e}", path.display())))
    };
    if cfg.tls_ca_file.as_os_str().is_empty() {
        return Err(StoreError(
            "store.scylla.tls is on but store.scylla.tls-ca-file is empty: name the PEM file of the CA that signed the nodes' certificates".into(),
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    for c in read_certs(&cfg.tls_ca_file)? {
        roots.add(c).map_err(|e| {
            StoreError(format!(
                "TLS CA certificate in {}: {e}",
                cfg.tls_ca_file.display()
            ))
        })?;
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let config = if cfg.tls_cert_file.as_os_str().is_empty() {
        builder.with_no_client_auth()
    } else {
        let chain = read_certs(&cfg.tls_cert_file)?;
        let key = PrivateKeyDer::from_pem_file(&cfg.tls_key_file).map_err(|e| {
            StoreError(format!(
                "TLS private key in {}: {e}",
                cfg.tls_key_file.display()
            ))
        })?;
        builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| StoreError(format!("TLS client certificate: {e}")))?
    };
    Ok(Arc::new(config))
}

async fn session(cfg: &ScyllaConfig, keyspace: Option<&str>) -> Result<Session, StoreError> {
    let c = consistency(&cfg.consistency)?;
    let mut policy = DefaultPolicy::builder().token_aware(true);
    if !cfg.local_dc.is_empty() {
        policy = policy.prefer_datacenter(cfg.local_dc.clone());
    }
    let profile = ExecutionProfile::builder()
        .consistency(c)
        .request_timeout(Some(Duration::from_millis(cfg.request_timeout_ms.max(1))))
        .load_balancing_policy(policy.build())
        .build()
        .into_handle();
    let mut b = SessionBuilder::new()
        .known_nodes(&cfg.nodes)
        .default_execution_profile_handle(profile)
        .refresh_metadata_on_auto_schema_agreement(cfg.refresh_metadata_on_schema_agreement);
    if !cfg.username.is_empty() {
        b = b.user(cfg.username.clone(), cfg.password.clone());
    }
    if cfg.tls {
        b = b.tls_context(Some(tls_config(cfg)?));
    }
    if let Some(ks) = keyspace {
        b = b.use_keyspace(ks, false);
    }
    b.build().await.map_err(|e| {
        StoreError(format!(
            "scylla: connecting to {} (keyspace {}): {e}",
            cfg.nodes.join(","),
            keyspace.unwrap_or("-")
        ))
    })
}

fn valid_keyspace(ks: &str) -> Result<(), StoreError> {
    let ok = !ks.is_empty()
        && ks.len() <= 48
        && ks.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && ks.as_bytes()[0].is_ascii_alphabetic();
    if ok {
        Ok(())
    } else {
        Err(StoreError(format!(
            "store.scylla.keyspace {ks:?} must be 1 to 48 letters, digits or underscores, starting with a letter"
        )))
    }
}

/// `pitboss migrate` for ScyllaDB: creates the keyspace (with the configured name and
/// replication) and every table, each `IF NOT EXISTS`, so running it again changes nothing.
pub async fn migrate(cfg: &ScyllaConfig) -> Result<Vec<String>, StoreError> {
    valid_keyspace(&cfg.keyspace)?;
    let s = session(cfg, None).await?;
    let mut done = Vec::new();
    for (file, text) in SCHEMA {
        for stmt in statements(text) {
            let stmt = if stmt.starts_with("CREATE KEYSPACE") {
                format!(
                    "CREATE KEYSPACE IF NOT EXISTS {} WITH replication = {}",
                    cfg.keyspace, cfg.replication
                )
            } else {
                stmt.replacen(
                    "CREATE TABLE IF NOT EXISTS ",
                    &format!("CREATE TABLE IF NOT EXISTS {}.", cfg.keyspace),
                    1,
                )
            };
            s.query_unpaged(stmt.clone(), &[])
                .await
                .map_err(|e| StoreError(format!("scylla: migrate {file}: {stmt}: {e}")))?;
            let head: String = stmt.chars().take(72).collect();
            done.push(format!("{file}: {head}"));
        }
    }
    Ok(done)
}

/// One item of a checkpoint, as written to the redo log.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum LogItem {
    State {
        key: serde_bytes::ByteBuf,
        record: serde_bytes::ByteBuf,
    },
    Ledger {
        key: serde_bytes::ByteBuf,
        entries: serde_bytes::ByteBuf,
    },
    Ggr {
        hall: String,
        window: i64,
        bets: i64,
        wins: i64,
        games: i64,
        revision: u32,
    },
    Position {
        topic: String,
        partition: i32,
        next_offset: i64,
    },
}

/// A checkpoint ready to apply: what the tables get.
#[derive(Default)]
struct Apply {
    states: Vec<(EntityKey, Snapshot, u64, Vec<u8>)>,
    ledger: Vec<(EntityKey, LedgerEntry)>,
    ggr: Vec<GgrRow>,
    positions: Vec<Position>,
}

impl Apply {
    fn len(&self) -> usize {
        self.states.len() + self.ledger.len() + self.ggr.len() + self.positions.len()
    }

    fn add(&mut self, item: LogItem) -> Result<(), StoreError> {
        match item {
            LogItem::State { key, record } => {
                let key = codec::key_from_bytes(&key)?;
                let (snapshot, movements) = codec::decode_record(&record)?;
                self.states
                    .push((key, snapshot, movements, record.into_vec()));
            }
            LogItem::Ledger { key, entries } => {
                let key = codec::key_from_bytes(&key)?;
                for e in codec::decode_entries(&entries)? {
                    self.ledger.push((key.clone(), e));
                }
            }
            LogItem::Ggr {
                hall,
                window,
                bets,
                wins,
                games,
                revision,
            } => self.ggr.push(GgrRow {
                hall: HallId::new(&hall).map_err(|e| StoreError(format!("redo log: {e}")))?,
                window: Timestamp(window),
                totals: GgrTotals { bets, wins, games },
                revision,
            }),
            LogItem::Position {
                topic,
                partition,
                next_offset,
            } => self.positions.push(Position {
                topic,
                partition,
                next_offset,
            }),
        }
        Ok(())
    }
}

/// A MessagePack array header.
fn array_header(out: &mut Vec<u8>, len: usize) {
    if len < 16 {
        out.push(0x90 | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(0xdc);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// The checkpoint's items, and the same as redo-log chunks.
fn prepare(
    batch: &Batch,
    ggr: &[GgrRow],
    chunk_len: usize,
) -> Result<(Apply, Vec<Vec<u8>>), StoreError> {
    let mut apply = Apply::default();
    let mut items: Vec<LogItem> = Vec::new();
    for (key, (snapshot, movements)) in &batch.entities {
        let record = codec::encode_record(snapshot, *movements)?;
        items.push(LogItem::State {
            key: serde_bytes::ByteBuf::from(codec::key_bytes(key)),
            record: serde_bytes::ByteBuf::from(record.clone()),
        });
        apply
            .states
            .push((key.clone(), snapshot.clone(), *movements, record));
    }
    for (key, entries) in &batch.ledger {
        items.push(LogItem::Ledger {
            key: serde_bytes::ByteBuf::from(codec::key_bytes(key)),
            entries: serde_bytes::ByteBuf::from(codec::encode_entries(entries)?),
        });
        apply
            .ledger
            .extend(entries.iter().map(|e| (key.clone(), *e)));
    }
    for r in ggr {
        items.push(LogItem::Ggr {
            hall: r.hall.to_string(),
            window: r.window.0,
            bets: r.totals.bets,
            wins: r.totals.wins,
            games: r.totals.games,
            revision: r.revision,
        });
        apply.ggr.push(r.clone());
    }
    for p in batch.position_list() {
        items.push(LogItem::Position {
            topic: p.topic.clone(),
            partition: p.partition,
            next_offset: p.next_offset,
        });
        apply.positions.push(p);
    }
    // Chunks: at most `chunk_len` items and about CHUNK_BYTES_MAX bytes each.
    let mut chunks = Vec::new();
    let mut cur: Vec<Vec<u8>> = Vec::new();
    let mut cur_bytes = 0;
    let flush = |cur: &mut Vec<Vec<u8>>, chunks: &mut Vec<Vec<u8>>| {
        if !cur.is_empty() {
            // An array of already-encoded items: write the array header, then the items.
            let mut body = Vec::with_capacity(cur.iter().map(Vec::len).sum::<usize>() + 5);
            array_header(&mut body, cur.len());
            for i in cur.drain(..) {
                body.extend_from_slice(&i);
            }
            chunks.push(body);
        }
    };
    for item in &items {
        let b = rmp_serde::to_vec_named(item)
            .map_err(|e| StoreError(format!("encoding the redo log: {e}")))?;
        if !cur.is_empty() && (cur.len() >= chunk_len || cur_bytes + b.len() > CHUNK_BYTES_MAX) {
            flush(&mut cur, &mut chunks);
            cur_bytes = 0;
        }
        cur_bytes += b.len();
        cur.push(b);
    }
    flush(&mut cur, &mut chunks);
    Ok((apply, chunks))
}

struct Statements {
    machine: PreparedStatement,
    wallet: PreparedStatement,
    pool: PreparedStatement,
    hall: PreparedStatement,
    ledger: PreparedStatement,
    ggr: PreparedStatement,
    position: PreparedStatement,
    log_chunk: PreparedStatement,
    head: PreparedStatement,
    read_head: PreparedStatement,
    read_chunk: PreparedStatement,
    delete_chunk: PreparedStatement,
    read_machine: PreparedStatement,
    read_wallet: PreparedStatement,
    read_pool: PreparedStatement,
    read_hall: PreparedStatement,
    scan_states: [PreparedStatement; 4],
    scan_ledger: PreparedStatement,
    scan_ggr: PreparedStatement,
    scan_positions: PreparedStatement,
    scan_log: PreparedStatement,
}

/// Switches that stop a CQL checkpoint half way on purpose (recovery tests): the flush then
/// fails as if the process had died at that point.
#[derive(Debug, Default)]
pub struct CqlFaults {
    /// Stop after writing the redo log, before the commit point.
    pub before_commit: std::sync::atomic::AtomicBool,
    /// Stop right after the commit point, before applying to the tables.
    pub after_commit: std::sync::atomic::AtomicBool,
}

/// The CQL backend (cheap to clone: a handle on a shared session).
#[derive(Clone)]
pub struct Cql(Arc<CqlInner>);

struct CqlInner {
    session: Arc<Session>,
    st: Arc<Statements>,
    instance: String,
    next_epoch: AtomicI64,
    chunk_len: usize,
    concurrency: usize,
    /// Redo-log chunks of failed attempts, deleted once a later checkpoint is applied.
    garbage: Mutex<Vec<(i64, i32)>>,
    faults: CqlFaults,
}

impl Cql {
    /// Connects, prepares every statement, and applies this instance's last checkpoint
    /// again if it was committed but not marked applied (a crash in between).
    pub async fn connect(cfg: &ScyllaConfig, batch_len_max: usize) -> Result<Self, StoreError> {
        Ok(Cql(Arc::new(CqlInner::connect(cfg, batch_len_max).await?)))
    }

    fn handle(&self) -> Arc<CqlInner> {
        self.0.clone()
    }

    /// The fault switches (tests).
    pub fn faults(&self) -> &CqlFaults {
        &self.0.faults
    }
}

impl CqlInner {
    async fn connect(cfg: &ScyllaConfig, batch_len_max: usize) -> Result<Self, StoreError> {
        valid_keyspace(&cfg.keyspace)?;
        let session = session(cfg, Some(&cfg.keyspace)).await?;
        let st = prepare_all(&session, cfg.page_len).await?;
        let me = CqlInner {
            session: Arc::new(session),
            st: Arc::new(st),
            instance: cfg.instance.clone(),
            next_epoch: AtomicI64::new(1),
            chunk_len: batch_len_max.max(1),
            concurrency: batch_len_max.clamp(1, 1024),
            garbage: Mutex::new(Vec::new()),
            faults: CqlFaults::default(),
        };
        me.recover().await?;
        Ok(me)
    }

    async fn head(&self) -> Result<Option<(i64, i32, bool)>, StoreError> {
        let r = self
            .session
            .execute_unpaged(&self.st.read_head, (&self.instance,))
            .await
            .map_err(ctx!("reading the checkpoint head"))?
            .into_rows_result()
            .map_err(ctx!("reading the checkpoint head"))?;
        r.maybe_first_row::<(i64, i32, bool)>()
            .map_err(ctx!("reading the checkpoint head"))
    }

    async fn recover(&self) -> Result<(), StoreError> {
        let head = self.head().await?;
        let last = head.map_or(0, |h| h.0);
        self.next_epoch.store(last + 1, Ordering::SeqCst);
        if let Some((epoch, chunks, false)) = head {
            tracing::warn!(instance = %self.instance, epoch, chunks, "applying a committed checkpoint again from the redo log (the previous run stopped while applying it)");
            let mut apply = Apply::default();
            for chunk in 0..chunks {
                let r = self
                    .session
                    .execute_unpaged(&self.st.read_chunk, (&self.instance, epoch, chunk))
                    .await
                    .map_err(ctx!("reading the redo log"))?
                    .into_rows_result()
                    .map_err(ctx!("reading the redo log"))?;
                let Some((body,)) = r
                    .maybe_first_row::<(Vec<u8>,)>()
                    .map_err(ctx!("reading the redo log"))?
                else {
                    return Err(StoreError(format!(
                        "scylla: the redo log of checkpoint {epoch} of instance {} misses chunk {chunk} of {chunks}",
                        self.instance
                    )));
                };
                let items: Vec<LogItem> = rmp_serde::from_slice(&body).map_err(|e| {
                    StoreError(format!(
                        "scylla: redo log chunk {chunk} of checkpoint {epoch}: {e}"
                    ))
                })?;
                for item in items {
                    apply.add(item)?;
                }
            }
            self.apply(&apply).await?;
            self.write_head(epoch, chunks, true).await?;
        }
        // Chunks left by checkpoints applied before a crash, or by failed attempts.
        let mut stale = Vec::new();
        let mut rows = self
            .session
            .execute_iter(self.st.scan_log.clone(), ())
            .await
            .map_err(ctx!("scanning the redo log"))?
            .rows_stream::<(String, i64, i32)>()
            .map_err(ctx!("scanning the redo log"))?;
        while let Some(row) = rows.next().await {
            let (instance, epoch, chunk) = row.map_err(ctx!("scanning the redo log"))?;
            if instance == self.instance {
                stale.push((epoch, chunk));
            }
        }
        self.delete_chunks(&stale).await;
        Ok(())
    }

    async fn write_head(&self, epoch: i64, chunks: i32, applied: bool) -> Result<(), StoreError> {
        self.session
            .execute_unpaged(&self.st.head, (&self.instance, epoch, chunks, applied))
            .await
            .map_err(ctx!(format!("writing checkpoint head {epoch}")))?;
        Ok(())
    }

    async fn delete_chunks(&self, chunks: &[(i64, i32)]) {
        let s = &*self.session;
        let st = &*self.st;
        let futs: Vec<Fut<'_, Result<(), StoreError>>> = chunks
            .iter()
            .map(|(epoch, chunk)| -> Fut<'_, Result<(), StoreError>> {
                let (epoch, chunk) = (*epoch, *chunk);
                Box::pin(async move {
                    s.execute_unpaged(&st.delete_chunk, (&self.instance, epoch, chunk))
                        .await
                        .map(|_| ())
                        .map_err(ctx!(format!("deleting redo-log chunk {epoch}/{chunk}")))
                })
            })
            .collect();
        let results: Vec<_> = futures::stream::iter(futs)
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            // Harmless: a later start deletes what is left.
            tracing::warn!(error = %e, "deleting redo-log chunks failed");
        }
    }

    async fn apply(&self, a: &Apply) -> Result<u64, StoreError> {
        let s = &*self.session;
        let st = &*self.st;
        let mut futs: Vec<Fut<'_, Result<(), StoreError>>> = Vec::with_capacity(a.len());
        for (key, snapshot, movements, record) in &a.states {
            futs.push(upsert_state(s, st, key, snapshot, *movements, record));
        }
        for (key, e) in &a.ledger {
            futs.push(insert_ledger(s, st, key, e));
        }
        for r in &a.ggr {
            futs.push(upsert_ggr(s, st, r));
        }
        for p in &a.positions {
            futs.push(upsert_position(s, st, p));
        }
        let n = futs.len() as u64;
        futures::stream::iter(futs)
            .buffer_unordered(self.concurrency)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(n)
    }

    async fn write_now(&self, batch: &Batch, ggr: &[GgrRow]) -> Result<Written, StoreError> {
        let (apply, chunks) = prepare(batch, ggr, self.chunk_len)?;
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst);
        let n = chunks.len() as i32;
        let mut rows = 0u64;
        // 1. The redo log.
        let s = &*self.session;
        let st = &*self.st;
        let futs: Vec<Fut<'_, Result<(), StoreError>>> = chunks
            .iter()
            .enumerate()
            .map(|(i, body)| -> Fut<'_, Result<(), StoreError>> {
                Box::pin(async move {
                    s.execute_unpaged(
                        &st.log_chunk,
                        (&self.instance, epoch, i as i32, body.as_slice()),
                    )
                    .await
                    .map(|_| ())
                    .map_err(ctx!(format!("redo-log chunk {i}")))
                })
            })
            .collect();
        let written: Result<Vec<()>, StoreError> = futures::stream::iter(futs)
            .buffer_unordered(self.concurrency)
            .try_collect()
            .await;
        if let Err(e) = written {
            self.garbage
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend((0..n).map(|c| (epoch, c)));
            return Err(StoreError(format!(
                "scylla: writing the redo log of checkpoint {epoch}: {e}"
            )));
        }
        rows += n as u64;
        if self.faults.before_commit.load(Ordering::Acquire) {
            return Err(StoreError(format!(
                "scylla: injected fault before committing checkpoint {epoch}"
            )));
        }
        // 2. The commit point. If this fails, the head may or may not point to `epoch`:
        // either way its log is complete, so recovering it is correct, and the next attempt
        // commits a newer epoch holding everything this one holds.
        if let Err(e) = self.write_head(epoch, n, false).await {
            self.garbage
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend((0..n).map(|c| (epoch, c)));
            return Err(e);
        }
        if self.faults.after_commit.load(Ordering::Acquire) {
            return Err(StoreError(format!(
                "scylla: injected fault after committing checkpoint {epoch}"
            )));
        }
        // 3. Apply; 4. mark applied, clean up.
        rows += 1 + self.apply(&apply).await?;
        self.write_head(epoch, n, true).await?;
        rows += 1;
        let mut done: Vec<(i64, i32)> = (0..n).map(|c| (epoch, c)).collect();
        done.append(&mut self.garbage.lock().unwrap_or_else(|p| p.into_inner()));
        self.delete_chunks(&done).await;
        // Bytes: the redo log, and about as much again in the tables.
        let bytes = 2 * chunks.iter().map(|c| c.len() as u64).sum::<u64>();
        Ok(Written { rows, bytes })
    }

    async fn read_now(&self, key: &EntityKey) -> Result<Option<Stored>, StoreError> {
        let (stmt, id) = match key {
            EntityKey::Machine(id) => (&self.st.read_machine, id.as_str()),
            EntityKey::Wallet(id) => (&self.st.read_wallet, id.as_str()),
            EntityKey::Pool(id) => (&self.st.read_pool, id.as_str()),
            EntityKey::Hall(id) => (&self.st.read_hall, id.as_str()),
        };
        let what = format!("reading {} {id}", codec::kind_name(key));
        let r = self
            .session
            .execute_unpaged(stmt, (id,))
            .await
            .map_err(|e| StoreError(format!("scylla: {what}: {e}")))?
            .into_rows_result()
            .map_err(|e| StoreError(format!("scylla: {what}: {e}")))?;
        let Some((state,)) = r
            .maybe_first_row::<(Vec<u8>,)>()
            .map_err(|e| StoreError(format!("scylla: {what}: {e}")))?
        else {
            return Ok(None);
        };
        let (snapshot, movements) =
            codec::decode_record(&state).map_err(|e| StoreError(format!("{what}: {e}")))?;
        Ok(Some(Stored {
            snapshot,
            movements,
        }))
    }
}

fn ts(t: Timestamp) -> CqlTimestamp {
    CqlTimestamp(t.0)
}

fn upsert_state<'a>(
    s: &'a Session,
    st: &'a Statements,
    key: &'a EntityKey,
    snapshot: &'a Snapshot,
    movements: u64,
    record: &'a [u8],
) -> Fut<'a, Result<(), StoreError>> {
    let mv = movements as i64;
    let v = codec::RECORD_VERSION as i32;
    Box::pin(async move {
        let r = match snapshot {
            Snapshot::Machine(m) => {
                let t = &m.meters;
                s.execute_unpaged(
                    &st.machine,
                    (
                        m.id.as_str(),
                        m.profile.hall.as_str(),
                        m.profile.currency.as_str(),
                        m.credits,
                        HashMap::from([
                            ("coin_in", t.coin_in),
                            ("coin_out", t.coin_out),
                            ("games_played", t.games_played),
                            ("games_won", t.games_won),
                            ("bills_in", t.bills_in),
                            ("tickets_in", t.tickets_in),
                            ("tickets_out", t.tickets_out),
                            ("cashless_in", t.cashless_in),
                            ("cashless_out", t.cashless_out),
                            ("handpaid", t.handpaid),
                            ("jackpot_paid", t.jackpot_paid),
                            ("doors_opened", t.doors_opened),
                        ]),
                        m.last_seq.map(|s| s as i64),
                        m.status.online,
                        ts(m.last_event_time),
                        mv,
                        v,
                        record,
                    ),
                )
                .await
            }
            Snapshot::Wallet(w) => {
                let t = &w.totals;
                s.execute_unpaged(
                    &st.wallet,
                    (
                        w.id.as_str(),
                        w.currency.as_str(),
                        w.balance,
                        t.deposits,
                        t.withdrawals,
                        t.bets,
                        t.wins,
                        t.refunds,
                        w.ops as i64,
                        mv,
                        v,
                        record,
                    ),
                )
                .await
            }
            Snapshot::Pool(p) => {
                let levels: HashMap<String, i64> = p
                    .levels
                    .iter()
                    .map(|l| (l.config.name.clone(), l.level))
                    .collect();
                let hits: HashMap<String, i64> = p
                    .levels
                    .iter()
                    .map(|l| (l.config.name.clone(), l.hits as i64))
                    .collect();
                s.execute_unpaged(
                    &st.pool,
                    (
                        p.id.as_str(),
                        p.currency.as_str(),
                        levels,
                        hits,
                        mv,
                        v,
                        record,
                    ),
                )
                .await
            }
            Snapshot::Hall(h) => {
                s.execute_unpaged(
                    &st.hall,
                    (
                        h.id.as_str(),
                        h.totals.bets,
                        h.totals.wins,
                        h.totals.games,
                        h.totals.bets.checked_sub(h.totals.wins),
                        ts(h.watermark),
                        mv,
                        v,
                        record,
                    ),
                )
                .await
            }
        };
        r.map(|_| ())
            .map_err(|e| StoreError(format!("scylla: writing {key:?}: {e}")))
    })
}

fn unit(key: &EntityKey) -> &'static str {
    match key {
        EntityKey::Pool(_) => "micro",
        _ => "minor",
    }
}

fn insert_ledger<'a>(
    s: &'a Session,
    st: &'a Statements,
    key: &'a EntityKey,
    e: &'a LedgerEntry,
) -> Fut<'a, Result<(), StoreError>> {
    Box::pin(async move {
        s.execute_unpaged(
            &st.ledger,
            (
                codec::kind_name(key),
                codec::id_str(key),
                codec::day_of(e.time),
                e.n as i64,
                e.kind.code(),
                e.level as i32,
                e.amount,
                e.balance,
                unit(key),
                uuid::Uuid::from_u128(e.cause.0),
                e.causes as i32,
                ts(e.time),
            ),
        )
        .await
        .map(|_| ())
        .map_err(|err| {
            StoreError(format!(
                "scylla: writing movement {} of {key:?}: {err}",
                e.n
            ))
        })
    })
}

fn upsert_ggr<'a>(
    s: &'a Session,
    st: &'a Statements,
    r: &'a GgrRow,
) -> Fut<'a, Result<(), StoreError>> {
    Box::pin(async move {
        s.execute_unpaged(
            &st.ggr,
            (
                r.hall.as_str(),
                codec::day_of(r.window),
                ts(r.window),
                r.totals.bets,
                r.totals.wins,
                r.totals.bets.checked_sub(r.totals.wins),
                r.totals.games,
                r.revision as i32,
            ),
        )
        .await
        .map(|_| ())
        .map_err(|e| {
            StoreError(format!(
                "scylla: writing GGR of hall {} window {}: {e}",
                r.hall, r.window.0
            ))
        })
    })
}

fn upsert_position<'a>(
    s: &'a Session,
    st: &'a Statements,
    p: &'a Position,
) -> Fut<'a, Result<(), StoreError>> {
    Box::pin(async move {
        s.execute_unpaged(&st.position, (&p.topic, p.partition, p.next_offset))
            .await
            .map(|_| ())
            .map_err(|e| {
                StoreError(format!(
                    "scylla: writing the position of {}/{}: {e}",
                    p.topic, p.partition
                ))
            })
    })
}

async fn prepare_all(s: &Session, page_len: i32) -> Result<Statements, StoreError> {
    async fn p(s: &Session, q: &str, page_len: i32) -> Result<PreparedStatement, StoreError> {
        let mut st = s.prepare(q).await.map_err(|e| {
            StoreError(format!(
                "scylla: preparing {q:?}: {e} (has `pitboss migrate` created the tables?)"
            ))
        })?;
        // Every write is an upsert with a deterministic key: safe to retry.
        st.set_is_idempotent(true);
        st.set_page_size(page_len);
        Ok(st)
    }
    let pl = page_len;
    Ok(Statements {
        machine: p(s, "INSERT INTO machines (machine_id, hall_id, currency, credits, meters, last_seq, online, last_event_time, movements, version, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        wallet: p(s, "INSERT INTO wallets (player_id, currency, balance, deposits, withdrawals, bets, wins, refunds, ops, movements, version, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        pool: p(s, "INSERT INTO jackpot_pools (pool_id, currency, levels, hits, movements, version, state) VALUES (?, ?, ?, ?, ?, ?, ?)", pl).await?,
        hall: p(s, "INSERT INTO halls (hall_id, bets, wins, games, ggr, watermark, movements, version, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        ledger: p(s, "INSERT INTO money_ledger (entity_kind, entity_id, day, n, kind, level, amount, balance, unit, cause, causes, event_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        ggr: p(s, "INSERT INTO ggr_windows (hall_id, day, window_start, bets, wins, ggr, games, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", pl).await?,
        position: p(s, "INSERT INTO processor_positions (topic, partition, next_offset) VALUES (?, ?, ?)", pl).await?,
        log_chunk: p(s, "INSERT INTO checkpoint_log (instance, epoch, chunk, body) VALUES (?, ?, ?, ?)", pl).await?,
        head: p(s, "INSERT INTO checkpoint_head (instance, epoch, chunks, applied) VALUES (?, ?, ?, ?)", pl).await?,
        read_head: p(s, "SELECT epoch, chunks, applied FROM checkpoint_head WHERE instance = ?", pl).await?,
        read_chunk: p(s, "SELECT body FROM checkpoint_log WHERE instance = ? AND epoch = ? AND chunk = ?", pl).await?,
        delete_chunk: p(s, "DELETE FROM checkpoint_log WHERE instance = ? AND epoch = ? AND chunk = ?", pl).await?,
        read_machine: p(s, "SELECT state FROM machines WHERE machine_id = ?", pl).await?,
        read_wallet: p(s, "SELECT state FROM wallets WHERE player_id = ?", pl).await?,
        read_pool: p(s, "SELECT state FROM jackpot_pools WHERE pool_id = ?", pl).await?,
        read_hall: p(s, "SELECT state FROM halls WHERE hall_id = ?", pl).await?,
        scan_states: [
            p(s, "SELECT state FROM machines", pl).await?,
            p(s, "SELECT state FROM wallets", pl).await?,
            p(s, "SELECT state FROM jackpot_pools", pl).await?,
            p(s, "SELECT state FROM halls", pl).await?,
        ],
        scan_ledger: p(s, "SELECT entity_kind, entity_id, n, kind, level, amount, balance, cause, causes, event_time FROM money_ledger", pl).await?,
        scan_ggr: p(s, "SELECT hall_id, window_start, bets, wins, games, revision FROM ggr_windows", pl).await?,
        scan_positions: p(s, "SELECT topic, partition, next_offset FROM processor_positions", pl).await?,
        scan_log: p(s, "SELECT instance, epoch, chunk FROM checkpoint_log", pl).await?,
    })
}

type LedgerRow = (
    String,
    String,
    i64,
    String,
    i32,
    i64,
    i64,
    uuid::Uuid,
    i32,
    CqlTimestamp,
);

impl Backend for Cql {
    fn write(&self, batch: Arc<Batch>, ggr: Vec<GgrRow>) -> BoxFuture<Result<Written, StoreError>> {
        let me = self.handle();
        Box::pin(async move { me.write_now(&batch, &ggr).await })
    }

    fn read(&self, key: &EntityKey) -> BoxFuture<Result<Option<Stored>, StoreError>> {
        let me = self.handle();
        let key = key.clone();
        Box::pin(async move { me.read_now(&key).await })
    }

    fn read_positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        let me = self.handle();
        Box::pin(async move {
            let mut rows = me
                .session
                .execute_iter(me.st.scan_positions.clone(), ())
                .await
                .map_err(ctx!("reading positions"))?
                .rows_stream::<(String, i32, i64)>()
                .map_err(ctx!("reading positions"))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().await {
                let (topic, partition, next_offset) = r.map_err(ctx!("reading positions"))?;
                out.push(Position {
                    topic,
                    partition,
                    next_offset,
                });
            }
            Ok(out)
        })
    }
}

impl AuditSource for Cql {
    fn entities(&self) -> BoxFuture<Result<Vec<Stored>, StoreError>> {
        let me = self.handle();
        Box::pin(async move {
            let mut out = Vec::new();
            for stmt in me.st.scan_states.iter() {
                let mut rows = me
                    .session
                    .execute_iter(stmt.clone(), ())
                    .await
                    .map_err(ctx!("scanning states"))?
                    .rows_stream::<(Vec<u8>,)>()
                    .map_err(ctx!("scanning states"))?;
                while let Some(r) = rows.next().await {
                    let (state,) = r.map_err(ctx!("scanning states"))?;
                    let (snapshot, movements) = codec::decode_record(&state)?;
                    out.push(Stored {
                        snapshot,
                        movements,
                    });
                }
            }
            Ok(out)
        })
    }

    fn scan_ledger(&self, mut totals: LedgerTotals) -> BoxFuture<Result<LedgerTotals, StoreError>> {
        let me = self.handle();
        Box::pin(async move {
            let mut rows = me
                .session
                .execute_iter(me.st.scan_ledger.clone(), ())
                .await
                .map_err(ctx!("scanning the ledger"))?
                .rows_stream::<LedgerRow>()
                .map_err(ctx!("scanning the ledger"))?;
            while let Some(r) = rows.next().await {
                let (kind, id, n, movement, level, amount, balance, cause, causes, time) =
                    r.map_err(ctx!("scanning the ledger"))?;
                let key = codec::entity_key(&kind, &id)?;
                let entry = LedgerEntry {
                    n: n as u64,
                    kind: pitboss_actors::shell::Movement::from_code(&movement).ok_or_else(
                        || StoreError(format!("scylla: unknown ledger movement {movement:?}")),
                    )?,
                    level: level as u8,
                    amount,
                    balance,
                    cause: pitboss_actors::domain::EventId(cause.as_u128()),
                    causes: causes as u32,
                    time: Timestamp(time.0),
                };
                totals.add(&key, &entry);
            }
            Ok(totals)
        })
    }

    fn ggr_rows(&self) -> BoxFuture<Result<Option<Vec<GgrRow>>, StoreError>> {
        let me = self.handle();
        Box::pin(async move {
            let mut rows = me
                .session
                .execute_iter(me.st.scan_ggr.clone(), ())
                .await
                .map_err(ctx!("scanning GGR"))?
                .rows_stream::<(String, CqlTimestamp, i64, i64, i64, i32)>()
                .map_err(ctx!("scanning GGR"))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().await {
                let (hall, window, bets, wins, games, revision) =
                    r.map_err(ctx!("scanning GGR"))?;
                out.push(GgrRow {
                    hall: HallId::new(&hall).map_err(|e| StoreError(format!("GGR row: {e}")))?,
                    window: Timestamp(window.0),
                    totals: GgrTotals { bets, wins, games },
                    revision: revision as u32,
                });
            }
            Ok(Some(out))
        })
    }
}
