//! `pitboss-load run`: offers a scenario to a pitboss over Kafka, open loop, measures the
//! end-to-end latency and the throughput, and checks the money at the end.
//!
//! # How a run goes
//!
//! 1. The scenario becomes a pitboss configuration (`pitboss.toml` in the report
//!    directory): `network`, `sim` and `pools` from the scenario; topic names and the group
//!    id unique to the run; with `--spawn` a fresh data directory (embedded store) and HTTP
//!    on `127.0.0.1:0`.
//! 2. With `--spawn`: `pitboss topics create --config F`, then `pitboss run --config F` as a
//!    child process (the `pitboss` binary next to `pitboss-load`, or `--pitboss-bin`).
//!    Without it: a `pitboss run` must already consume the topics of `--pitboss-config F`
//!    (write one with `--write-config F`, start pitboss with it, then run the harness).
//! 3. Warm-up: one deposit for a dedicated player on every input partition; the clock
//!    starts when pitboss has answered all of them (its consumer group is formed).
//! 4. Open loop: event `i` is due at `t0 + schedule(i)`; the producer sends it when it is
//!    due, whatever the broker or pitboss answered so far (it never waits on a delivery
//!    acknowledgement; it only retries when librdkafka's local queue is full). Each
//!    record's timestamp is its due time. A backlog scenario produces everything first,
//!    then starts pitboss; there every event is "due" when pitboss starts.
//! 5. Latency: outputs carry their cause (`pitboss-cause-event-id`); the simulator's event
//!    ids are `(seed << 64) | n`, so the harness looks up event `n`'s due time and records
//!    `arrival - due` (HdrHistogram, microseconds), once per event (its first output).
//!    Only events that cause an output with a cause are sampled: wallet commands (a wallet
//!    change or a refusal), alerts, jackpot hits. Machine bets and wins show up in GGR
//!    windows, which carry no cause. The coverage is in the report.
//! 6. End: one more deposit per input partition (the "final sentinels"). Partitions are
//!    ordered, so when pitboss has answered every sentinel it has consumed every event.
//!    With `--spawn` pitboss is then stopped with SIGTERM (it must exit 0; it drains what
//!    is in flight and publishes every open GGR window and changed pool level), and the
//!    output topics are read to their end.
//! 7. Accounting: every event is generated before t0 (the simulator's cost stays out of
//!    the measured window) and applied to the reference processor
//!    (`pitboss::direct::Direct`) then; its end state is compared with what pitboss
//!    published and stored, see [`check`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use pitboss::config::Config;
use pitboss::direct::Direct;
use pitboss::recount::{recount, Recount};
use pitboss::sim::Simulator;
use pitboss::wire::{self, InputEnvelope, InputPayload, OutputEvent, Source};
use pitboss_actors::shell::{Snapshot, StateStore};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::ClientContext;

use crate::report::{Accounting, Check, LatencySummary, Report, Second};
use crate::scenario::{Scenario, Schedule};

/// The cause header pitboss puts on outputs (`pitboss::kafka::sink`).
const CAUSE_HEADER: &str = pitboss::kafka::sink::HEADER_CAUSE_EVENT_ID;
/// High 64 bits of the event ids of the harness's own deposits (the simulator's are its
/// seed; a scenario using this seed is refused).
const SENTINEL_TAG: u64 = 0x5e47_1e10_ad00_0001;
/// Header on every simulated input record: its due time, ns after t0 (u64 big-endian).
const DUE_HEADER: &str = "pitboss-load-due-ns";
/// Amount of each sentinel deposit, minor units.
const SENTINEL_MINOR: i64 = 100;

/// Options of `pitboss-load run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The scenario file (load-tests/scenarios/*.toml).
    #[arg(long)]
    pub scenario: PathBuf,
    /// Bootstrap servers of the broker.
    #[arg(long)]
    pub brokers: String,
    /// Start (and stop) a pitboss with a fresh data directory and unique topics.
    #[arg(long)]
    pub spawn: bool,
    /// The `pitboss` binary for --spawn (default: next to this executable).
    #[arg(long)]
    pub pitboss_bin: Option<PathBuf>,
    /// Without --spawn: the configuration of the running pitboss (written by
    /// --write-config; topics, pools and hit-point secret must be the ones it uses).
    #[arg(long)]
    pub pitboss_config: Option<PathBuf>,
    /// Write the pitboss configuration for this scenario to FILE and exit (to start a
    /// pitboss yourself, then run with --pitboss-config FILE).
    #[arg(long)]
    pub write_config: Option<PathBuf>,
    /// Report directory (default: target/load-report/<scenario>-<UTC time>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one JSON line with the headline figures (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Override the scenario's duration, seconds.
    #[arg(long)]
    pub duration_secs: Option<f64>,
    /// Override the scenario's rate (constant/peak/base), events/s.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Override the backlog size of a backlog scenario.
    #[arg(long)]
    pub backlog_events: Option<u64>,
    /// Longest wait for pitboss to answer the final sentinels after the last event, seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
    /// `fetch.wait.max.ms` of the harness's output reader: the longest the broker may hold
    /// a fetch, so at most what the reader adds to a measured latency. Short waits cost
    /// broker CPU; with Tansu a long wait shows up in the latency (see BENCHMARKS.md).
    #[arg(long, default_value_t = 5)]
    pub reader_fetch_wait_ms: u32,
    /// Also read the input topic back and measure due time -> input record readable
    /// (the broker's own share of the latency, without pitboss). Costs harness and broker
    /// CPU.
    #[arg(long)]
    pub measure_broker: bool,
}

