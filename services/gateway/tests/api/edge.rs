//! What the gateway decides itself: tokens, rate limits, search fan-out, API docs.

use crate::helpers::*;
use contracts::Role;
use serde_json::json;
use std::time::Duration;
use testkit::keys::{KEY_1, KEY_2, claims, sign, token, unsigned_token};

#[tokio::test]
async fn bad_tokens_stop_at_the_gateway_and_public_routes_stay_open() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|_| {})).await;
    let mut expired = claims(5, Role::Buyer);
    expired.exp = expired.iat - 60;
    let bad = [
        ("missing_token", None),
        ("invalid_token", Some("not-a-jwt".to_owned())),
        ("invalid_token", Some(unsigned_token(&claims(5, Role::Buyer)))),
        ("invalid_token", Some(sign(&claims(5, Role::Buyer), KEY_2))),
        ("token_expired", Some(sign(&expired, KEY_1))),
    ];
    for (code, token) in bad {
        let mut request = gateway.client.post(gateway.url("/api/v2/orders/1/start")).json(&json!({}));
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        let (status, _, body) = gateway.send(request).await;
        assert_eq!((status, error_code(&body)), (401, code), "{token:?}: {body}");
    }
    assert!(services.marketplace.requests().is_empty(), "nothing reached the service");

    let (status, _, body) = gateway
        .send(gateway.client.post(gateway.url("/api/v2/orders/1/start")).bearer_auth(token(5, Role::Buyer)))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["headers"]["authorization"].as_str().unwrap().starts_with("Bearer "), "the token is passed on");
    for path in ["/api/v2/regions", "/api/v2/users/5", "/.well-known/jwks.json"] {
        assert_eq!(gateway.get(path).await.0, 200, "{path} is public");
    }
    let (status, _, _) = gateway.send(gateway.client.post(gateway.url("/api/v2/auth/login")).json(&json!({}))).await;
    assert_eq!(status, 200, "sign-in is public");
    assert_eq!(gateway.get("/api/v2/users/me").await.0, 401, "the own profile is not");
}

#[tokio::test]
async fn the_strict_limit_holds_across_two_gateways() {
    let services = Services::start().await;
    let config = services.config(|g| g["rate_limits"] = json!({ "strict_per_minute": 100 }));
    let (first, second) = (Gateway::start(config.clone()).await, Gateway::start(config).await);
    for n in 0..100 {
        let gateway = if n % 2 == 0 { &first } else { &second };
        let (status, headers, body) =
            gateway.send(gateway.client.post(gateway.url("/api/v2/auth/login")).json(&json!({}))).await;
        assert_eq!(status, 200, "request {n}: {body}");
        assert_eq!(headers["ratelimit-limit"], "100");
        assert_eq!(headers["ratelimit-remaining"], (99 - n).to_string().as_str(), "request {n}");
    }
    for gateway in [&first, &second] {
        let (status, headers, body) =
            gateway.send(gateway.client.post(gateway.url("/api/v2/auth/login")).json(&json!({}))).await;
        assert_eq!((status, error_code(&body)), (429, "rate_limited"), "{body}");
        assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
        assert_eq!(headers["ratelimit-remaining"], "0");
    }
    assert_eq!(services.auth.requests().len(), 100);
    let (status, _, _) = first.get("/api/v2/regions").await;
    assert_eq!(status, 200, "other tiers are counted apart");
    let (_, _, metrics) = first.get("/metrics").await;
    assert!(metrics.as_str().unwrap().contains("gateway_rate_limited_total{tier=\"strict\"} 1"));
}

#[tokio::test]
async fn leased_permits_never_exceed_the_limit_across_two_gateways() {
    let services = Services::start().await;
    // 1000 a minute: each gateway leases up to 10 permits at a time.
    let config = services.config(|g| g["rate_limits"] = json!({ "api_per_minute": 1000 }));
    let (first, second) = (Gateway::start(config.clone()).await, Gateway::start(config).await);
    let mut statuses = Vec::new();
    for round in 0..60 {
        let requests = (0..20).map(|n| {
            let gateway = if (round + n) % 2 == 0 { &first } else { &second };
            async move { gateway.get("/api/v2/regions").await.0 }
        });
        statuses.extend(futures_util::future::join_all(requests).await);
    }
    let allowed = statuses.iter().filter(|status| **status == 200).count();
    let refused = statuses.iter().filter(|status| **status == 429).count();
    assert_eq!(allowed + refused, 1200, "{statuses:?}");
    assert!(allowed <= 1000, "never beyond the limit: {allowed}");
    assert!(allowed >= 1000 - 2 * 2 * 10, "at most two leases lost per gateway: {allowed}");
    let served = services.marketplace.requests().len();
    assert_eq!(served, allowed);
}

