//! Load-test scenarios: a TOML file describing a hall network, its play, its jackpot pools
//! and the rate shape at which its events are offered.
//!
//! A scenario maps onto pitboss's own configuration (`network`, `sim`, `pools`, plus the
//! `kafka`, `store` and `http` sections of the processor under test) and drives the
//! built-in simulator (`pitboss::sim::Simulator`): the harness writes no second event
//! generator. See `load-tests/scenarios/*.toml` for annotated examples.
//!
//! What the simulator models with fixed probabilities (a door opens in 0.1 % of machine
//! steps, card in/out 0.5 %, a machine with credits cashes out in 2 %, a game pays one time
//! in four with the win sized to hold the RTP) is not configurable here; the mix a scenario
//! sets is: bet sizes, bill and deposit sizes (cash in), the RTP, the online share, the
//! progressive hit rate, the jackpot pools, and the malformed-message rate.

use std::path::Path;

use anyhow::{bail, ensure, Context};
use pitboss::config::PoolSection;
use pitboss::store::StoreKind;
use serde::Deserialize;

/// Messages per game, on average, in the simulator's model (bet, game end, a win one time
/// in four, cash in and out now and then): used to turn games per hour into events/s.
pub const EVENTS_PER_GAME: f64 = 2.5;

/// A scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scenario {
    /// Short name (used in topic names and the report directory).
    pub name: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Seed of the simulator (the same seed gives the same events).
    pub seed: u64,
    pub network: NetworkSpec,
    /// How the machines and players play.
    pub play: PlaySpec,
    /// Jackpot pools; absent = pitboss's default pool (WAP-1, four levels, every hall).
    #[serde(default)]
    pub pools: Option<Vec<PoolSection>>,
    /// The offered rate over time.
    pub rate: RateSpec,
    /// Settings of the pitboss under test (with `--spawn`).
    #[serde(default)]
    pub pitboss: PitbossSpec,
    /// Faults during the run (with `--spawn`): several instances sharing a CQL store, killed,
    /// restarted, leaving and coming back, and the store unavailable for a while.
    #[serde(default)]
    pub chaos: Option<ChaosSpec>,
}

/// `[chaos]`: what the harness does to the pitboss instances and their store during the
/// offered load (see `harness::chaos`). Every moment and every victim is drawn from `seed`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ChaosSpec {
    /// `pitboss run` processes in one consumer group, sharing one CQL store.
    #[serde(default = "default_instances")]
    pub instances: usize,
    /// SIGKILLs, each followed by a restart of the killed instance.
    #[serde(default = "default_kills")]
    pub kills: u32,
    /// Clean leaves (SIGTERM, exit 0), each followed by the instance coming back.
    #[serde(default = "default_rebalances")]
    pub rebalances: u32,
    /// How long the store is unavailable (its port closed, every connection cut), seconds;
    /// 0 for no outage.
    #[serde(default = "default_outage")]
    pub store_outage_secs: f64,
    /// Broker restarts (stopped, then started again on the same data a few seconds later).
    /// Only a broker the harness starts can be restarted: a run with any needs
    /// `--spawn-broker`.
    #[serde(default)]
    pub broker_restarts: u32,
    /// Seed of the faults' moments and victims (`--chaos-seed` overrides it).
    #[serde(default)]
    pub seed: u64,
}

fn default_instances() -> usize {
    3
}
fn default_kills() -> u32 {
    5
}
fn default_rebalances() -> u32 {
    1
}
fn default_outage() -> f64 {
    10.0
}

/// Halls, machines, players.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NetworkSpec {
    /// Land-based halls.
    pub halls: u32,
    /// Machines (EGMs) in each hall.
    pub machines_per_hall: u32,
    /// Online players (wallets).
    pub players: u32,
    /// ISO 4217 currency.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// The hall id of online play.
    #[serde(default = "default_online_hall")]
    pub online_hall: String,
}

fn default_currency() -> String {
    "EUR".into()
}

fn default_online_hall() -> String {
    "ONLINE-1".into()
}

/// The play: what the events carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PlaySpec {
    /// Games per hour per machine. Used for the offered rate when `rate.events-per-sec`
    /// is not given: machines x games/h x [`EVENTS_PER_GAME`] / 3600.
    #[serde(default)]
    pub games_per_hour_per_machine: Option<u32>,
    /// Return to player, percent (decimal string, e.g. "92").
    pub rtp_percent: String,
    /// Share of events from online players, percent (decimal string).
    pub online_share_percent: String,
    /// Bet sizes, minor units.
    pub bet_minor: Vec<i64>,
    /// Bill, ticket and deposit sizes (cash in), minor units.
    pub bill_minor: Vec<i64>,
    /// Progressive (machine-claimed) jackpot hits per million machine games.
    pub progressive_hit_per_million: u32,
    /// Malformed messages injected per million (they must come back as rejections).
    #[serde(default)]
    pub malformed_per_million: u32,
}

