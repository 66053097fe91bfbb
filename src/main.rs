//! The `pitboss` binary: parses arguments and wires the parts together.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pitboss::app;
use pitboss::config::{Config, CONFIG_FILE_ENV};
use pitboss::demo::{self, DemoOptions};

/// mimalloc instead of glibc's allocator, which led the Kafka path's profile
/// (BENCHMARKS.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "pitboss",
    version,
    about = "Real-time game event processor for gambling-hall networks"
)]
struct Cli {
    /// Configuration file (TOML); environment variables PITBOSS_<SECTION>__<KEY> override it.
    #[arg(long, global = true, env = CONFIG_FILE_ENV)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// The reports `pitboss report` makes.
#[derive(Subcommand)]
enum ReportCommand {
    /// One gaming day per hall and for the network (each hall's day in its own time zone
    /// from its rollover, `[gaming-day]`), summed from the stored GGR windows. Exits non-zero
    /// with a message for a date without data, an unknown hall or a bad date.
    GamingDay {
        /// The gaming day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Only this hall.
        #[arg(long)]
        hall: Option<String>,
        /// Add one row per machine (from the stored ledger: a pass over all of it); with
        /// `--format csv` the machine rows are printed instead of the hall rows.
        #[arg(long)]
        machines: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
    },
    /// The cash desks' closed shifts of one gaming day (RULES.md D-8: by the day each opened
    /// in, in its desk's hall), with totals per cashier, per desk and for the day, read from
    /// the stored desks. Exits non-zero with a message for a date without shifts, an unknown
    /// hall or a bad date.
    Shifts {
        /// The gaming day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Only this hall.
        #[arg(long)]
        hall: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
    },
    /// Every patron's cash in and out of one local day of the jurisdiction
    /// (`responsible-gaming.time-zone`, the day the AML thresholds count in, RULES.md W-11),
    /// with the threshold each total reached, from the wallets' stored ledgers (a pass over
    /// all of it). Exits non-zero with a message for a date without patron cash, a bad
    /// player id or a bad date.
    Patrons {
        /// The local day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Only this player.
        #[arg(long)]
        player: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Json,
    Csv,
}

#[derive(Subcommand)]
enum Command {
    /// Run a simulated hall network through the processor, in-process, with a live summary.
    Demo {
        /// Stop after this many seconds (default: run until Ctrl-C).
        #[arg(long)]
        duration: Option<f64>,
        /// Write the final summary as JSON to this file.
        #[arg(long)]
        summary_json: Option<PathBuf>,
        /// Events per second offered (overrides sim.rate-events-per-sec; 0 = as fast as possible).
        #[arg(long)]
        rate: Option<u64>,
        /// Print only the final summary.
        #[arg(long)]
        quiet: bool,
        /// Serve the jackpot page, feed, APIs and metrics here (overrides http.addr).
        #[arg(long, value_name = "HOST:PORT")]
        http_addr: Option<String>,
        /// Continue from the state stored by the previous demo instead of starting from an
        /// empty store (the simulator starts over, so most of its events are then recognised
        /// as repeats and skipped).
        #[arg(long)]
        keep_data: bool,
    },
    /// Print the effective configuration (defaults, file and environment merged).
    Config,
    /// Reports from the stored state.
    Report {
        #[command(subcommand)]
        report: ReportCommand,
    },
    /// Create what the configured store needs (ScyllaDB: keyspace and tables from
    /// schemas/cql; embedded: the file and its tables). Safe to run again.
    Migrate,
    /// Recompute every entity's totals from the money ledger and compare them with the
    /// stored state. Exits non-zero on any difference.
    Audit {
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Run the processor against Kafka (the `[kafka]` section) until SIGINT or SIGTERM.
    Run {
        /// Serve metrics, health, the jackpot feed and the APIs here (overrides http.addr).
        #[arg(long, value_name = "HOST:PORT")]
        http_addr: Option<String>,
    },
    /// Serve only the synchronous gateway (the `[gateway]` section) for cash desks and game
    /// providers, until SIGINT or SIGTERM: requests become commands on the input topic and
    /// are answered with what the processing instances publish.
    Gateway {
        /// Listen here (overrides gateway.addr).
        #[arg(long, value_name = "HOST:PORT")]
        addr: Option<String>,
    },
    // --- Backups (issue 15) ---
    /// Back up the embedded store into DIR (empty or new): one checkpoint's states, ledger
    /// and input positions. If `pitboss run` holds the store, that instance takes the backup
    /// through its admin API (admin key in PITBOSS_API_KEY or --api-key-file). The backup
    /// is then restored into a scratch directory and audited.
    Backup {
        /// The backup directory (must be empty or absent).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// The running instance's base URL (default: http:// + http.addr).
        #[arg(long)]
        url: Option<String>,
        /// A file holding the admin API key (instead of PITBOSS_API_KEY).
        #[arg(long, value_name = "FILE")]
        api_key_file: Option<PathBuf>,
        /// Do not restore and audit the backup after taking it.
        #[arg(long)]
        no_check: bool,
        /// Print the manifest and the check as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup into store.data-dir, which must be empty or absent; the restored
    /// store is verified against the backup's manifest and audited. Exits non-zero on any
    /// difference.
    Restore {
        /// The backup directory (holding manifest.json and pitboss.redb).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// Print the manifest and the audit as one JSON object.
        #[arg(long)]
        json: bool,
    },
    // --- end of backups ---
    /// Manage the Kafka topics pitboss uses.
    Topics {
        #[command(subcommand)]
        action: TopicsAction,
    },
}

#[derive(Subcommand)]
enum TopicsAction {
    /// Create every topic with the configured partition counts (existing ones are kept).
    Create,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut cfg = Config::load(cli.config.as_deref()).context("loading configuration")?;
    match cli.command {
        Command::Config => {
            stdout(&cfg.to_display_toml())?;
            Ok(())
        }
        Command::Report {
            report:
                ReportCommand::GamingDay {
                    date,
                    hall,
                    machines,
                    format,
                },
        } => {
            let holds = pitboss::report::machines::Holds::of_config(&cfg.runtime_config()?);
            let days = cfg.gaming_days()?;
            let (hall, currency) = (hall.as_deref(), &cfg.network.currency);
            print_report(
                &cfg,
                format,
                async |src| {
                    let mut r =
                        pitboss::report::read_gaming_day(src, &days, &date, hall, currency).await?;
                    if machines {
                        r.add_machines(src, &days, hall, &holds).await?;
                    }
                    Ok(r)
                },
                |r| match machines {
                    true => r.machines_csv(),
                    false => r.csv(),
                },
            )
        }
        Command::Report {
            report: ReportCommand::Shifts { date, hall, format },
        } => {
            let days = cfg.gaming_days()?;
            let (hall, currency) = (hall.as_deref(), &cfg.network.currency);
            print_report(
                &cfg,
                format,
                async |src| {
                    pitboss::report::shifts::read_shifts(src, &days, &date, hall, currency).await
                },
                |r| r.csv(),
            )
        }
        Command::Report {
            report:
                ReportCommand::Patrons {
                    date,
                    player,
                    format,
                },
        } => {
            let aml = cfg.aml.rules()?;
            let (zone, currency) = (&cfg.responsible_gaming.time_zone, &cfg.network.currency);
            let player = player.as_deref();
            print_report(
                &cfg,
                format,
                async |src| {
                    pitboss::report::patrons::read_patrons(src, zone, &aml, &date, player, currency)
                        .await
                },
                pitboss::report::patrons::csv,
            )
        }
        Command::Migrate => {
            let rt = tokio::runtime::Runtime::new()?;
            for line in rt.block_on(pitboss::store::migrate(&cfg.store))? {
                println!("{line}");
            }
            Ok(())
        }
        Command::Audit { json } => {
            let rt = tokio::runtime::Runtime::new()?;
            let report = rt.block_on(async {
                let src = pitboss::store::open_audit_source(&cfg.store).await?;
                pitboss::store::audit(src.as_ref()).await
            })?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for d in &report.differences {
                    println!("{d}");
                }
                println!(
                    "audit: {} entities, {} ledger entries, {} halls against GGR windows: {} differences",
                    report.entities,
                    report.ledger_entries,
                    report.halls_checked,
                    report.differences.len()
                );
            }
            if !report.ok() {
                anyhow::bail!(
                    "the ledger and the stored state differ in {} places",
                    report.differences.len()
                );
            }
            Ok(())
        }
        // --- Backups (issue 15) ---
        Command::Backup {
            to,
            url,
            api_key_file,
            no_check,
            json,
        } => {
            let args = pitboss::backup::BackupArgs {
                to,
                url,
                api_key: pitboss::backup::api_key(api_key_file.as_deref())?,
                no_check,
            };
            let rt = tokio::runtime::Runtime::new()?;
            let taken = rt.block_on(pitboss::backup::backup(&cfg, args))?;
            if json {
                println!("{}", serde_json::to_string(&taken)?);
            } else {
                println!("backup {}", taken.dir.display());
                println!("  {}", pitboss::backup::describe(&taken.manifest));
                if let Some(c) = &taken.check {
                    println!("  {}", pitboss::backup::describe_check(c));
                }
            }
            if taken.check.as_ref().is_some_and(|c| !c.ok) {
                anyhow::bail!(
                    "the backup in {} did not pass its restore check",
                    taken.dir.display()
                );
            }
            Ok(())
        }
        Command::Restore { from, json } => {
            let rt = tokio::runtime::Runtime::new()?;
            let restored = rt.block_on(pitboss::backup::restore(&cfg, &from))?;
            let a = &restored.audit;
            if json {
                println!("{}", serde_json::to_string(&restored)?);
            } else {
                println!(
                    "restored {} into {}",
                    from.display(),
                    cfg.store.data_dir.display()
                );
                println!("  {}", pitboss::backup::describe(&restored.manifest));
                for d in &a.differences {
                    println!("{d}");
                }
                println!(
                    "audit: {} entities, {} ledger entries, {} halls against GGR windows: {} differences",
                    a.entities,
                    a.ledger_entries,
                    a.halls_checked,
                    a.differences.len()
                );
            }
            if !a.ok() {
                anyhow::bail!(
                    "restored into {}, but the ledger and the stored state differ in {} places: investigate before running on it",
                    cfg.store.data_dir.display(),
                    a.differences.len()
                );
            }
            Ok(())
        }
        // --- end of backups ---
        Command::Run { http_addr } => {
            if let Some(a) = http_addr {
                cfg.http.addr = a;
            }
            pitboss::telemetry::install();
            let (button, shutdown) = app::shutdown_channel();
            app::stop_on_signals(button);
            let report = actix_rt::System::new().block_on(pitboss::run::run(cfg, shutdown))?;
            eprintln!(
                "done: {} input messages ({} rejected), {} internal effects, outputs {:?}, {} commits, durable store: {}",
                report.input_messages,
                report.rejected,
                report.internal_effects,
                report.outputs,
                report.commits,
                report.durable_store
            );
            Ok(())
        }
        Command::Gateway { addr } => {
            if let Some(a) = addr {
                cfg.gateway.addr = a;
            }
            if cfg.gateway.addr.is_empty() {
                anyhow::bail!("no gateway address: set gateway.addr or pass --addr");
            }
            pitboss::telemetry::install();
            let (button, mut shutdown) = app::shutdown_channel();
            app::stop_on_signals(button);
            actix_rt::System::new().block_on(async move {
                let g = pitboss::gateway::serve(
                    &cfg.gateway,
                    &cfg.kafka,
                    &cfg.network.currency,
                    None,
                    None,
                )
                .await?;
                eprintln!("pitboss gateway: http://{}/gateway/v1/", g.addr);
                shutdown.requested().await;
                g.stop().await;
                anyhow::Ok(())
            })
        }
        Command::Topics {
            action: TopicsAction::Create,
        } => {
            let topics = actix_rt::System::new().block_on(pitboss::run::create_topics(&cfg))?;
            for (name, partitions, created) in topics {
                let what = if created { "created" } else { "exists" };
                println!("{name}\t{partitions}\t{what}");
            }
            Ok(())
        }
        Command::Demo {
            duration,
            summary_json,
            rate,
            quiet,
            http_addr,
            keep_data,
        } => {
            if let Some(r) = rate {
                cfg.sim.rate_events_per_sec = r;
            }
            if let Some(a) = http_addr {
                cfg.http.addr = a;
            }
            pitboss::telemetry::install();
            let opts = DemoOptions {
                duration_secs: duration,
                summary_json,
                quiet,
                http: true,
                keep_data,
            };
            let (button, shutdown) = app::shutdown_channel();
            app::stop_on_signals(button);
            let summary = actix_rt::System::new().block_on(demo::run(cfg, opts, shutdown))?;
            println!(
                "done: {} events in {:.1} s ({:.0} events/s), {} rejected, {} jackpot hits, conservation_ok: {}",
                summary.events_processed,
                summary.duration_secs,
                summary.events_per_sec,
                summary.rejected,
                summary.jackpot_hits,
                summary.conservation_ok
            );
            if !summary.conservation_ok {
                anyhow::bail!("money does not reconcile: {:#?}", summary.recount);
            }
            Ok(())
        }
    }
}

/// Writes `text` to standard output; a reader that went away (`pitboss report ... | head`)
/// ends the output quietly, as for any Unix filter, instead of a panic.
fn stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// A report `read` from the configured store (opened for reading), printed as JSON or, with
/// `--format csv`, as `csv` writes it.
fn print_report<R: serde::Serialize>(
    cfg: &Config,
    format: ReportFormat,
    read: impl AsyncFnOnce(&dyn pitboss::store::AuditSource) -> Result<R, pitboss::report::ReportError>,
    csv: impl FnOnce(&R) -> String,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let report = rt.block_on(async {
        let src = pitboss::store::open_audit_source(&cfg.store).await?;
        anyhow::Ok(read(src.as_ref()).await?)
    })?;
    match format {
        ReportFormat::Json => stdout(&(serde_json::to_string_pretty(&report)? + "\n"))?,
        ReportFormat::Csv => stdout(&csv(&report))?,
    }
    Ok(())
}
