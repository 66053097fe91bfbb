//! What every handler shares.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use pitboss_actors::shell::Runtime;

use super::audit::AuditLog;
use super::census::Census;
use super::config::HttpConfig;
use super::feed::JackpotFeed;
use crate::readiness::Readiness;
use crate::store::backup::Backups;
use crate::telemetry;

/// Everything the handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub runtime: Arc<Runtime>,
    /// The jackpot display feed (fed by a [`TeeSink`](super::TeeSink) around the runtime's sink).
    pub feed: Arc<JackpotFeed>,
    pub readiness: Arc<Readiness>,
    pub census: Arc<Census>,
    pub audit: Arc<AuditLog>,
    /// The Prometheus recorder's handle (`None`: `/metrics` answers 503).
    pub metrics: Option<PrometheusHandle>,
    pub config: Arc<HttpConfig>,
    /// Backups of the embedded store this process holds (`POST /api/admin/backup`); `None`
    /// when it keeps none (the endpoint answers 503).
    pub backups: Option<Arc<Backups>>,
    /// The command channel to the input topic (`pitboss run`): the admin API's voucher void;
    /// `None` in the demo (the endpoint answers 503).
    pub commands: Option<Arc<crate::gateway::Commands>>,
    /// Reports from the stored state (`GET /api/reports/...`); `None` with the in-memory
    /// store (the endpoints answer 503).
    pub reports: Option<Arc<crate::report::Reports>>,
}

impl HttpState {
    /// The state for a runtime whose sink is wrapped by a [`TeeSink`](super::TeeSink) over `feed`.
    pub fn new(
        runtime: Arc<Runtime>,
        feed: Arc<JackpotFeed>,
        readiness: Arc<Readiness>,
        config: HttpConfig,
    ) -> Self {
        let census = Arc::new(Census::new(&config, runtime.config.currency.as_str()));
        let audit = Arc::new(AuditLog::new(&config.audit_log));
        Self {
            runtime,
            feed,
            readiness,
            census,
            audit,
            metrics: telemetry::handle(),
            config: Arc::new(config),
            backups: None,
            commands: None,
            reports: None,
        }
    }

    /// Serves reports from this store.
    pub fn with_reports(mut self, reports: Option<Arc<crate::report::Reports>>) -> Self {
        self.reports = reports;
        self
    }

    /// Sends admin commands (a voucher void) through the input topic.
    pub fn with_commands(mut self, commands: Option<Arc<crate::gateway::Commands>>) -> Self {
        self.commands = commands;
        self
    }

    /// Serves backups of this embedded store.
    pub fn with_backups(mut self, backups: Option<Arc<Backups>>) -> Self {
        self.backups = backups;
        self
    }
}
