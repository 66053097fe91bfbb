//! Backups that are proven to restore (issue 15), with the real binary against a real
//! broker: `pitboss backup` is taken while `pitboss run` (instance A, embedded store)
//! consumes a stream still being produced; the backup is restored into a fresh data
//! directory (`pitboss restore`, which refuses it a second time: the directory is no longer
//! empty), `pitboss audit` finds no difference in it, and a second `pitboss run` (B, in its
//! own consumer group) starts from the restored store: at the backup's input positions,
//! since a run starts each assigned partition where its store says. Once both have consumed
//! everything, every entity state stored by B equals A's exactly.
//!
//! Both instances use the internal topics (the default). B reads them from the backup's
//! positions too, so every pool, hall and awarded machine sees the same log of commands in
//! the same order in both instances (what B produces again is recognised as a repeat, by A
//! and by B), which is why the states can be compared exactly, pools and hits included.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pitboss::config::Config;
use pitboss::http::{ApiKey, Role};
use pitboss::recount::recount;
use pitboss::sim::Simulator;
use pitboss::store::backup::Taken;
use pitboss_actors::shell::{Snapshot, StateStore};
use sha2::{Digest, Sha256};
use support::{Broker, T0};

const EVENTS: usize = 16_000;
const ADMIN_KEY: &str = "backup-test-admin-key-0123456789";