/// The rate shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// `events-per-sec` for `duration-secs`.
    Constant,
    /// From `start-events-per-sec` up to `events-per-sec`, linearly, over `duration-secs`.
    Ramp,
    /// `events-per-sec` with `burst-events-per-sec` for `burst-secs` every `burst-every-secs`.
    Burst,
    /// `backlog-events` produced before pitboss starts, then drained as fast as it can.
    Backlog,
}

/// The offered rate over time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RateSpec {
    pub shape: Shape,
    /// Seconds of offered load (not used by `backlog`).
    #[serde(default)]
    pub duration_secs: f64,
    /// The rate (constant), the peak (ramp) or the base rate (burst), events/s. For
    /// `backlog`, the nominal rate that spaces the events' event times. Absent: derived
    /// from `play.games-per-hour-per-machine`.
    #[serde(default)]
    pub events_per_sec: Option<f64>,
    /// Ramp: the rate at the start.
    #[serde(default)]
    pub start_events_per_sec: Option<f64>,
    /// Burst: the rate during a burst.
    #[serde(default)]
    pub burst_events_per_sec: Option<f64>,
    /// Burst: seconds between burst starts.
    #[serde(default)]
    pub burst_every_secs: Option<f64>,
    /// Burst: length of a burst, seconds.
    #[serde(default)]
    pub burst_secs: Option<f64>,
    /// Backlog: events to produce before pitboss starts.
    #[serde(default)]
    pub backlog_events: Option<u64>,
}

/// Settings of the processor under test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PitbossSpec {
    /// Actor threads (0 = one per core).
    #[serde(default)]
    pub arbiters: usize,
    /// Partitions of the input topic.
    #[serde(default = "default_partitions")]
    pub input_partitions: i32,
    /// Partitions of each output topic.
    #[serde(default = "default_output_partitions")]
    pub output_partitions: i32,
    /// Route effects through the internal topics (the multi-instance mode, pitboss's
    /// default). With them the harness stops pitboss only once its group has committed the
    /// internal topics to their ends too; false applies every effect in process.
    #[serde(default = "default_internal_topics")]
    pub internal_topics: bool,
    /// Offset commit (and checkpoint) interval, ms.
    #[serde(default = "default_commit_ms")]
    pub commit_interval_ms: u64,
    /// The hit-point secret (mystery jackpots): the harness's reference processor uses the
    /// same one to know where each mystery level hits.
    #[serde(default = "default_secret")]
    pub hit_point_secret: String,
    /// Store kind of the spawned pitboss: "embedded" (default), "memory".
    #[serde(default = "default_store")]
    pub store: StoreKind,
    /// librdkafka settings for pitboss's consumer (`[kafka.consumer]`), e.g.
    /// `"fetch.wait.max.ms" = "5"`.
    #[serde(default)]
    pub kafka_consumer: std::collections::BTreeMap<String, String>,
    /// librdkafka settings for pitboss's producer (`[kafka.producer]`).
    #[serde(default)]
    pub kafka_producer: std::collections::BTreeMap<String, String>,
}

fn default_partitions() -> i32 {
    8
}
fn default_output_partitions() -> i32 {
    4
}
fn default_internal_topics() -> bool {
    // pitboss's own default (kafka.internal-topics).
    true
}
fn default_commit_ms() -> u64 {
    // pitboss's own default (kafka.commit-interval-ms).
    5000
}
fn default_secret() -> String {
    // At least 32 characters: `pitboss run` refuses shorter ones.
    "load-test-hit-point-secret-0123456789".into()
}
fn default_store() -> StoreKind {
    StoreKind::Embedded
}

