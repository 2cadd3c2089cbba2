//! Settings: channels switched per kind, quiet hours that hold and release, digests, one-click
//! unsubscribe, and bad input refused with nothing changed.

use crate::helpers::*;
use chrono::{Timelike, Utc};
use contracts::events::{ProposalCreated, VerificationRequested, VideoLiked};
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

async fn settings(world: &World, user: i64) -> Value {
    let (status, body) = world.get("/api/v2/notifications/settings", user).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn change(world: &World, user: i64, body: Value) -> Value {
    let (status, body) = world.post("/api/v2/notifications/settings", user, body).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn settings_switch_channels_on_and_off() {
    let world = World::start().await;
    world.contact(1, Some("buyer@mebelplace.kz"), Some("+77001112233")).await;
    let defaults = settings(&world, 1).await;
    assert_eq!(defaults["time_zone"], "Asia/Almaty");
    assert_eq!(defaults["quiet_hours"], Value::Null);
    assert_eq!(
        defaults["channels"]["new_proposal"],
        json!({ "push": true, "sms": false, "email": true, "in_app": true })
    );
    assert!(defaults["channels"].get("verification").is_none(), "codes are not configurable");

    let changed =
        change(&world, 1, json!({ "channels": { "new_proposal": { "email": false, "sms": true, "push": false } } }))
            .await;
    assert_eq!(
        changed["channels"]["new_proposal"],
        json!({ "push": false, "sms": true, "email": false, "in_app": true })
    );
    world.publish(proposal(1, 1)).await;
    eventually("the SMS", Duration::from_secs(30), || async { world.sms_to("+77001112233").len() == 1 }).await;
    world.settled(2).await;
    assert!(world.mails_to("buyer@mebelplace.kz").is_empty());
    assert!(world.pushes_to(1).is_empty());
    let sms = world.sms_to("+77001112233")[0].form();
    assert!(sms["text"].contains("150 000 ₸"), "{sms:?}");
    assert!(world.mobizon.requests()[0].query.contains("apiKey="));
}

#[tokio::test]
async fn quiet_hours_hold_push_and_email_until_they_end_but_not_codes_or_in_app() {
    let world = World::start().await;
    world.contact(1, Some("night@mebelplace.kz"), Some("+77005556677")).await;
    // A window around this moment in Almaty (UTC+5).
    let local = Utc::now().with_timezone(&chrono_tz::Asia::Almaty);
    let (start, end) = ((local.hour() + 23) % 24, (local.hour() + 2) % 24);
    let quiet = json!({ "quiet_hours": { "start": format!("{start:02}:00"), "end": format!("{end:02}:00") } });
    assert_eq!(change(&world, 1, quiet).await["quiet_hours"]["start"], format!("{start:02}:00"));

    world.publish(proposal(1, 1)).await;
    let code = VerificationRequested {
        user_id: 1,
        channel: "sms".into(),
        destination: "+77005556677".into(),
        code: "428913".into(),
        locale: "ru".into(),
        expires_at: None,
    };
    world.publish(code).await;
    eventually("held push and e-mail", Duration::from_secs(30), || async {
        world.statuses().await.iter().any(|(status, n)| status == "held" && *n == 2)
    })
    .await;
    // In-app at once, the code at once, the rest held.
    eventually("the code", Duration::from_secs(30), || async { world.sms_to("+77005556677").len() == 1 }).await;
    assert!(world.sms_to("+77005556677")[0].form()["text"].contains("428913"));
    let (_, inbox) = world.get("/api/v2/notifications", 1).await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1);
    assert!(world.pushes_to(1).is_empty() && world.mails_to("night@mebelplace.kz").is_empty());
    let (_, log) = world.admin_get("/api/v2/notifications/admin/deliveries?user_id=1").await;
    let held: Vec<&Value> = log["items"].as_array().unwrap().iter().filter(|d| d["status"] == "held").collect();
    assert_eq!(held.len(), 2);
    let later =
        |d: &Value| d["next_attempt_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap() > Utc::now();
    assert!(held.iter().all(|d| d["attempts"] == 0 && later(d)), "{log}");

    // The window ends (the user turns quiet hours off): both are released, once.
    change(&world, 1, json!({ "quiet_hours": null })).await;
    eventually("released", Duration::from_secs(30), || async {
        world.pushes_to(1).len() == 1 && world.mails_to("night@mebelplace.kz").len() == 1
    })
    .await;
    world.settled(4).await;
    assert_eq!(world.statuses().await, vec![("sent".to_owned(), 4)]);
    // The delivered code is not kept.
    let (_, log) = world.admin_get("/api/v2/notifications/admin/deliveries?user_id=1").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn likes_gather_into_a_digest_for_users_who_choose_it() {
    let world = World::start().await;
    world.contact(4, Some("master@mebelplace.kz"), None).await;
    assert_eq!(change(&world, 4, json!({ "digest": true })).await["digest"], true);
    for fan in 5..8 {
        world.publish(VideoLiked { video_id: 1, author_id: 4, user_id: fan }).await;
    }
    eventually("three likes in the app", Duration::from_secs(30), || async {
        world.get("/api/v2/notifications", 4).await.1["items"].as_array().unwrap().len() == 3
    })
    .await;
    // The digest job's round (hourly by default), run now.
    let db = platform::db::pool(&world.config.platform.database).unwrap();
    assert_eq!(notification::digest::send_due(&db).await.unwrap(), 1);
    assert_eq!(notification::digest::send_due(&db).await.unwrap(), 0, "nothing twice");
    eventually("one digest", Duration::from_secs(30), || async { world.mails_to("master@mebelplace.kz").len() == 1 })
        .await;
    let mail = &world.mails_to("master@mebelplace.kz")[0];
    assert!(mail.data.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{}", mail.data);
    assert!(world.pushes_to(4).is_empty(), "no push per like");
    assert!(mail.data.contains("Subject: =?utf-8?") || mail.data.contains("Subject:"));

    // One click on the link turns that mail off.
    let unfolded = mail.data.replace("\n ", " ").replace("\n\t", " ");
    let link = unfolded.lines().find(|l| l.starts_with("List-Unsubscribe: <")).unwrap();
    let url = link.trim_start_matches("List-Unsubscribe: <").trim_end_matches('>').replace(' ', "");
    let token = url.split("token=").nth(1).unwrap();
    let (status, body) = world.api.post(&format!("/api/v2/notifications/unsubscribe?token={token}"), json!({})).await;
    assert_eq!((status, body["kind"].as_str()), (200, Some("digest")), "{body}");
    assert_eq!(settings(&world, 4).await["channels"]["digest"]["email"], false);
    let (status, body) = world.api.post("/api/v2/notifications/unsubscribe?token=forged.token", json!({})).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_token"));
}

#[tokio::test]
async fn bad_settings_are_refused_naming_every_field_and_change_nothing() {
    let world = World::start().await;
    let before = settings(&world, 1).await;
    let bad = json!({
        "time_zone": "Mars/Olympus",
        "quiet_hours": { "start": "25:00", "end": "08:00" },
        "channels": { "verification": { "email": false }, "nonsense": { "push": true }, "like": { "pigeon": true } },
    });
    let (status, body) = world.post("/api/v2/notifications/settings", 1, bad).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "{body}");
    let fields = &body["error"]["details"]["fields"];
    assert!(
        fields["time_zone"].is_string() && fields["quiet_hours"].is_string() && fields["channels"].is_string(),
        "{body}"
    );
    assert_eq!(
        world
            .post("/api/v2/notifications/settings", 1, json!({ "quiet_hours": { "start": "08:00", "end": "08:00" } }))
            .await
            .0,
        400
    );
    assert_eq!(world.post("/api/v2/notifications/settings", 1, json!({ "colour": "red" })).await.0, 400);
    assert_eq!(world.post("/api/v2/notifications/settings", 1, json!({ "digest": "yes" })).await.0, 400);
    assert_eq!(settings(&world, 1).await, before);
    let changed =
        change(&world, 1, json!({ "time_zone": "Asia/Aqtobe", "channels": { "like": { "push": false } } })).await;
    assert_eq!(
        (changed["time_zone"].as_str(), changed["channels"]["like"]["push"].as_bool()),
        (Some("Asia/Aqtobe"), Some(false))
    );
    assert_eq!(world.api.get_public("/api/v2/notifications/settings").await.0, 401);
}