/// Runs the binary with `args`; (succeeded, stdout, stderr).
fn cli(bin: &str, args: &[&str], config: &Path, env: &[(&str, &str)]) -> (bool, String, String) {
    let mut c = Command::new(bin);
    c.args(args).arg("--config").arg(config);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("running pitboss");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn wait_committed_to_end(cfg: &Config) {
    let cfg = cfg.clone();
    tokio::task::spawn_blocking(move || {
        support::wait_committed_to_end(&cfg, Duration::from_secs(240))
    })
    .await
    .unwrap();
}

fn stop(mut child: support::ChildGuard, name: &str, log: &Path) {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "pitboss run {name} did not stop cleanly on SIGTERM: {status}; log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

async fn stored_states(cfg: &Config) -> Vec<Snapshot> {
    let store = pitboss::store::open_embedded(&cfg.store).unwrap();
    let states = store.all().await.unwrap();
    drop(store);
    states
}

#[actix_rt::test]
async fn a_backup_under_load_restores_audits_clean_and_replays_to_the_running_state() {
    let _serial = support::serial();
    let broker = Broker::start();
    let data = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_pitboss");

    // Instance A: the embedded store, HTTP on a known port (the backup asks it there) and
    // an admin key.
    let mut a = support::config(&broker, "backup");
    a.store.kind = pitboss::store::StoreKind::Embedded;
    a.store.data_dir = data.path().join("a/state");
    a.http.addr = format!("127.0.0.1:{}", testkit::free_port());
    a.http.audit_log = data.path().join("a/audit.jsonl").display().to_string();
    a.http.api_keys = vec![ApiKey {
        name: "backup-test".into(),
        key_sha256: hex::encode(Sha256::digest(ADMIN_KEY.as_bytes())),
        role: Role::Admin,
    }];
    let config_a = data.path().join("a.toml");
    std::fs::write(&config_a, a.to_toml()).unwrap();
    let log_a = data.path().join("a.log");

    // Instance B: the same topics, its own group, data directory and HTTP port.
    let mut b = a.clone();
    b.kafka.group_id = format!("{}.restored", a.kafka.group_id);
    b.store.data_dir = data.path().join("b/state");
    b.http.addr = "127.0.0.1:0".into();
    b.http.audit_log = data.path().join("b/audit.jsonl").display().to_string();
    let config_b = data.path().join("b.toml");
    std::fs::write(&config_b, b.to_toml()).unwrap();
    let log_b = data.path().join("b.log");

    support::topics_create_cli(bin, &config_a);
    let mut sim = Simulator::new(&a).unwrap();
    let msgs: Vec<_> = (0..EVENTS as i64).map(|i| sim.next(T0 + i * 20)).collect();
    let keyed = support::keyed(&msgs);

    // The stream is produced over about 40 s while A consumes it.
    let (producer, produced) = support::produce_paced(&a, &keyed, 40);
    let run_a = support::ChildGuard(support::start_run(bin, &config_a, &log_a));

    // Under load: A has committed a quarter of the stream and the producer is still going.
    let c = a.clone();
    tokio::task::spawn_blocking(move || {
        testkit::wait::wait_for(
            "instance A to commit a quarter of the stream",
            Duration::from_secs(120),
            || (support::committed_input(&c) >= EVENTS as i64 / 4).then_some(()),
        )
    })
    .await
    .unwrap();
    let backup_dir = data.path().join("backup");
    let backup_arg = backup_dir.display().to_string();
    let key = [("PITBOSS_API_KEY", ADMIN_KEY)];
    let (ok, out, err) = cli(
        bin,
        &["backup", "--json", "--to", &backup_arg],
        &config_a,
        &key,
    );
    assert!(ok, "pitboss backup failed: {out}{err}");
    let still_producing = !produced.load(Ordering::SeqCst);
    let taken: Taken = serde_json::from_str(out.trim()).expect("pitboss backup --json");
    let at = taken.manifest.consumed(&a.kafka.topics.input);
    eprintln!(
        "backup at input position {at} of {EVENTS} (producer still running: {still_producing}), \
         checkpoint {}, rows {:?}",
        taken.manifest.checkpoint, taken.manifest.rows
    );
    assert!(
        err.contains("asking the instance"),
        "A holds the store, so A took the backup: {err}"
    );
    assert!(
        still_producing,
        "the backup must be taken while input is still arriving"
    );
    assert!(
        at > 0 && at < EVENTS as i64,
        "a backup mid-stream: input position {at} of {EVENTS}"
    );
    assert!(taken.manifest.rows["entities"] > 0);
    let check = taken.check.as_ref().expect("a restore check");
    assert!(
        check.ok && check.differences == 0,
        "the instance's restore check: {check:?}"
    );
    // A second backup into the same directory is refused: it is not empty.
    let (ok, out, err) = cli(bin, &["backup", "--to", &backup_arg], &config_a, &key);
    assert!(!ok, "a backup into a non-empty directory must fail: {out}");
    assert!(err.contains("not empty"), "{err}");
    // Without a key, a locked store cannot be backed up, and the message says why.
    let (ok, _, err) = cli(bin, &["backup", "--to", "/nonexistent/x"], &config_a, &[]);
    assert!(!ok);
    assert!(err.contains("PITBOSS_API_KEY"), "{err}");

    // Restore into B's empty data directory: verified and audited.
    let from = ["restore", "--from", backup_arg.as_str()];
    let (ok, out, err) = cli(bin, &from, &config_b, &[]);
    assert!(ok, "pitboss restore failed: {out}{err}");
    assert!(out.contains(" 0 differences"), "{out}");
    // A second restore finds the directory no longer empty.
    let (ok, out, err) = cli(bin, &from, &config_b, &[]);
    assert!(!ok, "a restore into a non-empty directory must fail: {out}");
    assert!(err.contains("not empty"), "{err}");
    support::assert_audit_clean(bin, &config_b);
    // What B starts from is the backup's cut.
    {
        let store = pitboss::store::open_embedded(&b.store).unwrap();
        let mut positions: Vec<_> = store
            .positions()
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.topic, p.partition, p.next_offset))
            .collect();
        positions.sort();
        let mut want: Vec<_> = taken
            .manifest
            .positions
            .iter()
            .map(|p| (p.topic.clone(), p.partition, p.next_offset))
            .collect();
        want.sort();
        assert_eq!(
            positions, want,
            "the restored store holds the backup's positions"
        );
    }

    // B replays the input from the backup's positions while A goes on.
    let run_b = support::ChildGuard(support::start_run(bin, &config_b, &log_b));
    let started = Instant::now();
    producer.join().unwrap();
    assert!(produced.load(Ordering::SeqCst));
    // Both consume to the end; what one produces on the internal topics the other reads
    // (and skips as a repeat), so wait until both are at the end together.
    for cfg in [&a, &b, &a, &b] {
        wait_committed_to_end(cfg).await;
    }
    eprintln!(
        "both instances at the end {:?} after B started",
        started.elapsed()
    );
    stop(run_a, "A", &log_a);
    stop(run_b, "B", &log_b);

    let (sa, sb) = (stored_states(&a).await, stored_states(&b).await);
    let key_of = |s: &Snapshot| format!("{:?}", s.key());
    let ma: BTreeMap<String, &Snapshot> = sa.iter().map(|s| (key_of(s), s)).collect();
    let mb: BTreeMap<String, &Snapshot> = sb.iter().map(|s| (key_of(s), s)).collect();
    assert_eq!(
        ma.keys().collect::<Vec<_>>(),
        mb.keys().collect::<Vec<_>>(),
        "the same entities in both stores"
    );
    let differ: Vec<&String> = ma.keys().filter(|k| ma[*k] != mb[*k]).collect();
    assert!(
        differ.is_empty(),
        "{} of {} entities differ between the instance that kept running and the restored one; first: {}\n A: {:?}\n B: {:?}",
        differ.len(),
        ma.len(),
        differ[0],
        ma[differ[0]],
        mb[differ[0]]
    );
    // And both hold exactly what was sent.
    let (ra, rb) = (recount(&sa), recount(&sb));
    assert!(ra.conservation_ok && rb.conservation_ok, "{ra:#?} {rb:#?}");
    assert!(
        sim.sent().matches(&rb),
        "the restored instance's totals differ from what was sent: sent {:?}, stored {rb:#?}",
        sim.sent()
    );
    support::assert_audit_clean(bin, &config_a);
    support::assert_audit_clean(bin, &config_b);
}
