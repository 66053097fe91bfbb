//! The one producer of an instance, shared by the output sink and the effect router.
//!
//! Idempotent (`enable.idempotence=true`, `acks=all`). Sending never blocks the calling
//! (actor) thread: a record goes to librdkafka's queue at once; if that queue is full, it
//! joins an ordered backlog that a dedicated thread feeds to librdkafka as room appears.
//! Once the backlog is non-empty every record goes through it, so records keep their order.
//!
//! Each record carries, as its delivery opaque, the completion tokens it holds. The delivery
//! report drops them (success) or fails them (an error after librdkafka's own retries). Any
//! delivery error is also recorded in the instance's [`Fatal`] flag: an output that cannot be
//! written stops the processor loudly, whether or not an input offset waits on it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use pitboss_actors::shell::AckToken;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

use super::settings::KafkaConfig;
use super::Fatal;

/// The completion tokens a record holds until the broker has it.
pub enum Delivery {
    /// One output.
    One(AckToken),
    /// A batch of effects.
    Many(Vec<AckToken>),
}

impl Delivery {
    fn fail(&self) {
        match self {
            Delivery::One(a) => a.fail(),
            Delivery::Many(v) => v.iter().for_each(AckToken::fail),
        }
    }
}

/// Counters of the producer.
#[derive(Debug, Default)]
pub struct ProduceStats {
    /// Records acknowledged by the broker.
    pub delivered: AtomicU64,
    /// Records that failed.
    pub failed: AtomicU64,
    /// Records that had to wait in the backlog (librdkafka's queue was full).
    pub backlogged: AtomicU64,
}

/// The producer's librdkafka context: delivery reports.
pub struct ProducerCtx {
    stats: Arc<ProduceStats>,
    fatal: Fatal,
}

impl ClientContext for ProducerCtx {
    fn error(&self, error: KafkaError, reason: &str) {
        crate::telemetry::kafka_error("other");
        tracing::warn!(%error, reason, "kafka producer client error");
    }
}

impl ProducerContext for ProducerCtx {
    type DeliveryOpaque = Box<Delivery>;

    fn delivery(&self, result: &DeliveryResult<'_>, opaque: Box<Delivery>) {
        match result {
            Ok(_) => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                drop(opaque);
            }
            Err((e, m)) => {
                use rdkafka::Message;
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                crate::telemetry::kafka_error("produce");
                tracing::error!(topic = m.topic(), partition = m.partition(), error = %e, "a record could not be delivered");
                opaque.fail();
                self.fatal
                    .set(format!("delivery to {} failed: {e}", m.topic()));
            }
        }
    }
}

/// A record waiting for room in librdkafka's queue.
struct Waiting {
    topic: Arc<str>,
    partition: Option<i32>,
    key: Option<Vec<u8>>,
    payload: Vec<u8>,
    headers: Option<OwnedHeaders>,
    opaque: Box<Delivery>,
}

struct Backlog {
    queue: Mutex<VecDeque<Waiting>>,
    len: AtomicUsize,
    ready: Condvar,
    stop: AtomicBool,
}

/// The shared producer.
pub struct Produce {
    producer: ThreadedProducer<ProducerCtx>,
    backlog: Arc<Backlog>,
    pub stats: Arc<ProduceStats>,
    fatal: Fatal,
    feeder: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// pitboss's own producer tuning; `kafka.client` and `kafka.producer` override it.
pub fn producer_config(cfg: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // Java's default partitioner, so "keyed by X" means the same partition for any client.
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576")
        .set("compression.type", "none");
    for (k, v) in cfg.client_settings(&cfg.producer) {
        c.set(k, v);
    }
    c
}

impl Produce {
    /// Creates the producer and its backlog thread.
    pub fn new(cfg: &KafkaConfig, fatal: Fatal) -> Result<Arc<Self>, KafkaError> {
        let stats = Arc::new(ProduceStats::default());
        let ctx = ProducerCtx {
            stats: stats.clone(),
            fatal: fatal.clone(),
        };
        let producer: ThreadedProducer<ProducerCtx> =
            producer_config(cfg).create_with_context(ctx)?;
        let backlog = Arc::new(Backlog {
            queue: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
            ready: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let p = Arc::new(Self {
            producer,
            backlog,
            stats,
            fatal,
            feeder: Mutex::new(None),
        });
        let weak = Arc::downgrade(&p);
        let backlog = p.backlog.clone();
        let handle = std::thread::Builder::new()
            .name("pitboss-produce-backlog".into())
            .spawn(move || feed(weak, backlog))
            .expect("spawn the producer backlog thread");
        *p.feeder.lock().expect("feeder lock") = Some(handle);
        Ok(p)
    }

    /// Sends a record; never blocks for long (the backlog's lock at most).
    pub fn send(
        &self,
        topic: &Arc<str>,
        partition: Option<i32>,
        key: Option<&[u8]>,
        payload: &[u8],
        headers: Option<OwnedHeaders>,
        opaque: Box<Delivery>,
    ) {
        if self.backlog.len.load(Ordering::SeqCst) == 0 {
            let mut rec: BaseRecord<'_, [u8], [u8], Box<Delivery>> =
                BaseRecord::with_opaque_to(topic, opaque).payload(payload);
            if let Some(k) = key {
                rec = rec.key(k);
            }
            if let Some(p) = partition {
                rec = rec.partition(p);
            }
            if let Some(h) = headers {
                rec = rec.headers(h);
            }
            match self.producer.send(rec) {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), rec)) => {
                    let BaseRecord {
                        headers,
                        delivery_opaque,
                        ..
                    } = rec;
                    self.enqueue(Waiting {
                        topic: topic.clone(),
                        partition,
                        key: key.map(<[u8]>::to_vec),
                        payload: payload.to_vec(),
                        headers,
                        opaque: delivery_opaque,
                    });
                    return;
                }
                Err((e, rec)) => {
                    self.refused(topic, &e, rec.delivery_opaque);
                    return;
                }
            }
        }
        self.enqueue(Waiting {
            topic: topic.clone(),
            partition,
            key: key.map(<[u8]>::to_vec),
            payload: payload.to_vec(),
            headers,
            opaque,
        });
    }

