use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitboss::config::Config;
use pitboss::kafka::{RunStats, Src};

use super::{consumed_topics, EndReader};

/// Waits until the processors (together) have completed every message of every topic
/// they consume: every partition read to its end by a separate reader, every processor
/// position at or past that end, and no new message for a few polls. Nothing is in
/// flight then, and no internal message is waiting.
pub async fn wait_caught_up(cfg: &Config, stats: &[Arc<RunStats>], timeout: Duration) {
    let topics = consumed_topics(cfg);
    let brokers = cfg.kafka.brokers.clone();
    let stats: Vec<Arc<RunStats>> = stats.to_vec();
    tokio::task::spawn_blocking(move || {
        let names: Vec<String> = topics.iter().map(|(_, n)| n.clone()).collect();
        let mut reader = EndReader::new(&brokers, &names, false);
        let deadline = Instant::now() + timeout;
        let mut quiet = 0;
        loop {
            let news = reader.poll_for(Duration::from_millis(100));
            let mut positions: BTreeMap<(Src, i32), i64> = BTreeMap::new();
            for s in &stats {
                for (tp, o) in s.positions() {
                    let e = positions.entry(tp).or_insert(o);
                    *e = (*e).max(o);
                }
            }
            let mut behind = Vec::new();
            for ((topic, p), (end, eof)) in &reader.ends {
                let src = topics
                    .iter()
                    .find(|(_, n)| n == topic)
                    .map(|(s, _)| *s)
                    .unwrap();
                let pos = positions.get(&(src, *p)).copied().unwrap_or(0);
                if !eof || pos < *end {
                    behind.push(format!("{src:?}/{p}: {pos} of {end} (eof {eof})"));
                }
            }
            if behind.is_empty() && !news {
                quiet += 1;
                if quiet >= 3 {
                    return;
                }
            } else {
                quiet = 0;
            }
            assert!(
                Instant::now() < deadline,
                "not caught up after {timeout:?}: {behind:?}"
            );
        }
    })
    .await
    .expect("catch-up watcher");
}
