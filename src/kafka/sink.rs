//! `KafkaSink`: the [`EventSink`] of `pitboss run`. Each output gets its wire form and
//! deterministic id (`wire::encode_output`) on the emitting actor's thread and is produced
//! to its topic, keyed by its entity, with headers:
//!
//! - `pitboss-schema-version`: the output schema version (`1`);
//! - `pitboss-output-id`: the output's id (UUID text), also inside the payload;
//! - `pitboss-cause-event-id`: the input event that caused it, when there is one; for an
//!   aggregate (a GGR window, a pool's levels) the latest input event it is the first to
//!   include (not in the payload, see [`OutputRecord::cause`]);
//! - `pitboss-cause-count`: on an aggregate, how many input events it is the first to
//!   include (decimal text).
//!
//! The record holds a clone of the output's completion token until the broker acknowledges
//! it, so an input's offset is stored only after its outputs are in Kafka.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pitboss_actors::shell::{AckToken, EventSink, Output};
use rdkafka::message::{Header, OwnedHeaders};

use super::producer::{Delivery, Produce};
use super::settings::TopicNames;
use crate::wire::{self, OutputRecord, Topic, SCHEMA_VERSION};

/// Header names.
pub const HEADER_SCHEMA_VERSION: &str = "pitboss-schema-version";
/// Header names.
pub const HEADER_OUTPUT_ID: &str = "pitboss-output-id";
/// Header names.
pub const HEADER_CAUSE_EVENT_ID: &str = "pitboss-cause-event-id";
/// Header names.
pub const HEADER_CAUSE_COUNT: &str = "pitboss-cause-count";

/// Produces outputs to the output topics.
pub struct KafkaSink {
    produce: Arc<Produce>,
    topics: [Arc<str>; Topic::ALL.len()],
    counts: [AtomicU64; Topic::ALL.len()],
    version: String,
}

fn index(t: Topic) -> usize {
    match t {
        Topic::Ggr => 0,
        Topic::Jackpots => 1,
        Topic::WalletEvents => 2,
        Topic::Alerts => 3,
        Topic::Rejected => 4,
        Topic::Vouchers => 5,
        Topic::Sessions => 6,
        Topic::Compliance => 7,
        Topic::Reports => 8,
        Topic::Shifts => 9,
    }
}

impl KafkaSink {
    /// A sink producing to the configured topics.
    pub fn new(produce: Arc<Produce>, names: &TopicNames) -> Self {
        Self {
            produce,
            topics: Topic::ALL.map(|t| Arc::from(names.output(t))),
            counts: Default::default(),
            version: SCHEMA_VERSION.to_string(),
        }
    }

    /// Outputs emitted so far, by topic.
    pub fn counts(&self) -> Vec<(Topic, u64)> {
        Topic::ALL
            .iter()
            .map(|t| (*t, self.counts[index(*t)].load(Ordering::Relaxed)))
            .collect()
    }
}

impl KafkaSink {
    /// Produces a record made outside the runtime (a gaming-day report, RULES.md H-5): no
    /// input waits for it; a failed delivery stops the process, as any output's does.
    pub fn produce_record(&self, rec: &OutputRecord) {
        self.send(rec, Delivery::Many(Vec::new()));
    }

    fn send(&self, rec: &OutputRecord, delivery: Delivery) {
        let i = index(rec.topic);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        let mut id = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = rec.id.hyphenated().encode_lower(&mut id);
        let mut headers = OwnedHeaders::new_with_capacity(4)
            .insert(Header {
                key: HEADER_SCHEMA_VERSION,
                value: Some(self.version.as_str()),
            })
            .insert(Header {
                key: HEADER_OUTPUT_ID,
                value: Some(&*id),
            });
        if let Some(cause) = &rec.cause {
            headers = headers.insert(Header {
                key: HEADER_CAUSE_EVENT_ID,
                value: Some(cause.as_str()),
            });
        }
        if let Some(n) = rec.causes {
            // Aggregates are a few a second: the allocation does not matter.
            headers = headers.insert(Header {
                key: HEADER_CAUSE_COUNT,
                value: Some(&n.to_string()),
            });
        }
        self.produce.send(
            &self.topics[i],
            None,
            Some(rec.key.as_bytes()),
            &rec.bytes,
            Some(headers),
            Box::new(delivery),
        );
    }
}

impl EventSink for KafkaSink {
    fn emit(&self, output: Output, ack: &AckToken) {
        let rec = wire::encode_output(&output);
        self.send(&rec, Delivery::One(ack.clone()));
    }
}
