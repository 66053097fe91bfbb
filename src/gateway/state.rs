//! What the gateway's handlers share, and the per-key rate limit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pitboss_actors::shell::Runtime;

use super::commands::Commands;
use super::config::GatewayConfig;

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
    /// The handlers' state for `cfg`'s keys.
    pub fn new(
        cfg: GatewayConfig,
        currency: String,
        commands: Arc<Commands>,
        runtime: Option<Arc<Runtime>>,
    ) -> Self {
        let limits = cfg
            .keys
            .iter()
            .map(|k| RateLimit::new(k.rate_per_sec))
            .collect();
        Self {
            cfg,
            currency,
            commands,
            runtime,
            limits,
            seq: AtomicU64::new(crate::clock::now_ms().max(1) as u64),
        }
    }

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
}
