//! `pitboss-load`: measures pitboss. `inproc` compares, over the same events, the actor
//! pipeline with the framework's floor and with a single-threaded loop without actors;
//! `run` offers a scenario (load-tests/scenarios/) to a pitboss over Kafka, open loop, and
//! reports latency, throughput and an accounting check; `model` checks the core against the
//! independent model of RULES.md over a generated stream.

mod harness;
mod kafka;
mod report;
mod scenario;
mod store;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pitboss::config::Config;
use pitboss::direct::Direct;
use pitboss::pipeline::{Inflight, Ingest, SourcePos};
use pitboss::rng::KeyedHitPoints;
use pitboss::sim::{SimMessage, Simulator};
use pitboss::wire;
use pitboss_actors::shell::{Input, MachineEntity, MemoryStore, NullSink, Runtime, WalletEntity};
use serde::Serialize;

#[derive(Parser)]
#[command(
    name = "pitboss-load",
    about = "Load and throughput measurements for pitboss"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Offer a scenario to pitboss over Kafka (open loop): end-to-end latency, throughput
    /// achieved vs offered, and an accounting check (non-zero exit on any difference).
    Run(harness::RunArgs),
    /// The embedded store under a hall network: rows written per input event at steady
    /// state, and the time from start to ready after a crash with that state stored.
    Store {
        #[command(flatten)]
        options: store::StoreOptions,
        /// Print one JSON line instead of the report.
        #[arg(long)]
        json: bool,
    },
    /// (internal) The steady-state phase of `store`, in a process the parent kills.
    #[command(hide = true)]
    StoreChild {
        /// The options, as JSON.
        #[arg(long)]
        options: String,
    },
    /// In-process throughput: actor pipeline vs actix floor (one empty message per event to
    /// the same actor) vs raw loop, over the same events. Only successful completions count,
    /// and the run fails unless the pipeline's end state balances and holds exactly the
    /// money the simulator sent (its own sums, not the core's code).
    Inproc {
        /// Events to generate and process.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Machines in the simulated network (spread over halls of 100).
        #[arg(long, default_value_t = 10_000)]
        machines: u32,
        /// Online players.
        #[arg(long, default_value_t = 50_000)]
        players: u32,
        /// Print one JSON line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Kafka throughput: `pitboss run` (outputs produced) vs a bare consumer, over one
    /// freshly filled topic.
    Kafka {
        /// Bootstrap servers of the broker to measure against.
        #[arg(long)]
        brokers: String,
        /// Events to produce and process.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Machines in the simulated network (spread over halls of 100).
        #[arg(long, default_value_t = 10_000)]
        machines: u32,
        /// Online players.
        #[arg(long, default_value_t = 50_000)]
        players: u32,
        /// Partitions of the input topic (and of the internal topics).
        #[arg(long, default_value_t = 8)]
        partitions: i32,
        /// Route effects through the internal topics (true: the multi-instance mode,
        /// the default of `pitboss run`; false: every entity in this process).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        internal_topics: bool,
        /// Print one JSON line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The core against the independent model of RULES.md: a generated stream (with
    /// retries, late gap-fills, epoch resets, conflicts, rollbacks, skewed clocks, jackpot
    /// claims) through both, every entity compared. Non-zero exit on any difference.
    Model {
        /// Input messages to generate (at least).
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// Seed of the stream (the same seed gives the same stream).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print one JSON line instead of a report.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct InprocReport {
    events: usize,
    machines: u32,
    players: u32,
    arbiters: usize,
    events_per_sec: f64,
    actix_floor_events_per_sec: f64,
    raw_events_per_sec: f64,
    ratio: f64,
    pipeline_secs: f64,
    floor_secs: f64,
    raw_secs: f64,
    /// CPU seconds (user + system, every thread of this process: `getrusage(RUSAGE_SELF)`)
    /// spent in the timed pipeline part (the `pipeline_secs` window).
    pipeline_cpu_secs: f64,
    /// `pipeline_cpu_secs` × 10⁶ / `events`: µs of CPU per event through the pipeline.
    cpu_us_per_event: f64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run_scenario(args),
        Command::Store { options, json } => {
            let r = store::run(options)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&r)?);
            }
            Ok(())
        }
        Command::StoreChild { options } => store::child(serde_json::from_str(&options)?),
        Command::Kafka {
            brokers,
            events,
            machines,
            players,
            partitions,
            internal_topics,
            json,
        } => {
            let r = kafka::run(kafka::KafkaOptions {
                brokers,
                events,
                machines,
                players,
                partitions,
                internal_topics,
            })?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!("{r:#?}");
            }
            Ok(())
        }
        Command::Model { events, seed, json } => model(events, seed, json),
        Command::Inproc {
            events,
            machines,
            players,
            json,
        } => {
            let r = inproc(events, machines, players)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!("events                      {}", r.events);
                println!("machines / players          {} / {}", r.machines, r.players);
                println!("arbiters (actor threads)    {}", r.arbiters);
                println!("pipeline events/s           {:.0}", r.events_per_sec);
                println!(
                    "actix floor events/s        {:.0}",
                    r.actix_floor_events_per_sec
                );
                println!("raw loop events/s           {:.0}", r.raw_events_per_sec);
                println!("ratio pipeline / floor      {:.3}", r.ratio);
                println!(
                    "pipeline CPU                {:.2} s, {:.2} µs per event",
                    r.pipeline_cpu_secs, r.cpu_us_per_event
                );
            }
            Ok(())
        }
    }
}

