//! Follows and blocks.

use crate::helpers::*;
use contracts::events::envelope::Payload;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_is_idempotent_listed_and_published_once() {
    let auth = TestAuth::start().await;
    let (master, master_token) = auth.user("m@mail.kz", "master_m", "master").await;
    let (buyer, buyer_token) = auth.user("b@mail.kz", "buyer_b", "buyer").await;
    for _ in 0..2 {
        assert_eq!(auth.post_as(&format!("/api/v2/subscriptions/{master}"), &buyer_token, json!({})).await.0, 204);
    }
    let (status, mine) = auth.get("/api/v2/subscriptions/my", &buyer_token).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!((mine["items"][0]["id"].as_i64(), mine["following_count"].as_i64()), (Some(master), Some(1)));
    let (_, followers) = auth.get("/api/v2/subscriptions/my?list=followers", &master_token).await;
    assert_eq!(followers["items"][0]["id"].as_i64(), Some(buyer));
    assert_eq!(followers["followers_count"], 1);

    let created = auth
        .event(contracts::topics::AUTH_SUBSCRIPTIONS, |e| match &e.payload {
            Some(Payload::SubscriptionCreated(s)) => Some((e.aggregate_id.clone(), *s)),
            _ => None,
        })
        .await;
    assert_eq!(created.0, master.to_string(), "keyed by the followed user");
    assert_eq!((created.1.follower_id, created.1.followee_id), (buyer, master));

    assert_eq!(auth.delete(&format!("/api/v2/subscriptions/{master}"), &buyer_token).await.0, 204);
    assert_eq!(auth.delete(&format!("/api/v2/subscriptions/{master}"), &buyer_token).await.0, 204);
    let (_, mine) = auth.get("/api/v2/subscriptions/my", &buyer_token).await;
    assert_eq!(mine["following_count"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_mistakes_are_answered_clearly() {
    let auth = TestAuth::start().await;
    let (me, token) = auth.user("self@mail.kz", "self_fan", "buyer").await;
    let (status, body) = auth.post_as(&format!("/api/v2/subscriptions/{me}"), &token, json!({})).await;
    assert_eq!((status, error_code(&body)), (422, "self_relation"));
    let (status, _) = auth.post_as("/api/v2/subscriptions/424242424", &token, json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = auth.send(auth.client.post(auth.app.url(&format!("/api/v2/subscriptions/{me}")))).await;
    assert_eq!(status, 401);
    let (status, body) = auth.get("/api/v2/subscriptions/my?limit=500", &token).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    let (status, body) = auth.get("/api/v2/subscriptions/my?cursor=@@@", &token).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_cursor"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_lists_page_with_cursors() {
    let auth = TestAuth::start().await;
    let (master, master_token) = auth.user("star@mail.kz", "star_master", "master").await;
    for n in 0..5 {
        let (_, token) = auth.user(&format!("fan{n}@mail.kz"), &format!("fan_{n}"), "buyer").await;
        auth.post_as(&format!("/api/v2/subscriptions/{master}"), &token, json!({})).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v2/subscriptions/my?list=followers&limit=2".to_owned();
    loop {
        let (_, page) = auth.get(&path, &master_token).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v2/subscriptions/my?list=followers&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["fan_4", "fan_3", "fan_2", "fan_1", "fan_0"], "newest first, each once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_ends_follows_and_prevents_new_ones() {
    let auth = TestAuth::start().await;
    let (troll, troll_token) = auth.user("troll@mail.kz", "troll", "buyer").await;
    let (master, master_token) = auth.user("calm@mail.kz", "calm_master", "master").await;
    auth.post_as(&format!("/api/v2/subscriptions/{master}"), &troll_token, json!({})).await;
    assert_eq!(auth.post_as(&format!("/api/v2/users/{troll}/block"), &master_token, json!({})).await.0, 204);
    assert_eq!(
        auth.post_as(&format!("/api/v2/users/{troll}/block"), &master_token, json!({})).await.0,
        204,
        "idempotent"
    );
    let (_, profile) = auth.get(&format!("/api/v2/users/{master}"), "").await;
    assert_eq!(profile["followers_count"], 0, "the follow ended");
    let (status, body) = auth.post_as(&format!("/api/v2/subscriptions/{master}"), &troll_token, json!({})).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    let (_, blocks) = auth.get("/api/v2/users/me/blocks", &master_token).await;
    assert_eq!(blocks["items"][0]["id"].as_i64(), Some(troll));
    let (status, body) = auth.post_as(&format!("/api/v2/users/{master}/block"), &master_token, json!({})).await;
    assert_eq!((status, error_code(&body)), (422, "self_relation"));

    assert_eq!(auth.delete(&format!("/api/v2/users/{troll}/block"), &master_token).await.0, 204);
    assert_eq!(auth.post_as(&format!("/api/v2/subscriptions/{master}"), &troll_token, json!({})).await.0, 204);
    let blocked = auth
        .event(contracts::topics::AUTH_USERS, |e| match &e.payload {
            Some(Payload::UserBlocked(b)) => Some(*b),
            _ => None,
        })
        .await;
    assert_eq!((blocked.blocker_id, blocked.blocked_id), (master, troll));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_users_by_prefix_typo_and_cyrillic_name() {
    let auth = TestAuth::start().await;
    let (_, token) = auth.user("s1@mail.kz", "mebel_master", "master").await;
    auth.put("/api/v2/users/me", &token, json!({ "first_name": "Айдар", "last_name": "Жумабаев" })).await;
    auth.user("s2@mail.kz", "kitchen_pro", "master").await;
    let names = |body: &serde_json::Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect()
    };
    let (status, body) = auth.get("/api/v2/search/users?q=mebel", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(names(&body), ["mebel_master"], "prefix");
    let (_, body) = auth.get("/api/v2/search/users?q=kitchen_pr0", "").await;
    assert_eq!(names(&body), ["kitchen_pro"], "typo");
    let (_, body) = auth.get("/api/v2/search/users?q=Жумабаев", "").await;
    assert_eq!(names(&body), ["mebel_master"], "Cyrillic surname");
    assert!(body["items"][0].get("email").is_none());
    // As documented: up to 100 characters; fewer than 2 besides spaces find nobody.
    let (status, body) = auth.get("/api/v2/search/users?q=%20a%20", "").await;
    assert_eq!((status, names(&body)), (200, Vec::<String>::new()), "{body}");
    let (status, _) = auth.get(&format!("/api/v2/search/users?q={}", "m".repeat(100)), "").await;
    assert_eq!(status, 200);
    let (status, body) = auth.get(&format!("/api/v2/search/users?q={}", "m".repeat(101)), "").await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    let (status, body) = auth.get("/api/v2/search/users", "").await;
    assert_eq!((status, error_code(&body)), (400, "invalid_query"));
}
