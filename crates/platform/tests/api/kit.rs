//! The service template (`minimal-service`), a declared service with no wiring of its own, run
//! as a process: HTTP with token checks, health, metrics, an event through the outbox and
//! Kafka, and its own consumer taking it in once.

use crate::helpers::{client, spawn_template_service};
use contracts::Role;
use std::time::Duration;
use testkit::fake_http::FakeHttp;
use testkit::keys::{KEY_1, jwks, token};
use testkit::{TestSchema, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_service_serves_publishes_and_consumes_through_the_kit() {
    let schema = TestSchema::create(&[]).await;
    let auth = FakeHttp::start().await;
    auth.respond("/.well-known/jwks.json", 200, serde_json::to_value(jwks(&[KEY_1])).unwrap());
    let jwks_url = format!("{}/.well-known/jwks.json", auth.url());
    let (_service, base) = spawn_template_service(&schema, &[("JWT_JWKS_URL", jwks_url)]).await;
    let client = client();

    let anonymous = client.post(format!("{base}/v1/notes")).json(&serde_json::json!({ "text": "hi" })).send();
    assert_eq!(anonymous.await.unwrap().status().as_u16(), 401, "the kit's verifier guards AuthUser routes");
    let posted = client
        .post(format!("{base}/v1/notes"))
        .bearer_auth(token(7, Role::Buyer))
        .json(&serde_json::json!({ "text": "Шкаф готов" }))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status().as_u16(), 202);

    let received = || async {
        let response = client.get(format!("{base}/v1/notes/received")).send().await.unwrap();
        response.json::<serde_json::Value>().await.unwrap()["received"].as_i64().unwrap()
    };
    eventually("the consumer took the note in", Duration::from_secs(45), || async { received().await == 1 }).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(received().await, 1, "once");

    let health: serde_json::Value = client.get(format!("{base}/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["service"], "minimal");
    for component in ["postgres", "redis", "nats", "kafka"] {
        assert_eq!(health["components"][component]["status"], "up", "{component}: {health}");
    }
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"http_requests_total{endpoint="/v1/notes",method="POST",status="202",service="minimal"} 1"#),
        "{metrics}"
    );
    // What the Kit reports for every service: the consumer, the outbox, the pool, the build.
    for expected in [
        r#"consumer_events_total{group="minimal.notes",outcome="processed",service="minimal"} 1"#,
        r#"consumer_events_total{group="minimal.notes",outcome="dead_lettered",service="minimal"} 0"#,
        r#"consumer_lag{group="minimal.notes",service="minimal"}"#,
        r#"consumer_last_event_timestamp_seconds{group="minimal.notes",service="minimal"}"#,
        r#"outbox_published_total{destination="mebelplace.notification.requests.v1",service="minimal"} 1"#,
        r#"outbox_backlog{service="minimal"}"#,
        r#"outbox_relay_lag_seconds{service="minimal"}"#,
        r#"db_pool_connections{state="idle",service="minimal"}"#,
        r#"db_pool_max_connections{service="minimal"}"#,
        r#"build_info{commit=""#,
    ] {
        assert!(metrics.contains(expected), "{expected} in {metrics}");
    }
    assert_eq!(health["commit"], platform::metrics::build::COMMIT, "{health}");
}