#[derive(Serialize)]
struct ModelReport {
    events: usize,
    seed: u64,
    differences: usize,
    compared: u64,
    cases: std::collections::BTreeMap<&'static str, u64>,
    alerts: std::collections::BTreeMap<&'static str, u64>,
    refusals: std::collections::BTreeMap<&'static str, u64>,
    rejections: std::collections::BTreeMap<&'static str, u64>,
    conserved: bool,
    ok: bool,
    /// The first differences (all of them in the text report).
    first_differences: Vec<String>,
}

fn model(events: usize, seed: u64, json: bool) -> anyhow::Result<()> {
    let gen = pitboss::model::gen::GenConfig {
        events,
        seed,
        ..Default::default()
    };
    let r = pitboss::model_check::run(&gen);
    let out = ModelReport {
        events: r.events,
        seed: r.seed,
        differences: r.differences.len(),
        compared: r.compared,
        cases: r.cases.clone(),
        alerts: r.alerts.clone(),
        refusals: r.refusals.clone(),
        rejections: r.rejections.clone(),
        conserved: r.conservation.0 == r.conservation.1,
        ok: r.ok(),
        first_differences: r.differences.iter().take(10).cloned().collect(),
    };
    if json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!(
            "events {}  seed {}  compared {}",
            out.events, out.seed, out.compared
        );
        println!("cases      {:?}", out.cases);
        println!("alerts     {:?}", out.alerts);
        println!("refusals   {:?}", out.refusals);
        println!("rejections {:?}", out.rejections);
        println!("conserved  {}", out.conserved);
        for d in &r.differences {
            println!("difference: {d}");
        }
        println!("differences {}", out.differences);
    }
    anyhow::ensure!(
        out.ok,
        "the core and the model differ ({} differences, conserved: {}), seed {seed}",
        out.differences,
        out.conserved
    );
    Ok(())
}

fn run_scenario(args: harness::RunArgs) -> anyhow::Result<()> {
    let json = args.json;
    let Some(report) = harness::run(args)? else {
        return Ok(());
    };
    let dir = std::path::PathBuf::from(&report.report_dir);
    let (j, h) = report.write(&dir)?;
    if json {
        eprint!("{}", report.table());
        eprintln!("wrote {} and {}", j.display(), h.display());
        println!("{}", serde_json::to_string(&report.headline())?);
    } else {
        print!("{}", report.table());
        println!("wrote {} and {}", j.display(), h.display());
    }
    if !report.accounting.ok {
        let failed: Vec<&str> = report
            .accounting
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.name.as_str())
            .collect();
        anyhow::bail!(
            "accounting check failed: {} (differences listed above and in {})",
            failed.join(", "),
            j.display()
        );
    }
    Ok(())
}

