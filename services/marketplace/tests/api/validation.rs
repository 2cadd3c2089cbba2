//! Bad input gets a clear error in the spec's shape and changes nothing; reference data,
//! expiry and the OpenAPI document.

use crate::helpers::*;
use marketplace::config::MarketplaceSettings;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::eventually;

fn fields(body: &Value) -> Vec<String> {
    let mut names: Vec<String> =
        body["error"]["details"]["fields"].as_object().map(|f| f.keys().cloned().collect()).unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn bad_requests_are_refused_whole() {
    let world = World::start().await;
    let buyer = world.buyer().await;
    let bad = json!({
        "title": "ab", "description": "", "region": "Москва", "categories": ["мебель"],
        "budget": -1, "images": ["javascript:alert(1)"],
    });
    let (status, body) = world.api.post_as("/api/v2/requests", &buyer.token, bad).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    assert_eq!(fields(&body), ["budget", "categories", "images", "region", "title"]);

    let (status, body) =
        world.api.post_as("/api/v2/requests", &buyer.token, json!({ "title": "Шкаф", "colour": 1 })).await;
    assert_eq!(status, 400, "{body}");
    let raw = world.api.client.post(world.api.url("/api/v2/requests")).bearer_auth(&buyer.token);
    let (status, body) = world.api.send(raw.header("content-type", "application/json").body("{\"title\":")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["code"].is_string());
    let (status, body) = world.api.post("/api/v2/requests", wardrobe_request()).await;
    assert_eq!((status, error_code(&body)), (401, "missing_token"), "{body}");

    let long_query = format!("q={}", "я".repeat(201));
    for query in ["limit=0", "limit=101", "cursor=garbage", "budget_min=-1", "budget_max=0.001", &long_query] {
        let (status, body) = world.api.get(&format!("/api/v2/requests?{query}"), &buyer.token).await;
        assert_eq!(status, 400, "{query}: {body}");
    }
    assert!(world.api.get("/api/v2/requests", &buyer.token).await.1["items"].as_array().unwrap().is_empty());

    let request = world.request(&buyer).await;
    let (status, body) = world
        .api
        .patch(&format!("/api/v2/requests/{request}"), &buyer.token, json!({ "title": "x", "budget": null }))
        .await;
    assert_eq!((status, fields(&body)), (400, vec!["title".to_owned()]));
    let (_, unchanged) = world.api.get(&format!("/api/v2/requests/{request}"), &buyer.token).await;
    assert_eq!(unchanged["budget"], 150_000, "a refused edit changes nothing");
    let (status, edited) =
        world.api.patch(&format!("/api/v2/requests/{request}"), &buyer.token, json!({ "budget": null })).await;
    assert_eq!((status, edited["budget"].is_null()), (200, true));

    let master = world.master().await;
    let offer = json!({ "price": 0, "deadline_days": 400, "message": " " });
    let (status, body) =
        world.api.post_as(&format!("/api/v2/requests/{request}/proposals"), &master.token, offer).await;
    assert_eq!(
        (status, fields(&body)),
        (400, vec!["deadline_days".to_owned(), "message".to_owned(), "price".to_owned()])
    );
    assert_eq!(world.api.get("/api/v2/requests/abc", &buyer.token).await.0, 404);
    assert_eq!(world.api.get("/api/v2/orders/123456", &buyer.token).await.0, 404);
}

/// What the OpenAPI document allows is accepted: the bounds of each field, and filters naming a
/// region or category nobody knows (they match nothing).
#[tokio::test]
async fn the_documented_boundaries_are_accepted() {
    let world = World::start().await;
    let (buyer, master) = (world.buyer().await, world.master().await);
    let request = json!({
        "title": format!(" {} ", "я".repeat(198)), "description": "д".repeat(5000), "region": "almaty",
        "categories": ["мебель", "Шкафы", "шкафы", "sofas", "Диваны"], "budget_minor": 1,
        "images": vec![format!("https://cdn.mebelplace.kz/{}", "a".repeat(1974)); 10],
    });
    let (status, body) = world.api.post_as("/api/v2/requests", &buyer.token, request).await;
    assert_eq!(status, 201, "{body}");
    let path = format!("/api/v2/requests/{}", body["id"]);
    let edit =
        json!({ "title": "  Шкаф ", "budget": null, "budget_minor": 100_000_000_000_i64, "categories": ["kitchens"] });
    let (status, body) = world.api.patch(&path, &buyer.token, edit).await;
    assert_eq!(
        (status, body["title"].as_str(), body["budget"].as_i64()),
        (200, Some("Шкаф"), Some(1_000_000_000)),
        "{body}"
    );
    let offer = json!({ "price": 999_999_999.99, "price_minor": null, "deadline_days": 365, "message": " Могу " });
    let (status, body) = world.api.post_as(&format!("{path}/proposals"), &master.token, offer).await;
    assert_eq!((status, body["price_minor"].as_i64()), (201, Some(99_999_999_999)), "{body}");

    for query in ["region=Марс", "category=мебля", "budget_min=5&budget_max=1"] {
        let (status, body) = world.api.get(&format!("/api/v2/requests?{query}"), &master.token).await;
        assert_eq!((status, body["items"].as_array().map(Vec::len)), (200, Some(0)), "{query}: {body}");
    }
    let (status, body) = world.api.get("/api/v2/requests?region=almaty&budget_max=10000000000", &master.token).await;
    assert_eq!((status, body["items"].as_array().map(Vec::len)), (200, Some(1)), "{body}");
}

#[tokio::test]
async fn reference_data_is_public() {
    let world = World::start().await;
    let (status, regions) = world.api.get_public("/api/v2/regions").await;
    assert_eq!(status, 200);
    let regions = regions["items"].as_array().unwrap().clone();
    assert_eq!(regions.iter().filter(|r| r["kind"] == "city").count(), 3);
    assert_eq!(regions.iter().filter(|r| r["kind"] == "oblast").count(), 17);
    assert!(regions.iter().any(|r| r["name_kk"] == "Шығыс Қазақстан облысы"));
    let (_, categories) = world.api.get_public("/api/v2/categories").await;
    let sliding =
        categories["items"].as_array().unwrap().iter().find(|c| c["code"] == "sliding_wardrobes").unwrap().clone();
    assert_eq!((sliding["parent_code"].as_str(), sliding["name_ru"].as_str()), (Some("cabinet"), Some("Шкафы-купе")));
}

#[tokio::test]
async fn open_requests_expire_and_can_be_reopened() {
    let settings = MarketplaceSettings { request_ttl_days: 0, expiry_interval_secs: 1, ..Default::default() };
    let world = World::start_with(settings).await;
    let buyer = world.buyer().await;
    let request = world.request(&buyer).await;
    let path = format!("/api/v2/requests/{request}");
    eventually("the request expires", Duration::from_secs(20), || async {
        world.api.get(&path, &buyer.token).await.1["status"] == "expired"
    })
    .await;
    world
        .event(contracts::topics::MARKETPLACE_REQUESTS, |e| match &e.payload {
            Some(contracts::events::envelope::Payload::RequestExpired(x)) if x.request_id == request => Some(()),
            _ => None,
        })
        .await;
    let (status, body) = world.api.post_as(&format!("{path}/reopen"), &buyer.token, json!({})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("pending")));
}