    // The box comes from librdkafka's delivery opaque as it is handed back.
    #[allow(clippy::boxed_local)]
    fn refused(&self, topic: &str, e: &KafkaError, opaque: Box<Delivery>) {
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        tracing::error!(topic, error = %e, "librdkafka refused a record");
        opaque.fail();
        self.fatal.set(format!("producing to {topic} failed: {e}"));
    }

    fn enqueue(&self, w: Waiting) {
        self.stats.backlogged.fetch_add(1, Ordering::Relaxed);
        let mut q = self.backlog.queue.lock().expect("backlog lock");
        q.push_back(w);
        self.backlog.len.store(q.len(), Ordering::SeqCst);
        self.backlog.ready.notify_one();
    }

    /// Records sent but not yet acknowledged, plus the backlog.
    pub fn pending(&self) -> usize {
        self.producer.in_flight_count().max(0) as usize + self.backlog.len.load(Ordering::SeqCst)
    }

    /// Waits until everything sent so far is acknowledged (or failed), up to `timeout`.
    /// Blocking: call it from a thread that may block.
    pub fn flush(&self, timeout: Duration) -> Result<(), String> {
        let deadline = std::time::Instant::now() + timeout;
        while self.backlog.len.load(Ordering::SeqCst) > 0 {
            if std::time::Instant::now() >= deadline {
                return Err("the producer backlog did not drain in time".into());
            }
            self.producer.poll(Duration::from_millis(10));
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        self.producer
            .flush(left)
            .map_err(|e| format!("producer flush: {e}"))
    }

    /// Stops the backlog thread (after a flush).
    pub fn stop(&self) {
        self.backlog.stop.store(true, Ordering::SeqCst);
        self.backlog.ready.notify_all();
        if let Some(h) = self.feeder.lock().expect("feeder lock").take() {
            let _ = h.join();
        }
    }
}

impl Drop for Produce {
    fn drop(&mut self) {
        self.backlog.stop.store(true, Ordering::SeqCst);
        self.backlog.ready.notify_all();
    }
}

/// The backlog thread: feeds waiting records, in order, as librdkafka's queue has room.
fn feed(producer: std::sync::Weak<Produce>, backlog: Arc<Backlog>) {
    loop {
        let mut q = backlog.queue.lock().expect("backlog lock");
        while q.is_empty() && !backlog.stop.load(Ordering::SeqCst) {
            q = backlog.ready.wait(q).expect("backlog lock");
        }
        if q.is_empty() {
            return;
        }
        let Some(p) = producer.upgrade() else { return };
        // Send under the lock, so no sender can overtake the record at the front.
        while let Some(w) = q.pop_front() {
            let mut rec: BaseRecord<'_, [u8], [u8], Box<Delivery>> =
                BaseRecord::with_opaque_to(&w.topic, w.opaque).payload(&w.payload[..]);
            if let Some(k) = &w.key {
                rec = rec.key(&k[..]);
            }
            if let Some(part) = w.partition {
                rec = rec.partition(part);
            }
            if let Some(h) = w.headers {
                rec = rec.headers(h);
            }
            match p.producer.send(rec) {
                Ok(()) => {}
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), rec)) => {
                    let BaseRecord {
                        headers,
                        delivery_opaque,
                        ..
                    } = rec;
                    q.push_front(Waiting {
                        topic: w.topic,
                        partition: w.partition,
                        key: w.key,
                        payload: w.payload,
                        headers,
                        opaque: delivery_opaque,
                    });
                    // Let delivery reports make room; the thread polling them is librdkafka's.
                    drop(q);
                    std::thread::sleep(Duration::from_millis(5));
                    q = backlog.queue.lock().expect("backlog lock");
                    continue;
                }
                Err((e, rec)) => p.refused(&w.topic, &e, rec.delivery_opaque),
            }
            backlog.len.store(q.len(), Ordering::SeqCst);
        }
        backlog.len.store(0, Ordering::SeqCst);
    }
}
