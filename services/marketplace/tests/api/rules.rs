//! Role violations and forbidden transitions: answered 403/404/409, changing nothing.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn roles_are_enforced_on_requests_and_proposals() {
    let world = World::start().await;
    let (buyer, stranger, master) = (world.buyer().await, world.buyer().await, world.master().await);

    let (status, body) = world.api.post_as("/api/v2/requests", &master.token, wardrobe_request()).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "masters do not post requests");

    let request = world.request(&buyer).await;
    let offer = json!({ "price": 100, "deadline_days": 3, "message": "Сделаю" });
    let proposals = format!("/api/v2/requests/{request}/proposals");
    let (status, _) = world.api.post_as(&proposals, &stranger.token, offer.clone()).await;
    assert_eq!(status, 403, "buyers do not propose");
    let (status, _) = world.api.post_as("/api/v2/requests/999999/proposals", &master.token, offer.clone()).await;
    assert_eq!(status, 404);

    let proposal = world.propose(&master, request, 100).await;
    let (status, body) = world.api.post_as(&proposals, &master.token, offer.clone()).await;
    assert_eq!((status, error_code(&body)), (409, "proposal_exists"));

    // Another buyer cannot see the request, its proposals, or accept by guessing ids.
    let (status, _) = world.api.get(&format!("/api/v2/requests/{request}"), &stranger.token).await;
    assert_eq!(status, 404);
    let (status, _) = world.api.get(&proposals, &stranger.token).await;
    assert_eq!(status, 404);
    let accept = format!("/api/v2/requests/{request}/proposals/{proposal}/accept");
    let (status, _) = world.api.post_as(&accept, &stranger.token, json!({})).await;
    assert_eq!(status, 404);
    let (status, body) = world.api.post_as(&accept, &master.token, json!({})).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "the master sees the request but does not own it");
    let (status, _) =
        world.api.patch(&format!("/api/v2/requests/{request}"), &stranger.token, json!({"title": "Моё"})).await;
    assert_eq!(status, 404);
    let (status, _) = world.api.post_as(&format!("/api/v2/requests/{request}/close"), &master.token, json!({})).await;
    assert_eq!(status, 403);

    // Nothing changed.
    let (_, details) = world.api.get(&format!("/api/v2/requests/{request}"), &buyer.token).await;
    assert_eq!((details["status"].as_str(), details["title"].as_str()), (Some("pending"), Some("Нужен шкаф-купе")));
    let (_, listed) = world.api.get(&proposals, &buyer.token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["status"], "pending");

    // A closed request takes no proposals; reopened, it does again.
    let (status, _) = world.api.post_as(&format!("/api/v2/requests/{request}/close"), &buyer.token, json!({})).await;
    assert_eq!(status, 200);
    let late = world.master().await;
    let (status, body) = world.api.post_as(&proposals, &late.token, offer.clone()).await;
    assert_eq!((status, error_code(&body)), (409, "request_not_open"));
    let (status, body) = world.api.post_as(&accept, &buyer.token, json!({})).await;
    assert_eq!((status, error_code(&body)), (409, "request_not_open"));
    let (status, _) = world.api.post_as(&format!("/api/v2/requests/{request}/reopen"), &buyer.token, json!({})).await;
    assert_eq!(status, 200);
    world.propose(&late, request, 200).await;
}

#[tokio::test]
async fn forbidden_order_moves_change_nothing() {
    let world = World::start().await;
    let (buyer, master, stranger) = (world.buyer().await, world.master().await, world.master().await);
    let order = world.order(&buyer, &master).await;

    let refused = [
        (&buyer, "accept", 403),
        (&buyer, "start", 403),
        (&master, "confirm", 403),
        (&master, "cancel", 403),
        (&master, "start", 409),
        (&master, "finish", 409),
        (&buyer, "confirm", 409),
        (&stranger, "accept", 404),
    ];
    for (who, action, expected) in refused {
        let (status, body) = world.act(who, order, action, json!({})).await;
        assert_eq!(status, expected, "{action}: {body}");
        assert_eq!(world.order_status(&buyer, order).await, "pending", "{action} changed the order");
    }
    let (status, _) = world.api.get(&format!("/api/v2/orders/{order}"), &stranger.token).await;
    assert_eq!(status, 404, "strangers do not see orders");
    let (status, body) = world.act(&master, order, "teleport", json!({})).await;
    assert_eq!(status, 404, "no such action: {body}");

    for action in ["accept", "start"] {
        assert_eq!(world.act(&master, order, action, json!({})).await.0, 200);
    }
    let (status, body) = world.act(&buyer, order, "cancel", json!({})).await;
    assert_eq!((status, error_code(&body)), (409, "invalid_transition"), "no cancelling once work started");
    let (status, _) =
        world.api.post_as(&format!("/api/v2/orders/{order}/review"), &buyer.token, json!({"rating": 5})).await;
    assert_eq!(status, 409, "no review before completion");
    assert_eq!(world.act(&master, order, "finish", json!({})).await.0, 200);
    let (status, body) = world.act(&buyer, order, "request_revision", json!({})).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "a revision needs notes");
    assert_eq!(world.act(&buyer, order, "confirm", json!({})).await.0, 200);
    for (who, action) in [(&buyer, "cancel"), (&master, "start"), (&buyer, "request_revision")] {
        let (status, _) = world.act(who, order, action, json!({ "note": "ещё" })).await;
        assert_eq!(status, 409, "{action} after completion");
    }
    assert_eq!(world.order_status(&buyer, order).await, "completed");

    let review = format!("/api/v2/orders/{order}/review");
    let (status, _) = world.api.post_as(&review, &master.token, json!({"rating": 5})).await;
    assert_eq!(status, 403, "masters do not review themselves");
    let (status, body) = world.api.post_as(&review, &buyer.token, json!({"rating": 6})).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    assert_eq!(world.api.post_as(&review, &buyer.token, json!({"rating": 4, "text": "Хорошо"})).await.0, 201);
    let (status, body) = world.api.post_as(&review, &buyer.token, json!({"rating": 1})).await;
    assert_eq!((status, error_code(&body)), (409, "already_reviewed"));
    let (_, reviews) = world.api.get_public(&format!("/api/v2/reviews?master_id={}", master.id)).await;
    assert_eq!(reviews["items"].as_array().unwrap().len(), 1);
    assert_eq!(reviews["items"][0]["rating"], 4);
}

#[tokio::test]
async fn a_buyer_may_cancel_before_work_starts() {
    let world = World::start().await;
    let (buyer, master) = (world.buyer().await, world.master().await);
    let order = world.order(&buyer, &master).await;
    // The body may be left out, but one that is there must be the documented object.
    let (status, body) = world.act(&buyer, order, "cancel", json!([null, null])).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_json"), "{body}");
    let (status, body) = world.act(&buyer, order, "cancel", json!({ "note": "Передумал" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "cancelled");
    let (_, request) = world.api.get(&format!("/api/v2/requests/{}", body["request_id"]), &buyer.token).await;
    assert_eq!(request["status"], "cancelled");
}
