use crate::helpers::*;
use contracts::events::envelope::Payload;
use contracts::topics;
use serde_json::json;
use std::time::Duration;
use testkit::eventually;

#[tokio::test]
async fn a_whole_deal_from_request_to_review() {
    let world = World::start().await;
    let buyer = world.buyer().await;
    let (chosen, other) = (world.master().await, world.master().await);

    let request = world.request(&buyer).await;
    let created = world
        .event(topics::MARKETPLACE_REQUESTS, |e| match &e.payload {
            Some(Payload::RequestCreated(c)) if c.request_id == request => Some(c.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        (created.region_code.as_str(), created.category_codes.as_slice()),
        ("almaty", &["sliding_wardrobes".to_owned()][..])
    );
    assert_eq!(created.budget_minor, Some(15_000_000));

    // Masters find it in their feed, by region and by the parent category.
    let (status, feed) = world.api.get("/api/v2/requests?region=almaty&category=cabinet", &chosen.token).await;
    assert_eq!(status, 200, "{feed}");
    assert_eq!(feed["items"][0]["id"], request);

    let accepted = world.propose(&chosen, request, 14_000_000).await;
    let rejected = world.propose(&other, request, 16_000_000).await;
    let (_, proposals) = world.api.get(&format!("/api/v2/requests/{request}/proposals"), &buyer.token).await;
    assert_eq!(proposals["items"].as_array().unwrap().len(), 2);
    let (_, own) = world.api.get(&format!("/api/v2/requests/{request}/proposals"), &other.token).await;
    assert_eq!(own["items"].as_array().unwrap().len(), 1, "a master sees only their own proposal");

    let path = format!("/api/v2/requests/{request}/proposals/{accepted}/accept");
    let (status, order) = world.api.post_as(&path, &buyer.token, json!({})).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!((order["status"].as_str(), order["price_minor"].as_i64()), (Some("pending"), Some(14_000_000)));
    let order_id = order["id"].as_i64().unwrap();
    let (_, proposals) = world.api.get(&format!("/api/v2/requests/{request}/proposals"), &buyer.token).await;
    let status_of = |id: i64| {
        proposals["items"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!((status_of(accepted), status_of(rejected)), ("accepted".to_owned(), "rejected".to_owned()));
    let (_, details) = world.api.get(&format!("/api/v2/requests/{request}"), &buyer.token).await;
    assert_eq!(details["status"], "in_progress");

    // Every allowed move, including a revision round.
    for (who, action, expected) in [
        (&chosen, "accept", "accepted"),
        (&chosen, "start", "in_progress"),
        (&chosen, "finish", "in_progress"),
        (&buyer, "request_revision", "revision"),
        (&chosen, "start", "in_progress"),
        (&chosen, "finish", "in_progress"),
        (&buyer, "confirm", "completed"),
    ] {
        let body =
            if action == "request_revision" { json!({ "note": "Поменяйте ручки" }) } else { json!({}) };
        let (status, moved) = world.act(who, order_id, action, body).await;
        assert_eq!(status, 200, "{action}: {moved}");
        assert_eq!(moved["status"], expected, "{action}");
    }
    let (_, order) = world.api.get(&format!("/api/v2/orders/{order_id}"), &chosen.token).await;
    assert_eq!(order["history"].as_array().unwrap().len(), 8, "creation and seven moves: {order}");
    assert_eq!(order["revision_notes"], "Поменяйте ручки");
    let (_, details) = world.api.get(&format!("/api/v2/requests/{request}"), &buyer.token).await;
    assert_eq!(details["status"], "completed");

    let review = json!({ "rating": 5, "text": "Отличный шкаф, всё в срок" });
    let (status, body) = world.api.post_as(&format!("/api/v2/orders/{order_id}/review"), &buyer.token, review).await;
    assert_eq!(status, 201, "{body}");

    // The master's stats reach the auth service's public profile through Kafka.
    let profile = format!("/api/v2/users/{}", chosen.id);
    eventually("the public profile shows the stats", Duration::from_secs(30), || async {
        let (_, profile) = world.auth.get(&profile, &buyer.token).await;
        profile["master"]["rating"] == 5.0
            && profile["master"]["review_count"] == 1
            && profile["master"]["completed_orders"] == 1
    })
    .await;

    // Points and achievements, once each.
    eventually("points are awarded", Duration::from_secs(30), || async {
        let (_, buyer_level) = world.api.get("/api/v2/gamification/level", &buyer.token).await;
        let (_, master_level) = world.api.get("/api/v2/gamification/level", &chosen.token).await;
        buyer_level["points"] == 10 && master_level["points"] == 50
    })
    .await;
    let unlocked = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| !a["unlocked_at"].is_null())
            .map(|a| a["code"].as_str().unwrap().to_owned())
            .collect()
    };
    eventually("achievements are unlocked", Duration::from_secs(30), || async {
        let (_, mine) = world.api.get("/api/v2/gamification/achievements", &chosen.token).await;
        unlocked(&mine) == ["first_order", "five_stars"]
    })
    .await;
    let (_, buyers) = world.api.get_public(&format!("/api/v2/gamification/achievements/user/{}", buyer.id)).await;
    assert_eq!(unlocked(&buyers), ["first_request"]);
    let (status, board) = world.api.get_public("/api/v2/gamification/leaderboard").await;
    assert_eq!(status, 200, "{board}");
    assert_eq!(board["items"][0]["user_id"], chosen.id);
    assert_eq!(board["items"][0]["points"], 50);
    let (_, masters_board) =
        world.api.get_public("/api/v2/gamification/leaderboard/advanced?period=week&role=master&region=almaty").await;
    assert!(masters_board["items"].as_array().unwrap().iter().all(|s| s["user_id"] != buyer.id));
}

#[tokio::test]
async fn racing_accepts_make_exactly_one_order() {
    let world = World::start().await;
    let buyer = world.buyer().await;
    let (first, second) = (world.master().await, world.master().await);
    for same_proposal in [true, false] {
        let request = world.request(&buyer).await;
        let a = world.propose(&first, request, 10_000_000).await;
        let b = if same_proposal { a } else { world.propose(&second, request, 11_000_000).await };
        let accept = |proposal: i64| {
            let path = format!("/api/v2/requests/{request}/proposals/{proposal}/accept");
            let (api, token) = (world.api.clone(), buyer.token.clone());
            async move { api.post_as(&path, &token, json!({})).await }
        };
        let ((s1, b1), (s2, b2)) = tokio::join!(accept(a), accept(b));
        let mut statuses = [s1, s2];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "{b1} {b2}");
        let loser = if s1 == 409 { b1 } else { b2 };
        assert_eq!(error_code(&loser), "request_not_open");
        let (_, orders) = world.api.get("/api/v2/orders", &buyer.token).await;
        let for_request = orders["items"].as_array().unwrap().iter().filter(|o| o["request_id"] == request).count();
        assert_eq!(for_request, 1);
    }
}

/// The seed's own examples, sent as written: its request (with "мебель" among the categories)
/// and its proposal `{"price": 150000}` meaning 150 000 ₸; decimals are tiyn; `*_minor` is the
/// integer twin; and the buyer sees the same amount on the order.
#[tokio::test]
async fn the_seeds_examples_are_accepted_and_money_is_tenge() {
    let world = World::start().await;
    let (buyer, master) = (world.buyer().await, world.master().await);
    let seed_request = json!({
        "title": "Нужен шкаф-купе",
        "description": "Описание требований",
        "region": "Алматы",
        "categories": ["мебель", "шкафы"]
    });
    let (status, request) = world.api.post_as("/api/v2/requests", &buyer.token, seed_request).await;
    assert_eq!(status, 201, "{request}");
    assert_eq!(request["categories"], json!(["wardrobes"]));
    let request_id = request["id"].as_i64().unwrap();
    let path = format!("/api/v2/requests/{request_id}/proposals");

    for refused in [
        json!({ "price": 150000.505, "deadline_days": 14, "message": "Могу" }),
        json!({ "price": 150000, "price_minor": 15_000_000, "deadline_days": 14, "message": "Могу" }),
        json!({ "price": "150000", "deadline_days": 14, "message": "Могу" }),
        json!({ "deadline_days": 14, "message": "Могу" }),
    ] {
        let (status, body) = world.api.post_as(&path, &master.token, refused.clone()).await;
        assert_eq!(status, 400, "{refused} → {body}");
        assert!(["validation_failed", "invalid_json"].contains(&error_code(&body)), "{refused} → {body}");
    }
    let seed_proposal = json!({ "price": 150000.50, "deadline_days": 14, "message": "Могу выполнить заказ" });
    let (status, proposal) = world.api.post_as(&path, &master.token, seed_proposal).await;
    assert_eq!(status, 201, "{proposal}");
    assert_eq!((proposal["price"].as_f64(), proposal["price_minor"].as_i64()), (Some(150000.5), Some(15_000_050)));

    let accept = format!("{path}/{}/accept", proposal["id"]);
    let (status, order) = world.api.post_as(&accept, &buyer.token, json!({})).await;
    assert_eq!(status, 201, "{order}");
    let (_, seen) = world.api.get(&format!("/api/v2/orders/{}", order["id"]), &buyer.token).await;
    assert_eq!((seen["price"].as_f64(), seen["price_minor"].as_i64()), (Some(150000.5), Some(15_000_050)));

    let (status, budgeted) = world
        .api
        .post_as(
            "/api/v2/requests",
            &buyer.token,
            json!({ "title": "Кухня", "region": "Алматы", "categories": ["кухни"], "budget_minor": 45_000_000 }),
        )
        .await;
    assert_eq!((status, budgeted["budget"].as_i64()), (201, Some(450_000)), "{budgeted}");
}

#[tokio::test]
async fn a_new_request_names_the_masters_who_serve_its_region_and_a_related_category() {
    let world = World::start().await;
    let buyer = world.buyer().await;
    let (cabinets, kitchens, astana) = (world.master().await, world.master().await, world.master().await);
    for (master, region, category) in
        [(&cabinets, "Алматы", "cabinet"), (&kitchens, "almaty", "kitchens"), (&astana, "astana", "sliding_wardrobes")]
    {
        let services = json!({ "regions": [region], "categories": [category] });
        assert_eq!(world.api.put("/api/v2/masters/me", &master.token, services).await.0, 200);
    }
    let named = |request: i64| {
        world.event(topics::MARKETPLACE_REQUESTS, move |e| match &e.payload {
            Some(Payload::RequestCreated(c)) if c.request_id == request => Some(c.serving_master_ids.clone()),
            _ => None,
        })
    };

    // Sliding wardrobes are cabinet furniture: the cabinet master of Almaty, not the kitchen
    // master, nor the Astana master of the very category.
    let wardrobe = world.request(&buyer).await;
    assert_eq!(named(wardrobe).await, [cabinets.id]);
    // The seed's own words: "мебель" narrows nothing, "шкафы" are cabinet furniture.
    let seed = json!({ "title": "Нужен шкаф-купе", "description": "Описание требований", "region": "Алматы",
                       "categories": ["мебель", "шкафы"] });
    let (status, body) = world.api.post_as("/api/v2/requests", &buyer.token, seed).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(named(body["id"].as_i64().unwrap()).await, [cabinets.id]);
    // A master who serves the parent hears of its children, and the other way round.
    let kitchen =
        json!({ "title": "Кухня", "description": "Кухня 3 м", "region": "Алматы", "categories": ["kitchens"] });
    let (status, body) = world.api.post_as("/api/v2/requests", &buyer.token, kitchen).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(named(body["id"].as_i64().unwrap()).await, [kitchens.id]);
}
