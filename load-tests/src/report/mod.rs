//! The report of `pitboss-load run`: a table on the terminal, `report.json`, `report.html`
//! (inline SVG: latency percentile curve, throughput and p99 over time; no external
//! resources, see `html`) and a one-line JSON headline.

mod html;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hdrhistogram::Histogram;
use pitboss::recount::Recount;
use serde::Serialize;

/// Latency percentiles, milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LatencySummary {
    pub samples: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl LatencySummary {
    /// From a histogram of microseconds.
    pub fn from_hist(h: Option<&Histogram<u64>>) -> Self {
        let Some(h) = h.filter(|h| !h.is_empty()) else {
            return Self::default();
        };
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            samples: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}

/// The latency of one output kind.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct KindSummary {
    #[serde(flatten)]
    pub latency: LatencySummary,
    /// Input events its timed outputs carry (1 per output with one cause; an aggregate's
    /// `pitboss-cause-count`).
    pub carried_events: u64,
    /// In the headline latency (all but GGR windows, whose latency is the window rule's).
    pub in_headline: bool,
    /// For an aggregate kind: what the reference processor delivered to its entities (GGR
    /// deltas to halls, commands to pools), which `carried_events` equals once every
    /// aggregate is published without a repeat.
    pub expected_events: Option<u64>,
}

/// (percentile, milliseconds) points of the latency curve.
pub fn percentile_curve(h: Option<&Histogram<u64>>) -> Vec<(f64, f64)> {
    let Some(h) = h.filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    const PS: [f64; 17] = [
        0.0, 10.0, 25.0, 50.0, 75.0, 80.0, 90.0, 95.0, 97.0, 99.0, 99.5, 99.7, 99.9, 99.95, 99.99,
        99.999, 100.0,
    ];
    PS.iter()
        .map(|p| {
            let us = if *p >= 100.0 {
                h.max()
            } else {
                h.value_at_quantile(p / 100.0)
            };
            (*p, us as f64 / 1000.0)
        })
        .collect()
}

/// The p99 at the start and at the end of the offering, by arrival second: the first 10 s
/// after t0 (pitboss has answered the warm-up) and the last 10 s of the schedule, for
/// pitboss end to end and, with `--measure-broker`, the broker alone. Outputs arriving
/// after the schedule's end (the drain) are in neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Growth {
    pub first_p99_ms: Option<f64>,
    pub last_p99_ms: Option<f64>,
    pub broker_first_p99_ms: Option<f64>,
    pub broker_last_p99_ms: Option<f64>,
}

/// The length of [`Growth`]'s windows, seconds.
pub const GROWTH_WINDOW_SECS: usize = 10;

impl Growth {
    /// `last / first` of pitboss's p99 (1.0: flat).
    pub fn ratio(&self) -> Option<f64> {
        ratio(self.last_p99_ms, self.first_p99_ms)
    }

