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

    let kafka = &world.config.platform.kafka;
    let topic = contracts::topics::MEDIA_STORIES;
    let id = story["id"].as_i64().unwrap();
    testkit::events::find(kafka, topic, |e| {
        matches!(&e.payload, Some(Payload::StoryExpired(s)) if s.story_id == id).then_some(())
    })
    .await;
    let (_, active) = world.api.get("/api/v2/stories", &master.token).await;
    assert_eq!(active, json!([]));
}
