//! Signing keys: JWKS, rotation without signing anybody out, retirement.

use crate::helpers::*;
use testkit::keys::{KEY_1, KEY_2};

fn kids(jwks: &serde_json::Value) -> Vec<String> {
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_of_the_old_key_work_until_it_is_retired() {
    let auth = TestAuth::start().await;
    let (status, jwks) = auth.get("/.well-known/jwks.json", "").await;
    assert_eq!((status, kids(&jwks)), (200, vec!["test-key-1".to_owned()]));
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    let old = auth.register("rotation@mail.kz", "rotation", "buyer").await;
    let old_token = old["access_token"].as_str().unwrap().to_owned();

    // Introduce key 2 and sign with it; key 1 stays published.
    let auth = auth.restart_with_keys(keys_dir(&[KEY_1, KEY_2]), Some("test-key-2")).await;
    let (_, jwks) = auth.get("/.well-known/jwks.json", "").await;
    assert_eq!(kids(&jwks), ["test-key-1", "test-key-2"]);
    assert_eq!(auth.get("/api/v2/users/me", &old_token).await.0, 200, "old tokens keep working");
    let (_, session) = auth
        .post("/api/v2/auth/login", serde_json::json!({ "email_or_phone": "rotation@mail.kz", "password": PASSWORD }))
        .await;
    let new_token = session["access_token"].as_str().unwrap().to_owned();
    assert_eq!(auth.get("/api/v2/users/me", &new_token).await.0, 200);

    // Retire key 1.
    let auth = auth.restart_with_keys(keys_dir(&[KEY_2]), None).await;
    let (status, body) = auth.get("/api/v2/users/me", &old_token).await;
    assert_eq!((status, error_code(&body)), (401, "invalid_token"));
    assert_eq!(auth.get("/api/v2/users/me", &new_token).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_development_key_is_generated_once_and_kept() {
    let dir = keys_dir(&[]);
    let auth = TestAuth::start_with(dir.clone(), None).await;
    let (_, first) = auth.get("/.well-known/jwks.json", "").await;
    assert_eq!(kids(&first).len(), 1);
    let auth = auth.restart_with_keys(dir, None).await;
    let (_, second) = auth.get("/.well-known/jwks.json", "").await;
    assert_eq!(kids(&first), kids(&second), "the generated key is reused");
}