    /// The same for the broker alone.
    pub fn broker_ratio(&self) -> Option<f64> {
        ratio(self.broker_last_p99_ms, self.broker_first_p99_ms)
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// One second of the run (after t0).
#[derive(Debug, Clone, Serialize)]
pub struct Second {
    /// Seconds after t0.
    pub second: u64,
    /// The scheduled rate, events/s.
    pub offered_events: f64,
    /// Events sent in that second.
    pub sent_events: u64,
    /// Output records read in that second.
    pub outputs: u64,
    /// Events whose first output arrived in that second.
    pub latency_samples: u64,
    /// p99 of those, ms.
    pub p99_ms: Option<f64>,
    /// pitboss's resident memory at the last sample in that second, bytes (with
    /// `--spawn`; `None` without a sample).
    pub rss_bytes: Option<u64>,
    /// pitboss's live actors (all kinds) at that sample.
    pub live_entities: Option<u64>,
    /// With --measure-broker: p99 of due time -> input record readable over the input
    /// records read in that second (the broker alone), ms.
    pub broker_p99_ms: Option<f64>,
    /// CPU cores pitboss used since the previous sample (`--spawn`).
    pub pitboss_cpu_cores: Option<f64>,
    /// CPU cores the broker used since the previous sample (a broker on this machine:
    /// `--spawn-broker` or `--broker-pid`).
    pub broker_cpu_cores: Option<f64>,
    /// Messages of the input topic, and of the internal topics, pitboss had not yet taken
    /// in at that sample (`pitboss_consumer_lag_messages`, `--spawn`).
    pub input_lag_messages: Option<u64>,
    pub internal_lag_messages: Option<u64>,
    /// Events pitboss had taken in and not completed at that sample
    /// (`pitboss_inflight_events`; taking in pauses at `inflight-events-max`).
    pub inflight_events: Option<u64>,
    /// Input partitions assigned to pitboss at that sample (fewer than the topic has while
    /// its consumer group rebalances).
    pub input_partitions_assigned: Option<u64>,
}

/// One accounting check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What is compared.
    pub name: String,
    /// No difference. A skipped check is ok only without `--spawn` (the harness could not
    /// read pitboss's store); under `--spawn` it is a failure.
    pub ok: bool,
    /// Why it was not made, if it was not.
    pub skipped: Option<String>,
    /// The differences found.
    pub differences: Vec<String>,
}

/// The harness's expected totals (reference processor), minor units.
#[derive(Debug, Clone, Serialize)]
pub struct ExpectedTotals {
    /// Cash into machines.
    pub cash_in: i64,
    /// Cash out of machines.
    pub cash_out: i64,
    /// Wallet deposits (the harness's sentinel deposits included).
    pub deposits: i64,
    /// The harness's sentinel deposits.
    pub sentinel_deposits: i64,
    /// Wallet withdrawals.
    pub withdrawals: i64,
    /// Bets over all halls.
    pub bets: i64,
    /// Wins over all halls.
    pub wins: i64,
    /// GGR over all halls.
    pub ggr: i64,
    pub games: i64,
    /// Wallet balances.
    pub balances: i64,
    /// Jackpot hits in the reference (single-threaded order).
    pub reference_jackpot_hits: u64,
    pub machines: u64,
    pub wallets: u64,
    pub halls: u64,
}

impl ExpectedTotals {
    /// From the reference's recount.
    pub fn from(r: &Recount, sentinel_deposits: i64) -> Self {
        Self {
            cash_in: r.cash_in,
            cash_out: r.cash_out,
            deposits: r.deposits,
            sentinel_deposits,
            withdrawals: r.withdrawals,
            bets: r.bets,
            wins: r.wins,
            ggr: r.ggr,
            games: r.games,
            balances: r.balances,
            reference_jackpot_hits: r.jackpot_hits,
            machines: r.machines,
            wallets: r.wallets,
            halls: r.halls,
        }
    }
}

/// The accounting check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Accounting {
    /// Every check passed.
    pub ok: bool,
    pub expected: ExpectedTotals,
    /// Distinct jackpot hits published.
    pub published_hits: u64,
    pub checks: Vec<Check>,
}

