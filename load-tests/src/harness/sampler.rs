//! What the spawned `pitboss run` holds and uses while the run goes (`--spawn`): once a
//! second, its resident memory (`VmRSS` in `/proc/<pid>/status`), its CPU time
//! (`/proc/<pid>/stat`), its live actors (the gauge `pitboss_actors_active` on its
//! `/metrics`, summed over the kinds machine, wallet, pool and hall) and its consumer lag
//! (`pitboss_consumer_lag_messages`, summed over the input topic and over the internal
//! topics), and from those samples the memory per live entity. With a broker on this
//! machine (`--spawn-broker`, or `--broker-pid`), the broker's CPU time too.
//!
//! The sampler is a thread of its own: it starts when the clock does (pitboss has answered
//! the warm-up; in a backlog run, when pitboss is started) and takes its first sample at
//! once, then one at each whole second after its start (a slow scrape skips a tick rather
//! than bunching samples). It stops when the harness stops pitboss, before the SIGTERM (a
//! draining pitboss no longer serves `/metrics`).

use std::collections::HashMap;
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

/// The gauge of consumer lag pitboss exports (`pitboss::telemetry::CONSUMER_LAG`), one
/// series per topic and partition.
pub const CONSUMER_LAG: &str = pitboss::telemetry::CONSUMER_LAG;

/// The gauge of assigned partitions (`pitboss::telemetry::PARTITIONS_ASSIGNED`), per topic.
pub const PARTITIONS_ASSIGNED: &str = pitboss::telemetry::PARTITIONS_ASSIGNED;

/// The gauge of events in flight (`pitboss::telemetry::INFLIGHT_EVENTS`).
pub const INFLIGHT_EVENTS: &str = pitboss::telemetry::INFLIGHT_EVENTS;

/// One reading of the spawned pitboss (and of the broker's CPU).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    /// When it was taken, ns after t0 (the start of the schedule).
    pub at_ns: u64,
    /// Resident memory, bytes (`None`: `/proc/<pid>/status` could not be read).
    pub rss_bytes: Option<u64>,
    /// Live actors of every kind (`None`: `/metrics` did not answer or had no
    /// `pitboss_actors_active`).
    pub live: Option<u64>,
    /// pitboss's CPU time (user + system) since it started, seconds.
    pub pitboss_cpu_secs: Option<f64>,
    /// The broker's CPU time since the first sample, seconds (a broker process started
    /// after it, a restart, counts from its own start).
    pub broker_cpu_secs: Option<f64>,
    /// Messages of the input topic, and of the internal topics, not yet handed to
    /// pitboss's processor (`pitboss_consumer_lag_messages`; pitboss refreshes it once a
    /// second in a spawned run).
    pub input_lag: Option<u64>,
    pub internal_lag: Option<u64>,
    /// Events pitboss has taken in and not yet completed (`pitboss_inflight_events`: until
    /// their outputs and effects are in the broker), at most `inflight-events-max`.
    pub inflight: Option<u64>,
    /// Input partitions assigned to pitboss (`pitboss_consumer_partitions_assigned` of the
    /// input topic): below the topic's count while its consumer group rebalances.
    pub input_partitions: Option<u64>,
}

/// What the sampler reads.
pub struct Watched {
    /// The spawned `pitboss run`, and where it serves `/metrics` (`None`: live actors and
    /// lag are not sampled).
    pub pitboss: Option<u32>,
    pub metrics: Option<SocketAddr>,
    /// The input topic and the internal topics, by name (for the lag).
    pub input_topic: String,
    pub internal_topics: Vec<String>,
    /// The broker's processes on this machine, asked at each sample (a restarted broker
    /// has a new pid); `None`: the broker is elsewhere.
    pub broker_pids: Option<BrokerPids>,
}

/// The current processes of a broker on this machine.
pub type BrokerPids = Box<dyn FnMut() -> Vec<u32> + Send>;

/// CPU time of processes that come and go: each process counts from its first reading if
/// it was there at the first sample, from its start otherwise.
#[derive(Default)]
struct CpuOf {
    /// pid -> (base, last reading), seconds.
    seen: HashMap<u32, (f64, f64)>,
    first_done: bool,
}

