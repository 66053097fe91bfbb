//! The consumer side: one thread polls an rdkafka `BaseConsumer` (a member of the consumer
//! group, subscribed to the input topic and, with internal topics, to those), copies each
//! message into the current batch (one buffer per batch, no allocation per message),
//! decodes it (so decoding runs in parallel with the processor task), and hands full
//! batches to the processor task over a bounded channel.
//!
//! Rebalance callbacks run on this thread, inside `poll`. A revocation hands the partial
//! batch over, then asks the processor to finish everything in flight, hand the actors of
//! the revoked partitions to the store and compute the offsets to commit, waits for the
//! answer, and commits them synchronously before librdkafka completes the revocation: the
//! next owner of a partition starts exactly after what this instance completed, and loads
//! the state this instance stored.
//!
//! Commits requested by checkpoint rounds arrive over a channel and are made between polls
//! (asynchronously). `enable.auto.commit` and `enable.auto.offset.store` are off: nothing
//! else ever stores an offset.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::ClientContext;
use tokio::sync::mpsc;

use super::settings::KafkaConfig;
use super::stats::RunStats;
use super::{Src, Tp};
use crate::telemetry;

mod batch;
pub use batch::{Batch, Decoded, Msg, Offsets, Work};

/// Topic names by role.
#[derive(Clone, Debug)]
pub struct TopicMap {
    names: Vec<(Src, String)>,
}

impl TopicMap {
    /// The roles consumed and their topic names.
    pub fn new(names: Vec<(Src, String)>) -> Self {
        Self { names }
    }

    fn src(&self, topic: &str) -> Option<Src> {
        self.names.iter().find(|(_, n)| n == topic).map(|(s, _)| *s)
    }

    /// A role's topic name.
    pub fn name(&self, src: Src) -> &str {
        self.names
            .iter()
            .find(|(s, _)| *s == src)
            .map_or("", |(_, n)| n.as_str())
    }

    /// Every topic consumed.
    pub fn topics(&self) -> Vec<&str> {
        self.names.iter().map(|(_, n)| n.as_str()).collect()
    }

    fn tpl(&self, offsets: &Offsets) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::with_capacity(offsets.len());
        for ((src, p), o) in offsets {
            // An offset this list cannot hold is impossible: it came from the broker.
            let _ = tpl.add_partition_offset(self.name(*src), *p, Offset::Offset(*o));
        }
        tpl
    }
}

/// The consumer's context: rebalance callbacks and the batch being filled.
pub struct SourceCtx {
    topics: TopicMap,
    pending: Mutex<Batch>,
    batch_len_max: usize,
    work: mpsc::Sender<Work>,
    closing: AtomicBool,
    stats: Arc<RunStats>,
}

impl SourceCtx {
    /// Adds a message to the current batch; hands the batch over when full.
    fn push(&self, m: &rdkafka::message::BorrowedMessage<'_>) {
        let Some(src) = self.topics.src(m.topic()) else {
            tracing::warn!(
                topic = m.topic(),
                "message from a topic not subscribed to; ignored"
            );
            return;
        };
        if self.stats.first_message.get().is_none() {
            let _ = self.stats.first_message.set(std::time::Instant::now());
        }
        let full = {
            let mut b = self.pending.lock().expect("batch lock");
            b.push(src, m);
            b.msgs.len() >= self.batch_len_max
        };
        if full {
            self.hand_over();
        }
    }

    fn has_pending(&self) -> bool {
        !self.pending.lock().expect("batch lock").msgs.is_empty()
    }

    /// Sends the current batch to the processor (waits while its queue is full).
    fn hand_over(&self) {
        let batch = {
            let mut b = self.pending.lock().expect("batch lock");
            if b.msgs.is_empty() {
                return;
            }
            let cap = b.data.capacity();
            std::mem::replace(
                &mut *b,
                Batch {
                    data: Vec::with_capacity(cap),
                    msgs: Vec::with_capacity(self.batch_len_max),
                    decoded: Vec::with_capacity(self.batch_len_max),
                },
            )
        };
        if self.work.blocking_send(Work::Batch(batch)).is_err() {
            tracing::debug!("processor gone; batch dropped (its offsets will not be committed)");
        }
    }

