//! Operational endpoints every service has: `/health`, `/live`, `/ready`, `/metrics`.

use crate::health::{Health, HealthReport, Status};
use crate::metrics::Metrics;
use actix_web::{HttpResponse, web};

/// The operational paths (all GET).
pub const PATHS: [&str; 4] = ["/health", "/live", "/ready", "/metrics"];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/live", web::get().to(live))
        .route("/ready", web::get().to(ready))
        .route("/metrics", web::get().to(metrics));
}

/// Every component with its status. Always 200: the body says how healthy the service is.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = HealthReport)))]
pub async fn health(health: web::Data<Health>) -> HttpResponse {
    HttpResponse::Ok().json(health.report().await)
}

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/live", tag = "operations", responses((status = 200)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "alive" }))
}

/// 200 when every required dependency answers, 503 otherwise (take me out of the load balancer).
/// Optional dependencies are left out, so it answers within half a second whatever they do.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, body = HealthReport), (status = 503, body = HealthReport)))]
pub async fn ready(health: web::Data<Health>) -> HttpResponse {
    let report = health.readiness().await;
    let mut response =
        if report.status == Status::Unhealthy { HttpResponse::ServiceUnavailable() } else { HttpResponse::Ok() };
    response.json(report)
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(metrics.render())
}