impl Default for PitbossSpec {
    fn default() -> Self {
        Self {
            arbiters: 0,
            input_partitions: default_partitions(),
            output_partitions: default_output_partitions(),
            internal_topics: default_internal_topics(),
            commit_interval_ms: default_commit_ms(),
            hit_point_secret: default_secret(),
            store: default_store(),
            kafka_consumer: Default::default(),
            kafka_producer: Default::default(),
        }
    }
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> anyhow::Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading scenario {}", path.display()))?;
        let s: Scenario = toml::from_str(&text)
            .with_context(|| format!("invalid scenario {}", path.display()))?;
        s.validate()
            .with_context(|| format!("invalid scenario {}", path.display()))?;
        Ok(s)
    }

    fn validate(&self) -> anyhow::Result<()> {
        ensure!(
            !self.name.is_empty()
                && self
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "name {:?}: use letters, digits, '-' and '_'",
            self.name
        );
        let n = &self.network;
        ensure!(
            n.halls > 0 && n.machines_per_hall > 0,
            "network: at least one hall and one machine per hall"
        );
        ensure!(
            !self.play.bet_minor.is_empty() && self.play.bet_minor.iter().all(|b| *b > 0),
            "play.bet-minor: positive sizes"
        );
        ensure!(
            !self.play.bill_minor.is_empty() && self.play.bill_minor.iter().all(|b| *b > 0),
            "play.bill-minor: positive sizes"
        );
        let r = &self.rate;
        let base = self.base_rate()?;
        ensure!(
            base > 0.0 && base.is_finite(),
            "rate: events/s must be above 0"
        );
        match r.shape {
            Shape::Backlog => {
                ensure!(
                    r.backlog_events.unwrap_or(0) > 0,
                    "rate: shape \"backlog\" needs backlog-events > 0"
                );
            }
            _ => {
                ensure!(
                    r.duration_secs > 0.0 && r.duration_secs.is_finite(),
                    "rate: duration-secs must be above 0"
                );
            }
        }
        if r.shape == Shape::Ramp {
            ensure!(
                r.start_events_per_sec.unwrap_or(0.0) >= 0.0,
                "rate: start-events-per-sec must not be negative"
            );
        }
        if r.shape == Shape::Burst {
            let (Some(b), Some(every), Some(len)) =
                (r.burst_events_per_sec, r.burst_every_secs, r.burst_secs)
            else {
                bail!("rate: shape \"burst\" needs burst-events-per-sec, burst-every-secs and burst-secs");
            };
            ensure!(
                b > 0.0 && every > 0.0 && len > 0.0 && len < every,
                "rate: burst rate and lengths must be above 0, burst-secs below burst-every-secs"
            );
        }
        ensure!(
            self.pitboss.input_partitions > 0 && self.pitboss.output_partitions > 0,
            "pitboss: partitions must be above 0"
        );
        ensure!(
            matches!(self.pitboss.store, StoreKind::Embedded | StoreKind::Memory),
            "pitboss.store: \"embedded\" or \"memory\" (a [chaos] run uses a CQL store the \
             harness serves, whatever this says)"
        );
        if let Some(c) = &self.chaos {
            ensure!(
                (1..=8).contains(&c.instances),
                "chaos.instances: 1 to 8, got {}",
                c.instances
            );
            ensure!(
                c.store_outage_secs >= 0.0 && c.store_outage_secs.is_finite(),
                "chaos.store-outage-secs must not be negative"
            );
            ensure!(
                r.shape != Shape::Backlog,
                "chaos: faults happen during offered load; not with shape \"backlog\""
            );
        }
        Ok(())
    }

    /// Machines in the network.
    pub fn machines(&self) -> u64 {
        u64::from(self.network.halls) * u64::from(self.network.machines_per_hall)
    }

    /// The base rate: `rate.events-per-sec`, else from games per hour.
    pub fn base_rate(&self) -> anyhow::Result<f64> {
        if let Some(r) = self.rate.events_per_sec {
            return Ok(r);
        }
        let Some(g) = self.play.games_per_hour_per_machine else {
            bail!("rate: give events-per-sec or play.games-per-hour-per-machine");
        };
        Ok(self.machines() as f64 * f64::from(g) * EVENTS_PER_GAME / 3600.0)
    }

    /// The send schedule.
    pub fn schedule(&self) -> anyhow::Result<Schedule> {
        let r = &self.rate;
        let base = self.base_rate()?;
        let mut segs = Vec::new();
        match r.shape {
            Shape::Constant => segs.push((r.duration_secs, base)),
            Shape::Ramp => {
                // Steps of 100 ms, each at the mean rate of its interval.
                let start = r.start_events_per_sec.unwrap_or(0.0);
                let steps = ((r.duration_secs * 10.0).ceil() as usize).max(1);
                let step = r.duration_secs / steps as f64;
                for i in 0..steps {
                    let mid = (i as f64 + 0.5) / steps as f64;
                    segs.push((step, start + (base - start) * mid));
                }
            }
            Shape::Burst => {
                let (b, every, len) = (
                    r.burst_events_per_sec.unwrap_or(base),
                    r.burst_every_secs.unwrap_or(1.0),
                    r.burst_secs.unwrap_or(0.0),
                );
                let mut t = 0.0;
                while t < r.duration_secs {
                    let quiet = (every - len).min(r.duration_secs - t);
                    segs.push((quiet, base));
                    t += quiet;
                    if t >= r.duration_secs {
                        break;
                    }
                    let burst = len.min(r.duration_secs - t);
                    segs.push((burst, b));
                    t += burst;
                }
            }
            Shape::Backlog => {
                let n = r.backlog_events.unwrap_or(0) as f64;
                segs.push((n / base, base));
            }
        }
        Ok(Schedule::new(segs, r.shape == Shape::Backlog))
    }
}

