//! `pitboss-load store`: the embedded store under a hall network.
//!
//! 1. **Populate**: `--wallets` wallets and `--machines` machines are written to a fresh
//!    store (each with a funded balance and its ledger movement), as a long-running
//!    deployment would hold them.
//! 2. **Steady state** (a child process): the simulated network plays on the stored
//!    entities — every machine, and `--active-players` of the wallets online at once — as
//!    fast as the processor goes (or at `--rate`), with a checkpoint every
//!    `--flush-interval-ms` at a consistent cut, as `pitboss demo` and `pitboss run` do.
//!    After `--warmup-secs`, for `--seconds`, it counts the rows written to the store
//!    (entity states, ledger pages, GGR windows, positions) per input event:
//!    `writes_per_event`. Then it keeps running until the parent kills it.
//! 3. **Crash and restart**: the parent kills the child with SIGKILL in the middle of its
//!    run and measures `restart_secs`: from start to ready — the store file opened (and
//!    recovered after the crash), the actor runtime started and the stored input positions
//!    read, which is what the processor needs before it consumes. Actors load their state
//!    lazily on first use, so readiness does not read the stored entities; the time to
//!    process a first batch of events addressed to entities not yet loaded is reported
//!    apart (`first_batch_ms`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pitboss::config::Config;
use pitboss::pipeline::{Inflight, Ingest, SourcePos};
use pitboss::rng::KeyedHitPoints;
use pitboss::sim::Simulator;
use pitboss::store::{self, EmbeddedStore, StoreConfig, StoreKind};
use pitboss_actors::domain::machine::{
    CashInKind, EventMeta, MachineCommand, MachineEnv, MachineState,
};
use pitboss_actors::domain::wallet::{
    WalletCommand, WalletEffect, WalletMeta, WalletOp, WalletState,
};
use pitboss_actors::domain::{
    Amount, EventId, HallId, MachineId, PlayerId, ServerId, SkewLimits, Timestamp, TxId,
};
use pitboss_actors::shell::{
    LedgerEntry, Movement, NullSink, Position, Runtime, Snapshot, Stash, StateStore,
};
use serde::{Deserialize, Serialize};

