//! `pitboss-load run`: offers a scenario to a pitboss over Kafka, open loop, measures the
//! end-to-end latency and the throughput, and checks the money at the end.
//!
//! # How a run goes
//!
//! 1. The scenario becomes a pitboss configuration (`pitboss.toml` in the report
//!    directory, pitboss's own `Config` serialised): `network`, `sim` and `pools` from the
//!    scenario; topic names and the group id unique to the run; with `--spawn` a fresh data
//!    directory (embedded store) and HTTP on a free loopback port (the harness reads its
//!    `/metrics`).
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
//!    `arrival - due` (HdrHistogram, microseconds), once per event (its first output), and
//!    per output kind (once per event and kind). An aggregate (a pool's level update, a GGR
//!    window) names the latest input it is the first to include and counts how many it
//!    includes (`pitboss-cause-count`). GGR windows are published when their hall's event
//!    time has passed them by the grace period or at shutdown (RULES.md H-2): their latency
//!    is the window rule's, so they are reported apart and left out of the headline. The
//!    coverage (`summary::coverage`): the share of events named by a headline output, or
//!    carried by a timed level update (and, reported apart, by a GGR window); which events
//!    reach a pool or a hall is known from the reference processor's deliveries.
//! 6. End: one more deposit per input partition (the "final sentinels"). Partitions are
//!    ordered, so when pitboss has answered every sentinel it has consumed every event.
//!    With `--spawn` pitboss is then stopped with SIGTERM (it must exit 0; it drains what
//!    is in flight and publishes every open GGR window and changed pool level), and the
//!    output topics are read to their end.
//! 7. Resources (with `--spawn`): pitboss's CPU time (`getrusage(RUSAGE_CHILDREN)` once
//!    it has exited, less what `topics create` used), and once a second from t0 until the
//!    SIGTERM its resident memory and live actors (`sampler`), hence the memory per live
//!    entity.
//! 8. Accounting: every event is generated before t0 (the simulator's cost stays out of
//!    the measured window) and applied to the reference processor
//!    (`pitboss::direct::Direct`) then; its end state is compared with what pitboss
//!    published and stored, see [`check::check`].
//!
//! One concern a file: `config` (the scenario as pitboss's typed configuration), `child`
//! (the spawned `pitboss run`), `sentinel` (the harness's own deposits), `sender` (the
//! open-loop producer), `reader` (the output reader and latency), `check` (the accounting
//! check), `sampler` (pitboss's memory and live actors), `summary` (the report of a run).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use pitboss::config::Config;

use crate::report::Report;
use crate::scenario::Scenario;

pub(crate) mod chaos;
mod check;
mod child;
mod config;
mod reader;
mod sampler;
mod sender;
pub(crate) use sender::DeliveryCount;
mod sentinel;
mod summary;

use child::PitbossChild;
use reader::Reader;
use sampler::{MemorySummary, Sampler};
use sender::Sender;
use sentinel::{Round, SENTINEL_TAG};

