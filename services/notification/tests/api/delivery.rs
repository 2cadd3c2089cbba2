//! Delivery through failing providers: everything arrives, nothing twice, every attempt logged;
//! what cannot be delivered waits as a dead letter until an admin requeues it.

use crate::helpers::*;
use contracts::events::{self, ChatMessageSent, NotificationRequested, OrderStatusChanged, ProposalCreated};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use testkit::eventually;

const EVENTS: i64 = 1_000;

/// One of four kinds of event for `user`.
async fn event_for(world: &World, user: i64) {
    match user % 4 {
        0 => {
            let proposal = ProposalCreated {
                proposal_id: user,
                request_id: user,
                master_id: 5,
                buyer_id: user,
                price_minor: 10_000_000,
                deadline_days: 7,
            };
            world.publish(proposal).await
        }
        1 => {
            let message = ChatMessageSent {
                chat_id: user,
                message_id: user,
                sender_id: 0,
                recipient_ids: vec![user],
                offline_recipient_ids: vec![user],
                kind: "text".into(),
                preview: "Здравствуйте".into(),
            };
            world.publish(message).await
        }
        2 => {
            let sms = NotificationRequested {
                user_id: user,
                kind: "reminder".into(),
                title: "Напоминание".into(),
                body: format!("Сообщение {user}"),
                channels: vec![events::Channel::Sms as i32],
                ..Default::default()
            };
            world.publish(sms).await
        }
        _ => {
            let change = OrderStatusChanged {
                order_id: user,
                buyer_id: user,
                master_id: 0,
                actor_id: 0,
                old_status: "accepted".into(),
                new_status: "in_progress".into(),
                note: None,
            };
            world.publish(change).await
        }
    }
}

