//! The processor task: runs inside the actix system, takes batches (decoded on the consumer
//! thread) and hands every event and effect to its actor, and runs the checkpoint rounds
//! (periodic, on revocation, at shutdown).
//!
//! Per partition it remembers which entities it delivered to (`owners`); on revocation those
//! are passivated, so their state is in the store before another instance can load it.
//! Awards for machines without state yet wait in `awards`; how the store answers the rounds
//! (durable or not, backing off, consumption paused) is kept in `store_health`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitboss_actors::domain::jackpot::PoolCommand;
use pitboss_actors::domain::{GgrDelta, HallId, MachineId, PoolId};
use pitboss_actors::shell::ports::{BoxFuture, Position};
use pitboss_actors::shell::{
    AckToken, Backoff, DeskEntity, DeskMsg, HallEntity, HallMsg, Input, MachineEntity, MachineMsg,
    Output, PoolEntity, PoolMsg, Runtime, StoreError, VoucherEntity, VoucherMsg, WalletEntity,
    WalletMsg,
};
use tokio::sync::mpsc;

use super::internal::{DeskParts, VoucherParts, WalletParts};
use super::producer::Produce;
use super::router::{KafkaRouter, MachinePartitions};
use super::source::{Batch, Decoded, Offsets, TopicMap, Work};
use super::stats::RunStats;
use super::tracker::Tracker;
use super::{Fatal, Src, Tp};
use crate::app::Shutdown;
use crate::pipeline::Inflight;
use crate::readiness::Readiness;
use crate::telemetry;

mod awards;
mod owners;
mod store_health;

use awards::{BatchCtl, HeldAwards, PendingAward};
use owners::{note, note_partition, Owned};
use store_health::StoreHealth;

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
    /// With a store local to this instance (the embedded store), the input topic's partition
    /// count: the instance must be the group's only member, so a first assignment of fewer
    /// partitions (other members exist) stops it before it consumes anything.
    pub sole_member_of: Option<usize>,
}

/// Why an instance with a local store refuses a partial first assignment.
pub fn sole_member_refusal(assigned: usize, partitions: usize) -> String {
    format!(
        "the embedded store keeps this instance's state on its own disk, so it must be its \
         consumer group's only member, but the group has other members (this instance was \
         assigned {assigned} of the input topic's {partitions} partitions): use \
         store.kind = \"scylla\" to run several instances, or a group id of its own \
         (kafka.group-id)"
    )
}