/// Options of `pitboss-load run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The scenario file (load-tests/scenarios/*.toml).
    #[arg(long)]
    pub scenario: PathBuf,
    /// Bootstrap servers of the broker (or --spawn-broker).
    #[arg(
        long,
        required_unless_present = "spawn_broker",
        conflicts_with = "spawn_broker"
    )]
    pub brokers: Option<String>,
    /// Start a Tansu broker for the run whose data survives a restart (storage `s3://` on
    /// moto's S3 server, installed by scripts/install-moto.sh): the broker a `[chaos]`
    /// scenario with `broker-restarts` restarts. Logs in the report directory.
    #[arg(long)]
    pub spawn_broker: bool,
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
    /// Default 5, or 500 with --spawn-broker: Tansu on S3 lists the partition's objects at
    /// every fetch, and short waits swamp the S3 server.
    #[arg(long)]
    pub reader_fetch_wait_ms: Option<u32>,
    /// `linger.ms` of the harness's producer: how long it gathers events into one produce
    /// request. 1 sends at once, as a gateway would; a longer linger makes fewer, larger
    /// requests (less broker CPU per event) and adds up to that much to each latency.
    #[arg(long, default_value_t = 1)]
    pub sender_linger_ms: u32,
    /// Also read the input topic back and measure due time -> input record readable
    /// (the broker's own share of the latency, without pitboss). Costs harness and broker
    /// CPU.
    #[arg(long)]
    pub measure_broker: bool,
    /// The broker's process on this machine (a broker you started): its CPU time is
    /// sampled once a second and reported (`broker_cpu_secs`, per event and per second).
    /// A broker the harness starts (--spawn-broker) is measured without it.
    #[arg(long, conflicts_with = "spawn_broker")]
    pub broker_pid: Option<u32>,
    /// The seed of a `[chaos]` scenario's faults (default: the scenario's `chaos.seed`):
    /// the seed a failed run printed replays its plan.
    #[arg(long)]
    pub chaos_seed: Option<u64>,
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
    let prefix = testkit::unique(&format!("load-{}", scn.name));

    if let Some(path) = &args.write_config {
        let Some(brokers) = &args.brokers else {
            bail!("--write-config writes the configuration of a pitboss you start: give --brokers");
        };
        let data = path.with_extension("data");
        let cfg = config::pitboss_config(&scn, brokers, &prefix, &data, sched.peak_rate())?;
        config::write(path, &scn, &cfg)?;
        eprintln!(
            "wrote {} (data directory {}): start `pitboss topics create --config {0}` and \
             `pitboss run --config {0}`, then `pitboss-load run --scenario {} --brokers {} \
             --pitboss-config {0}`",
            path.display(),
            data.display(),
            args.scenario.display(),
            brokers
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
    // A chaos run: the instances' shared CQL store, served by the harness.
    let chaos_spec = scn.chaos.clone();
    anyhow::ensure!(
        chaos_spec.is_none() || args.spawn,
        "a [chaos] scenario starts its pitboss instances itself: run it with --spawn"
    );
    let shared_store = match &chaos_spec {
        Some(_) => Some(Arc::new(chaos::SharedStore::start()?)),
        None => None,
    };
    let restarts = chaos_spec.as_ref().map_or(0, |c| c.broker_restarts);
    anyhow::ensure!(
        restarts == 0 || args.spawn_broker,
        "the scenario restarts the broker (chaos.broker-restarts = {restarts}): only a broker \
         the harness starts can be restarted, run it with --spawn-broker"
    );
    // The broker the harness starts (--spawn-broker): shared with the fault thread, which
    // restarts it.
    let spawned_broker = if args.spawn_broker {
        eprintln!(
            "pitboss-load: starting a durable broker (Tansu on moto's S3; logs in {})",
            out.display()
        );
        let b = testkit::DurableBroker::start(&out).map_err(|e| anyhow!("--spawn-broker: {e}"))?;
        Some(Arc::new(Mutex::new(b)))
    } else {
        None
    };
    let brokers = match (&spawned_broker, &args.brokers) {
        (Some(b), _) => b.lock().unwrap_or_else(|p| p.into_inner()).addr.clone(),
        (None, Some(b)) => b.clone(),
        (None, None) => bail!("give --brokers HOST:PORT or --spawn-broker"),
    };
    let mut instance_cfgs = Vec::new();
    let cfg_path = match (&args.pitboss_config, args.spawn) {
        (Some(_), true) => bail!("--pitboss-config is for a pitboss you started; not with --spawn"),
        (Some(p), false) => p.clone(),
        (None, true) => {
            let p = out.join("pitboss.toml");
            let mut cfg = config::pitboss_config(
                &scn,
                &brokers,
                &prefix,
                data_dir.path(),
                sched.peak_rate(),
            )?;
            // A known port, so that the sampler can read pitboss's /metrics.
            cfg.http.addr = config::free_loopback_addr()?.to_string();
            // The consumer-lag gauge once a second, as the sampler reads it (pitboss's
            // default is every 5 s; the scenario may set its own).
            cfg.kafka
                .consumer
                .entry("statistics.interval.ms".into())
                .or_insert_with(|| "1000".into());
            if args.spawn_broker {
                // Tansu on S3 lists a partition's objects at every fetch: pitboss's 5 ms
                // fetches would swamp the S3 server (the scenario may set its own).
                cfg.kafka
                    .consumer
                    .entry("fetch.wait.max.ms".into())
                    .or_insert_with(|| "500".into());
            }
            if let (Some(spec), Some(store)) = (&chaos_spec, &shared_store) {
                store.configure(&mut cfg);
                // Each instance: its own HTTP port, audit log and redo-log name; one group.
                for i in 0..spec.instances {
                    let mut c = cfg.clone();
                    c.http.addr = config::free_loopback_addr()?.to_string();
                    c.http.audit_log = data_dir
                        .path()
                        .join(format!("audit-{i}.jsonl"))
                        .display()
                        .to_string();
                    c.store.scylla.instance = format!("chaos-{i}");
                    let f = out.join(format!("chaos-{i}.toml"));
                    config::write(&f, &scn, &c)?;
                    instance_cfgs.push(f);
                }
            }
            config::write(&p, &scn, &cfg)?;
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
    cfg.kafka.brokers = brokers.clone();
    if args.pitboss_config.is_some() {
        // The running pitboss's file decides topics, pools and secret; the scenario the
        // traffic (the written file carries the same sim section).
        config::apply_sim(&mut cfg, &scn, sched.peak_rate())?;
    }

    let pitboss_bin = if args.spawn {
        Some(locate_pitboss(args.pitboss_bin.as_deref())?)
    } else {
        None
    };

    let progress = progress_bar(sched.total);
    let shared = Arc::new(Shared::new(cfg.sim.seed, sched.total as usize + 16));
    let mut sender = Sender::new(
        &cfg,
        shared.clone(),
        progress.clone(),
        args.sender_linger_ms,
    )?;
    let gen_start = Instant::now();
    sender.generate(&sched)?;
    let generate_secs = gen_start.elapsed().as_secs_f64();
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
    if let Some(store) = &shared_store {
        progress.set_message("creating the CQL keyspace");
        store
            .block_on(pitboss::store::migrate(&cfg.store))
            .map_err(|e| anyhow!("creating the chaos run's CQL keyspace: {e}"))?;
    }
    // RUSAGE_CHILDREN counts every child reaped so far: `topics create` now, `pitboss run`
    // once it has exited. The difference is `pitboss run`'s alone.
    let children_cpu0 = cpu_secs(libc::RUSAGE_CHILDREN);
    // Where the spawned pitboss serves /metrics (the address the harness wrote, or one a
    // PITBOSS_* variable set, which pitboss applies too); `None` for a port it picks.
    let metrics_addr = cfg
        .http
        .addr
        .parse::<std::net::SocketAddr>()
        .ok()
        .filter(|a| a.port() != 0);
    // The broker's processes, when it runs here: the one the harness started (moto and
    // Tansu, whichever Tansu runs at the time), or --broker-pid.
    let broker_pids = || -> Option<sampler::BrokerPids> {
        match (&spawned_broker, args.broker_pid) {
            (Some(b), _) => {
                let b = b.clone();
                let mut last = Vec::new();
                Some(Box::new(move || {
                    // The fault thread holds the lock while it restarts the broker: the
                    // processes of the last look then.
                    if let Ok(b) = b.try_lock() {
                        last = b.pids();
                    }
                    last.clone()
                }))
            }
            (None, Some(pid)) => Some(Box::new(move || vec![pid])),
            (None, None) => None,
        }
    };
    let watched = |pitboss: Option<u32>| sampler::Watched {
        pitboss,
        // Live actors and lag only from the pitboss the harness started.
        metrics: pitboss.and(metrics_addr),
        input_topic: cfg.kafka.topics.input.clone(),
        internal_topics: cfg.kafka.topics.internal().map(str::to_string).to_vec(),
        broker_pids: broker_pids(),
    };
    let partitions = reader::input_partitions(&cfg)?;
    let mut reader = Reader::start(
        &cfg,
        shared.clone(),
        args.reader_fetch_wait_ms
            .unwrap_or(if args.spawn_broker { 500 } else { 5 }),
        // A broker the harness restarts: read the input back too, to tell a record the
        // broker lost from one pitboss did not process.
        (args.measure_broker && !sched.backlog) || args.spawn_broker,
    )?;

    let mut child: Option<PitbossChild> = None;
    let mut sampler: Option<Sampler> = None;
    let mut settled: Option<chaos::Settled> = None;
    let timeout = Duration::from_secs(args.timeout_secs);
    if sched.backlog {
        progress.set_message("producing the backlog");
        let fill_start = shared.now_ns();
        sender.produce(&sched, true)?;
        sender.produce_sentinels(Round::Final, partitions)?;
        sender.flush()?;
        // The fill rate counts until the broker acknowledged the whole backlog.
        sender.last_send_ns = shared.now_ns() - fill_start;
        shared.start_clock();
        if let Some(bin) = &pitboss_bin {
            let c = PitbossChild::spawn(bin, &cfg_path, &out)?;
            sampler = Some(Sampler::start(watched(Some(c.pid())), shared.clone())?);
            child = Some(c);
        } else {
            eprintln!("backlog produced: start (or resume) pitboss now");
        }
        progress.set_message("pitboss draining the backlog");
        reader.wait_sentinels(
            Round::Final,
            partitions,
            timeout.max(Duration::from_secs(3600)),
            child.as_mut(),
            &progress,
        )?;
    } else {
        // A chaos run starts its instances (the faults wait for the clock); otherwise one
        // `pitboss run` with --spawn.
        let chaos_run = match (&chaos_spec, &shared_store, &pitboss_bin) {
            (Some(spec), Some(store), Some(bin)) => {
                let seed = args.chaos_seed.unwrap_or(spec.seed);
                let faults = chaos::plan(spec, seed, Duration::from_secs_f64(sched.duration_secs));
                let cfgs = std::mem::take(&mut instance_cfgs);
                Some(chaos::Chaos::start(
                    bin,
                    cfgs,
                    &out,
                    store.clone(),
                    spawned_broker.clone(),
                    faults,
                    seed,
                )?)
            }
            _ => {
                if let Some(bin) = &pitboss_bin {
                    child = Some(PitbossChild::spawn(bin, &cfg_path, &out)?);
                }
                None
            }
        };
        progress.set_message("waiting for pitboss to consume (warm-up)");
        sender.produce_sentinels(Round::Warm, partitions)?;
        reader.wait_sentinels(
            Round::Warm,
            partitions,
            Duration::from_secs(120),
            child.as_mut(),
            &progress,
        )?;
        shared.start_clock();
        if child.is_some() || spawned_broker.is_some() || args.broker_pid.is_some() {
            sampler = Some(Sampler::start(
                watched(child.as_ref().map(PitbossChild::pid)),
                shared.clone(),
            )?);
        }
        if let Some(r) = &chaos_run {
            r.begin();
        }
        progress.set_message("offering the scenario");
        sender.produce(&sched, false)?;
        if let Some(r) = chaos_run {
            progress.set_message("waiting for the last faults and restarts");
            settled = Some(r.settle()?);
        }
        sender.produce_sentinels(Round::Final, partitions)?;
        progress.set_message("waiting for pitboss to catch up");
        reader.wait_sentinels(Round::Final, partitions, timeout, child.as_mut(), &progress)?;
        if let Some(s) = settled.as_mut() {
            s.check_running()?;
        }
    }
    let caught_up_ns = shared.now_ns();
    if cfg.kafka.internal_topics && (child.is_some() || settled.is_some()) {
        // Effects between entities travel through the internal topics after the input is
        // consumed: stop pitboss only once they are processed too, so that what it stores
        // and publishes at shutdown is complete.
        progress.set_message("waiting for the effects on the internal topics");
        let consumed = cfg.kafka.topics.consumed(true);
        let topics: Vec<&str> = consumed.iter().map(|(_, n)| n.as_str()).collect();
        pitboss::kafka::admin::wait_committed_to_end(&cfg.kafka, &topics, timeout)
            .map_err(|e| anyhow!(e))?;
    }
    // Sampled until pitboss is asked to stop (it then drains and closes its HTTP side).
    let samples = sampler.take().map(Sampler::finish).unwrap_or_default();
    let mut exit_code = None;
    if let Some(mut c) = child.take() {
        progress.set_message("stopping pitboss (SIGTERM)");
        exit_code = Some(c.terminate(Duration::from_secs(120))?);
    }
    if let Some(s) = settled.as_mut() {
        progress.set_message("stopping every instance (SIGTERM)");
        s.stop_all(Duration::from_secs(120))?;
        exit_code = Some(0);
    }
    progress.set_message("reading the output topics to their end");
    sender.flush()?;
    let observed = reader.finish(Duration::from_secs(120))?;
    let harness_cpu_secs = cpu_secs(libc::RUSAGE_SELF) - harness_cpu0;
    // `pitboss run` has been reaped (terminate waited for it): its CPU from start-up to
    // exit, `topics create`'s taken out.
    let pitboss_cpu_secs = pitboss_bin
        .is_some()
        .then(|| cpu_secs(libc::RUSAGE_CHILDREN) - children_cpu0);
    progress.finish_and_clear();
    let memory = MemorySummary::from_samples(&samples.samples);
    if let (Some(e), None) = (&samples.scrape_error, memory.live_entities_peak) {
        eprintln!("pitboss-load: no live actor count from pitboss's /metrics (last error: {e})");
    }

    // Expected totals: the same events again, through the reference processor.
    let expected = check::expected(&cfg, sender.reference.take(), partitions, sender.warm_sent)?;
    // The store pitboss left (with --spawn): its states, and `pitboss audit` of it (the
    // ledger against the states and the halls' windows).
    let (stored, audit, claims) = match args.spawn {
        true => match check::read_store(&cfg)? {
            Some(r) => (Some(r.states), r.audit, r.claims),
            None => (
                None,
                vec!["the store keeps nothing to audit (memory)".into()],
                None,
            ),
        },
        false => (None, Vec::new(), None),
    };
    let mut accounting = check::check(&expected, &observed, stored.as_deref(), args.spawn);
    if args.spawn {
        check::push(&mut accounting, "pitboss audit of the stored state", audit);
    }
    if let Some(claims) = &claims {
        check::push(
            &mut accounting,
            "every input partition was claimed in the shared store",
            check::claimed(claims, &cfg.kafka.topics.input, cfg.kafka.partitions.input),
        );
    }
    if let Some(read) = &observed.input_read {
        check::push(
            &mut accounting,
            "the broker kept every input record it acknowledged",
            check::input_kept(&sender.sent_hashes, read),
        );
    }
    let chaos_report = settled.map(|s| s.report);
    if let Some(r) = &chaos_report {
        let d = r
            .unplanned_logs
            .iter()
            .map(|l| format!("an instance exited without being told to: {l}"))
            .collect();
        check::push(&mut accounting, "instances exit only when told to", d);
    }
    let facts = summary::Facts {
        scn: &scn,
        sched: &sched,
        args: &args,
        cfg: &cfg,
        cfg_path: &cfg_path,
        out: &out,
        sender: &sender,
        t0_ns: shared.t0_ns.load(Ordering::Relaxed),
        caught_up_ns,
        generate_secs,
        harness_cpu_secs,
        pitboss_cpu_secs,
        samples: &samples.samples,
        memory,
    };
    let mut report = summary::report(&facts, observed, accounting, exit_code);
    report.chaos = chaos_report;
    drop(data_dir);
    Ok(Some(report))
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
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// User + system CPU seconds of this process (`RUSAGE_SELF`) or of its reaped children
/// (`RUSAGE_CHILDREN`).
pub(crate) fn cpu_secs(who: libc::c_int) -> f64 {
    // SAFETY: rusage is plain integers, for which all zeroes is a valid value.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we pass, which lives for the call.
    if unsafe { libc::getrusage(who, &mut u) } != 0 {
        return 0.0;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// The run's clock and the counters the sender and the reader share.
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
    /// For a simulator with `seed` and up to `events` events.
    fn new(seed: u64, events: usize) -> Self {
        Self {
            origin: Instant::now(),
            t0_ns: AtomicU64::new(u64::MAX),
            due_ns: (0..events).map(|_| AtomicU64::new(0)).collect(),
            seed,
            warm_seen: AtomicUsize::new(0),
            final_seen: AtomicUsize::new(0),
            outputs: AtomicU64::new(0),
            finish: AtomicBool::new(false),
        }
    }

    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    /// t0: the schedule starts now.
    fn start_clock(&self) {
        self.t0_ns.store(self.now_ns(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            utc_stamp(UNIX_EPOCH + Duration::from_secs(1_795_000_000)),
            "20261118T110640Z"
        );
    }
}
