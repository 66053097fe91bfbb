//! The operator's surface over HTTP (actix-web): metrics, health, the jackpot display feed
//! and page, the operator overview, read APIs and the audited admin API for pools.
//!
//! [`serve`] takes its listener address from outside and returns the bound address (tests
//! bind port 0). Handlers never write entity state themselves: reads go through
//! [`Runtime::inspect`](pitboss_actors::shell::Runtime::inspect) (live actor, then store;
//! it never starts an actor) and pool changes through the runtime's operator calls, which
//! the pool's actor applies between two of its messages.

pub mod admin;
pub mod api;
pub mod census;
pub mod feed;
pub mod health;
pub mod pages;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use metrics_exporter_prometheus::PrometheusHandle;
use pitboss_actors::shell::Runtime;
use serde::{Deserialize, Serialize};

pub use admin::{ApiKey, AuditLog, Role};
pub use census::Census;
pub use feed::{JackpotFeed, TeeSink};
pub use health::Readiness;

/// The `[http]` section of the configuration (see `deploy/pitboss.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HttpConfig {
    /// Listen address (`--http-addr` overrides it).
    pub addr: String,
    /// Server worker threads.
    pub workers: usize,
    /// Jackpot level updates on the feed, per pool, at most this often (ms).
    pub feed_level_interval_ms: u64,
    /// Feed events buffered per client before the client starts losing old level updates.
    pub feed_buffer_len: usize,
    /// Recent hits kept to resend to a client that fell behind.
    pub feed_recent_hits_max: usize,
    /// Feed clients at most (more get 503).
    pub feed_clients_max: usize,
    /// A comment line is sent to idle feed clients this often (ms), to keep proxies open.
    pub feed_keepalive_ms: u64,
    /// How often the census inspects live machines and halls (ms).
    pub census_interval_ms: u64,
    /// Machines the census remembers at most.
    pub census_machines_max: usize,
    /// Halls the census remembers at most.
    pub census_halls_max: usize,
    /// Items a list endpoint returns at most.
    pub list_len_max: usize,
    /// Read APIs (machines, wallets, halls) need a key with the viewer role.
    pub read_requires_key: bool,
    /// The admin audit log: JSON lines, append-only.
    pub audit_log: String,
    /// API keys, stored as the SHA-256 of the key (hex).
    pub api_keys: Vec<ApiKey>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            workers: 2,
            feed_level_interval_ms: 250,
            feed_buffer_len: 256,
            feed_recent_hits_max: 32,
            feed_clients_max: 1000,
            feed_keepalive_ms: 15_000,
            census_interval_ms: 2000,
            census_machines_max: 100_000,
            census_halls_max: 10_000,
            list_len_max: 1000,
            read_requires_key: false,
            audit_log: "data/audit.jsonl".into(),
            api_keys: Vec::new(),
        }
    }
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct HttpState {
    /// The actor runtime.
    pub runtime: Arc<Runtime>,
    /// The jackpot display feed (fed by a [`TeeSink`] around the runtime's sink).
    pub feed: Arc<JackpotFeed>,
    /// Liveness and readiness flags.
    pub readiness: Arc<Readiness>,
    /// The census of machines and halls.
    pub census: Arc<Census>,
    /// The admin audit log.
    pub audit: Arc<AuditLog>,
    /// The Prometheus recorder's handle (`None`: `/metrics` answers 503).
    pub metrics: Option<PrometheusHandle>,
    /// Settings.
    pub config: Arc<HttpConfig>,
}

impl HttpState {
    /// The state for a runtime whose sink is wrapped by a [`TeeSink`] over `feed`.
    pub fn new(
        runtime: Arc<Runtime>,
        feed: Arc<JackpotFeed>,
        readiness: Arc<Readiness>,
        config: HttpConfig,
    ) -> Self {
        let census = Arc::new(Census::new(&config));
        let audit = Arc::new(AuditLog::new(&config.audit_log));
        Self {
            runtime,
            feed,
            readiness,
            census,
            audit,
            metrics: crate::telemetry::handle(),
            config: Arc::new(config),
        }
    }
}

