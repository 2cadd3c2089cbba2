//! The account life cycle end to end.

use crate::helpers::*;
use contracts::events::envelope::Payload;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_verify_login_refresh_reuse_and_logout() {
    let auth = TestAuth::start().await;
    let registered = auth.register("8 778 542 18 71", "мастер_алматы", "master").await;
    assert_eq!(registered["user"]["phone"], "+77785421871", "phone normalised");
    assert_eq!(registered["user"]["role"], "master");
    assert_eq!(registered["user"]["phone_verified"], false);
    assert_eq!(registered["token_type"], "Bearer");
    assert_eq!(registered["expires_in"], 900);
    let user_id = registered["user"]["id"].as_i64().unwrap();

    let code = auth.code_for("+77785421871").await;
    let (status, body) =
        auth.post("/api/v2/auth/verify-sms", json!({ "email_or_phone": "87785421871", "code": code })).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) =
        auth.post("/api/v2/auth/verify-sms", json!({ "email_or_phone": "87785421871", "code": code })).await;
    assert_eq!((status, error_code(&body)), (422, "code_used"), "single use");

    let (status, session) =
        auth.post("/api/v2/auth/login", json!({ "email_or_phone": "+77785421871", "password": PASSWORD })).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["user"]["phone_verified"], true);
    let access = session["access_token"].as_str().unwrap().to_owned();
    let (status, me) = auth.get("/api/v2/users/me", &access).await;
    assert_eq!((status, me["id"].as_i64()), (200, Some(user_id)));

    let first_refresh = session["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = auth.post("/api/v2/auth/refresh", json!({ "refresh_token": first_refresh })).await;
    assert_eq!(status, 200, "{rotated}");
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);

    // The old token again, after the grace window: the whole family is revoked, the new one too.
    auth.end_grace_windows().await;
    let (status, body) = auth.post("/api/v2/auth/refresh", json!({ "refresh_token": first_refresh })).await;
    assert_eq!((status, error_code(&body)), (401, "refresh_token_reused"));
    let (status, body) = auth.post("/api/v2/auth/refresh", json!({ "refresh_token": second_refresh })).await;
    assert_eq!((status, error_code(&body)), (401, "invalid_refresh_token"));

    let (_, session) =
        auth.post("/api/v2/auth/login", json!({ "email_or_phone": "87785421871", "password": PASSWORD })).await;
    let access = session["access_token"].as_str().unwrap().to_owned();
    let refresh = session["refresh_token"].as_str().unwrap().to_owned();
    let logout = auth
        .client
        .post(auth.app.url("/api/v2/auth/logout"))
        .bearer_auth(&access)
        .json(&json!({ "refresh_token": refresh }));
    assert_eq!(auth.send(logout).await.0, 204);
    let (status, body) = auth.get("/api/v2/users/me", &access).await;
    assert_eq!((status, error_code(&body)), (401, "token_revoked"), "access token rejected after logout");
    let (status, _) = auth.post("/api/v2/auth/refresh", json!({ "refresh_token": refresh })).await;
    assert_eq!(status, 401, "refresh token revoked by logout");

    let verified = auth
        .event(contracts::topics::AUTH_USERS, |e| match &e.payload {
            Some(Payload::UserVerified(v)) => Some(v.clone()),
            _ => None,
        })
        .await;
    assert_eq!((verified.user_id, verified.channel.as_str()), (user_id, "sms"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_is_published_with_the_user_id_as_key() {
    let auth = TestAuth::start().await;
    let registered = auth.register("Aigerim@Mail.kz", "aigerim", "client").await;
    assert_eq!(registered["user"]["email"], "aigerim@mail.kz");
    assert_eq!(registered["user"]["role"], "buyer", "client is an alias of buyer");
    let id = registered["user"]["id"].as_i64().unwrap();
    let event = auth
        .event(contracts::topics::AUTH_USERS, |e| match &e.payload {
            Some(Payload::UserRegistered(r)) => Some((e.aggregate_id.clone(), r.clone(), e.producer.clone())),
            _ => None,
        })
        .await;
    assert_eq!(event.0, id.to_string());
    let user = event.1.user.unwrap();
    assert_eq!((user.user_id, user.username.as_str()), (id, "aigerim"));
    assert!(event.1.has_email && !event.1.has_phone);
    assert_eq!(event.2, "auth");
    let code = auth.code_for("aigerim@mail.kz").await;
    let (status, _) =
        auth.post("/api/v2/auth/verify-email", json!({ "email_or_phone": "aigerim@mail.kz", "code": code })).await;
    assert_eq!(status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_come_as_http_only_strict_cookies_too_and_refresh_reads_the_cookie() {
    let auth = TestAuth::start().await;
    let body =
        json!({ "email_or_phone": "cookie@mail.kz", "password": PASSWORD, "username": "cookie", "role": "buyer" });
    let response = auth.client.post(auth.app.url("/api/v2/auth/register")).json(&body).send().await.unwrap();
    let cookies: Vec<String> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let refresh_cookie = cookies.iter().find(|c| c.starts_with("refresh_token=")).expect("refresh cookie");
    assert!(refresh_cookie.contains("HttpOnly") && refresh_cookie.contains("SameSite=Strict"), "{refresh_cookie}");
    assert!(cookies.iter().any(|c| c.starts_with("access_token=") && c.contains("HttpOnly")));
    let value = refresh_cookie.split(';').next().unwrap().to_owned();
    let refresh = auth.client.post(auth.app.url("/api/v2/auth/refresh")).header("cookie", value);
    assert_eq!(auth.send(refresh).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_registrations_of_one_phone_make_one_account() {
    let auth = TestAuth::start().await;
    let attempt = |username: &'static str| {
        let body =
            json!({ "email_or_phone": "+77011234567", "password": PASSWORD, "username": username, "role": "buyer" });
        auth.post("/api/v2/auth/register", body)
    };
    let (first, second) = tokio::join!(attempt("first_one"), attempt("second_one"));
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{first:?} {second:?}");
    let conflict = if first.0 == 409 { first.1 } else { second.1 };
    assert_eq!(error_code(&conflict), "already_registered");
    assert_eq!(conflict["error"]["details"]["field"], "email_or_phone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route() {
    let auth = TestAuth::start().await;
    let (status, doc) = auth.get("/api/v2/auth/openapi.json", "").await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v2/auth/register",
        "/api/v2/auth/login",
        "/api/v2/auth/verify-sms",
        "/api/v2/auth/verify-email",
        "/api/v2/auth/send-code",
        "/api/v2/auth/refresh",
        "/api/v2/auth/logout",
        "/api/v2/users/me",
        "/api/v2/users/me/avatar",
        "/api/v2/users/me/blocks",
        "/api/v2/users/{id}",
        "/api/v2/users/{id}/block",
        "/api/v2/subscriptions/my",
        "/api/v2/subscriptions/{user_id}",
        "/api/v2/admin/users",
        "/api/v2/admin/users/{id}/ban",
        "/api/v2/admin/users/{id}/unban",
        "/api/v2/admin/users/{id}/suspend",
        "/api/v2/admin/users/{id}/role",
        "/api/v2/admin/users/{id}/audit",
        "/api/v2/search/users",
        "/.well-known/jwks.json",
    ] {
        assert!(paths.contains_key(path), "{path} is missing from the OpenAPI document");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let unresolved = platform::http::openapi::unresolved_references(&doc);
    assert!(unresolved.is_empty(), "references to nothing: {unresolved:?}");
    assert_eq!(
        doc["paths"]["/api/v2/users/me"]["get"]["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
}
