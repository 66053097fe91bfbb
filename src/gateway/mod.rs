//! The synchronous gateway for cash desks and game providers (issue 12): a person at a desk
//! or a provider's seamless-wallet call waits for the answer in the same HTTP request.
//!
//! A request goes the way every other command goes, so nothing is applied twice and nothing
//! bypasses the rules:
//! 1. the key says who is asking: its `hall` and `server` become the event's `source`, so a
//!    desk cannot act as another desk;
//! 2. the body becomes an input event (a wallet or voucher command), validated exactly as
//!    the processor validates it (a bad one is answered 400 with its stable code and never
//!    produced);
//! 3. the event is produced on the input topic with the key any producer would use (the
//!    player, the validation number);
//! 4. the entity's owner (any instance of the group) applies it and publishes its answer on
//!    its output topic as always; the gateway's reply listener reads those topics from the
//!    end and hands the answer whose key (player or voucher, sender, `tx`, operation) or
//!    cause (the event id) matches to the waiting request.
//!
//! No answer before `gateway.deadline-ms`: 504 `gateway_timeout`, telling the client to
//! retry with the same `tx`. A retry is safe: the command is identified by its `tx`
//! (RULES.md W-2, V-7), so a command that was applied in the meantime is answered with its
//! first answer, published again under the same output id.
//!
//! The event id is a UUID v5 of the sender, the operation and the request's content: a
//! retry with the same content is the same event; the same `tx` with other content is
//! another event, which the entity refuses `tx_conflict`.

mod commands;
mod reads;
mod replies;
mod routes;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpServer};
use anyhow::Context;
use serde::{Deserialize, Serialize};

use pitboss_actors::shell::Runtime;

use crate::kafka::KafkaConfig;

pub use commands::{Commands, SubmitError};
pub use replies::{voucher_key, wallet_key, Answer, ReplyListener, Waiters};
pub use routes::routes;

/// What a gateway key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Wallet commands: deposit, withdraw, bet, win, rollback (a game provider, a desk).
    Wallet,
    /// Voucher commands: issue, redeem, commit, cancel, void (a cash desk, a back office).
    Vouchers,
}

impl Scope {
    /// The scope's name (paths, metrics).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Wallet => "wallet",
            Scope::Vouchers => "vouchers",
        }
    }
}

/// A gateway key as configured: who holds it, which hall and sender it acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatewayKey {
    /// Who holds it (logs).
    pub name: String,
    /// SHA-256 of the key, hex (`printf %s "$KEY" | sha256sum`).
    pub key_sha256: String,
    /// The hall the sender belongs to (`source.hall`).
    pub hall: String,
    /// The desk or game server it acts as (`source.server`): the `provider` of wallet
    /// answers, the `party` of voucher answers.
    pub server: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Requests per second it may send, with bursts of as many (0: no limit); more are
    /// answered 429 `rate_limited`.
    #[serde(default)]
    pub rate_per_sec: u32,
}

/// The `[gateway]` section of the configuration (see `deploy/pitboss.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatewayConfig {
    /// Listen address; empty: no gateway (the default). `pitboss run` serves it beside the
    /// processor, `pitboss gateway` alone.
    pub addr: String,
    /// Server worker threads.
    pub workers: usize,
    /// How long a request waits for its answer before 504 `gateway_timeout` (ms).
    pub deadline_ms: u64,
    /// Requests waiting at once at most; more are answered 503 `gateway_busy`.
    pub waiting_max: usize,
    /// The keys of desks and providers, stored as the SHA-256 of the key (hex).
    pub keys: Vec<GatewayKey>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            addr: String::new(),
            workers: 2,
            deadline_ms: 5_000,
            waiting_max: 10_000,
            keys: Vec::new(),
        }
    }
}

impl GatewayConfig {
    /// Refuses settings the gateway cannot work with.
    ///
    /// # Errors
    ///
    /// A message naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.addr.is_empty() {
            return Ok(());
        }
        if self.deadline_ms == 0 || self.deadline_ms > 120_000 {
            return Err("gateway.deadline-ms must be 1 to 120000".into());
        }
        if self.waiting_max == 0 {
            return Err("gateway.waiting-max must be at least 1".into());
        }
        if self.keys.is_empty() {
            return Err(
                "gateway.addr is set but gateway.keys is empty: no desk or provider could call it"
                    .into(),
            );
        }
        for k in &self.keys {
            let hex_ok =
                k.key_sha256.len() == 64 && k.key_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex_ok {
                return Err(format!(
                    "gateway key {}: key-sha256 must be 64 hex digits",
                    k.name
                ));
            }
            if k.hall.is_empty() || k.server.is_empty() || k.scopes.is_empty() {
                return Err(format!(
                    "gateway key {}: hall, server and scopes are required",
                    k.name
                ));
            }
        }
        Ok(())
    }
}

/// What the request handlers share.
pub struct Gateway {
    pub(crate) cfg: GatewayConfig,
    pub(crate) currency: String,
    pub(crate) commands: Arc<Commands>,
    /// `pitboss run`'s runtime, for the reads; none in a gateway alone.
    pub(crate) runtime: Option<Arc<Runtime>>,
    seq: AtomicU64,
    /// Per key (by index): its rate limit.
    limits: Vec<RateLimit>,
}

