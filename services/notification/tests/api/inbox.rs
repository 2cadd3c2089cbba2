//! The in-app list, real-time pushes over NATS, offline-only chat pushes, devices.

use crate::helpers::*;
use contracts::events::{CallMissed, ChatMessageSent, ProposalCreated, RequestCreated, VideoLiked};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use testkit::eventually;

fn proposal(buyer: i64, id: i64) -> ProposalCreated {
    ProposalCreated {
        proposal_id: id,
        request_id: 10,
        master_id: 2,
        buyer_id: buyer,
        price_minor: 15_000_000,
        deadline_days: 14,
    }
}

async fn list(world: &World, user: i64, query: &str) -> Value {
    let (status, body) = world.get(&format!("/api/v2/notifications{query}"), user).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn notifications_are_listed_counted_read_and_pushed_in_real_time() {
    let world = World::start().await;
    let nats = async_nats::connect(testkit::nats_url()).await.unwrap();
    let subject = world.config.platform.nats.subject(&contracts::subjects::realtime_user(1));
    let mut live = nats.subscribe(subject).await.unwrap();
    nats.flush().await.unwrap();
    for id in 1..=3 {
        world.publish(proposal(1, id)).await;
    }
    world.publish(proposal(9, 4)).await;
    eventually("three notifications", Duration::from_secs(30), || async {
        list(&world, 1, "").await["items"].as_array().unwrap().len() == 3
    })
    .await;

    let pushed = tokio::time::timeout(Duration::from_secs(30), live.next()).await.unwrap().unwrap();
    let pushed: Value = serde_json::from_slice(&pushed.payload).unwrap();
    assert_eq!(
        (pushed["type"].as_str(), pushed["notification"]["kind"].as_str()),
        (Some("notification"), Some("new_proposal"))
    );
    assert_eq!(pushed["notification"]["title"], "Новое предложение");

    let first = list(&world, 1, "?limit=2").await;
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "new_proposal");
    assert!(items[0]["body"].as_str().unwrap().contains("150 000 ₸"), "{first}");
    assert_eq!(items[0]["data"]["proposal_id"], 3, "newest first");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = list(&world, 1, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);

    let (_, kazakh) = world
        .api
        .send(
            world
                .api
                .client
                .get(world.api.url("/api/v2/notifications"))
                .bearer_auth(token(1))
                .header("Accept-Language", "kk"),
        )
        .await;
    assert_eq!(kazakh["items"][0]["title"], "Жаңа ұсыныс");

    let (_, count) = world.get("/api/v2/notifications/unread-count", 1).await;
    assert_eq!(count["unread"], 3);
    let id = items[0]["id"].as_i64().unwrap();
    let (status, read) = world.post(&format!("/api/v2/notifications/{id}/read"), 1, json!({})).await;
    assert_eq!((status, read["read"].as_bool()), (200, Some(true)));
    assert_eq!(list(&world, 1, "?unread=true").await["items"].as_array().unwrap().len(), 2);
    // Someone else's notification is not found.
    let (status, body) = world.post(&format!("/api/v2/notifications/{id}/read"), 9, json!({})).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, all) = world.post("/api/v2/notifications/read-all", 1, json!({})).await;
    assert_eq!((status, all["updated"].as_i64()), (200, Some(2)));
    assert_eq!(world.get("/api/v2/notifications/unread-count", 1).await.1["unread"], 0);
    assert_eq!(world.get("/api/v2/notifications/unread-count", 9).await.1["unread"], 1);

    // Bad input answers in the error shape.
    assert_eq!(world.api.get_public("/api/v2/notifications").await.0, 401);
    let (status, body) = world.get("/api/v2/notifications?cursor=nonsense", 1).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_cursor"));
    assert_eq!(world.get("/api/v2/notifications?limit=500", 1).await.0, 400);
    assert_eq!(world.get("/api/v2/notifications?unread=maybe", 1).await.0, 400);
    assert_eq!(world.post("/api/v2/notifications/abc/read", 1, json!({})).await.0, 404);
    assert_eq!(
        world
            .api
            .send(world.api.client.delete(world.api.url("/api/v2/notifications/read-all")).bearer_auth(token(1)))
            .await
            .0,
        405
    );
}

