//! `/healthz`, `/readyz` and `/metrics`.

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::HttpState;
use crate::telemetry;

/// Whether this instance should get traffic. The processor sets `consuming` (partitions
/// assigned and being consumed; the demo: its loop has started), the store adapter
/// `store_reachable` (last load or flush succeeded; the in-memory store: always), and
/// shutdown clears `accepting` first so load balancers stop sending before it drains.
#[derive(Debug)]
pub struct Readiness {
    consuming: AtomicBool,
    store_reachable: AtomicBool,
    accepting: AtomicBool,
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new()
    }
}

impl Readiness {
    /// Not ready: nothing consumed yet, store not yet reached.
    pub fn new() -> Self {
        Self {
            consuming: AtomicBool::new(false),
            store_reachable: AtomicBool::new(false),
            accepting: AtomicBool::new(true),
        }
    }

    /// The processor is (or is no longer) consuming its input.
    pub fn set_consuming(&self, v: bool) {
        self.consuming.store(v, Ordering::Relaxed);
    }

    /// The store answered (or failed).
    pub fn set_store_reachable(&self, v: bool) {
        self.store_reachable.store(v, Ordering::Relaxed);
    }

    /// Shutting down: not ready from now on.
    pub fn set_shutting_down(&self) {
        self.accepting.store(false, Ordering::Relaxed);
    }

    /// Consuming, store reachable and not shutting down.
    pub fn is_ready(&self) -> bool {
        self.consuming.load(Ordering::Relaxed)
            && self.store_reachable.load(Ordering::Relaxed)
            && self.accepting.load(Ordering::Relaxed)
    }

    fn report(&self) -> ReadyReport {
        ReadyReport {
            ready: self.is_ready(),
            consuming: self.consuming.load(Ordering::Relaxed),
            store_reachable: self.store_reachable.load(Ordering::Relaxed),
            shutting_down: !self.accepting.load(Ordering::Relaxed),
        }
    }
}

#[derive(Serialize)]
struct ReadyReport {
    ready: bool,
    consuming: bool,
    store_reachable: bool,
    shutting_down: bool,
}

/// Alive: the HTTP server answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "alive" }))
}

/// Ready: 200 when consuming and the store is reachable, else 503 with the flags.
pub async fn readyz(state: web::Data<HttpState>) -> HttpResponse {
    let report = state.readiness.report();
    if report.ready {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::ServiceUnavailable().json(report)
    }
}

/// Prometheus text exposition.
pub async fn metrics(state: web::Data<HttpState>) -> HttpResponse {
    let Some(handle) = &state.metrics else {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .body("metrics recorder not installed\n");
    };
    telemetry::runtime_stats(&state.runtime);
    telemetry::ready(state.readiness.is_ready());
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}
