//! The `[kafka]` section of the configuration: brokers, group, topic names and partition
//! counts, the commit cadence and batch bounds, and librdkafka settings passed through.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Src;
use crate::wire::{Topic, GAME_EVENTS_TOPIC};

/// Kafka settings (see `deploy/pitboss.toml` for each key's meaning).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct KafkaConfig {
    /// Bootstrap servers, `host:port[,host:port...]`.
    pub brokers: String,
    /// Consumer group of every pitboss instance of one deployment.
    pub group_id: String,
    /// Create missing topics when `pitboss run` starts.
    pub create_topics: bool,
    /// Route effects between entities (to pools, halls, and awards to machines) through the
    /// internal topics, so several instances can share the group. `false`: every entity
    /// lives in this process (a single instance only).
    pub internal_topics: bool,
    /// How often a checkpoint round may store offsets, milliseconds.
    pub commit_interval_ms: u64,
    /// Kafka messages per ingest batch (one completion token per batch).
    pub batch_len_max: usize,
    /// Longest wait for in-flight work at a checkpoint, a revocation or shutdown, ms.
    pub drain_timeout_ms: u64,
    /// Effects for one internal partition are sent at least this often, milliseconds.
    pub outbox_flush_interval_ms: u64,
    /// Effects per internal Kafka message at most (a full outbox is sent at once).
    pub outbox_items_max: usize,
    /// Longest wait for the broker to acknowledge everything produced, at shutdown, ms.
    pub producer_flush_timeout_ms: u64,
    /// Topic names.
    pub topics: TopicNames,
    /// Partition counts used when pitboss creates topics.
    pub partitions: PartitionCounts,
    /// librdkafka settings for the consumer and the producer (SASL, TLS, ...). In keys
    /// given through the environment, `-` stands for `.`.
    pub client: BTreeMap<String, toml::Value>,
    /// librdkafka settings for the consumer only (override `client` and pitboss's own).
    pub consumer: BTreeMap<String, toml::Value>,
    /// librdkafka settings for the producer only (override `client` and pitboss's own).
    pub producer: BTreeMap<String, toml::Value>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            group_id: "pitboss".into(),
            create_topics: true,
            internal_topics: true,
            commit_interval_ms: 5000,
            batch_len_max: 1000,
            drain_timeout_ms: 30_000,
            outbox_flush_interval_ms: 5,
            outbox_items_max: 1000,
            producer_flush_timeout_ms: 30_000,
            topics: TopicNames::default(),
            partitions: PartitionCounts::default(),
            client: BTreeMap::new(),
            consumer: BTreeMap::new(),
            producer: BTreeMap::new(),
        }
    }
}

/// Names of every topic pitboss reads or writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
#[allow(missing_docs)]
pub struct TopicNames {
    pub input: String,
    pub ggr: String,
    pub jackpots: String,
    pub wallet_events: String,
    pub alerts: String,
    pub rejected: String,
    pub pool_commands: String,
    pub ggr_deltas: String,
    pub machine_awards: String,
    pub vouchers: String,
    /// Voucher commands and machines' ticket facts between instances (RULES.md V),
    /// partitioned by validation number.
    pub voucher_facts: String,
    /// Machines' cashless transfers for wallets between instances (RULES.md W-10),
    /// partitioned like the wallets' commands (its partition count must equal the input's).
    pub wallet_transfers: String,
    /// Rated card sessions (RULES.md M-12).
    pub sessions: String,
    /// AML cases (RULES.md W-11).
    pub compliance: String,
    /// Gaming-day reports at each day's close, and their revisions (RULES.md H-5).
    pub reports: String,
    /// Desk commands' answers and revised shifts (RULES.md D-7).
    pub shifts: String,
    /// Desk commands and the desks' cash operations between instances (RULES.md D),
    /// partitioned by desk id.
    pub desk_ops: String,
}

impl Default for TopicNames {
    fn default() -> Self {
        Self {
            input: GAME_EVENTS_TOPIC.into(),
            ggr: Topic::Ggr.default_name().into(),
            jackpots: Topic::Jackpots.default_name().into(),
            wallet_events: Topic::WalletEvents.default_name().into(),
            alerts: Topic::Alerts.default_name().into(),
            rejected: Topic::Rejected.default_name().into(),
            pool_commands: "pitboss.internal.pool-commands".into(),
            ggr_deltas: "pitboss.internal.ggr-deltas".into(),
            machine_awards: "pitboss.internal.machine-awards".into(),
            vouchers: Topic::Vouchers.default_name().into(),
            voucher_facts: "pitboss.internal.voucher-facts".into(),
            wallet_transfers: "pitboss.internal.wallet-transfers".into(),
            sessions: Topic::Sessions.default_name().into(),
            compliance: Topic::Compliance.default_name().into(),
            reports: Topic::Reports.default_name().into(),
            shifts: Topic::Shifts.default_name().into(),
            desk_ops: "pitboss.internal.desk-ops".into(),
        }
    }
}