impl Gateway {
    /// A sequence number for the next event (server events are identified by their `tx`;
    /// the number only has to be valid and increasing).
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether key `i` may send a request now.
    pub(crate) fn admit(&self, i: usize) -> bool {
        self.limits[i].admit(Instant::now())
    }

    /// The deadline of a request.
    pub(crate) fn deadline(&self) -> Duration {
        Duration::from_millis(self.cfg.deadline_ms)
    }
}

/// A key's rate limit (generic cell rate): `rate` requests per second, bursts of as many;
/// 0: none.
pub struct RateLimit {
    rate: u32,
    /// The theoretical arrival time of the next request.
    tat: Mutex<Option<Instant>>,
}

impl RateLimit {
    /// A limit of `rate` requests per second (0: none).
    pub fn new(rate: u32) -> Self {
        Self {
            rate,
            tat: Mutex::new(None),
        }
    }

    /// Whether a request arriving at `now` is admitted (and counted if so).
    pub fn admit(&self, now: Instant) -> bool {
        if self.rate == 0 {
            return true;
        }
        let interval = Duration::from_secs(1) / self.rate;
        // `rate` requests may arrive at once: the next is due `rate - 1` intervals early.
        let tolerance = interval * (self.rate - 1);
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        let t = tat.map_or(now, |t| t.max(now));
        if t.duration_since(now) > tolerance {
            return false;
        }
        *tat = Some(t + interval);
        true
    }
}

/// A running gateway: its server and its command channel.
pub struct GatewayHandle {
    /// The bound address.
    pub addr: SocketAddr,
    server: actix_web::dev::ServerHandle,
    commands: Arc<Commands>,
}

impl GatewayHandle {
    /// Stops the server (requests in flight are dropped) and the reply listener.
    pub async fn stop(self) {
        self.server.stop(false).await;
        self.commands.stop().await;
    }
}

/// Starts the reply listener (reading the answer topics from their current end), then
/// binds `cfg.addr` and serves. Call inside a running actix `System`.
///
/// # Errors
///
/// Invalid settings, a broker that cannot be reached, an address that cannot be bound.
pub async fn serve(
    cfg: &GatewayConfig,
    kafka: &KafkaConfig,
    currency: &str,
    runtime: Option<Arc<Runtime>>,
    commands: Option<Arc<Commands>>,
) -> anyhow::Result<GatewayHandle> {
    cfg.validate().map_err(|e| anyhow::anyhow!(e))?;
    let commands = match commands {
        Some(c) => c,
        None => Arc::new(Commands::new(kafka, cfg.waiting_max)?),
    };
    commands
        .start()
        .await
        .context("starting the gateway's reply listener")?;
    let state = web::Data::new(Gateway {
        cfg: cfg.clone(),
        currency: currency.to_owned(),
        commands: commands.clone(),
        runtime,
        limits: cfg
            .keys
            .iter()
            .map(|k| RateLimit::new(k.rate_per_sec))
            .collect(),
        seq: AtomicU64::new(crate::clock::now_ms().max(1) as u64),
    });
    let workers = cfg.workers.max(1);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(routes::BODY_LEN_MAX))
            .configure(routes)
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(1)
    .bind(&cfg.addr)
    .with_context(|| format!("binding the gateway on {} (gateway.addr)", cfg.addr))?;
    let addr = *server
        .addrs()
        .first()
        .ok_or_else(|| anyhow::anyhow!("no address bound"))?;
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    Ok(GatewayHandle {
        addr,
        server: handle,
        commands,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_admits_its_burst_then_one_per_interval() {
        let t0 = Instant::now();
        let l = RateLimit::new(4);
        assert!((0..4).all(|_| l.admit(t0)), "a burst of 4");
        assert!(!l.admit(t0), "the fifth at once");
        assert!(!l.admit(t0 + Duration::from_millis(200)));
        assert!(
            l.admit(t0 + Duration::from_millis(250)),
            "one interval later"
        );
        assert!(!l.admit(t0 + Duration::from_millis(260)));
        assert!(
            (0..4).all(|_| l.admit(t0 + Duration::from_secs(5))),
            "idle refills"
        );
        let none = RateLimit::new(0);
        assert!((0..1000).all(|_| none.admit(t0)));
    }

    #[test]
    fn settings_the_gateway_cannot_work_with_are_refused() {
        assert!(
            GatewayConfig::default().validate().is_ok(),
            "off by default"
        );
        let on = GatewayConfig {
            addr: "127.0.0.1:0".into(),
            ..GatewayConfig::default()
        };
        assert!(on.validate().unwrap_err().contains("keys is empty"));
        let key = GatewayKey {
            name: "k".into(),
            key_sha256: "ab".into(),
            hall: "H-1".into(),
            server: "DESK-1".into(),
            scopes: vec![Scope::Vouchers],
            rate_per_sec: 0,
        };
        let short = GatewayConfig {
            keys: vec![key.clone()],
            ..on.clone()
        };
        assert!(short.validate().unwrap_err().contains("64 hex digits"));
        let good = GatewayConfig {
            keys: vec![GatewayKey {
                key_sha256: "0".repeat(64),
                ..key
            }],
            ..on
        };
        assert!(good.validate().is_ok());
        assert!(GatewayConfig {
            deadline_ms: 0,
            ..good
        }
        .validate()
        .is_err());
    }
}
