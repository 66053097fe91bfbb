//! `pitboss demo`: a simulated hall network fed to the actors in-process, with a live summary
//! every second and, at the end, an independent recount of every unit of money.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pitboss_actors::domain::{EntityKind, HallId};
use pitboss_actors::shell::{
    AckToken, EventSink, HallEntity, Output, Runtime, Snapshot, StateStore, WalletStatus,
};
use serde::Serialize;

use crate::app::{self, PeriodicJobs, Shutdown};
use crate::clock::now_ms;
use crate::config::Config;
use crate::http::JackpotFeed;
use crate::pipeline::{Inflight, Ingest, SourcePos};
use crate::readiness::Readiness;
use crate::recount::{recount, Recount};
use crate::sim::{SentTotals, Simulator};
use crate::telemetry;

#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Stop after this many seconds (`None`: run until Ctrl-C).
    pub duration_secs: Option<f64>,
    /// Write the final summary here as JSON.
    pub summary_json: Option<PathBuf>,
    /// Print nothing but the final summary.
    pub quiet: bool,
    /// Serve the HTTP side (page, feed, APIs, metrics) on `http.addr`. If the address
    /// cannot be bound the demo warns and runs without it.
    pub http: bool,
    /// Continue from the stored state of the previous run instead of deleting the embedded
    /// store's file first. The simulator starts over, so the totals are then not compared
    /// with what it sent (its machines' sequence numbers repeat and are skipped).
    pub keep_data: bool,
}

/// Outputs seen by the demo, by kind, and the latest jackpot levels.
#[derive(Default)]
pub struct DemoSink {
    counts: Mutex<BTreeMap<&'static str, u64>>,
    /// Alerts by code.
    alerts: Mutex<BTreeMap<&'static str, u64>>,
    levels: Mutex<BTreeMap<String, Vec<(String, i64)>>>,
    hits: Mutex<Vec<String>>,
    hit_count: AtomicU64,
    /// Refused wallet commands by key (player, provider, tx) with their code: a repeat
    /// republishes its answer, and is counted once.
    wallet_refusals: Mutex<HashMap<(String, String, String), &'static str>>,
}

impl DemoSink {
    fn kind(o: &Output) -> &'static str {
        match o {
            Output::Ggr { .. } => "ggr",
            Output::JackpotLevels { .. } => "jackpot_levels",
            Output::JackpotHit { .. } => "jackpot_hit",
            Output::Wallet { .. } => "wallet",
            Output::Alert { .. } => "alert",
            Output::Rejected { .. } => "rejected",
            Output::Refused { .. } => "refused",
            Output::Voucher { .. } => "voucher",
            Output::RatedSession { .. } => "rated_session",
            Output::AmlCase { .. } => "aml_case",
            Output::Transfer { .. } => "transfer",
            Output::Shift { .. } => "shift",
        }
    }

    fn count(&self, kind: &str) -> u64 {
        self.counts
            .lock()
            .expect("lock")
            .get(kind)
            .copied()
            .unwrap_or(0)
    }
}

impl EventSink for DemoSink {
    fn emit(&self, output: Output, _ack: &AckToken) {
        *self
            .counts
            .lock()
            .expect("lock")
            .entry(Self::kind(&output))
            .or_default() += 1;
        if let Output::Alert { alert, .. } = &output {
            *self
                .alerts
                .lock()
                .expect("lock")
                .entry(alert.code())
                .or_default() += 1;
        }
        match output {
            Output::JackpotLevels { pool, levels, .. } => {
                let v = levels.into_iter().map(|l| (l.name, l.amount)).collect();
                self.levels
                    .lock()
                    .expect("lock")
                    .insert(pool.to_string(), v);
            }
            Output::JackpotHit { hit, .. } => {
                self.hit_count.fetch_add(1, Ordering::Relaxed);
                let mut hits = self.hits.lock().expect("lock");
                hits.push(format!(
                    "{} {} {} on {}",
                    hit.pool,
                    hit.name,
                    money(hit.amount.minor()),
                    hit.machine
                ));
                if hits.len() > 5 {
                    hits.remove(0);
                }
            }
            Output::Refused {
                entity,
                code,
                reason,
                ..
            } => {
                tracing::debug!(%entity, code, %reason, "refused");
            }
            Output::Wallet {
                player,
                provider,
                tx,
                status: WalletStatus::Refused { code, .. },
                ..
            } => {
                let key = (player.to_string(), provider.to_string(), tx.to_string());
                self.wallet_refusals.lock().expect("lock").insert(key, code);
            }
            _ => {}
        }
    }
}

