//! `pitboss-load gateway`: the synchronous gateway under an open-loop HTTP load.
//!
//! `pitboss run` (embedded store, its gateway on a loopback port) runs in this process
//! against the given broker. Requests are scheduled at a fixed rate whatever the answers do
//! (open loop): request `i` is due at `start + i / rate`, a pool of HTTP clients takes them
//! in order, and each latency runs from the request's due time to its answer, so a gateway
//! that falls behind shows it in the percentiles instead of slowing the load down.
//!
//! The mix is a game provider's: each player's first request is a deposit, then bets and
//! wins alternate. Every answer is counted by status. A request that timed out is retried
//! with the same `tx` after the load, as the gateway tells a client to, until it has its
//! answer; the run then checks that the applied answers' deltas add up exactly to the wallet
//! balances pitboss recounts from its end state (no request lost, none applied twice).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use hdrhistogram::Histogram;
use pitboss::config::Config;
use pitboss::gateway::{GatewayKey, Scope};
use pitboss::kafka::RunStats;
use pitboss::run::{run_with, shutdown_channel, RunOptions};
use serde::Serialize;

use crate::report::LatencySummary;

const KEY: &str = "pitboss-load-gateway-key";
const DEPOSIT: i64 = 1_000_000;
const BET: i64 = 100;
const WIN: i64 = 50;

/// Options of the gateway measurement.
pub struct GatewayOptions {
    /// Bootstrap servers.
    pub brokers: String,
    /// Requests offered per second.
    pub rate: u64,
    /// Seconds of load.
    pub duration_secs: u64,
    /// Players the requests are spread over.
    pub players: u32,
    /// Concurrent HTTP clients.
    pub clients: usize,
    /// Partitions of the input topic (and of the internal ones).
    pub partitions: i32,
}

/// The report (one JSON line).
#[derive(Debug, Serialize)]
pub struct GatewayReport {
    offered_per_sec: u64,
    duration_secs: f64,
    clients: usize,
    players: u32,
    requests: u64,
    /// Requests answered (any status) per second of the load.
    answered_per_sec: f64,
    /// 200: applied.
    applied: u64,
    /// 422: refused by the rules (a bet beyond the balance, ...).
    refused: u64,
    /// 504 during the load (then retried with the same tx until answered).
    timeouts: u64,
    /// Any other status or a failed connection.
    errors: u64,
    /// From each request's due time to its answer.
    latency: LatencySummary,
    /// The sum of the applied answers' deltas (the warm-up deposit included).
    answered_balance_sum: i64,
    /// The wallet balances pitboss recounted from its end state.
    recounted_balances: i64,
    /// No error, every timed-out request answered on retry, the sums equal and the end
    /// state balanced.
    accounting_ok: bool,
}

#[derive(Default)]
struct Tally {
    applied: u64,
    refused: u64,
    timeouts: u64,
    errors: u64,
    delta: i64,
    /// Requests that timed out, to retry: (path, body).
    retry: Vec<(String, String)>,
    first_error: Option<String>,
}

/// The `i`-th request: its path and body.
fn request(i: u64, players: u32) -> (String, String) {
    let p = i % u64::from(players);
    let k = i / u64::from(players);
    let player = format!("P-GWL-{p}");
    let (op, body) = match k {
        0 => (
            "deposit",
            serde_json::json!({"player": player, "tx": format!("d-{p}"), "amount": DEPOSIT}),
        ),
        k if k % 2 == 1 => (
            "bet",
            serde_json::json!({"player": player, "tx": format!("b-{p}-{k}"), "amount": BET, "round": format!("r-{p}-{k}")}),
        ),
        k => (
            "win",
            serde_json::json!({"player": player, "tx": format!("w-{p}-{k}"), "amount": WIN, "round": format!("r-{p}-{}", k - 1)}),
        ),
    };
    (format!("/gateway/v1/wallet/{op}"), body.to_string())
}

/// Sends one request: (HTTP status, body), or an error text.
fn send(agent: &ureq::Agent, base: &str, path: &str, body: &str) -> Result<(u16, String), String> {
    let r = agent
        .post(&format!("{base}{path}"))
        .set("X-Api-Key", KEY)
        .set("Content-Type", "application/json")
        .send_string(body);
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    Ok((status, resp.into_string().map_err(|e| e.to_string())?))
}

/// The delta of an applied answer.
fn delta_of(body: &str) -> i64 {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["answer"]["delta"].as_i64())
        .unwrap_or(0)
}

/// Counts one answer.
fn count(t: &mut Tally, path: &str, body_sent: &str, answer: Result<(u16, String), String>) {
    match answer {
        Ok((200, body)) => {
            t.applied += 1;
            t.delta += delta_of(&body);
        }
        Ok((422, _)) => t.refused += 1,
        Ok((504, _)) => {
            t.timeouts += 1;
            t.retry.push((path.to_owned(), body_sent.to_owned()));
        }
        Ok((status, body)) => {
            t.errors += 1;
            t.first_error
                .get_or_insert_with(|| format!("{path}: {status} {body}"));
        }
        Err(e) => {
            t.errors += 1;
            t.first_error.get_or_insert_with(|| format!("{path}: {e}"));
        }
    }
}

