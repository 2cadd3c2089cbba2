//! Deliveries in doubt: a sender killed during its provider call leaves the attempt logged as
//! `sending` and never finished. When the lease runs out, the next sender does not send an SMS
//! again (Mobizon takes no idempotency key) but parks it for an admin with the reason; a push
//! and an e-mail are sent again under the same idempotency key and Message-ID. An SMS whose call
//! got no answer is parked the same way.

use crate::helpers::*;
use contracts::events::{self, NotificationRequested};
use diesel_async::AsyncConnection;
use notification::delivery::request;
use notification::domain::Channel;
use notification::store::deliveries::{self, Claimed};
use notification::store::notifications::{self, NewNotification};
use serde_json::{Value, json};
use std::time::Duration;
use testkit::eventually;

/// The lease of the sender that dies.
const LEASE_SECS: f64 = 1.0;

/// What a sender killed during its provider calls leaves behind: a notification for `user` with
/// a delivery on each of `channels`, claimed, each attempt begun (logged `sending`, as the sender
/// does before calling the provider) and never finished.
async fn cut_off_while_sending(world: &World, user: i64, channels: &[Channel]) -> Vec<Claimed> {
    let mut conn = world.db().await;
    let data = json!({ "kind": "reminder", "title": "Напоминание", "body": format!("Замер кухни, заказ {user}") });
    let source = format!("crash:{user}");
    let claimed = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let new = NewNotification {
                user_id: user,
                kind: "other",
                data: &data,
                source: &source,
                in_app: false,
                digest_pending: false,
            };
            let id = notifications::insert(conn, &new).await?.expect("a new notification");
            notifications::insert_deliveries(conn, id, user, channels, false, None).await?;
            // Inserted and claimed in one transaction: the running sender never sees them free.
            deliveries::claim(conn, 10, LEASE_SECS).await
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), channels.len());
    for delivery in &claimed {
        let channel = Channel::parse(&delivery.channel).unwrap();
        assert!(deliveries::begin_attempt(&mut conn, delivery, &request(delivery, channel)).await.unwrap());
    }
    claimed
}

