//! CORS, CSRF and the security headers.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn preflights_csrf_and_security_headers() {
    let services = Services::start().await;
    let gateway = Gateway::start(services.config(|_| {})).await;
    let preflight = |origin: &str| {
        gateway
            .client
            .request(Method::OPTIONS, gateway.url("/api/v2/requests"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
    };
    let (status, headers, _) = gateway.send(preflight("https://mebelplace.com.kz")).await;
    assert_eq!(status, 204);
    assert_eq!(headers["access-control-allow-origin"], "https://mebelplace.com.kz");
    assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(headers["access-control-allow-headers"].to_str().unwrap().contains("Authorization"));
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let (status, headers, body) = gateway.send(preflight("https://evil.example")).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    assert!(headers.get("access-control-allow-origin").is_none());
    assert!(services.marketplace.requests().is_empty(), "preflights are answered by the gateway");

    // A write carrying only the auth cookie must come from an allowed origin.
    let token = testkit::keys::token(9, contracts::Role::Buyer);
    let cookie_write = |origin: Option<&str>| {
        let mut request = gateway
            .client
            .post(gateway.url("/api/v2/requests"))
            .header("Cookie", format!("access_token={token}"))
            .json(&json!({}));
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        request
    };
    let (status, _, body) = gateway.send(cookie_write(Some("https://evil.example"))).await;
    assert_eq!((status, error_code(&body)), (403, "csrf_rejected"));
    let (status, _, body) = gateway.send(cookie_write(None)).await;
    assert_eq!((status, error_code(&body)), (403, "csrf_rejected"));
    let (status, headers, _) = gateway.send(cookie_write(Some("http://localhost:3000"))).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "http://localhost:3000");
    assert_eq!(services.marketplace.requests().len(), 1);

    // The seed's security headers on proxied answers, local answers and errors alike.
    for path in ["/api/v2/regions", "/health", "/api/v2/nowhere"] {
        let (_, headers, _) = gateway.get(path).await;
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(headers["strict-transport-security"].to_str().unwrap().starts_with("max-age="), "{path}");
        assert!(headers.contains_key("content-security-policy"), "{path}");
        assert!(headers.contains_key("referrer-policy") && headers.contains_key("permissions-policy"), "{path}");
    }
}
