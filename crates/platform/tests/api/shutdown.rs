//! Graceful shutdown of a real service process: SIGTERM lets in-flight requests finish.
//! Also checks that the process exports its traces over OTLP when configured to.

use crate::helpers::client;
use std::process::Stdio;
use std::time::Duration;
use testkit::fake_http::FakeHttp;
use testkit::{TestSchema, eventually, free_port, unique_prefix};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_complete_then_exits() {
    let schema = TestSchema::create(&[]).await;
    let collector = FakeHttp::start().await;
    let port = free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_minimal-service"))
        .env("PORT", port.to_string())
        .env("DATABASE_URL", &schema.url)
        .env("DATABASE_SCHEMA", &schema.name)
        .env("KAFKA_BROKERS", testkit::kafka_brokers())
        .env("KAFKA_IDEMPOTENT_PRODUCER", "false")
        .env("MEBELPLACE__KAFKA__TOPIC_PREFIX", unique_prefix())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url())
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = client();
    eventually("the service is ready", Duration::from_secs(30), || {
        let request = client.get(format!("{base}/ready")).send();
        async move { request.await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;

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
