use std::sync::Arc;

use pitboss_actors::shell::StateStore;

/// A small network for runtime tests.
pub fn small_network() -> pitboss::config::Config {
    let mut cfg = pitboss::config::Config::load_with_env(None, Vec::new()).expect("defaults");
    cfg.sim.halls = 3;
    cfg.sim.machines_per_hall = 20;
    cfg.sim.players = 50;
    cfg.sim.malformed_per_million = 2_000;
    cfg.sim.progressive_hit_per_million = 20_000;
    cfg.runtime.arbiters = 2;
    cfg.runtime.mailbox_len_max = 16;
    cfg
}

/// Feeds simulator messages to a runtime, as the demo and the Kafka source do, and takes
/// checkpoints at consistent cuts. The message number stands in for the input offset.
pub struct Driver {
    pub rt: Arc<pitboss_actors::shell::Runtime>,
    pub ingest: pitboss::pipeline::Ingest,
    pub inflight: pitboss::pipeline::Inflight,
    pub sent: u64,
}

impl Driver {
    pub fn start(cfg: &pitboss::config::Config, store: Arc<dyn StateStore>) -> Self {
        let rt = pitboss_actors::shell::Runtime::start(
            cfg.runtime_config().expect("runtime config"),
            Arc::new(pitboss_actors::shell::NullSink::default()),
            store,
            Arc::new(pitboss::rng::KeyedHitPoints::new(
                &cfg.runtime.hit_point_secret,
            )),
            Arc::new(pitboss_actors::shell::SystemClock),
        );
        Self {
            ingest: pitboss::pipeline::Ingest::new(rt.clone()),
            inflight: pitboss::pipeline::Inflight::new(256),
            rt,
            sent: 0,
        }
    }

    pub async fn feed(&mut self, msgs: &[pitboss::sim::SimMessage]) {
        for chunk in msgs.chunks(64) {
            let ack = self
                .inflight
                .begin(chunk.len(), |ok| assert!(ok, "an input failed"))
                .await;
            for m in chunk {
                let pos = pitboss::pipeline::SourcePos {
                    partition: 0,
                    offset: self.sent as i64,
                };
                self.sent += 1;
                self.ingest
                    .process(&m.bytes, Some(m.key.as_bytes()), pos, &ack)
                    .await;
            }
        }
    }

    /// A checkpoint at a consistent cut, recording the input position it reflects.
    pub async fn checkpoint(&self) -> Result<bool, pitboss_actors::shell::StoreError> {
        self.inflight.drained().await;
        self.rt.quiesce().await;
        self.rt
            .store
            .stash_position(pitboss_actors::shell::Position {
                topic: "sim".into(),
                partition: 0,
                next_offset: self.sent as i64,
            });
        pitboss::store::checkpoint(&self.rt).await
    }

    /// Every entity's state, as the runtime sees it (live actors, then the store).
    pub async fn states(&self) -> Vec<pitboss_actors::shell::Snapshot> {
        self.inflight.drained().await;
        self.rt.quiesce().await;
        self.rt.collect().await.expect("collect")
    }
}

/// States by key.
pub fn by_key(
    states: &[pitboss_actors::shell::Snapshot],
) -> std::collections::BTreeMap<String, &pitboss_actors::shell::Snapshot> {
    states
        .iter()
        .map(|s| (format!("{:?}", s.key()), s))
        .collect()
}

/// Asserts two sets of states are equal (`==`: hash maps compare by content), naming the
/// first entity that differs.
pub fn assert_same_states(
    actual: &[pitboss_actors::shell::Snapshot],
    expected: &[pitboss_actors::shell::Snapshot],
) {
    let (a, e) = (by_key(actual), by_key(expected));
    for k in a.keys().chain(e.keys()) {
        assert!(
            a.get(k) == e.get(k),
            "entity {k} differs:\n actual   {:?}\n expected {:?}",
            a.get(k),
            e.get(k)
        );
    }
}

/// Messages from the simulator, with event time advancing 20 ms per message.
pub fn messages(
    sim: &mut pitboss::sim::Simulator,
    n: usize,
    t0: i64,
) -> Vec<pitboss::sim::SimMessage> {
    (0..n as i64).map(|i| sim.next(t0 + i * 20)).collect()
}
