//! The real binary: `pitboss topics create` and `pitboss run --config FILE` against Tansu,
//! with the embedded store and the HTTP side (readiness, metrics, read APIs) while it runs;
//! SIGTERM stops `run` cleanly with exit code 0, and `pitboss audit` finds the stored ledger
//! and state in agreement.

use crate::support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pitboss::sim::Simulator;
use support::{Broker, EndReader, T0};

#[actix_rt::test]
async fn pitboss_run_processes_a_scenario_and_exits_0_on_sigterm() {
    let _serial = support::serial();
    let broker = Broker::start();
    let cfg = support::config(&broker, "cli");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pitboss.toml");
    let t = &cfg.kafka.topics;
    let file = format!(
        r#"[runtime]
arbiters = 2
hit-point-secret = "{secret}"

[store]
kind = "embedded"
data-dir = "{state}"

[http]
audit-log = "{audit}"

[sim]
halls = {halls}
machines-per-hall = {mph}
players = {players}

[kafka]
brokers = "{brokers}"
group-id = "{group}"
commit-interval-ms = 300

[kafka.topics]
input = "{input}"
ggr = "{ggr}"
jackpots = "{jackpots}"
wallet-events = "{wallet}"
alerts = "{alerts}"
rejected = "{rejected}"
pool-commands = "{pool}"
ggr-deltas = "{deltas}"
machine-awards = "{awards}"
vouchers = "{vouchers}"
voucher-facts = "{voucher_facts}"
wallet-transfers = "{wallet_transfers}"
sessions = "{sessions}"
compliance = "{compliance}"
reports = "{reports}"
shifts = "{shifts}"
desk-ops = "{desk_ops}"

[kafka.partitions]
input = 4
outputs = 2
internal = 4

[kafka.consumer]
"session.timeout.ms" = 6000
"heartbeat.interval.ms" = 500
"#,
        secret = cfg.runtime.hit_point_secret,
        state = dir.path().join("state").display(),
        audit = dir.path().join("audit.jsonl").display(),
        halls = cfg.sim.halls,
        mph = cfg.sim.machines_per_hall,
        players = cfg.sim.players,
        brokers = broker.addr,
        group = cfg.kafka.group_id,
        input = t.input,
        ggr = t.ggr,
        jackpots = t.jackpots,
        wallet = t.wallet_events,
        alerts = t.alerts,
        rejected = t.rejected,
        pool = t.pool_commands,
        deltas = t.ggr_deltas,
        awards = t.machine_awards,
        vouchers = t.vouchers,
        voucher_facts = t.voucher_facts,
        wallet_transfers = t.wallet_transfers,
        sessions = t.sessions,
        compliance = t.compliance,
        reports = t.reports,
        shifts = t.shifts,
        desk_ops = t.desk_ops,
    );
    std::fs::write(&path, file).unwrap();
    let bin = env!("CARGO_BIN_EXE_pitboss");

    // The topics, with the configured partition counts.
    let listing = support::topics_create_cli(bin, &path);
    assert!(
        listing.contains(&format!("{}\t4\tcreated", t.input)),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("{}\t4\tcreated", t.machine_awards)),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("{}\t4\tcreated", t.voucher_facts)),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("{}\t4\tcreated", t.wallet_transfers)),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("{}\t4\tcreated", t.desk_ops)),
        "{listing}"
    );
    assert_eq!(listing.lines().count(), 17, "{listing}");

    let mut sim = Simulator::new(&cfg).unwrap();
    let msgs = support::keyed(
        &(0..2_000)
            .map(|i| sim.next(T0 + i * 20))
            .collect::<Vec<_>>(),
    );
    let expected = support::expected(&cfg, &msgs).await;
    let (brokers, topic, m) = (broker.addr.clone(), t.input.clone(), msgs.clone());
    tokio::task::spawn_blocking(move || support::produce(&brokers, &topic, &m))
        .await
        .unwrap();

    let port = testkit::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = support::ChildGuard(
        Command::new(bin)
            .args(["run", "--config"])
            .arg(&path)
            .args(["--http-addr", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "pitboss=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The run is complete when every wallet output the scenario causes is in its topic.
    let (brokers, wallet, want) = (
        broker.addr.clone(),
        t.wallet_events.clone(),
        expected.wallet_ids.len(),
    );
    tokio::task::spawn_blocking(move || {
        let mut reader = EndReader::new(&brokers, &[wallet], true);
        let deadline = Instant::now() + Duration::from_secs(90);
        while reader.recs.len() < want {
            assert!(
                Instant::now() < deadline,
                "only {} of {want} wallet outputs",
                reader.recs.len()
            );
            reader.poll_for(Duration::from_millis(100));
        }
    })
    .await
    .unwrap();

    // The HTTP side of the running processor: ready (consuming, store reachable), its
    // metrics, and the read APIs over the live actors.
    let b = base.clone();
    tokio::task::spawn_blocking(move || {
        let timeout = Duration::from_secs(40);
        let give_up = Instant::now() + Duration::from_secs(30);
        let mut last = String::new();
        let ready = testkit::wait::wait_for("/readyz answering", timeout, || {
            let r = testkit::http::get(&format!("{b}/readyz"), None);
            last = format!("{r:?}");
            r.ok()
                .filter(|r| r.status == 200 || Instant::now() > give_up)
        });
        assert_eq!(ready.status, 200, "{last}");
        let give_up = Instant::now() + Duration::from_secs(30);
        let metrics = testkit::wait::wait_for("metrics after a commit", timeout, || {
            testkit::http::get(&format!("{b}/metrics"), None)
                .ok()
                .filter(|r| {
                    r.body.contains("pitboss_offsets_committed_total") || Instant::now() > give_up
                })
        });
        for name in [
            "pitboss_offsets_committed_total",
            "pitboss_events_in_total",
            "pitboss_processing_latency_seconds",
            "pitboss_consumer_partitions_assigned",
            "pitboss_store_flush_seconds",
        ] {
            assert!(
                metrics.body.contains(name),
                "{name} missing:\n{}",
                metrics.body
            );
        }
        let pools = testkit::http::get(&format!("{b}/api/pools"), None).unwrap();
        assert_eq!(pools.status, 200, "{}", pools.body);
        assert!(
            pools.json()["pools"]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "{}",
            pools.body
        );
    })
    .await
    .unwrap();

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "pitboss run did not exit within 60 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("done: 2000 input messages"), "{stderr}");
    assert!(stderr.contains("shutdown requested"), "{stderr}");

    // The embedded store's ledger agrees with its state.
    support::assert_audit_clean(bin, &path);
}
