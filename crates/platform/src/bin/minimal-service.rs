//! The smallest service built on the platform: configuration, telemetry, Postgres, Redis,
//! NATS, Kafka, the outbox relay and the operational endpoints, plus two demo routes.
//! New services start from this shape; tests use it for graceful shutdown and the idle-RSS
//! benchmark.

use actix_web::{HttpResponse, web};
use platform::{Application, Connections, Settings, config, db, telemetry};
use std::time::Duration;

const SERVICE: &str = "minimal";

#[derive(serde::Deserialize)]
struct Pause {
    ms: u64,
}

/// Answers after `ms` milliseconds (at most 30 s): lets a test have a request in flight.
async fn slow(query: web::Query<Pause>) -> HttpResponse {
    tokio::time::sleep(Duration::from_millis(query.ms.min(30_000))).await;
    HttpResponse::Ok().json(serde_json::json!({ "slept_ms": query.ms }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let defaults = config::ServiceDefaults { schema: "minimal", port: 8090 };
    let settings: Settings = config::load(defaults, &[])?;
    let _telemetry = telemetry::init(SERVICE, &settings.app, &settings.telemetry)?;
    if platform::app::migrate_requested() {
        return Ok(db::migrate(&settings.database, &[]).await?);
    }
    let connections = Connections::open(SERVICE, &settings).await?;
    let health = connections.health(SERVICE, env!("CARGO_PKG_VERSION"));
    let relay = connections.outbox_relay(&settings);
    let mut app = Application::build(SERVICE, &settings, health, |cfg| {
        cfg.route("/v1/slow", web::get().to(slow));
    })?;
    app.spawn_background("outbox-relay", |stop| relay.run(stop));
    app.run_until_stopped().await
}
