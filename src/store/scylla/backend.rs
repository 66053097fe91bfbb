//! The CQL backend: connects, recovers a checkpoint the previous run committed but did not
//! finish applying, writes checkpoints through the redo log, and reads states back. With
//! several instances, each claims the input partitions it is assigned (a fence per
//! partition), and a checkpoint is applied only while its partitions' fences are the ones it
//! was written under.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture as Fut;
use futures::{StreamExt, TryStreamExt};
use pitboss_actors::domain::ggr::{GgrTotals, HallState};
use pitboss_actors::domain::machine::LogEntry;
use pitboss_actors::domain::wallet::{Recalled, TxKey};
use pitboss_actors::domain::{HallId, MachineId, PlayerId, Timestamp};
use pitboss_actors::shell::ports::{BoxFuture, StoredWindows};
use pitboss_actors::shell::{EntityKey, Position, Snapshot, StoreError, Stored};
use scylla::client::session::Session;
use scylla::value::CqlTimestamp;

use crate::store::codec::{self, GgrRow};
use crate::store::config::ScyllaConfig;
use crate::store::scylla::errors::{cql, cql_error};
use crate::store::scylla::redo::{prepare, Apply, Fence, LogItem};
use crate::store::scylla::schema::valid_keyspace;
use crate::store::scylla::session::session;
use crate::store::scylla::statements::{
    insert_ledger, prepare_all, upsert_ggr, upsert_log, upsert_position, upsert_state,
    upsert_wallet_tx, Statements, LOG_BUCKET,
};
use crate::store::writebehind::{Backend, Batch, Written};

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

pub(super) struct CqlInner {
    pub(super) session: Arc<Session>,
    pub(super) st: Arc<Statements>,
    instance: String,
    next_epoch: AtomicI64,
    chunk_len: usize,
    concurrency: usize,
    /// Redo-log chunks of failed attempts, deleted once a later checkpoint is applied.
    garbage: Mutex<Vec<(i64, i32)>>,
    faults: CqlFaults,
    /// The fence of each input partition this instance claimed, newest claim.
    fences: Mutex<HashMap<(String, i32), i64>>,
}

impl Cql {
    /// Connects, prepares every statement, and applies this instance's last checkpoint
    /// again if it was committed but not marked applied (a crash in between).
    pub async fn connect(cfg: &ScyllaConfig, batch_len_max: usize) -> Result<Self, StoreError> {
        Self::connect_with_retention(cfg, batch_len_max, 30).await
    }

    /// As [`Cql::connect`], keeping wallet transactions `retention_days` (RULES.md W-1: the
    /// rows are written with that TTL, counted from their last write).
    pub async fn connect_with_retention(
        cfg: &ScyllaConfig,
        batch_len_max: usize,
        retention_days: u32,
    ) -> Result<Self, StoreError> {
        Ok(Cql(Arc::new(
            CqlInner::connect(cfg, batch_len_max, retention_days).await?,
        )))
    }

    pub(super) fn handle(&self) -> Arc<CqlInner> {
        self.0.clone()
    }

    /// The fault switches (tests).
    pub fn faults(&self) -> &CqlFaults {
        &self.0.faults
    }
}

impl CqlInner {
    async fn connect(
        cfg: &ScyllaConfig,
        batch_len_max: usize,
        retention_days: u32,
    ) -> Result<Self, StoreError> {
        valid_keyspace(&cfg.keyspace)?;
        let session = session(cfg, Some(&cfg.keyspace)).await?;
        let st = prepare_all(&session, cfg.page_len, retention_days).await?;
        let me = CqlInner {
            session: Arc::new(session),
            st: Arc::new(st),
            instance: cfg.instance.clone(),
            next_epoch: AtomicI64::new(1),
            chunk_len: batch_len_max.max(1),
            concurrency: batch_len_max.clamp(1, 1024),
            garbage: Mutex::new(Vec::new()),
            faults: CqlFaults::default(),
            fences: Mutex::new(HashMap::new()),
        };
        me.recover().await?;
        Ok(me)
    }

