//! Ingest: decode and validate a message, route it to its entity, or reject it with its
//! reason. The same path serves the demo, the replay, the benches and (behind the Kafka
//! source) `pitboss run`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pitboss_actors::shell::{AckToken, Output, Runtime};
use tokio::sync::Semaphore;

use crate::wire;

/// Where a message came from, for rejections (`-1` when not from Kafka).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourcePos {
    /// Kafka partition.
    pub partition: i32,
    /// Kafka offset.
    pub offset: i64,
}

/// Counters of the ingest side.
#[derive(Debug, Default)]
pub struct IngestStats {
    /// Messages decoded and routed.
    pub routed: AtomicU64,
    /// Messages rejected as undecodable or invalid.
    pub rejected: AtomicU64,
}

/// Bounds the number of input events in flight (decoded but not yet fully processed).
pub struct Inflight {
    sem: Arc<Semaphore>,
    max: u32,
}

impl Inflight {
    /// A bound of `max` events.
    pub fn new(max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS) as u32;
        Self {
            sem: Arc::new(Semaphore::new(max as usize)),
            max,
        }
    }

    /// Waits for room for `n` events, then returns the token they share. `on_done` runs
    /// (with `false` if any part failed) when everything they caused is complete.
    pub async fn begin(
        &self,
        n: usize,
        on_done: impl FnOnce(bool) + Send + Sync + 'static,
    ) -> AckToken {
        let n = (n as u32).clamp(1, self.max);
        let permits = self
            .sem
            .clone()
            .acquire_many_owned(n)
            .await
            .expect("the in-flight semaphore is never closed");
        AckToken::new(move |ok| {
            // The callback first, then the permits: whoever waits in `drained` must see
            // what the callback recorded.
            on_done(ok);
            drop(permits);
        })
    }

    /// Waits until nothing is in flight.
    pub async fn drained(&self) {
        let all = self
            .sem
            .acquire_many(self.max)
            .await
            .expect("the in-flight semaphore is never closed");
        drop(all);
    }

    /// Events in flight now.
    pub fn in_flight(&self) -> usize {
        self.max as usize - self.sem.available_permits()
    }
}

/// Decodes, validates and routes messages.
pub struct Ingest {
    rt: Arc<Runtime>,
    pub stats: IngestStats,
}

impl Ingest {
    /// An ingest over a runtime.
    pub fn new(rt: Arc<Runtime>) -> Self {
        Self {
            rt,
            stats: IngestStats::default(),
        }
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.rt
    }

    /// Processes one message. Invalid input is handed to the sink as a rejection (with its
    /// reason, its bytes and its position) and never stops the stream.
    pub async fn process(&self, bytes: &[u8], key: Option<&[u8]>, pos: SourcePos, ack: &AckToken) {
        match wire::decode_input(bytes) {
            Ok(input) => {
                self.stats.routed.fetch_add(1, Ordering::Relaxed);
                crate::telemetry::event_in(&input);
                self.rt.dispatch(input, ack.clone()).await;
            }
            Err(e) => {
                self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                crate::telemetry::event_rejected(e.code());
                tracing::debug!(partition = pos.partition, offset = pos.offset, reason = %e, "rejected input");
                self.rt.sink.emit(
                    Output::Rejected {
                        reason: e.to_string(),
                        code: e.code(),
                        original: bytes.to_vec(),
                        key: key.map(<[u8]>::to_vec),
                        partition: pos.partition,
                        offset: pos.offset,
                    },
                    ack,
                );
            }
        }
    }
}