/// The call the killed sender made, taken by the provider's fake.
async fn provider_took(url: String, body: Vec<u8>, content_type: &str) {
    let response = reqwest::Client::new()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

/// The deliveries of `user` with their attempts, as admins see them.
async fn log_of(world: &World, user: i64) -> Vec<Value> {
    let (status, log) = world.admin_get(&format!("/api/v2/notifications/admin/deliveries?user_id={user}")).await;
    assert_eq!(status, 200, "{log}");
    log["items"].as_array().unwrap().clone()
}

fn outcomes(delivery: &Value) -> Vec<&str> {
    delivery["history"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn an_sms_cut_off_by_a_crash_is_not_sent_again_and_waits_for_an_admin_with_the_reason() {
    let world = World::start().await;
    world.contact(21, None, Some("+77001000021")).await;
    world.contact(22, None, Some("+77001000022")).await;
    // User 21's SMS reached Mobizon, which took it, before its sender died; user 22's sender
    // died before the request left.
    cut_off_while_sending(&world, 21, &[Channel::Sms]).await;
    let form = "recipient=77001000021&text=%D0%97%D0%B0%D0%BC%D0%B5%D1%80";
    let url = format!("{}{MOBIZON_PATH}?output=json&api=v1&apiKey=key", world.mobizon.url());
    provider_took(url, form.into(), "application/x-www-form-urlencoded").await;
    cut_off_while_sending(&world, 22, &[Channel::Sms]).await;

    // The lease runs out; the running sender finds both and sends neither.
    world.settled(2).await;
    assert_eq!(world.statuses().await, [("dead".to_owned(), 2)]);
    assert_eq!(world.mobizon.requests().len(), 1, "not sent again");
    let (status, dead) = world.admin_get("/api/v2/notifications/admin/dead-letters").await;
    assert_eq!(status, 200, "{dead}");
    let letters = dead["items"].as_array().unwrap();
    assert_eq!(letters.len(), 2);
    for letter in letters {
        let reason = letter["last_error"].as_str().unwrap();
        assert!(reason.starts_with("in doubt: the sender stopped after asking Mobizon"), "{reason}");
        assert!(reason.contains("requeue it only if Mobizon's message log does not show it"), "{reason}");
        assert_eq!((letter["channel"].as_str(), letter["attempts"].as_i64()), (Some("sms"), Some(1)));
    }
    let log = log_of(&world, 21).await;
    assert_eq!(outcomes(&log[0]), ["in_doubt"]);
    assert_eq!(log[0]["history"][0]["request"], "Mobizon sendsmsmessage to +77001000021");

    // The admin finds user 22's message missing from Mobizon's log and requeues it: it goes
    // once; user 21's, which Mobizon shows, stays where it is.
    let id = log_of(&world, 22).await[0]["id"].as_i64().unwrap();
    let (status, body) = world.admin_post(&format!("/api/v2/notifications/admin/dead-letters/{id}/requeue")).await;
    assert_eq!(status, 200, "{body}");
    eventually("the requeued SMS", Duration::from_secs(30), || async { world.sms_to("+77001000022").len() == 1 }).await;
    world.settled(2).await;
    assert_eq!((world.sms_to("+77001000021").len(), world.sms_to("+77001000022").len()), (1, 1));
    assert_eq!(outcomes(&log_of(&world, 22).await[0]), ["in_doubt", "sent"]);

    let (_, metrics) = world.api.get_public("/metrics").await;
    let metrics = metrics.as_str().unwrap().to_owned();
    let in_doubt = metrics
        .lines()
        .find(|l| l.starts_with("notification_deliveries_total{channel=\"sms\",outcome=\"in_doubt\""))
        .unwrap_or_default();
    assert!(in_doubt.ends_with(" 2"), "{metrics}");
}

#[tokio::test]
async fn a_push_and_an_email_cut_off_by_a_crash_are_sent_again_under_the_same_keys() {
    let world = World::start().await;
    world.contact(31, Some("aliya@mebelplace.kz"), None).await;
    let claimed = cut_off_while_sending(&world, 31, &[Channel::Push, Channel::Email]).await;
    let key_of = |channel: &str| claimed.iter().find(|d| d.channel == channel).unwrap().idempotency_key;
    // The push reached OneSignal before the sender died.
    let push = json!({ "app_id": "app-1", "idempotency_key": key_of("push").to_string(),
                       "include_aliases": { "external_id": ["31"] } });
    let url = format!("{}{ONESIGNAL_PATH}?c=push", world.onesignal.url());
    provider_took(url, push.to_string().into(), "application/json").await;

    world.settled(2).await;
    assert_eq!(world.statuses().await, [("sent".to_owned(), 2)]);
    let pushes = world.pushes_to(31);
    assert_eq!(pushes.len(), 2);
    assert!(
        pushes.iter().all(|p| p.json()["idempotency_key"] == key_of("push").to_string()),
        "the same key twice: OneSignal sends it once"
    );
    let mails = world.mails_to("aliya@mebelplace.kz");
    assert_eq!(mails.len(), 1);
    let message_id = format!("<{}@mebelplace.com.kz>", key_of("email"));
    assert!(mails[0].data.lines().any(|l| l.eq_ignore_ascii_case(&format!("message-id: {message_id}"))));
    for delivery in log_of(&world, 31).await {
        assert_eq!(outcomes(&delivery), ["in_doubt", "sent"], "{delivery}");
        let history = delivery["history"].as_array().unwrap();
        assert_eq!(history[0]["request"], history[1]["request"], "the same request again");
    }
}

#[tokio::test]
async fn an_sms_whose_call_gets_no_answer_is_not_sent_again_but_a_push_is() {
    let world = World::start_with(|s| s.max_attempts = 3).await;
    world.mobizon.respond(MOBIZON_PATH, 504, json!({ "error": "upstream timed out" }));
    world.onesignal.respond(ONESIGNAL_PATH, 504, json!({ "error": "upstream timed out" }));
    world.contact(41, None, Some("+77001000041")).await;
    let asked = NotificationRequested {
        user_id: 41,
        kind: "reminder".into(),
        title: "Напоминание".into(),
        body: "Замер кухни в пятницу".into(),
        channels: vec![events::Channel::Sms as i32, events::Channel::Push as i32],
        ..Default::default()
    };
    world.publish(asked).await;
    world.settled(2).await;
    assert_eq!(world.statuses().await, [("dead".to_owned(), 2)]);
    assert_eq!(world.mobizon.requests().len(), 1, "the SMS is asked for once");
    assert_eq!(world.onesignal.requests().len(), 3, "the push again under its key, until out of attempts");
    let log = log_of(&world, 41).await;
    let sms = log.iter().find(|d| d["channel"] == "sms").unwrap();
    assert_eq!(outcomes(sms), ["in_doubt"]);
    assert!(sms["last_error"].as_str().unwrap().starts_with("in doubt: HTTP 504"), "{sms}");
    let push = log.iter().find(|d| d["channel"] == "push").unwrap();
    assert_eq!(outcomes(push), ["retry", "retry", "retry"]);
}