    /// Asks the processor for something and waits for the answer (None: it is gone).
    fn ask(&self, make: impl FnOnce(std_mpsc::SyncSender<Offsets>) -> Work) -> Option<Offsets> {
        let (tx, rx) = std_mpsc::sync_channel(1);
        self.work.blocking_send(make(tx)).ok()?;
        rx.recv().ok()
    }

    fn tps(&self, tpl: &TopicPartitionList) -> Vec<Tp> {
        tpl.elements()
            .iter()
            .filter_map(|e| self.topics.src(e.topic()).map(|s| (s, e.partition())))
            .collect()
    }

    /// The assigned-partitions gauge, per consumed topic.
    fn note_assigned(&self, assigned: &[Tp]) {
        for (src, name) in &self.topics.names {
            let n = assigned.iter().filter(|(s, _)| s == src).count();
            telemetry::partitions_assigned(name, n);
        }
    }

    fn commit(&self, consumer: &BaseConsumer<SourceCtx>, offsets: &Offsets, mode: CommitMode) {
        if offsets.is_empty() {
            return;
        }
        self.stats.commits.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = consumer.commit(&self.topics.tpl(offsets), mode) {
            telemetry::kafka_error("commit");
            tracing::warn!(error = %e, "offset commit failed; the next commit covers these offsets");
        } else {
            // Accepted (an asynchronous commit's failure is reported in `commit_callback`).
            telemetry::offsets_committed();
            tracing::debug!(?offsets, "offsets committed");
        }
    }
}

/// Messages of a partition not yet handed to the processor: its end (the last stable offset
/// under `read_committed`, librdkafka's default, else the high watermark) minus the next
/// offset the consumer hands over (`app_offset`; before the first message, the committed
/// offset, else the log's start). `None` for a partition not assigned here, or while the
/// end is unknown (nothing fetched yet).
///
/// librdkafka's own `consumer_lag` counts from the committed offset instead. pitboss
/// commits at its checkpoints (`commit-interval-ms`, 5 s by default), so that figure also
/// holds every message processed since the last one: a sawtooth that says little about
/// whether pitboss keeps up.
fn position_lag(part: &rdkafka::statistics::Partition) -> Option<i64> {
    let end = if part.ls_offset >= 0 {
        part.ls_offset
    } else {
        part.hi_offset
    };
    let position = [part.app_offset, part.committed_offset, part.lo_offset]
        .into_iter()
        .find(|o| *o >= 0)?;
    (part.desired && end >= 0).then(|| (end - position).max(0))
}

impl ClientContext for SourceCtx {
    fn error(&self, error: KafkaError, reason: &str) {
        telemetry::kafka_error("other");
        tracing::warn!(%error, reason, "kafka consumer client error");
    }

    // librdkafka's statistics (every `statistics.interval.ms`): consumer lag per partition.
    fn stats(&self, statistics: rdkafka::Statistics) {
        for (name, topic) in &statistics.topics {
            if self.topics.src(name).is_none() {
                continue;
            }
            for (p, part) in &topic.partitions {
                // -1 is librdkafka's internal partition.
                if *p >= 0 {
                    if let Some(lag) = position_lag(part) {
                        telemetry::consumer_lag(name, *p, lag);
                    }
                }
            }
        }
    }
}

