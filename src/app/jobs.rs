//! The periodic work of a running runtime: pool levels published at most every
//! `level-publish-interval-ms` (and GGR windows closed on the same tick), idle actors
//! passivated every `passivate-idle-ms`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pitboss_actors::shell::Runtime;

use crate::config::RuntimeSection;

/// The running jobs; [`PeriodicJobs::stop`] ends them at their next tick.
pub struct PeriodicJobs {
    stop: Arc<AtomicBool>,
}

impl PeriodicJobs {
    /// Starts the jobs on the current actix system.
    pub fn start(rt: &Arc<Runtime>, cfg: &RuntimeSection) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let every = |ms: u64| Duration::from_millis(ms.max(1));
        type Job = fn(&Runtime);
        let jobs: Vec<(Duration, Job)> = vec![
            (every(cfg.level_publish_interval_ms), |rt| rt.tick(false)),
            (every(cfg.passivate_idle_ms), |rt| rt.sweep_idle()),
        ];
        for (period, job) in jobs {
            let (rt, stop) = (rt.clone(), stop.clone());
            actix::spawn(async move {
                let mut t = tokio::time::interval(period);
                t.tick().await;
                while !stop.load(Ordering::Relaxed) {
                    t.tick().await;
                    job(&rt);
                }
            });
        }
        Self { stop }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
