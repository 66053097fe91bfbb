//! Kafka adapters: the consumer-group source with its offset protocol, the output sink,
//! the router for effects between entities over internal topics, their wire format, and
//! topic administration. `crate::run` wires them into `pitboss run`.
//!
//! # Delivery protocol
//!
//! - Consumed messages are processed in batches; a batch's completion token
//!   ([`pitboss_actors::shell::AckToken`]) is cloned into every message it causes and held
//!   by whoever makes an effect durable in Kafka: [`sink::KafkaSink`] until the broker has
//!   an output, [`router::KafkaRouter`] until it has an internal message. When the last
//!   clone drops the batch is complete ([`tracker::Tracker`]).
//! - A checkpoint round (every `commit-interval-ms`, on revocation, at shutdown) waits
//!   until nothing is in flight (so every actor's state reflects exactly the completed
//!   batches), asks every changed actor for its state, flushes the store, and only if the
//!   store reports it durable commits the complete prefix of each partition. The in-memory
//!   store never reports durability: nothing is committed and a restart replays every
//!   topic from its start (deterministic ids and per-source deduplication make that exact).
//! - A failed completion (an output or effect the broker refused after retries, an
//!   undecodable internal message) sets [`Fatal`]: the processor stops, commits nothing
//!   more, and exits non-zero.

pub mod admin;
pub mod internal;
pub mod partition;
pub mod processor;
pub mod producer;
pub mod router;
pub mod settings;
pub mod sink;
pub mod source;
pub mod stats;
pub mod tracker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub use settings::{KafkaConfig, PartitionCounts, TopicNames};
pub use stats::RunStats;

/// Which topic a consumed message came from: the input topic or one of the internal ones.
/// Offsets, ownership and commits are all kept per (role, partition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Src {
    /// The input topic (game events).
    Input,
    /// Internal: pool commands.
    PoolCommands,
    /// Internal: GGR deltas.
    GgrDeltas,
    /// Internal: machine awards.
    MachineAwards,
    /// Internal: voucher commands and ticket facts.
    VoucherFacts,
    /// Internal: machines' cashless transfers for wallets.
    WalletTransfers,
    /// Internal: desk commands and the desks' cash operations.
    DeskOps,
}

impl Src {
    /// Every role, in a fixed order.
    pub const ALL: [Src; 7] = [
        Src::Input,
        Src::PoolCommands,
        Src::GgrDeltas,
        Src::MachineAwards,
        Src::VoucherFacts,
        Src::WalletTransfers,
        Src::DeskOps,
    ];
}

/// A topic (by role) and partition.
pub type Tp = (Src, i32);

/// An internal failure that must stop the processor (the first reason is kept).
#[derive(Clone, Default)]
pub struct Fatal(Arc<FatalInner>);

#[derive(Default)]
struct FatalInner {
    set: AtomicBool,
    reason: Mutex<Option<String>>,
    notify: tokio::sync::Notify,
}

impl Fatal {
    /// Records a failure.
    pub fn set(&self, reason: impl Into<String>) {
        let mut r = self.0.reason.lock().expect("fatal lock");
        if r.is_none() {
            let reason = reason.into();
            tracing::error!(%reason, "internal failure: the processor stops");
            *r = Some(reason);
        }
        self.0.set.store(true, Ordering::SeqCst);
        self.0.notify.notify_one();
    }

    /// A failure was recorded.
    pub fn is_set(&self) -> bool {
        self.0.set.load(Ordering::SeqCst)
    }

    /// The first failure's reason.
    pub fn reason(&self) -> Option<String> {
        self.0.reason.lock().expect("fatal lock").clone()
    }

    /// Resolves once a failure is recorded.
    pub async fn wait(&self) {
        while !self.is_set() {
            self.0.notify.notified().await;
        }
    }
}