impl ConsumerContext for SourceCtx {
    // The whole rebalance is handled here (rather than in pre/post hooks) so that an
    // assignment can start at the positions the store reflects.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let parts = self.tps(tpl);
                if !self.closing.load(Ordering::SeqCst) {
                    if let Some(positions) = self.ask(|reply| Work::Assign {
                        parts: parts.clone(),
                        reply,
                    }) {
                        for ((src, p), o) in positions {
                            let _ = tpl.set_partition_offset(
                                self.topics.name(src),
                                p,
                                Offset::Offset(o),
                            );
                        }
                    }
                }
                let assigned = if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                };
                if let Err(e) = assigned {
                    tracing::error!(error = %e, "assigning partitions failed");
                }
                tracing::info!(partitions = parts.len(), "partitions assigned");
                self.stats.assignments.fetch_add(1, Ordering::Relaxed);
                let mut all = if cooperative {
                    self.stats.assigned()
                } else {
                    Vec::new()
                };
                all.extend(parts);
                self.note_assigned(&all);
                self.stats.set_assigned(all);
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                let parts = self.tps(tpl);
                if !self.closing.load(Ordering::SeqCst) {
                    tracing::info!(partitions = parts.len(), "partitions revoked; handing over");
                    self.hand_over();
                    let revoked = parts.clone();
                    if let Some(offsets) = self.ask(|reply| Work::Revoke {
                        parts: revoked,
                        reply,
                    }) {
                        self.commit(consumer, &offsets, CommitMode::Sync);
                    }
                }
                let unassigned = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                if let Err(e) = unassigned {
                    tracing::warn!(error = %e, "unassigning partitions failed");
                }
                let mut left = self.stats.assigned();
                left.retain(|tp| !parts.contains(tp));
                self.note_assigned(&left);
                self.stats.set_assigned(left);
            }
            other => {
                tracing::warn!(error = ?other, "rebalance error");
                let _ = consumer.unassign();
                self.note_assigned(&[]);
                self.stats.set_assigned(Vec::new());
            }
        }
    }

    fn commit_callback(
        &self,
        result: rdkafka::error::KafkaResult<()>,
        _offsets: &TopicPartitionList,
    ) {
        if let Err(e) = result {
            telemetry::kafka_error("commit");
            tracing::warn!(error = %e, "offset commit failed; the next commit covers these offsets");
        }
    }
}

/// pitboss's own consumer settings; `kafka.client` and `kafka.consumer` override them
/// (except the three that make the commit protocol: auto commit, offset store, group id).
pub fn consumer_config(cfg: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers)
        .set("auto.offset.reset", "earliest")
        // Range assignment gives the same partition numbers of equally partitioned topics
        // to the same member: a machine's input and awards partitions stay together.
        .set("partition.assignment.strategy", "range")
        // Fetch any message the broker accepts (oversize input is rejected by the decoder,
        // never left to wedge the consumer).
        .set("fetch.message.max.bytes", "1048576")
        .set("fetch.max.bytes", "52428800")
        .set("receive.message.max.bytes", "104857600")
        .set("queued.min.messages", "100000")
        // When the local queue is full (pitboss is slower than the fetcher), librdkafka
        // waits this long before fetching again (default 1000 ms): the processor then ran
        // dry for most of a second at a time. Measured: 135k -> 190-245k events/s.
        .set("fetch.queue.backoff.ms", "10")
        // How long a fetch may wait for data. librdkafka's default (500 ms) is a latency floor
        // on brokers that hold a fetch for the full wait instead of answering when data
        // arrives (Tansu does): measured on the smoke scenario, p99 264 ms -> 31 ms. Against
        // Kafka it only makes idle fetches more frequent.
        .set("fetch.wait.max.ms", "5")
        // Statistics feed the consumer-lag gauge (`pitboss_kafka_consumer_lag`).
        .set("statistics.interval.ms", "5000");
    for (k, v) in cfg.client_settings(&cfg.consumer) {
        c.set(k, v);
    }
    c.set("group.id", &cfg.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    c
}

