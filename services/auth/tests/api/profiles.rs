//! Profiles: own, public (cached, no contact details), partial updates, avatars.

use crate::helpers::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_updates_change_only_what_is_sent_and_null_clears() {
    let auth = TestAuth::start().await;
    let (_, token) = auth.user("profile@mail.kz", "profile_owner", "master").await;
    let body = json!({ "first_name": "Ерлан", "last_name": "Сәрсенов", "region": "Алматы", "description": "Шкафы-купе на заказ" });
    let (status, me) = auth.put("/api/v2/users/me", &token, body).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!((me["first_name"].as_str(), me["region"].as_str()), (Some("Ерлан"), Some("Алматы")));
    let (_, me) = auth
        .put("/api/v2/users/me", &token, json!({ "region": null, "nickname": "erlan", "experience_years": 12 }))
        .await;
    assert_eq!(me["experience_years"], 12);
    assert_eq!(me["region"], serde_json::Value::Null, "null clears");
    assert_eq!(me["first_name"], "Ерлан", "absent stays");
    assert_eq!(me["nickname"], "erlan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_updates_are_rejected_and_change_nothing() {
    let auth = TestAuth::start().await;
    let (_, token) = auth.user("strict@mail.kz", "strict", "buyer").await;
    let too_long = "я".repeat(65);
    let (status, body) =
        auth.put("/api/v2/users/me", &token, json!({ "first_name": too_long, "region": "Астана" })).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    assert!(body["error"]["details"]["fields"]["first_name"].is_string());
    let (status, body) = auth.put("/api/v2/users/me", &token, json!({ "experience_years": 200 })).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    let (status, body) = auth.put("/api/v2/users/me", &token, json!({ "email": "new@mail.kz" })).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_json"), "unknown fields (e-mail, role …) are refused");
    let (status, body) = auth.put("/api/v2/users/me", &token, json!({ "avatar_url": "http://evil/x.png" })).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    let (_, me) = auth.get("/api/v2/users/me", &token).await;
    assert_eq!(me["region"], serde_json::Value::Null, "nothing changed");
    assert_eq!(me["email"], "strict@mail.kz");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_profiles_never_show_contacts_and_follow_changes() {
    let auth = TestAuth::start().await;
    let (master, master_token) = auth.user("+77012223344", "master_shkaf", "master").await;
    let (_, buyer_token) = auth.user("buyer@mail.kz", "buyer_one", "buyer").await;
    let (status, profile) = auth.get(&format!("/api/v2/users/{master}"), &buyer_token).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["username"], "master_shkaf");
    assert!(profile.get("email").is_none() && profile.get("phone").is_none(), "{profile}");
    assert!(!profile.to_string().contains("7012223344"));
    assert_eq!(profile["master"]["review_count"], 0);
    assert_eq!(profile["followers_count"], 0);

    // Cached, yet fresh after a change.
    auth.put("/api/v2/users/me", &master_token, json!({ "first_name": "Нурлан" })).await;
    assert_eq!(auth.post_as(&format!("/api/v2/subscriptions/{master}"), &buyer_token, json!({})).await.0, 204);
    let (_, profile) = auth.get(&format!("/api/v2/users/{master}"), "").await;
    assert_eq!(profile["first_name"], "Нурлан");
    assert_eq!(profile["followers_count"], 1);

    let (status, body) = auth.get("/api/v2/users/999999999", "").await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, _) = auth.get("/api/v2/users/abc", "").await;
    assert_eq!(status, 404);
}

fn multipart(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(name.to_owned(), reqwest::multipart::Part::bytes(bytes).file_name("a.png"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatars_are_checked_by_content_and_size() {
    let auth = TestAuth::start().await;
    let (_, token) = auth.user("avatar@mail.kz", "avatar_user", "buyer").await;
    let upload =
        |form| auth.send(auth.client.post(auth.app.url("/api/v2/users/me/avatar")).bearer_auth(&token).multipart(form));

    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 64]].concat();
    let (status, body) = upload(multipart("avatar", png.clone())).await;
    assert_eq!(status, 200, "{body}");
    let url = body["avatar_url"].as_str().unwrap().to_owned();
    assert!(url.ends_with(".png"), "{url}");
    let (_, me) = auth.get("/api/v2/users/me", &token).await;
    assert_eq!(me["avatar_url"], url.as_str());

    let (status, body) = upload(multipart("avatar", b"<script>alert(1)</script>".to_vec())).await;
    assert_eq!((status, error_code(&body)), (415, "unsupported_media_type"), "a .png name does not make an image");
    let huge = [png.as_slice(), &vec![0u8; 5 * 1024 * 1024]].concat();
    let (status, body) = upload(multipart("avatar", huge)).await;
    assert_eq!((status, error_code(&body)), (413, "payload_too_large"));
    let (status, body) = upload(multipart("photo", png.clone())).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "the field must be called avatar");
    let (status, body) = upload(multipart("avatar", png).text("x-extra", "42")).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "the form has no other field: {body}");
    let (_, me) = auth.get("/api/v2/users/me", &token).await;
    assert_eq!(me["avatar_url"], url.as_str(), "failed uploads change nothing");
}
