//! Every rejection answers in the spec's error shape and changes nothing.

use crate::helpers::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_registrations_name_every_bad_field() {
    let auth = TestAuth::start().await;
    let body = json!({ "email_or_phone": "12345", "password": "short", "username": "x", "role": "wizard" });
    let (status, body) = auth.post("/api/v2/auth/register", body).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    let fields = &body["error"]["details"]["fields"];
    for field in ["email_or_phone", "password", "username", "role"] {
        assert!(fields[field].is_string(), "{field}: {body}");
    }
    let common = json!({ "email_or_phone": "a@b.kz", "password": "Password1", "username": "abc", "role": "buyer" });
    let (_, body) = auth.post("/api/v2/auth/register", common).await;
    assert_eq!(body["error"]["details"]["fields"]["password"], "is too common");
    let (status, body) = auth.post("/api/v2/auth/register", json!({ "email_or_phone": "a@b.kz" })).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_json"), "missing fields");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_registers_as_admin() {
    let auth = TestAuth::start().await;
    let body = json!({ "email_or_phone": "boss@mail.kz", "password": PASSWORD, "username": "boss", "role": "admin" });
    let (status, body) = auth.post("/api/v2/auth/register", body).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    let (status, _) =
        auth.post("/api/v2/auth/login", json!({ "email_or_phone": "boss@mail.kz", "password": PASSWORD })).await;
    assert_eq!(status, 401, "no account was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taken_username_email_and_phone_are_409() {
    let auth = TestAuth::start().await;
    auth.register("taken@mail.kz", "Taken", "buyer").await;
    auth.register("+77771112233", "phone_owner", "master").await;
    for (who, username, field) in [
        ("other@mail.kz", "TAKEN", "username"),
        ("TAKEN@mail.kz", "someone", "email_or_phone"),
        ("87771112233", "someone_else", "email_or_phone"),
    ] {
        let body = json!({ "email_or_phone": who, "password": PASSWORD, "username": username, "role": "buyer" });
        let (status, body) = auth.post("/api/v2/auth/register", body).await;
        assert_eq!((status, error_code(&body)), (409, "already_registered"), "{who}");
        assert_eq!(body["error"]["details"]["field"], field);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_and_wrong_password_get_the_same_answer_and_are_throttled() {
    let auth = TestAuth::start().await;
    auth.register("victim@mail.kz", "victim", "buyer").await;
    let login = |who: &'static str, password: &'static str| {
        auth.post("/api/v2/auth/login", json!({ "email_or_phone": who, "password": password }))
    };
    let unknown = login("nobody@mail.kz", PASSWORD).await;
    let wrong = login("victim@mail.kz", "Wrong-pass-1").await;
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown.1, wrong.1, "indistinguishable answers");
    for _ in 0..4 {
        assert_eq!(login("victim@mail.kz", "Wrong-pass-1").await.0, 401);
    }
    let response = auth
        .client
        .post(auth.app.url("/api/v2/auth/login"))
        .json(&json!({ "email_or_phone": "victim@mail.kz", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429, "even the right password waits after 5 failures");
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_count_attempts_until_exhausted() {
    let auth = TestAuth::start().await;
    auth.register("+77075550011", "code_tester", "buyer").await;
    let code = auth.code_for("+77075550011").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let verify =
        |code: String| auth.post("/api/v2/auth/verify-sms", json!({ "email_or_phone": "+77075550011", "code": code }));
    for left in (0..5).rev() {
        let (status, body) = verify(wrong.to_owned()).await;
        assert_eq!((status, error_code(&body)), (400, "invalid_code"));
        assert_eq!(body["error"]["details"]["attempts_left"], left);
    }
    let (status, body) = verify(code).await;
    assert_eq!((status, error_code(&body)), (422, "code_attempts_exhausted"), "even the right code");
    let (status, body) = verify("12ab56".into()).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    let (status, body) =
        auth.post("/api/v2/auth/verify-email", json!({ "email_or_phone": "+77075550011", "code": "123456" })).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "a phone on the e-mail route");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_resends_are_throttled() {
    let auth = TestAuth::start().await;
    auth.register("+77079990000", "resender", "buyer").await;
    let response = auth
        .client
        .post(auth.app.url("/api/v2/auth/send-code"))
        .json(&json!({ "email_or_phone": "+77079990000" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429, "one code a minute");
    assert!(response.headers().contains_key("retry-after"));
    let (status, _) = auth.post("/api/v2/auth/send-code", json!({ "email_or_phone": "+77079990001" })).await;
    assert_eq!(status, 202, "unknown numbers get the same answer as known ones");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_refresh_tokens_and_missing_tokens_are_401() {
    let auth = TestAuth::start().await;
    let (status, body) = auth.post("/api/v2/auth/refresh", json!({ "refresh_token": "forged" })).await;
    assert_eq!((status, error_code(&body)), (401, "invalid_refresh_token"));
    let (status, body) = auth.post("/api/v2/auth/refresh", json!({})).await;
    assert_eq!((status, error_code(&body)), (401, "missing_refresh_token"));
    let (status, body) = auth.send(auth.client.get(auth.app.url("/api/v2/users/me"))).await;
    assert_eq!((status, error_code(&body)), (401, "missing_token"));
    let (status, _) = auth.send(auth.client.post(auth.app.url("/api/v2/auth/logout"))).await;
    assert_eq!(status, 401);
}
