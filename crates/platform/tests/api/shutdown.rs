//! Graceful shutdown of a real service process: SIGTERM lets in-flight requests finish.
//! Also checks that the process exports its traces over OTLP when configured to.

use crate::helpers::{client, spawn_template_service};
use std::time::Duration;
use testkit::TestSchema;
use testkit::fake_http::FakeHttp;

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
