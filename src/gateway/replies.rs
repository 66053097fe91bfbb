//! Matching answers on the output topics to the requests waiting for them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use dashmap::DashMap;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::oneshot;

use crate::kafka::KafkaConfig;
use crate::wire::{decode_output, OutputEvent};

/// An answer read back from an output topic.
#[derive(Debug, Clone)]
pub struct Answer {
    /// `wallet`, `voucher`, `shift` or `refused`.
    pub kind: &'static str,
    /// The output's id.
    pub output_id: String,
    /// The input event that caused it.
    pub cause_event_id: Option<String>,
    /// `applied` or `refused` (a `refused` output: `refused`).
    pub status: String,
    /// A refusal's stable code.
    pub code: Option<String>,
    /// The output's payload, as JSON.
    pub payload: serde_json::Value,
}

type Slot = Arc<Mutex<Option<oneshot::Sender<Answer>>>>;

/// Requests waiting for their answer, by the keys an answer can match: the command's key
/// (an answer to it, or the first answer published again for a repeat) and its event id (a
/// `refused` output, which names only its cause).
#[derive(Default)]
pub struct Waiters {
    map: DashMap<String, Slot>,
    waiting: std::sync::atomic::AtomicUsize,
}

/// The key of a wallet answer: player, provider, tx and the answer's kind.
pub fn wallet_key(player: &str, provider: &str, tx: &str, kind: &str) -> String {
    format!("w\u{0}{player}\u{0}{provider}\u{0}{tx}\u{0}{kind}")
}

/// The key of a voucher answer: validation number, sender, tx and operation.
pub fn voucher_key(validation: &str, party: &str, tx: &str, op: &str) -> String {
    format!("v\u{0}{validation}\u{0}{party}\u{0}{tx}\u{0}{op}")
}

/// The key of a desk's answer: desk, tx and operation (RULES.md D-7).
pub fn desk_key(desk: &str, tx: &str, op: &str) -> String {
    format!("d\u{0}{desk}\u{0}{tx}\u{0}{op}")
}

/// The key of a `refused` output: the event it refuses.
pub fn cause_key(event_id: &str) -> String {
    format!("e\u{0}{event_id}")
}

/// Why a request could not wait for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRegistered {
    /// `gateway.waiting-max` requests already wait.
    Busy,
    /// The same command (same key) is already waiting for its answer.
    InProgress,
}

/// A request's place among the waiters; dropping it withdraws the request.
pub struct Registration<'a> {
    waiters: &'a Waiters,
    keys: [String; 2],
    /// Resolves with the answer.
    pub answer: oneshot::Receiver<Answer>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        for k in &self.keys {
            self.waiters.map.remove(k);
        }
        self.waiters.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Waiters {
    /// Registers a request under its answer key and its event id. Refused when `max`
    /// requests already wait, or one with the same answer key does (a client sending the
    /// same command twice at once: the second is told to retry).
    pub fn register(
        &self,
        answer_key: String,
        event_id: &str,
        max: usize,
    ) -> Result<Registration<'_>, NotRegistered> {
        if self.waiting.fetch_add(1, Ordering::Relaxed) >= max {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(NotRegistered::Busy);
        }
        let (tx, rx) = oneshot::channel();
        let slot: Slot = Arc::new(Mutex::new(Some(tx)));
        let cause = cause_key(event_id);
        match self.map.entry(answer_key.clone()) {
            dashmap::mapref::entry::Entry::Occupied(_) => {
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                return Err(NotRegistered::InProgress);
            }
            dashmap::mapref::entry::Entry::Vacant(v) => {
                v.insert(slot.clone());
            }
        }
        self.map.insert(cause.clone(), slot);
        Ok(Registration {
            waiters: self,
            keys: [answer_key, cause],
            answer: rx,
        })
    }

    /// Hands an answer to the request it matches, if one waits.
    fn deliver(&self, keys: &[String], answer: Answer) {
        for k in keys {
            if let Some((_, slot)) = self.map.remove(k) {
                let sender = slot.lock().map(|mut s| s.take()).unwrap_or(None);
                if let Some(s) = sender {
                    let _ = s.send(answer);
                    return;
                }
            }
        }
    }

    /// Reads one output record and delivers it if it answers a waiting request.
    pub fn offer(&self, bytes: &[u8]) {
        let Ok(ev) = decode_output(bytes) else {
            return;
        };
        let output_id = ev.output_id().to_owned();
        let (keys, answer) = match &ev {
            OutputEvent::Wallet(e) => {
                let p = &e.payload;
                let key = wallet_key(&p.player, &p.provider, &p.tx, &p.kind);
                let a = answer("wallet", output_id, e, &p.status, p.code.as_deref());
                (keys_of(key, e.cause_event_id.as_deref()), a)
            }
            OutputEvent::Voucher(e) => {
                let p = &e.payload;
                let Some(tx) = p.tx.as_deref() else {
                    return;
                };
                let key = voucher_key(&p.validation, &p.party, tx, &p.op);
                let a = answer("voucher", output_id, e, &p.status, p.code.as_deref());
                (keys_of(key, e.cause_event_id.as_deref()), a)
            }
            OutputEvent::Shift(e) => {
                let p = &e.payload;
                let Some(tx) = p.tx.as_deref() else {
                    return;
                };
                let key = desk_key(&p.desk, tx, &p.op);
                let a = answer("shift", output_id, e, &p.status, p.code.as_deref());
                (keys_of(key, e.cause_event_id.as_deref()), a)
            }
            OutputEvent::Refused(e) => {
                let Some(cause) = e.cause_event_id.as_deref() else {
                    return;
                };
                (
                    vec![cause_key(cause)],
                    Answer {
                        kind: "refused",
                        output_id,
                        cause_event_id: Some(cause.to_owned()),
                        status: "refused".into(),
                        code: Some(e.payload.code.to_string()),
                        payload: serde_json::to_value(&e.payload).unwrap_or_default(),
                    },
                )
            }
            _ => return,
        };
        self.deliver(&keys, answer);
    }
}