#[tokio::test]
async fn a_thousand_events_through_providers_failing_a_third_of_the_time_arrive_once_each() {
    let world = World::start_with(|s| s.batch_size = 128).await;
    for fake in [&world.onesignal, &world.mobizon] {
        fake.fail_randomly(0.3);
    }
    world.smtp.fail_randomly(0.3);
    for user in 1..=EVENTS {
        world.contact(user, Some(&format!("user{user}@mebelplace.kz")), Some(&format!("+7700{user:07}"))).await;
    }
    // Four kinds of event: push + e-mail + in-app, push only, SMS only, and an order change
    // that tells only the side that did not act.
    futures_util::future::join_all((1..=EVENTS).map(|user| event_for(&world, user))).await;
    // Pushes: every event but the SMS ones; e-mail and in-app: proposals and order changes.
    let (pushes, mails, sms, in_app) = (750, 500, 250, 500);
    world.settled(pushes + mails + sms + in_app).await;
    let statuses: HashMap<String, i64> = world.statuses().await.into_iter().collect();
    assert_eq!(
        statuses,
        HashMap::from([("sent".to_owned(), pushes + mails + sms + in_app)]),
        "none dead, none skipped"
    );

    // None twice: count in the fakes.
    let accepted_pushes = world.onesignal.accepted();
    let keys: std::collections::HashSet<String> =
        accepted_pushes.iter().map(|r| r.json()["idempotency_key"].as_str().unwrap().to_owned()).collect();
    assert_eq!((accepted_pushes.len() as i64, keys.len() as i64), (pushes, pushes));
    let accepted_sms = world.mobizon.accepted();
    let texts: std::collections::HashSet<String> = accepted_sms.iter().map(|r| r.form()["text"].clone()).collect();
    assert_eq!((accepted_sms.len() as i64, texts.len() as i64), (sms, sms));
    let received = world.smtp.mails();
    let ids: std::collections::HashSet<String> = received
        .iter()
        .map(|m| m.data.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:")).unwrap().to_owned())
        .collect();
    assert_eq!((received.len() as i64, ids.len() as i64), (mails, mails));
    assert!(world.onesignal.requests().len() > accepted_pushes.len(), "the fake did fail some calls");

    // Every attempt logged: one row per call the providers saw, retries included.
    let mut conn = world.db().await;
    let attempts: Vec<(String, String, i64)> = diesel_async::RunQueryDsl::load(
        {
            use diesel::prelude::*;
            use notification::store::schema::delivery_attempts::dsl::*;
            delivery_attempts.group_by((channel, outcome)).select((channel, outcome, diesel::dsl::count_star()))
        },
        &mut conn,
    )
    .await
    .unwrap();
    let logged = |ch: &str| -> i64 { attempts.iter().filter(|(c, _, _)| c == ch).map(|(_, _, n)| n).sum() };
    assert_eq!(logged("push"), world.onesignal.requests().len() as i64);
    assert_eq!(logged("sms"), world.mobizon.requests().len() as i64);
    assert_eq!(logged("in_app"), in_app);
    assert!(logged("email") > mails, "refused mails were retried and logged");
    let sent: i64 = attempts.iter().filter(|(_, o, _)| o == "sent").map(|(_, _, n)| n).sum();
    assert_eq!(sent, pushes + mails + sms + in_app);

    let (_, metrics) = world.api.get_public("/metrics").await;
    let metrics = metrics.as_str().unwrap().to_owned();
    assert!(metrics.contains("notification_deliveries_total{channel=\"push\",outcome=\"retried\""), "{metrics}");
    assert!(metrics.contains("notification_delivery_seconds_bucket{channel=\"email\""));
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_becomes_a_dead_letter_that_an_admin_requeues() {
    let world = World::start_with(|s| s.max_attempts = 2).await;
    world.onesignal.respond(ONESIGNAL_PATH, 503, json!({ "errors": ["unavailable"] }));
    let message = ChatMessageSent {
        chat_id: 1,
        message_id: 1,
        sender_id: 2,
        recipient_ids: vec![3],
        offline_recipient_ids: vec![3],
        ..Default::default()
    };
    world.publish(message).await;
    world.settled(1).await;
    let (status, dead) = world.admin_get("/api/v2/notifications/admin/dead-letters").await;
    assert_eq!(status, 200, "{dead}");
    let letter = &dead["items"][0];
    assert_eq!(
        (letter["channel"].as_str(), letter["attempts"].as_i64(), letter["status"].as_str()),
        (Some("push"), Some(2), Some("dead"))
    );
    let id = letter["id"].as_i64().unwrap();
    assert_eq!(world.onesignal.requests().len(), 2);

    // The log shows both attempts.
    let (status, log) = world.admin_get("/api/v2/notifications/admin/deliveries?user_id=3").await;
    assert_eq!(status, 200, "{log}");
    let attempts = log["items"][0]["history"].as_array().unwrap();
    assert_eq!(attempts.iter().map(|a| a["outcome"].as_str().unwrap()).collect::<Vec<_>>(), ["retry", "retry"]);
    assert!(attempts.iter().all(|a| a["error"] == "HTTP 503" && a["latency_ms"].is_number()));

    // Only admins; only dead letters; only existing ones.
    assert_eq!(world.get("/api/v2/notifications/admin/dead-letters", 3).await.0, 403);
    assert_eq!(
        world.post(&format!("/api/v2/notifications/admin/dead-letters/{id}/requeue"), 3, json!({})).await.0,
        403
    );
    let (status, body) = world.admin_post("/api/v2/notifications/admin/dead-letters/999999/requeue").await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    assert_eq!(world.admin_get("/api/v2/notifications/admin/deliveries").await.0, 400);
    assert_eq!(world.admin_get("/api/v2/notifications/admin/dead-letters?limit=0").await.0, 400);

    // The provider is back: requeued, it is sent once.
    world.onesignal.respond(ONESIGNAL_PATH, 200, json!({ "id": "n-1" }));
    let (status, requeued) = world.admin_post(&format!("/api/v2/notifications/admin/dead-letters/{id}/requeue")).await;
    assert_eq!((status, requeued["status"].as_str(), requeued["attempts"].as_i64()), (200, Some("pending"), Some(0)));
    eventually("the requeued push is sent", Duration::from_secs(30), || async { world.pushes_to(3).len() == 1 }).await;
    world.settled(1).await;
    let (status, body) = world.admin_post(&format!("/api/v2/notifications/admin/dead-letters/{id}/requeue")).await;
    assert_eq!((status, error_code(&body)), (409, "not_dead"));
    let (_, dead) = world.admin_get("/api/v2/notifications/admin/dead-letters").await;
    assert_eq!(dead["items"], json!([]));
}

#[tokio::test]
async fn a_onesignal_200_with_errors_is_a_failure_and_redelivered_events_send_nothing_twice() {
    let world = World::start().await;
    world.onesignal.respond(
        ONESIGNAL_PATH,
        200,
        json!({ "id": "", "errors": ["All included players are not subscribed"] }),
    );
    let message = ChatMessageSent {
        chat_id: 1,
        message_id: 1,
        sender_id: 2,
        recipient_ids: vec![3],
        offline_recipient_ids: vec![3],
        ..Default::default()
    };
    let envelope = contracts::Envelope::of(message);
    // The same event three times (Kafka redelivers).
    for _ in 0..3 {
        world.send(&envelope).await;
    }
    world.settled(1).await;
    assert_eq!(world.onesignal.requests().len(), 1, "one delivery, one call: refused for good, not retried");
    let (_, dead) = world.admin_get("/api/v2/notifications/admin/dead-letters").await;
    assert!(dead["items"][0]["last_error"].as_str().unwrap().contains("not subscribed"), "{dead}");
}