/// A running server and its background tasks (feed flusher, census).
pub struct HttpHandle {
    /// The bound address.
    pub addr: SocketAddr,
    server: actix_web::dev::ServerHandle,
    stop: Arc<AtomicBool>,
}

impl HttpHandle {
    /// Stops the server (open feed streams are dropped) and its background tasks.
    pub async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.server.stop(false).await;
    }
}

/// Binds `addr`, starts the server and its background tasks on the current actix system,
/// and returns the bound address. Call inside a running actix `System`.
pub async fn serve(state: HttpState, addr: &str) -> std::io::Result<HttpHandle> {
    let data = web::Data::new(state.clone());
    let workers = state.config.workers.max(1);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(64 * 1024))
            .app_data(web::QueryConfig::default().error_handler(|err, _req| {
                api::ApiError::bad_request(format!("invalid query: {err}")).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|err, _req| {
                api::ApiError::bad_request(format!("invalid path: {err}")).into()
            }))
            .configure(routes)
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(1)
    .bind(addr)?;
    let bound = *server
        .addrs()
        .first()
        .ok_or_else(|| std::io::Error::other("no address bound"))?;
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    let stop = Arc::new(AtomicBool::new(false));
    start_background(&state, stop.clone());
    Ok(HttpHandle {
        addr: bound,
        server: handle,
        stop,
    })
}

fn start_background(state: &HttpState, stop: Arc<AtomicBool>) {
    let feed = state.feed.clone();
    let stop2 = stop.clone();
    actix_rt::spawn(async move {
        let mut t = tokio::time::interval(feed.level_interval());
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !stop2.load(Ordering::Relaxed) {
            t.tick().await;
            feed.flush_levels();
        }
    });
    let (census, rt) = (state.census.clone(), state.runtime.clone());
    let every = Duration::from_millis(state.config.census_interval_ms.max(100));
    actix_rt::spawn(async move {
        let mut t = tokio::time::interval(every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !stop.load(Ordering::Relaxed) {
            t.tick().await;
            census.run(&rt).await;
        }
    });
}

/// Every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::display))
        .route("/operator", web::get().to(pages::operator))
        .route("/static/{file}", web::get().to(pages::asset))
        .route("/metrics", web::get().to(health::metrics))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/api/jackpots/stream", web::get().to(feed::stream))
        .route("/api/pools", web::get().to(api::pools))
        .route("/api/pools/{id}", web::get().to(api::pool))
        .route("/api/machines", web::get().to(api::machines))
        .route("/api/machines/{id}", web::get().to(api::machine))
        .route("/api/wallets/{id}", web::get().to(api::wallet))
        .route("/api/halls", web::get().to(api::halls))
        .route("/api/halls/{id}/ggr", web::get().to(api::hall_ggr))
        .route("/api/admin/pools", web::post().to(admin::create_pool))
        .route(
            "/api/admin/pools/{id}/levels/{level}",
            web::patch().to(admin::change_level),
        )
        .route("/api/admin/audit", web::get().to(admin::audit))
        .default_service(web::to(api::not_found));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_embedded_defaults_match_the_code() {
        let c = Config::load_with_env(None, Vec::new()).unwrap();
        assert_eq!(c.http, HttpConfig::default());
    }

    #[test]
    fn keys_and_environment_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[http]\nread-requires-key = true\n[[http.api-keys]]\nname = \"a\"\nkey-sha256 = \"00\"\nrole = \"admin\"\n",
        )
        .unwrap();
        let env = vec![("PITBOSS_HTTP__ADDR".to_string(), "0.0.0.0:9000".to_string())];
        let c = Config::load_with_env(Some(&path), env).unwrap();
        assert_eq!(c.http.addr, "0.0.0.0:9000");
        assert!(c.http.read_requires_key);
        assert_eq!(c.http.api_keys[0].role, Role::Admin);
        assert_eq!(
            c.http.feed_level_interval_ms, 250,
            "untouched keys keep their default"
        );
        std::fs::write(
            &path,
            "[[http.api-keys]]\nname = \"a\"\nkey-sha256 = \"00\"\nrole = \"root\"\n",
        )
        .unwrap();
        let e = Config::load_with_env(Some(&path), Vec::new()).unwrap_err();
        assert!(e.to_string().contains("root"), "{e}");
    }
}