/// The final summary of a demo run.
#[derive(Debug, Serialize)]
pub struct DemoSummary {
    /// Wall time of the run, seconds.
    pub duration_secs: f64,
    /// Input messages fully processed (accepted, refused or rejected).
    pub events_processed: u64,
    /// `events_processed / duration_secs`.
    pub events_per_sec: f64,
    /// Messages rejected at the wire (malformed, by design of the simulator).
    pub rejected: u64,
    /// Events refused by the core (e.g. a late bet whose rollback came first).
    pub refused: u64,
    /// Repeats recognised and skipped.
    pub duplicates: u64,
    /// Outputs by kind.
    pub outputs: BTreeMap<&'static str, u64>,
    pub jackpot_hits: u64,
    /// Live actors at the end: machine, wallet, pool, hall, voucher.
    pub live_actors: [usize; EntityKind::COUNT],
    /// Actors passivated during the run (all kinds).
    pub passivated: u64,
    /// What the simulator sent (its own count).
    pub generator: SentTotals,
    /// Vouchers issued, redeemed, expired (RULES.md V), and what the open ones are for: from
    /// the recount, here for a quick look.
    pub vouchers_issued: u64,
    pub vouchers_redeemed: u64,
    pub vouchers_expired: u64,
    pub voucher_liability_minor: i64,
    /// Cashless transfers between wallets and machines (RULES.md W-10), as the simulator
    /// sent them, and what the recount found of them: held (in the conservation equation),
    /// paid to machines, received from them, `unbacked`, and taken by machines on
    /// acknowledgements still waiting for their request.
    pub cashless_transfers: u64,
    pub transfers_held_minor: i64,
    pub transfers_to_machines_minor: i64,
    pub transfers_from_machines_minor: i64,
    pub transfers_unbacked_minor: i64,
    pub transfers_waiting_minor: i64,
    /// Handpays of cancelled credits paid by attendants (RULES.md M-10), as the simulator
    /// sent them.
    pub handpays: u64,
    /// Meter snapshots machines reported (RULES.md M-8), as the simulator sent them.
    pub meter_snapshots: u64,
    /// Snapshots that disagreed with pitboss's meters (`meter_variance` alerts).
    pub meter_variances: u64,
    /// Machines found silent or reporting lost communication (`machine_silent` and
    /// `comms_lost` alerts, RULES.md M-11).
    pub comms_lost_alerts: u64,
    /// Alerts by code.
    pub alerts: BTreeMap<&'static str, u64>,
    /// Wallet commands refused by RULES.md W-8 (`kyc_required`, `player_blocked`); the
    /// simulator's count of those it sent to be refused must agree.
    pub kyc_refusals: u64,
    /// Deposits and bets refused by RULES.md W-9 (`self_excluded`, `limit_deposit`); the
    /// simulator's count of those it sent to be refused must agree.
    pub limit_refusals: u64,
    /// Rated card sessions published (RULES.md M-12).
    pub rated_sessions: u64,
    /// AML cases opened (RULES.md W-11).
    pub aml_cases: u64,
    /// Promotional money played (RULES.md M-13 restricted credits on machines, W-12 bonus
    /// parts of wallet bets): the halls' `promo`, which the recount checks against both.
    pub promo_played_minor: i64,
    /// Bonus money converted into cash (RULES.md W-12).
    pub bonus_converted_minor: i64,
    /// Cash-desk shifts closed (RULES.md D-4); the simulator's count must agree.
    pub shifts_closed: u64,
    /// The desks' cash in and out (RULES.md D-9: tickets sold and paid, checked by the
    /// recount against the vouchers desks issued and redeemed, and D-10: wallet deposits
    /// and withdrawals at the cage, checked against the wallets').
    pub desk_cash_in_minor: i64,
    pub desk_cash_out_minor: i64,
    /// Of those, the wallets' deposits and withdrawals at the cage (RULES.md D-10).
    pub desk_wallet_in_minor: i64,
    pub desk_wallet_out_minor: i64,
    /// Rows of the gaming-day report (a hall's day, RULES.md H-4) over the days the run
    /// touched; absent without a store that keeps GGR windows, or with `--keep-data`.
    pub gaming_day_rows: Option<u64>,
    /// Those rows' handle equals the recount's bets (part of `conservation_ok`).
    pub gaming_days_ok: Option<bool>,
    /// Wallet commands refused, by code (each command once).
    pub wallet_refusals: BTreeMap<&'static str, u64>,
    /// The recount from the entities' state.
    pub recount: Recount,
    /// The simulator's totals agree with the recount.
    pub generator_matches: bool,
    /// The store kind (`embedded`, `memory`, `scylla`).
    pub store: String,
    /// Checkpoints written to the store.
    pub checkpoints: u64,
    /// Checkpoints that failed (retried with backoff).
    pub checkpoint_failures: u64,
    /// The audit of the stored ledger against the stored state at the end (durable stores).
    pub audit: Option<crate::store::AuditReport>,
    /// The recount balances, agrees with the simulator, and the audit found no difference.
    pub conservation_ok: bool,
}