/// Options of `pitboss-load store`.
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
pub struct StoreOptions {
    /// Wallets stored before the run.
    #[arg(long, default_value_t = 1_000_000)]
    pub wallets: u32,
    /// Machines stored before the run (halls of 100), all of them playing.
    #[arg(long, default_value_t = 50_000)]
    pub machines: u32,
    /// Wallets playing online at the same time (the first ones of the stored wallets).
    #[arg(long, default_value_t = 20_000)]
    pub active_players: u32,
    /// Checkpoint interval, milliseconds. Coalescing comes from it: every entity touched in
    /// an interval is written once, so rows per event fall as the interval grows (measured
    /// on 2 cores: about 0.37 at 1 s, 0.10 at 5 s, 0.03 at 20 s). The default is the
    /// shortest with a margin below the goal of 0.1.
    #[arg(long, default_value_t = 10_000)]
    pub flush_interval_ms: u64,
    /// Input events per second offered (0 = as fast as the processor goes).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Seconds before the measurement starts.
    #[arg(long, default_value_t = 15.0)]
    pub warmup_secs: f64,
    /// Seconds measured (several checkpoint intervals).
    #[arg(long, default_value_t = 45.0)]
    pub seconds: f64,
    /// Directory for the store (default: a new directory under the system's temp dir,
    /// removed at the end).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// The steady-state measurement (from the child process).
#[derive(Debug, Serialize, Deserialize)]
pub struct Steady {
    /// Input events processed in the measured window.
    pub events: u64,
    /// Events per second in the window.
    pub events_per_sec: f64,
    /// Rows written per input event.
    pub writes_per_event: f64,
    /// Entity states written per input event.
    pub states_per_event: f64,
    /// Ledger entries (inside the rows) per input event.
    pub ledger_entries_per_event: f64,
    /// Checkpoints in the window.
    pub checkpoints: u64,
    /// Mean checkpoint duration (state hand-over and write), milliseconds.
    pub checkpoint_ms_mean: f64,
    /// Longest checkpoint, milliseconds.
    pub checkpoint_ms_max: f64,
    /// Mean time of the store's write alone (encoding, transaction, fsync), milliseconds.
    pub write_ms_mean: f64,
    /// Bytes of the store file written per input event (file growth is not this: redb
    /// reuses freed pages).
    pub record_bytes_per_event: f64,
    /// Distinct entities written per checkpoint, mean.
    pub states_per_checkpoint: f64,
}

/// The report: one JSON line.
#[derive(Debug, Serialize)]
pub struct StoreReport {
    /// What was measured.
    pub options: StoreOptions,
    /// Cores available.
    pub cores: usize,
    /// Seconds to write the initial wallets and machines.
    pub populate_secs: f64,
    /// Store file size after populating, bytes.
    pub file_bytes_populated: u64,
    /// Rows written per input event at steady state (goal: at most 0.1).
    pub writes_per_event: f64,
    /// Seconds from start to ready after a SIGKILL, with the state stored (goal: at most 5).
    pub restart_secs: f64,
    /// The same after a clean shutdown.
    pub clean_restart_secs: f64,
    /// Milliseconds to process the first 1,000 events after the restart (entities loaded on
    /// first use).
    pub first_batch_ms: f64,
    /// Store file size at the end, bytes.
    pub file_bytes_end: u64,
    /// Entities stored at the end (read after the restart).
    pub entities_stored: u64,
    /// The steady-state details.
    pub steady: Steady,
}

fn config(o: &StoreOptions, dir: &Path) -> anyhow::Result<Config> {
    let mut cfg = Config::load(None).context("loading configuration")?;
    anyhow::ensure!(
        o.machines >= 100 && o.machines.is_multiple_of(100),
        "--machines must be a multiple of 100 (halls of 100), got {}",
        o.machines
    );
    anyhow::ensure!(
        o.active_players <= o.wallets,
        "--active-players {} exceeds --wallets {}",
        o.active_players,
        o.wallets
    );
    cfg.sim.machines_per_hall = 100;
    cfg.sim.halls = o.machines / 100;
    cfg.sim.players = o.active_players;
    cfg.sim.malformed_per_million = 0;
    cfg.sim.rate_events_per_sec = o.rate;
    cfg.store = StoreConfig {
        kind: StoreKind::Embedded,
        data_dir: dir.to_path_buf(),
        flush_interval_ms: o.flush_interval_ms,
        ..StoreConfig::default()
    };
    Ok(cfg)
}

/// Runs the whole measurement.
pub fn run(o: StoreOptions) -> anyhow::Result<StoreReport> {
    let (dir, temporary) = match &o.data_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("pitboss-load-store-{}", std::process::id())),
            true,
        ),
    };
    let cfg = config(&o, &dir)?;
    store::clear_embedded(&cfg.store)?;
    let file = dir.join(store::embedded::FILE_NAME);

    // 1. Populate.
    let t = Instant::now();
    populate(&cfg, &o)?;
    let populate_secs = t.elapsed().as_secs_f64();
    let file_bytes_populated = std::fs::metadata(&file)?.len();

    // 2. Steady state, in a child we can kill.
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .arg("store-child")
        .arg("--options")
        .arg(serde_json::to_string(&StoreOptions {
            data_dir: Some(dir.clone()),
            ..o.clone()
        })?)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the steady-state child")?;
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let line = lines
        .next()
        .context("the child ended without a measurement")??;
    let steady: Steady =
        serde_json::from_str(&line).with_context(|| format!("the child's measurement {line:?}"))?;
    // 3. The crash: the child is still feeding and checkpointing.
    std::thread::sleep(Duration::from_millis(o.flush_interval_ms / 2 + 700));
    child.kill()?;
    child.wait()?;

    let (restart_secs, first_batch_ms, entities) = restart(&cfg, true)?;
    let (clean_restart_secs, _, _) = restart(&cfg, false)?;
    let file_bytes_end = std::fs::metadata(&file)?.len();
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(StoreReport {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        options: o,
        populate_secs,
        file_bytes_populated,
        writes_per_event: steady.writes_per_event,
        restart_secs,
        clean_restart_secs,
        first_batch_ms,
        file_bytes_end,
        entities_stored: entities,
        steady,
    })
}

