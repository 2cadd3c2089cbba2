//! Admin routes: only admins, every action audited and published, bans take effect at once.

use crate::helpers::*;
use contracts::events::envelope::Payload;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_admins_get_403_on_every_admin_route() {
    let auth = TestAuth::start().await;
    let (target, _) = auth.user("t@mail.kz", "target", "buyer").await;
    let (_, master_token) = auth.user("m@mail.kz", "not_admin", "master").await;
    let until = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let attempts = [
        auth.get("/api/v2/admin/users", &master_token).await,
        auth.post_as(&format!("/api/v2/admin/users/{target}/ban"), &master_token, json!({})).await,
        auth.post_as(&format!("/api/v2/admin/users/{target}/unban"), &master_token, json!({})).await,
        auth.post_as(&format!("/api/v2/admin/users/{target}/suspend"), &master_token, json!({ "until": until })).await,
        auth.put(&format!("/api/v2/admin/users/{target}/role"), &master_token, json!({ "role": "admin" })).await,
        auth.get(&format!("/api/v2/admin/users/{target}/audit"), &master_token).await,
    ];
    for (status, body) in attempts {
        assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    }
    assert_eq!(auth.get("/api/v2/admin/users", "").await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_ends_sessions_at_once_and_is_audited_and_published() {
    let auth = TestAuth::start().await;
    let (admin, admin_token) = auth.admin().await;
    let session = auth.register("bad@mail.kz", "bad_actor", "buyer").await;
    let target = session["user"]["id"].as_i64().unwrap();
    let refresh = session["refresh_token"].as_str().unwrap().to_owned();

    let (status, banned) =
        auth.post_as(&format!("/api/v2/admin/users/{target}/ban"), &admin_token, json!({ "reason": "spam" })).await;
    assert_eq!((status, banned["status"].as_str()), (200, Some("banned")), "{banned}");
    let (status, body) = auth.post("/api/v2/auth/refresh", json!({ "refresh_token": refresh })).await;
    assert_eq!((status, error_code(&body)), (401, "invalid_refresh_token"), "refresh tokens revoked");
    let (status, body) =
        auth.post("/api/v2/auth/login", json!({ "email_or_phone": "bad@mail.kz", "password": PASSWORD })).await;
    assert_eq!((status, error_code(&body)), (403, "account_banned"));

    let (_, audit) = auth.get(&format!("/api/v2/admin/users/{target}/audit"), &admin_token).await;
    let entry = &audit[0];
    assert_eq!((entry["action"].as_str(), entry["actor_id"].as_i64()), (Some("ban"), Some(admin)));
    assert_eq!(
        (entry["before"]["status"].as_str(), entry["after"]["status"].as_str()),
        (Some("active"), Some("banned"))
    );
    assert_eq!(entry["reason"], "spam");
    let event = auth
        .event(contracts::topics::AUTH_USERS, |e| match &e.payload {
            Some(Payload::UserBanned(b)) => Some(b.clone()),
            _ => None,
        })
        .await;
    assert_eq!((event.user_id, event.actor_id, event.reason.as_str()), (target, admin, "spam"));

    let (status, unbanned) =
        auth.post_as(&format!("/api/v2/admin/users/{target}/unban"), &admin_token, json!({})).await;
    assert_eq!((status, unbanned["status"].as_str()), (200, Some("active")));
    let (status, _) =
        auth.post("/api/v2/auth/login", json!({ "email_or_phone": "bad@mail.kz", "password": PASSWORD })).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_role_change_listing_and_mistakes() {
    let auth = TestAuth::start().await;
    let (admin, admin_token) = auth.admin().await;
    let (target, _) = auth.user("+77013334455", "to_suspend", "buyer").await;
    let until = chrono::Utc::now() + chrono::Duration::hours(2);
    let (status, suspended) = auth
        .post_as(
            &format!("/api/v2/admin/users/{target}/suspend"),
            &admin_token,
            json!({ "until": until, "reason": "cool down" }),
        )
        .await;
    assert_eq!((status, suspended["status"].as_str()), (200, Some("suspended")), "{suspended}");
    let (status, body) =
        auth.post("/api/v2/auth/login", json!({ "email_or_phone": "+77013334455", "password": PASSWORD })).await;
    assert_eq!((status, error_code(&body)), (403, "account_suspended"));
    assert!(body["error"]["details"]["until"].is_string());

    let (status, changed) =
        auth.put(&format!("/api/v2/admin/users/{target}/role"), &admin_token, json!({ "role": "master" })).await;
    assert_eq!((status, changed["role"].as_str()), (200, Some("master")));
    let (_, listed) = auth.get("/api/v2/admin/users?role=master&status=suspended", &admin_token).await;
    let ids: Vec<i64> = listed["items"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [target]);
    assert_eq!(listed["items"][0]["phone"], "+77013334455", "admins see contacts");
    let (_, found) = auth.get("/api/v2/admin/users?q=to_susp", &admin_token).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);

    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let (status, body) =
        auth.post_as(&format!("/api/v2/admin/users/{target}/suspend"), &admin_token, json!({ "until": past })).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    let (status, body) = auth.post_as(&format!("/api/v2/admin/users/{admin}/ban"), &admin_token, json!({})).await;
    assert_eq!((status, error_code(&body)), (422, "self_administration"));
    let (status, _) = auth.post_as("/api/v2/admin/users/987654321/ban", &admin_token, json!({})).await;
    assert_eq!(status, 404);
    let (status, body) =
        auth.put(&format!("/api/v2/admin/users/{target}/role"), &admin_token, json!({ "role": "king" })).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_json"));
    let (status, body) = auth.get("/api/v2/admin/users?status=sleeping", &admin_token).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    let (_, audit) = auth.get(&format!("/api/v2/admin/users/{target}/audit"), &admin_token).await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["change_role", "suspend"], "rejected actions leave no trace");
}
