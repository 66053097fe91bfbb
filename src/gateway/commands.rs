//! Sending a command through the input topic and waiting for its answer: what the gateway
//! and the admin API's voucher void share.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use tokio::sync::OnceCell;

use super::replies::{Answer, NotRegistered, ReplyListener, Waiters};
use crate::kafka::KafkaConfig;
use crate::wire::InputEnvelope;

/// Why a command got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitError {
    /// Too many requests wait for their answer.
    Busy,
    /// The same command (same answer key) is already waiting.
    InProgress,
    /// The command could not be produced.
    Broker(String),
    /// The reply listener could not be started.
    Listener(String),
    /// No answer before the deadline: the command may still be applied.
    Timeout,
}

/// A producer on the input topic and a listener on the answer topics.
pub struct Commands {
    kafka: KafkaConfig,
    producer: FutureProducer,
    input_topic: String,
    waiters: Arc<Waiters>,
    waiting_max: usize,
    /// Started by [`Commands::start`] or by the first [`Commands::submit`].
    listener: OnceCell<ReplyListener>,
}

impl Commands {
    /// The producer (created at once: it connects lazily) and an unstarted listener.
    ///
    /// # Errors
    ///
    /// librdkafka refuses the producer's settings.
    pub fn new(kafka: &KafkaConfig, waiting_max: usize) -> anyhow::Result<Self> {
        let mut pc = crate::kafka::producer::producer_config(kafka);
        // A person is waiting: send at once rather than batch.
        pc.set("linger.ms", "0");
        let producer: FutureProducer = pc.create().context("creating the command producer")?;
        Ok(Self {
            kafka: kafka.clone(),
            producer,
            input_topic: kafka.topics.input.clone(),
            waiters: Arc::new(Waiters::default()),
            waiting_max,
            listener: OnceCell::new(),
        })
    }

    /// Starts the reply listener at the answer topics' current ends, if not yet started.
    ///
    /// # Errors
    ///
    /// The broker cannot be reached or a topic does not exist.
    pub async fn start(&self) -> anyhow::Result<()> {
        self.listener
            .get_or_try_init(|| async {
                let (k, w) = (self.kafka.clone(), self.waiters.clone());
                let topics = vec![
                    k.topics.wallet_events.clone(),
                    k.topics.vouchers.clone(),
                    k.topics.shifts.clone(),
                    k.topics.rejected.clone(),
                ];
                tokio::task::spawn_blocking(move || ReplyListener::start(&k, &topics, w)).await?
            })
            .await
            .map(|_| ())
    }

    /// Produces `env` on the input topic and waits until `deadline` (from `started`) for
    /// the answer matching `answer_key` or the event's id.
    ///
    /// # Errors
    ///
    /// [`SubmitError`]: no answer, and why.
    pub async fn submit(
        &self,
        env: &InputEnvelope,
        answer_key: String,
        started: Instant,
        deadline: Duration,
    ) -> Result<Answer, SubmitError> {
        self.start()
            .await
            .map_err(|e| SubmitError::Listener(format!("{e:#}")))?;
        let mut registration = self
            .waiters
            .register(answer_key, &env.event_id, self.waiting_max)
            .map_err(|e| match e {
                NotRegistered::Busy => SubmitError::Busy,
                NotRegistered::InProgress => SubmitError::InProgress,
            })?;
        let bytes = env.to_bytes();
        let record = FutureRecord::to(&self.input_topic)
            .key(env.kafka_key())
            .payload(&bytes);
        if let Err((e, _)) = self.producer.send(record, Timeout::After(deadline)).await {
            crate::telemetry::kafka_error("produce");
            return Err(SubmitError::Broker(e.to_string()));
        }
        let left = deadline
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        match tokio::time::timeout(left, &mut registration.answer).await {
            Ok(Ok(a)) => Ok(a),
            _ => Err(SubmitError::Timeout),
        }
    }

    /// Produces an output record made outside the runtime (an officer's closing of an AML
    /// case, RULES.md W-11) to its topic, with the output headers, and waits until the
    /// broker has it or `deadline` passes.
    ///
    /// # Errors
    ///
    /// The broker did not take it: what it said.
    pub async fn publish(
        &self,
        rec: &crate::wire::OutputRecord,
        deadline: Duration,
    ) -> Result<(), String> {
        use rdkafka::message::{Header, OwnedHeaders};
        let id = rec.id.to_string();
        let version = crate::wire::SCHEMA_VERSION.to_string();
        let headers = OwnedHeaders::new_with_capacity(2)
            .insert(Header {
                key: crate::kafka::sink::HEADER_SCHEMA_VERSION,
                value: Some(version.as_str()),
            })
            .insert(Header {
                key: crate::kafka::sink::HEADER_OUTPUT_ID,
                value: Some(id.as_str()),
            });
        let record = FutureRecord::to(self.kafka.topics.output(rec.topic))
            .key(rec.key.as_str())
            .payload(&rec.bytes)
            .headers(headers);
        match self.producer.send(record, Timeout::After(deadline)).await {
            Ok(_) => Ok(()),
            Err((e, _)) => {
                crate::telemetry::kafka_error("produce");
                Err(e.to_string())
            }
        }
    }

    /// Stops the listener's thread (blocks up to one poll).
    pub async fn stop(self: Arc<Self>) {
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(l) = self.listener.get() {
                l.stop();
            }
        })
        .await;
    }
}