/// The stored entities: the simulator's machines and the wallets `P-0000001` ... (the
/// simulator names its players the same way), each funded by one movement.
fn populate(cfg: &Config, o: &StoreOptions) -> anyhow::Result<()> {
    let s: Arc<EmbeddedStore> = store::open_embedded(&cfg.store)?;
    let rc = cfg.runtime_config()?;
    let directory = pitboss_actors::shell::Directory::new(&rc);
    let rt = tokio::runtime::Runtime::new()?;
    let t0 = Timestamp(1_700_000_000_000);
    let entry = |kind, amount, balance, i: u64| LedgerEntry {
        n: 1,
        kind,
        level: 0,
        amount,
        balance,
        cause: EventId(i as u128 + 1),
        causes: 1,
        time: t0,
    };
    let chunk = 100_000u32;
    let mut fx = Vec::new();
    let mut mfx = Vec::new();
    for start in (0..o.wallets.max(o.machines)).step_by(chunk as usize) {
        for i in start..(start + chunk) {
            if i < o.wallets {
                let id = PlayerId::new(&format!("P-{:07}", i + 1))?;
                let mut w = WalletState::new(
                    id,
                    rc.currency,
                    rc.wallet_credit_line_minor,
                    rc.wallet_window_len,
                );
                let cmd = WalletCommand {
                    provider: ServerId::new("SEED")?,
                    tx: TxId::new(&format!("SEED-{}", i + 1))?,
                    op: WalletOp::Deposit(Amount::new(10_000)?),
                    round: None,
                };
                let meta = WalletMeta {
                    event_id: EventId(i as u128 + 1),
                    time: t0,
                    hall: HallId::new(&cfg.sim.online_hall)?,
                };
                fx.clear();
                let rules = rc.wallet_rules();
                w.apply(&meta, &cmd, Some(rc.currency), &rules, &Vec::new(), &mut fx)?;
                let txs = fx
                    .drain(..)
                    .filter_map(|e| match e {
                        WalletEffect::Remember(k, r) => Some((k, r)),
                        _ => None,
                    })
                    .collect();
                s.stash(Stash {
                    snapshot: Snapshot::Wallet(w),
                    movements: 1,
                    ledger: vec![entry(Movement::Deposit, 10_000, 10_000, i as u64)],
                    txs,
                    log: Vec::new(),
                });
            }
            if i < o.machines {
                let (hall, m) = (i / 100 + 1, i % 100 + 1);
                let hall_id = HallId::new(&format!("H-{hall:03}"))?;
                let mut st = MachineState::new(
                    MachineId::new(&format!("M-{hall:03}-{m:05}"))?,
                    directory.machine_profile(&hall_id),
                );
                // No sequence number: the simulator numbers this machine's events from 1.
                let meta = EventMeta::new(EventId(u64::MAX as u128 + i as u128), 0, t0);
                mfx.clear();
                st.apply(
                    &hall_id,
                    &meta,
                    &MachineCommand::CashIn(CashInKind::Bill, Amount::new(10_000)?),
                    None,
                    &MachineEnv {
                        skew: SkewLimits::default(),
                        profile_of: &|h| directory.machine_profile(h),
                        hold_of: &|_| rc.theoretical_hold_ppm,
                        loyalty_micro_points: rc.loyalty_micro_points,
                    },
                    &mut mfx,
                )?;
                st.marks.clear();
                s.stash(Stash {
                    snapshot: Snapshot::Machine(st),
                    movements: 1,
                    ledger: vec![entry(Movement::BillIn, 10_000, 10_000, i as u64)],
                    txs: Vec::new(),
                    log: Vec::new(),
                });
            }
        }
        rt.block_on(s.flush())?;
    }
    Ok(())
}