    async fn head(&self) -> Result<Option<(i64, i32, bool)>, StoreError> {
        let r = self
            .session
            .execute_unpaged(&self.st.read_head, (&self.instance,))
            .await
            .map_err(cql("reading the checkpoint head"))?
            .into_rows_result()
            .map_err(cql("reading the checkpoint head"))?;
        r.maybe_first_row::<(i64, i32, bool)>()
            .map_err(cql("reading the checkpoint head"))
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
                    .map_err(cql("reading the redo log"))?
                    .into_rows_result()
                    .map_err(cql("reading the redo log"))?;
                let Some((body,)) = r
                    .maybe_first_row::<(Vec<u8>,)>()
                    .map_err(cql("reading the redo log"))?
                else {
                    return Err(StoreError::permanent(format!(
                        "scylla: the redo log of checkpoint {epoch} of instance {} misses chunk {chunk} of {chunks}",
                        self.instance
                    )));
                };
                let items: Vec<LogItem> = rmp_serde::from_slice(&body).map_err(|e| {
                    StoreError::permanent(format!(
                        "scylla: redo log chunk {chunk} of checkpoint {epoch}: {e}"
                    ))
                })?;
                for item in items {
                    apply.add(item)?;
                }
            }
            match self.fenced(&apply.fences).await? {
                // Another instance claimed a partition of this checkpoint since it was
                // written, and went on from the last checkpoint applied before it: applying
                // this one now would overwrite that instance's newer state.
                Some(why) => {
                    tracing::warn!(instance = %self.instance, epoch, "not applying the checkpoint of the redo log: {why}")
                }
                None => {
                    self.apply(&apply).await?;
                }
            }
            self.write_head(epoch, chunks, true).await?;
        }
        // Chunks left by checkpoints applied before a crash, or by failed attempts.
        let mut stale = Vec::new();
        let mut rows = self
            .session
            .execute_iter(self.st.scan_log.clone(), ())
            .await
            .map_err(cql("scanning the redo log"))?
            .rows_stream::<(String, i64, i32)>()
            .map_err(cql("scanning the redo log"))?;
        while let Some(row) = rows.next().await {
            let (instance, epoch, chunk) = row.map_err(cql("scanning the redo log"))?;
            if instance == self.instance {
                stale.push((epoch, chunk));
            }
        }
        self.delete_chunks(&stale).await;
        Ok(())
    }

    /// A partition's fence: (fence, instance), `None` if no instance ever claimed it.
    async fn read_fence(
        &self,
        topic: &str,
        partition: i32,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let what = format!("reading the fence of partition {topic}/{partition}");
        let r = self
            .session
            .execute_unpaged(&self.st.read_fence, (topic, partition))
            .await
            .map_err(|e| cql_error(e, &what))?
            .into_rows_result()
            .map_err(|e| cql_error(e, &what))?;
        // The key is compared, not trusted to the server (kassandra, ../shared/infra.md).
        for row in r
            .rows::<(String, i32, i64, String)>()
            .map_err(|e| cql_error(e, &what))?
        {
            let (t, p, fence, instance) = row.map_err(|e| cql_error(e, &what))?;
            if t == topic && p == partition {
                return Ok(Some((fence, instance)));
            }
        }
        Ok(None)
    }

    /// Claims `partitions` for this instance: each gets a fence one above the one stored.
    /// Without a lightweight transaction: Kafka's group gives a partition to one member at a
    /// time, and a member claims it before applying any of its records, so two claims of
    /// one partition do not race.
    async fn claim_now(&self, partitions: &[(String, i32)]) -> Result<(), StoreError> {
        for (topic, partition) in partitions {
            let fence = self.read_fence(topic, *partition).await?.map_or(0, |f| f.0) + 1;
            self.session
                .execute_unpaged(&self.st.fence, (topic, *partition, fence, &self.instance))
                .await
                .map_err(|e| {
                    cql_error(e, format_args!("claiming partition {topic}/{partition}"))
                })?;
            self.fences
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert((topic.clone(), *partition), fence);
        }
        tracing::info!(instance = %self.instance, partitions = partitions.len(), "partitions claimed");
        Ok(())
    }

    /// Why a checkpoint written under `fences` must not be applied (a partition claimed by
    /// an instance since), or `None`.
    /// The fences are read concurrently: a checkpoint waits for one round trip, not one per
    /// partition.
    async fn fenced(&self, fences: &[Fence]) -> Result<Option<String>, StoreError> {
        let now = futures::future::try_join_all(
            fences
                .iter()
                .map(|f| self.read_fence(&f.topic, f.partition)),
        )
        .await?;
        Ok(fences.iter().zip(now).find_map(|(f, now)| match now {
            Some((now, by)) if now != f.fence => Some(format!(
                "partition {}/{} was claimed by instance {by} (fence {now}) after this checkpoint was written under fence {}",
                f.topic, f.partition, f.fence
            )),
            _ => None,
        }))
    }

    async fn write_head(&self, epoch: i64, chunks: i32, applied: bool) -> Result<(), StoreError> {
        self.session
            .execute_unpaged(&self.st.head, (&self.instance, epoch, chunks, applied))
            .await
            .map_err(|e| cql_error(e, format_args!("writing checkpoint head {epoch}")))?;
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
                        .map_err(|e| {
                            cql_error(e, format_args!("deleting redo-log chunk {epoch}/{chunk}"))
                        })
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
        let mut futs: Vec<Fut<'_, Result<(), StoreError>>> = Vec::with_capacity(a.rows());
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
        for t in &a.txs {
            futs.push(upsert_wallet_tx(s, st, t));
        }
        for r in &a.log {
            futs.push(upsert_log(s, st, r));
        }
        let n = futs.len() as u64;
        futures::stream::iter(futs)
            .buffer_unordered(self.concurrency)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(n)
    }

    async fn write_now(&self, batch: &Batch, ggr: &[GgrRow]) -> Result<Written, StoreError> {
        let (apply, chunks) = {
            let fences = self.fences.lock().unwrap_or_else(|p| p.into_inner());
            prepare(batch, ggr, self.chunk_len, |topic, partition| {
                fences.get(&(topic.to_string(), partition)).copied()
            })?
        };
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
                    .map_err(|e| cql_error(e, format_args!("redo-log chunk {i}")))
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
            return Err(e.context(format_args!(
                "scylla: writing the redo log of checkpoint {epoch}"
            )));
        }
        rows += n as u64;
        if self.faults.before_commit.load(Ordering::Acquire) {
            return Err(StoreError::transient(format!(
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
            return Err(StoreError::transient(format!(
                "scylla: injected fault after committing checkpoint {epoch}"
            )));
        }
        // 3. The fences: another instance that claimed a partition of this checkpoint since
        // this one did goes on from the state stored before it, so this checkpoint is
        // dropped (its head marked applied, so no recovery applies it either), and the
        // instance, which no longer owns what it wrote, must stop.
        if let Some(why) = self.fenced(&apply.fences).await? {
            self.write_head(epoch, n, true).await?;
            let done: Vec<(i64, i32)> = (0..n).map(|c| (epoch, c)).collect();
            self.delete_chunks(&done).await;
            return Err(StoreError::fenced(format!(
                "scylla: checkpoint {epoch} of instance {} is fenced off: {why}",
                self.instance
            )));
        }
        // 4. Apply; 5. mark applied, clean up.
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
            EntityKey::Voucher(id) => (&self.st.read_voucher, id.as_str()),
            EntityKey::Desk(id) => (&self.st.read_desk, id.as_str()),
        };
        let what = format!("reading {} {id}", key.kind());
        let r = self
            .session
            .execute_unpaged(stmt, (id,))
            .await
            .map_err(|e| cql_error(e, &what))?
            .into_rows_result()
            .map_err(|e| cql_error(e, &what))?;
        let Some((state,)) = r
            .maybe_first_row::<(Vec<u8>,)>()
            .map_err(|e| cql_error(e, &what))?
        else {
            return Ok(None);
        };
        let (snapshot, movements) = codec::decode_record(&state).map_err(|e| e.context(&what))?;
        Ok(Some(Stored {
            snapshot,
            movements,
        }))
    }
}

