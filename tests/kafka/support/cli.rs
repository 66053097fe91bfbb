//! The real binary's subcommands a Kafka test runs around `pitboss run`.

use std::process::Command;

/// `pitboss audit --config <config>` (the real binary `bin`) exits 0 and reports no
/// difference between the stored ledger and the stored state.
pub fn assert_audit_clean(bin: &str, config: &std::path::Path) {
    let out = Command::new(bin)
        .args(["audit", "--config"])
        .arg(config)
        .output()
        .expect("running pitboss audit");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pitboss audit: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" 0 differences"), "{text}");
}

/// `pitboss topics create --config <config>` (the real binary `bin`) succeeds; its listing.
pub fn topics_create_cli(bin: &str, config: &std::path::Path) -> String {
    let out = Command::new(bin)
        .args(["topics", "create", "--config"])
        .arg(config)
        .output()
        .expect("running pitboss topics create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts `pitboss run --config <config>` (the real binary `bin`), its stderr appended to
/// `log`.
pub fn start_run(
    bin: &str,
    config: &std::path::Path,
    log: &std::path::Path,
) -> std::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(bin)
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting pitboss run")
}

/// The group's committed offsets summed over the input topic's partitions.
pub fn committed_input(cfg: &pitboss::config::Config) -> i64 {
    let input = cfg.kafka.topics.input.as_str();
    pitboss::kafka::admin::group_progress(&cfg.kafka, &[input], std::time::Duration::from_secs(5))
        .expect("the group's progress")
        .iter()
        .map(|p| p.committed)
        .sum()
}

/// The group's committed offsets reach the end of every topic it consumes, and stay there.
pub fn wait_committed_to_end(cfg: &pitboss::config::Config, timeout: std::time::Duration) {
    let topics: Vec<String> = super::consumed_topics(cfg)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    if let Err(e) = pitboss::kafka::admin::wait_committed_to_end(&cfg.kafka, &topics, timeout) {
        panic!("{e}");
    }
}

/// Produces `keyed` to the input topic in `parts` parts, one a second, from a thread: a
/// stream that arrives while the test kills, restarts or backs up pitboss. The flag is set
/// once everything is produced.
pub fn produce_paced(
    cfg: &pitboss::config::Config,
    keyed: &[(String, Vec<u8>)],
    parts: usize,
) -> (
    std::thread::JoinHandle<()>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (brokers, topic, keyed, flag) = (
        cfg.kafka.brokers.clone(),
        cfg.kafka.topics.input.clone(),
        keyed.to_vec(),
        done.clone(),
    );
    let handle = std::thread::spawn(move || {
        for chunk in keyed.chunks(keyed.len().div_ceil(parts).max(1)) {
            super::produce(&brokers, &topic, chunk);
            std::thread::sleep(std::time::Duration::from_millis(1_000));
        }
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    (handle, done)
}
