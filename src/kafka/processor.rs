//! The processor task: runs inside the actix system, takes batches from the consumer
//! thread, decodes them and hands every event and effect to its actor, and runs the
//! checkpoint rounds (periodic, on revocation, at shutdown).
//!
//! Per partition it remembers which entities it delivered to (machines and wallets from the
//! input topic, pools, halls and machines from the internal topics); on revocation those
//! are passivated, so their state is in the store before another instance can load it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitboss_actors::domain::jackpot::{JackpotHit, PoolCommand};
use pitboss_actors::domain::machine::GgrDelta;
use pitboss_actors::domain::{HallId, MachineId, PlayerId, PoolId};
use pitboss_actors::shell::ports::{BoxFuture, Position};
use pitboss_actors::shell::{
    AckToken, HallEntity, HallMsg, Input, MachineEntity, MachineMsg, Output, PoolEntity, PoolMsg,
    Runtime, StoreError, WalletEntity,
};
use tokio::sync::{mpsc, watch};

use super::internal::{
    decode_ggr_deltas, decode_machine_awards, decode_pool_commands, InternalError, PoolParts,
};
use super::producer::Produce;
use super::router::{KafkaRouter, MachinePartitions};
use super::source::{Batch, Offsets, TopicMap, Work};
use super::stats::RunStats;
use super::tracker::{Src, Tp, Tracker};
use super::Fatal;
use crate::http::Readiness;
use crate::pipeline::Inflight;
use crate::store::Backoff;
use crate::telemetry;
use crate::wire;

/// Entities delivered to through one partition.
#[derive(Default)]
struct Owned {
    machines: HashSet<MachineId>,
    wallets: HashSet<PlayerId>,
    pools: HashSet<PoolId>,
    halls: HashSet<HallId>,
}

impl Owned {
    fn merge(&mut self, o: Owned) {
        self.machines.extend(o.machines);
        self.wallets.extend(o.wallets);
        self.pools.extend(o.pools);
        self.halls.extend(o.halls);
    }

    fn len(&self) -> usize {
        self.machines.len() + self.wallets.len() + self.pools.len() + self.halls.len()
    }
}

fn note<T: std::hash::Hash + Eq + Clone>(set: &mut HashSet<T>, id: &T) {
    if !set.contains(id) {
        set.insert(id.clone());
    }
}

/// Per batch: set when the processor gives up on part of it on purpose (an award held for
/// a machine whose partition is revoked), so its failure is not an internal error.
#[derive(Default)]
struct BatchCtl {
    abandoned: AtomicBool,
}

/// An award for a machine that has no state yet on this instance. After a restart with a
/// store that lost state, the awards topic can deliver an award before the machine's own
/// events are replayed (different partitions of different topics); the machine needs an
/// event first (its profile comes from it). The award waits here, holding its batch open
/// (so its offset is not committed), until the machine's first event is dispatched.
struct PendingAward {
    hit: JackpotHit,
    ack: AckToken,
    ctl: Arc<BatchCtl>,
    tp: Tp,
}

/// A consumed message, decoded (on the consumer thread, so decoding runs in parallel with
/// the processor task).
pub enum Decoded {
    /// A valid input event.
    Input(Box<Input>),
    /// An input message that is not a valid event.
    Rejected(wire::WireError),
    /// Pool commands, with the awarded machine's input partition.
    Pool(Vec<PoolParts>),
    /// GGR deltas.
    Ggr(Vec<GgrDelta>),
    /// Awards.
    Award(Vec<JackpotHit>),
    /// An internal message that cannot be read: an internal failure.
    Bad(String),
}