impl CqlInner {
    /// A machine's event log, newest first (RULES.md M-9): partition by partition from the
    /// bucket of `before - 1` down, each read whole by its key (with paging) and its entries
    /// picked and ordered here.
    async fn read_log_now(
        &self,
        machine: &MachineId,
        before: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let what = format!("reading the event log of machine {machine}");
        let mut out = Vec::new();
        let Some(last) = before.checked_sub(1) else {
            return Ok(out);
        };
        let mut bucket = last / LOG_BUCKET;
        loop {
            let mut rows = self
                .session
                .execute_iter(
                    self.st.read_machine_log.clone(),
                    (machine.as_str(), bucket as i64),
                )
                .await
                .map_err(|e| cql_error(e, &what))?
                .rows_stream::<(i64, Vec<u8>)>()
                .map_err(|e| cql_error(e, &what))?;
            let mut part = Vec::new();
            while let Some(r) = rows.next().await {
                let (number, record) = r.map_err(|e| cql_error(e, &what))?;
                if (number as u64) < before {
                    part.push(codec::decode_log(&record).map_err(|e| e.context(&what))?);
                }
            }
            part.sort_unstable_by_key(|e| std::cmp::Reverse(e.number));
            out.extend(part.into_iter().take(limit - out.len()));
            if out.len() >= limit || bucket == 0 {
                return Ok(out);
            }
            bucket -= 1;
        }
    }

