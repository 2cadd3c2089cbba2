//! Analyses run as jobs on the real video (ffmpeg) and text, each finding naming its method.

use crate::helpers::{VideoSpec, World, error_code};
use serde_json::{Value, json};
use std::time::Duration;

async fn finished(world: &World, token: &str, video: i64, analysis: i64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, list) = world.api.get(&format!("/api/v2/videos/{video}/analysis"), token).await;
        assert_eq!(status, 200, "{list}");
        let found = list.as_array().unwrap().iter().find(|a| a["id"] == analysis).cloned().unwrap();
        if matches!(found["status"].as_str(), Some("done" | "failed")) {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "analysis {analysis} still {}", found["status"]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyses_of_frames_text_and_comments_say_how_they_were_made() {
    let world = World::start().await;
    let (master, other) = (world.user(), world.user());
    let file = world.video(VideoSpec { audio: false, seconds: 3, ..Default::default() });
    let fields =
        [("title", "Кухня из массива дуба"), ("description", "Современный стиль, фасады МДФ"), ("hashtags", "#кухня")];
    let (_, body) = world.upload(&master, &file, &fields).await;
    let id = body["id"].as_i64().unwrap();
    let path = format!("/api/v2/videos/{id}/analyze");
    let (status, body) = world.api.post_as(&path, &master.token, json!({ "analysis_type": "furniture" })).await;
    assert_eq!((status, error_code(&body)), (409, "video_not_ready"));
    assert_eq!(world.processed(&master, id).await["status"], "ready");
    for (comment, who) in [("Очень красиво!", &other), ("Спасибо, отлично", &other), ("Сколько стоит?", &master)]
    {
        let (status, _) =
            world.api.post_as(&format!("/api/v2/videos/{id}/comments"), &who.token, json!({ "text": comment })).await;
        assert_eq!(status, 201);
    }

    let mut asked = Vec::new();
    for (kind, threshold) in [("furniture", 0.6), ("scene", 0.0), ("sentiment", 0.5), ("objects", 0.0), ("text", 0.0)] {
        let body = json!({ "analysis_type": kind, "options": { "confidence_threshold": threshold } });
        let (status, analysis) = world.api.post_as(&path, &master.token, body).await;
        assert_eq!((status, analysis["status"].as_str()), (202, Some("queued")), "{analysis}");
        asked.push((kind, analysis["id"].as_i64().unwrap()));
    }
    let mut results = std::collections::HashMap::new();
    for (kind, analysis) in asked {
        let done = finished(&world, &master.token, id, analysis).await;
        assert_eq!(done["status"], "done", "{done}");
        let findings = done["findings"].as_array().unwrap().clone();
        assert!(findings.iter().all(|f| f["method"].as_str().is_some_and(|m| !m.is_empty())), "{done}");
        results.insert(kind, findings);
    }
    let labels = |kind: &str| results[kind].iter().map(|f| f["label"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    // Threshold 0.6 keeps solid wood (title ×2 twice) and kitchen (title and hashtag), not MDF (0.5).
    assert_eq!(labels("furniture"), ["kitchen", "solid_wood"]);
    assert_eq!(labels("objects"), ["kitchen"]);
    assert!(labels("text").contains(&"mdf".to_owned()));
    assert_eq!(labels("sentiment"), ["positive"], "2 of 3 comments; neutral (1 of 3) is under 0.5");
    let scene = &results["scene"];
    let kinds: Vec<&str> = scene.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"colour") && kinds.contains(&"brightness") && kinds.contains(&"scene_cuts"), "{scene:?}");

    for (body, status) in [
        (json!({ "analysis_type": "faces" }), 400),
        (json!({ "analysis_type": "scene", "options": { "confidence_threshold": 2 } }), 400),
        (json!({ "analysis_type": "scene", "extra": 1 }), 400),
    ] {
        assert_eq!(world.api.post_as(&path, &master.token, body.clone()).await.0, status, "{body}");
    }
    let (status, body) = world.api.post_as(&path, &other.token, json!({ "analysis_type": "scene" })).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    assert_eq!(world.api.get(&format!("/api/v2/videos/{id}/analysis"), &other.token).await.0, 404);
    assert_eq!(world.count("video_analyses").await, 5, "refused requests left nothing");

    // The business gauges count the ready video.
    testkit::eventually("the gauges count the video", Duration::from_secs(20), || async {
        let metrics = world.fetch("/metrics").await.text().await.unwrap_or_default();
        metrics.contains("media_videos{status=\"ready\",service=\"media\"} 1")
            && metrics.contains("media_active_stories{service=\"media\"} 0")
    })
    .await;
}