impl Decoded {
    /// Decodes a message of the given topic.
    pub fn new(src: Src, partition: i32, offset: i64, bytes: &[u8]) -> Self {
        fn all<T, U>(
            items: Vec<T>,
            f: impl Fn(&T) -> Result<U, InternalError>,
        ) -> Result<Vec<U>, InternalError> {
            items.iter().map(f).collect()
        }
        let internal = match src {
            Src::Input => {
                return match wire::decode_input(bytes) {
                    Ok(i) => Decoded::Input(Box::new(i)),
                    Err(e) => Decoded::Rejected(e),
                }
            }
            Src::PoolCommands => decode_pool_commands(bytes)
                .and_then(|v| all(v, |i| i.to_domain()))
                .map(Decoded::Pool),
            Src::GgrDeltas => decode_ggr_deltas(bytes)
                .and_then(|v| all(v, |i| i.to_domain()))
                .map(Decoded::Ggr),
            Src::MachineAwards => decode_machine_awards(bytes)
                .and_then(|v| all(v, |i| i.to_domain()))
                .map(Decoded::Award),
        };
        internal.unwrap_or_else(|e| {
            Decoded::Bad(format!(
                "internal message at {src:?} partition {partition} offset {offset}: {e}"
            ))
        })
    }

    /// Effects (internal) or events (input) it carries: its share of the in-flight bound.
    fn weight(&self) -> usize {
        match self {
            Decoded::Pool(v) => v.len(),
            Decoded::Ggr(v) => v.len(),
            Decoded::Award(v) => v.len(),
            _ => 1,
        }
    }
}

/// A checkpoint whose state is handed to the store and whose flush is running.
struct FlushJob {
    flush: BoxFuture<Result<bool, StoreError>>,
    offsets: Offsets,
    began: Instant,
}

/// The later offset of each partition of both lists.
fn merge_offsets(mut a: Offsets, b: Offsets) -> Offsets {
    for (tp, o) in b {
        match a.iter_mut().find(|(t, _)| *t == tp) {
            Some((_, x)) => *x = (*x).max(o),
            None => a.push((tp, o)),
        }
    }
    a
}

/// Settings of the processor task.
pub struct ProcessorSettings {
    /// Events (input messages and internal effects) in flight at most.
    pub inflight_max: usize,
    /// Periodic checkpoint rounds.
    pub commit_interval: Duration,
    /// Longest wait for in-flight work at a revocation or shutdown.
    pub drain_timeout: Duration,
    /// Longest wait for the broker at a revocation (outputs of passivated actors).
    pub producer_flush_timeout: Duration,
    /// Rows stashed in the store and not yet durable at which consumption pauses while the
    /// store is failing (backpressure instead of growing memory).
    pub store_backlog_max: usize,
}

/// The processor task's state.
pub struct Processor {
    rt: Arc<Runtime>,
    inflight: Inflight,
    tracker: Arc<Tracker>,
    stats: Arc<RunStats>,
    fatal: Fatal,
    machine_partitions: Option<MachinePartitions>,
    owners: HashMap<Tp, Owned>,
    durable: Option<bool>,
    commits: std_mpsc::Sender<Offsets>,
    settings: ProcessorSettings,
    produce: Arc<Produce>,
    router: Option<Arc<KafkaRouter>>,
    topics: TopicMap,
    pending_awards: HashMap<MachineId, Vec<PendingAward>>,
    readiness: Arc<Readiness>,
    /// While the store fails: when to try the next checkpoint round.
    retry_at: Option<Instant>,
    backoff: Backoff,
    /// Consumption paused: the store fails and its backlog is at its bound.
    paused: bool,
}