/// The whole report (`report.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    pub description: String,
    /// When the run started (UTC).
    pub started_utc: String,
    pub brokers: String,
    /// pitboss started by the harness.
    pub spawned: bool,
    /// The pitboss configuration used.
    pub pitboss_config: String,
    /// pitboss's exit code after SIGTERM (with --spawn).
    pub pitboss_exit_code: Option<i32>,
    pub shape: String,
    pub machines: u64,
    pub players: u64,
    pub input_partitions: i32,
    /// Events offered.
    pub events: u64,
    /// Seconds of offered load.
    pub offered_secs: f64,
    /// Mean offered rate.
    pub offered_events_per_sec: f64,
    /// Peak offered rate.
    pub offered_peak_events_per_sec: f64,
    /// Seconds from t0 to the last send (backlog: from the first send until the broker
    /// acknowledged the whole backlog).
    pub sent_secs: f64,
    /// Events sent per second (mean).
    pub sent_events_per_sec: f64,
    /// Largest delay of a send after its due time (the producer falling behind), ms.
    pub send_lag_max_ms: f64,
    /// Seconds from t0 until pitboss had answered every final sentinel and the last
    /// sampled event's output arrived.
    pub caught_up_secs: f64,
    /// Events / caught_up_secs: the throughput achieved end to end.
    pub achieved_events_per_sec: f64,
    /// Backlog: seconds from pitboss's first output to catching up.
    pub drain_secs: Option<f64>,
    /// Backlog: events / drain_secs.
    pub drain_events_per_sec: Option<f64>,
    /// Latency from an event's due time to its first output.
    pub latency: LatencySummary,
    /// With --measure-broker: from an event's due time until its input record is readable
    /// from the broker (the broker's share, without pitboss).
    pub broker_latency: Option<LatencySummary>,
    /// The p99 at the start and the end of the offering (`None` for a backlog, or a
    /// schedule shorter than two windows).
    pub p99_growth: Option<Growth>,
    /// Events named by an output of a headline kind (the latency samples) / events.
    pub latency_named: f64,
    /// The share of the events the headline's samples cover: named by an output, or carried
    /// by a timed pool levels publication (`harness::summary::coverage`).
    pub latency_coverage: f64,
    /// The same with the GGR windows' samples (their latency is the window rule's).
    pub latency_coverage_with_windows: f64,
    /// Latency by output kind (each kind's first output naming an event), and the events
    /// its timed outputs carry.
    pub latency_by_kind: BTreeMap<String, KindSummary>,
    /// Distinct outputs by kind.
    pub outputs_distinct: BTreeMap<String, u64>,
    /// Output records by kind.
    pub output_records: BTreeMap<String, u64>,
    pub accounting: Accounting,
    /// (percentile, ms).
    pub percentile_curve: Vec<(f64, f64)>,
    pub timeline: Vec<Second>,
    /// Where the files are.
    pub report_dir: String,
    /// Seconds spent generating the events and the reference result (before t0).
    pub generate_secs: f64,
    /// CPU seconds (user + system) the harness used from t0 to the end of reading
    /// (producer, librdkafka threads, output reader).
    pub harness_cpu_secs: f64,
    /// CPU seconds (user + system) of the spawned `pitboss run`, from its start to its exit
    /// (start-up, warm-up and the drain after SIGTERM included; `pitboss topics create`
    /// not). `None` without `--spawn`.
    pub pitboss_cpu_secs: Option<f64>,
    /// `pitboss_cpu_secs` × 10⁶ / `events`: µs of pitboss CPU per event offered (the
    /// scenario's events; the harness's few sentinel deposits are not counted). `None`
    /// without `--spawn` or without events.
    pub pitboss_cpu_us_per_event: Option<f64>,
    /// CPU seconds (user + system) of the broker, when it runs on this machine
    /// (`--spawn-broker`: Tansu and its S3 server; `--broker-pid`), from t0 until pitboss
    /// had processed everything (the last sample before pitboss is stopped). `None`
    /// otherwise.
    pub broker_cpu_secs: Option<f64>,
    /// `broker_cpu_secs` × 10⁶ / `events`.
    pub broker_cpu_us_per_event: Option<f64>,
    /// pitboss's resident memory (VmRSS) at the base sample (the first once the clock
    /// started, pitboss warmed up), bytes. With `--spawn`; `None` otherwise.
    pub rss_base_bytes: Option<u64>,
    /// pitboss's largest resident memory over the samples (once a second from t0 until
    /// SIGTERM), bytes.
    pub rss_peak_bytes: Option<u64>,
    /// pitboss's live actors (`pitboss_actors_active` summed over machine, wallet, pool,
    /// hall) at the base sample.
    pub live_entities_base: Option<u64>,
    /// The most live actors of any sample.
    pub live_entities_peak: Option<u64>,
    /// (resident memory at the sample with the most live actors − `rss_base_bytes`) /
    /// (`live_entities_peak` − `live_entities_base`), bytes: the memory an added live
    /// entity costs, with everything else that grew meanwhile charged to it. `None` when
    /// no entity was added or without `--spawn`.
    pub rss_bytes_per_live_entity: Option<f64>,
    /// CPU cores of this machine.
    pub cores: usize,
    /// A `[chaos]` run's faults; its `pitboss_cpu_secs` is every instance's together.
    pub chaos: Option<crate::harness::chaos::ChaosReport>,
}