/// An answer read from an output envelope.
fn answer<P: serde::Serialize>(
    kind: &'static str,
    output_id: String,
    e: &crate::wire::OutputEnvelope<'_, P>,
    status: &str,
    code: Option<&str>,
) -> Answer {
    Answer {
        kind,
        output_id,
        cause_event_id: e.cause_event_id.as_deref().map(str::to_owned),
        status: status.to_owned(),
        code: code.map(str::to_owned),
        payload: serde_json::to_value(&e.payload).unwrap_or_default(),
    }
}

/// Where an answer goes: an answer that names its cause answers only the request of that
/// event (the same content from the same sender is the same event, so a retry finds it).
/// A first answer published again (its command repeated) must not answer a request of other
/// content under the same transaction key, which waits for its own refusal (`tx_conflict`);
/// the extra hop wallet commands take through the internal topic made that race common. An
/// answer without a cause goes by its answer key.
fn keys_of(answer_key: String, cause: Option<&str>) -> Vec<String> {
    match cause {
        Some(c) => vec![cause_key(c)],
        None => vec![answer_key],
    }
}

/// A thread reading topics: the answer topics from where they ended when it started (the
/// gateway), or the compliance topic from its beginning (the AML case book).
pub struct ReplyListener {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl ReplyListener {
    /// Assigns every partition of `topics` at its current high watermark (so an answer
    /// produced after this returns is seen), then reads on a thread of its own. Blocking.
    ///
    /// # Errors
    ///
    /// The broker cannot be reached or a topic does not exist.
    pub fn start(
        kafka: &KafkaConfig,
        topics: &[String],
        waiters: Arc<Waiters>,
    ) -> anyhow::Result<Self> {
        Self::start_with(kafka, topics, false, "gateway-replies", move |bytes| {
            waiters.offer(bytes)
        })
    }

    /// Assigns every partition of `topics` at its current end, or at its beginning when
    /// `from_beginning`, then hands every record's value to `handler` on a thread named
    /// `name`. Blocking.
    ///
    /// # Errors
    ///
    /// The broker cannot be reached or a topic does not exist.
    pub fn start_with(
        kafka: &KafkaConfig,
        topics: &[String],
        from_beginning: bool,
        name: &str,
        handler: impl Fn(&[u8]) + Send + 'static,
    ) -> anyhow::Result<Self> {
        let mut cc = ClientConfig::new();
        cc.set("bootstrap.servers", &kafka.brokers)
            .set(
                "group.id",
                format!("pitboss-{name}-{}", uuid::Uuid::new_v4().simple()),
            )
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "10");
        for (k, v) in kafka.client_settings(&kafka.consumer) {
            if k != "group.id" {
                cc.set(k, v);
            }
        }
        let consumer: BaseConsumer = cc.create()?;
        let timeout = Duration::from_secs(10);
        let mut tpl = TopicPartitionList::new();
        for t in topics {
            let md = consumer.fetch_metadata(Some(t), timeout)?;
            let parts: Vec<i32> = md
                .topics()
                .iter()
                .flat_map(|mt| mt.partitions().iter().map(|p| p.id()))
                .collect();
            if parts.is_empty() {
                anyhow::bail!("topic {t} has no partitions (create the topics first)");
            }
            for p in parts {
                let at = if from_beginning {
                    Offset::Beginning
                } else {
                    Offset::Offset(consumer.fetch_watermarks(t, p, timeout)?.1)
                };
                tpl.add_partition_offset(t, p, at)?;
            }
        }
        consumer.assign(&tpl)?;
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    match consumer.poll(Duration::from_millis(100)) {
                        None => {}
                        Some(Ok(m)) => {
                            if let Some(bytes) = m.payload() {
                                handler(bytes);
                            }
                        }
                        Some(Err(e)) => {
                            crate::telemetry::kafka_error("consume");
                            tracing::warn!(error = %e, "topic listener");
                        }
                    }
                }
            })?;
        Ok(Self {
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Stops the thread and waits for it.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.lock().map(|mut t| t.take()).unwrap_or(None);
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Drop for ReplyListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
