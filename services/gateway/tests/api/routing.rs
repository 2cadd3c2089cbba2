use crate::helpers::*;
use serde_json::json;
use std::time::Duration;
use testkit::fake_http::FakeHttp;

#[tokio::test]
async fn every_route_reaches_its_service_with_forwarding_headers() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|_| {})).await;
    for (path, service) in [
        ("/api/v2/users/42", "auth"),
        ("/.well-known/jwks.json", "auth"),
        ("/api/v2/videos", "media"),
        ("/api/v2/regions", "marketplace"),
        ("/api/v2/search/masters?q=шкаф", "marketplace"),
        ("/api/v2/stories", "media"),
    ] {
        let (status, _, body) = gateway.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        if body.get("service").is_some() {
            assert_eq!(body["service"], service, "{path}");
        } else {
            assert_eq!(body["items"][0]["from"], service, "{path}");
        }
    }
    let token = testkit::keys::token(7, contracts::Role::Buyer);
    for (path, service) in
        [("/api/v2/chats", "chat"), ("/api/v2/notifications", "notification"), ("/api/v2/orders", "marketplace")]
    {
        let (status, _, body) = gateway.send(gateway.client.get(gateway.url(path)).bearer_auth(&token)).await;
        assert_eq!((status, body["service"].as_str()), (200, Some(service)), "{path}");
    }

    let request = gateway
        .client
        .get(gateway.url("/api/v2/regions"))
        .header("X-Request-Id", "req-123")
        .header("Keep-Alive", "timeout=5");
    let (_, headers, body) = gateway.send(request).await;
    assert_eq!(headers["x-request-id"], "req-123");
    let seen = &body["headers"];
    assert_eq!(seen["x-request-id"], "req-123");
    assert_eq!(seen["x-forwarded-for"], "127.0.0.1");
    assert_eq!(seen["x-forwarded-proto"], "http");
    assert!(seen["x-forwarded-host"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(seen["traceparent"].as_str().unwrap().starts_with("00-"), "a trace is started: {seen}");
    assert!(seen.get("keep-alive").is_none(), "hop-by-hop headers stay behind");
    let (_, headers, _) = gateway.get("/api/v2/regions").await;
    assert_eq!(headers["x-request-id"].len(), 36, "an id is generated when none comes");
}

#[tokio::test]
async fn unknown_down_and_slow_answer_in_the_error_shape() {
    let services = Services::start().await;
    let down = dead_address();
    let gateway = Gateway::start(services.config(|g| g["upstreams"]["media"] = json!([down]))).await;

    let (status, _, body) = gateway.get("/api/v2/nowhere").await;
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    let (status, _, body) = gateway.get("/api/v2/videos").await;
    assert_eq!((status, error_code(&body)), (503, "service_unavailable"), "{body}");
    let (status, _, body) = gateway.get("/api/v2/regions/slow").await;
    assert_eq!((status, error_code(&body)), (504, "upstream_timeout"), "{body}");
}

#[tokio::test]
async fn replicas_share_the_load_and_a_dead_one_is_left_out() {
    let services = Services::start().await;
    let second = Upstream::start("marketplace").await;
    let dead = dead_address();
    let replicas = json!([services.marketplace.address, second.address, dead]);
    let gateway = Gateway::start(services.config(|g| g["upstreams"]["marketplace"] = replicas)).await;
    for _ in 0..30 {
        let (status, _, body) = gateway.get("/api/v2/categories").await;
        assert_eq!(status, 200, "a dead replica costs no request: {body}");
    }
    let first_count = services.marketplace.requests().len();
    let second_count = second.requests().len();
    assert_eq!(first_count + second_count, 30);
    assert!(first_count >= 10 && second_count >= 10, "round robin: {first_count} / {second_count}");

    let (_, _, health) = gateway.get("/health").await;
    let dead_replica =
        health["upstreams"].as_array().unwrap().iter().find(|r| r["address"] == dead.as_str()).unwrap().clone();
    assert_eq!(dead_replica["healthy"], false, "{health}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, _, metrics) = gateway.get("/metrics").await;
    assert_eq!(status, 200);
    let metrics = metrics.as_str().unwrap().to_owned();
    assert!(metrics.contains("http_requests_total{method=\"GET\",route=\"/api/v2/categories\",status=\"200\",upstream=\"marketplace\"} 30"), "{metrics}");
    assert!(metrics.contains("gateway_upstream_healthy"));
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn replicas_that_fail_their_probes_are_still_tried_when_no_replica_passes() {
    let services = Services::start().await;
    // Serves requests but answers its readiness probe 503 (a replica still starting, a slow
    // optional dependency): with nothing better to choose, the gateway still tries it.
    let unready = FakeHttp::start().await;
    unready.respond("/ready", 503, json!({ "status": "starting" }));
    let gateway = Gateway::start(
        services.config(|g| g["upstreams"]["marketplace"] = json!([unready.url().trim_start_matches("http://")])),
    )
    .await;
    testkit::eventually("the probe has failed", Duration::from_secs(10), || async {
        let (_, _, health) = gateway.get("/health").await;
        health["upstreams"]
            .as_array()
            .is_some_and(|replicas| replicas.iter().any(|r| r["upstream"] == "marketplace" && r["healthy"] == false))
    })
    .await;
    let (status, _, body) = gateway.get("/api/v2/regions").await;
    assert_eq!(status, 200, "{body}");
    assert!(unready.requests().iter().any(|r| r.path == "/api/v2/regions"));
}