/// A chaos run's faults in the headline.
#[derive(Debug, Serialize)]
pub struct ChaosHeadline {
    pub instances: usize,
    pub kills: u32,
    pub kills_in_start_up: u32,
    pub broker_restarts: u32,
    pub store_outage_secs: f64,
    pub rebalances: u32,
    pub unplanned_exits: u32,
    pub start_refusals: u32,
    pub fenced_exits: u32,
    /// The chaos seed (`--chaos-seed` replays the plan).
    pub seed: u64,
}

/// The one-line headline (`--json`).
#[derive(Debug, Serialize)]
pub struct Headline<'a> {
    pub scenario: &'a str,
    pub events: u64,
    /// Mean offered rate.
    pub offered_events_per_sec: f64,
    /// Achieved end-to-end rate.
    pub achieved_events_per_sec: f64,
    /// Backlog drain rate.
    pub drain_events_per_sec: Option<f64>,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub latency_samples: u64,
    /// See [`Report::latency_coverage`] and [`Report::latency_coverage_with_windows`].
    pub latency_coverage: f64,
    pub latency_coverage_with_windows: f64,
    /// The p99 of the last 10 s of the offering over that of the first 10 s (see
    /// [`Growth`]), and the same for the broker alone.
    pub p99_last_over_first: Option<f64>,
    pub broker_p99_last_over_first: Option<f64>,
    /// pitboss's p99 over the broker alone's, over the whole run (`--measure-broker`).
    pub p99_over_broker_p99: Option<f64>,
    pub accounting_ok: bool,
    /// µs of `pitboss run` CPU per event offered (see [`Report::pitboss_cpu_us_per_event`]).
    pub pitboss_cpu_us_per_event: Option<f64>,
    /// µs of broker CPU per event offered (see [`Report::broker_cpu_us_per_event`]).
    pub broker_cpu_us_per_event: Option<f64>,
    /// pitboss's resident memory at the start of the clock and at most, bytes.
    pub rss_base_bytes: Option<u64>,
    pub rss_peak_bytes: Option<u64>,
    /// pitboss's live actors at the start of the clock and at most.
    pub live_entities_base: Option<u64>,
    pub live_entities_peak: Option<u64>,
    /// Resident bytes per added live entity (see [`Report::rss_bytes_per_live_entity`]).
    pub rss_bytes_per_live_entity: Option<f64>,
    pub report: &'a str,
    /// A `[chaos]` run's faults.
    #[serde(flatten)]
    pub chaos: Option<ChaosHeadline>,
}

impl Report {
    /// pitboss's p99 over the broker alone's, over the whole run (`--measure-broker`).
    pub fn p99_over_broker_p99(&self) -> Option<f64> {
        ratio(
            Some(self.latency.p99_ms).filter(|_| self.latency.samples > 0),
            self.broker_latency
                .filter(|b| b.samples > 0)
                .map(|b| b.p99_ms),
        )
    }

