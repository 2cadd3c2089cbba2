//! The S3 path of storage against a real S3-protocol server (s3s-fs, started by
//! `scripts/infra-up` on 127.0.0.1:9000): uploads go up in multipart uploads, the worker reads
//! the original back and writes its outputs there, files are answered with presigned redirects.

use crate::helpers::{VideoSpec, World};
use platform::config::StorageBackend;

pub const S3_ENDPOINT: &str = "http://127.0.0.1:9000";
pub const S3_ACCESS_KEY: &str = "mebelplace";
pub const S3_SECRET_KEY: &str = "mebelplace-secret";
pub const S3_BUCKET: &str = "mebelplace";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_s3_a_video_is_stored_processed_and_served_by_presigned_urls() {
    let world = World::start_with(|config| {
        let storage = &mut config.platform.storage;
        storage.backend = StorageBackend::S3;
        storage.s3_endpoint = Some(S3_ENDPOINT.into());
        storage.s3_bucket = S3_BUCKET.into();
        storage.s3_access_key_id = Some(S3_ACCESS_KEY.into());
        storage.s3_secret_access_key = Some(S3_SECRET_KEY.to_owned().into());
    })
    .await;
    let master = world.user();
    // Noise compresses badly: over 8 MiB, so the original goes up in several parts.
    let file = world.video(VideoSpec { seconds: 2, noise: true, ..Default::default() });
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.len() > 9 * 1024 * 1024, "{} bytes", bytes.len());
    let (status, body) = world.upload(&master, &file, &[("title", "На S3")]).await;
    assert_eq!(status, 201, "{body}");
    let video = world.processed(&master, body["id"].as_i64().unwrap()).await;
    assert_eq!(video["status"], "ready", "{video}");

    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for url in [
        video["video_url"].as_str().unwrap(),
        video["hls_url"].as_str().unwrap(),
        video["thumbnails"]["small"].as_str().unwrap(),
    ] {
        let answer = no_redirects.get(world.api.url(url)).send().await.unwrap();
        assert_eq!(answer.status(), 302, "{url}");
        let location = answer.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(S3_ENDPOINT) && location.contains("X-Amz-Signature"), "{location}");
        let object = reqwest::get(&location).await.unwrap();
        assert_eq!(object.status(), 200, "{location}");
        if url.ends_with("original.mp4") {
            assert!(object.bytes().await.unwrap().as_ref() == bytes.as_slice(), "the original round-trips");
        }
    }
    assert!(world.staged_files().is_empty(), "{:?}", world.staged_files());
}
