//! Several `pitboss run` instances under faults, end to end (issue 15): a real broker
//! (Tansu) and `pitboss-load run --scenario ... --spawn --json`, which starts three
//! instances in one group on a CQL store the harness serves, applies the scenario's faults,
//! stops the instances one after another and checks every unit of money against the
//! independent model, the published outputs and `pitboss audit`.
//!
//! Needs the `pitboss` binary next to `pitboss-load` (`cargo test --workspace` builds it)
//! and Tansu (see `testkit::tansu`). A missing broker or binary fails the test.

mod support;

use std::time::Duration;

/// The headline and standard error of a run of `scenario`; its report's log of faults
/// must name every one the headline counts.
fn run(scenario: &str, spawn_broker: bool) -> (serde_json::Value, String) {
    let r = support::run_scenario(scenario, 180, Duration::from_secs(600), spawn_broker);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(r.out.path().join("report.json")).expect("report.json"),
    )
    .expect("report.json is JSON");
    // The wide-area pool's hits and levels, the transfers and the halls' windows were all
    // published while partitions moved: their checks compared something.
    let outputs = &report["outputs_distinct"];
    for kind in ["jackpot_hit", "jackpot_levels", "transfer", "ggr", "wallet"] {
        assert!(
            outputs[kind].as_u64().unwrap_or(0) > 0,
            "no {kind} output, so its check compared nothing: {outputs}"
        );
    }
    let log = report["chaos"]["log"].as_array().expect("the chaos log");
    let count = |what: &str| {
        log.iter()
            .filter(|l| l.as_str().is_some_and(|l| l.contains(what)))
            .count() as u64
    };
    assert_eq!(
        count("SIGKILL"),
        r.headline["kills"].as_u64().unwrap(),
        "{log:?}"
    );
    assert_eq!(
        count("left cleanly"),
        r.headline["rebalances"].as_u64().unwrap(),
        "{log:?}"
    );
    assert_eq!(
        count("broker stopped"),
        r.headline["broker_restarts"].as_u64().unwrap(),
        "{log:?}"
    );
    (r.headline, r.stderr)
}

/// Three instances, one of which leaves and comes back, and all of which stop one after
/// another at the end: the rebalances hand machines, wallets, halls and the wide-area pool
/// between instances through the shared store. (Before RULES.md H-2's hand-over rule, the
/// last instance's halls kept their final windows in the store: "GGR per hall (published)"
/// failed.)
#[test]
fn three_instances_and_their_rebalances_account_for_every_unit_of_money() {
    let (v, stderr) = run("scenarios/three-instances.toml", false);
    assert_eq!(v["instances"], 3, "{v}");
    assert_eq!(v["rebalances"], 1, "{v}");
    assert_eq!(v["unplanned_exits"], 0, "{v}\n{stderr}");
    assert!(v["events"].as_u64().unwrap_or(0) > 0, "{v}");
    assert_eq!(v["accounting_ok"], true, "{v}\n{stderr}");
}

/// The chaos scenario made small for CI (`chaos-ci.toml`): two SIGKILLs and the store down
/// for 5 s, against the test's in-memory broker.
#[test]
fn a_smaller_chaos_run_accounts_for_every_unit_of_money() {
    let (v, stderr) = run("scenarios/chaos-ci.toml", false);
    assert_eq!(v["instances"], 3, "{v}");
    assert!(v["kills"].as_u64().unwrap_or(0) >= 2, "{v}");
    assert!(v["store_outage_secs"].as_f64().unwrap_or(0.0) >= 5.0, "{v}");
    assert_eq!(v["unplanned_exits"], 0, "{v}\n{stderr}");
    assert_eq!(v["accounting_ok"], true, "{v}\n{stderr}");
}

/// The chaos scenario: five SIGKILLs (some in a start-up), a leave and return, the store
/// down for 10 s and a broker restart (a durable Tansu the harness starts).
#[test]
#[ignore = "three minutes and a durable broker; CI runs three-instances.toml and \
            chaos-ci.toml instead. Tansu's group coordinator can keep a leader that left as \
            the leader of the generation it was forming, and the group never forms again \
            (BENCHMARKS.md, Chaos: a leave during the kills, as in run g); and a bet once \
            booked twice in a machine's ledger (run o), which the partition fences should \
            now stop"]
