//! Topic administration: creating pitboss's topics with the configured partition counts,
//! reading the partition counts the processor depends on, and reading the consumer
//! group's progress (committed offsets against the ends of the partitions).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};

use super::settings::KafkaConfig;

/// A topic to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
}

/// What became of a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    /// Created now.
    Created,
    /// It existed already (its partition count is left as it is).
    Existed,
}

/// Every topic pitboss uses (internal ones only if `internal`), with its partition count.
/// The machine-awards topic gets the input topic's count.
pub fn topic_specs(cfg: &KafkaConfig, internal: bool) -> Vec<TopicSpec> {
    let t = &cfg.topics;
    let p = &cfg.partitions;
    let mut out = vec![TopicSpec {
        name: t.input.clone(),
        partitions: p.input,
    }];
    for name in t.outputs() {
        if !out.iter().any(|s| s.name == name) {
            out.push(TopicSpec {
                name: name.to_string(),
                partitions: p.outputs,
            });
        }
    }
    if internal {
        out.push(TopicSpec {
            name: t.pool_commands.clone(),
            partitions: p.internal,
        });
        out.push(TopicSpec {
            name: t.ggr_deltas.clone(),
            partitions: p.internal,
        });
        out.push(TopicSpec {
            name: t.machine_awards.clone(),
            partitions: p.input,
        });
        out.push(TopicSpec {
            name: t.voucher_facts.clone(),
            partitions: p.internal,
        });
        // A wallet lives with its partition of this topic (its commands and its machines'
        // transfers both come through it), like a voucher with voucher-facts.
        out.push(TopicSpec {
            name: t.wallet_transfers.clone(),
            partitions: p.internal,
        });
        // A desk lives with its partition of this topic (RULES.md D).
        out.push(TopicSpec {
            name: t.desk_ops.clone(),
            partitions: p.internal,
        });
    }
    out
}

fn base_config(cfg: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers);
    for (k, v) in cfg.client_settings(&std::collections::BTreeMap::new()) {
        c.set(k, v);
    }
    c
}

/// Creates the topics; an existing topic is fine.
pub async fn create_topics(
    cfg: &KafkaConfig,
    specs: &[TopicSpec],
) -> Result<Vec<(String, Created)>, KafkaError> {
    let admin: AdminClient<DefaultClientContext> = base_config(cfg).create()?;
    let rf = cfg.partitions.replication_factor;
    let new: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|s| NewTopic::new(&s.name, s.partitions, TopicReplication::Fixed(rf)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin.create_topics(&new, &opts).await?;
    let mut out = Vec::new();
    for r in results {
        match r {
            Ok(name) => out.push((name, Created::Created)),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => out.push((name, Created::Existed)),
            Err((name, code)) => {
                tracing::error!(topic = %name, error = %code, "creating topic failed");
                return Err(KafkaError::AdminOp(code));
            }
        }
    }
    Ok(out)
}

/// The partition counts of `topics`, waiting up to `timeout` for each to exist (metadata
/// can lag a creation). Blocking.
pub fn partition_counts(
    cfg: &KafkaConfig,
    topics: &[&str],
    timeout: Duration,
) -> Result<BTreeMap<String, i32>, String> {
    let consumer: BaseConsumer = base_config(cfg)
        .create()
        .map_err(|e| format!("creating a metadata client: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut out = BTreeMap::new();
    for topic in topics {
        loop {
            let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(5));
            let found = match &md {
                Ok(md) => md
                    .topics()
                    .iter()
                    .find(|t| t.name() == *topic && t.error().is_none())
                    .map(|t| t.partitions().len() as i32)
                    .filter(|n| *n > 0),
                Err(_) => None,
            };
            if let Some(n) = found {
                out.insert(topic.to_string(), n);
                break;
            }
            if Instant::now() >= deadline {
                let why = match md {
                    Ok(_) => {
                        "it does not exist (create it with `pitboss topics create`)".to_string()
                    }
                    Err(e) => e.to_string(),
                };
                return Err(format!("topic {topic}: {why}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    Ok(out)
}

/// One partition's progress in the consumer group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionProgress {
    pub topic: String,
    pub partition: i32,
    /// The group's committed offset (0 when nothing is committed).
    pub committed: i64,
    /// The partition's end (high watermark).
    pub end: i64,
}

/// The committed offset of the group `cfg.group-id` and the end of every partition of
/// `topics`. Only reads: the client does not join the group.
pub fn group_progress(
    cfg: &KafkaConfig,
    topics: &[&str],
    timeout: Duration,
) -> Result<Vec<PartitionProgress>, String> {
    let counts = partition_counts(cfg, topics, timeout)?;
    let mut c = base_config(cfg);
    c.set("group.id", &cfg.group_id)
        .set("enable.auto.commit", "false");
    let consumer: BaseConsumer = c
        .create()
        .map_err(|e| format!("creating an offset reader: {e}"))?;
    let mut tpl = TopicPartitionList::new();
    for (topic, n) in &counts {
        for p in 0..*n {
            tpl.add_partition(topic, p);
        }
    }
    let committed = consumer
        .committed_offsets(tpl.clone(), timeout)
        .map_err(|e| format!("reading the committed offsets of {}: {e}", cfg.group_id))?;
    let mut out = Vec::with_capacity(tpl.count());
    for e in tpl.elements() {
        let (_, end) = consumer
            .fetch_watermarks(e.topic(), e.partition(), timeout)
            .map_err(|err| format!("reading the end of {}/{}: {err}", e.topic(), e.partition()))?;
        let committed = match committed
            .find_partition(e.topic(), e.partition())
            .map(|x| x.offset())
        {
            Some(Offset::Offset(o)) => o,
            _ => 0,
        };
        out.push(PartitionProgress {
            topic: e.topic().to_string(),
            partition: e.partition(),
            committed,
            end,
        });
    }
    Ok(out)
}

/// Waits until the group has committed every partition of `topics` to its end, with the
/// ends unchanged over two more reads: then every message of these topics is processed,
/// and so is every message it caused on them (pitboss commits an offset only once what the
/// message caused is durable). Reads every 250 ms, up to `timeout`.
pub fn wait_committed_to_end(
    cfg: &KafkaConfig,
    topics: &[&str],
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let (mut previous, mut stable) = (None, 0);
    loop {
        let progress = group_progress(cfg, topics, Duration::from_secs(5))?;
        let behind: Vec<String> = progress
            .iter()
            .filter(|p| p.committed < p.end)
            .map(|p| {
                format!(
                    "{}/{}: committed {} of {}",
                    p.topic, p.partition, p.committed, p.end
                )
            })
            .collect();
        let ends: Vec<i64> = progress.iter().map(|p| p.end).collect();
        if behind.is_empty() && previous.as_ref() == Some(&ends) {
            stable += 1;
            if stable >= 2 {
                return Ok(());
            }
        } else {
            stable = 0;
        }
        previous = Some(ends);
        if Instant::now() > deadline {
            return Err(format!(
                "the group {} did not commit its topics to their ends within {timeout:?}: {behind:?}",
                cfg.group_id
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
