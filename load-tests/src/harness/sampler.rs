//! What the spawned `pitboss run` holds while the run goes (`--spawn` only): once a second,
//! its resident memory (`VmRSS` in `/proc/<pid>/status`) and its live actors (the gauge
//! `pitboss_actors_active` on its `/metrics`, summed over the kinds machine, wallet, pool and
//! hall), and from those samples the memory per live entity.
//!
//! The sampler is a thread of its own: it starts when the clock does (pitboss has answered
//! the warm-up; in a backlog run, when pitboss is started) and takes its first sample at
//! once, then one at each whole second after its start (a slow scrape skips a tick rather
//! than bunching samples). It stops when the harness stops pitboss, before the SIGTERM (a
//! draining pitboss no longer serves `/metrics`).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Shared;

/// The gauge of live actors pitboss exports (`pitboss::telemetry::ACTORS_ACTIVE`), one
/// series per actor kind.
pub const ACTORS_ACTIVE: &str = pitboss::telemetry::ACTORS_ACTIVE;

/// Time between samples.
const INTERVAL: Duration = Duration::from_secs(1);

/// One reading of the spawned pitboss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// When it was taken, ns after t0 (the start of the schedule).
    pub at_ns: u64,
    /// Resident memory, bytes (`None`: `/proc/<pid>/status` could not be read).
    pub rss_bytes: Option<u64>,
    /// Live actors of every kind (`None`: `/metrics` did not answer or had no
    /// `pitboss_actors_active`).
    pub live: Option<u64>,
}

/// What the sampler collected.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// In the order taken.
    pub samples: Vec<Sample>,
    /// The last failure to read `/metrics`, if any scrape failed.
    pub scrape_error: Option<String>,
}

/// The sampling thread; it ends when [`Sampler::finish`] is called or the sampler is
/// dropped (on an error path).
pub struct Sampler {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<Samples>,
}

impl Sampler {
    /// Starts sampling process `pid`, whose `/metrics` is served on `metrics` (`None`:
    /// live actors are not sampled, only memory). The first sample is taken at once.
    pub fn start(
        pid: u32,
        metrics: Option<SocketAddr>,
        shared: Arc<Shared>,
    ) -> anyhow::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("pitboss-sampler".into())
            .spawn(move || {
                let mut out = Samples::default();
                let start = Instant::now();
                loop {
                    let t0 = shared.t0_ns.load(Ordering::Relaxed);
                    let at_ns = shared.now_ns().saturating_sub(t0);
                    let rss_bytes = std::fs::read_to_string(format!("/proc/{pid}/status"))
                        .ok()
                        .and_then(|s| vm_rss_bytes(&s));
                    let live = match metrics.map(metrics_text) {
                        None => None,
                        Some(Ok(body)) => sum_gauge(&body, ACTORS_ACTIVE),
                        Some(Err(e)) => {
                            out.scrape_error = Some(e);
                            None
                        }
                    };
                    out.samples.push(Sample {
                        at_ns,
                        rss_bytes,
                        live,
                    });
                    // The next whole interval after the start that is still ahead.
                    let ticks = start.elapsed().as_nanos() / INTERVAL.as_nanos() + 1;
                    let next = start + INTERVAL * u32::try_from(ticks).unwrap_or(u32::MAX);
                    match stopped.recv_timeout(next.saturating_duration_since(Instant::now())) {
                        Err(RecvTimeoutError::Timeout) => {}
                        // Asked to stop, or the harness dropped the sampler.
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                out
            })?;
        Ok(Self { stop, thread })
    }

    /// Stops sampling; the samples taken.
    pub fn finish(self) -> Samples {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or_else(|_| Samples {
            samples: Vec::new(),
            scrape_error: Some("the sampler thread panicked".into()),
        })
    }
}

/// Memory per live entity, from the samples (`--spawn` only; every field `None` without
/// samples).
///
/// The base sample is the first one with both readings (memory and live actors): at the
/// start of the clock, pitboss has answered the warm-up (in a backlog run, the first
/// sample after its `/metrics` answers). The peak sample is the first one with both
/// readings and the most live actors.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MemorySummary {
    /// Resident memory at the base sample, bytes.
    pub rss_base_bytes: Option<u64>,
    /// Largest resident memory of any sample, bytes.
    pub rss_peak_bytes: Option<u64>,
    /// Live actors (all kinds) at the base sample.
    pub live_entities_base: Option<u64>,
    /// Live actors (all kinds) at the peak sample: the most of any sample.
    pub live_entities_peak: Option<u64>,
    /// (resident memory at the peak sample − at the base sample) / (live actors at the peak
    /// sample − at the base sample), bytes; `None` when no actor was added (the
    /// denominator is 0). It charges each added entity with everything else that grew
    /// meanwhile (buffers, caches, the allocator's slack), so it is an upper estimate.
    pub rss_bytes_per_live_entity: Option<f64>,
}

