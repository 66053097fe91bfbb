//! Topic administration: creating pitboss's topics with the configured partition counts,
//! and reading the partition counts the processor depends on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use super::settings::KafkaConfig;

/// A topic to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    /// Name.
    pub name: String,
    /// Partitions.
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
