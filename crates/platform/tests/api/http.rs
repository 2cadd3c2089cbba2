//! The HTTP scaffolding every service gets: error shape, headers, request ids, metrics, limits.

use crate::helpers::*;
use actix_web::{HttpResponse, web};
use testkit::TestApp;
use testkit::{TestSchema, unique_prefix};

#[derive(serde::Deserialize)]
struct Item {
    #[allow(dead_code)]
    name: String,
}

async fn get_item(id: web::Path<i64>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "id": id.into_inner() }))
}

async fn create_item(_item: web::Json<Item>) -> HttpResponse {
    HttpResponse::Created().finish()
}

async fn app() -> (TestApp, TestSchema) {
    let schema = TestSchema::create(&[]).await;
    let mut settings = testkit::settings(&schema, &unique_prefix());
    settings.http.json_limit_bytes = 1024;
    let app = spawn_app(&settings, no_dependencies(), |cfg| {
        cfg.service(web::resource("/items/{id}").route(web::get().to(get_item)))
            .route("/items", web::post().to(create_item));
    })
    .await;
    (app, schema)
}

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn unknown_routes_and_bad_paths_are_404_in_the_error_shape() {
    let (app, _schema) = app().await;
    let client = client();
    assert_eq!(error_code(client.get(app.url("/nowhere")).send().await.unwrap()).await, (404, "not_found".into()));
    assert_eq!(error_code(client.get(app.url("/items/abc")).send().await.unwrap()).await, (404, "not_found".into()));
    let wrong_method = client.delete(app.url("/items/1")).send().await.unwrap();
    assert_eq!(error_code(wrong_method).await, (405, "method_not_allowed".into()));
}

#[tokio::test]
async fn bad_json_bodies_get_clear_errors() {
    let (app, _schema) = app().await;
    let client = client();
    let post = |body: &'static str, content_type: &'static str| {
        client.post(app.url("/items")).header("content-type", content_type).body(body).send()
    };
    assert_eq!(error_code(post("{\"name\":", "application/json").await.unwrap()).await, (400, "invalid_json".into()));
    assert_eq!(
        error_code(post("{\"title\":\"x\"}", "application/json").await.unwrap()).await,
        (400, "invalid_json".into())
    );
    assert_eq!(error_code(post("name=x", "text/plain").await.unwrap()).await, (415, "unsupported_media_type".into()));
    let large = format!("{{\"name\":\"{}\"}}", "ш".repeat(2000));
    let response =
        client.post(app.url("/items")).header("content-type", "application/json").body(large).send().await.unwrap();
    assert_eq!(error_code(response).await, (413, "payload_too_large".into()));
    let ok = client.post(app.url("/items")).json(&serde_json::json!({ "name": "Шкаф" })).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 201);
}

#[tokio::test]
async fn every_answer_carries_security_headers_and_a_request_id() {
    let (app, _schema) = app().await;
    let client = client();
    for path in ["/items/1", "/nowhere", "/live"] {
        let response = client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
        assert!(headers.contains_key("content-security-policy"));
        assert!(headers.contains_key("referrer-policy"));
        assert!(headers.contains_key("permissions-policy"));
        assert!(!headers["x-request-id"].is_empty());
    }
    let echoed = client.get(app.url("/items/1")).header("x-request-id", "req-123").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "req-123", "an incoming request id is kept");
}

#[tokio::test]
async fn metrics_are_labelled_by_route_pattern() {
    let (app, _schema) = app().await;
    let client = client();
    for id in [1, 2, 3] {
        client.get(app.url(&format!("/items/{id}"))).send().await.unwrap();
    }
    client.get(app.url("/nowhere/else")).send().await.unwrap();
    let metrics = client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"http_requests_total{endpoint="/items/{id}",method="GET",status="200",service="test"} 3"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"endpoint="unmatched""#), "unknown paths do not create a series each");
    assert!(!metrics.contains("/items/1\""));
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
}

