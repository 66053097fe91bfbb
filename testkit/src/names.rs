//! Names no other test, earlier run or concurrent process uses: topics, consumer groups,
//! keyspaces, ports. Tests share one broker process per test and one CQL server per test
//! binary, and Tansu keeps a topic for as long as it runs: a reused name would mix runs.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

use pitboss::kafka::KafkaConfig;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// `{tag}-{pid}-{nanoseconds}-{n}`: unique across processes, runs and calls.
pub fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{tag}-{}-{nanos}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// `{prefix}_{pid}_{n}`: a keyspace name unique in this process and across processes (CQL
/// identifiers take no `-`).
pub fn unique_keyspace(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Every topic and the consumer group under `prefix`: `{prefix}.game-events`,
/// `{prefix}.internal.pool-commands`, ..., group `{prefix}.pitboss` (pitboss's default
/// names with `pitboss` replaced by the prefix).
pub fn prefix_topics(kafka: &mut KafkaConfig, prefix: &str) {
    kafka.group_id = format!("{prefix}.pitboss");
    let t = &mut kafka.topics;
    t.input = format!("{prefix}.game-events");
    t.ggr = format!("{prefix}.ggr");
    t.jackpots = format!("{prefix}.jackpots");
    t.wallet_events = format!("{prefix}.wallet-events");
    t.alerts = format!("{prefix}.alerts");
    t.rejected = format!("{prefix}.rejected");
    t.pool_commands = format!("{prefix}.internal.pool-commands");
    t.ggr_deltas = format!("{prefix}.internal.ggr-deltas");
    t.machine_awards = format!("{prefix}.internal.machine-awards");
    t.vouchers = format!("{prefix}.vouchers");
    t.voucher_facts = format!("{prefix}.internal.voucher-facts");
    t.wallet_transfers = format!("{prefix}.internal.wallet-transfers");
    t.sessions = format!("{prefix}.sessions");
    t.compliance = format!("{prefix}.compliance");
    t.reports = format!("{prefix}.reports");
    t.shifts = format!("{prefix}.shifts");
    t.desk_ops = format!("{prefix}.internal.desk-ops");
}

/// Consumer settings for a group that must form quickly: Tansu assigns a new group's
/// partitions after about half the session timeout (librdkafka's default is 45 s).
pub fn quick_group(kafka: &mut KafkaConfig) {
    kafka.consumer.insert(
        "session.timeout.ms".into(),
        toml::Value::String("6000".into()),
    );
    kafka.consumer.insert(
        "heartbeat.interval.ms".into(),
        toml::Value::String("500".into()),
    );
}

/// A free TCP port on the loopback interface (free when asked: bind it soon).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
