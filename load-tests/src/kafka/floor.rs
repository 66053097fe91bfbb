//! The Kafka side of `pitboss-load kafka` apart from pitboss: reading back what pitboss
//! produced, waiting for its group to commit every consumed topic to its end, and the
//! **Kafka I/O floor**, a bare client doing the Kafka work pitboss did and nothing else.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pitboss::kafka::admin::partition_counts;
use pitboss::kafka::producer::producer_config;
use pitboss::kafka::settings::KafkaConfig;
use pitboss::kafka::source::consumer_config;
use pitboss::kafka::{RunStats, Src};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};

use crate::harness::DeliveryCount;

/// The records of one topic pitboss produced to, read back in partition order.
pub struct TopicRecords {
    /// The topic pitboss produced to.
    pub topic: String,
    /// Its partition count (the floor's copy gets the same).
    pub partitions: i32,
    /// An internal topic: pitboss consumed it again, so the floor does too.
    pub internal: bool,
    /// (key, payload) of every record.
    pub records: Vec<(Option<Vec<u8>>, Vec<u8>)>,
}

impl TopicRecords {
    /// Key and payload bytes of every record.
    pub fn bytes(&self) -> u64 {
        self.records
            .iter()
            .map(|(k, p)| (k.as_ref().map_or(0, Vec::len) + p.len()) as u64)
            .sum()
    }
}

/// Reads every record of `topics` (name -> internal?) from the beginning: `expected` in
/// all, then nothing more for a second (more records than pitboss had acknowledged would
/// be duplicates). Blocking.
///
/// The count, not the partitions' ends, says when to stop: Tansu reports a partition's end
/// as one past the first record of its last batch.
pub fn read_back(
    cfg: &KafkaConfig,
    group: &str,
    topics: &[(String, bool)],
    expected: u64,
    timeout: Duration,
) -> anyhow::Result<Vec<TopicRecords>> {
    let names: Vec<&str> = topics.iter().map(|(n, _)| n.as_str()).collect();
    let counts = partition_counts(cfg, &names, timeout).map_err(anyhow::Error::msg)?;
    let mut c = consumer_config(cfg);
    c.set("group.id", group);
    let consumer: BaseConsumer = c.create().context("creating the read-back consumer")?;
    let mut tpl = TopicPartitionList::new();
    for (topic, n) in &counts {
        for p in 0..*n {
            tpl.add_partition_offset(topic, p, Offset::Beginning)?;
        }
    }
    consumer.assign(&tpl)?;
    let mut out: BTreeMap<String, TopicRecords> = topics
        .iter()
        .map(|(t, internal)| {
            let rec = TopicRecords {
                topic: t.clone(),
                partitions: counts[t],
                internal: *internal,
                records: Vec::new(),
            };
            (t.clone(), rec)
        })
        .collect();
    let deadline = Instant::now() + timeout;
    let mut read = 0u64;
    let mut quiet_until = None;
    loop {
        if read >= expected {
            let until = *quiet_until.get_or_insert_with(|| Instant::now() + Duration::from_secs(1));
            if Instant::now() >= until {
                break;
            }
        } else if Instant::now() > deadline {
            bail!("reading back pitboss's records: {read} of {expected} within {timeout:?}");
        }
        let Some(m) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let m = m?;
        out.get_mut(m.topic())
            .expect("assigned topics only")
            .records
            .push((
                m.key().map(<[u8]>::to_vec),
                m.payload().unwrap_or(&[]).to_vec(),
            ));
        read += 1;
    }
    if read != expected {
        bail!("read back {read} records, but the broker acknowledged {expected} to pitboss");
    }
    Ok(out.into_values().collect())
}

