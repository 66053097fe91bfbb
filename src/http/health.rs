//! `/healthz`, `/readyz` and `/metrics`.

use actix_web::{web, HttpResponse};

use super::state::HttpState;
use crate::telemetry;

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