/// What the run measured and checked.
pub fn run(args: RunArgs) -> anyhow::Result<Option<Report>> {
    let mut scn = Scenario::load(&args.scenario)?;
    if let Some(d) = args.duration_secs {
        scn.rate.duration_secs = d;
    }
    if let Some(r) = args.rate {
        scn.rate.events_per_sec = Some(r);
    }
    if let Some(b) = args.backlog_events {
        scn.rate.backlog_events = Some(b);
    }
    anyhow::ensure!(
        scn.seed != SENTINEL_TAG,
        "seed {SENTINEL_TAG} is reserved by the harness"
    );
    let sched = scn.schedule()?;
    let stamp = utc_stamp(SystemTime::now());
    let prefix = format!(
        "load-{}-{}-{}",
        scn.name,
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );

    if let Some(path) = &args.write_config {
        let data = path.with_extension("data");
        let text = config_toml(&scn, &args.brokers, &prefix, &data, sched.peak_rate())?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        Config::load(Some(path)).context("the written configuration does not load")?;
        eprintln!(
            "wrote {} (data directory {}): start `pitboss topics create --config {0}` and \
             `pitboss run --config {0}`, then `pitboss-load run --scenario {} --brokers {} \
             --pitboss-config {0}`",
            path.display(),
            data.display(),
            args.scenario.display(),
            args.brokers
        );
        return Ok(None);
    }

    let out = match &args.out {
        Some(o) => o.clone(),
        None => PathBuf::from("target/load-report").join(format!("{}-{stamp}", scn.name)),
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    // The configuration of the pitboss under test.
    let data_dir = tempfile::Builder::new()
        .prefix("pitboss-load-data-")
        .tempdir()
        .context("creating a data directory")?;
    let cfg_path = match (&args.pitboss_config, args.spawn) {
        (Some(_), true) => bail!("--pitboss-config is for a pitboss you started; not with --spawn"),
        (Some(p), false) => p.clone(),
        (None, true) => {
            let p = out.join("pitboss.toml");
            let text = config_toml(
                &scn,
                &args.brokers,
                &prefix,
                data_dir.path(),
                sched.peak_rate(),
            )?;
            std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
            p
        }
        (None, false) => bail!(
            "without --spawn, give --pitboss-config FILE: the configuration of the running \
             pitboss (write one for this scenario with --write-config FILE, then start \
             `pitboss run --config FILE`)"
        ),
    };
    let mut cfg = Config::load(Some(&cfg_path))
        .with_context(|| format!("loading pitboss configuration {}", cfg_path.display()))?;
    cfg.kafka.brokers = args.brokers.clone();
    if args.pitboss_config.is_some() {
        // The running pitboss's file decides topics, pools and secret; the scenario the
        // traffic (the written file carries the same sim section).
        apply_sim(&mut cfg, &scn, sched.peak_rate());
    }

    let pitboss_bin = if args.spawn {
        Some(locate_pitboss(args.pitboss_bin.as_deref())?)
    } else {
        None
    };

    let progress = progress_bar(sched.total);
    let mut run = Running::new(&cfg, &scn, &sched, out.clone(), progress.clone())?;
    let gen_start = Instant::now();
    run.generate(&sched)?;
    run.generate_secs = gen_start.elapsed().as_secs_f64();
    let harness_cpu0 = cpu_secs(libc::RUSAGE_SELF);

    if let Some(bin) = &pitboss_bin {
        progress.set_message("creating topics");
        let o = Command::new(bin)
            .args(["topics", "create", "--config"])
            .arg(&cfg_path)
            .output()
            .with_context(|| format!("running {} topics create", bin.display()))?;
        if !o.status.success() {
            bail!(
                "`{} topics create --config {}` failed ({}): {}{}",
                bin.display(),
                cfg_path.display(),
                o.status,
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    let partitions = input_partitions(&cfg)?;
    run.start_consumer(
        args.reader_fetch_wait_ms,
        args.measure_broker && !sched.backlog,
    )?;

    let mut child: Option<ChildGuard> = None;
    let timeout = Duration::from_secs(args.timeout_secs);
    if sched.backlog {
        progress.set_message("producing the backlog");
        let fill_start = run.shared.now_ns();
        run.produce(&sched, true)?;
        run.produce_sentinels('F', partitions)?;
        run.flush_producer()?;
        // The fill rate counts until the broker acknowledged the whole backlog.
        run.last_send_ns = run.shared.now_ns() - fill_start;
        run.shared
            .t0_ns
            .store(run.shared.now_ns(), Ordering::Relaxed);
        if let Some(bin) = &pitboss_bin {
            child = Some(ChildGuard::spawn(bin, &cfg_path, &out)?);
        } else {
            eprintln!("backlog produced: start (or resume) pitboss now");
        }
        progress.set_message("pitboss draining the backlog");
        run.wait_sentinels(
            'F',
            partitions,
            timeout.max(Duration::from_secs(3600)),
            child.as_mut(),
        )?;
    } else {
        if let Some(bin) = &pitboss_bin {
            child = Some(ChildGuard::spawn(bin, &cfg_path, &out)?);
        }
        progress.set_message("waiting for pitboss to consume (warm-up)");
        run.produce_sentinels('W', partitions)?;
        run.wait_sentinels('W', partitions, Duration::from_secs(120), child.as_mut())?;
        run.shared
            .t0_ns
            .store(run.shared.now_ns(), Ordering::Relaxed);
        progress.set_message("offering the scenario");
        run.produce(&sched, false)?;
        run.produce_sentinels('F', partitions)?;
        progress.set_message("waiting for pitboss to catch up");
        run.wait_sentinels('F', partitions, timeout, child.as_mut())?;
    }
    run.caught_up_ns = run.shared.now_ns();
    if cfg.kafka.internal_topics && child.is_some() {
        // Effects between entities travel through the internal topics after the input is
        // consumed: stop pitboss only once they are processed too, so that what it stores
        // and publishes at shutdown is complete.
        progress.set_message("waiting for the effects on the internal topics");
        let t = &cfg.kafka.topics;
        let topics = [&t.input, &t.pool_commands, &t.ggr_deltas, &t.machine_awards];
        let topics: Vec<&str> = topics.iter().map(|n| n.as_str()).collect();
        pitboss::kafka::admin::wait_committed_to_end(&cfg.kafka, &topics, timeout)
            .map_err(|e| anyhow!(e))?;
    }
    let mut exit_code = None;
    if let Some(mut c) = child.take() {
        progress.set_message("stopping pitboss (SIGTERM)");
        exit_code = Some(c.terminate(Duration::from_secs(120))?);
    }
    progress.set_message("reading the output topics to their end");
    run.flush_producer()?;
    let observed = run.finish_consumer(Duration::from_secs(120))?;
    run.harness_cpu_secs = cpu_secs(libc::RUSAGE_SELF) - harness_cpu0;
    // The children reaped so far: `pitboss topics create` and `pitboss run`.
    run.pitboss_cpu_secs = pitboss_bin
        .is_some()
        .then(|| cpu_secs(libc::RUSAGE_CHILDREN));
    progress.finish_and_clear();

    // Expected totals: the same events again, through the reference processor.
    let expected = expected(&cfg, run.reference.take(), partitions, run.warm_sent)?;
    let stored = if args.spawn && cfg.store.kind == pitboss::store::StoreKind::Embedded {
        Some(stored_state(&cfg)?)
    } else {
        None
    };
    let accounting = check(&expected, &observed, stored.as_deref(), args.spawn);
    let report = run.report(
        &scn, &sched, &args, observed, accounting, exit_code, &cfg_path,
    );
    drop(data_dir);
    Ok(Some(report))
}

/// The pitboss configuration (a layer over pitboss's defaults) for a scenario.
fn config_toml(
    scn: &Scenario,
    brokers: &str,
    prefix: &str,
    data_dir: &Path,
    rate: f64,
) -> anyhow::Result<String> {
    use toml::Value as V;
    let mut root = toml::Table::new();
    let table = |pairs: Vec<(&str, V)>| {
        V::Table(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    let s = |x: &str| V::String(x.to_string());
    let i = |x: i64| V::Integer(x);
    let n = &scn.network;
    let p = &scn.play;
    let pb = &scn.pitboss;
    root.insert("network".into(), table(vec![("currency", s(&n.currency))]));
    root.insert(
        "runtime".into(),
        table(vec![
            ("arbiters", i(pb.arbiters as i64)),
            ("hit-point-secret", s(&pb.hit_point_secret)),
        ]),
    );
    if let Some(pools) = &scn.pools {
        root.insert(
            "pools".into(),
            V::try_from(pools).context("rendering the scenario's pools")?,
        );
    }
    root.insert(
        "sim".into(),
        table(vec![
            ("halls", i(n.halls.into())),
            ("machines-per-hall", i(n.machines_per_hall.into())),
            ("players", i(n.players.into())),
            ("online-hall", s(&n.online_hall)),
            ("rate-events-per-sec", i(rate.round() as i64)),
            ("seed", i(scn.seed as i64)),
            ("rtp-percent", s(&p.rtp_percent)),
            ("online-share-percent", s(&p.online_share_percent)),
            (
                "bet-minor",
                V::Array(p.bet_minor.iter().map(|b| i(*b)).collect()),
            ),
            (
                "bill-minor",
                V::Array(p.bill_minor.iter().map(|b| i(*b)).collect()),
            ),
            (
                "progressive-hit-per-million",
                i(p.progressive_hit_per_million.into()),
            ),
            ("malformed-per-million", i(p.malformed_per_million.into())),
        ]),
    );
    let topic = |t: &str| s(&format!("{prefix}.{t}"));
    root.insert(
        "kafka".into(),
        table(vec![
            ("brokers", s(brokers)),
            ("group-id", s(&format!("{prefix}.pitboss"))),
            ("internal-topics", V::Boolean(pb.internal_topics)),
            ("commit-interval-ms", i(pb.commit_interval_ms as i64)),
            (
                "topics",
                table(vec![
                    ("input", topic("game-events")),
                    ("ggr", topic("ggr")),
                    ("jackpots", topic("jackpots")),
                    ("wallet-events", topic("wallet-events")),
                    ("alerts", topic("alerts")),
                    ("rejected", topic("rejected")),
                    ("pool-commands", topic("internal.pool-commands")),
                    ("ggr-deltas", topic("internal.ggr-deltas")),
                    ("machine-awards", topic("internal.machine-awards")),
                ]),
            ),
            (
                "partitions",
                table(vec![
                    ("input", i(pb.input_partitions.into())),
                    ("outputs", i(pb.output_partitions.into())),
                    ("internal", i(pb.input_partitions.into())),
                ]),
            ),
            // Tansu forms a new group in about half the session timeout: keep it short.
            ("consumer", {
                let mut c = toml::Table::new();
                c.insert("session.timeout.ms".into(), s("6000"));
                c.insert("heartbeat.interval.ms".into(), s("500"));
                for (k, v) in &pb.kafka_consumer {
                    c.insert(k.clone(), s(v));
                }
                V::Table(c)
            }),
            (
                "producer",
                V::Table(
                    pb.kafka_producer
                        .iter()
                        .map(|(k, v)| (k.clone(), s(v)))
                        .collect(),
                ),
            ),
        ]),
    );
    root.insert(
        "http".into(),
        table(vec![
            ("addr", s("127.0.0.1:0")),
            (
                "audit-log",
                s(&data_dir.join("audit.jsonl").display().to_string()),
            ),
        ]),
    );
    root.insert(
        "store".into(),
        table(vec![
            ("kind", s(&pb.store)),
            ("data-dir", s(&data_dir.display().to_string())),
            ("flush-interval-ms", i(pb.commit_interval_ms as i64)),
        ]),
    );
    let mut text = format!(
        "# pitboss configuration written by pitboss-load for scenario {:?}.\n\
         # Layered over pitboss's defaults (deploy/pitboss.toml).\n",
        scn.name
    );
    text.push_str(&toml::to_string_pretty(&V::Table(root)).context("rendering TOML")?);
    Ok(text)
}

/// The scenario's traffic settings over a loaded configuration.
fn apply_sim(cfg: &mut Config, scn: &Scenario, rate: f64) {
    let s = &mut cfg.sim;
    let n = &scn.network;
    s.halls = n.halls;
    s.machines_per_hall = n.machines_per_hall;
    s.players = n.players;
    s.online_hall = n.online_hall.clone();
    s.seed = scn.seed;
    s.rate_events_per_sec = rate.round() as u64;
    s.bet_minor = scn.play.bet_minor.clone();
    s.bill_minor = scn.play.bill_minor.clone();
    s.progressive_hit_per_million = scn.play.progressive_hit_per_million;
    s.malformed_per_million = scn.play.malformed_per_million;
    if let Ok(d) = scn.play.rtp_percent.parse() {
        s.rtp_percent = d;
    }
    if let Ok(d) = scn.play.online_share_percent.parse() {
        s.online_share_percent = d;
    }
}

/// The `pitboss` binary: `explicit`, else next to this executable (test binaries live one
/// level deeper, in `deps/`).
pub fn locate_pitboss(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        anyhow::ensure!(p.is_file(), "--pitboss-bin {} is not a file", p.display());
        return Ok(p.to_path_buf());
    }
    let exe = std::env::current_exe().context("locating this executable")?;
    let mut dir = exe
        .parent()
        .ok_or_else(|| anyhow!("{} has no directory", exe.display()))?
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    let bin = dir.join(format!("pitboss{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        bail!(
            "no pitboss binary at {}: build it with `cargo build --bin pitboss` (same profile \
             and target directory as pitboss-load; `cargo build --release --bin pitboss` for a \
             release pitboss-load), or pass --pitboss-bin PATH",
            bin.display()
        );
    }
    Ok(bin)
}

fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} events {msg}",
        )
        .expect("valid template"),
    );
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// UTC time as `YYYYmmddTHHMMSSZ`.
pub fn utc_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// State shared by the producer (main thread) and the output consumer.
pub struct Shared {
    origin: Instant,
    /// Start of the schedule, ns after `origin` (u64::MAX until set).
    t0_ns: AtomicU64,
    /// Due time of simulator event `n` (ns after t0), by `n`.
    due_ns: Vec<AtomicU64>,
    seed: u64,
    warm_seen: AtomicUsize,
    final_seen: AtomicUsize,
    outputs: AtomicU64,
    finish: AtomicBool,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }
}

struct DeliveryCount {
    errors: AtomicU64,
    acked: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl ClientContext for DeliveryCount {}

impl ProducerContext for DeliveryCount {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        match r {
            Ok(_) => {
                self.acked.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                let mut f = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
                f.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// What the output consumer saw.
#[derive(Default)]
pub struct Observed {
    /// Last publication of each (hall, window): bets, wins, games.
    pub ggr: HashMap<(String, i64), (i64, i64, i64)>,
    /// Last published balance per player.
    pub balances: HashMap<String, i64>,
    /// Distinct jackpot hits: id -> (pool, level, amount).
    pub hits: HashMap<String, (String, u8, i64)>,
    /// Last published levels per pool: (level, amount, hits).
    pub levels: HashMap<String, Vec<(u8, i64, u64)>>,
    /// Distinct output ids per kind.
    pub ids: BTreeMap<&'static str, HashSet<String>>,
    /// Records per kind (duplicates included).
    pub records: BTreeMap<&'static str, u64>,
    /// Records that do not decode, with the first error.
    pub undecodable: (u64, Option<String>),
    /// Latency of each sampled event, microseconds.
    pub hist: Option<Histogram<u64>>,
    /// With --measure-broker: due time -> input record readable, microseconds.
    pub broker_hist: Option<Histogram<u64>>,
    /// Per second after t0: outputs, samples, and a latency histogram.
    pub per_sec: Vec<(u64, u64, Option<Histogram<u64>>)>,
    /// First output after t0, ns after t0.
    pub first_output_ns: Option<u64>,
    /// Last output, ns after t0.
    pub last_output_ns: Option<u64>,
    /// Arrival of the last latency sample (an output caused by a simulated event), ns
    /// after t0.
    pub last_sample_ns: Option<u64>,
}

struct Running {
    cfg: Config,
    shared: Arc<Shared>,
    producer: ThreadedProducer<DeliveryCount>,
    /// The events (key, bytes, carries a simulator event id), generated before t0.
    msgs: Vec<(String, Vec<u8>, bool)>,
    /// The reference processor, fed the same events, and the simulator's totals.
    reference: Option<(Direct, pitboss::sim::SentTotals)>,
    progress: ProgressBar,
    epoch0_ms: i64,
    sent_per_sec: Vec<u64>,
    send_lag_max_ns: u64,
    last_send_ns: u64,
    produced: u64,
    warm_sent: bool,
    caught_up_ns: u64,
    generate_secs: f64,
    harness_cpu_secs: f64,
    pitboss_cpu_secs: Option<f64>,
    consumer: Option<std::thread::JoinHandle<anyhow::Result<Observed>>>,
    out: PathBuf,
    machines: u64,
}

impl Running {
    fn new(
        cfg: &Config,
        scn: &Scenario,
        sched: &Schedule,
        out: PathBuf,
        progress: ProgressBar,
    ) -> anyhow::Result<Self> {
        let mut pc = pitboss::kafka::producer::producer_config(&cfg.kafka);
        // Gateways send at once; a long linger would be latency the harness adds.
        pc.set("linger.ms", "1");
        let producer: ThreadedProducer<DeliveryCount> = pc
            .create_with_context(DeliveryCount {
                errors: AtomicU64::new(0),
                acked: AtomicU64::new(0),
                first_error: Default::default(),
            })
            .context("creating the load producer")?;
        let n = sched.total as usize + 16;
        let shared = Arc::new(Shared {
            origin: Instant::now(),
            t0_ns: AtomicU64::new(u64::MAX),
            due_ns: (0..n).map(|_| AtomicU64::new(0)).collect(),
            seed: cfg.sim.seed,
            warm_seen: AtomicUsize::new(0),
            final_seen: AtomicUsize::new(0),
            outputs: AtomicU64::new(0),
            finish: AtomicBool::new(false),
        });
        Ok(Self {
            cfg: cfg.clone(),
            shared,
            producer,
            msgs: Vec::new(),
            reference: None,
            progress,
            epoch0_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            sent_per_sec: Vec::new(),
            send_lag_max_ns: 0,
            last_send_ns: 0,
            produced: 0,
            warm_sent: false,
            caught_up_ns: 0,
            generate_secs: 0.0,
            harness_cpu_secs: 0.0,
            pitboss_cpu_secs: None,
            consumer: None,
            out,
            machines: scn.machines(),
        })
    }

    fn start_consumer(&mut self, fetch_wait_ms: u32, input_too: bool) -> anyhow::Result<()> {
        let mut topics: Vec<String> = self
            .cfg
            .kafka
            .topics
            .outputs()
            .into_iter()
            .map(str::to_string)
            .collect();
        topics.sort();
        topics.dedup();
        let input = input_too.then(|| self.cfg.kafka.topics.input.clone());
        topics.extend(input.clone());
        let mut consumers = Vec::new();
        for t in &topics {
            let mut c = ClientConfig::new();
            for (k, v) in self.cfg.kafka.client_settings(&BTreeMap::new()) {
                c.set(k, v);
            }
            c.set("bootstrap.servers", &self.cfg.kafka.brokers)
                .set(
                    "group.id",
                    format!("{}.load-reader", self.cfg.kafka.group_id),
                )
                .set("enable.auto.commit", "false")
                .set("enable.partition.eof", "true")
                // The broker may hold a fetch this long: it bounds what the reader adds to
                // the measured latency.
                .set("fetch.wait.max.ms", fetch_wait_ms.to_string());
            let consumer: BaseConsumer = c.create().context("creating an output reader")?;
            let mut tpl = TopicPartitionList::new();
            for p in partition_ids(&consumer, t)? {
                tpl.add_partition_offset(t, p, Offset::Beginning)?;
            }
            consumer
                .assign(&tpl)
                .context("assigning output partitions")?;
            consumers.push((t.clone(), consumer));
        }
        let shared = self.shared.clone();
        self.consumer = Some(
            std::thread::Builder::new()
                .name("load-reader".into())
                .spawn(move || read_outputs(consumers, input, shared))?,
        );
        Ok(())
    }

    /// Sends one record; retries only when the local queue is full.
    fn send(
        &self,
        topic: &str,
        key: &str,
        bytes: &[u8],
        partition: Option<i32>,
        ts: i64,
        due: Option<u64>,
    ) {
        let mut rec = BaseRecord::to(topic).key(key).payload(bytes).timestamp(ts);
        if let Some(p) = partition {
            rec = rec.partition(p);
        }
        if let Some(d) = due {
            let v = d.to_be_bytes();
            rec = rec.headers(OwnedHeaders::new_with_capacity(1).insert(Header {
                key: DUE_HEADER,
                value: Some(&v[..]),
            }));
        }
        loop {
            match self.producer.send(rec) {
                Ok(()) => return,
                Err((_, r)) => {
                    rec = r;
                    self.producer.poll(Duration::from_millis(1));
                }
            }
        }
    }

    /// Generates every event before anything is timed (so the simulator's cost is not in
    /// the measured window) and feeds each to the reference processor.
    fn generate(&mut self, sched: &Schedule) -> anyhow::Result<()> {
        let mut sim = Simulator::new(&self.cfg).context("creating the simulator")?;
        let rc = self.cfg.runtime_config()?;
        let mut d = Direct::new(rc, &self.cfg.runtime.hit_point_secret);
        let mut msgs = Vec::with_capacity(sched.total as usize);
        for i in 0..sched.total {
            let ts = event_time_ms(self.epoch0_ms, sched, i);
            let malformed = sim.sent().malformed;
            let m = sim.next(ts);
            let has_id = sim.sent().malformed == malformed;
            if let Ok(input) = wire::decode_input(&m.bytes) {
                d.apply(input);
            }
            let key = if m.key.is_empty() {
                "-".to_string()
            } else {
                m.key
            };
            msgs.push((key, m.bytes, has_id));
            if i % 65_536 == 0 {
                self.progress.set_message(format!("generating events: {i}"));
            }
        }
        self.msgs = msgs;
        self.reference = Some((d, sim.sent().clone()));
        Ok(())
    }

    /// Offers the scheduled events (open loop) or, for a backlog, all of them at once.
    fn produce(&mut self, sched: &Schedule, backlog: bool) -> anyhow::Result<()> {
        let topic = self.cfg.kafka.topics.input.clone();
        let shared = self.shared.clone();
        let t0 = if backlog {
            shared.now_ns()
        } else {
            shared.t0_ns.load(Ordering::Relaxed)
        };
        let mut n: usize = 0;
        let msgs = std::mem::take(&mut self.msgs);
        for (i, (key, bytes, has_id)) in (0u64..).zip(msgs.iter()) {
            let due = (sched.due_secs(i) * 1e9) as u64;
            let mut now = shared.now_ns().saturating_sub(t0);
            if !backlog {
                // Sleep until the event is due (at least 100 us: the events that fall due
                // meanwhile go out together). No spinning: the harness shares the cores
                // with the broker and pitboss.
                while now < due {
                    std::thread::sleep(Duration::from_nanos((due - now).max(100_000)));
                    now = shared.now_ns().saturating_sub(t0);
                }
                self.send_lag_max_ns = self.send_lag_max_ns.max(now - due);
            }
            let ts = event_time_ms(self.epoch0_ms, sched, i);
            if *has_id {
                n += 1;
                if let Some(slot) = shared.due_ns.get(n) {
                    slot.store(if backlog { 0 } else { due }, Ordering::Relaxed);
                }
            }
            self.send(&topic, key, bytes, None, ts, (!backlog).then_some(due));
            let sec = (now / 1_000_000_000) as usize;
            if self.sent_per_sec.len() <= sec {
                self.sent_per_sec.resize(sec + 1, 0);
            }
            self.sent_per_sec[sec] += 1;
            self.produced += 1;
            if i % 2048 == 0 {
                self.progress.set_position(i);
                let secs = now as f64 / 1e9;
                if !backlog && secs > 0.5 {
                    self.progress.set_message(format!(
                        "offering: sent {:.0} ev/s, send lag {:.1} ms, outputs {}",
                        i as f64 / secs,
                        (now.saturating_sub(due)) as f64 / 1e6,
                        shared.outputs.load(Ordering::Relaxed)
                    ));
                }
            }
        }
        self.last_send_ns = shared.now_ns().saturating_sub(t0);
        self.progress.set_position(sched.total);
        Ok(())
    }

    /// One deposit per input partition, to a player of its own.
    fn produce_sentinels(&mut self, kind: char, partitions: i32) -> anyhow::Result<()> {
        let topic = self.cfg.kafka.topics.input.clone();
        for p in 0..partitions {
            let (key, bytes) = sentinel(&self.cfg, kind, p);
            let ts = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            self.send(&topic, &key, &bytes, Some(p), ts, None);
        }
        if kind == 'W' {
            self.warm_sent = true;
        }
        Ok(())
    }

    fn flush_producer(&self) -> anyhow::Result<()> {
        self.producer
            .flush(Duration::from_secs(300))
            .context("the broker did not acknowledge the produced events")?;
        let ctx = self.producer.context();
        let errors = ctx.errors.load(Ordering::Relaxed);
        if errors > 0 {
            bail!(
                "{errors} events were not delivered to the broker (first error: {})",
                ctx.first_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                    .unwrap_or_default()
            );
        }
        Ok(())
    }

    fn wait_sentinels(
        &mut self,
        kind: char,
        partitions: i32,
        timeout: Duration,
        mut child: Option<&mut ChildGuard>,
    ) -> anyhow::Result<()> {
        let counter = if kind == 'W' {
            &self.shared.warm_seen
        } else {
            &self.shared.final_seen
        };
        let deadline = Instant::now() + timeout;
        let mut last_poll = Instant::now();
        while counter.load(Ordering::Relaxed) < partitions as usize {
            if let Some(c) = child.as_deref_mut() {
                c.check_running()?;
            }
            if Instant::now() > deadline {
                bail!(
                    "pitboss answered {} of the {partitions} {} sentinel deposits within {timeout:?} \
                     (it has not consumed every input partition); outputs seen so far: {}",
                    counter.load(Ordering::Relaxed),
                    if kind == 'W' { "warm-up" } else { "final" },
                    self.shared.outputs.load(Ordering::Relaxed)
                );
            }
            if last_poll.elapsed() > Duration::from_millis(100) {
                // Delivery reports (and errors) are served by the producer's own thread;
                // this only refreshes the progress message.
                self.progress.set_message(format!(
                    "waiting for pitboss: {} outputs read",
                    self.shared.outputs.load(Ordering::Relaxed)
                ));
                last_poll = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }

    fn finish_consumer(&mut self, timeout: Duration) -> anyhow::Result<Observed> {
        self.shared.finish.store(true, Ordering::Relaxed);
        let h = self
            .consumer
            .take()
            .ok_or_else(|| anyhow!("the output reader was not started"))?;
        let deadline = Instant::now() + timeout;
        while !h.is_finished() {
            if Instant::now() > deadline {
                bail!("the output topics were not read to their end within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        h.join()
            .map_err(|_| anyhow!("the output reader panicked"))?
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        scn: &Scenario,
        sched: &Schedule,
        args: &RunArgs,
        obs: Observed,
        accounting: Accounting,
        exit_code: Option<i32>,
        cfg_path: &Path,
    ) -> Report {
        let events = sched.total;
        // Caught up: pitboss had answered every final sentinel (it had consumed every
        // event) and the last event that causes an output had its output (events consumed
        // before a sentinel may still be in an actor's mailbox when the sentinel's answer
        // arrives).
        let t0 = self.shared.t0_ns.load(Ordering::Relaxed);
        let caught_up_ns = self
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
            obs.per_sec.len().max(self.sent_per_sec.len())
        };
        let timeline: Vec<Second> = (0..secs)
            .map(|s| {
                let (outputs, samples, h) = obs.per_sec.get(s).map_or((0, 0, None), |x| {
                    (x.0, x.1, x.2.as_ref().map(|h| h.value_at_quantile(0.99)))
                });
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
                        self.sent_per_sec.get(s).copied().unwrap_or(0)
                    },
                    outputs,
                    latency_samples: samples,
                    p99_ms: h.map(|v| v as f64 / 1000.0),
                }
            })
            .collect();
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
                UNIX_EPOCH + Duration::from_millis(self.epoch0_ms.max(0) as u64),
            ),
            brokers: args.brokers.clone(),
            spawned: args.spawn,
            pitboss_config: cfg_path.display().to_string(),
            pitboss_exit_code: exit_code,
            shape: format!("{:?}", scn.rate.shape).to_lowercase(),
            machines: self.machines,
            players: u64::from(scn.network.players),
            input_partitions: self.cfg.kafka.partitions.input,
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
            sent_secs: self.last_send_ns as f64 / 1e9,
            sent_events_per_sec: self.produced as f64 / (self.last_send_ns as f64 / 1e9).max(1e-9),
            send_lag_max_ms: self.send_lag_max_ns as f64 / 1e6,
            caught_up_secs: caught_up_s,
            achieved_events_per_sec: events as f64 / caught_up_s.max(1e-9),
            drain_secs: drain.map(|d| d.0),
            drain_events_per_sec: drain.map(|d| d.1),
            latency,
            broker_latency,
            latency_coverage: if events > 0 {
                latency.samples as f64 / events as f64
            } else {
                0.0
            },
            outputs_distinct: counts,
            output_records: records,
            accounting,
            percentile_curve: curve,
            timeline,
            report_dir: self.out.display().to_string(),
            generate_secs: self.generate_secs,
            harness_cpu_secs: self.harness_cpu_secs,
            pitboss_cpu_secs: self.pitboss_cpu_secs,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        }
    }
}

/// User + system CPU seconds of this process (`RUSAGE_SELF`) or of its reaped children
/// (`RUSAGE_CHILDREN`).
fn cpu_secs(who: libc::c_int) -> f64 {
    // SAFETY: rusage is plain integers, for which all zeroes is a valid value.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we pass, which lives for the call.
    if unsafe { libc::getrusage(who, &mut u) } != 0 {
        return 0.0;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Event time of event `i`: the run's start (wall clock) plus its due time.
fn event_time_ms(epoch0_ms: i64, sched: &Schedule, i: u64) -> i64 {
    epoch0_ms + (sched.due_secs(i) * 1000.0) as i64
}

fn sentinel(cfg: &Config, kind: char, partition: i32) -> (String, Vec<u8>) {
    let player = format!("P-LOAD{kind}-{partition:04}");
    let id = (u128::from(SENTINEL_TAG) << 64) | ((kind as u128) << 32) | partition as u128;
    let env = InputEnvelope {
        event_id: uuid::Uuid::from_u128(id).hyphenated().to_string(),
        schema_version: 1,
        source: Source {
            hall: cfg.sim.online_hall.clone(),
            machine: None,
            server: Some("GS-LOAD".into()),
        },
        seq: 1,
        event_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        payload: InputPayload::Deposit {
            player: player.clone(),
            tx: format!("{player}-1"),
            amount: SENTINEL_MINOR,
            currency: cfg.network.currency.clone(),
        },
    };
    (player, env.to_bytes())
}

fn sentinel_kind(player: &str) -> Option<char> {
    let rest = player.strip_prefix("P-LOAD")?;
    let k = rest.chars().next()?;
    (rest[1..].starts_with('-') && (k == 'W' || k == 'F')).then_some(k)
}

fn partition_ids(c: &BaseConsumer, topic: &str) -> anyhow::Result<Vec<i32>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let md = c
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .with_context(|| format!("metadata of {topic}"))?;
        if let Some(t) = md.topics().iter().find(|t| t.name() == topic) {
            if !t.partitions().is_empty() {
                return Ok(t.partitions().iter().map(|p| p.id()).collect());
            }
        }
        if Instant::now() > deadline {
            bail!("topic {topic} does not exist (did `pitboss topics create` run?)");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn input_partitions(cfg: &Config) -> anyhow::Result<i32> {
    let mut c = ClientConfig::new();
    for (k, v) in cfg.kafka.client_settings(&BTreeMap::new()) {
        c.set(k, v);
    }
    let consumer: BaseConsumer = c
        .set("bootstrap.servers", &cfg.kafka.brokers)
        .create()
        .context("creating a metadata client")?;
    Ok(partition_ids(&consumer, &cfg.kafka.topics.input)?.len() as i32)
}

fn new_hist(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, sigfig).expect("valid histogram bounds")
}

/// The output reader: every partition of every output topic, from the beginning.
fn read_outputs(
    consumers: Vec<(String, BaseConsumer)>,
    input: Option<String>,
    shared: Arc<Shared>,
) -> anyhow::Result<Observed> {
    let mut obs = Observed {
        hist: Some(new_hist(3)),
        ..Observed::default()
    };
    let n_ids = shared.due_ns.len();
    let mut sampled = vec![0u64; n_ids / 64 + 1];
    let mut sentinels: HashSet<String> = HashSet::new();
    // (topic, partition) -> at end of log.
    let mut eof: HashMap<(usize, i32), bool> = HashMap::new();
    let mut quiet_rounds = 0u32;
    loop {
        let mut got = false;
        for (ti, (topic, c)) in consumers.iter().enumerate() {
            for _ in 0..1024 {
                let m = match c.poll(Duration::ZERO) {
                    None => break,
                    Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                        eof.insert((ti, p), true);
                        continue;
                    }
                    Some(Err(e)) => return Err(anyhow!("reading {topic}: {e}")),
                    Some(Ok(m)) => m,
                };
                got = true;
                eof.insert((ti, m.partition()), false);
                let now = shared.now_ns();
                let t0 = shared.t0_ns.load(Ordering::Relaxed);
                let since_t0 = (t0 != u64::MAX && now >= t0).then(|| now - t0);
                if input.as_deref() == Some(topic.as_str()) {
                    // The broker floor: an input record readable by a consumer.
                    let due = m
                        .headers()
                        .and_then(|h| h.iter().find(|x| x.key == DUE_HEADER))
                        .and_then(|x| x.value)
                        .and_then(|v| <[u8; 8]>::try_from(v).ok())
                        .map(u64::from_be_bytes);
                    if let (Some(s), Some(due)) = (since_t0, due) {
                        obs.broker_hist
                            .get_or_insert_with(|| new_hist(3))
                            .saturating_record((s.saturating_sub(due) / 1000).max(1));
                    }
                    continue;
                }
                shared.outputs.fetch_add(1, Ordering::Relaxed);
                if let Some(s) = since_t0 {
                    obs.first_output_ns.get_or_insert(s);
                    obs.last_output_ns = Some(s);
                }
                let sec = since_t0.map(|s| (s / 1_000_000_000) as usize);
                if let Some(sec) = sec {
                    if obs.per_sec.len() <= sec {
                        obs.per_sec.resize_with(sec + 1, || (0, 0, None));
                    }
                    obs.per_sec[sec].0 += 1;
                }
                // Latency: from the cause's due time.
                if let (Some(s), Some(h)) = (since_t0, m.headers()) {
                    let cause = h
                        .iter()
                        .find(|x| x.key == CAUSE_HEADER)
                        .and_then(|x| x.value);
                    if let Some(id) = cause
                        .and_then(|v| std::str::from_utf8(v).ok())
                        .and_then(|v| uuid::Uuid::parse_str(v).ok())
                    {
                        let v = id.as_u128();
                        let n = v as u64 as usize;
                        if (v >> 64) as u64 == shared.seed
                            && n < n_ids
                            && sampled[n / 64] & (1 << (n % 64)) == 0
                        {
                            sampled[n / 64] |= 1 << (n % 64);
                            obs.last_sample_ns = Some(s);
                            let due = shared.due_ns[n].load(Ordering::Relaxed);
                            let us = (s.saturating_sub(due) / 1000).max(1);
                            if let Some(hist) = obs.hist.as_mut() {
                                hist.saturating_record(us);
                            }
                            if let Some(sec) = sec {
                                let slot = &mut obs.per_sec[sec];
                                slot.1 += 1;
                                slot.2
                                    .get_or_insert_with(|| new_hist(2))
                                    .saturating_record(us);
                            }
                        }
                    }
                }
                let payload = m.payload().unwrap_or_default();
                let ev = match wire::decode_output(payload) {
                    Ok(ev) => ev,
                    Err(e) => {
                        obs.undecodable.0 += 1;
                        obs.undecodable.1.get_or_insert_with(|| {
                            format!("{topic}/{}@{}: {e}", m.partition(), m.offset())
                        });
                        continue;
                    }
                };
                let kind = ev.kind();
                *obs.records.entry(kind).or_insert(0) += 1;
                obs.ids
                    .entry(kind)
                    .or_default()
                    .insert(ev.output_id().to_string());
                match ev {
                    OutputEvent::Ggr(g) => {
                        let p = g.payload;
                        obs.ggr.insert(
                            (p.hall.to_string(), p.window_start),
                            (p.bets, p.wins, p.games),
                        );
                    }
                    OutputEvent::Wallet(w) => {
                        let p = w.payload;
                        if let Some(k) = sentinel_kind(&p.player) {
                            if sentinels.insert(p.player.to_string()) {
                                let c = if k == 'W' {
                                    &shared.warm_seen
                                } else {
                                    &shared.final_seen
                                };
                                c.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        obs.balances.insert(p.player.to_string(), p.balance);
                    }
                    OutputEvent::JackpotHit(h) => {
                        let p = h.payload;
                        obs.hits.insert(
                            h.output_id.to_string(),
                            (p.pool.to_string(), p.level, p.amount),
                        );
                    }
                    OutputEvent::JackpotLevels(l) => {
                        let p = l.payload;
                        obs.levels.insert(
                            p.pool.to_string(),
                            p.levels
                                .iter()
                                .map(|x| (x.level, x.amount, x.hits))
                                .collect(),
                        );
                    }
                    _ => {}
                }
            }
        }
        if got {
            quiet_rounds = 0;
            continue;
        }
        if shared.finish.load(Ordering::Relaxed) {
            let parts: usize = consumers
                .iter()
                .map(|(_, c)| c.assignment().map_or(0, |a| a.count()))
                .sum();
            let at_end = eof.len() >= parts && eof.values().all(|e| *e);
            quiet_rounds = if at_end { quiet_rounds + 1 } else { 0 };
            if quiet_rounds >= 20 {
                return Ok(obs);
            }
            std::thread::sleep(Duration::from_millis(10));
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// A `pitboss run` child process; killed on drop if still running.
struct ChildGuard {
    child: Child,
    stderr_log: PathBuf,
}

impl ChildGuard {
    fn spawn(bin: &Path, cfg: &Path, out: &Path) -> anyhow::Result<Self> {
        let stderr_log = out.join("pitboss.stderr.log");
        let stdout_log = out.join("pitboss.stdout.log");
        let child = Command::new(bin)
            .arg("--config")
            .arg(cfg)
            .arg("run")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_log)?)
            .stderr(std::fs::File::create(&stderr_log)?)
            .spawn()
            .with_context(|| format!("starting {} run", bin.display()))?;
        Ok(Self { child, stderr_log })
    }

    fn tail(&self) -> String {
        let s = std::fs::read_to_string(&self.stderr_log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "pitboss exited early ({status}); the end of {}:\n{}",
                self.stderr_log.display(),
                self.tail()
            );
        }
        Ok(())
    }

    /// SIGTERM, then waits for the exit; it must be 0.
    fn terminate(&mut self, timeout: Duration) -> anyhow::Result<i32> {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on the pid of a child we started and have not reaped.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let code = status.code().unwrap_or(-1);
                if !status.success() {
                    bail!(
                        "pitboss did not stop cleanly after SIGTERM ({status}); the end of {}:\n{}",
                        self.stderr_log.display(),
                        self.tail()
                    );
                }
                return Ok(code);
            }
            if Instant::now() > deadline {
                bail!("pitboss did not exit within {timeout:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What the reference processor ends with, and what the simulator says it sent.
pub struct Expected {
    /// Every entity's state.
    pub snapshots: Vec<Snapshot>,
    /// Their recount.
    pub recount: Recount,
    /// The simulator's own totals.
    pub sent: pitboss::sim::SentTotals,
    /// Sentinel deposits, minor units.
    pub sentinel_deposits: i64,
}

fn expected(
    cfg: &Config,
    reference: Option<(Direct, pitboss::sim::SentTotals)>,
    partitions: i32,
    warm: bool,
) -> anyhow::Result<Expected> {
    let (mut d, sent) = reference.ok_or_else(|| anyhow!("no events were generated"))?;
    let mut sentinel_deposits = 0;
    let mut kinds = vec!['F'];
    if warm {
        kinds.push('W');
    }
    for k in kinds {
        for p in 0..partitions {
            let (_, bytes) = sentinel(cfg, k, p);
            d.apply(wire::decode_input(&bytes).context("a sentinel does not decode")?);
            sentinel_deposits += SENTINEL_MINOR;
        }
    }
    let snapshots = d.snapshots();
    Ok(Expected {
        recount: recount(&snapshots),
        snapshots,
        sent,
        sentinel_deposits,
    })
}

fn stored_state(cfg: &Config) -> anyhow::Result<Vec<Snapshot>> {
    let store = pitboss::store::open_embedded(&cfg.store).with_context(|| {
        format!(
            "opening the embedded store in {}",
            cfg.store.data_dir.display()
        )
    })?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(store.all())
        .map_err(|e| anyhow!("reading the embedded store: {e}"))
}

/// The accounting check.
///
/// - The simulator's own totals against the reference processor's recount (a self-check
///   of the harness).
/// - Published: final wallet balance of every player (pitboss's last wallet output) equal
///   to the reference's; rejections equal to the malformed messages sent; with `--spawn`
///   (pitboss stopped cleanly, so every GGR window is published) bets, wins and games per
///   hall summed over each window's last publication equal to the reference's.
/// - Jackpots: which machine's contribution crosses a mystery hit point depends on the
///   order in which contributions from different machines reach the pool, so hit counts
///   and amounts are not compared with the single-threaded reference; they are compared
///   between what pitboss published (distinct hits per pool and level, final levels) and
///   what it stored.
/// - Stored (`--spawn`, embedded store): the order-independent totals of the recount (cash
///   in and out, deposits, withdrawals, balances, bets, wins, games, GGR, contributions)
///   equal to the reference's, and the stored state's own conservation check.
pub fn check(e: &Expected, o: &Observed, stored: Option<&[Snapshot]>, spawned: bool) -> Accounting {
    let mut checks = Vec::new();
    let mut push = |name: &str, diffs: Vec<String>, skipped: Option<String>| {
        checks.push(Check {
            name: name.to_string(),
            ok: diffs.is_empty(),
            skipped,
            differences: diffs,
        });
    };

    // 1. Harness self-check.
    let mut r = e.recount.clone();
    r.deposits -= e.sentinel_deposits;
    let mut d = Vec::new();
    let s = &e.sent;
    for (name, sent, got) in [
        ("cash_in", s.cash_in, r.cash_in),
        ("cash_out", s.cash_out, r.cash_out),
        ("deposits", s.deposits, r.deposits),
        ("withdrawals", s.withdrawals, r.withdrawals),
        ("bets", s.bets, r.bets),
        ("wins", s.wins, r.wins),
    ] {
        if sent != got {
            d.push(format!(
                "{name}: simulator sent {sent}, reference applied {got}"
            ));
        }
    }
    if !e.recount.conservation_ok {
        d.push("the reference processor's recount does not balance".into());
    }
    push("simulator = reference processor", d, None);

    // 2. Wallet balances.
    let mut exp_bal: BTreeMap<String, i64> = BTreeMap::new();
    let mut exp_halls: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for snap in &e.snapshots {
        match snap {
            Snapshot::Wallet(w) => {
                exp_bal.insert(w.id.to_string(), w.balance);
            }
            Snapshot::Hall(h) => {
                exp_halls.insert(
                    h.id.to_string(),
                    (h.totals.bets, h.totals.wins, h.totals.games),
                );
            }
            _ => {}
        }
    }
    let mut d = Vec::new();
    let players: std::collections::BTreeSet<&String> =
        exp_bal.keys().chain(o.balances.keys()).collect();
    for p in players {
        let (want, got) = (exp_bal.get(p), o.balances.get(p));
        if want.copied().unwrap_or(0) != got.copied().unwrap_or(0) {
            d.push(format!(
                "wallet {p}: expected balance {}, published {}",
                want.map_or("none".into(), |v| v.to_string()),
                got.map_or("none".into(), |v| v.to_string())
            ));
        }
    }
    push("wallet balances (published)", d, None);

    // 3. Rejections.
    let rejected = o.ids.get("rejected").map_or(0, HashSet::len) as u64;
    let mut d = Vec::new();
    if rejected != e.sent.malformed {
        d.push(format!(
            "rejections: {} malformed messages sent, {rejected} rejections published",
            e.sent.malformed
        ));
    }
    if o.undecodable.0 > 0 {
        d.push(format!(
            "{} output records do not decode (first: {})",
            o.undecodable.0,
            o.undecodable.1.clone().unwrap_or_default()
        ));
    }
    push("rejections and output decoding", d, None);

    // 4. GGR per hall.
    if spawned {
        let mut got: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
        for ((hall, _), (b, w, g)) in &o.ggr {
            let x = got.entry(hall.clone()).or_default();
            x.0 += b;
            x.1 += w;
            x.2 += g;
        }
        let mut d = Vec::new();
        let halls: std::collections::BTreeSet<&String> =
            exp_halls.keys().chain(got.keys()).collect();
        for h in halls {
            let want = exp_halls.get(h).copied().unwrap_or_default();
            let have = got.get(h).copied().unwrap_or_default();
            if want != have {
                d.push(format!(
                    "hall {h}: expected bets/wins/games {want:?} (GGR {}), published {have:?} (GGR {})",
                    want.0 - want.1,
                    have.0 - have.1
                ));
            }
        }
        push("GGR per hall (published)", d, None);
    } else {
        push(
            "GGR per hall (published)",
            Vec::new(),
            Some("open GGR windows are published when pitboss stops: needs --spawn".into()),
        );
    }

    // 5. Jackpots and 6. the stored state.
    let stored = stored.filter(|s| !s.is_empty());
    match stored {
        Some(st) => {
            let mut pools: BTreeMap<(String, u8), (u64, i64, i64)> = BTreeMap::new();
            for snap in st {
                if let Snapshot::Pool(p) = snap {
                    for (i, l) in p.levels.iter().enumerate() {
                        pools.insert((p.id.to_string(), i as u8), (l.hits, l.paid, l.level));
                    }
                }
            }
            let mut hits: BTreeMap<(String, u8), (u64, i64)> = BTreeMap::new();
            for (pool, level, amount) in o.hits.values() {
                let x = hits.entry((pool.clone(), *level)).or_default();
                x.0 += 1;
                x.1 += amount;
            }
            let mut d = Vec::new();
            for ((pool, level), (h, paid, amount)) in &pools {
                let (ph, ppaid) = hits
                    .get(&(pool.clone(), *level))
                    .copied()
                    .unwrap_or_default();
                if (ph, ppaid) != (*h, *paid) {
                    d.push(format!(
                        "pool {pool} level {level}: stored {h} hits paying {paid}, published {ph} hits paying {ppaid}"
                    ));
                }
                let published_level = o
                    .levels
                    .get(pool)
                    .and_then(|v| v.iter().find(|x| x.0 == *level))
                    .map(|x| x.1);
                if published_level.is_some_and(|v| v != *amount) {
                    d.push(format!(
                        "pool {pool} level {level}: stored amount {amount}, last published {}",
                        published_level.unwrap_or_default()
                    ));
                }
            }
            for k in hits.keys() {
                if !pools.contains_key(k) {
                    d.push(format!(
                        "pool {} level {}: hits published, none stored",
                        k.0, k.1
                    ));
                }
            }
            push("jackpot hits and levels (published = stored)", d, None);

            let sr = recount(st);
            let er = &e.recount;
            let mut d = Vec::new();
            for (name, want, got) in [
                ("cash_in", er.cash_in, sr.cash_in),
                ("cash_out", er.cash_out, sr.cash_out),
                ("deposits", er.deposits, sr.deposits),
                ("withdrawals", er.withdrawals, sr.withdrawals),
                ("wallet balances", er.balances, sr.balances),
                ("bets", er.bets, sr.bets),
                ("wins", er.wins, sr.wins),
                ("games", er.games, sr.games),
                ("ggr", er.ggr, sr.ggr),
            ] {
                if want != got {
                    d.push(format!("{name}: expected {want}, stored {got}"));
                }
            }
            if er.contributions_micro != sr.contributions_micro {
                d.push(format!(
                    "jackpot contributions (micro-units): expected {}, stored {}",
                    er.contributions_micro, sr.contributions_micro
                ));
            }
            if !sr.conservation_ok {
                d.push(format!(
                    "the stored state does not balance: entered {} micro-units, accounted {}",
                    sr.entered_micro, sr.accounted_micro
                ));
            }
            let hits_published = o.hits.len() as u64;
            if sr.jackpot_hits != hits_published {
                d.push(format!(
                    "jackpot hits: stored {}, published {hits_published}",
                    sr.jackpot_hits
                ));
            }
            push("stored state (recount)", d, None);
        }
        None => {
            let why = if spawned {
                "the embedded store is empty or not used: this `pitboss run` did not store state"
            } else {
                "pitboss's store is not read without --spawn"
            };
            push(
                "jackpot hits and levels (published = stored)",
                Vec::new(),
                Some(why.into()),
            );
            push("stored state (recount)", Vec::new(), Some(why.into()));
        }
    }

    let ok = checks.iter().all(|c| c.ok);
    Accounting {
        ok,
        expected: crate::report::ExpectedTotals::from(&e.recount, e.sentinel_deposits),
        published_hits: o.hits.len() as u64,
        checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            utc_stamp(UNIX_EPOCH + Duration::from_secs(1_795_000_000)),
            "20261118T110640Z"
        );
    }

    /// The check passes on outputs that agree with the reference and fails, naming the
    /// difference, on one that does not.
    #[test]
    fn accounting_finds_a_wrong_balance() {
        let mut cfg = Config::load_with_env(None, Vec::new()).unwrap();
        cfg.sim.halls = 1;
        cfg.sim.machines_per_hall = 5;
        cfg.sim.players = 5;
        cfg.sim.malformed_per_million = 0;
        let mut sim = Simulator::new(&cfg).unwrap();
        let mut d = Direct::new(cfg.runtime_config().unwrap(), &cfg.runtime.hit_point_secret);
        for i in 0..2000 {
            let m = sim.next(1_800_000_000_000 + i);
            d.apply(wire::decode_input(&m.bytes).unwrap());
        }
        let e = expected(&cfg, Some((d, sim.sent().clone())), 2, false).unwrap();
        let mut o = Observed::default();
        for snap in &e.snapshots {
            if let Snapshot::Wallet(w) = snap {
                o.balances.insert(w.id.to_string(), w.balance);
            }
        }
        let a = check(&e, &o, None, false);
        assert!(a.ok, "{:?}", a.checks);
        let (player, balance) = o
            .balances
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), *v))
            .unwrap();
        o.balances.insert(player.clone(), balance + 1);
        let a = check(&e, &o, None, false);
        assert!(!a.ok);
        let c = a.checks.iter().find(|c| !c.ok).unwrap();
        assert!(c.differences[0].contains(&player), "{:?}", c.differences);
        // With --spawn, missing GGR windows are a difference too.
        let a = check(&e, &Observed::default(), None, true);
        assert!(a.checks.iter().any(|c| c.name.starts_with("GGR") && !c.ok));
    }

    #[test]
    fn sentinel_players() {
        assert_eq!(sentinel_kind("P-LOADW-0003"), Some('W'));
        assert_eq!(sentinel_kind("P-LOADF-0000"), Some('F'));
        assert_eq!(sentinel_kind("P-0000001"), None);
        let cfg = Config::load_with_env(None, Vec::new()).unwrap();
        let (key, bytes) = sentinel(&cfg, 'F', 3);
        assert_eq!(key, "P-LOADF-0003");
        wire::decode_input(&bytes).unwrap();
    }
}