/// The steady-state phase (run in the child): prints one `Steady` JSON line after the
/// measured window, then keeps going until killed.
pub fn child(o: StoreOptions) -> anyhow::Result<()> {
    let dir = o.data_dir.clone().context("the child needs --data-dir")?;
    let cfg = config(&o, &dir)?;
    actix_rt::System::new().block_on(async move {
        let s = store::open_embedded(&cfg.store)?;
        let rt = Runtime::start(
            cfg.runtime_config()?,
            Arc::new(NullSink::default()),
            s.clone(),
            Arc::new(KeyedHitPoints::new(&cfg.runtime.hit_point_secret)),
            Arc::new(pitboss_actors::shell::SystemClock),
        );
        let ingest = Ingest::new(rt.clone());
        let inflight = Inflight::new(cfg.runtime.inflight_events_max);
        let mut sim = Simulator::new(&cfg)?;
        let processed = Arc::new(AtomicU64::new(0));
        let flush_every = Duration::from_millis(o.flush_interval_ms);
        let start = Instant::now();
        let measure_from = start + Duration::from_secs_f64(o.warmup_secs);
        let measure_to = measure_from + Duration::from_secs_f64(o.seconds);
        let mut next_checkpoint = start + flush_every;
        let mut sent = 0u64;
        let mut base: Option<(Instant, u64, u64, u64, u64, u64, u64)> = None;
        let mut durations: Vec<f64> = Vec::new();
        let mut writes: Vec<f64> = Vec::new();
        let mut reported = false;
        let t_events = 1_800_000_000_000i64;
        loop {
            let now = Instant::now();
            if now >= next_checkpoint || s.backlog() >= cfg.store.backlog_max {
                inflight.drained().await;
                s.stash_position(Position {
                    topic: "sim".into(),
                    partition: 0,
                    next_offset: sent as i64,
                });
                let t = Instant::now();
                store::checkpoint(&rt).await?;
                if base.is_some() && !reported {
                    durations.push(t.elapsed().as_secs_f64() * 1000.0);
                    writes
                        .push(s.stats().last_flush_micros.load(Ordering::Relaxed) as f64 / 1000.0);
                }
                next_checkpoint = Instant::now() + flush_every;
                let st = s.stats();
                let snap = || {
                    (
                        Instant::now(),
                        processed.load(Ordering::Relaxed),
                        st.rows.load(Ordering::Relaxed),
                        st.states.load(Ordering::Relaxed),
                        st.ledger_entries.load(Ordering::Relaxed),
                        st.flushes.load(Ordering::Relaxed),
                        st.bytes.load(Ordering::Relaxed),
                    )
                };
                if base.is_none() && Instant::now() >= measure_from {
                    base = Some(snap());
                } else if let (Some(b), false) = (base, reported) {
                    if Instant::now() >= measure_to {
                        let e = snap();
                        let events = e.1 - b.1;
                        let per = |x: u64| x as f64 / events.max(1) as f64;
                        let n = durations.len().max(1) as f64;
                        let steady = Steady {
                            events,
                            events_per_sec: events as f64 / (e.0 - b.0).as_secs_f64(),
                            writes_per_event: per(e.2 - b.2),
                            states_per_event: per(e.3 - b.3),
                            ledger_entries_per_event: per(e.4 - b.4),
                            checkpoints: e.5 - b.5,
                            checkpoint_ms_mean: durations.iter().sum::<f64>() / n,
                            checkpoint_ms_max: durations.iter().cloned().fold(0.0, f64::max),
                            write_ms_mean: writes.iter().sum::<f64>() / n,
                            record_bytes_per_event: per(st.bytes.load(Ordering::Relaxed) - b.6),
                            states_per_checkpoint: (e.3 - b.3) as f64 / (e.5 - b.5).max(1) as f64,
                        };
                        println!("{}", serde_json::to_string(&steady)?);
                        reported = true;
                    }
                }
            }
            let target = if o.rate == 0 {
                sent + 256
            } else {
                (start.elapsed().as_secs_f64() * o.rate as f64) as u64
            };
            if sent >= target {
                tokio::time::sleep(Duration::from_millis(2)).await;
                continue;
            }
            let n = ((target - sent) as usize).min(256);
            let p = processed.clone();
            let ack = inflight
                .begin(n, move |_| {
                    p.fetch_add(n as u64, Ordering::Relaxed);
                })
                .await;
            for i in 0..n {
                // Event time: 20 µs apart, as a network of 50,000 events per second.
                let m = sim.next(t_events + (sent as i64 + i as i64) / 50);
                let pos = SourcePos {
                    partition: 0,
                    offset: (sent + i as u64) as i64,
                };
                ingest
                    .process(&m.bytes, Some(m.key.as_bytes()), pos, &ack)
                    .await;
            }
            drop(ack);
            sent += n as u64;
            tokio::task::yield_now().await;
        }
    })
}