#[tokio::test]
async fn every_route_is_in_the_openapi_document() {
    let world = World::start().await;
    let (status, document) = world.api.get_public("/api/v2/marketplace/openapi.json").await;
    assert_eq!(status, 200);
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v2/regions",
        "/api/v2/categories",
        "/api/v2/requests",
        "/api/v2/requests/{id}",
        "/api/v2/requests/{id}/close",
        "/api/v2/requests/{id}/reopen",
        "/api/v2/requests/{id}/proposals",
        "/api/v2/requests/{id}/proposals/{proposal_id}/accept",
        "/api/v2/orders",
        "/api/v2/orders/{id}",
        "/api/v2/orders/{id}/{action}",
        "/api/v2/orders/{id}/review",
        "/api/v2/reviews",
        "/api/v2/search/masters",
        "/api/v2/masters/{id}",
        "/api/v2/masters/me",
        "/api/v2/gamification/level",
        "/api/v2/gamification/levels",
        "/api/v2/gamification/achievements",
        "/api/v2/gamification/achievements/user/{id}",
        "/api/v2/gamification/leaderboard",
        "/api/v2/gamification/leaderboard/advanced",
        "/api/v2/gamification/leaderboard/rebuild",
        "/api/v2/gamification/award-points",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    let unresolved = platform::http::openapi::unresolved_references(&document);
    assert!(unresolved.is_empty(), "references to nothing: {unresolved:?}");
    // Writes take the regions and categories the reference data holds, by code or name.
    let schemas = &document["components"]["schemas"];
    let regions = schemas["RequestInput"]["properties"]["region"]["enum"].as_array().unwrap();
    assert!(regions.contains(&json!("east_kazakhstan")) && regions.contains(&json!("Шығыс Қазақстан облысы")));
    let categories = &schemas["ServicesBody"]["properties"]["categories"]["items"]["enum"];
    assert!(categories.as_array().unwrap().contains(&json!("Шкафы-купе")));
    assert!(paths.contains_key("/api/v2/orders/{id}/request_revision"));
    let wrong_method = world.api.client.delete(world.api.url("/api/v2/regions")).send().await.unwrap();
    assert_eq!(wrong_method.status().as_u16(), 405);
    assert_eq!(wrong_method.headers()["allow"], "GET");
}