impl TopicNames {
    /// The configured name of an output topic.
    pub fn output(&self, t: Topic) -> &str {
        match t {
            Topic::Ggr => &self.ggr,
            Topic::Jackpots => &self.jackpots,
            Topic::WalletEvents => &self.wallet_events,
            Topic::Alerts => &self.alerts,
            Topic::Rejected => &self.rejected,
            Topic::Vouchers => &self.vouchers,
            Topic::Sessions => &self.sessions,
            Topic::Compliance => &self.compliance,
            Topic::Reports => &self.reports,
            Topic::Shifts => &self.shifts,
        }
    }

    /// Every output topic's name.
    pub fn outputs(&self) -> Vec<&str> {
        Topic::ALL.iter().map(|t| self.output(*t)).collect()
    }

    /// The internal topics: pool commands, GGR deltas, machine awards, voucher messages,
    /// wallet transfers, desk messages.
    pub fn internal(&self) -> [&str; 6] {
        [
            &self.pool_commands,
            &self.ggr_deltas,
            &self.machine_awards,
            &self.voucher_facts,
            &self.wallet_transfers,
            &self.desk_ops,
        ]
    }

    /// The configured name of a consumed topic, by its role.
    pub fn consumed_name(&self, src: Src) -> &str {
        match src {
            Src::Input => &self.input,
            Src::PoolCommands => &self.pool_commands,
            Src::GgrDeltas => &self.ggr_deltas,
            Src::MachineAwards => &self.machine_awards,
            Src::VoucherFacts => &self.voucher_facts,
            Src::WalletTransfers => &self.wallet_transfers,
            Src::DeskOps => &self.desk_ops,
        }
    }

    /// The topics a processor consumes, by role: the input, and with `internal` the
    /// internal topics.
    pub fn consumed(&self, internal: bool) -> Vec<(Src, String)> {
        Src::ALL
            .iter()
            .filter(|s| internal || **s == Src::Input)
            .map(|s| (*s, self.consumed_name(*s).to_string()))
            .collect()
    }
}

/// Partition counts for topic creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PartitionCounts {
    /// The input topic (and the machine-awards topic, which must match it).
    pub input: i32,
    /// Each output topic.
    pub outputs: i32,
    /// The pool-commands, GGR-deltas, voucher-facts and wallet-transfers topics.
    pub internal: i32,
    /// Replication factor of every topic created.
    pub replication_factor: i32,
}

impl Default for PartitionCounts {
    fn default() -> Self {
        Self {
            input: 8,
            outputs: 4,
            internal: 8,
            replication_factor: 1,
        }
    }
}

impl KafkaConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.brokers.trim().is_empty() {
            return Err("kafka.brokers is empty".into());
        }
        if self.group_id.trim().is_empty() {
            return Err("kafka.group-id is empty".into());
        }
        if self.batch_len_max == 0 || self.outbox_items_max == 0 || self.commit_interval_ms == 0 {
            return Err(
                "kafka.batch-len-max, kafka.outbox-items-max and kafka.commit-interval-ms must be above 0"
                    .into(),
            );
        }
        let p = &self.partitions;
        if p.input < 1 || p.outputs < 1 || p.internal < 1 || p.replication_factor < 1 {
            return Err("kafka.partitions: every count must be at least 1".into());
        }
        let t = &self.topics;
        let mut names: Vec<&str> = vec![&t.input];
        names.extend(t.outputs());
        names.extend(t.internal());
        for n in &names {
            if n.is_empty() {
                return Err("kafka.topics: a topic name is empty".into());
            }
        }
        // Outputs may share a topic; the input and internal topics must be distinct from
        // everything else, or pitboss would consume its own outputs.
        let mut own: Vec<&str> = vec![&t.input];
        own.extend(t.internal());
        for n in &own {
            if names.iter().filter(|m| *m == n).count() > 1 {
                return Err(format!(
                    "kafka.topics: {n} is used for more than one purpose"
                ));
            }
        }
        Ok(())
    }

    /// librdkafka settings as `(key, value)` text pairs: `client`, then the
    /// client-specific table. Keys from the environment come with `-` for `.`.
    pub fn client_settings(
        &self,
        specific: &BTreeMap<String, toml::Value>,
    ) -> Vec<(String, String)> {
        self.client
            .iter()
            .chain(specific.iter())
            .map(|(k, v)| (k.replace('-', "."), value_text(v)))
            .collect()
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_settings_are_refused() {
        let mut k = KafkaConfig::default();
        k.topics.pool_commands = k.topics.input.clone();
        assert!(k.validate().unwrap_err().contains("more than one purpose"));
        let k = KafkaConfig {
            batch_len_max: 0,
            ..KafkaConfig::default()
        };
        assert!(k.validate().is_err());
    }
}
