//! Refresh rotation with a grace window: a retried refresh is answered, not punished; a token
//! reused later revokes its family.

use crate::helpers::*;
use serde_json::{Value, json};

async fn refresh(auth: &TestAuth, token: &str) -> (u16, Value) {
    auth.post("/api/v2/auth/refresh", json!({ "refresh_token": token })).await
}

fn refresh_token(session: &Value) -> String {
    session["refresh_token"].as_str().unwrap_or_else(|| panic!("a refresh token in {session}")).to_owned()
}

async fn signed_in(auth: &TestAuth, email: &str, username: &str) -> String {
    refresh_token(&auth.register(email, username, "buyer").await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_retried_within_the_grace_window_gets_the_same_successor() {
    let auth = TestAuth::start().await;
    let first = signed_in(&auth, "retry@mail.kz", "retry").await;
    let (status, rotated) = refresh(&auth, &first).await;
    assert_eq!(status, 200, "{rotated}");
    let (status, retried) = refresh(&auth, &first).await;
    assert_eq!(status, 200, "a retry within the window is answered: {retried}");
    assert_eq!(refresh_token(&retried), refresh_token(&rotated), "the same successor, not a new family member");
    let (status, me) = auth.get("/api/v2/users/me", retried["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{me}");
    let (status, next) = refresh(&auth, &refresh_token(&rotated)).await;
    assert_eq!(status, 200, "the session goes on: {next}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_reused_after_the_grace_window_revokes_its_family() {
    let auth = TestAuth::start().await;
    let first = signed_in(&auth, "late@mail.kz", "late").await;
    let (_, rotated) = refresh(&auth, &first).await;
    auth.end_grace_windows().await;
    let (status, body) = refresh(&auth, &first).await;
    assert_eq!((status, error_code(&body)), (401, "refresh_token_reused"));
    let (status, body) = refresh(&auth, &refresh_token(&rotated)).await;
    assert_eq!((status, error_code(&body)), (401, "invalid_refresh_token"), "the successor is revoked too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_of_one_token_all_get_the_same_successor() {
    let auth = TestAuth::start().await;
    let first = signed_in(&auth, "tabs@mail.kz", "tabs").await;
    let answers = futures_util::future::join_all((0..8).map(|_| refresh(&auth, &first))).await;
    let successors: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            refresh_token(body)
        })
        .collect();
    assert_eq!(successors.len(), 1, "one successor for every concurrent refresh: {successors:?}");
    let successor = successors.into_iter().next().unwrap();
    let (status, body) = refresh(&auth, &successor).await;
    assert_eq!(status, 200, "the family is intact: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_reused_after_its_successor_moved_on_revokes_the_family() {
    let auth = TestAuth::start().await;
    let first = signed_in(&auth, "moved@mail.kz", "moved").await;
    let (_, second) = refresh(&auth, &first).await;
    let (_, third) = refresh(&auth, &refresh_token(&second)).await;
    let (status, body) = refresh(&auth, &first).await;
    assert_eq!((status, error_code(&body)), (401, "refresh_token_reused"), "within the window, but stale");
    let (status, body) = refresh(&auth, &refresh_token(&third)).await;
    assert_eq!((status, error_code(&body)), (401, "invalid_refresh_token"));
}