/// Waits until pitboss is done with `inputs` input messages and has committed it: every
/// input complete, every internal message its router sent consumed and complete (nothing
/// under way: a message completes only once what it caused is sent), and its group's
/// committed offset at or past the position after the last message it completed on every
/// partition it consumed from (input and internal topics). Returns the moment it was first
/// seen so. Polled every 10 ms with one offset reader (it never joins the group).
///
/// pitboss's own positions, not the partitions' ends, say where "done" is: Tansu reports a
/// partition's end as one past the first record of its last batch, so an end read from the
/// broker can be short of the last record.
pub fn wait_committed(
    cfg: &KafkaConfig,
    stats: &RunStats,
    inputs: u64,
    timeout: Duration,
) -> anyhow::Result<Instant> {
    let consumer: BaseConsumer = consumer_config(cfg)
        .create()
        .context("creating the offset reader")?;
    let name = |src: Src| cfg.topics.consumed_name(src);
    let deadline = Instant::now() + timeout;
    loop {
        if Instant::now() > deadline {
            bail!(
                "pitboss did not complete and commit its {inputs} inputs within {timeout:?}: \
                 {} inputs and {} of {} internal messages complete",
                stats.inputs(),
                stats.internal_completed.load(Ordering::Relaxed),
                stats.internal_sent.load(Ordering::Relaxed),
            );
        }
        // Completed first, then sent: a message counts as complete only after what it
        // caused was sent, so equal counts read in this order mean nothing is under way.
        let completed = stats.internal_completed.load(Ordering::SeqCst);
        let sent = stats.internal_sent.load(Ordering::SeqCst);
        if stats.inputs() >= inputs && completed == sent {
            let at = Instant::now();
            let positions = stats.positions();
            let mut tpl = TopicPartitionList::new();
            for (src, p) in positions.keys() {
                tpl.add_partition(name(*src), *p);
            }
            let committed = consumer.committed_offsets(tpl, Duration::from_secs(5))?;
            let behind = positions.iter().any(|((src, p), pos)| {
                !matches!(
                    committed.find_partition(name(*src), *p).map(|e| e.offset()),
                    Some(Offset::Offset(o)) if o >= *pos
                )
            });
            if !behind {
                return Ok(at);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The floor topic of one of pitboss's topics.
pub fn floor_topic(topic: &str) -> String {
    format!("{topic}.floor")
}

/// The Kafka I/O floor: with pitboss's consumer and producer settings, one consumer (its
/// own group) reads `events` messages of `input`; as it goes, a producer writes the same
/// records pitboss produced (same keys, same bytes) to a copy of each topic (created by the
/// caller, [`floor_topic`]), spread evenly over the input; the internal topics' copies are
/// consumed again by the same consumer, as pitboss consumes its internal topics. The clock
/// runs from the first input message to the moment every record is acknowledged, every
/// internal record consumed and the consumer's offsets committed. Returns the seconds.
pub fn io_floor(
    cfg: &KafkaConfig,
    group: &str,
    input: &str,
    events: usize,
    produced: &[TopicRecords],
    timeout: Duration,
) -> anyhow::Result<f64> {
    let mut c = consumer_config(cfg);
    c.set("group.id", group);
    let consumer: BaseConsumer = c.create().context("creating the floor consumer")?;
    let floors: Vec<String> = produced.iter().map(|t| floor_topic(&t.topic)).collect();
    let mut subscribed = vec![input];
    subscribed.extend(
        produced
            .iter()
            .zip(&floors)
            .filter(|(t, _)| t.internal)
            .map(|(_, f)| f.as_str()),
    );
    consumer.subscribe(&subscribed)?;
    let producer: ThreadedProducer<DeliveryCount> = producer_config(cfg)
        .create_with_context(DeliveryCount::default())
        .context("creating the floor producer")?;
    let internal_total: usize = produced
        .iter()
        .filter(|t| t.internal)
        .map(|t| t.records.len())
        .sum();
    let total: usize = produced.iter().map(|t| t.records.len()).sum();
    let mut cursors = vec![0usize; produced.len()];
    let (mut inputs, mut internal) = (0usize, 0usize);
    let mut bytes = 0usize;
    let mut first = None;
    let deadline = Instant::now() + timeout;
    while inputs < events || internal < internal_total {
        if Instant::now() > deadline {
            bail!(
                "the I/O floor consumed only {inputs} of {events} input messages and \
                 {internal} of {internal_total} internal records"
            );
        }
        let Some(m) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let m = m?;
        first.get_or_insert_with(Instant::now);
        bytes += m.payload().map_or(0, <[u8]>::len) + m.key().map_or(0, <[u8]>::len);
        if m.topic() != input {
            internal += 1;
            continue;
        }
        inputs += 1;
        // Each topic's records, spread evenly over the input: after input i of n, the
        // first i/n of them.
        for (i, t) in produced.iter().enumerate() {
            let due = (t.records.len() * inputs.min(events)) / events;
            while cursors[i] < due {
                let (key, payload) = &t.records[cursors[i]];
                let mut rec = BaseRecord::<[u8], [u8]>::to(&floors[i]).payload(&payload[..]);
                if let Some(k) = key {
                    rec = rec.key(&k[..]);
                }
                loop {
                    match producer.send(rec) {
                        Ok(()) => break,
                        Err((_, r)) => {
                            rec = r;
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                }
                cursors[i] += 1;
            }
        }
    }
    producer
        .flush(Duration::from_secs(300))
        .context("the I/O floor's producer did not flush")?;
    // Its positions (one past every message consumed), committed as pitboss commits its own.
    let positions = consumer.position().context("the I/O floor's positions")?;
    consumer
        .commit(&positions, CommitMode::Sync)
        .context("the I/O floor's commit")?;
    let secs = first.map_or(0.0, |f| f.elapsed().as_secs_f64());
    std::hint::black_box(bytes);
    let deliveries = producer.context();
    deliveries.check("I/O floor records")?;
    let ok = deliveries.acked();
    if ok != total as u64 {
        bail!("the I/O floor's records: {ok} of {total} acknowledged");
    }
    Ok(secs)
}