/// A documented API declared with `platform::http_api!`.
mod things {
    use actix_web::HttpResponse;
    use actix_web::web;

    #[utoipa::path(get, path = "/v1/things/special", responses((status = 200)))]
    pub async fn special() -> HttpResponse {
        HttpResponse::Ok().json(serde_json::json!({ "special": true }))
    }

    #[utoipa::path(get, path = "/v1/things/{id}", params(("id" = i64, Path)), responses((status = 200)))]
    pub async fn get(id: web::Path<i64>) -> HttpResponse {
        HttpResponse::Ok().json(serde_json::json!({ "id": id.into_inner() }))
    }

    #[utoipa::path(delete, path = "/v1/things/{id}", params(("id" = i64, Path)), responses((status = 204)))]
    pub async fn delete(id: web::Path<i64>) -> HttpResponse {
        let _ = id.into_inner();
        HttpResponse::NoContent().finish()
    }

    #[utoipa::path(post, path = "/v1/things", security(("bearer" = [])), request_body = Object,
        responses((status = 201)))]
    pub async fn create() -> HttpResponse {
        HttpResponse::Created().finish()
    }
}

platform::http_api! {
    struct ThingsDoc { info(title = "things") }
    routes: [things::{special, get, delete, create}]
}

#[tokio::test]
async fn documented_routes_are_served_and_other_methods_get_405_with_allow() {
    use utoipa::OpenApi;
    let schema = TestSchema::create(&[]).await;
    let settings = testkit::settings(&schema, &unique_prefix());
    let documented = platform::http::openapi::RouteTable::from_openapi(&ThingsDoc::openapi());
    let application =
        platform::Application::build("test", &settings, no_dependencies(), documented, ThingsDoc::routes).unwrap();
    let app = TestApp::start(application);
    let client = client();
    let special: serde_json::Value =
        client.get(app.url("/v1/things/special")).send().await.unwrap().json().await.unwrap();
    assert_eq!(special["special"], true, "listed first, so not taken for an id");
    assert_eq!(client.get(app.url("/v1/things/7")).send().await.unwrap().status().as_u16(), 200);
    assert_eq!(client.post(app.url("/v1/things")).send().await.unwrap().status().as_u16(), 201);

    let wrong = client.put(app.url("/v1/things/7")).send().await.unwrap();
    assert_eq!(wrong.headers()["allow"], "GET, DELETE");
    assert_eq!(error_code(wrong).await, (405, "method_not_allowed".into()));
    assert_eq!(client.delete(app.url("/v1/things/7")).send().await.unwrap().status().as_u16(), 204);
    let wrong = client.delete(app.url("/v1/things/special")).send().await.unwrap();
    assert_eq!(wrong.headers()["allow"], "GET", "a literal path is not an id of its sibling");
    assert_eq!(error_code(wrong).await, (405, "method_not_allowed".into()));
    let wrong = client.put(app.url("/v1/things")).send().await.unwrap();
    assert_eq!(wrong.headers()["allow"], "POST");
    assert_eq!(client.post(app.url("/live")).send().await.unwrap().headers()["allow"], "GET");
    assert_eq!(error_code(client.get(app.url("/v1/nothing")).send().await.unwrap()).await, (404, "not_found".into()));

    let document = serde_json::to_value(ThingsDoc::openapi()).unwrap();
    assert!(platform::http::openapi::unresolved_references(&document).is_empty());
    let responses = |path: &str, method: &str| {
        let mut codes: Vec<String> =
            document["paths"][path][method]["responses"].as_object().unwrap().keys().cloned().collect();
        codes.sort();
        codes
    };
    assert_eq!(responses("/v1/things", "post"), ["201", "400", "401", "413", "415", "503"]);
    assert_eq!(responses("/v1/things/{id}", "get"), ["200", "400", "404", "503"]);
    assert_eq!(responses("/v1/things/special", "get"), ["200", "503"]);
}