    async fn read_txs_now(
        &self,
        player: &PlayerId,
        keys: &[TxKey],
    ) -> Result<Recalled, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let what = format!(
                "reading wallet transaction {} {} of player {player}",
                k.provider, k.tx
            );
            let r = self
                .session
                .execute_unpaged(
                    &self.st.read_wallet_tx,
                    (player.as_str(), k.provider.as_str(), k.tx.as_str()),
                )
                .await
                .map_err(|e| cql_error(e, &what))?
                .into_rows_result()
                .map_err(|e| cql_error(e, &what))?;
            // The key is compared, not trusted to the server: an emulator that reads
            // `ck = ?` as `ck >= ?` (kassandra, ../shared/infra.md) answers a missing key
            // with the next one, which must not pass for a repeat.
            let mut rec = None;
            for row in r
                .rows::<(String, String, Vec<u8>)>()
                .map_err(|e| cql_error(e, &what))?
            {
                let (provider, tx, b) = row.map_err(|e| cql_error(e, &what))?;
                if provider == k.provider.as_str() && tx == k.tx.as_str() {
                    rec = Some(codec::decode_tx(b.as_slice()).map_err(|e| e.context(&what))?);
                    break;
                }
            }
            out.push((k.clone(), rec));
        }
        Ok(out)
    }
}

impl CqlInner {
    async fn read_windows_now(
        &self,
        hall: &HallId,
        windows: &[Timestamp],
    ) -> Result<StoredWindows, StoreError> {
        let mut out = Vec::with_capacity(windows.len());
        for w in windows {
            let what = format!("reading GGR window {} of hall {hall}", w.0);
            let mut rows = self
                .session
                .execute_iter(
                    self.st.read_ggr_day.clone(),
                    (hall.as_str(), codec::day_of(*w)),
                )
                .await
                .map_err(|e| cql_error(e, &what))?
                .rows_stream::<(CqlTimestamp, i64, i64, i64, Option<i64>, Option<i64>, i32)>()
                .map_err(|e| cql_error(e, &what))?;
            let mut found = None;
            while let Some(r) = rows.next().await {
                let (start, bets, wins, games, jackpots, promo, revision) =
                    r.map_err(|e| cql_error(e, &what))?;
                if start.0 == w.0 {
                    found = Some(ggr_totals((bets, wins, games, jackpots, promo, revision)));
                }
            }
            out.push((*w, found));
        }
        Ok(out)
    }

