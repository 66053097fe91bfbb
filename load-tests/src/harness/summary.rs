//! The report of a run, from what the sender, the reader and the check found.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use pitboss::config::Config;

use hdrhistogram::Histogram;

use super::reader::{Observed, LEVELS_KIND, WINDOW_KIND};
use super::sampler::{self, MemorySummary, Sample};
use super::sender::{Fed, Sender};
use super::{utc_stamp, RunArgs};
use crate::report::{
    Accounting, Growth, KindSummary, LatencySummary, Report, Second, GROWTH_WINDOW_SECS,
};
use crate::scenario::{Scenario, Schedule};

fn share(part: u64, whole: u64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}

/// The share of the events a latency sample covers: an event is covered when an output
/// names it (a headline kind's, or with `windows` any), or when it reached a pool (with
/// `windows`: or a hall) whose published aggregates carried it. Aggregates count what they
/// carry, not which events: an event that reached them counts as covered in the share of
/// the reference's deliveries that timed publications carried (1 when every aggregate was
/// published, as at the end of a spawned run; otherwise an estimate).
fn coverage(obs: &Observed, fed: &Fed, windows: bool, events: u64) -> f64 {
    let carried = |kind: &str| obs.by_kind.get(kind).map_or(0, |k| k.carried);
    let pools = share(carried(LEVELS_KIND), fed.pool_deliveries).min(1.0);
    let halls = share(carried(WINDOW_KIND), fed.hall_deliveries).min(1.0);
    let named = if windows { &obs.named_any } else { &obs.named };
    let mut covered = 0.0;
    for (w, nm) in named.iter().enumerate() {
        let p = fed.pool.get(w).copied().unwrap_or(0) & !nm;
        let h = if windows {
            fed.hall.get(w).copied().unwrap_or(0) & !nm
        } else {
            0
        };
        covered += f64::from(nm.count_ones())
            + f64::from((p & !h).count_ones()) * pools
            + f64::from((h & !p).count_ones()) * halls
            + f64::from((p & h).count_ones()) * pools.max(halls);
    }
    if events > 0 {
        covered / events as f64
    } else {
        0.0
    }
}

/// What the run was and what it measured besides the observations.
pub struct Facts<'a> {
    pub scn: &'a Scenario,
    pub sched: &'a Schedule,
    pub args: &'a RunArgs,
    /// The configuration of the pitboss under test, and its file.
    pub cfg: &'a Config,
    pub cfg_path: &'a Path,
    /// The report directory.
    pub out: &'a Path,
    pub sender: &'a Sender,
    /// Start of the schedule and the moment pitboss had answered every final sentinel,
    /// ns on the run's clock.
    pub t0_ns: u64,
    pub caught_up_ns: u64,
    pub generate_secs: f64,
    pub harness_cpu_secs: f64,
    /// CPU seconds of `pitboss run` (with `--spawn`).
    pub pitboss_cpu_secs: Option<f64>,
    /// pitboss's memory and live actors, once a second from t0 (with `--spawn`; else empty).
    pub samples: &'a [Sample],
    /// What the samples come to.
    pub memory: MemorySummary,
}

