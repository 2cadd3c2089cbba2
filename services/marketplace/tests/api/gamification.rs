//! Points from other services' events: exactly once, whatever Kafka redelivers.

use crate::helpers::*;
use contracts::Envelope;
use contracts::events::{SubscriptionCreated, VideoCommented, VideoLiked};
use contracts::topics;
use serde_json::json;
use std::time::Duration;
use testkit::eventually;

async fn send(world: &World, topic: &str, envelope: &Envelope) {
    testkit::events::publish(&world.config.platform.kafka, topic, envelope).await;
}

async fn points(world: &World, user: &User) -> i64 {
    let (_, level) = world.api.get("/api/v2/gamification/level", &user.token).await;
    level["points"].as_i64().unwrap()
}

#[tokio::test]
async fn a_redelivered_or_repeated_event_awards_once() {
    let world = World::start().await;
    let (master, fan, other_fan) = (world.master().await, world.buyer().await, world.buyer().await);
    platform::kafka::ensure_topics(&world.config.platform.kafka, &[topics::AUTH_SUBSCRIPTIONS, topics::MEDIA_VIDEOS])
        .await
        .unwrap();

    let follow = |follower: i64| {
        Envelope::new("auth", master.id, SubscriptionCreated { follower_id: follower, followee_id: master.id })
    };
    let first = follow(fan.id);
    // The same event twice (a redelivery), and the same follow announced again (a new event id).
    for envelope in [&first, &first, &follow(fan.id)] {
        send(&world, topics::AUTH_SUBSCRIPTIONS, envelope).await;
    }
    send(&world, topics::AUTH_SUBSCRIPTIONS, &follow(other_fan.id)).await;
    eventually("two followers' points", Duration::from_secs(30), || async { points(&world, &master).await == 20 })
        .await;

    // Ten likes from different people unlock `likes_10` once; a self-like earns nothing.
    for liker in 1..=10 {
        let like = VideoLiked { video_id: 7, author_id: master.id, user_id: 10_000 + liker };
        send(&world, topics::MEDIA_VIDEOS, &Envelope::new("media", 7, like)).await;
    }
    let self_like = VideoLiked { video_id: 7, author_id: master.id, user_id: master.id };
    send(&world, topics::MEDIA_VIDEOS, &Envelope::new("media", 7, self_like)).await;
    eventually("likes' points", Duration::from_secs(30), || async { points(&world, &master).await == 70 }).await;
    let (_, achievements) = world.api.get("/api/v2/gamification/achievements", &master.token).await;
    let likes = achievements["items"].as_array().unwrap().iter().find(|a| a["code"] == "likes_10").unwrap().clone();
    assert!(!likes["unlocked_at"].is_null(), "{likes}");
    assert_eq!(likes["progress"], 10);

    // A comment, delivered twice, earns its 3 points once; commenting on one's own video nothing.
    let comment = Envelope::new(
        "media",
        7,
        VideoCommented { video_id: 7, author_id: master.id, comment_id: 1, commenter_id: fan.id },
    );
    let own = VideoCommented { video_id: 7, author_id: master.id, comment_id: 2, commenter_id: master.id };
    for envelope in [&comment, &comment, &Envelope::new("media", 7, own)] {
        send(&world, topics::MEDIA_VIDEOS, envelope).await;
    }
    eventually("a comment's points", Duration::from_secs(30), || async { points(&world, &master).await == 73 }).await;

    // Settle, then check nothing more arrived late.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(points(&world, &master).await, 73);
}

#[tokio::test]
async fn admins_award_points_and_boards_rebuild_from_the_ledger() {
    let world = World::start().await;
    let (admin, master, buyer) = (world.admin().await, world.master().await, world.buyer().await);
    let award = |user: i64, points: i64| json!({ "user_id": user, "points": points, "reason": "Конкурс" });

    let (status, body) =
        world.api.post_as("/api/v2/gamification/award-points", &buyer.token, award(buyer.id, 100)).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    let (status, body) = world.api.post_as("/api/v2/gamification/award-points", &admin.token, award(buyer.id, 0)).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));

    let (status, body) =
        world.api.post_as("/api/v2/gamification/award-points", &admin.token, award(master.id, 250)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["level"]["level"], 3);
    world.api.post_as("/api/v2/gamification/award-points", &admin.token, award(buyer.id, 120)).await;

    let expected = [(master.id, 250), (buyer.id, 120)];
    let standings = || async {
        let (_, board) = world.api.get_public("/api/v2/gamification/leaderboard/advanced?period=month").await;
        board["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["user_id"].as_i64().unwrap(), s["points"].as_i64().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(standings().await, expected);

    // Redis loses the boards; the ledger rebuilds them.
    let mut redis = deadpool_redis_connection(&world).await;
    let pattern = format!("{}marketplace:leaderboard:*", world.config.platform.redis.key_prefix);
    let keys: Vec<String> = deadpool_redis::redis::cmd("KEYS").arg(&pattern).query_async(&mut redis).await.unwrap();
    assert!(!keys.is_empty());
    let _: () = deadpool_redis::redis::cmd("DEL").arg(&keys).query_async(&mut redis).await.unwrap();
    assert!(standings().await.is_empty());
    let (status, _) = world.api.post_as("/api/v2/gamification/leaderboard/rebuild", &buyer.token, json!({})).await;
    assert_eq!(status, 403);
    let (status, body) = world.api.post_as("/api/v2/gamification/leaderboard/rebuild", &admin.token, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(standings().await, expected);

    let (_, levels) = world.api.get_public("/api/v2/gamification/levels").await;
    assert_eq!(levels["items"][2], json!({ "level": 3, "min_points": 200 }));
}

async fn deadpool_redis_connection(world: &World) -> deadpool_redis::Connection {
    platform::redis::pool(&world.config.platform.redis).unwrap().get().await.unwrap()
}
