//! The `pitboss` binary: parses arguments and wires the parts together.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pitboss::config::Config;
use pitboss::demo::{self, DemoOptions};

#[derive(Parser)]
#[command(
    name = "pitboss",
    version,
    about = "Real-time game event processor for gambling-hall networks"
)]
struct Cli {
    /// Configuration file (TOML); environment variables PITBOSS_<SECTION>__<KEY> override it.
    #[arg(long, global = true, env = "PITBOSS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
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
    },
    /// Print the effective configuration (defaults, file and environment merged).
    Config,
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
            print!("{}", cfg.to_toml());
            Ok(())
        }
        Command::Demo {
            duration,
            summary_json,
            rate,
            quiet,
        } => {
            if let Some(r) = rate {
                cfg.sim.rate_events_per_sec = r;
            }
            let opts = DemoOptions {
                duration_secs: duration,
                summary_json,
                quiet,
            };
            let stop = Arc::new(AtomicBool::new(false));
            let s = stop.clone();
            ctrlc_flag(s);
            let summary = actix_rt::System::new().block_on(demo::run(cfg, opts, stop))?;
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

/// Sets `flag` on SIGINT/SIGTERM (a thread with its own small runtime, so it works whichever
/// runtime the command uses).
fn ctrlc_flag(flag: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("signal runtime");
        rt.block_on(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        flag.store(true, Ordering::Relaxed);
    });
}