/// Opens the store and starts the runtime: ready. Then processes 1,000 events addressed to
/// stored entities not loaded yet. With `check`, also reads every stored entity (not
/// timed) to report how many there are.
fn restart(cfg: &Config, check: bool) -> anyhow::Result<(f64, f64, u64)> {
    actix_rt::System::new().block_on(async {
        let t = Instant::now();
        let s = store::open_embedded(&cfg.store)?;
        let rt = Runtime::start(
            cfg.runtime_config()?,
            Arc::new(NullSink::default()),
            s.clone(),
            Arc::new(KeyedHitPoints::new(&cfg.runtime.hit_point_secret)),
            Arc::new(pitboss_actors::shell::SystemClock),
        );
        let positions = s.positions().await?;
        let ready = t.elapsed().as_secs_f64();
        if positions.is_empty() {
            bail!("no input position stored: the steady phase never checkpointed");
        }
        // 1,000 deposits into stored wallets from the end of the range (never active).
        let ingest = Ingest::new(rt.clone());
        let inflight = Inflight::new(1024);
        let t = Instant::now();
        let ack = inflight.begin(1000, |_| {}).await;
        for i in 0..1000u32 {
            let p = cfg.sim.players + 1 + i;
            let bytes = pitboss::wire::InputEnvelope {
                event_id: format!("00000000-0000-4000-8000-{:012}", u64::from(p) + 1_000_000),
                schema_version: 1,
                source: pitboss::wire::Source {
                    hall: cfg.sim.online_hall.clone(),
                    machine: None,
                    server: Some("GS-LOAD".into()),
                },
                seq: u64::from(i) + 1,
                epoch: None,
                receive_time: None,
                event_time: 1_900_000_000_000,
                payload: pitboss::wire::InputPayload::Deposit {
                    player: format!("P-{p:07}"),
                    tx: format!("LOAD-{p}"),
                    amount: 100,
                    currency: cfg.network.currency.clone(),
                    round: None,
                },
            }
            .to_bytes();
            ingest
                .process(&bytes, None, SourcePos::default(), &ack)
                .await;
        }
        drop(ack);
        inflight.drained().await;
        let first_batch_ms = t.elapsed().as_secs_f64() * 1000.0;
        let entities = if check {
            s.all().await?.len() as u64
        } else {
            0
        };
        // A clean stop: what the batch changed goes to the store.
        store::checkpoint(&rt).await?;
        rt.stop();
        drop((rt, ingest));
        // The stopped arbiters' actors let go of the store as they wind down; the file can
        // be opened again only once they have.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Arc::strong_count(&s) > 1 {
            if Instant::now() > deadline {
                bail!("the store is still in use 30 s after the runtime stopped");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok((ready, first_batch_ms, entities))
    })
}
