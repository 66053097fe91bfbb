//! What `pitboss demo` and `pitboss run` share, built one way: the store, the actor runtime
//! with its outputs teed to the jackpot feed, the periodic jobs, the HTTP side, and
//! shutdown.
//!
//! The two commands differ only in where events come from (the simulator, in process; the
//! Kafka consumer group) and where outputs go (counted for the demo's summary; the output
//! topics), and they pass those in. Nothing here knows Kafka or the simulator, and nothing
//! but the binary knows the demo.

mod jobs;
mod shutdown;

use std::sync::Arc;

use pitboss_actors::shell::{EventSink, Runtime, RuntimeConfig, StateStore, StoreError};

use crate::config::Config;
use crate::http::{self, HttpConfig, HttpHandle, HttpState, JackpotFeed, TeeSink};
use crate::readiness::Readiness;
use crate::rng::KeyedHitPoints;
use crate::store::backup::Backups;
use crate::store::{self, Opened};

pub use jobs::{every_until_stopped, PeriodicJobs};
pub use shutdown::{shutdown_channel, stop_on_signals, Shutdown};

/// Opens the configured store. `fresh` first deletes the embedded store's file: the demo's
/// simulator starts its network over, so the previous demo's state would only be in the way.
pub async fn open_store(cfg: &Config, fresh: bool) -> Result<Opened, StoreError> {
    if fresh && store::clear_embedded(&cfg.store)? {
        tracing::info!(dir = %cfg.store.data_dir.display(), "deleted the previous demo's embedded store");
    }
    store::open(&cfg.store).await
}

/// Starts the actor runtime over `store`. Its outputs go to `sink`; with a `feed`, through a
/// tee that also counts them in the metrics and hands jackpot levels and hits to the feed.
pub fn start_runtime(
    cfg: &Config,
    rc: RuntimeConfig,
    sink: Arc<dyn EventSink>,
    store: Arc<dyn StateStore>,
    feed: Option<&Arc<JackpotFeed>>,
) -> Arc<Runtime> {
    let outputs: Arc<dyn EventSink> = match feed {
        Some(f) => Arc::new(TeeSink::new(sink, f.clone())),
        None => sink,
    };
    Runtime::start(
        rc,
        outputs,
        store,
        Arc::new(KeyedHitPoints::new(&cfg.runtime.hit_point_secret)),
        Arc::new(pitboss_actors::shell::SystemClock),
    )
}

/// Serves metrics, health, the jackpot page and feed, and the APIs on `cfg.addr`.
pub async fn serve_http(
    rt: &Arc<Runtime>,
    feed: Arc<JackpotFeed>,
    readiness: &Arc<Readiness>,
    cfg: &HttpConfig,
) -> std::io::Result<HttpHandle> {
    serve_http_with(rt, feed, readiness, cfg, None, None, None).await
}

/// [`serve_http`], also serving backups of the embedded store this process holds, admin
/// commands through the input topic and reports from the store.
pub async fn serve_http_with(
    rt: &Arc<Runtime>,
    feed: Arc<JackpotFeed>,
    readiness: &Arc<Readiness>,
    cfg: &HttpConfig,
    backups: Option<Arc<Backups>>,
    commands: Option<Arc<crate::gateway::Commands>>,
    reports: Option<Arc<crate::report::Reports>>,
) -> std::io::Result<HttpHandle> {
    let state = HttpState::new(rt.clone(), feed, readiness.clone(), cfg.clone())
        .with_backups(backups)
        .with_commands(commands)
        .with_reports(reports);
    http::serve(state, &cfg.addr).await
}

/// The reports a process serves from the store it opened (`None` for the in-memory store,
/// which keeps nothing to report from).
pub fn reports(
    cfg: &crate::config::Config,
    opened: &crate::store::Opened,
) -> anyhow::Result<Option<Arc<crate::report::Reports>>> {
    let Some(source) = opened.audit.clone() else {
        return Ok(None);
    };
    Ok(Some(Arc::new(crate::report::Reports {
        source,
        days: cfg.gaming_days()?,
        currency: cfg.network.currency.clone(),
        holds: crate::report::machines::Holds::of_config(&cfg.runtime_config()?),
        patron_time_zone: cfg.responsible_gaming.time_zone.clone(),
        aml: cfg.aml.rules()?,
    })))
}