    async fn halls_to_publish_now(&self) -> Result<Vec<HallId>, StoreError> {
        let halls = self.stored_halls().await?;
        Ok(halls
            .into_iter()
            .filter(|h| !h.outbox.is_empty())
            .map(|h| h.id)
            .collect())
    }

    /// Every stored hall's state.
    pub(super) async fn stored_halls(&self) -> Result<Vec<HallState>, StoreError> {
        let what = "scanning halls";
        let mut rows = self
            .session
            .execute_iter(self.st.scan_halls.clone(), ())
            .await
            .map_err(|e| cql_error(e, what))?
            .rows_stream::<(Vec<u8>,)>()
            .map_err(|e| cql_error(e, what))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().await {
            let (state,) = r.map_err(|e| cql_error(e, what))?;
            if let (Snapshot::Hall(h), _) = codec::decode_record(&state)? {
                out.push(h);
            }
        }
        Ok(out)
    }
}

/// A GGR window's columns: bets, wins, games, jackpots, promo, revision.
pub(super) type GgrColumns = (i64, i64, i64, Option<i64>, Option<i64>, i32);

/// The columns of a GGR window as read, as the window's totals and revision (`jackpots` is
/// absent in rows written before RULES.md H-1, `promo` in rows written before M-13).
pub(super) fn ggr_totals(
    (bets, wins, games, jackpots, promo, revision): GgrColumns,
) -> (GgrTotals, u32) {
    let totals = GgrTotals {
        bets,
        wins,
        games,
        jackpots: jackpots.unwrap_or(0),
        promo: promo.unwrap_or(0),
    };
    (totals, revision as u32)
}

impl Backend for Cql {
    fn read_windows(
        &self,
        hall: &HallId,
        windows: &[Timestamp],
    ) -> BoxFuture<Result<StoredWindows, StoreError>> {
        let me = self.handle();
        let (hall, windows) = (hall.clone(), windows.to_vec());
        Box::pin(async move { me.read_windows_now(&hall, &windows).await })
    }

    fn halls_to_publish(&self) -> BoxFuture<Result<Vec<HallId>, StoreError>> {
        let me = self.handle();
        Box::pin(async move { me.halls_to_publish_now().await })
    }

    fn read_log(
        &self,
        machine: &MachineId,
        before: u64,
        limit: usize,
    ) -> BoxFuture<Result<Vec<LogEntry>, StoreError>> {
        let me = self.handle();
        let machine = machine.clone();
        Box::pin(async move { me.read_log_now(&machine, before, limit).await })
    }

    fn read_txs(
        &self,
        player: &PlayerId,
        keys: &[TxKey],
    ) -> BoxFuture<Result<Recalled, StoreError>> {
        let me = self.handle();
        let (player, keys) = (player.clone(), keys.to_vec());
        Box::pin(async move { me.read_txs_now(&player, &keys).await })
    }

    fn claim(&self, partitions: &[(String, i32)]) -> BoxFuture<Result<(), StoreError>> {
        let me = self.handle();
        let partitions = partitions.to_vec();
        Box::pin(async move { me.claim_now(&partitions).await })
    }

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
                .map_err(cql("reading positions"))?
                .rows_stream::<(String, i32, i64)>()
                .map_err(cql("reading positions"))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().await {
                let (topic, partition, next_offset) = r.map_err(cql("reading positions"))?;
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
