//! Writing and reading topics with plain rdkafka clients, independent of pitboss's own
//! consumer and producer: what a test produces and what it reads back are not seen through
//! the code under test.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pitboss::sim::SimMessage;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::ClientContext;
use testkit::unique;

struct Deliveries(Mutex<Vec<Option<Result<(i32, i64), String>>>>);

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = usize;
    fn delivery(&self, r: &DeliveryResult<'_>, i: usize) {
        let v = match r {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err(e.to_string()),
        };
        self.0.lock().unwrap()[i] = Some(v);
    }
}

/// The record timestamp a gateway whose clock agrees with its machines gives an event: the
/// time it was received (else its event time). pitboss checks a machine event's time against
/// its record's when the event has no `receive_time` (RULES.md E-3), so records of events
/// stamped in the past or future (the tests' fixed times) carry those times. None for what
/// is not a machine event.
pub fn record_time(bytes: &[u8]) -> Option<i64> {
    match pitboss::wire::decode_input(bytes).ok()? {
        pitboss_actors::shell::Input::Machine { meta, .. } => {
            Some(meta.receive_time.unwrap_or(meta.time).0)
        }
        _ => None,
    }
}

/// Produces `msgs` (key, bytes) in order with a plain idempotent producer; returns each
/// message's partition and offset. Blocking. Each record carries the time it was received
/// ([`record_time`]).
pub fn produce(brokers: &str, topic: &str, msgs: &[(String, Vec<u8>)]) -> Vec<(i32, i64)> {
    produce_stamped(brokers, topic, msgs, |_, bytes| record_time(bytes))
}

/// [`produce`] with each record's timestamp from `stamp` (given the message's index and
/// bytes; None: the producer's clock).
pub fn produce_stamped(
    brokers: &str,
    topic: &str,
    msgs: &[(String, Vec<u8>)],
    stamp: impl Fn(usize, &[u8]) -> Option<i64>,
) -> Vec<(i32, i64)> {
    let ctx = Deliveries(Mutex::new(vec![None; msgs.len()]));
    let p: ThreadedProducer<Deliveries> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        // As README asks of every producer of wallet commands (RULES.md W-10).
        .set("partitioner", "murmur2_random")
        .create_with_context(ctx)
        .expect("producer");
    for (i, (key, bytes)) in msgs.iter().enumerate() {
        let mut rec = BaseRecord::with_opaque_to(topic, i)
            .key(key.as_str())
            .payload(&bytes[..]);
        if let Some(ts) = stamp(i, bytes) {
            rec = rec.timestamp(ts);
        }
        loop {
            match p.send(rec) {
                Ok(()) => break,
                Err((_, r)) => {
                    // Queue full: wait for room.
                    rec = r;
                    p.poll(Duration::from_millis(10));
                }
            }
        }
    }
    p.flush(Duration::from_secs(60)).expect("flush");
    let got = p.context().0.lock().unwrap().clone();
    got.into_iter()
        .enumerate()
        .map(|(i, d)| match d {
            Some(Ok(pos)) => pos,
            other => panic!("message {i} not delivered: {other:?}"),
        })
        .collect()
}

/// Key and bytes of simulator messages.
pub fn keyed(msgs: &[SimMessage]) -> Vec<(String, Vec<u8>)> {
    msgs.iter()
        .map(|m| (m.key.clone(), m.bytes.clone()))
        .collect()
}

fn metadata_consumer(brokers: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("consumer")
}

/// The partition ids of `topic`. Blocking.
pub fn partitions(brokers: &str, topic: &str) -> Vec<i32> {
    let c = metadata_consumer(brokers);
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .expect("topic in metadata");
    t.partitions().iter().map(|p| p.id()).collect()
}

/// A consumer reading `topics` from the beginning, knowing per partition the offset after
/// the last record seen and whether it has reached the end of the log.
///
/// Ends are found by reading to end-of-partition, not from the broker's reported high
/// watermarks: Tansu 0.6 reports the base offset of the last batch + 1 there, which is too
/// low when the last batch holds several records.
pub struct EndReader {
    /// One consumer per topic: an end-of-partition event names only the partition.
    consumers: Vec<(String, BaseConsumer)>,
    /// (topic, partition) -> (offset after the last record, at end of log).
    pub ends: BTreeMap<(String, i32), (i64, bool)>,
    /// Records read, if asked to keep them.
    pub recs: Vec<Rec>,
    keep: bool,
}

impl EndReader {
    /// Assigns every partition of `topics` from the beginning. Blocking.
    pub fn new(brokers: &str, topics: &[String], keep: bool) -> Self {
        let mut consumers = Vec::new();
        let mut ends = BTreeMap::new();
        for t in topics {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", brokers)
                .set("group.id", unique("reader"))
                .set("enable.auto.commit", "false")
                .set("enable.partition.eof", "true")
                .set("fetch.wait.max.ms", "50")
                .create()
                .expect("consumer");
            let mut tpl = TopicPartitionList::new();
            for p in partitions(brokers, t) {
                tpl.add_partition_offset(t, p, Offset::Beginning).unwrap();
                ends.insert((t.clone(), p), (0, false));
            }
            consumer.assign(&tpl).expect("assign");
            consumers.push((t.clone(), consumer));
        }
        Self {
            consumers,
            ends,
            recs: Vec::new(),
            keep,
        }
    }

    /// Reads what is there for up to `d`; true if something new arrived.
    pub fn poll_for(&mut self, d: Duration) -> bool {
        let until = Instant::now() + d;
        let mut news = false;
        while Instant::now() < until {
            for (topic, c) in &self.consumers {
                loop {
                    match c.poll(Duration::ZERO) {
                        None => break,
                        Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                            if let Some(x) = self.ends.get_mut(&(topic.clone(), p)) {
                                x.1 = true;
                            }
                        }
                        Some(Err(e)) => panic!("reading {topic}: {e}"),
                        Some(Ok(m)) => {
                            news = true;
                            let key = (topic.clone(), m.partition());
                            if let Some(x) = self.ends.get_mut(&key) {
                                *x = (m.offset() + 1, false);
                            }
                            if self.keep {
                                let headers = m
                                    .headers()
                                    .map(|h| {
                                        h.iter()
                                            .map(|x| {
                                                (x.key.to_string(), x.value.map(<[u8]>::to_vec))
                                            })
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                self.recs.push(Rec {
                                    topic: key.0,
                                    partition: key.1,
                                    offset: m.offset(),
                                    key: m.key().map(<[u8]>::to_vec),
                                    headers,
                                    payload: m.payload().unwrap_or_default().to_vec(),
                                });
                            }
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        news
    }

    /// Every partition has been read to its end.
    pub fn at_end(&self) -> bool {
        self.ends.values().all(|(_, eof)| *eof)
    }
}

/// One record read back from an output topic.
#[derive(Clone, Debug)]
pub struct Rec {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    pub payload: Vec<u8>,
}

/// Reads every record of `topics` from the beginning to their end (call it once nothing
/// writes to them any more). Blocking.
pub fn read_all(brokers: &str, topics: &[String]) -> Vec<Rec> {
    let mut r = EndReader::new(brokers, topics, true);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !r.at_end() {
        assert!(
            Instant::now() < deadline,
            "reading the output topics timed out"
        );
        r.poll_for(Duration::from_millis(100));
    }
    r.recs
}