fn chaos_scenario_accounts_for_every_unit_of_money() {
    let (v, stderr) = run("scenarios/chaos.toml", true);
    assert_eq!(v["instances"], 3, "{v}");
    assert!(v["kills"].as_u64().unwrap_or(0) >= 5, "{v}");
    assert!(v["kills_in_start_up"].as_u64().unwrap_or(0) >= 1, "{v}");
    assert!(v["rebalances"].as_u64().unwrap_or(0) >= 1, "{v}");
    assert!(
        v["store_outage_secs"].as_f64().unwrap_or(0.0) >= 10.0,
        "{v}"
    );
    assert!(v["broker_restarts"].as_u64().unwrap_or(0) >= 1, "{v}");
    assert_eq!(v["unplanned_exits"], 0, "{v}\n{stderr}");
    assert_eq!(v["accounting_ok"], true, "{v}\n{stderr}");
}

/// The broker a chaos run restarts keeps what it held: records produced before the restart
/// are read after it, and a consumer group resumes from the offset it committed before it
/// (Tansu on moto's S3 server; an in-memory Tansu forgets both).
#[test]
fn a_durable_broker_keeps_records_and_committed_offsets_across_a_restart() {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
    use rdkafka::message::Message;
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

    let logs = tempfile::tempdir().expect("a log directory");
    let mut broker = testkit::DurableBroker::start(logs.path()).expect("a durable broker");
    let topic = testkit::unique("durable");
    // The same address after the restart.
    let addr = broker.addr.clone();
    let client = |extra: &[(&str, &str)]| {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &addr);
        for (k, v) in extra {
            c.set(*k, *v);
        }
        c
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let admin: AdminClient<DefaultClientContext> = client(&[]).create().expect("an admin client");
    let created = rt
        .block_on(admin.create_topics(
            &[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        ))
        .expect("create_topics");
    assert!(created.iter().all(Result::is_ok), "{created:?}");

    let produce = |from: u32, to: u32| {
        let p: ThreadedProducer<DefaultProducerContext> =
            client(&[("linger.ms", "1")]).create().expect("a producer");
        for i in from..to {
            let v = i.to_string();
            p.send(BaseRecord::<(), _>::to(&topic).payload(&v))
                .map_err(|(e, _)| e)
                .expect("enqueued");
        }
        p.flush(Duration::from_secs(60))
            .expect("every record acknowledged");
    };
    // Reads from the group's committed offset (or the start) to the end of the partition.
    let read_to_end = |group: &str, commit_after: Option<usize>| -> Vec<u32> {
        let c: BaseConsumer = client(&[
            ("group.id", group),
            ("enable.auto.commit", "false"),
            ("auto.offset.reset", "earliest"),
            ("enable.partition.eof", "true"),
            ("fetch.wait.max.ms", "200"),
            // The group's previous member went with the broker's restart: the coordinator
            // waits out its session before the rebalance completes.
            ("session.timeout.ms", "6000"),
            ("heartbeat.interval.ms", "1000"),
        ])
        .create()
        .expect("a consumer");
        c.subscribe(&[&topic]).expect("subscribe");
        let mut got = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            assert!(
                std::time::Instant::now() < deadline,
                "{group}: the end of {topic} not reached within 120 s (read {got:?})"
            );
            match c.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    let v = std::str::from_utf8(m.payload().expect("a payload"))
                        .expect("text")
                        .parse()
                        .expect("a number");
                    got.push(v);
                    if commit_after == Some(got.len()) {
                        c.commit_message(&m, CommitMode::Sync).expect("commit");
                        return got;
                    }
                }
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => return got,
                Some(Err(e)) => panic!("{group}: {e}"),
                None => {}
            }
        }
    };

    produce(0, 100);
    assert_eq!(read_to_end("g1", Some(40)), (0..40).collect::<Vec<_>>());
    broker.stop().expect("the broker stops");
    broker.start_again().expect("the broker starts again");
    produce(100, 120);
    // The group resumes after its commit; a new one reads every record, once and in order.
    assert_eq!(read_to_end("g1", None), (40..120).collect::<Vec<_>>());
    assert_eq!(read_to_end("g2", None), (0..120).collect::<Vec<_>>());
}