/// The rows of the gaming-day reports of the days `span` (ms) touched in any of `halls`, and
/// their handle.
async fn gaming_day_rows(
    cfg: &Config,
    source: &dyn crate::store::AuditSource,
    halls: &[HallId],
    span: (i64, i64),
) -> anyhow::Result<(u64, i64)> {
    let days = cfg.gaming_days()?;
    let mut dates = std::collections::BTreeSet::new();
    for h in halls {
        let rule = days.rule(h.as_str());
        for t in [span.0, span.1] {
            dates.insert(rule.day_of(t).map_err(anyhow::Error::msg)?);
        }
    }
    let (mut rows, mut handle) = (0, 0);
    for date in dates {
        let date = date.to_string();
        let currency = &cfg.network.currency;
        match crate::report::read_gaming_day(source, &days, &date, None, currency).await {
            Ok(r) => {
                rows += r.halls.len() as u64;
                handle += r.network.handle_minor;
            }
            Err(crate::report::ReportError::NoData(_)) => {}
            Err(e) => anyhow::bail!("the gaming-day report of {date}: {e}"),
        }
    }
    Ok((rows, handle))
}

/// Formats minor units as major units with two decimals.
pub fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}

/// Runs the demo. Must be called inside an actix `System`.
pub async fn run(
    cfg: Config,
    opts: DemoOptions,
    shutdown: Shutdown,
) -> anyhow::Result<DemoSummary> {
    let rc = cfg.runtime_config()?;
    let sink = Arc::new(DemoSink::default());
    let opened = app::open_store(&cfg, !opts.keep_data).await?;
    let store: Arc<dyn StateStore> = opened.store.clone();
    let feed = JackpotFeed::new(&cfg.http);
    let rt = app::start_runtime(&cfg, rc, sink.clone(), store.clone(), Some(&feed));
    // GGR windows are published after the checkpoint holding them (RULES.md H-2).
    rt.publish_after_checkpoint();
    let ingest = Ingest::new(rt.clone());
    let inflight = Inflight::new(cfg.runtime.inflight_events_max);
    let mut sim = Simulator::new(&cfg)?;
    let halls: Vec<HallId> = sim.hall_ids();
    let processed = Arc::new(AtomicU64::new(0));

    let jobs = PeriodicJobs::start(&rt, &cfg.runtime);
    let readiness = Arc::new(Readiness::new());
    // No Kafka, and the store opened above: ready as soon as the loop runs.
    readiness.set_consuming(true);
    readiness.set_store_reachable(true);
    let http = if opts.http {
        // The demo holds its embedded store too: it serves backups of it like `pitboss run`.
        let backups = opened
            .embedded
            .clone()
            .map(|r| Arc::new(crate::store::backup::Backups::new(r)));
        let reports = app::reports(&cfg, &opened)?;
        match app::serve_http_with(&rt, feed, &readiness, &cfg.http, backups, None, reports).await {
            Ok(h) => {
                eprintln!(
                    "jackpot display: http://{0}/  operator view: http://{0}/operator  metrics: http://{0}/metrics",
                    h.addr
                );
                Some(h)
            }
            Err(e) => {
                eprintln!(
                    "warning: HTTP server not started, cannot bind {}: {e}",
                    cfg.http.addr
                );
                None
            }
        }
    } else {
        None
    };
    let start = Instant::now();
    let start_ms = now_ms();
    let deadline = opts
        .duration_secs
        .map(|s| start + Duration::from_secs_f64(s));
    let rate = cfg.sim.rate_events_per_sec;
    let mut sent: u64 = 0;
    let mut next_report = start + Duration::from_secs(1);
    let mut last_report = (start, 0u64);
    const BATCH: usize = 256;
    let flush_every = Duration::from_millis(cfg.store.flush_interval_ms);
    let mut next_checkpoint = start + flush_every;
    let mut backoff = crate::store::Backoff::default();
    let (mut checkpoints, mut checkpoint_failures) = (0u64, 0u64);
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) || shutdown.is_requested() {
            break;
        }
        // Periodic checkpoint, or sooner when the store's backlog reaches its bound. Taken
        // with nothing in flight, so the stored states form a consistent cut.
        let backlogged = store.backlog() >= cfg.store.backlog_max;
        if now >= next_checkpoint || backlogged {
            inflight.drained().await;
            let began = Instant::now();
            let result = crate::store::checkpoint(&rt).await;
            telemetry::store_backlog(store.backlog() as u64);
            match result {
                Ok(_) => {
                    telemetry::store_flush(began.elapsed());
                    checkpoints += 1;
                    backoff.succeeded();
                    readiness.set_store_reachable(true);
                    next_checkpoint = Instant::now() + flush_every;
                }
                Err(e) => {
                    telemetry::store_error("flush");
                    checkpoint_failures += 1;
                    readiness.set_store_reachable(false);
                    let Some(wait) = backoff.retry(&e) else {
                        anyhow::bail!("a checkpoint failed and retrying cannot help: {e}");
                    };
                    tracing::warn!(error = %e, retry_ms = wait.as_millis() as u64, "checkpoint failed");
                    next_checkpoint = Instant::now() + wait;
                    if store.backlog() >= cfg.store.backlog_max {
                        // Backpressure: no new events until the store takes the backlog.
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
            }
        }
        let target = if rate == 0 {
            sent + BATCH as u64
        } else {
            ((now - start).as_secs_f64() * rate as f64) as u64
        };
        if sent < target {
            let n = ((target - sent) as usize).min(BATCH);
            let p = processed.clone();
            let began = Instant::now();
            let ack = inflight
                .begin(n, move |_| {
                    p.fetch_add(n as u64, Ordering::Relaxed);
                    telemetry::batch_completed(began.elapsed());
                })
                .await;
            let now_ms = now_ms();
            for i in 0..n {
                let m = sim.next(now_ms);
                // Not from Kafka: the message's number stands in for an offset, so every
                // rejection keeps a distinct, deterministic id.
                let pos = SourcePos {
                    partition: -1,
                    offset: (sent + i as u64) as i64,
                };
                ingest
                    .process(&m.bytes, Some(m.key.as_bytes()), pos, &ack)
                    .await;
            }
            drop(ack);
            sent += n as u64;
            tokio::task::yield_now().await;
        } else if rate > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if Instant::now() >= next_report {
            let done = processed.load(Ordering::Relaxed);
            let secs = last_report.0.elapsed().as_secs_f64();
            let rate_now = (done - last_report.1) as f64 / secs;
            last_report = (Instant::now(), done);
            next_report += Duration::from_secs(1);
            telemetry::inflight_events(inflight.in_flight());
            if !opts.quiet {
                print_line(&rt, &sink, &halls, start, done, rate_now).await;
            }
        }
    }
    // Drain: everything sent is processed, every actor quiet, every window published.
    readiness.set_shutting_down();
    inflight.drained().await;
    rt.quiesce().await;
    rt.tick(true);
    rt.quiesce().await;
    jobs.stop();
    let duration = start.elapsed().as_secs_f64();
    // The final checkpoint: everything to the store; its windows are then published, and a
    // second checkpoint stores the emptied outboxes (RULES.md H-2).
    let mut attempts = 0;
    for _ in 0..2 {
        loop {
            match crate::store::checkpoint(&rt).await {
                Ok(_) => {
                    checkpoints += 1;
                    break;
                }
                Err(e) if attempts < 10 && e.is_transient() => {
                    attempts += 1;
                    checkpoint_failures += 1;
                    tokio::time::sleep(backoff.failed()).await;
                    tracing::warn!(error = %e, "final checkpoint failed; retrying");
                }
                Err(e) => anyhow::bail!("the final checkpoint failed: {e}"),
            }
        }
        rt.quiesce().await;
    }
    let audit = match &opened.audit {
        Some(a) => Some(crate::store::audit(a.as_ref()).await?),
        None => None,
    };
    let states = rt.collect().await?;
    let recount = recount(&states);
    // RULES.md H-4: the gaming-day report of the days the run touched adds up to the recount
    // (a durable store keeps the GGR windows; another run's data would add to them).
    let gaming_day = match (&opened.audit, opts.keep_data) {
        (Some(source), false) => {
            Some(gaming_day_rows(&cfg, source.as_ref(), &halls, (start_ms, now_ms())).await?)
        }
        _ => None,
    };
    let gaming_days_ok = gaming_day.map(|(_, handle)| handle == recount.bets);
    let generator = sim.sent().clone();
    let mut wallet_refusals: BTreeMap<&'static str, u64> = BTreeMap::new();
    for code in sink.wallet_refusals.lock().expect("lock").values() {
        *wallet_refusals.entry(code).or_default() += 1;
    }
    let refused_as = |code: &str| wallet_refusals.get(code).copied().unwrap_or(0);
    let kyc_refusals = refused_as("kyc_required") + refused_as("player_blocked");
    let limit_refusals = refused_as("self_excluded") + refused_as("limit_deposit");
    let generator_matches = generator.matches(&recount)
        && generator.kyc_refusals == kyc_refusals
        && generator.limit_refusals == limit_refusals;
    let stats = &rt.stats;
    let alerts = sink.alerts.lock().expect("lock").clone();
    let alert_count = |code: &str| alerts.get(code).copied().unwrap_or(0);
    let (handpays, meter_snapshots) = (generator.handpays, generator.meter_snapshots);
    let cashless_transfers = generator.cashless_transfers;
    let outputs = sink.counts.lock().expect("lock").clone();
    let output_count = |kind: &str| outputs.get(kind).copied().unwrap_or(0);
    let summary = DemoSummary {
        duration_secs: duration,
        events_processed: processed.load(Ordering::Relaxed),
        events_per_sec: processed.load(Ordering::Relaxed) as f64 / duration,
        rejected: ingest.stats.rejected.load(Ordering::Relaxed),
        refused: stats.refused.load(Ordering::Relaxed),
        duplicates: stats.duplicates.load(Ordering::Relaxed),
        rated_sessions: output_count("rated_session"),
        aml_cases: output_count("aml_case"),
        promo_played_minor: recount.promo,
        bonus_converted_minor: recount.bonus_converted,
        shifts_closed: recount.shifts_closed,
        desk_cash_in_minor: recount.desk_cash_in,
        desk_cash_out_minor: recount.desk_cash_out,
        desk_wallet_in_minor: recount.desk_wallet_in,
        desk_wallet_out_minor: recount.desk_wallet_out,
        outputs,
        jackpot_hits: sink.hit_count.load(Ordering::Relaxed),
        live_actors: rt.live_actors(),
        passivated: stats
            .passivated
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .sum(),
        generator,
        gaming_day_rows: gaming_day.map(|(rows, _)| rows),
        gaming_days_ok,
        conservation_ok: recount.conservation_ok
            && gaming_days_ok != Some(false)
            && (generator_matches || opts.keep_data)
            && audit.as_ref().is_none_or(|a| a.ok()),
        generator_matches,
        vouchers_issued: recount.vouchers_issued,
        vouchers_redeemed: recount.vouchers_redeemed,
        vouchers_expired: recount.vouchers_expired,
        voucher_liability_minor: recount.voucher_liability,
        cashless_transfers,
        transfers_held_minor: recount.transfers_held,
        transfers_to_machines_minor: recount.transfers_to_machines,
        transfers_from_machines_minor: recount.transfers_from_machines,
        transfers_unbacked_minor: recount.transfers_unbacked,
        transfers_waiting_minor: recount.transfers_waiting,
        handpays,
        meter_snapshots,
        meter_variances: alert_count("meter_variance"),
        comms_lost_alerts: alert_count("machine_silent") + alert_count("comms_lost"),
        alerts: alerts.clone(),
        kyc_refusals,
        limit_refusals,
        wallet_refusals,
        recount,
        store: format!("{:?}", cfg.store.kind).to_lowercase(),
        checkpoints,
        checkpoint_failures,
        audit,
    };
    if let Some(h) = http {
        h.stop().await;
    }
    rt.stop();
    if let Some(path) = &opts.summary_json {
        let mut f = std::fs::File::create(path)?;
        serde_json::to_writer_pretty(&mut f, &summary)?;
        f.write_all(b"\n")?;
    }
    Ok(summary)
}