    /// The headline.
    pub fn headline(&self) -> Headline<'_> {
        let l = &self.latency;
        Headline {
            scenario: &self.scenario,
            events: self.events,
            offered_events_per_sec: round1(self.offered_events_per_sec),
            achieved_events_per_sec: round1(self.achieved_events_per_sec),
            drain_events_per_sec: self.drain_events_per_sec.map(round1),
            p50_ms: l.p50_ms,
            p90_ms: l.p90_ms,
            p99_ms: l.p99_ms,
            p999_ms: l.p999_ms,
            max_ms: l.max_ms,
            latency_samples: l.samples,
            latency_coverage: round3(self.latency_coverage),
            latency_coverage_with_windows: round3(self.latency_coverage_with_windows),
            p99_last_over_first: self.p99_growth.and_then(|g| g.ratio()).map(round3),
            broker_p99_last_over_first: self.p99_growth.and_then(|g| g.broker_ratio()).map(round3),
            p99_over_broker_p99: self.p99_over_broker_p99().map(round3),
            accounting_ok: self.accounting.ok,
            pitboss_cpu_us_per_event: self.pitboss_cpu_us_per_event.map(round1),
            broker_cpu_us_per_event: self.broker_cpu_us_per_event.map(round1),
            rss_base_bytes: self.rss_base_bytes,
            rss_peak_bytes: self.rss_peak_bytes,
            live_entities_base: self.live_entities_base,
            live_entities_peak: self.live_entities_peak,
            rss_bytes_per_live_entity: self.rss_bytes_per_live_entity.map(round1),
            report: &self.report_dir,
            chaos: self.chaos.as_ref().map(|c| ChaosHeadline {
                instances: c.instances,
                kills: c.kills,
                kills_in_start_up: c.kills_in_start_up,
                broker_restarts: c.broker_restarts,
                store_outage_secs: round1(c.store_outage_secs),
                rebalances: c.rebalances,
                unplanned_exits: c.unplanned_exits,
                start_refusals: c.start_refusals,
                fenced_exits: c.fenced_exits,
                seed: c.seed,
            }),
        }
    }

    /// The terminal table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let l = &self.latency;
        let _ = writeln!(s, "scenario            {} ({})", self.scenario, self.shape);
        let _ = writeln!(
            s,
            "network             {} machines, {} players, {} input partitions",
            self.machines, self.players, self.input_partitions
        );
        let _ = writeln!(s, "events              {}", self.events);
        if self.drain_events_per_sec.is_none() {
            let _ = writeln!(
                s,
                "offered             {:.0} ev/s mean, {:.0} ev/s peak, over {:.1} s",
                self.offered_events_per_sec, self.offered_peak_events_per_sec, self.offered_secs
            );
            let _ = writeln!(
                s,
                "sent                {:.0} ev/s (largest send lag {:.1} ms)",
                self.sent_events_per_sec, self.send_lag_max_ms
            );
        }
        let _ = writeln!(
            s,
            "achieved            {:.0} ev/s (all events processed {:.2} s after start)",
            self.achieved_events_per_sec, self.caught_up_secs
        );
        if let (Some(r), Some(d)) = (self.drain_events_per_sec, self.drain_secs) {
            let _ = writeln!(
                s,
                "backlog filled      {:.0} ev/s ({:.2} s until the broker acknowledged it)",
                self.sent_events_per_sec, self.sent_secs
            );
            let _ = writeln!(
                s,
                "drain               {r:.0} ev/s ({d:.2} s from pitboss's first output)"
            );
        }
        let _ = writeln!(
            s,
            "latency (ms)        p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  ({} events named, {:.1} %; covered {:.1} %, with GGR windows {:.1} %)",
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.p999_ms,
            l.max_ms,
            l.samples,
            self.latency_named * 100.0,
            self.latency_coverage * 100.0,
            self.latency_coverage_with_windows * 100.0
        );
        for (kind, k) in &self.latency_by_kind {
            let l = &k.latency;
            let _ = writeln!(
                s,
                "  {kind:<17} p50 {:.2}  p99 {:.2}  max {:.2}  ({} samples, {} events carried{})",
                l.p50_ms,
                l.p99_ms,
                l.max_ms,
                l.samples,
                k.carried_events,
                if k.in_headline {
                    ""
                } else {
                    "; the window rule's latency, not in the headline"
                }
            );
        }
        if let Some(b) = &self.broker_latency {
            let _ = writeln!(
                s,
                "broker alone (ms)   p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  (due -> input record readable, {} records)",
                b.p50_ms, b.p90_ms, b.p99_ms, b.p999_ms, b.max_ms, b.samples
            );
        }
        if let Some(g) = &self.p99_growth {
            let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
            let x = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("x{v:.2}"));
            let _ = write!(
                s,
                "p99 growth (ms)     first {GROWTH_WINDOW_SECS} s {}, last {GROWTH_WINDOW_SECS} s {} ({})",
                ms(g.first_p99_ms),
                ms(g.last_p99_ms),
                x(g.ratio())
            );
            if self.broker_latency.is_some() {
                let _ = write!(
                    s,
                    "; broker alone {}, {} ({}); pitboss over the broker alone, whole run {}",
                    ms(g.broker_first_p99_ms),
                    ms(g.broker_last_p99_ms),
                    x(g.broker_ratio()),
                    x(self.p99_over_broker_p99())
                );
            }
            let _ = writeln!(s);
        }
        let outs: Vec<String> = self
            .outputs_distinct
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(s, "outputs (distinct)  {}", outs.join(", "));
        let _ = writeln!(
            s,
            "accounting          {}",
            if self.accounting.ok { "OK" } else { "FAILED" }
        );
        for c in &self.accounting.checks {
            let status = match (&c.skipped, c.ok) {
                (Some(_), true) => "skip",
                (Some(_), false) => "FAIL",
                (None, true) => "ok",
                (None, false) => "FAIL",
            };
            let _ = writeln!(s, "  [{status:>4}] {}", c.name);
            if let Some(why) = &c.skipped {
                let _ = writeln!(s, "         {why}");
            }
            for d in c.differences.iter().take(20) {
                let _ = writeln!(s, "         {d}");
            }
            if c.differences.len() > 20 {
                let _ = writeln!(s, "         ... {} more", c.differences.len() - 20);
            }
        }
        let _ = writeln!(
            s,
            "cpu                 harness {:.1} s{}, on {} cores (events generated in {:.1} s before the start)",
            self.harness_cpu_secs,
            match (self.pitboss_cpu_secs, self.pitboss_cpu_us_per_event) {
                (Some(p), Some(us)) => format!(", pitboss {p:.1} s ({us:.1} µs per event)"),
                (Some(p), None) => format!(", pitboss {p:.1} s"),
                _ => String::new(),
            } + &match (self.broker_cpu_secs, self.broker_cpu_us_per_event) {
                (Some(b), Some(us)) => format!(", broker {b:.1} s ({us:.1} µs per event)"),
                (Some(b), None) => format!(", broker {b:.1} s"),
                _ => String::new(),
            },
            self.cores,
            self.generate_secs
        );
        if let Some(line) = self.memory_line() {
            let _ = writeln!(s, "pitboss memory      {line}");
        }
        let _ = writeln!(s, "report              {}", self.report_dir);
        s
    }

    /// pitboss's memory and live entities, in words (`None` without samples).
    fn memory_line(&self) -> Option<String> {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let peak = self.rss_peak_bytes?;
        let mut s = match self.rss_base_bytes {
            Some(base) => format!(
                "RSS {:.1} MiB at the start, {:.1} MiB at most",
                mib(base),
                mib(peak)
            ),
            None => format!("RSS {:.1} MiB at most", mib(peak)),
        };
        if let (Some(b), Some(p)) = (self.live_entities_base, self.live_entities_peak) {
            let _ = write!(s, "; live entities {b} at the start, {p} at most");
        }
        if let Some(per) = self.rss_bytes_per_live_entity {
            let _ = write!(s, "; {per:.0} bytes per added live entity");
        }
        Some(s)
    }

    /// Writes `report.json` and `report.html`; returns their paths.
    pub fn write(&self, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
        std::fs::create_dir_all(dir)?;
        let json = dir.join("report.json");
        std::fs::write(&json, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("writing {}", json.display()))?;
        let html = dir.join("report.html");
        std::fs::write(&html, self.html())
            .with_context(|| format!("writing {}", html.display()))?;
        Ok((json, html))
    }
}

