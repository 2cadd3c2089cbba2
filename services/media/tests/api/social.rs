//! Likes, comments, views, deletion and stories, with their events.

use crate::helpers::{VideoSpec, World, error_code};
use contracts::Payload;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_comments_views_and_deletion_of_a_ready_video() {
    let world = World::start_with(|config| config.media.views_flush_interval_ms = 100).await;
    let (master, fan) = (world.user(), world.user());
    let file = world.video(VideoSpec { audio: false, ..Default::default() });
    let (_, body) = world.upload(&master, &file, &[("title", "Шкаф")]).await;
    let id = body["id"].as_i64().unwrap();
    assert_eq!(
        world.api.post_as(&format!("/api/v2/videos/{id}/like"), &fan.token, json!({})).await.0,
        404,
        "not ready yet"
    );
    assert_eq!(world.processed(&master, id).await["status"], "ready");

    for _ in 0..2 {
        let (status, like) = world.api.post_as(&format!("/api/v2/videos/{id}/like"), &fan.token, json!({})).await;
        assert_eq!((status, like["likes_count"].as_i64()), (200, Some(1)), "{like}");
    }
    let (_, like) = world.api.post_as(&format!("/api/v2/videos/{id}/unlike"), &fan.token, json!({})).await;
    assert_eq!(like["likes_count"], 0);
    let (_, like) = world.api.post_as(&format!("/api/v2/videos/{id}/like"), &fan.token, json!({})).await;
    assert_eq!(like["likes_count"], 1);

    let (status, comment) =
        world.api.post_as(&format!("/api/v2/videos/{id}/comments"), &fan.token, json!({ "text": "Красиво!" })).await;
    assert_eq!(status, 201, "{comment}");
    let (status, body) =
        world.api.post_as(&format!("/api/v2/videos/{id}/comments"), &fan.token, json!({ "text": " " })).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"));
    let (_, page) = world.api.get_public(&format!("/api/v2/videos/{id}/comments")).await;
    assert_eq!(page["items"][0]["text"], "Красиво!");

    for viewer in ["a", "b", "a"] {
        let request =
            world.api.client.get(world.api.url(&format!("/api/v2/videos/{id}"))).header("X-Client-Id", viewer);
        assert_eq!(world.api.send(request).await.0, 200);
    }
    // Clients a and b, and the author reading it here: three viewers.
    testkit::eventually("three views flushed", std::time::Duration::from_secs(20), || async {
        world.video_of(&master, id).await["views_count"] == 3
    })
    .await;
    let kafka = &world.config.platform.kafka;
    let topic = contracts::topics::MEDIA_VIDEOS;
    let liked = testkit::events::find(kafka, topic, |e| match &e.payload {
        Some(Payload::VideoLiked(l)) if l.video_id == id => Some(*l),
        _ => None,
    })
    .await;
    assert_eq!((liked.user_id, liked.author_id), (fan.id, master.id));
    let viewed = testkit::events::find(kafka, topic, |e| match &e.payload {
        Some(Payload::VideoViewed(v)) if v.video_id == id => Some(v.views),
        _ => None,
    })
    .await;
    assert!((1..=3).contains(&viewed), "a batch's views: {viewed}");

    assert_eq!(world.api.delete(&format!("/api/v2/videos/{id}"), &fan.token).await.0, 404, "not the owner");
    assert_eq!(world.api.delete(&format!("/api/v2/videos/{id}"), &master.token).await.0, 204);
    testkit::eventually("the files are gone", std::time::Duration::from_secs(20), || async {
        world.stored_videos() == 0
    })
    .await;
    testkit::events::find(kafka, topic, |e| {
        matches!(&e.payload, Some(Payload::VideoDeleted(d)) if d.video_id == id).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stories_are_posted_and_expire() {
    let world = World::start_with(|config| config.media.story_lifetime_secs = 1).await;
    let master = world.user();
    let file = world.video(VideoSpec { audio: false, seconds: 1, ..Default::default() });
    let form = reqwest::multipart::Form::new()
        .text("caption", "Новая кухня")
        .text("hashtags", "#кухня")
        .part("media", reqwest::multipart::Part::bytes(std::fs::read(&file).unwrap()).file_name("s.mp4"));
    let request = world.api.client.post(world.api.url("/api/v2/stories")).bearer_auth(&master.token).multipart(form);
    let (status, story) = world.api.send(request).await;
    assert_eq!(status, 201, "{story}");
    assert_eq!(story["kind"], "video");
    let form = reqwest::multipart::Form::new()
        .part("media", reqwest::multipart::Part::bytes(b"text".to_vec()).file_name("s.mp4"));
    let request = world.api.client.post(world.api.url("/api/v2/stories")).bearer_auth(&master.token).multipart(form);
    assert_eq!(world.api.send(request).await.0, 415);
    // The form's fields as documented: a flag is a yes or a no, a caption at most 500 characters;
    // and no text holds U+0000, which PostgreSQL cannot store.
    let too_long = format!(" {}", "я".repeat(500));
    for (field, value) in [("is_pinned", "{}".to_owned()), ("caption", too_long), ("music", "a\0b".to_owned())] {
        let form = reqwest::multipart::Form::new()
            .text(field, value)
            .part("media", reqwest::multipart::Part::bytes(std::fs::read(&file).unwrap()).file_name("s.mp4"));
        let request =
            world.api.client.post(world.api.url("/api/v2/stories")).bearer_auth(&master.token).multipart(form);
        let (status, body) = world.api.send(request).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("validation_failed")), "{field}: {body}");
    }

    let kafka = &world.config.platform.kafka;
    let topic = contracts::topics::MEDIA_STORIES;
    let id = story["id"].as_i64().unwrap();
    testkit::events::find(kafka, topic, |e| {
        matches!(&e.payload, Some(Payload::StoryExpired(s)) if s.story_id == id).then_some(())
    })
    .await;
    let (_, active) = world.api.get("/api/v2/stories", &master.token).await;
    assert_eq!(active, json!([]), "no group is left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stories_are_grouped_viewed_once_liked_and_pinned_ones_stay_on_the_profile() {
    let world = World::start().await;
    let (master, fan, stranger) = (world.user(), world.user(), world.user());
    let file = world.video(VideoSpec { audio: false, seconds: 1, ..Default::default() });
    let post = |caption: &'static str, pinned: bool| {
        let form = reqwest::multipart::Form::new()
            .text("caption", caption)
            .text("is_pinned", pinned.to_string())
            .part("media", reqwest::multipart::Part::bytes(std::fs::read(&file).unwrap()).file_name("s.mp4"));
        let request =
            world.api.client.post(world.api.url("/api/v2/stories")).bearer_auth(&master.token).multipart(form);
        let api = &world.api;
        async move {
            let (status, story) = api.send(request).await;
            assert_eq!(status, 201, "{story}");
            story["id"].as_i64().unwrap()
        }
    };
    let (first, second, pinned) = (post("Раз", false).await, post("Два", false).await, post("Навсегда", true).await);
    world
        .publish(contracts::Envelope::new(
            "auth",
            master.id,
            contracts::events::SubscriptionCreated { follower_id: fan.id, followee_id: master.id },
        ))
        .await;
    testkit::eventually("the follower sees the stories", std::time::Duration::from_secs(30), || async {
        let (_, groups) = world.api.get("/api/v2/stories", &fan.token).await;
        groups[0]["stories"].as_array().is_some_and(|s| s.len() == 3)
    })
    .await;

    for viewer in [&fan, &fan, &master] {
        let (status, viewed) =
            world.api.post_as(&format!("/api/v2/stories/{first}/view"), &viewer.token, json!({})).await;
        assert_eq!((status, viewed["views_count"].as_i64()), (200, Some(1)), "{viewed}");
    }
    let (_, groups) = world.api.get("/api/v2/stories", &fan.token).await;
    let group = &groups[0];
    assert_eq!((group["author_id"].as_i64(), group["has_unseen"].as_bool()), (Some(master.id), Some(true)));
    let order: Vec<(i64, bool)> = group["stories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_i64().unwrap(), s["seen"].as_bool().unwrap()))
        .collect();
    assert_eq!(order, [(first, true), (second, false), (pinned, false)], "oldest first");

    let (status, viewers) = world.api.get(&format!("/api/v2/stories/{first}/viewers"), &master.token).await;
    assert_eq!((status, viewers["items"][0]["viewer_id"].as_i64()), (200, Some(fan.id)), "{viewers}");
    assert_eq!(viewers["items"].as_array().unwrap().len(), 1);
    let (status, body) = world.api.get(&format!("/api/v2/stories/{first}/viewers"), &fan.token).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));

    for (action, count) in [("like", 1), ("like", 1), ("unlike", 0)] {
        let (status, like) =
            world.api.post_as(&format!("/api/v2/stories/{second}/{action}"), &fan.token, json!({})).await;
        assert_eq!((status, like["likes_count"].as_i64()), (200, Some(count)), "{like}");
    }

    // Past their time, only the pinned story stays on the profile.
    world.sql("UPDATE stories SET expires_at = now() - interval '1 second'").await;
    testkit::eventually("the stories expire", std::time::Duration::from_secs(30), || async {
        let (_, groups) = world.api.get("/api/v2/stories", &fan.token).await;
        groups == json!([])
    })
    .await;
    let (_, profile) = world.api.get_public(&format!("/api/v2/stories/user/{}", master.id)).await;
    let ids: Vec<i64> = profile.as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [pinned]);
    assert_eq!(world.api.get_public(&format!("/api/v2/stories/{second}")).await.0, 404);

    // A block hides even the pinned story, both ways.
    world
        .publish(contracts::Envelope::new(
            "auth",
            master.id,
            contracts::events::UserBlocked { blocker_id: master.id, blocked_id: stranger.id },
        ))
        .await;
    testkit::eventually("blocked", std::time::Duration::from_secs(30), || async {
        world.api.get(&format!("/api/v2/stories/{pinned}"), &stranger.token).await.0 == 404
    })
    .await;
    let (_, profile) = world.api.get(&format!("/api/v2/stories/user/{}", master.id), &stranger.token).await;
    assert_eq!(profile, json!([]));
}