#[tokio::test]
async fn chat_messages_are_pushed_only_to_offline_recipients_and_requests_reach_their_masters() {
    let world = World::start().await;
    let message = ChatMessageSent {
        chat_id: 1,
        message_id: 1,
        sender_id: 1,
        recipient_ids: vec![2, 3],
        offline_recipient_ids: vec![3],
        kind: "text".into(),
        preview: "Когда сможете приехать?".into(),
    };
    world.publish(message).await;
    // The request names the master serving Almaty kitchens (the Astana one is not named).
    world
        .publish(RequestCreated {
            request_id: 5,
            buyer_id: 1,
            title: "Кухня на заказ".into(),
            region_code: "almaty".into(),
            category_codes: vec!["kitchens".into()],
            budget_minor: None,
            serving_master_ids: vec![10],
        })
        .await;
    world.publish(CallMissed { call_id: 1, caller_id: 1, callee_id: 2 }).await;
    eventually("pushes", Duration::from_secs(30), || async {
        world.pushes_to(3).len() == 1 && world.pushes_to(10).len() == 1 && world.pushes_to(2).len() == 1
    })
    .await;
    world.settled(4).await;
    let push = world.pushes_to(3)[0].json();
    assert_eq!(push["contents"]["ru"], "Когда сможете приехать?");
    assert_eq!(push["app_id"], "app-1");
    assert!(push["idempotency_key"].is_string());
    assert_eq!(world.onesignal.requests()[0].headers.get("authorization").map(String::as_str), Some("Key rest-key"));
    assert_eq!(
        world.pushes_to(2)[0].json()["data"]["kind"],
        "missed_call",
        "the online recipient heard only of the call"
    );
    assert!(world.pushes_to(11).is_empty(), "the Astana master is not told of an Almaty request");
    let masters_list = list(&world, 10, "").await;
    assert_eq!(masters_list["items"][0]["kind"], "new_request");
}

#[tokio::test]
async fn devices_register_and_receive_pushes_by_subscription() {
    let world = World::start().await;
    let device = json!({ "token": "6392d91a-b206-4b7b-a620-cd68e32c3a76", "platform": "android" });
    let (status, body) = world.post("/api/v2/notifications/push-token", 4, device.clone()).await;
    assert_eq!((status, body["active"].as_bool()), (200, Some(true)), "{body}");
    world.publish(VideoLiked { video_id: 1, author_id: 4, user_id: 5 }).await;
    eventually("a push to the device", Duration::from_secs(30), || async { !world.onesignal.accepted().is_empty() })
        .await;
    let push = world.onesignal.accepted()[0].json();
    assert_eq!(push["include_subscription_ids"], json!(["6392d91a-b206-4b7b-a620-cd68e32c3a76"]));
    assert!(push.get("include_aliases").is_none());

    let off = json!({ "token": "6392d91a-b206-4b7b-a620-cd68e32c3a76", "platform": "android", "active": false });
    assert_eq!(world.post("/api/v2/notifications/push-token", 4, off.clone()).await.0, 200);
    let (status, body) = world.post("/api/v2/notifications/push-token", 4, off).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) =
        world.post("/api/v2/notifications/push-token", 4, json!({ "token": "", "platform": "nokia" })).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    assert!(
        body["error"]["details"]["fields"]["token"].is_string()
            && body["error"]["details"]["fields"]["platform"].is_string()
    );
    assert_eq!(
        world
            .post("/api/v2/notifications/push-token", 4, json!({ "token": "x", "platform": "ios", "extra": 1 }))
            .await
            .0,
        400
    );
    let (status, _) = world
        .api
        .send(
            world
                .api
                .client
                .post(world.api.url("/api/v2/notifications/push-token"))
                .bearer_auth(token(4))
                .body("{")
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(status, 400);
}
