//! The periodic work of a running runtime: pool levels published at most every
//! `level-publish-interval-ms` (and GGR windows closed on the same tick), idle actors
//! passivated every `passivate-idle-ms`.

use std::sync::Arc;
use std::time::Duration;

use pitboss_actors::shell::Runtime;
use tokio::sync::watch;

use crate::config::RuntimeSection;

/// The running jobs; [`PeriodicJobs::stop`] ends them at once, so that they let go of the
/// runtime (and with it the store: a process may open the embedded store again).
pub struct PeriodicJobs {
    stop: watch::Sender<bool>,
}

impl PeriodicJobs {
    /// Starts the jobs on the current actix system.
    pub fn start(rt: &Arc<Runtime>, cfg: &RuntimeSection) -> Self {
        let (stop, stopped) = watch::channel(false);
        let every = |ms: u64| Duration::from_millis(ms.max(1));
        type Job = fn(&Runtime);
        let jobs: Vec<(Duration, Job)> = vec![
            (every(cfg.level_publish_interval_ms), |rt| rt.tick(false)),
            (every(cfg.passivate_idle_ms), |rt| rt.sweep_idle()),
        ];
        for (period, job) in jobs {
            let rt = rt.clone();
            actix::spawn(every_until_stopped(period, stopped.clone(), move || {
                job(&rt);
                std::future::ready(())
            }));
        }
        Self { stop }
    }

    pub fn stop(&self) {
        self.stop.send_replace(true);
    }
}

/// Runs `job` every `period` (not at once) until `stopped` turns true, returning as soon as
/// it does.
pub async fn every_until_stopped<F, Fut>(
    period: Duration,
    mut stopped: watch::Receiver<bool>,
    mut job: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut t = tokio::time::interval(period);
    t.tick().await;
    loop {
        if *stopped.borrow() {
            return;
        }
        tokio::select! {
            _ = t.tick() => job().await,
            r = stopped.changed() => {
                if r.is_err() {
                    return;
                }
            }
        }
    }
}