/// The report: latency, throughput over time, counts, the accounting check.
pub fn report(
    f: &Facts<'_>,
    obs: Observed,
    accounting: Accounting,
    exit_code: Option<i32>,
) -> Report {
    let (scn, sched) = (f.scn, f.sched);
    let events = sched.total;
    // Caught up: pitboss had answered every final sentinel (it had consumed every
    // event) and the last event that causes an output had its output (events consumed
    // before a sentinel may still be in an actor's mailbox when the sentinel's answer
    // arrives).
    let t0 = f.t0_ns;
    let caught_up_ns = f
        .caught_up_ns
        .saturating_sub(t0)
        .max(obs.last_sample_ns.unwrap_or(0));
    let hist = obs.hist.as_ref();
    let latency = LatencySummary::from_hist(hist);
    let broker_latency = obs
        .broker_hist
        .as_ref()
        .map(|h| LatencySummary::from_hist(Some(h)));
    let curve = crate::report::percentile_curve(hist);
    let caught_up_s = caught_up_ns as f64 / 1e9;
    let secs = if sched.backlog {
        obs.per_sec.len()
    } else {
        obs.per_sec.len().max(f.sender.sent_per_sec.len())
    };
    let sampled = sampler::per_second(f.samples, secs);
    // The broker's CPU from t0 to the last sample (its readings count from the first).
    let broker_cpu_secs = f.samples.iter().rev().find_map(|s| s.broker_cpu_secs);
    let pitboss_cores = sampler::cores_per_second(&sampled, |s| s.pitboss_cpu_secs);
    let broker_cores = sampler::cores_per_second(&sampled, |s| s.broker_cpu_secs);
    let timeline: Vec<Second> = (0..secs)
        .map(|s| {
            let (outputs, samples, p99) = obs
                .per_sec
                .get(s)
                .map_or((0, 0, None), |x| (x.0, x.1, x.2.as_ref().map(p99_ms)));
            Second {
                second: s as u64,
                offered_events: if sched.backlog {
                    0.0
                } else {
                    sched.rate_at(s as f64 + 0.5)
                },
                // A backlog was sent before t0: its fill rate is `sent_events_per_sec`.
                sent_events: if sched.backlog {
                    0
                } else {
                    f.sender.sent_per_sec.get(s).copied().unwrap_or(0)
                },
                outputs,
                latency_samples: samples,
                p99_ms: p99,
                rss_bytes: sampled[s].and_then(|x| x.rss_bytes),
                live_entities: sampled[s].and_then(|x| x.live),
                broker_p99_ms: obs
                    .broker_per_sec
                    .get(s)
                    .and_then(Option::as_ref)
                    .map(p99_ms),
                pitboss_cpu_cores: pitboss_cores[s],
                broker_cpu_cores: broker_cores[s],
                input_lag_messages: sampled[s].and_then(|x| x.input_lag),
                internal_lag_messages: sampled[s].and_then(|x| x.internal_lag),
                inflight_events: sampled[s].and_then(|x| x.inflight),
                input_partitions_assigned: sampled[s].and_then(|x| x.input_partitions),
            }
        })
        .collect();
    let p99_growth = (!sched.backlog)
        .then(|| growth(&obs, sched.duration_secs))
        .flatten();
    let drain = match (obs.first_output_ns, sched.backlog) {
        (Some(first), true) => {
            let secs = caught_up_ns.saturating_sub(first) as f64 / 1e9;
            Some((secs, events as f64 / secs.max(1e-9)))
        }
        _ => None,
    };
    let counts = obs
        .ids
        .iter()
        .map(|(k, v)| (k.to_string(), v.len() as u64))
        .collect();
    let mut records: BTreeMap<String, u64> = obs
        .records
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    records.insert("undecodable".into(), obs.undecodable.0);
    Report {
        scenario: scn.name.clone(),
        description: scn.description.clone(),
        started_utc: utc_stamp(
            UNIX_EPOCH + Duration::from_millis(f.sender.epoch0_ms.max(0) as u64),
        ),
        brokers: f.cfg.kafka.brokers.clone(),
        spawned: f.args.spawn,
        pitboss_config: f.cfg_path.display().to_string(),
        pitboss_exit_code: exit_code,
        shape: format!("{:?}", scn.rate.shape).to_lowercase(),
        machines: scn.machines(),
        players: u64::from(scn.network.players),
        input_partitions: f.cfg.kafka.partitions.input,
        events,
        offered_secs: if sched.backlog {
            0.0
        } else {
            sched.duration_secs
        },
        offered_events_per_sec: if sched.backlog {
            0.0
        } else {
            events as f64 / sched.duration_secs.max(1e-9)
        },
        offered_peak_events_per_sec: if sched.backlog {
            0.0
        } else {
            sched.peak_rate()
        },
        sent_secs: f.sender.last_send_ns as f64 / 1e9,
        sent_events_per_sec: f.sender.produced as f64
            / (f.sender.last_send_ns as f64 / 1e9).max(1e-9),
        send_lag_max_ms: f.sender.send_lag_max_ns as f64 / 1e6,
        caught_up_secs: caught_up_s,
        achieved_events_per_sec: events as f64 / caught_up_s.max(1e-9),
        drain_secs: drain.map(|d| d.0),
        drain_events_per_sec: drain.map(|d| d.1),
        latency,
        broker_latency,
        p99_growth,
        latency_named: share(latency.samples, events),
        latency_coverage: coverage(&obs, &f.sender.fed, false, events),
        latency_coverage_with_windows: coverage(&obs, &f.sender.fed, true, events),
        latency_by_kind: obs
            .by_kind
            .iter()
            .map(|(k, l)| {
                let s = KindSummary {
                    latency: LatencySummary::from_hist(Some(&l.hist)),
                    carried_events: l.carried,
                    in_headline: *k != WINDOW_KIND,
                    expected_events: match *k {
                        WINDOW_KIND => Some(f.sender.fed.hall_deliveries),
                        LEVELS_KIND => Some(f.sender.fed.pool_deliveries),
                        _ => None,
                    },
                };
                (k.to_string(), s)
            })
            .collect(),
        outputs_distinct: counts,
        output_records: records,
        accounting,
        percentile_curve: curve,
        timeline,
        report_dir: f.out.display().to_string(),
        generate_secs: f.generate_secs,
        harness_cpu_secs: f.harness_cpu_secs,
        pitboss_cpu_secs: f.pitboss_cpu_secs,
        pitboss_cpu_us_per_event: crate::report::us_per_event(f.pitboss_cpu_secs, events),
        broker_cpu_secs,
        broker_cpu_us_per_event: crate::report::us_per_event(broker_cpu_secs, events),
        rss_base_bytes: f.memory.rss_base_bytes,
        rss_peak_bytes: f.memory.rss_peak_bytes,
        live_entities_base: f.memory.live_entities_base,
        live_entities_peak: f.memory.live_entities_peak,
        rss_bytes_per_live_entity: f.memory.rss_bytes_per_live_entity,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        chaos: None,
    }
}

