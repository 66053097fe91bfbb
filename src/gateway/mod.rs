//! The synchronous gateway for cash desks and game providers (issue 12): a person at a desk
//! or a provider's seamless-wallet call waits for the answer in the same HTTP request.
//!
//! A request goes the way every other command goes, so nothing is applied twice and nothing
//! bypasses the rules:
//! 1. the key says who is asking: its `hall` and `server` become the event's `source`, so a
//!    desk cannot act as another desk;
//! 2. the body becomes an input event (a wallet, voucher or desk command), validated exactly as
//!    the processor validates it (a bad one is answered 400 with its stable code and never
//!    produced);
//! 3. the event is produced on the input topic with the key any producer would use (the
//!    player, the validation number, the desk);
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
mod config;
mod reads;
mod replies;
mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{web, App, HttpServer};
use anyhow::Context;

use pitboss_actors::shell::Runtime;

use crate::kafka::KafkaConfig;

pub use commands::{Commands, SubmitError};
pub use config::{GatewayConfig, GatewayKey, Scope};
pub use replies::{desk_key, voucher_key, wallet_key, Answer, ReplyListener, Waiters};
pub use state::{Gateway, RateLimit};

/// Every route of the gateway (schemas/gateway-openapi.yaml lists the same).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/gateway/v1/wallet/{op}", web::post().to(routes::wallet))
        .route(
            "/gateway/v1/vouchers/{op}",
            web::post().to(routes::vouchers),
        )
        .route("/gateway/v1/desk/{op}", web::post().to(routes::desk))
        .route(
            "/gateway/v1/wallet/{player}/balance",
            web::get().to(reads::balance),
        )
        .route(
            "/gateway/v1/vouchers/{validation}/status",
            web::get().to(reads::voucher),
        )
        .default_service(web::to(routes::not_found));
}

/// A running gateway: its server and its command channel.
pub struct GatewayHandle {
    /// The bound address.
    pub addr: SocketAddr,
    server: actix_web::dev::ServerHandle,
    /// The command channel, if the gateway made its own (one passed in is its owner's to
    /// stop: `pitboss run` shares it with the admin API).
    own_commands: Option<Arc<Commands>>,
}

impl GatewayHandle {
    /// Stops the server (requests in flight are dropped) and the reply listener.
    pub async fn stop(self) {
        self.server.stop(false).await;
        if let Some(c) = self.own_commands {
            c.stop().await;
        }
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
    let (commands, own_commands) = match commands {
        Some(c) => (c, None),
        None => {
            let c = Arc::new(Commands::new(kafka, cfg.waiting_max)?);
            (c.clone(), Some(c))
        }
    };
    commands
        .start()
        .await
        .context("starting the gateway's reply listener")?;
    let state = web::Data::new(Gateway::new(
        cfg.clone(),
        currency.to_owned(),
        commands.clone(),
        runtime,
    ));
    let workers = cfg.workers.max(1);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(routes::BODY_LEN_MAX))
            .configure(self::routes)
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
        own_commands,
    })
}
