//! One in-process `pitboss run` over produced input, and the comparison of what it stored
//! and published with the independent model of RULES.md.

use std::sync::Arc;
use std::time::Duration;

use pitboss::config::Config;
use pitboss::kafka::RunStats;
use pitboss::model::Model;
use pitboss::model_check;
use pitboss::run::{run_with, shutdown_channel, RunOptions, RunReport};
use pitboss_actors::shell::{Snapshot, StateStore};

use super::{output_topics, produce, produce_stamped, read_all, wait_caught_up, wait_for, Outputs};

/// Creates the topics, produces `msgs` with each record's timestamp from `stamp` (given
/// the message's index and bytes; None: the producer's clock), runs one processor (on
/// `store`, else the configured one) until it has completed everything, input and internal
/// topics, stops it, and reads back every output. Returns the report (recounted), the
/// outputs and each message's partition and offset.
pub async fn produce_and_run(
    cfg: &Config,
    msgs: &[(String, Vec<u8>)],
    store: Option<Arc<dyn StateStore>>,
    stamp: impl Fn(usize, &[u8]) -> Option<i64> + Send + 'static,
) -> (RunReport, Outputs, Vec<(i32, i64)>) {
    pitboss::run::create_topics(cfg)
        .await
        .expect("create topics");
    let (brokers, topic, m) = (
        cfg.kafka.brokers.clone(),
        cfg.kafka.topics.input.clone(),
        msgs.to_vec(),
    );
    let positions =
        tokio::task::spawn_blocking(move || produce_stamped(&brokers, &topic, &m, stamp))
            .await
            .unwrap();
    let stats = Arc::new(RunStats::default());
    let (button, shutdown) = shutdown_channel();
    let opts = RunOptions {
        store,
        stats: stats.clone(),
        recount: true,
        ..Default::default()
    };
    let n = msgs.len() as u64;
    let waiter = async {
        wait_for(
            "every input message completed",
            Duration::from_secs(120),
            || stats.inputs() >= n,
        )
        .await;
        wait_caught_up(cfg, std::slice::from_ref(&stats), Duration::from_secs(60)).await;
        button.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(run_with(cfg.clone(), opts, shutdown), waiter);
    let report = report.expect("pitboss run");
    let (brokers, topics) = (cfg.kafka.brokers.clone(), output_topics(cfg));
    let recs = tokio::task::spawn_blocking(move || read_all(&brokers, &topics))
        .await
        .unwrap();
    (report, Outputs::new(recs), positions)
}

/// The stored states and the published hits against the independent model fed `inputs`
/// (each message's bytes and its record's Kafka timestamp, as produced).
pub fn compare_with_model<'a>(
    cfg: &Config,
    inputs: impl IntoIterator<Item = (&'a [u8], Option<i64>)>,
    states: &[Snapshot],
    outputs: &Outputs,
) -> model_check::Report {
    let mcfg = model_check::model_config_of(cfg);
    let mut model = Model::new(
        mcfg.clone(),
        model_check::draw(&cfg.runtime.hit_point_secret),
    );
    for (bytes, kafka_time) in inputs {
        model.apply_bytes(bytes, kafka_time);
    }
    let mut r = model_check::Report::default();
    model_check::check_stored(&mut r, states, &outputs.hit_rows(), &model, &mcfg);
    r
}

/// Produces `msgs` to the input topic (created already), runs one processor with `opts`
/// until `found` (polled off the runtime, up to 60 s) finds what the test waits for, stops
/// it, and returns the run's result and what was found.
pub async fn run_until<T: Send + 'static>(
    cfg: &Config,
    opts: RunOptions,
    msgs: Vec<(String, Vec<u8>)>,
    what: &'static str,
    mut found: impl FnMut(&Config) -> Option<T> + Send + 'static,
) -> (anyhow::Result<RunReport>, T) {
    let (button, shutdown) = shutdown_channel();
    let rest = async {
        let (brokers, topic) = (cfg.kafka.brokers.clone(), cfg.kafka.topics.input.clone());
        tokio::task::spawn_blocking(move || produce(&brokers, &topic, &msgs))
            .await
            .unwrap();
        let c = cfg.clone();
        let got = tokio::task::spawn_blocking(move || {
            testkit::wait::wait_for(what, Duration::from_secs(60), || found(&c))
        })
        .await
        .unwrap();
        button.send(true).unwrap();
        got
    };
    tokio::join!(run_with(cfg.clone(), opts, shutdown), rest)
}
