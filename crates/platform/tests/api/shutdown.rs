//! Graceful shutdown of a real service process: SIGTERM lets in-flight requests finish.
//! Also checks that the process exports its traces over OTLP when configured to.

use crate::helpers::{client, spawn_template_service};
use contracts::Role;
use std::time::Duration;
use testkit::fake_http::FakeHttp;
use testkit::keys::{KEY_1, jwks, token};
use testkit::{TestSchema, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_complete_then_exits() {
    let schema = TestSchema::create(&[]).await;
    let collector = FakeHttp::start().await;
    let (mut child, base) = spawn_template_service(&schema, &[("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url())]).await;
    let client = client();

    let in_flight = tokio::spawn(client.get(format!("{base}/v1/slow?ms=1500")).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id().unwrap() as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);

    let response = in_flight.await.unwrap().expect("the in-flight request is answered");
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["slept_ms"], 1500);

    let status =
        tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("exits after draining").unwrap();
    assert!(status.success(), "clean exit: {status}");
    assert!(client.get(format!("{base}/live")).send().await.is_err(), "no longer listening");
    assert!(
        collector.requests().iter().any(|r| r.method == "POST" && r.path == "/v1/traces"),
        "spans were exported over OTLP at shutdown"
    );
}

/// A broker that stops answering (frozen, its connections left open) must not hold a service's
/// exit: the consumers' last commit and close and the relay are bounded by the shutdown
/// deadline, and the process exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_within_the_deadline_when_the_broker_stops_answering() {
    const SHUTDOWN_SECS: u64 = 5;
    let schema = TestSchema::create(&[]).await;
    let broker = testkit::broker::KafkaBroker::start_with(testkit::broker::Storage::Memory).await;
    let auth = FakeHttp::start().await;
    auth.respond("/.well-known/jwks.json", 200, serde_json::to_value(jwks(&[KEY_1])).unwrap());
    let (mut child, base) = spawn_template_service(
        &schema,
        &[
            ("JWT_JWKS_URL", format!("{}/.well-known/jwks.json", auth.url())),
            ("KAFKA_BROKERS", broker.brokers()),
            ("MEBELPLACE__HTTP__SHUTDOWN_TIMEOUT_SECS", SHUTDOWN_SECS.to_string()),
        ],
    )
    .await;
    let client = client();
    let note = serde_json::json!({ "text": "Шкаф готов" });
    let posted = client.post(format!("{base}/v1/notes")).bearer_auth(token(7, Role::Buyer)).json(&note).send();
    assert_eq!(posted.await.unwrap().status().as_u16(), 202);
    eventually("the consumer is in its group and took the note in", Duration::from_secs(45), || async {
        let response = client.get(format!("{base}/v1/notes/received")).send().await.unwrap();
        response.json::<serde_json::Value>().await.unwrap()["received"] == 1
    })
    .await;

    broker.freeze();
    let posted = client.post(format!("{base}/v1/notes")).bearer_auth(token(7, Role::Buyer)).json(&note).send();
    assert_eq!(posted.await.unwrap().status().as_u16(), 202, "writes go on into the outbox");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = std::time::Instant::now();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) }, 0);
    let bound = Duration::from_secs(SHUTDOWN_SECS + 10);
    let status = tokio::time::timeout(bound, child.wait()).await.expect("exits within the deadline").unwrap();
    println!("exited {:.1} s after SIGTERM with the broker frozen", started.elapsed().as_secs_f64());
    assert!(status.success(), "clean exit: {status}");
}