async fn print_line(
    rt: &Arc<Runtime>,
    sink: &DemoSink,
    halls: &[HallId],
    start: Instant,
    done: u64,
    rate: f64,
) {
    let mut ggr: HashMap<String, i64> = HashMap::new();
    for h in halls {
        if let Ok(Some(Snapshot::Hall(s))) = rt.inspect::<HallEntity>(h).await {
            ggr.insert(h.to_string(), s.totals.ggr());
        }
    }
    let total: i64 = ggr.values().sum();
    let levels = sink.levels.lock().expect("lock").clone();
    let levels: Vec<String> = levels
        .iter()
        .map(|(pool, ls)| {
            let l: Vec<String> = ls
                .iter()
                .map(|(n, a)| format!("{n} {}", money(*a)))
                .collect();
            format!("{pool}: {}", l.join(", "))
        })
        .collect();
    let hits = sink.hits.lock().expect("lock").clone();
    println!(
        "[{:>4.0}s] {:>8.0} ev/s | events {:>9} | rejected {} | GGR total {} ({} halls) | {} | hits {}{}",
        start.elapsed().as_secs_f64(),
        rate,
        done,
        sink.count("rejected"),
        money(total),
        ggr.len(),
        levels.join(" | "),
        sink.hit_count.load(Ordering::Relaxed),
        hits.last().map(|h| format!(" (last: {h})")).unwrap_or_default(),
    );
}
