use crate::helpers::*;
use platform::health::{Dependency, Health};
use std::time::Duration;
use testkit::proxy::TcpProxy;
use testkit::{TestSchema, eventually, unique_prefix};

#[tokio::test]
async fn ready_is_503_while_postgres_is_unreachable_and_200_when_it_returns() {
    let schema = TestSchema::create(&[]).await;
    let proxy = TcpProxy::start("127.0.0.1:5432").await;
    let mut settings = testkit::settings(&schema, &unique_prefix());
    settings.database = schema.settings_via(&proxy.address());
    let pool = platform::db::pool(&settings.database).unwrap();
    let health = Health::new("test", "0.0.0", vec![Dependency::postgres(pool)]);
    let app = spawn_app(&settings, health, |_| {}).await;
    let client = client();
    let status = || async { client.get(app.url("/ready")).send().await.unwrap().status().as_u16() };

    assert_eq!(status().await, 200);
    proxy.cut();
    let response = client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["components"]["postgres"]["status"], "down");
    assert_eq!(status().await, 503);
    let live = client.get(app.url("/live")).send().await.unwrap();
    assert_eq!(live.status().as_u16(), 200, "liveness does not depend on Postgres");

    proxy.restore();
    eventually("ready again", Duration::from_secs(15), || async { status().await == 200 }).await;
}

#[tokio::test]
async fn health_lists_every_component_and_an_optional_one_only_degrades() {
    let schema = TestSchema::create(&[]).await;
    let settings = testkit::settings(&schema, &unique_prefix());
    let pool = platform::db::pool(&settings.database).unwrap();
    let redis = platform::redis::pool(&settings.redis).unwrap();
    let nats = platform::nats::connect(&settings.nats, "test").await.unwrap();
    let broken = Dependency::new("search", false, || async { Err("connection refused".to_owned()) });
    let health = Health::new(
        "test",
        "1.2.3",
        vec![Dependency::postgres(pool), Dependency::redis(redis), Dependency::nats(nats), broken],
    );
    let app = spawn_app(&settings, health, |_| {}).await;
    let client = client();
    let health =
        || async { client.get(app.url("/health")).send().await.unwrap().json::<serde_json::Value>().await.unwrap() };
    // The NATS client connects in the background; until then the service is rightly unhealthy.
    eventually("only the optional component is down", Duration::from_secs(10), || async {
        health().await["status"] == "degraded"
    })
    .await;
    let body = health().await;
    assert_eq!(body["service"], "test");
    assert_eq!(body["version"], "1.2.3");
    for component in ["postgres", "redis", "nats"] {
        assert_eq!(body["components"][component]["status"], "up", "{component}: {body}");
    }
    assert_eq!(body["components"]["search"]["error"], "connection refused");
    assert_eq!(client.get(app.url("/ready")).send().await.unwrap().status().as_u16(), 200);
}

#[tokio::test]
async fn ready_answers_at_once_when_an_optional_dependency_hangs() {
    let schema = TestSchema::create(&[]).await;
    let settings = testkit::settings(&schema, &unique_prefix());
    let pool = platform::db::pool(&settings.database).unwrap();
    // A Kafka broker that is down answers nothing; writes wait in the outbox meanwhile.
    let hanging = Dependency::new("kafka", false, || async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Ok(())
    });
    let health = Health::new("test", "0.0.0", vec![Dependency::postgres(pool), hanging]);
    let app = spawn_app(&settings, health, |_| {}).await;
    let client = client();
    let started = std::time::Instant::now();
    let response = client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(started.elapsed() < Duration::from_secs(5), "ready waited for the hanging check: {:?}", started.elapsed());
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["components"]["kafka"].is_null(), "optional dependencies are not probed for readiness");
    let health: serde_json::Value = client.get(app.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["components"]["kafka"]["error"], "timed out", "but /health still reports them");
}