impl CpuOf {
    fn read(&mut self, pids: &[u32]) -> f64 {
        for &pid in pids {
            if let Some(now) = cpu_secs_of(pid) {
                let base = if self.first_done { 0.0 } else { now };
                let e = self.seen.entry(pid).or_insert((base, now));
                e.1 = e.1.max(now);
            }
        }
        self.first_done = true;
        self.seen.values().map(|(b, l)| l - b).sum()
    }
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
    /// Starts sampling what `w` names. The first sample is taken at once.
    pub fn start(w: Watched, shared: Arc<Shared>) -> anyhow::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("pitboss-sampler".into())
            .spawn(move || {
                let mut w = w;
                let mut out = Samples::default();
                let mut broker_cpu = CpuOf::default();
                let start = Instant::now();
                loop {
                    let t0 = shared.t0_ns.load(Ordering::Relaxed);
                    let at_ns = shared.now_ns().saturating_sub(t0);
                    let mut s = Sample {
                        at_ns,
                        ..Sample::default()
                    };
                    if let Some(pid) = w.pitboss {
                        s.rss_bytes = std::fs::read_to_string(format!("/proc/{pid}/status"))
                            .ok()
                            .and_then(|s| vm_rss_bytes(&s));
                        s.pitboss_cpu_secs = cpu_secs_of(pid);
                    }
                    s.broker_cpu_secs = w.broker_pids.as_mut().map(|p| broker_cpu.read(&p()));
                    match w.metrics.map(metrics_text) {
                        None => {}
                        Some(Ok(body)) => {
                            s.live = sum_gauge(&body, ACTORS_ACTIVE);
                            s.inflight = sum_gauge(&body, INFLIGHT_EVENTS);
                            s.input_partitions =
                                sum_gauge_of(&body, PARTITIONS_ASSIGNED, "topic", |t| {
                                    t == w.input_topic
                                });
                            s.input_lag =
                                sum_gauge_of(&body, CONSUMER_LAG, "topic", |t| t == w.input_topic);
                            s.internal_lag = sum_gauge_of(&body, CONSUMER_LAG, "topic", |t| {
                                w.internal_topics.iter().any(|i| i == t)
                            });
                        }
                        Some(Err(e)) => out.scrape_error = Some(e),
                    }
                    out.samples.push(s);
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

/// Per second of `per_second`'s slots: the CPU cores a cumulative CPU reading used since
/// the previous slot that has one (CPU seconds over elapsed seconds).
pub fn cores_per_second(
    slots: &[Option<Sample>],
    cpu: impl Fn(&Sample) -> Option<f64>,
) -> Vec<Option<f64>> {
    let mut prev: Option<(u64, f64)> = None;
    slots
        .iter()
        .map(|s| {
            let now = s.as_ref().and_then(|s| Some((s.at_ns, cpu(s)?)))?;
            let cores = prev.and_then(|(t, c)| {
                (now.0 > t).then(|| (now.1 - c).max(0.0) / ((now.0 - t) as f64 / 1e9))
            });
            prev = Some(now);
            cores
        })
        .collect()
}

/// CPU time (user + system) of process `pid` from `/proc/<pid>/stat`, seconds; `None` if
/// it is gone.
pub fn cpu_secs_of(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // SAFETY: sysconf has no memory effects.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    stat_cpu_secs(&stat, if ticks > 0 { ticks as f64 } else { 100.0 })
}

/// utime + stime of a `/proc/<pid>/stat` text (fields 14 and 15, after the command name in
/// parentheses, which may hold spaces), seconds at `ticks` per second.
pub fn stat_cpu_secs(stat: &str, ticks: f64) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ")": field 3 (state) is the first; utime and stime are fields 14 and 15.
    let mut f = rest.split_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some((utime + stime) as f64 / ticks)
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
    sum_gauge_where(text, name, |_| true)
}

/// The sum of metric `name` over its series whose label `label` has a value `keep`
/// accepts; `None` if no such series has a sample.
pub fn sum_gauge_of(
    text: &str,
    name: &str,
    label: &str,
    keep: impl Fn(&str) -> bool,
) -> Option<u64> {
    let key = format!("{label}=\"");
    sum_gauge_where(text, name, |labels| {
        // `a="x",b="y"`: the value after `label="` (at the start or after a comma).
        labels
            .split(',')
            .find_map(|kv| kv.trim().strip_prefix(key.as_str()))
            .and_then(|v| v.split_once('"'))
            .is_some_and(|(v, _)| keep(v))
    })
}

/// The sum of metric `name` over its series whose labels (the text between the braces,
/// empty without) `keep` accepts.
fn sum_gauge_where(text: &str, name: &str, keep: impl Fn(&str) -> bool) -> Option<u64> {
    let mut sum: Option<u64> = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        // `name{labels} value` or `name value`; not a longer name with this prefix.
        let value = if let Some(labelled) = rest.strip_prefix('{') {
            match labelled.split_once('}') {
                Some((labels, v)) if keep(labels) => v,
                _ => continue,
            }
        } else if rest.starts_with(' ') && keep("") {
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
            ..Sample::default()
        }
    }

    #[test]
    fn reads_cpu_time_from_stat() {
        // pid (comm with spaces and a parenthesis) state ppid ... utime stime ...
        let stat = "4242 (tansu (broker) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    250 150 0 0 20 0 9 0 100 1000000 500 18446744073709551615";
        assert_eq!(stat_cpu_secs(stat, 100.0), Some(4.0));
        assert_eq!(stat_cpu_secs("4242 (x) S 1", 100.0), None);
        // This process has used some CPU, and it only grows.
        let me = std::process::id();
        let a = cpu_secs_of(me).expect("own stat");
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(cpu_secs_of(me).expect("own stat") >= a);
    }

    #[test]
    fn cores_between_samples() {
        let at = |sec: f64, cpu: f64| {
            Some(Sample {
                at_ns: (sec * 1e9) as u64,
                broker_cpu_secs: Some(cpu),
                ..Sample::default()
            })
        };
        let slots = [at(0.0, 0.0), at(1.0, 0.5), None, at(3.0, 2.5), at(3.5, 2.5)];
        let c = cores_per_second(&slots, |s| s.broker_cpu_secs);
        assert_eq!(c, vec![None, Some(0.5), None, Some(1.0), Some(0.0)]);
    }

    #[test]
    fn cpu_of_processes_that_come_and_go() {
        let mut c = CpuOf::default();
        let me = std::process::id();
        // Present at the first reading: counts from there.
        assert_eq!(c.read(&[me]), 0.0);
        // A pid that does not exist counts nothing.
        assert!(c.read(&[me, u32::MAX - 1]) >= 0.0);
        // A process first seen later counts from its start (its whole CPU time).
        let mut later = CpuOf {
            first_done: true,
            ..CpuOf::default()
        };
        assert_eq!(later.read(&[me]), cpu_secs_of(me).expect("own stat"));
    }

    #[test]
    fn sums_a_gauge_over_chosen_label_values() {
        let text = "# TYPE pitboss_consumer_lag_messages gauge\n\
                    pitboss_consumer_lag_messages{topic=\"t.game-events\",partition=\"0\"} 5\n\
                    pitboss_consumer_lag_messages{topic=\"t.game-events\",partition=\"1\"} 7\n\
                    pitboss_consumer_lag_messages{partition=\"0\",topic=\"t.internal.ggr-deltas\"} 100\n\
                    pitboss_consumer_lag_messages{topic=\"t.internal.pool-commands\",partition=\"0\"} 20\n\
                    pitboss_consumer_lag_messages{topic=\"other\",partition=\"0\"} 1000\n";
        let internal = ["t.internal.ggr-deltas", "t.internal.pool-commands"];
        assert_eq!(
            sum_gauge_of(text, CONSUMER_LAG, "topic", |t| t == "t.game-events"),
            Some(12)
        );
        assert_eq!(
            sum_gauge_of(text, CONSUMER_LAG, "topic", |t| internal.contains(&t)),
            Some(120)
        );
        assert_eq!(
            sum_gauge_of(text, CONSUMER_LAG, "topic", |t| t == "absent"),
            None
        );
        assert_eq!(sum_gauge(text, CONSUMER_LAG), Some(1132));
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
        let me = std::process::id();
        let w = Watched {
            pitboss: Some(me),
            metrics: None,
            input_topic: "in".into(),
            internal_topics: Vec::new(),
            broker_pids: Some(Box::new(move || vec![me])),
        };
        let s = Sampler::start(w, shared).expect("sampler thread").finish();
        assert!(!s.samples.is_empty());
        assert!(s.samples[0].rss_bytes.is_some_and(|b| b > 0), "{s:?}");
        assert!(
            s.samples[0].pitboss_cpu_secs.is_some_and(|c| c > 0.0),
            "{s:?}"
        );
        // The broker's CPU counts from the first sample.
        assert_eq!(s.samples[0].broker_cpu_secs, Some(0.0));
        assert_eq!((s.samples[0].live, s.samples[0].internal_lag), (None, None));
    }
}
