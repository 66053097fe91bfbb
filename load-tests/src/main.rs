//! `pitboss-load`: measures pitboss. `inproc` compares, over the same events, the actor
//! pipeline with the framework's floors and with a single-threaded loop without actors;
//! `run` offers a scenario (load-tests/scenarios/) to a pitboss over Kafka, open loop, and
//! reports latency, throughput and an accounting check; `model` checks the core against the
//! independent model of RULES.md over a generated stream; `fuzz` sends random and damaged
//! messages through the whole in-process path.

mod fuzz;
mod gateway;
mod harness;
mod inproc;
mod kafka;
mod report;
mod scenario;
mod store;

use clap::{Parser, Subcommand};
use serde::Serialize;

/// The allocator the `pitboss` binary uses, so that the in-process runs measure what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// In-process throughput: actor pipeline vs two floors of empty messages (the actix
    /// floor: one per event to its actor; the fan-out floor: one per message the pipeline
    /// sends for the event, to the same actors) vs raw loop, over the same events. Only
    /// successful completions count, and the run fails unless the pipeline's end state
    /// balances and holds exactly the money the simulator sent (its own sums, not the
    /// core's code).
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
    /// Kafka throughput: `pitboss run` (outputs produced, committed to the end) vs a bare
    /// consumer and vs the Kafka I/O floor (the same records consumed and produced by a bare
    /// client), over one freshly filled topic.
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
        /// pitboss's checkpoint and commit interval (`kafka.commit-interval-ms`); the clock
        /// stops at the commit that covers the last event.
        #[arg(long, default_value_t = kafka::COMMIT_INTERVAL_MS)]
        commit_interval_ms: u64,
        /// Print one JSON line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The synchronous gateway under an open-loop HTTP load (a provider's deposits, bets and
    /// wins): latency percentiles from each request's due time, answers by status, and the
    /// applied answers checked against the balances pitboss recounts. Non-zero exit if the
    /// accounting fails.
    Gateway {
        /// Bootstrap servers of the broker to measure against.
        #[arg(long)]
        brokers: String,
        /// Requests offered per second.
        #[arg(long, default_value_t = 500)]
        rate: u64,
        /// Seconds of load.
        #[arg(long, default_value_t = 20)]
        duration_secs: u64,
        /// Players the requests are spread over.
        #[arg(long, default_value_t = 2_000)]
        players: u32,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Partitions of the input topic (and of the internal ones).
        #[arg(long, default_value_t = 8)]
        partitions: i32,
        /// Print one JSON line instead of the report.
        #[arg(long)]
        json: bool,
    },
    /// Random and damaged messages (among the simulator's valid ones) through the decoder,
    /// the actors and the store: no panic, every bad message rejected with its reason and
    /// a stable code, every routed input completed, the end state balanced and audited.
    /// Non-zero exit on any failure.
    Fuzz {
        /// Messages to send.
        #[arg(long, default_value_t = 100_000)]
        cases: u64,
        /// Seed of the stream and of its damage (the same seed gives the same run).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Percent of the messages sent undamaged (the simulator's valid ones).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u8).range(0..=100))]
        valid_percent: u8,
        /// Print one JSON line instead of the report.
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The in-process runs' own logs (e.g. `RUST_LOG=pitboss::store=debug` for each
    // checkpoint's rows), to stderr; silent unless asked.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    match cli.command {
        Command::Run(args) => run_scenario(args),
        Command::Store { options, json } => {
            let r = store::run(options)?;
            print_json(&r, json)?;
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
            commit_interval_ms,
            json,
        } => {
            let r = kafka::run(kafka::KafkaOptions {
                brokers,
                events,
                machines,
                players,
                partitions,
                internal_topics,
                commit_interval_ms,
            })?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!("{r:#?}");
            }
            Ok(())
        }
        Command::Model { events, seed, json } => model(events, seed, json),
        Command::Fuzz {
            cases,
            seed,
            valid_percent,
            json,
        } => {
            let r = fuzz::run(fuzz::FuzzOptions {
                cases,
                seed,
                valid_percent,
            })?;
            print_json(&r, json)?;
            anyhow::ensure!(
                r.ok,
                "the fuzz run failed (seed {}): see panics, failed_inputs, hung, \
                 rejections_without_reason, conservation_ok and audit_ok above",
                r.seed
            );
            Ok(())
        }
        Command::Gateway {
            brokers,
            rate,
            duration_secs,
            players,
            clients,
            partitions,
            json,
        } => {
            let r = gateway::run(gateway::GatewayOptions {
                brokers,
                rate,
                duration_secs,
                players,
                clients,
                partitions,
            })?;
            print_json(&r, json)?;
            anyhow::ensure!(
                r.accounting_ok(),
                "the gateway's accounting failed (see the report)"
            );
            Ok(())
        }
        Command::Inproc {
            events,
            machines,
            players,
            json,
        } => {
            let r = inproc::run(events, machines, players)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!("{}", r.table());
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

/// A report as one JSON line (`--json`) or as indented JSON.
fn print_json<T: Serialize>(r: &T, one_line: bool) -> anyhow::Result<()> {
    let text = if one_line {
        serde_json::to_string(r)?
    } else {
        serde_json::to_string_pretty(r)?
    };
    println!("{text}");
    Ok(())
}