/// The p99 at the start and the end of an offering of `duration_secs` (see [`Growth`]);
/// `None` when it is shorter than two windows.
fn growth(obs: &Observed, duration_secs: f64) -> Option<Growth> {
    let secs = duration_secs.floor() as usize;
    if secs < 2 * GROWTH_WINDOW_SECS {
        return None;
    }
    let first = 0..GROWTH_WINDOW_SECS;
    let last = secs - GROWTH_WINDOW_SECS..secs;
    let pitboss: Vec<Option<&Histogram<u64>>> = obs.per_sec.iter().map(|x| x.2.as_ref()).collect();
    let broker: Vec<Option<&Histogram<u64>>> =
        obs.broker_per_sec.iter().map(Option::as_ref).collect();
    Some(Growth {
        first_p99_ms: window_p99(&pitboss, first.clone()),
        last_p99_ms: window_p99(&pitboss, last.clone()),
        broker_first_p99_ms: window_p99(&broker, first),
        broker_last_p99_ms: window_p99(&broker, last),
    })
}

/// The p99 of the seconds `window` together (their histograms merged), ms; `None` without
/// a sample in them.
pub fn window_p99(
    per_sec: &[Option<&Histogram<u64>>],
    window: std::ops::Range<usize>,
) -> Option<f64> {
    let mut merged: Option<Histogram<u64>> = None;
    for h in window.filter_map(|s| per_sec.get(s).copied().flatten()) {
        match merged.as_mut() {
            None => merged = Some(h.clone()),
            Some(m) => m.add(h).ok()?,
        }
    }
    merged.filter(|m| !m.is_empty()).as_ref().map(p99_ms)
}

/// The p99 of a histogram of microseconds, ms.
fn p99_ms(h: &Histogram<u64>) -> f64 {
    h.value_at_quantile(0.99) as f64 / 1000.0
}

#[cfg(test)]
mod growth_tests {
    use super::*;

    fn hist(values_us: &[u64]) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("bounds");
        for v in values_us {
            h.record(*v).expect("in bounds");
        }
        h
    }

    /// Within the histogram's 3 significant digits.
    fn close(v: Option<f64>, want: f64) -> bool {
        v.is_some_and(|v| (v - want).abs() <= want * 1e-3)
    }

    #[test]
    fn a_window_p99_merges_its_seconds() {
        // 99 fast samples in second 0 and one slow one in second 1: the window's p99 is
        // the fast value, each second alone would say otherwise for second 1.
        let s0 = hist(&[1_000; 99]);
        let s1 = hist(&[500_000]);
        let per_sec = [Some(&s0), Some(&s1), None];
        assert!(close(window_p99(&per_sec, 0..2), 1.0));
        assert!(close(window_p99(&per_sec, 1..2), 500.0));
        assert_eq!(window_p99(&per_sec, 2..5), None);
    }

    #[test]
    fn growth_compares_the_first_and_the_last_ten_seconds() {
        let mut obs = Observed::default();
        for s in 0..30u64 {
            // 10 ms in the first seconds, 25 ms at the end; the broker flat at 4 ms.
            let us = if s < 20 { 10_000 } else { 25_000 };
            obs.per_sec.push((1, 1, Some(hist(&[us]))));
            obs.broker_per_sec.push(Some(hist(&[4_000])));
        }
        let g = growth(&obs, 30.0).expect("long enough");
        assert!(close(g.first_p99_ms, 10.0), "{g:?}");
        assert!(close(g.last_p99_ms, 25.0), "{g:?}");
        assert!(close(g.ratio(), 2.5), "{g:?}");
        assert_eq!(g.broker_ratio(), Some(1.0));
        assert_eq!(growth(&obs, 19.0), None);
    }
}
