//! NATS request/reply lookups for the other services.

use crate::helpers::*;
use contracts::rpc::{BlockReply, UserReply, UsersReply};
use serde_json::json;
use std::time::Duration;

async fn ask<T: serde::de::DeserializeOwned>(auth: &TestAuth, subject: &str, body: serde_json::Value) -> T {
    let client = async_nats::connect(testkit::nats_url()).await.unwrap();
    let subject = auth.config.platform.nats.subject(subject);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        // The service subscribes in the background right after start.
        match tokio::time::timeout(Duration::from_secs(2), client.request(subject.clone(), body.to_string().into()))
            .await
        {
            Ok(Ok(reply)) => return serde_json::from_slice(&reply.payload).unwrap(),
            _ if tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("no reply on {subject}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_blocks_can_be_looked_up_over_nats() {
    let auth = TestAuth::start().await;
    let (master, master_token) = auth.user("rpc@mail.kz", "rpc_master", "master").await;
    let (buyer, _) = auth.user("+77015556677", "rpc_buyer", "buyer").await;

    let one: UserReply = ask(&auth, contracts::subjects::RPC_AUTH_USERS_GET, json!({ "id": master })).await;
    let user = one.user.unwrap();
    assert_eq!((user.id, user.username.as_str(), user.role), (master, "rpc_master", contracts::Role::Master));
    let none: UserReply = ask(&auth, contracts::subjects::RPC_AUTH_USERS_GET, json!({ "id": 1_000_000 })).await;
    assert!(none.user.is_none());
    let many: UsersReply =
        ask(&auth, contracts::subjects::RPC_AUTH_USERS_BATCH_GET, json!({ "ids": [master, buyer, 1_000_000] })).await;
    assert_eq!(many.users.len(), 2);

    let check = json!({ "user_id": buyer, "other_id": master });
    let before: BlockReply = ask(&auth, contracts::subjects::RPC_AUTH_BLOCKS_CHECK, check.clone()).await;
    auth.post_as(&format!("/api/v2/users/{buyer}/block"), &master_token, json!({})).await;
    let after: BlockReply = ask(&auth, contracts::subjects::RPC_AUTH_BLOCKS_CHECK, check).await;
    assert!(!before.blocked && after.blocked, "either direction counts");

    let garbage: serde_json::Value = ask(&auth, contracts::subjects::RPC_AUTH_USERS_GET, json!({ "nope": 1 })).await;
    assert!(garbage["error"].as_str().unwrap().starts_with("bad request"));
}
