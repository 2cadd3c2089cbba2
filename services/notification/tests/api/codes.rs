//! Verification codes end to end: registration at auth → Kafka → notification → SMTP sink or
//! Mobizon → the code verifies the address and the user signs in. In development mode codes
//! are recorded for admins instead of sent.

use crate::helpers::*;
use notification::config::Mode;
use serde_json::json;
use std::time::Duration;
use testkit::eventually;

const PASSWORD: &str = "Shkaf-2024";

#[tokio::test]
async fn a_code_from_registration_reaches_the_mailbox_verifies_the_address_and_the_user_signs_in() {
    let world = World::with_auth(|_| {}).await;
    let auth = world.auth.clone().unwrap();
    let register = json!({ "email_or_phone": "aigerim@mebelplace.kz", "password": PASSWORD, "username": "aigerim", "role": "buyer" });
    let (status, body) = auth.post("/api/v2/auth/register", register).await;
    assert_eq!(status, 201, "{body}");
    eventually("the code and the welcome", Duration::from_secs(60), || async {
        world.mails_to("aigerim@mebelplace.kz").len() == 2
    })
    .await;
    let mails = world.mails_to("aigerim@mebelplace.kz");
    let code_mail = mails.iter().find(|m| code_in(&m.text()).is_some()).expect("a mail with the code");
    let code = code_in(&code_mail.text()).unwrap();
    assert!(!code_mail.data.contains("List-Unsubscribe"), "codes are transactional");
    assert!(mails.iter().any(|m| m.text().contains("спасибо за регистрацию")), "the welcome");

    let (status, body) = auth
        .post("/api/v2/auth/verify-email", json!({ "email_or_phone": "aigerim@mebelplace.kz", "code": code }))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, session) = auth
        .post("/api/v2/auth/login", json!({ "email_or_phone": "aigerim@mebelplace.kz", "password": PASSWORD }))
        .await;
    assert_eq!(status, 200, "{session}");
    assert!(session["access_token"].is_string());
    // The delivered code is not kept in the notification service.
    let mut conn = world.db().await;
    let kept: Vec<serde_json::Value> = diesel_async::RunQueryDsl::load(
        {
            use diesel::prelude::*;
            use notification::store::schema::notifications::dsl::*;
            notifications.filter(kind.eq("verification")).select(data)
        },
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].get("code").is_none(), "{kept:?}");
}

#[tokio::test]
async fn a_phone_registration_gets_its_code_by_sms() {
    let world = World::with_auth(|_| {}).await;
    let auth = world.auth.clone().unwrap();
    let register =
        json!({ "email_or_phone": "87015551234", "password": PASSWORD, "username": "yerlan", "role": "master" });
    let (status, body) = auth.post("/api/v2/auth/register", register).await;
    assert_eq!(status, 201, "{body}");
    eventually("the SMS", Duration::from_secs(60), || async { world.sms_to("+77015551234").len() == 1 }).await;
    let code = code_in(&world.sms_to("+77015551234")[0].form()["text"]).unwrap();
    let (status, body) =
        auth.post("/api/v2/auth/verify-sms", json!({ "email_or_phone": "+77015551234", "code": code })).await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test]
async fn in_development_mode_codes_are_recorded_for_admins_instead_of_sent() {
    let world = World::with_auth(|s| s.mode = Mode::Record).await;
    let auth = world.auth.clone().unwrap();
    let register =
        json!({ "email_or_phone": "dev@mebelplace.kz", "password": PASSWORD, "username": "dev", "role": "buyer" });
    assert_eq!(auth.post("/api/v2/auth/register", register).await.0, 201);
    eventually("recorded", Duration::from_secs(60), || async {
        let (_, recorded) = world.admin_get("/api/v2/notifications/admin/recorded").await;
        recorded["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|m| code_in(m["body"].as_str().unwrap_or("")).is_some()))
    })
    .await;
    let (_, recorded) = world.admin_get("/api/v2/notifications/admin/recorded?limit=1").await;
    assert_eq!(recorded["items"][0]["destination"], "dev@mebelplace.kz");
    assert!(world.smtp.mails().is_empty(), "nothing sent");
    assert_eq!(world.get("/api/v2/notifications/admin/recorded", 3).await.0, 403);
}

#[tokio::test]
async fn the_api_is_documented_and_other_methods_answer_405() {
    let world = World::start().await;
    let (status, document) = world.api.get_public("/api/v2/notifications/openapi.json").await;
    assert_eq!(status, 200);
    assert!(platform::http::openapi::unresolved_references(&document).is_empty());
    let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
    for path in [
        "/api/v2/notifications",
        "/api/v2/notifications/{id}/read",
        "/api/v2/notifications/read-all",
        "/api/v2/notifications/settings",
        "/api/v2/notifications/push-token",
        "/api/v2/notifications/unread-count",
        "/api/v2/notifications/unsubscribe",
        "/api/v2/notifications/admin/dead-letters",
        "/api/v2/notifications/admin/dead-letters/{id}/requeue",
        "/api/v2/notifications/admin/deliveries",
        "/api/v2/notifications/admin/recorded",
    ] {
        assert!(paths.iter().any(|p| p.as_str() == path), "{path} documented");
    }
    let zones = document["components"]["schemas"]["SettingsUpdate"]["properties"]["time_zone"]["enum"].clone();
    let zones: Vec<&str> = zones.as_array().unwrap().iter().filter_map(|zone| zone.as_str()).collect();
    assert!(zones.contains(&"Asia/Almaty") && zones.contains(&"Asia/Aqtobe") && zones.len() > 400, "{zones:?}");
    assert!(!zones.contains(&""), "every time zone the document lists is one the service takes");
    let (status, _) = world
        .api
        .send(world.api.client.put(world.api.url("/api/v2/notifications/settings")).bearer_auth(token(1)))
        .await;
    assert_eq!(status, 405);
}
