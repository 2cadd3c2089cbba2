//! The seed's chunked upload: 1 MB chunks in any order, idempotent, assembled automatically;
//! abandoned uploads expire with their bytes.

use crate::helpers::{User, VideoSpec, World, error_code};
use serde_json::{Value, json};
use std::time::Duration;

const MB: usize = 1024 * 1024;

async fn send_chunk(
    world: &World,
    user: &User,
    upload: &str,
    index: i64,
    total: i64,
    size: usize,
    bytes: &[u8],
) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("chunk_index", index.to_string())
        .text("total_chunks", total.to_string())
        .text("file_name", "шкаф.mp4")
        .text("file_size", size.to_string())
        .part("chunk", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("blob"));
    let url = world.api.url(&format!("/api/v2/uploads/{upload}/chunks"));
    world.api.send(world.api.client.post(url).bearer_auth(&user.token).multipart(form)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_in_any_order_and_resent_become_one_video() {
    let world = World::start().await;
    let master = world.user();
    // About 3 MB: a few chunks.
    let file = world.video(VideoSpec { width: 640, height: 360, seconds: 2, noise: true, ..Default::default() });
    let bytes = std::fs::read(&file).unwrap();
    let size = bytes.len();
    let total = size.div_ceil(MB) as i64;
    assert!(total >= 2, "the test video has {size} bytes");
    let start =
        json!({ "file_name": "шкаф.mp4", "file_size": size, "total_chunks": total, "title": "Кухня", "price": 99000 });
    let (status, upload) = world.api.post_as("/api/v2/uploads", &master.token, start).await;
    assert_eq!(status, 201, "{upload}");
    assert_eq!((upload["chunk_size"].as_u64(), upload["total_chunks"].as_i64()), (Some(MB as u64), Some(total)));
    let id = upload["upload_id"].as_str().unwrap().to_owned();

    let chunk = |i: i64| &bytes[i as usize * MB..((i as usize + 1) * MB).min(size)];
    // Last first, the first one twice.
    for index in (1..total).rev() {
        let (status, progress) = send_chunk(&world, &master, &id, index, total, size, chunk(index)).await;
        assert_eq!(status, 200, "{progress}");
    }
    let (status, progress) = world.api.get(&format!("/api/v2/uploads/{id}"), &master.token).await;
    assert_eq!(status, 200);
    assert_eq!(progress["missing_chunks"], json!([0]));
    assert_eq!(progress["received_chunks"], total - 1);
    assert_eq!(progress["status"], "receiving");

    let other = world.user();
    let (status, body) = send_chunk(&world, &other, &id, 0, total, size, chunk(0)).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"), "another user's upload");
    let (status, _) = world.api.get(&format!("/api/v2/uploads/{id}"), &other.token).await;
    assert_eq!(status, 404);

    let (status, done) = send_chunk(&world, &master, &id, 0, total, size, chunk(0)).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "complete");
    let video_id = done["video"]["id"].as_i64().unwrap();
    assert_eq!(done["video"]["price_minor"], 9_900_000);

    let (status, again) = send_chunk(&world, &master, &id, 1, total, size, chunk(1)).await;
    assert_eq!((status, again["video"]["id"].as_i64()), (200, Some(video_id)), "a re-sent chunk changes nothing");
    assert_eq!(world.count("videos").await, 1);

    let stored = std::fs::read(world.storage().join(format!("videos/{video_id}/original.mp4"))).unwrap();
    assert!(stored == bytes, "the assembled file is the uploaded file");
    assert_eq!(world.processed(&master, video_id).await["status"], "ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_chunks_are_refused_and_abandoned_uploads_expire() {
    let world = World::start_with(|config| config.media.upload_ttl_secs = 2).await;
    let master = world.user();
    let size = 2 * MB + 10;
    let (status, body) = world
        .api
        .post_as("/api/v2/uploads", &master.token, json!({ "file_name": "a.mp4", "file_size": size, "title": "Шкаф" }))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["upload_id"].as_str().unwrap().to_owned();
    let (status, body) = send_chunk(&world, &master, &id, 3, 3, size, &[0u8; 10]).await;
    assert_eq!((status, error_code(&body)), (400, "chunk_index_out_of_range"), "{body}");
    let (status, body) = send_chunk(&world, &master, &id, -1, 3, size, &[0u8; 10]).await;
    assert_eq!((status, error_code(&body)), (400, "chunk_index_out_of_range"), "{body}");
    let (status, body) = send_chunk(&world, &master, &id, 0, 3, size, &[0u8; 10]).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "a short chunk: {body}");
    let (status, body) = send_chunk(&world, &master, &id, 2, 4, size, &[0u8; 10]).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "another total: {body}");
    let (status, body) = send_chunk(&world, &master, &id, 2, 3, size, &[7u8; 10]).await;
    assert_eq!(status, 200, "{body}");

    for (start, field) in [
        (json!({ "file_name": "a.mp4", "file_size": 0, "title": "Шкаф" }), "file_size"),
        (json!({ "file_name": "a.mp4", "file_size": 10, "total_chunks": 2, "title": "Шкаф" }), "total_chunks"),
        (json!({ "file_name": "a.mp4", "file_size": 10 }), "title"),
    ] {
        let (status, body) = world.api.post_as("/api/v2/uploads", &master.token, start).await;
        assert_eq!((status, error_code(&body)), (400, "validation_failed"), "{body}");
        assert!(body["error"]["details"]["fields"][field].is_string(), "{body}");
    }
    let nul = json!({ "file_name": "a.mp4", "file_size": 10, "title": "\u{0}" });
    let (status, body) = world.api.post_as("/api/v2/uploads", &master.token, nul).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_json"), "PostgreSQL stores no NUL: {body}");
    // The documented bounds: a name of 255 characters, one byte, a title with spaces around.
    let least = json!({ "file_name": "я".repeat(255), "file_size": 1, "title": " Ш ", "total_chunks": null });
    let (status, body) = world.api.post_as("/api/v2/uploads", &master.token, least).await;
    assert_eq!((status, body["total_chunks"].as_i64()), (201, Some(1)), "{body}");
    world.api.delete(&format!("/api/v2/uploads/{}", body["upload_id"].as_str().unwrap()), &master.token).await;
    let huge = json!({ "file_name": "a.mp4", "file_size": 300 * MB + 1, "title": "Шкаф" });
    let (status, body) = world.api.post_as("/api/v2/uploads", &master.token, huge).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "{body}");
    assert!(body["error"]["details"]["fields"]["file_size"].as_str().unwrap().contains("300 MB"), "{body}");

    assert_eq!(world.staged_files().len(), 1);
    // The job removes the staged files, then the upload's row.
    testkit::eventually("the abandoned upload expired", Duration::from_secs(30), || async {
        world.staged_files().is_empty() && world.count("uploads").await == 0
    })
    .await;
    assert_eq!(world.count("upload_chunks").await, 0);
    let (status, _) = world.api.get(&format!("/api/v2/uploads/{id}"), &master.token).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_upload_that_is_not_a_video_is_rejected_with_its_reason() {
    let world = World::start().await;
    let master = world.user();
    let text = "это текст, а не видео".repeat(10);
    let start = json!({ "file_name": "v.mp4", "file_size": text.len(), "title": "Шкаф" });
    let (_, upload) = world.api.post_as("/api/v2/uploads", &master.token, start).await;
    let id = upload["upload_id"].as_str().unwrap().to_owned();
    let (status, body) = send_chunk(&world, &master, &id, 0, 1, text.len(), text.as_bytes()).await;
    assert_eq!((status, error_code(&body)), (415, "unsupported_media_type"), "{body}");
    let (_, progress) = world.api.get(&format!("/api/v2/uploads/{id}"), &master.token).await;
    assert_eq!(progress["status"], "rejected");
    assert_eq!(progress["error"]["error"]["code"], "unsupported_media_type");
    assert!(world.staged_files().is_empty());
    assert_eq!(world.count("videos").await, 0);
}