impl Processor {
    /// A processor over a runtime. `router` and `machine_partitions` are set when effects
    /// go through the internal topics.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rt: Arc<Runtime>,
        settings: ProcessorSettings,
        stats: Arc<RunStats>,
        fatal: Fatal,
        commits: std_mpsc::Sender<Offsets>,
        produce: Arc<Produce>,
        router: Option<Arc<KafkaRouter>>,
        machine_partitions: Option<MachinePartitions>,
        topics: TopicMap,
        readiness: Arc<Readiness>,
    ) -> Self {
        Self {
            rt,
            inflight: Inflight::new(settings.inflight_max),
            tracker: Arc::new(Tracker::new(stats.clone())),
            stats,
            fatal,
            machine_partitions,
            owners: HashMap::new(),
            durable: None,
            commits,
            settings,
            produce,
            router,
            topics,
            pending_awards: HashMap::new(),
            readiness,
            retry_at: None,
            backoff: Backoff::default(),
            paused: false,
        }
    }

    /// Runs until the consumer thread has stopped (after `shutdown`) and the final round is
    /// done, or until an internal failure.
    pub async fn run(
        &mut self,
        mut work: mpsc::Receiver<Work>,
        mut shutdown: watch::Receiver<bool>,
        stop_source: impl Fn(),
    ) -> Result<(), String> {
        let mut timer = tokio::time::interval(self.settings.commit_interval);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        timer.tick().await;
        let mut stopping = false;
        // The periodic checkpoint's flush, running while batches go on being processed.
        let mut job: Option<FlushJob> = None;
        if *shutdown.borrow() {
            stopping = true;
            stop_source();
        }
        loop {
            let fatal = self.fatal.clone();
            tokio::select! {
                biased;
                _ = fatal.wait() => {
                    return Err(self.fatal.reason().unwrap_or_else(|| "internal failure".into()));
                }
                changed = shutdown.changed(), if !stopping => {
                    if changed.is_err() || *shutdown.borrow() {
                        stopping = true;
                        self.readiness.set_shutting_down();
                        tracing::info!("shutdown requested: stopping the consumer");
                        stop_source();
                    }
                }
                // While paused (store failing, backlog full) nothing new is taken, so the
                // consumer thread stops at the full channel; a shutdown lifts the pause so
                // the consumer can stop and the final round can run.
                w = work.recv(), if !self.paused || stopping => match w {
                    Some(Work::Batch(b)) => self.process(b).await,
                    Some(Work::Revoke { parts, reply }) => {
                        let before = self.finish_job(job.take()).await;
                        let offsets = self.revoke(parts).await;
                        let _ = reply.send(merge_offsets(before, offsets));
                    }
                    Some(Work::Assign { parts, reply }) => {
                        self.readiness.set_consuming(true);
                        let positions = self.stored_positions(&parts).await;
                        let _ = reply.send(positions);
                    }
                    Some(Work::Stop { reply }) => {
                        let before = self.finish_job(job.take()).await;
                        let offsets = self.finish().await;
                        let _ = reply.send(merge_offsets(before, offsets));
                        return match self.fatal.reason() {
                            Some(r) => Err(r),
                            None => Ok(()),
                        };
                    }
                    None => return Err("the consumer thread stopped unexpectedly".into()),
                },
                result = async { job.as_mut().expect("a job").flush.as_mut().await }, if job.is_some() => {
                    let j = job.take().expect("a job");
                    let offsets = self.flushed(j.offsets, j.began, result);
                    if !offsets.is_empty() {
                        let _ = self.commits.send(offsets);
                    }
                }
                _ = timer.tick(), if job.is_none() => job = self.periodic().await,
            }
        }
    }

    async fn process(&mut self, batch: Batch) {
        let Batch {
            data,
            msgs,
            decoded,
        } = batch;
        let mut ranges: Vec<(Tp, i64)> = Vec::with_capacity(4);
        let (mut permits, mut inputs, mut internal, mut items) = (0usize, 0u64, 0u64, 0u64);
        for (m, d) in msgs.iter().zip(&decoded) {
            let tp = (m.src, m.partition);
            match ranges.iter_mut().find(|(t, _)| *t == tp) {
                Some((_, last)) => *last = (*last).max(m.offset),
                None => ranges.push((tp, m.offset)),
            }
            permits += d.weight();
            if m.src == Src::Input {
                inputs += 1;
            } else {
                internal += 1;
                items += d.weight() as u64;
            }
        }
        let id = self.tracker.begin(&ranges);
        let began = Instant::now();
        let ctl = Arc::new(BatchCtl::default());
        let (tracker, stats, fatal, c) = (
            self.tracker.clone(),
            self.stats.clone(),
            self.fatal.clone(),
            ctl.clone(),
        );
        let ack = self
            .inflight
            .begin(permits.max(1), move |ok| {
                if ok {
                    stats.input_completed.fetch_add(inputs, Ordering::Relaxed);
                    stats
                        .internal_completed
                        .fetch_add(internal, Ordering::Relaxed);
                    stats.internal_items.fetch_add(items, Ordering::Relaxed);
                } else if !c.abandoned.load(Ordering::SeqCst) {
                    fatal.set("a batch failed: an output or effect could not be made durable");
                }
                tracker.complete(id, ok);
                telemetry::batch_completed(began.elapsed());
            })
            .await;
        // Effects between entities are delivered with `tell` (no mailbox bound): their volume
        // is bounded by the in-flight permits taken above, which count every effect, and a
        // bounded send would make this task wait on the busiest pool or hall.
        for (m, d) in msgs.iter().zip(decoded) {
            let tp = (m.src, m.partition);
            match d {
                Decoded::Input(input) => self.input(*input, m.partition, &ack).await,
                Decoded::Rejected(e) => {
                    self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                    telemetry::event_rejected(e.code());
                    tracing::debug!(partition = m.partition, offset = m.offset, reason = %e, "rejected input");
                    let rejected = Output::Rejected {
                        reason: e.to_string(),
                        code: e.code(),
                        original: data[m.payload.clone()].to_vec(),
                        key: m.key.clone().map(|r| data[r].to_vec()),
                        partition: m.partition,
                        offset: m.offset,
                    };
                    self.rt.sink.emit(rejected, &ack);
                }
                Decoded::Pool(v) => {
                    let owned = self.owners.entry(tp).or_default();
                    for (pool, meta, cmd, machine_partition) in v {
                        note(&mut owned.pools, &pool);
                        if let Some(map) = &self.machine_partitions {
                            let (PoolCommand::Contribute { machine, .. }
                            | PoolCommand::Claim { machine, .. }) = &cmd;
                            note_partition(map, machine, machine_partition);
                        }
                        let msg = PoolMsg {
                            meta,
                            cmd,
                            ack: ack.clone(),
                        };
                        self.rt.tell::<PoolEntity>(&pool, msg);
                    }
                }
                Decoded::Ggr(v) => {
                    let owned = self.owners.entry(tp).or_default();
                    for d in v {
                        let hall = d.hall.clone();
                        note(&mut owned.halls, &hall);
                        self.rt
                            .tell::<HallEntity>(&hall, HallMsg::Delta(d, ack.clone()));
                    }
                }
                Decoded::Award(v) => {
                    for hit in v {
                        let machine = hit.machine.clone();
                        note(&mut self.owners.entry(tp).or_default().machines, &machine);
                        if self.has_state(&machine, m.partition).await {
                            let msg = MachineMsg::Award {
                                hit,
                                ack: ack.clone(),
                            };
                            self.rt.tell::<MachineEntity>(&machine, msg);
                        } else {
                            tracing::debug!(%machine, "award before the machine's first event; held");
                            let held = PendingAward {
                                hit,
                                ack: ack.clone(),
                                ctl: ctl.clone(),
                                tp,
                            };
                            self.pending_awards.entry(machine).or_default().push(held);
                        }
                    }
                }
                Decoded::Bad(reason) => {
                    ack.fail();
                    self.fatal.set(reason);
                }
            }
        }
    }

    async fn input(&mut self, input: Input, partition: i32, ack: &AckToken) {
        telemetry::event_in(&input);
        let owned = self.owners.entry((Src::Input, partition)).or_default();
        match &input {
            Input::Machine { machine, .. } => {
                if !owned.machines.contains(machine) {
                    owned.machines.insert(machine.clone());
                    if let Some(map) = &self.machine_partitions {
                        note_partition(map, machine, partition);
                    }
                }
            }
            Input::Wallet { player, .. } => note(&mut owned.wallets, player),
        }
        let waiting = match &input {
            Input::Machine { machine, .. } if !self.pending_awards.is_empty() => self
                .pending_awards
                .remove(machine)
                .map(|w| (machine.clone(), w)),
            _ => None,
        };
        self.rt.dispatch(input, ack.clone()).await;
        if let Some((machine, waiting)) = waiting {
            // After the event: the machine has its state when the awards arrive.
            for p in waiting {
                let msg = MachineMsg::Award {
                    hit: p.hit,
                    ack: p.ack,
                };
                self.rt.tell::<MachineEntity>(&machine, msg);
            }
        }
    }

    /// Whether a machine has state here (so an award can be applied): it had an event
    /// through this processor, or the store (or its live actor) has its state.
    async fn has_state(&self, machine: &MachineId, partition: i32) -> bool {
        if self
            .owners
            .get(&(Src::Input, partition))
            .is_some_and(|o| o.machines.contains(machine))
        {
            return true;
        }
        match self.rt.inspect::<MachineEntity>(machine).await {
            Ok(s) => s.is_some(),
            Err(e) => {
                // Unknown: deliver (the shell refuses loudly if the machine has no state).
                tracing::warn!(%machine, error = %e, "cannot read a machine's state");
                true
            }
        }
    }

    /// Gives up the held awards of the given partitions (all if `None`): their batches stay
    /// incomplete, so the next owner (or the next run) consumes them again.
    fn abandon_awards(&mut self, only: Option<&[Tp]>) {
        let mut n = 0;
        self.pending_awards.retain(|_, list| {
            list.retain(|p| {
                let drop_it = only.is_none_or(|o| o.contains(&p.tp));
                if drop_it {
                    p.ctl.abandoned.store(true, Ordering::SeqCst);
                    p.ack.fail();
                    n += 1;
                }
                !drop_it
            });
            !list.is_empty()
        });
        if n > 0 {
            tracing::warn!(
                awards = n,
                "held awards given up; their offsets stay uncommitted"
            );
        }
    }

    /// The positions the store reflects for these partitions.
    async fn stored_positions(&self, parts: &[Tp]) -> Offsets {
        let stored = match self.rt.store.positions().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "reading stored positions failed; starting at the committed offsets");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for Position {
            topic,
            partition,
            next_offset,
        } in stored
        {
            if let Some(tp) = parts
                .iter()
                .find(|(src, p)| *p == partition && self.topics.name(*src) == topic)
            {
                out.push((*tp, next_offset));
            }
        }
        if !out.is_empty() {
            tracing::info!(?out, "starting at the positions the store reflects");
        }
        out
    }

    /// Waits until nothing is in flight, up to `timeout`.
    async fn drain(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.inflight.drained())
            .await
            .is_ok()
    }

    /// Checkpoint, flush, and the offsets that may be committed (empty unless the store
    /// reports the state durable). Call it with nothing in flight.
    async fn round(&mut self, only: Option<&[Tp]>) -> Offsets {
        if self.fatal.is_set() {
            return Vec::new();
        }
        let job = self.cut(only).await;
        self.complete(job).await
    }

    /// Waits for a checkpoint's flush; the offsets it made committable.
    async fn complete(&mut self, job: FlushJob) -> Offsets {
        let result = job.flush.await;
        self.flushed(job.offsets, job.began, result)
    }

    /// The consistent cut of a checkpoint (call it with nothing in flight): the positions of
    /// the complete batches and every changed actor's state handed to the store. The flush
    /// that makes them durable is returned, not awaited: the periodic round lets the
    /// processor go on while the store writes.
    async fn cut(&mut self, only: Option<&[Tp]>) -> FlushJob {
        let ready = self.tracker.ready(only);
        for ((src, partition), next_offset) in &ready {
            self.rt.store.stash_position(Position {
                topic: self.topics.name(*src).to_string(),
                partition: *partition,
                next_offset: *next_offset,
            });
        }
        self.rt.checkpoint().await;
        FlushJob {
            flush: self.rt.store.flush(),
            offsets: ready,
            began: Instant::now(),
        }
    }

    /// A checkpoint's flush finished: readiness, retry timing, and the offsets it made
    /// committable (empty unless the store reports the state durable), marked committed:
    /// the caller commits them.
    fn flushed(
        &mut self,
        ready: Offsets,
        began: Instant,
        result: Result<bool, StoreError>,
    ) -> Offsets {
        let durable = match result {
            Ok(d) => {
                telemetry::store_flush(began.elapsed());
                self.store_answered(true);
                d
            }
            Err(e) => {
                telemetry::store_error("flush");
                if !e.is_transient() {
                    self.readiness.set_store_reachable(false);
                    self.fatal
                        .set(format!("the store failed and retrying cannot help: {e}"));
                    return Vec::new();
                }
                self.store_answered(false);
                let wait = self
                    .retry_at
                    .map(|t| t.saturating_duration_since(Instant::now()));
                tracing::warn!(error = %e, retry_in = ?wait, "store flush failed; no offsets are committed until it succeeds");
                return Vec::new();
            }
        };
        self.note_durability(durable);
        if !durable || self.fatal.is_set() {
            return Vec::new();
        }
        self.tracker.mark_committed(&ready);
        ready
    }

    /// The store answered a flush (or failed): readiness, retry timing, and the pause.
    fn store_answered(&mut self, ok: bool) {
        self.readiness.set_store_reachable(ok);
        if ok {
            self.backoff.succeeded();
            self.retry_at = None;
            if self.paused {
                tracing::info!("the store is back: consuming again");
            }
            self.paused = false;
        } else {
            self.retry_at = Some(Instant::now() + self.backoff.failed());
            self.stats.store_failures.fetch_add(1, Ordering::Relaxed);
            let backlog = self.rt.store.backlog();
            if !self.paused && backlog >= self.settings.store_backlog_max {
                tracing::warn!(
                    backlog,
                    "the store's backlog is at its bound: consumption paused until the store takes it"
                );
                self.paused = true;
                self.stats.store_pauses.fetch_add(1, Ordering::Relaxed);
            }
        }
        telemetry::store_backlog(self.rt.store.backlog() as u64);
    }

    fn note_durability(&mut self, durable: bool) {
        if self.durable != Some(durable) {
            if durable {
                tracing::info!("the store is durable: offsets are committed after each checkpoint");
            } else {
                tracing::warn!(
                    "the store is not durable (in memory): no offset is ever committed; a restart replays every topic from its start"
                );
            }
        }
        self.durable = Some(durable);
    }

    /// The periodic checkpoint round: the cut, and its flush to run in the background
    /// (`None` when no round is due or possible now).
    async fn periodic(&mut self) -> Option<FlushJob> {
        telemetry::inflight_events(self.inflight.in_flight());
        telemetry::store_backlog(self.rt.store.backlog() as u64);
        if self.retry_at.is_some_and(|t| Instant::now() < t) {
            return None; // The store failed: the next attempt waits for its backoff.
        }
        if self.durable.is_none() {
            // Learn whether the store can be durable at all, without a barrier (no
            // positions, so nothing to commit).
            let began = Instant::now();
            let result = self.rt.store.flush().await;
            self.flushed(Vec::new(), began, result);
        }
        if self.durable == Some(false) || self.fatal.is_set() || !self.pending_awards.is_empty() {
            return None;
        }
        // The barrier: no new work until everything in flight is complete, so the state
        // handed to the store reflects exactly the completed batches.
        if !self
            .drain(self.settings.commit_interval.max(Duration::from_secs(1)))
            .await
        {
            tracing::debug!("checkpoint skipped: work still in flight");
            return None;
        }
        if self.fatal.is_set() {
            return None;
        }
        Some(self.cut(None).await)
    }

    /// Waits for a background flush (before a revocation or the shutdown) and returns the
    /// offsets it made committable.
    async fn finish_job(&mut self, job: Option<FlushJob>) -> Offsets {
        match job {
            Some(j) => self.complete(j).await,
            None => Vec::new(),
        }
    }

    async fn revoke(&mut self, parts: Vec<Tp>) -> Offsets {
        self.stats.revocations.fetch_add(1, Ordering::Relaxed);
        self.abandon_awards(Some(&parts));
        if !self.drain(self.settings.drain_timeout).await {
            tracing::warn!("in-flight work did not complete before the revocation; its offsets stay uncommitted");
        }
        let mut owned = Owned::default();
        for tp in &parts {
            if let Some(o) = self.owners.remove(tp) {
                owned.merge(o);
            }
        }
        let n = owned.len() as u64;
        let Owned {
            machines,
            wallets,
            pools,
            halls,
        } = owned;
        self.rt
            .passivate_now::<MachineEntity>(&machines.into_iter().collect::<Vec<_>>())
            .await;
        self.rt
            .passivate_now::<WalletEntity>(&wallets.into_iter().collect::<Vec<_>>())
            .await;
        self.rt
            .passivate_now::<PoolEntity>(&pools.into_iter().collect::<Vec<_>>())
            .await;
        self.rt
            .passivate_now::<HallEntity>(&halls.into_iter().collect::<Vec<_>>())
            .await;
        self.stats.handed_over.fetch_add(n, Ordering::Relaxed);
        let offsets = self.round(Some(&parts)).await;
        self.tracker.forget(&parts);
        // What passivation published (final GGR windows, pool levels) reaches Kafka before
        // another instance continues from the stored state.
        self.flush_producer().await;
        tracing::info!(
            entities = n,
            committed = offsets.len(),
            "revocation handled"
        );
        offsets
    }

    async fn finish(&mut self) -> Offsets {
        self.abandon_awards(None);
        if !self.drain(self.settings.drain_timeout).await {
            tracing::warn!(
                "in-flight work did not complete before shutdown; its offsets stay uncommitted"
            );
        }
        // Publish every open GGR window and changed pool level.
        self.rt.tick(true);
        self.rt.quiesce().await;
        self.round(None).await
    }

    /// Sends every outbox and waits for the broker (on a blocking thread).
    pub async fn flush_producer(&self) {
        if let Some(r) = &self.router {
            r.flush_all();
        }
        let p = self.produce.clone();
        let timeout = self.settings.producer_flush_timeout;
        match tokio::task::spawn_blocking(move || p.flush(timeout)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "producer flush"),
            Err(e) => tracing::warn!(error = %e, "producer flush task"),
        }
    }
}

