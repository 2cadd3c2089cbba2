//! The masters' directory from auth's events, and the masters' request feed filters.

use crate::helpers::*;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::eventually;

async fn master_with_profile(world: &World, first: &str, last: &str, about: &str, region: &str) -> User {
    let master = world.master().await;
    let profile = json!({ "first_name": first, "last_name": last, "description": about, "region": region });
    let (status, body) = world.auth.put("/api/v2/users/me", &master.token, profile).await;
    assert_eq!(status, 200, "{body}");
    master
}

fn ids(body: &Value) -> Vec<i64> {
    body["items"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn masters_are_found_by_region_category_rating_and_text() {
    let world = World::start().await;
    let kitchens =
        master_with_profile(&world, "Ерлан", "Сейтказиев", "Изготавливаю кухни и шкафы-купе на заказ", "Алматы").await;
    let sofas = master_with_profile(&world, "Анна", "Ковалёва", "Перетяжка и ремонт диванов", "Астана").await;
    let services = json!({ "regions": ["almaty", "Алматинская область"], "categories": ["kitchens", "шкафы-купе"] });
    let (status, body) = world.api.put("/api/v2/masters/me", &kitchens.token, services).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["served_regions"], json!(["almaty", "almaty_oblast"]));
    let services = json!({ "regions": ["astana"], "categories": ["sofas", "reupholstery"] });
    assert_eq!(world.api.put("/api/v2/masters/me", &sofas.token, services).await.0, 200);

    // Profiles (registration, then the update) arrive through Kafka.
    eventually("both profiles are in the directory", Duration::from_secs(30), || async {
        let (_, all) = world.api.get_public("/api/v2/search/masters").await;
        let items = all["items"].as_array().unwrap().clone();
        items.len() == 2 && items.iter().all(|m| m["first_name"].is_string() && m["region"].is_string())
    })
    .await;

    let search = |query: &'static str| {
        let api = world.api.clone();
        async move { api.get_public(&format!("/api/v2/search/masters?{query}")).await }
    };
    assert_eq!(ids(&search("region=almaty").await.1), [kitchens.id]);
    assert_eq!(ids(&search("region=Астана").await.1), [sofas.id]);
    assert_eq!(ids(&search("category=cabinet").await.1), [kitchens.id], "a parent category finds its children");
    assert_eq!(ids(&search("category=upholstered").await.1), [sofas.id]);
    assert_eq!(ids(&search("q=кухня").await.1), [kitchens.id], "Russian morphology: кухни ~ кухня");
    assert_eq!(ids(&search("q=диван").await.1), [sofas.id]);
    assert_eq!(ids(&search("q=Сейтказиева").await.1), [kitchens.id], "a typo in the surname");
    assert!(ids(&search("min_rating=4").await.1).is_empty(), "nobody has reviews yet");

    // A completed, reviewed order gives the kitchen master a rating.
    let buyer = world.buyer().await;
    let order = world.order(&buyer, &kitchens).await;
    for action in ["accept", "start", "finish"] {
        // No note: the body is optional, `null` included.
        assert_eq!(world.act(&kitchens, order, action, json!(null)).await.0, 200, "{action}");
    }
    world.act(&buyer, order, "confirm", json!({})).await;
    world.api.post_as(&format!("/api/v2/orders/{order}/review"), &buyer.token, json!({ "rating": 5 })).await;
    let (_, rated) = search("min_rating=4").await;
    assert_eq!(ids(&rated), [kitchens.id]);
    assert_eq!(rated["items"][0]["rating"], 5.0);
    assert_eq!(rated["items"][0]["completed_orders"], 1);
    let (_, by_rating) = search("sort=rating").await;
    assert_eq!(ids(&by_rating), [kitchens.id, sofas.id]);
    let (status, entry) = world.api.get_public(&format!("/api/v2/masters/{}", kitchens.id)).await;
    assert_eq!((status, entry["username"].is_string()), (200, true));
    assert_eq!(world.api.get_public(&format!("/api/v2/masters/{}", buyer.id)).await.0, 404);

    let (status, body) = search("min_rating=9&region=Москва").await;
    assert_eq!(status, 400);
    assert!(body["error"]["details"]["fields"]["min_rating"].is_string(), "{body}");
    let (status, nobody) = search("region=Москва").await;
    assert_eq!((status, ids(&nobody)), (200, vec![]), "an unknown region matches nobody");
    let (status, _) =
        world.api.put("/api/v2/masters/me", &buyer.token, json!({ "regions": [], "categories": [] })).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn masters_filter_open_requests() {
    let world = World::start().await;
    let (buyer, master) = (world.buyer().await, world.master().await);
    let post = |body: Value| {
        let (api, token) = (world.api.clone(), buyer.token.clone());
        async move {
            let (status, body) = api.post_as("/api/v2/requests", &token, body).await;
            assert_eq!(status, 201, "{body}");
            body["id"].as_i64().unwrap()
        }
    };
    let wardrobe = post(wardrobe_request()).await;
    let kitchen = post(json!({
        "title": "Кухонный гарнитур", "description": "Угловая кухня с островом", "region": "astana",
        "categories": ["kitchens"], "budget": 900_000,
    }))
    .await;
    let sofa = post(json!({ "title": "Перетянуть диван", "region": "Астана", "categories": ["sofas"] })).await;

    let feed = |query: &'static str| {
        let (api, token) = (world.api.clone(), master.token.clone());
        async move { ids(&api.get(&format!("/api/v2/requests?{query}"), &token).await.1) }
    };
    assert_eq!(feed("").await, [sofa, kitchen, wardrobe], "newest first");
    assert_eq!(feed("region=astana").await, [sofa, kitchen]);
    assert_eq!(feed("region=astana&category=kitchens").await, [kitchen]);
    assert_eq!(feed("budget_min=200000").await, [kitchen]);
    assert_eq!(feed("budget_max=200000").await, [wardrobe]);
    assert_eq!(feed("q=кухни").await, [kitchen], "Russian morphology");
    assert_eq!(feed("limit=2").await, [sofa, kitchen]);

    let (_, first) = world.api.get("/api/v2/requests?limit=2", &master.token).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = world.api.get(&format!("/api/v2/requests?limit=2&cursor={cursor}"), &master.token).await;
    assert_eq!(ids(&second), [wardrobe]);
    assert!(second["next_cursor"].is_null());

    // Buyers see their own, whatever their status; details count one view per viewer.
    let other = world.buyer().await;
    assert!(ids(&world.api.get("/api/v2/requests", &other.token).await.1).is_empty());
    assert_eq!(ids(&world.api.get("/api/v2/requests", &buyer.token).await.1).len(), 3);
    for _ in 0..3 {
        world.api.get(&format!("/api/v2/requests/{kitchen}"), &master.token).await;
    }
    let (_, details) = world.api.get(&format!("/api/v2/requests/{kitchen}"), &buyer.token).await;
    assert_eq!(details["views"], 1, "one view per viewer per hour; the owner's own views do not count");
}