impl MemorySummary {
    /// From the samples, in the order taken.
    pub fn from_samples(samples: &[Sample]) -> Self {
        let both: Vec<(u64, u64)> = samples
            .iter()
            .filter_map(|s| Some((s.rss_bytes?, s.live?)))
            .collect();
        let base = both.first().copied();
        let peak = both
            .iter()
            .copied()
            .fold(None, |best: Option<(u64, u64)>, s| match best {
                Some(b) if b.1 >= s.1 => Some(b),
                _ => Some(s),
            });
        let per_entity = match (base, peak) {
            (Some((rss0, live0)), Some((rss1, live1))) if live1 > live0 => {
                Some((rss1 as f64 - rss0 as f64) / (live1 - live0) as f64)
            }
            _ => None,
        };
        Self {
            rss_base_bytes: base.map(|b| b.0),
            rss_peak_bytes: samples.iter().filter_map(|s| s.rss_bytes).max(),
            live_entities_base: base.map(|b| b.1),
            live_entities_peak: peak.map(|p| p.1),
            rss_bytes_per_live_entity: per_entity,
        }
    }
}

/// The last sample taken in each second after t0 (`[s, s + 1)`), `seconds` of them.
pub fn per_second(samples: &[Sample], seconds: usize) -> Vec<Option<Sample>> {
    let mut v = vec![None; seconds];
    for s in samples {
        if let Some(slot) = v.get_mut((s.at_ns / 1_000_000_000) as usize) {
            *slot = Some(*s);
        }
    }
    v
}

/// `VmRSS` of a `/proc/<pid>/status` text, bytes.
pub fn vm_rss_bytes(status: &str) -> Option<u64> {
    let rest = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let mut words = rest.split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => n.checked_mul(1024),
        _ => None,
    }
}

/// The sum of metric `name` over all its label sets in a Prometheus text exposition;
/// `None` if it has no sample.
pub fn sum_gauge(text: &str, name: &str) -> Option<u64> {
    let mut sum: Option<u64> = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        // `name{labels} value` or `name value`; not a longer name with this prefix.
        let value = if let Some(labelled) = rest.strip_prefix('{') {
            match labelled.split_once('}') {
                Some((_, v)) => v,
                None => continue,
            }
        } else if rest.starts_with(' ') {
            rest
        } else {
            continue;
        };
        let Some(v) = value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
        else {
            continue;
        };
        if v.is_finite() && v >= 0.0 {
            sum = Some(sum.unwrap_or(0) + v.round() as u64);
        }
    }
    sum
}