/// `cpu_secs` × 10⁶ / `events`: µs of CPU per event; `None` without a CPU figure or
/// without events.
pub fn us_per_event(cpu_secs: Option<f64>, events: u64) -> Option<f64> {
    cpu_secs
        .filter(|_| events > 0)
        .map(|c| c * 1e6 / events as f64)
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_summary_in_ms() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for us in 1..=1000u64 {
            h.record(us * 10).unwrap();
        }
        let l = LatencySummary::from_hist(Some(&h));
        assert_eq!(l.samples, 1000);
        assert!((l.p50_ms - 5.0).abs() < 0.01, "{}", l.p50_ms);
        assert!((l.max_ms - 10.0).abs() < 0.01, "{}", l.max_ms);
        assert_eq!(percentile_curve(Some(&h)).len(), 17);
    }

    /// A report of `events` events with nothing measured yet, as without `--spawn`.
    fn bare_report(events: u64) -> Report {
        Report {
            scenario: "t".into(),
            description: String::new(),
            started_utc: String::new(),
            brokers: String::new(),
            spawned: false,
            pitboss_config: String::new(),
            pitboss_exit_code: None,
            shape: "constant".into(),
            machines: 1,
            players: 1,
            input_partitions: 1,
            events,
            offered_secs: 1.0,
            offered_events_per_sec: events as f64,
            offered_peak_events_per_sec: events as f64,
            sent_secs: 1.0,
            sent_events_per_sec: events as f64,
            send_lag_max_ms: 0.0,
            caught_up_secs: 1.0,
            achieved_events_per_sec: events as f64,
            drain_secs: None,
            drain_events_per_sec: None,
            latency: LatencySummary::default(),
            broker_latency: None,
            p99_growth: None,
            latency_named: 0.0,
            latency_coverage: 0.0,
            latency_coverage_with_windows: 0.0,
            latency_by_kind: BTreeMap::new(),
            outputs_distinct: BTreeMap::new(),
            output_records: BTreeMap::new(),
            accounting: Accounting {
                ok: true,
                expected: ExpectedTotals::from(&Recount::default(), 0),
                published_hits: 0,
                checks: Vec::new(),
            },
            percentile_curve: Vec::new(),
            timeline: Vec::new(),
            report_dir: String::new(),
            generate_secs: 0.0,
            harness_cpu_secs: 0.0,
            pitboss_cpu_secs: None,
            pitboss_cpu_us_per_event: None,
            broker_cpu_secs: None,
            broker_cpu_us_per_event: None,
            rss_base_bytes: None,
            rss_peak_bytes: None,
            live_entities_base: None,
            live_entities_peak: None,
            rss_bytes_per_live_entity: None,
            cores: 2,
            chaos: None,
        }
    }

    #[test]
    fn cpu_per_event_divides_by_events_offered() {
        assert_eq!(us_per_event(Some(36.3), 1_000_000), Some(36.3));
        assert_eq!(us_per_event(Some(2.0), 0), None);
        assert_eq!(us_per_event(None, 1_000), None);
    }

    #[test]
    fn headline_without_spawn_has_null_resources() {
        let v = serde_json::to_value(bare_report(1000).headline()).unwrap();
        for k in [
            "pitboss_cpu_us_per_event",
            "broker_cpu_us_per_event",
            "p99_last_over_first",
            "broker_p99_last_over_first",
            "p99_over_broker_p99",
            "rss_base_bytes",
            "rss_peak_bytes",
            "live_entities_base",
            "live_entities_peak",
            "rss_bytes_per_live_entity",
        ] {
            assert!(v.get(k).is_some_and(|x| x.is_null()), "{k} in {v}");
        }
        assert!(!bare_report(1000).table().contains("pitboss memory"));
    }

    #[test]
    fn the_html_plots_cpu_lag_and_the_broker_only_when_measured() {
        let second = |s: u64, measured: bool| Second {
            second: s,
            offered_events: 1000.0,
            sent_events: 1000,
            outputs: 200,
            latency_samples: 100,
            p99_ms: Some(40.0),
            rss_bytes: None,
            live_entities: None,
            broker_p99_ms: measured.then_some(12.5),
            pitboss_cpu_cores: measured.then_some(0.2),
            broker_cpu_cores: measured.then_some(1.3),
            input_lag_messages: measured.then_some(10),
            internal_lag_messages: measured.then_some(3),
            inflight_events: measured.then_some(70),
            input_partitions_assigned: measured.then_some(8),
        };
        let mut r = bare_report(1000);
        r.timeline = vec![second(0, false), second(1, false)];
        let plain = r.html();
        for absent in ["CPU cores per second", "consumer lag", "broker alone"] {
            assert!(!plain.contains(absent), "{absent}");
        }
        r.timeline = vec![second(0, true), second(1, true)];
        let full = r.html();
        for present in [
            "CPU cores per second",
            "consumer lag and events in flight per second",
            "internal topics",
            "broker alone, p99 ms",
        ] {
            assert!(full.contains(present), "{present}");
        }
        let v = serde_json::to_value(&r.timeline[1]).unwrap();
        assert_eq!(v["broker_p99_ms"], 12.5);
        assert_eq!(v["internal_lag_messages"], 3);
        assert_eq!(v["inflight_events"], 70);
        assert_eq!(v["input_partitions_assigned"], 8);
    }

    #[test]
    fn headline_and_table_carry_resources() {
        let mut r = bare_report(1_000_000);
        r.spawned = true;
        r.pitboss_cpu_secs = Some(36.34);
        r.pitboss_cpu_us_per_event = us_per_event(r.pitboss_cpu_secs, r.events);
        r.rss_base_bytes = Some(100 << 20);
        r.rss_peak_bytes = Some(300 << 20);
        r.live_entities_base = Some(50);
        r.live_entities_peak = Some(100_050);
        r.rss_bytes_per_live_entity = Some(1234.56);
        r.broker_cpu_secs = Some(80.04);
        r.broker_cpu_us_per_event = us_per_event(r.broker_cpu_secs, r.events);
        let v = serde_json::to_value(r.headline()).unwrap();
        assert_eq!(v["pitboss_cpu_us_per_event"], 36.3);
        assert_eq!(v["broker_cpu_us_per_event"], 80.0);
        assert_eq!(v["rss_base_bytes"], 100u64 << 20);
        assert_eq!(v["rss_peak_bytes"], 300u64 << 20);
        assert_eq!(v["live_entities_base"], 50);
        assert_eq!(v["live_entities_peak"], 100_050);
        assert_eq!(v["rss_bytes_per_live_entity"], 1234.6);
        let t = r.table();
        assert!(t.contains("36.3 µs per event"), "{t}");
        assert!(t.contains("broker 80.0 s (80.0 µs per event)"), "{t}");
        assert!(!t.contains("p99 growth"), "{t}");
        assert!(
            t.contains("RSS 100.0 MiB at the start, 300.0 MiB at most"),
            "{t}"
        );
        assert!(t.contains("1235 bytes per added live entity"), "{t}");
    }

    #[test]
    fn headline_and_table_carry_the_p99_growth_and_the_broker_ratio() {
        let mut r = bare_report(1_000_000);
        r.latency = LatencySummary {
            samples: 100,
            p99_ms: 30.0,
            ..LatencySummary::default()
        };
        r.broker_latency = Some(LatencySummary {
            samples: 100,
            p99_ms: 12.0,
            ..LatencySummary::default()
        });
        r.p99_growth = Some(Growth {
            first_p99_ms: Some(20.0),
            last_p99_ms: Some(50.0),
            broker_first_p99_ms: Some(10.0),
            broker_last_p99_ms: Some(12.5),
        });
        let v = serde_json::to_value(r.headline()).unwrap();
        assert_eq!(v["p99_last_over_first"], 2.5);
        assert_eq!(v["broker_p99_last_over_first"], 1.25);
        assert_eq!(v["p99_over_broker_p99"], 2.5);
        let t = r.table();
        assert!(
            t.contains("first 10 s 20.0, last 10 s 50.0 (x2.50); broker alone 10.0, 12.5 (x1.25)"),
            "{t}"
        );
        assert!(t.contains("whole run x2.50"), "{t}");
    }
}