/// Runs the measurement.
pub fn run(o: GatewayOptions) -> anyhow::Result<GatewayReport> {
    ensure!(
        o.rate > 0 && o.duration_secs > 0,
        "--rate and --duration-secs must be above 0"
    );
    ensure!(
        o.players > 0 && o.clients > 0,
        "--players and --clients must be above 0"
    );
    let mut cfg = Config::load(None).context("loading configuration")?;
    cfg.runtime.hit_point_secret = "pitboss-load-gateway-hit-point-secret-0123".into();
    let prefix = testkit::unique("gwload");
    let state_dir = crate::kafka::measured_run(&mut cfg, &o.brokers, &prefix, o.partitions);
    let port = testkit::names::free_port();
    cfg.gateway.addr = format!("127.0.0.1:{port}");
    cfg.gateway.deadline_ms = 10_000;
    cfg.gateway.waiting_max = 1_000_000;
    cfg.gateway.keys = vec![GatewayKey {
        name: "pitboss-load".into(),
        key_sha256: hex_sha256(KEY),
        hall: "H-GWL".into(),
        server: "PROV-GWL".into(),
        scopes: vec![Scope::Wallet],
        rate_per_sec: 0,
    }];
    let base = format!("http://127.0.0.1:{port}");

    // pitboss run, on a thread with its own actix system.
    let (button, shutdown) = shutdown_channel();
    let run_cfg = cfg.clone();
    let pitboss = std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            pitboss::run::create_topics(&run_cfg).await?;
            let opts = RunOptions {
                stats: Arc::new(RunStats::default()),
                recount: true,
                ..Default::default()
            };
            run_with(run_cfg, opts, shutdown).await
        })
    });

    // Warm-up: one deposit, retried until answered (the gateway binds, the consumer joins).
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let mut warm = Tally::default();
    let warm_body =
        serde_json::json!({"player": "P-GWL-WARM", "tx": "warm", "amount": DEPOSIT}).to_string();
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        match send(&agent, &base, "/gateway/v1/wallet/deposit", &warm_body) {
            Ok((200, body)) => {
                warm.delta += delta_of(&body);
                break;
            }
            Ok(_) | Err(_) if Instant::now() < until && !pitboss.is_finished() => {
                std::thread::sleep(Duration::from_millis(200));
            }
            other => bail!("the gateway did not answer the warm-up deposit: {other:?}"),
        }
    }

    // The load: open loop.
    let total = o.rate * o.duration_secs;
    let (tx, rx) = mpsc::channel::<(u64, Instant)>();
    let rx = Arc::new(Mutex::new(rx));
    let workers: Vec<_> = (0..o.clients)
        .map(|_| {
            let (rx, base, players) = (rx.clone(), base.clone(), o.players);
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(60))
                    .build();
                let mut hist =
                    Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("bounds");
                let mut t = Tally::default();
                loop {
                    let next = rx.lock().expect("queue").recv();
                    let Ok((i, due)) = next else { break };
                    let (path, body) = request(i, players);
                    let answer = send(&agent, &base, &path, &body);
                    let _ = hist.record(due.elapsed().as_micros().max(1) as u64);
                    count(&mut t, &path, &body, answer);
                }
                (hist, t)
            })
        })
        .collect();
    let start = Instant::now() + Duration::from_millis(50);
    let interval_ns = 1_000_000_000f64 / o.rate as f64;
    for i in 0..total {
        let due = start + Duration::from_nanos((i as f64 * interval_ns) as u64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        tx.send((i, due)).context("the clients stopped")?;
    }
    drop(tx);
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut t = Tally::default();
    for w in workers {
        let (h, x) = w.join().map_err(|_| anyhow::anyhow!("a client panicked"))?;
        hist.add(&h)?;
        t.applied += x.applied;
        t.refused += x.refused;
        t.timeouts += x.timeouts;
        t.errors += x.errors;
        t.delta += x.delta;
        t.retry.extend(x.retry);
        if t.first_error.is_none() {
            t.first_error = x.first_error;
        }
    }
    let load_secs = start.elapsed().as_secs_f64();

    // Timed-out requests: retried with the same tx until answered, as a client must.
    let mut unanswered = 0u64;
    for (path, body) in std::mem::take(&mut t.retry) {
        let until = Instant::now() + Duration::from_secs(120);
        loop {
            match send(&agent, &base, &path, &body) {
                Ok((200, b)) => {
                    t.delta += delta_of(&b);
                    break;
                }
                Ok((422, _)) => break,
                _ if Instant::now() < until => continue,
                _ => {
                    unanswered += 1;
                    break;
                }
            }
        }
    }

    let _ = button.send(true);
    let report = pitboss
        .join()
        .map_err(|_| anyhow::anyhow!("pitboss run panicked"))??;
    let _ = std::fs::remove_dir_all(&state_dir);
    let r = report
        .recount
        .context("the run did not recount its end state")?;
    let answered = t.delta + warm.delta;
    let accounting_ok =
        t.errors == 0 && unanswered == 0 && r.conservation_ok && answered == r.balances;
    if let Some(e) = &t.first_error {
        eprintln!("first error: {e}");
    }
    Ok(GatewayReport {
        offered_per_sec: o.rate,
        duration_secs: load_secs,
        clients: o.clients,
        players: o.players,
        requests: total,
        answered_per_sec: (t.applied + t.refused + t.timeouts + t.errors) as f64 / load_secs,
        applied: t.applied,
        refused: t.refused,
        timeouts: t.timeouts,
        errors: t.errors,
        latency: LatencySummary::from_hist(Some(&hist)),
        answered_balance_sum: answered,
        recounted_balances: r.balances,
        accounting_ok,
    })
}

impl GatewayReport {
    /// Whether the run's accounting held.
    pub fn accounting_ok(&self) -> bool {
        self.accounting_ok
    }
}

fn hex_sha256(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
