//! The smallest service built on the platform: configuration, telemetry, Postgres, Redis,
//! NATS, Kafka, the outbox relay and the operational endpoints, plus two demo routes.
//! New services start from this shape; tests use it for graceful shutdown and the idle-RSS
//! benchmark.

use actix_web::{HttpResponse, web};
use platform::health::{Dependency, Health};
use platform::outbox::OutboxRelay;
use platform::{Application, Settings, config, db, kafka, nats, redis, telemetry};
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
    let pg = db::pool(&settings.database)?;
    let redis = redis::pool(&settings.redis)?;
    let nats = nats::connect(&settings.nats, SERVICE).await?;
    let producer = kafka::producer(&settings.kafka)?;
    let health = Health::new(
        SERVICE,
        env!("CARGO_PKG_VERSION"),
        vec![
            Dependency::postgres(pg.clone()),
            Dependency::redis(redis),
            Dependency::nats(nats.clone()),
            Dependency::kafka(producer.clone()),
        ],
    );
    let relay = OutboxRelay::new(pg, &settings.database, settings.outbox.clone())
        .with_kafka(producer, settings.kafka.clone())
        .with_nats(nats, settings.nats.clone());
    let mut app = Application::build(SERVICE, &settings, health, |cfg| {
        cfg.route("/v1/slow", web::get().to(slow));
    })?;
    app.spawn_background("outbox-relay", |stop| relay.run(stop));
    app.run_until_stopped().await
}