pub struct Processor {
    rt: Arc<Runtime>,
    inflight: Inflight,
    tracker: Arc<Tracker>,
    stats: Arc<RunStats>,
    fatal: Fatal,
    machine_partitions: Option<MachinePartitions>,
    owners: HashMap<Tp, Owned>,
    commits: std_mpsc::Sender<Offsets>,
    settings: ProcessorSettings,
    produce: Arc<Produce>,
    router: Option<Arc<KafkaRouter>>,
    topics: TopicMap,
    pending_awards: HeldAwards,
    readiness: Arc<Readiness>,
    store_health: StoreHealth,
    /// An assignment has been received.
    assigned_once: bool,
    /// Handing partitions over (a revocation) or stopping: a checkpoint fenced off now is
    /// not a failure (see [`Processor::flushed`]).
    leaving: bool,
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
        // RULES.md H-2: publications wait for the durable checkpoint that holds them.
        rt.publish_after_checkpoint();
        Self {
            rt,
            inflight: Inflight::new(settings.inflight_max),
            tracker: Arc::new(Tracker::new(stats.clone())),
            store_health: StoreHealth::new(
                settings.store_backlog_max,
                readiness.clone(),
                stats.clone(),
            ),
            stats,
            fatal,
            machine_partitions,
            owners: HashMap::new(),
            commits,
            settings,
            produce,
            router,
            topics,
            pending_awards: HeldAwards::default(),
            readiness,
            assigned_once: false,
            leaving: false,
        }
    }

    /// Runs until the consumer thread has stopped (after `shutdown`) and the final round is
    /// done, or until an internal failure.
    pub async fn run(
        &mut self,
        mut work: mpsc::Receiver<Work>,
        mut shutdown: Shutdown,
        stop_source: impl Fn(),
    ) -> Result<(), String> {
        let mut timer = tokio::time::interval(self.settings.commit_interval);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        timer.tick().await;
        let mut stopping = false;
        // The periodic checkpoint's flush, running while batches go on being processed.
        let mut job: Option<FlushJob> = None;
        if shutdown.is_requested() {
            stopping = true;
            self.leaving = true;
            stop_source();
        }
        loop {
            let fatal = self.fatal.clone();
            tokio::select! {
                biased;
                _ = fatal.wait() => {
                    return Err(self.fatal.reason().unwrap_or_else(|| "internal failure".into()));
                }
                () = shutdown.requested(), if !stopping => {
                    stopping = true;
                    // From here a checkpoint fenced off is one the group handed on already.
                    self.leaving = true;
                    self.readiness.set_shutting_down();
                    tracing::info!("shutdown requested: stopping the consumer");
                    stop_source();
                }
                // While paused (store failing, backlog full) nothing new is taken, so the
                // consumer thread stops at the full channel; a shutdown lifts the pause so
                // the consumer can stop and the final round can run.
                w = work.recv(), if !self.store_health.paused() || stopping => match w {
                    Some(Work::Batch(b)) => self.process(b).await,
                    Some(Work::Revoke { parts, reply }) => {
                        // While handing over, a checkpoint fenced off is not a failure.
                        let was_leaving = std::mem::replace(&mut self.leaving, true);
                        let before = self.finish_job(job.take()).await;
                        let offsets = self.revoke(parts).await;
                        self.leaving = was_leaving;
                        let _ = reply.send(merge_offsets(before, offsets));
                    }
                    Some(Work::Assign { parts, reply }) => {
                        if let Some(reason) = self.refuse_partial_first(&parts) {
                            self.fatal.set(reason);
                            let _ = reply.send(Vec::new());
                            continue;
                        }
                        if let Err(reason) = self.claim(&parts).await {
                            self.fatal.set(reason);
                            let _ = reply.send(Vec::new());
                            continue;
                        }
                        self.readiness.set_consuming(true);
                        self.wake_halls(&parts).await;
                        let positions = self.stored_positions(&parts).await;
                        let _ = reply.send(positions);
                    }
                    Some(Work::Stop { reply }) => {
                        self.leaving = true;
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
                    let durable = result.is_ok();
                    let offsets = self.flushed(j.offsets, j.began, result);
                    if durable {
                        self.release().await;
                    }
                    if !offsets.is_empty() {
                        let _ = self.commits.send(offsets);
                    }
                }
                _ = timer.tick(), if job.is_none() => job = self.periodic().await,
            }
        }
    }

    /// The first assignment of an instance that must be its group's only member, when it is
    /// partial. A later partial assignment (another instance joined) is logged: the joiner is
    /// the one that leaves.
    fn refuse_partial_first(&mut self, parts: &[Tp]) -> Option<String> {
        let partitions = self.settings.sole_member_of?;
        let first = !self.assigned_once;
        self.assigned_once = true;
        let input = parts.iter().filter(|(s, _)| *s == Src::Input).count();
        if input >= partitions {
            return None;
        }
        let reason = sole_member_refusal(input, partitions);
        if first {
            Some(reason)
        } else {
            tracing::error!(%reason, "another instance joined this instance's group");
            None
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
                    // One message per pool of the record, its commands in the record's order,
                    // applied as if sent one by one (like GGR deltas, below).
                    let owned = self.owners.entry(tp).or_default();
                    let mut by_pool: Vec<(PoolId, PoolMsg)> = Vec::new();
                    for (pool, meta, cmd, machine_partition) in v {
                        if let Some(map) = &self.machine_partitions {
                            let (PoolCommand::Contribute { machine, .. }
                            | PoolCommand::Claim { machine, .. }) = &cmd;
                            note_partition(map, machine, machine_partition);
                        }
                        match by_pool.iter_mut().find(|(p, _)| *p == pool) {
                            Some((_, msg)) => msg.rest.push((meta, cmd)),
                            None => {
                                note(&mut owned.pools, &pool);
                                let msg = PoolMsg {
                                    meta,
                                    cmd,
                                    ack: ack.clone(),
                                    rest: Vec::new(),
                                };
                                by_pool.push((pool, msg));
                            }
                        }
                    }
                    for (pool, msg) in by_pool {
                        self.rt.tell::<PoolEntity>(&pool, msg);
                    }
                }
                Decoded::Ggr(v) => {
                    // One message per hall of the record, its deltas in the record's order
                    // (which is each source's order): the hall applies them as if sent one
                    // by one, for one actix message instead of one per delta.
                    let owned = self.owners.entry(tp).or_default();
                    let mut by_hall: Vec<(HallId, Vec<GgrDelta>)> = Vec::new();
                    for d in v {
                        match by_hall.iter_mut().find(|(h, _)| *h == d.hall) {
                            Some((_, ds)) => ds.push(d),
                            None => by_hall.push((d.hall.clone(), vec![d])),
                        }
                    }
                    for (hall, ds) in by_hall {
                        note(&mut owned.halls, &hall);
                        self.rt
                            .tell::<HallEntity>(&hall, HallMsg::Deltas(ds, ack.clone()));
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
                            self.pending_awards.hold(machine, held);
                        }
                    }
                }
                Decoded::Voucher(v) => {
                    let owned = self.owners.entry(tp).or_default();
                    for (validation, parts) in v {
                        note(&mut owned.vouchers, &validation);
                        let ack = ack.clone();
                        let msg = match parts {
                            VoucherParts::Command(meta, cmd, currency) => VoucherMsg::Command {
                                meta,
                                cmd,
                                currency,
                                ack,
                            },
                            VoucherParts::Fact(meta, fact) => VoucherMsg::Fact { meta, fact, ack },
                            VoucherParts::Lapse(meta) => VoucherMsg::Lapse { meta, ack },
                        };
                        self.rt.tell::<VoucherEntity>(&validation, msg);
                    }
                }
                Decoded::Transfer(v) => {
                    let owned = self.owners.entry(tp).or_default();
                    for (player, meta, fact) in v {
                        note(&mut owned.wallets, &player);
                        let ack = ack.clone();
                        let msg = match fact {
                            WalletParts::Fact(fact) => WalletMsg::Transfer { meta, fact, ack },
                            WalletParts::Lapse => WalletMsg::Lapse { meta, ack },
                            WalletParts::Player(machine, seq, fact) => WalletMsg::Player {
                                meta,
                                machine,
                                seq,
                                fact,
                                ack,
                            },
                            WalletParts::Command(cmd, currency) => WalletMsg::Command {
                                meta,
                                cmd,
                                currency,
                                recalled: Vec::new(),
                                ack,
                            },
                        };
                        self.rt.tell::<WalletEntity>(&player, msg);
                    }
                }
                Decoded::Desk(v) => {
                    let owned = self.owners.entry(tp).or_default();
                    for (desk, parts) in v {
                        note(&mut owned.desks, &desk);
                        let ack = ack.clone();
                        let msg = match parts {
                            DeskParts::Command(meta, cmd, currency) => DeskMsg::Command {
                                meta,
                                cmd,
                                currency,
                                ack,
                            },
                            DeskParts::Cash(meta, cash, source) => DeskMsg::Cash {
                                meta,
                                cash,
                                source,
                                ack,
                            },
                        };
                        self.rt.tell::<DeskEntity>(&desk, msg);
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
            // With internal topics the runtime sends it on to the wallet's owner: the
            // instance with its partition of the internal transfers topic (RULES.md W-10).
            Input::Wallet { player, .. } => {
                if self.router.is_none() {
                    note(&mut owned.wallets, player);
                }
            }
            // With internal topics the runtime sends it on to the voucher's owner.
            Input::Voucher { validation, .. } => note(&mut owned.vouchers, validation),
            // With internal topics the runtime sends it on to the desk's owner (RULES.md D).
            Input::Desk { desk, .. } => {
                if self.router.is_none() {
                    note(&mut owned.desks, desk);
                }
            }
        }
        let waiting = match &input {
            Input::Machine { machine, .. } if !self.pending_awards.is_empty() => self
                .pending_awards
                .take(machine)
                .map(|w| (machine.clone(), w)),
            _ => None,
        };
        self.rt.dispatch(input, ack.clone()).await;
        if let Some((machine, waiting)) = waiting {
            // After the event: the machine has its state when the awards arrive.
            HeldAwards::deliver(&self.rt, &machine, waiting);
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

    /// Claims the partitions assigned in the store before any of their records is applied
    /// (its fences: a checkpoint another instance wrote for them before is not applied
    /// after this one's). A store that fails is retried (an outage can last a while) until
    /// the drain timeout, at least a minute, has passed; then the processor stops: it must
    /// not process partitions it could not claim.
    async fn claim(&self, parts: &[Tp]) -> Result<(), String> {
        let named: Vec<(String, i32)> = parts
            .iter()
            .map(|(src, p)| (self.topics.name(*src).to_string(), *p))
            .collect();
        let deadline = Instant::now() + self.settings.drain_timeout.max(Duration::from_secs(60));
        let mut backoff = Backoff::default();
        loop {
            match self.rt.store.claim(&named).await {
                Ok(()) => return Ok(()),
                Err(e) if e.is_transient() && Instant::now() < deadline => {
                    tracing::warn!(error = %e, "claiming the assigned partitions failed; retrying");
                    tokio::time::sleep(backoff.failed()).await;
                }
                Err(e) => return Err(format!("claiming the assigned partitions: {e}")),
            }
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
        let durable = result.is_ok();
        let offsets = self.flushed(job.offsets, job.began, result);
        if durable {
            self.release().await;
        }
        offsets
    }

    /// A checkpoint is durable: halls publish the windows it holds (RULES.md H-2). The
    /// publications count as work in flight, so the next checkpoint (which stores their
    /// outboxes emptied) waits until the broker has them.
    async fn release(&mut self) {
        if self.fatal.is_set() {
            return;
        }
        let fatal = self.fatal.clone();
        let ack = self
            .inflight
            .begin(1, move |ok| {
                if !ok {
                    fatal.set("a GGR publication could not be delivered");
                }
            })
            .await;
        self.rt.release(&ack);
    }

    /// Loads the stored halls this instance owns whose outbox holds publications (after a
    /// crash between a durable checkpoint and its publications, or a hand-over), so that
    /// they publish after the next durable checkpoint (RULES.md H-2).
    async fn wake_halls(&mut self, parts: &[Tp]) {
        let halls = match self.rt.store.halls_to_publish().await {
            Ok(h) => h,
            Err(e) => {
                // Not fatal: such a hall also publishes when its next delta loads it.
                tracing::warn!(error = %e, "reading the halls with publications waiting failed");
                return;
            }
        };
        for hall in halls {
            if let Some(r) = &self.router {
                let tp = (Src::GgrDeltas, r.hall_partition(&hall));
                if !parts.contains(&tp) {
                    continue;
                }
                note(&mut self.owners.entry(tp).or_default().halls, &hall);
            }
            tracing::info!(%hall, "hall with GGR windows waiting to be published: loading it");
            self.rt
                .tell::<HallEntity>(&hall, HallMsg::Wake(AckToken::none()));
        }
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
                self.store_health.answered(true, self.rt.store.backlog());
                d
            }
            Err(e) => {
                telemetry::store_error("flush");
                if e.is_fenced() && self.leaving {
                    // Another instance claimed partitions this one is handing over or
                    // leaving with (the group moved on while this checkpoint waited, say
                    // for the store): it goes on from the last checkpoint applied, whose
                    // offsets are the last committed, so dropping this one loses nothing.
                    tracing::warn!(error = %e, "checkpoint fenced off while leaving: its partitions are another instance's now, which goes on from the last checkpoint applied");
                    return Vec::new();
                }
                if !e.is_transient() {
                    self.readiness.set_store_reachable(false);
                    self.fatal
                        .set(format!("the store failed and retrying cannot help: {e}"));
                    return Vec::new();
                }
                self.store_health.answered(false, self.rt.store.backlog());
                let wait = self.store_health.retry_in();
                tracing::warn!(error = %e, retry_in = ?wait, "store flush failed; no offsets are committed until it succeeds");
                return Vec::new();
            }
        };
        self.store_health.note_durability(durable);
        if !durable || self.fatal.is_set() {
            return Vec::new();
        }
        self.tracker.mark_committed(&ready);
        ready
    }

    /// The periodic checkpoint round: the cut, and its flush to run in the background
    /// (`None` when no round is due or possible now).
    async fn periodic(&mut self) -> Option<FlushJob> {
        telemetry::inflight_events(self.inflight.in_flight());
        telemetry::store_backlog(self.rt.store.backlog() as u64);
        if self.store_health.backing_off() {
            return None;
        }
        if self.store_health.durable().is_none() {
            // Learn whether the store can be durable at all, without a barrier (no
            // positions, so nothing to commit).
            let began = Instant::now();
            let result = self.rt.store.flush().await;
            self.flushed(Vec::new(), began, result);
        }
        if self.store_health.durable() == Some(false)
            || self.fatal.is_set()
            || !self.pending_awards.is_empty()
        {
            return None;
        }
        // The barrier: no new work until everything in flight is complete, so the state
        // handed to the store reflects exactly the completed batches.
        let began = Instant::now();
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
        let drained = began.elapsed();
        let job = self.cut(None).await;
        tracing::debug!(
            ?drained,
            cut = ?began.elapsed() - drained,
            backlog = self.rt.store.backlog(),
            "checkpoint cut; its flush runs in the background"
        );
        Some(job)
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
        self.pending_awards.abandon(Some(&parts));
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
        // The halls handed over close their windows and publish them once the checkpoint
        // holding them is durable (RULES.md H-2), before they are passivated. Passivated
        // with windows in their outboxes, they would wait in the store for the partition's
        // next owner, and when none comes (the group is stopping: the last instance loses
        // its partitions in the rebalance its peers' leaving starts), until the next start.
        let halls: Vec<_> = owned.halls.iter().cloned().collect();
        self.rt.close_windows_of(&halls);
        let (first, delivered) = self.checkpoint_and_publish(Some(&parts)).await;
        if !delivered {
            tracing::warn!("GGR publications were not delivered before the hand-over; the next owner publishes them again");
        }
        let keys = owned.keys();
        owned.passivate(&self.rt).await;
        self.stats.handed_over.fetch_add(n, Ordering::Relaxed);
        // The passivated states (emptied outboxes included) before another instance loads
        // them.
        let second = self.round(Some(&parts)).await;
        // If that checkpoint was not durable (the store failing), what it holds for the
        // handed-over entities and partitions must not be written later, after the next
        // owner has written newer state: it is dropped, as a crash here would drop it, and
        // the next owner replays from the last durable checkpoint (no offset of these
        // partitions was committed since).
        let handed: Vec<(String, i32)> = parts
            .iter()
            .map(|(src, p)| (self.topics.name(*src).to_string(), *p))
            .collect();
        self.rt.store.forget(&keys, &handed);
        let offsets = merge_offsets(first, second);
        self.tracker.forget(&parts);
        // What passivation published (changed pool levels) reaches Kafka before another
        // instance continues from the stored state.
        self.flush_producer().await;
        tracing::info!(
            entities = n,
            committed = offsets.len(),
            "revocation handled"
        );
        offsets
    }

    async fn finish(&mut self) -> Offsets {
        self.pending_awards.abandon(None);
        if !self.drain(self.settings.drain_timeout).await {
            tracing::warn!(
                "in-flight work did not complete before shutdown; its offsets stay uncommitted"
            );
        }
        // Publish every open GGR window and changed pool level: the windows after the
        // checkpoint holding them is durable (RULES.md H-2); then a second checkpoint stores
        // the emptied outboxes, once the broker has the publications.
        self.rt.tick(true);
        let (first, delivered) = self.checkpoint_and_publish(None).await;
        if !delivered {
            tracing::warn!("GGR publications were not delivered before shutdown; they are published again at the next start");
            return first;
        }
        let second = self.round(None).await;
        merge_offsets(first, second)
    }

    /// Once halls were told to close windows (a final tick, or the halls handed over): a
    /// checkpoint (after they have closed them, so the cut lists them), whose durability
    /// releases their outboxes (RULES.md H-2), then a wait until the broker has the
    /// publications. The checkpoint's offsets, and whether they were delivered.
    async fn checkpoint_and_publish(&mut self, only: Option<&[Tp]>) -> (Offsets, bool) {
        self.rt.quiesce().await;
        let offsets = self.round(only).await;
        self.rt.quiesce().await;
        let delivered = self.drain(self.settings.drain_timeout).await;
        (offsets, delivered)
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

#[cfg(test)]
mod tests;
