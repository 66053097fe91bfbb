//! Shared by the Kafka tests: a configuration with every topic and the group unique to the
//! test, reading and writing topics with plain clients (`topics`), what a scenario must
//! produce (`expected`), the checks of what landed on the output topics (`outputs`), a
//! store standing in for a durable one (`shared_store`), waiting for the processors to
//! catch up (`caught_up`), one in-process run over produced input and its comparison with
//! the model (`run`), and the real binary's subcommands (`cli`). The broker, the child
//! guard and the naming come from `testkit`.

#![allow(dead_code, clippy::type_complexity)]

mod caught_up;
mod cli;
mod expected;
mod outputs;
mod run;
mod shared_store;
mod topics;

use std::sync::{Mutex, MutexGuard, OnceLock};

use pitboss::config::Config;
use pitboss::kafka::Src;

pub use caught_up::wait_caught_up;
pub use cli::{
    assert_audit_clean, committed_input, produce_paced, start_run, topics_create_cli,
    wait_committed_to_end,
};
pub use expected::{expected, Expected};
pub use outputs::Outputs;
pub use run::{compare_with_model, produce_and_run, run_until};
pub use shared_store::SharedStore;
pub use testkit::wait::wait_for_async as wait_for;
pub use testkit::{Broker, ChildGuard};
pub use topics::{keyed, produce, produce_stamped, read_all, record_time, EndReader, Rec};

/// Event time of the first simulated event (events are 20 ms apart).
pub const T0: i64 = 1_800_000_000_000;

/// Kafka tests share two cores with the broker: run them one at a time. Also installs a
/// log subscriber (`RUST_LOG`, off by default).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOG: OnceLock<()> = OnceLock::new();
    LOG.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
            )
            .with_test_writer()
            .try_init();
    });
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A small network with jackpot hits and rejections, against `broker`, with every topic
/// and the group unique to this call.
pub fn config(broker: &Broker, tag: &str) -> Config {
    let mut cfg = Config::load_with_env(None, Vec::new()).expect("defaults");
    cfg.sim.halls = 3;
    cfg.sim.machines_per_hall = 20;
    cfg.sim.players = 50;
    cfg.sim.malformed_per_million = 2_000;
    cfg.sim.progressive_hit_per_million = 20_000;
    // No cashless transfers (RULES.md W-10) in the simulated streams of these tests: they
    // compare the wallets' published answers and stored state with an in-process run in
    // input order, and a wallet applies its commands and its machines' transfers in the order
    // the internal transfers topic fixed, which a consumer interleaving its partitions makes
    // other than the input's (the books balance in any order; what is paid and `unbacked`
    // does not). Transfers through Kafka, across kills, are followed by `transfers.rs` and
    // `crash_embedded.rs`.
    cfg.sim.cashless_transfers = false;
    cfg.runtime.arbiters = 2;
    // `pitboss run` refuses the shipped placeholder.
    cfg.runtime.hit_point_secret = "kafka-tests-hit-point-secret-0123456789".into();
    let k = &mut cfg.kafka;
    k.brokers = broker.addr.clone();
    testkit::names::prefix_topics(k, &testkit::unique(tag));
    k.partitions.input = 4;
    k.partitions.outputs = 2;
    k.partitions.internal = 4;
    k.commit_interval_ms = 300;
    k.drain_timeout_ms = 10_000;
    testkit::names::quick_group(k);
    // In memory unless a test chooses a durable store (and its directory).
    cfg.store.kind = pitboss::store::StoreKind::Memory;
    cfg
}

/// The output topics of a configuration.
pub fn output_topics(cfg: &Config) -> Vec<String> {
    let t = &cfg.kafka.topics;
    let mut v: Vec<String> = t.outputs().into_iter().map(str::to_string).collect();
    v.dedup();
    v
}

/// The topics a processor consumes, by role.
pub fn consumed_topics(cfg: &Config) -> Vec<(Src, String)> {
    cfg.kafka.topics.consumed(cfg.kafka.internal_topics)
}
