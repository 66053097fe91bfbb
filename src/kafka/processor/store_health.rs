//! How the store answers the checkpoint rounds: whether it can make state durable at all,
//! when to try again after a failure, and whether consumption is paused because its
//! backlog reached its bound (backpressure instead of growing memory).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::kafka::RunStats;
use crate::readiness::Readiness;
use crate::store::Backoff;
use crate::telemetry;

pub(super) struct StoreHealth {
    /// Unknown until the first flush answers.
    durable: Option<bool>,
    /// While the store fails: when to try the next checkpoint round.
    retry_at: Option<Instant>,
    backoff: Backoff,
    paused: bool,
    backlog_max: usize,
    readiness: Arc<Readiness>,
    stats: Arc<RunStats>,
}

impl StoreHealth {
    pub fn new(backlog_max: usize, readiness: Arc<Readiness>, stats: Arc<RunStats>) -> Self {
        Self {
            durable: None,
            retry_at: None,
            backoff: Backoff::default(),
            paused: false,
            backlog_max,
            readiness,
            stats,
        }
    }

    pub fn durable(&self) -> Option<bool> {
        self.durable
    }

    /// Consumption paused: the store fails and its backlog is at its bound.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// The store failed and its backoff has not yet passed.
    pub fn backing_off(&self) -> bool {
        self.retry_at.is_some_and(|t| Instant::now() < t)
    }

    /// Time left before the next attempt, while backing off.
    pub fn retry_in(&self) -> Option<Duration> {
        self.retry_at
            .map(|t| t.saturating_duration_since(Instant::now()))
    }

    /// The store answered a flush (or failed), with `backlog` rows not yet durable:
    /// readiness, retry timing, and the pause.
    pub fn answered(&mut self, ok: bool, backlog: usize) {
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
            if !self.paused && backlog >= self.backlog_max {
                tracing::warn!(
                    backlog,
                    "the store's backlog is at its bound: consumption paused until the store takes it"
                );
                self.paused = true;
                self.stats.store_pauses.fetch_add(1, Ordering::Relaxed);
            }
        }
        telemetry::store_backlog(backlog as u64);
    }

    pub fn note_durability(&mut self, durable: bool) {
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
}