#[tokio::test]
async fn a_window_in_redis_grows_with_trips_not_requests() {
    let services = Services::start().await;
    // 100,000 a minute: leases grow to 1000 permits.
    let gateway = Gateway::start(services.config(|g| g["rate_limits"] = json!({ "api_per_minute": 100_000 }))).await;
    for _ in 0..400 {
        assert_eq!(gateway.get("/api/v2/regions").await.0, 200);
    }
    let client = deadpool_redis::redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let window = format!("{}gateway:rl:{{api:ip:127.0.0.1}}:window", services.redis_prefix);
    let (members, total): (u32, u32) = deadpool_redis::redis::pipe()
        .zcard(&window)
        .get(format!("{window}:count"))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!((1..=20).contains(&members), "one member per trip for 400 requests: {members}");
    // Leased permits count at once: the requests made, and at most two leases not used yet.
    assert!((400..=400 + 2 * 1000).contains(&total), "the window's total: {total}");
}

#[tokio::test]
async fn without_redis_each_gateway_still_limits() {
    let services = Services::start().await;
    let mut config = services.config(|g| g["rate_limits"] = json!({ "strict_per_minute": 5 }));
    config["redis"]["url"] = json!(format!("redis://{}", dead_address()));
    let gateway = Gateway::start(config).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let request = gateway.client.post(gateway.url("/api/v2/auth/login")).json(&json!({}));
        statuses.push(gateway.send(request).await.0);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    let (_, _, metrics) = gateway.get("/metrics").await;
    assert!(metrics.as_str().unwrap().contains("gateway_rate_limit_fallback_total 6"), "{metrics}");
}

#[tokio::test]
async fn search_fans_out_and_names_what_did_not_answer() {
    let services = Services::start().await;
    let dead = dead_address();
    let gateway = Gateway::start(services.config(|g| g["upstreams"]["media"] = json!([dead]))).await;
    let (status, _, body) = gateway.get("/api/v2/search?q=%D1%88%D0%BA%D0%B0%D1%84").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["query"], "шкаф");
    assert_eq!(body["results"]["users"][0]["from"], "auth");
    assert_eq!(body["results"]["masters"][0]["from"], "marketplace");
    assert_eq!(body["unavailable"], json!(["videos"]));
    assert!(body["results"].get("requests").is_none(), "requests are searched for signed-in callers");

    let request = gateway.client.get(gateway.url("/api/v2/search?q=шкаф")).bearer_auth(token(3, Role::Master));
    let (_, _, body) = gateway.send(request).await;
    assert_eq!(body["results"]["requests"][0]["from"], "marketplace");
    let (status, _, body) = gateway.get("/api/v2/search?q=a").await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    for method in ["POST", "TRACE", "DELETE"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = gateway.client.request(method.clone(), gateway.url("/api/v2/search?q=шкаф"));
        let (status, headers, body) = gateway.send(request).await;
        assert_eq!((status, error_code(&body)), (405, "method_not_allowed"), "{method}");
        assert_eq!(headers["allow"], "GET", "{method}");
    }
}

#[tokio::test]
async fn the_docs_page_lists_every_service_in_a_real_browser() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|g| {
        g["openapi_documents"] =
            json!({ "auth": "/api/v2/auth/openapi.json", "marketplace": "/api/v2/marketplace/openapi.json" })
    }))
    .await;
    let (status, _, document) = gateway.get("/api/v2/openapi.json").await;
    assert_eq!(status, 200);
    for path in ["/api/v2/auth/things", "/api/v2/marketplace/things", "/api/v2/search"] {
        assert!(document["paths"].get(path).is_some(), "{path} in {document}");
    }
    let (status, headers, _) = gateway.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(status, 200, "Swagger UI is served locally (scripts/infra-up fetches it)");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));

    let profile = std::env::temp_dir().join(format!("chromium-{}", uuid::Uuid::now_v7()));
    let output = tokio::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=15000", "--dump-dom"])
        .arg(gateway.url("/docs"))
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output).await.unwrap().expect("chromium runs");
    let _ = std::fs::remove_dir_all(profile);
    let dom = String::from_utf8_lossy(&output.stdout);
    for path in ["/api/v2/auth/things", "/api/v2/marketplace/things", "/api/v2/search"] {
        assert!(dom.contains(path), "the page lists {path}:\n{}", &dom[..dom.len().min(2000)]);
    }
}
