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
pub mod audit;
pub mod auth;
pub mod backup;
pub mod case_admin;
pub mod cases;
pub mod census;
mod command_admin;
pub mod config;
pub mod error;
pub mod feed;
pub mod health;
pub mod money;
pub mod pages;
pub mod player_admin;
pub mod silence;
pub mod state;
pub mod views;
pub mod voucher_admin;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};

pub use audit::AuditLog;
pub use auth::{ApiKey, Role};
pub use census::Census;
pub use config::HttpConfig;
pub use feed::{JackpotFeed, TeeSink};
pub use state::HttpState;

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
    let feed = web::Data::from(state.feed.clone());
    let workers = state.config.workers.max(1);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(feed.clone())
            .app_data(web::PayloadConfig::new(admin::BODY_LEN_MAX))
            .app_data(web::QueryConfig::default().error_handler(|err, _req| {
                error::ApiError::bad_request(format!("invalid query: {err}")).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|err, _req| {
                error::ApiError::bad_request(format!("invalid path: {err}")).into()
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
        let mut seeded = false;
        while !stop.load(Ordering::Relaxed) {
            t.tick().await;
            if !seeded {
                seeded = census.seed_from_store(&rt).await;
            }
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
        .route(
            "/api/machines/{id}/events",
            web::get().to(api::machine_events),
        )
        .route("/api/handpays", web::get().to(api::handpays))
        .route("/api/alerts", web::get().to(api::alerts))
        .route("/api/compliance/cases", web::get().to(api::aml_cases))
        .route(
            "/api/admin/compliance/cases/{id}/close",
            web::post().to(case_admin::close),
        )
        .route("/api/reports/gaming-day", web::get().to(api::gaming_day))
        .route("/api/reports/shifts", web::get().to(api::shifts))
        .route("/api/reports/patrons", web::get().to(api::patrons))
        .route(
            "/api/vouchers/liability",
            web::get().to(api::voucher_liability),
        )
        .route("/api/vouchers/{validation}", web::get().to(api::voucher))
        .route("/api/desks/{id}", web::get().to(api::desk))
        .route("/api/wallets/{id}", web::get().to(api::wallet))
        .route("/api/halls", web::get().to(api::halls))
        .route("/api/halls/{id}/ggr", web::get().to(api::hall_ggr))
        .route("/api/admin/pools", web::post().to(admin::create_pool))
        .route(
            "/api/admin/pools/{id}/levels/{level}",
            web::patch().to(admin::change_level),
        )
        .route(
            "/api/admin/vouchers/{validation}/void",
            web::post().to(voucher_admin::void),
        )
        .route(
            "/api/admin/players/{player}/limits",
            web::post().to(player_admin::set_limit),
        )
        .route(
            "/api/admin/players/{player}/bonus",
            web::post().to(player_admin::award_bonus),
        )
        .route("/api/admin/audit", web::get().to(admin::audit))
        .route("/api/admin/backup", web::post().to(backup::backup))
        .default_service(web::to(api::not_found));
}