/// The text of pitboss's `/metrics` at `addr` (testkit's HTTP client, as the tests use).
fn metrics_text(addr: SocketAddr) -> Result<String, String> {
    let reply = testkit::http::get(&format!("http://{addr}/metrics"), None)?;
    if reply.status != 200 {
        return Err(format!(
            "GET http://{addr}/metrics: status {}",
            reply.status
        ));
    }
    Ok(reply.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(sec: f64, rss: Option<u64>, live: Option<u64>) -> Sample {
        Sample {
            at_ns: (sec * 1e9) as u64,
            rss_bytes: rss,
            live,
        }
    }

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\tpitboss\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\nThreads:\t9\n";
        assert_eq!(vm_rss_bytes(status), Some(12345 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tx\n"), None);
        assert_eq!(vm_rss_bytes("VmRSS:\t12 MB\n"), None);
    }

    #[test]
    fn sums_a_gauge_over_its_labels() {
        let text = "# HELP pitboss_actors_active Live actors, by kind.\n\
                    # TYPE pitboss_actors_active gauge\n\
                    pitboss_actors_active{kind=\"machine\"} 1000\n\
                    pitboss_actors_active{kind=\"wallet\"} 250\n\
                    pitboss_actors_active{kind=\"pool\"} 3\n\
                    pitboss_actors_active{kind=\"hall\"} 10\n\
                    pitboss_actors_active_other 7\n\
                    pitboss_actors_started_total{kind=\"machine\"} 5000\n";
        assert_eq!(sum_gauge(text, ACTORS_ACTIVE), Some(1263));
        assert_eq!(
            sum_gauge("pitboss_actors_active 4\n", ACTORS_ACTIVE),
            Some(4)
        );
        assert_eq!(sum_gauge("pitboss_ready 1\n", ACTORS_ACTIVE), None);
    }

    #[test]
    fn memory_per_live_entity() {
        let samples = [
            // No /metrics yet: not a base.
            sample(0.0, Some(50), None),
            sample(1.0, Some(1_000), Some(10)),
            sample(2.0, Some(5_000), Some(110)),
            sample(3.0, Some(9_000), Some(210)),
            // The same live count later, more memory: the first peak sample counts.
            sample(4.0, Some(12_000), Some(210)),
            sample(5.0, None, Some(500)),
        ];
        let m = MemorySummary::from_samples(&samples);
        assert_eq!(m.rss_base_bytes, Some(1_000));
        assert_eq!(m.live_entities_base, Some(10));
        assert_eq!(m.rss_peak_bytes, Some(12_000));
        assert_eq!(m.live_entities_peak, Some(210));
        assert_eq!(m.rss_bytes_per_live_entity, Some(8_000.0 / 200.0));
    }

    #[test]
    fn no_entity_added_gives_no_ratio() {
        let flat = [
            sample(0.0, Some(1_000), Some(10)),
            sample(1.0, Some(2_000), Some(10)),
            sample(2.0, Some(3_000), Some(4)),
        ];
        let m = MemorySummary::from_samples(&flat);
        assert_eq!(m.live_entities_peak, Some(10));
        assert_eq!(m.rss_peak_bytes, Some(3_000));
        assert_eq!(m.rss_bytes_per_live_entity, None);
        assert_eq!(MemorySummary::from_samples(&[]), MemorySummary::default());
        let no_metrics = [sample(0.0, Some(1_000), None)];
        let m = MemorySummary::from_samples(&no_metrics);
        assert_eq!(m.rss_peak_bytes, Some(1_000));
        assert_eq!(
            (m.rss_base_bytes, m.rss_bytes_per_live_entity),
            (None, None)
        );
    }

    #[test]
    fn last_sample_of_each_second() {
        let samples = [
            sample(0.0, Some(1), Some(1)),
            sample(0.9, Some(2), Some(2)),
            sample(2.1, Some(3), Some(3)),
            sample(9.0, Some(4), Some(4)),
        ];
        let v = per_second(&samples, 3);
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].and_then(|s| s.rss_bytes), Some(2));
        assert_eq!(v[1], None);
        assert_eq!(v[2].and_then(|s| s.live), Some(3));
    }

    #[test]
    fn samples_pitboss_itself() {
        // This process stands in for pitboss: its memory is readable, and without a
        // metrics address no live count is claimed.
        let shared = Arc::new(Shared::new(1, 0));
        shared.start_clock();
        let s = Sampler::start(std::process::id(), None, shared)
            .expect("sampler thread")
            .finish();
        assert!(!s.samples.is_empty());
        assert!(s.samples[0].rss_bytes.is_some_and(|b| b > 0), "{s:?}");
        assert_eq!(s.samples[0].live, None);
    }
}