fn note_partition(map: &MachinePartitions, machine: &MachineId, partition: i32) {
    if map.get(machine).map(|p| *p) != Some(partition) {
        map.insert(machine.clone(), partition);
    }
}

#[cfg(test)]
mod tests {
    use pitboss_actors::shell::{MemoryStore, SystemClock};

    use super::*;
    use crate::config::Config;
    use crate::rng::KeyedHitPoints;

    #[actix_rt::test]
    async fn the_checkpoint_loop_retries_what_may_heal_and_stops_on_what_cannot() {
        let cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
        let rt = Runtime::start(
            cfg.runtime_config().expect("runtime config"),
            Arc::new(pitboss_actors::shell::NullSink::default()),
            Arc::new(MemoryStore::default()),
            Arc::new(KeyedHitPoints::new("test")),
            Arc::new(SystemClock),
        );
        let fatal = Fatal::default();
        // No broker is needed: the producer connects only when it sends.
        let produce = Produce::new(&cfg.kafka, fatal.clone()).expect("producer");
        let (commits, _committed) = std_mpsc::channel();
        let settings = ProcessorSettings {
            inflight_max: 16,
            commit_interval: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(1),
            producer_flush_timeout: Duration::from_secs(1),
            store_backlog_max: 1_000,
        };
        let mut p = Processor::new(
            rt.clone(),
            settings,
            Arc::new(RunStats::default()),
            fatal.clone(),
            commits,
            produce,
            None,
            None,
            TopicMap::new(Vec::new()),
            Arc::new(Readiness::new()),
        );

        let transient = StoreError::transient("the store timed out");
        p.flushed(Vec::new(), Instant::now(), Err(transient));
        assert!(p.retry_at.is_some(), "a transient failure is retried");
        assert!(!fatal.is_set());

        let permanent = StoreError::permanent("stored record version 2 is newer than this build");
        p.flushed(Vec::new(), Instant::now(), Err(permanent));
        assert!(fatal.is_set(), "a permanent failure stops the processor");
        let reason = fatal.reason().expect("a reason");
        assert!(reason.contains("version 2 is newer"), "{reason}");
        rt.stop();
    }
}