fn inproc(events: usize, machines: u32, players: u32) -> anyhow::Result<InprocReport> {
    let mut cfg = Config::load(None).context("loading configuration")?;
    cfg.sim.machines_per_hall = 100;
    cfg.sim.halls = machines.div_ceil(100).max(1);
    cfg.sim.players = players;
    cfg.sim.malformed_per_million = 0;
    let rc = cfg.runtime_config()?;
    let mut sim = Simulator::new(&cfg)?;
    // Event time advances as in a network producing 50,000 events/s.
    let t0 = 1_800_000_000_000i64;
    let msgs: Vec<SimMessage> = (0..events)
        .map(|i| sim.next(t0 + (i as i64) / 50))
        .collect();
    let targets: Vec<Input> = msgs
        .iter()
        .map(|m| wire::decode_input(&m.bytes))
        .collect::<Result<_, _>>()
        .context("the simulator produced an undecodable event")?;

    // Ceiling: decode and apply in one thread, no actors.
    let mut direct = Direct::new(rc.clone(), &cfg.runtime.hit_point_secret);
    let t = Instant::now();
    for m in &msgs {
        let input = wire::decode_input(&m.bytes).expect("decoded above");
        direct.apply(input);
    }
    let raw_secs = t.elapsed().as_secs_f64();

    let sent = sim.sent().clone();
    let arbiters = rc.arbiters;
    let inflight_max = cfg.runtime.inflight_events_max;
    let secret = cfg.runtime.hit_point_secret.clone();
    let (floor_secs, pipeline_secs, pipeline_cpu_secs) =
        actix_rt::System::new().block_on(async move {
            let sink = Arc::new(NullSink::default());
            let rt = Runtime::start(
                rc,
                sink,
                Arc::new(MemoryStore::default()),
                Arc::new(KeyedHitPoints::new(&secret)),
                Arc::new(pitboss_actors::shell::SystemClock),
            );
            let inflight = Inflight::new(inflight_max);
            // Warm up: start every actor the events address (not timed).
            ping_all(&rt, &inflight, &targets).await;
            let t = Instant::now();
            ping_all(&rt, &inflight, &targets).await;
            let floor = t.elapsed().as_secs_f64();

            let ingest = Ingest::new(rt.clone());
            // Only successful completions count: a failed input is counted apart and fails
            // the run after the clock stops.
            let done = Arc::new(AtomicU64::new(0));
            let failed = Arc::new(AtomicU64::new(0));
            // CPU readings right around the timed part: the process's every thread (this one
            // ingests, the arbiters run the actors).
            let cpu0 = harness::cpu_secs(libc::RUSAGE_SELF);
            let t = Instant::now();
            for chunk in msgs.chunks(256) {
                let (d, f) = (done.clone(), failed.clone());
                let n = chunk.len();
                let ack = inflight
                    .begin(n, move |ok| {
                        let c = if ok { d } else { f };
                        c.fetch_add(n as u64, Ordering::Relaxed);
                    })
                    .await;
                for m in chunk {
                    ingest
                        .process(&m.bytes, Some(m.key.as_bytes()), SourcePos::default(), &ack)
                        .await;
                }
            }
            inflight.drained().await;
            let pipeline = t.elapsed().as_secs_f64();
            let pipeline_cpu = harness::cpu_secs(libc::RUSAGE_SELF) - cpu0;
            // What the clock timed must be a success: every input completed without failure
            // and the end state holds exactly the money the simulator sent.
            let (ok, bad) = (done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
            let states = rt.collect().await;
            rt.stop();
            anyhow::ensure!(
                bad == 0 && ok as usize == msgs.len(),
                "the pipeline failed inputs: {ok} of {} completed, {bad} failed",
                msgs.len()
            );
            let states = states.map_err(|e| anyhow::anyhow!("reading the end state: {e}"))?;
            let r = pitboss::recount::recount(&states);
            anyhow::ensure!(
                r.conservation_ok,
                "the pipeline's end state does not balance: {r:#?}"
            );
            anyhow::ensure!(
                sent.matches(&r),
                "the pipeline's end state differs from what the simulator sent: sent {sent:?}, \
                 recounted {r:#?}"
            );
            Ok::<_, anyhow::Error>((floor, pipeline, pipeline_cpu))
        })?;
    let eps = |secs: f64| events as f64 / secs;
    Ok(InprocReport {
        events,
        machines,
        players,
        arbiters,
        events_per_sec: eps(pipeline_secs),
        actix_floor_events_per_sec: eps(floor_secs),
        raw_events_per_sec: eps(raw_secs),
        ratio: floor_secs / pipeline_secs,
        pipeline_secs,
        floor_secs,
        raw_secs,
        pipeline_cpu_secs,
        cpu_us_per_event: pipeline_cpu_secs * 1e6 / events.max(1) as f64,
    })
}

async fn ping_all(rt: &Arc<Runtime>, inflight: &Inflight, targets: &[Input]) {
    for chunk in targets.chunks(256) {
        let ack = inflight.begin(chunk.len(), |_| {}).await;
        for t in chunk {
            match t {
                Input::Machine { machine, .. } => {
                    rt.ping::<MachineEntity>(machine, ack.clone()).await
                }
                Input::Wallet { player, .. } => rt.ping::<WalletEntity>(player, ack.clone()).await,
            }
        }
    }
    inflight.drained().await;
}