/// When each event is due: piecewise-constant rate segments.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// (start second, start event index, rate, events in the segment).
    segs: Vec<(f64, u64, f64, u64)>,
    pub total: u64,
    /// Seconds the schedule spans.
    pub duration_secs: f64,
    /// A backlog: produced as fast as possible before the processor starts; the times
    /// only space the events' event times.
    pub backlog: bool,
}

impl Schedule {
    fn new(pieces: Vec<(f64, f64)>, backlog: bool) -> Self {
        let mut segs = Vec::new();
        let (mut t, mut acc, mut exact) = (0.0f64, 0u64, 0.0f64);
        for (len, rate) in pieces {
            if len <= 0.0 {
                continue;
            }
            exact += len * rate;
            let end = exact.round() as u64;
            let n = end.saturating_sub(acc);
            segs.push((t, acc, rate, n));
            acc += n;
            t += len;
        }
        Self {
            segs,
            total: acc,
            duration_secs: t,
            backlog,
        }
    }

    /// Seconds from the start at which event `i` is due.
    pub fn due_secs(&self, i: u64) -> f64 {
        let k = self.segs.partition_point(|s| s.1 <= i).saturating_sub(1);
        match self.segs.get(k) {
            Some(&(t, first, rate, _)) if rate > 0.0 => t + (i - first) as f64 / rate,
            Some(&(t, ..)) => t,
            None => 0.0,
        }
    }

    /// The offered rate at second `t`.
    pub fn rate_at(&self, t: f64) -> f64 {
        if t < 0.0 || t >= self.duration_secs {
            return 0.0;
        }
        let k = self.segs.partition_point(|s| s.0 <= t).saturating_sub(1);
        self.segs.get(k).map_or(0.0, |s| s.2)
    }

    /// The highest rate offered.
    pub fn peak_rate(&self) -> f64 {
        self.segs.iter().map(|s| s.2).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(rate: &str) -> Scenario {
        let text = format!(
            r#"
name = "t"
seed = 1
[network]
halls = 2
machines-per-hall = 10
players = 5
[play]
rtp-percent = "92"
online-share-percent = "20"
bet-minor = [10]
bill-minor = [1000]
progressive-hit-per-million = 0
[rate]
{rate}
"#
        );
        let s: Scenario = toml::from_str(&text).unwrap();
        s.validate().unwrap();
        s
    }

    #[test]
    fn constant_schedule() {
        let s = scenario("shape = \"constant\"\nduration-secs = 2\nevents-per-sec = 100");
        let sch = s.schedule().unwrap();
        assert_eq!(sch.total, 200);
        assert!((sch.due_secs(100) - 1.0).abs() < 1e-9);
        assert!((sch.due_secs(199) - 1.99).abs() < 1e-9);
    }

    #[test]
    fn ramp_and_burst_schedules() {
        let s = scenario(
            "shape = \"ramp\"\nduration-secs = 10\nevents-per-sec = 1000\nstart-events-per-sec = 0",
        );
        let sch = s.schedule().unwrap();
        assert!((sch.total as i64 - 5000).abs() <= 1, "{}", sch.total);
        let mut last = 0.0;
        for i in (0..sch.total).step_by(7) {
            let d = sch.due_secs(i);
            assert!(d >= last);
            last = d;
        }
        assert!(sch.peak_rate() > 990.0);
        let s = scenario(
            "shape = \"burst\"\nduration-secs = 10\nevents-per-sec = 100\nburst-events-per-sec = 1000\nburst-every-secs = 5\nburst-secs = 1",
        );
        let sch = s.schedule().unwrap();
        assert_eq!(sch.total, 8 * 100 + 2 * 1000);
        assert_eq!(sch.rate_at(4.5), 1000.0);
        assert_eq!(sch.rate_at(5.5), 100.0);
        assert_eq!(sch.rate_at(10.5), 0.0);
    }

    #[test]
    fn games_per_hour_give_the_rate() {
        let mut s = scenario("shape = \"constant\"\nduration-secs = 1\nevents-per-sec = 1");
        s.rate.events_per_sec = None;
        s.play.games_per_hour_per_machine = Some(3600);
        assert!((s.base_rate().unwrap() - 20.0 * EVENTS_PER_GAME).abs() < 1e-9);
    }

    #[test]
    fn shipped_scenarios_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        for name in ["smoke", "large-network", "catch-up"] {
            let s = Scenario::load(&dir.join(format!("{name}.toml"))).unwrap();
            assert_eq!(s.name, name);
            assert!(s.schedule().unwrap().total > 0);
        }
    }
}