/// The running consumer thread.
pub struct Source {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Source {
    /// Creates the consumer, subscribes and starts polling on a new thread.
    pub fn start(
        cfg: &KafkaConfig,
        topics: TopicMap,
        work: mpsc::Sender<Work>,
        commits: std_mpsc::Receiver<Offsets>,
        stats: Arc<RunStats>,
    ) -> Result<Self, KafkaError> {
        let ctx = SourceCtx {
            topics: topics.clone(),
            pending: Mutex::new(Batch::default()),
            batch_len_max: cfg.batch_len_max.max(1),
            work,
            closing: AtomicBool::new(false),
            stats,
        };
        let consumer: BaseConsumer<SourceCtx> = consumer_config(cfg).create_with_context(ctx)?;
        consumer.subscribe(&topics.topics())?;
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("pitboss-consumer".into())
            .spawn(move || poll_loop(consumer, s, commits))
            .expect("spawn the consumer thread");
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// A function that asks the thread to stop polling.
    pub fn stopper(&self) -> impl Fn() + Send + 'static {
        let stop = self.stop.clone();
        move || stop.store(true, Ordering::SeqCst)
    }

    /// Asks the thread to stop polling (it then hands over, asks for the final offsets,
    /// commits them and leaves the group).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Waits for the thread to end. Blocking.
    pub fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("the consumer thread panicked");
            }
        }
    }
}

fn poll_loop(
    consumer: BaseConsumer<SourceCtx>,
    stop: Arc<AtomicBool>,
    commits: std_mpsc::Receiver<Offsets>,
) {
    let ctx = consumer.context().clone();
    let mut errors_logged = 0u32;
    while !stop.load(Ordering::SeqCst) {
        while let Ok(offsets) = commits.try_recv() {
            ctx.commit(&consumer, &offsets, CommitMode::Async);
        }
        let timeout = if ctx.has_pending() {
            Duration::ZERO
        } else {
            Duration::from_millis(100)
        };
        match consumer.poll(timeout) {
            Some(Ok(m)) => ctx.push(&m),
            Some(Err(e)) => {
                // Errors here are informational (a broker down, a partition's fetch error);
                // librdkafka retries by itself.
                telemetry::kafka_error("consume");
                if errors_logged < 100 {
                    errors_logged += 1;
                    tracing::warn!(error = %e, "consumer error");
                }
            }
            None => ctx.hand_over(),
        }
    }
    ctx.hand_over();
    while let Ok(offsets) = commits.try_recv() {
        ctx.commit(&consumer, &offsets, CommitMode::Async);
    }
    if let Some(offsets) = ctx.ask(|reply| Work::Stop { reply }) {
        ctx.commit(&consumer, &offsets, CommitMode::Sync);
    }
    ctx.closing.store(true, Ordering::SeqCst);
    // Dropping the consumer closes it: it leaves the group (the revocation callback sees
    // `closing` and does nothing more).
    drop(consumer);
}

#[cfg(test)]
mod tests {
    use super::position_lag;
    use rdkafka::statistics::Partition;

    fn part(desired: bool, app: i64, committed: i64, lo: i64, hi: i64, ls: i64) -> Partition {
        Partition {
            desired,
            app_offset: app,
            committed_offset: committed,
            lo_offset: lo,
            hi_offset: hi,
            ls_offset: ls,
            ..Partition::default()
        }
    }

    #[test]
    fn lag_counts_from_what_the_processor_was_handed_not_from_the_last_commit() {
        // Handed up to 900, committed at 400 (the last checkpoint), stable end 1,000.
        assert_eq!(
            position_lag(&part(true, 900, 400, 0, 1_000, 1_000)),
            Some(100)
        );
        // The last stable offset, not the high watermark, under read_committed.
        assert_eq!(
            position_lag(&part(true, 900, 400, 0, 1_010, 1_000)),
            Some(100)
        );
        assert_eq!(position_lag(&part(true, 900, 400, 0, 1_000, -1)), Some(100));
        // Nothing handed over yet: from the commit, else from the log's start.
        assert_eq!(
            position_lag(&part(true, -1001, 400, 0, 1_000, 1_000)),
            Some(600)
        );
        assert_eq!(
            position_lag(&part(true, -1001, -1001, 50, 80, 80)),
            Some(30)
        );
        // Not assigned here, or the end not known yet: no figure.
        assert_eq!(position_lag(&part(false, 900, 400, 0, 1_000, 1_000)), None);
        assert_eq!(position_lag(&part(true, 900, 400, -1, -1, -1)), None);
    }
}
