//! The processing worker: a killed worker's job is delivered again and finishes once; passing
//! failures are retried a bounded number of times.

use crate::helpers::{VideoSpec, World};
use async_nats::jetstream;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_died_is_redone_once() {
    // Uploads through a service without a worker; a "worker" takes the job and dies holding it.
    let world = World::start_with(|config| {
        config.media.worker = false;
        config.media.job_ack_wait_secs = 3;
    })
    .await;
    let master = world.user();
    let file = world.video(VideoSpec { width: 854, height: 480, ..Default::default() });
    let (status, body) = world.upload(&master, &file, &[("title", "Переживёт")]).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();

    let nats = async_nats::connect(&world.config.platform.nats.url).await.unwrap();
    let consumer =
        media::worker::queue(nats, &world.config.platform.nats, media::worker::PROCESSING, Duration::from_secs(3))
            .await
            .unwrap();
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let taken = loop {
        let mut batch = consumer.fetch().max_messages(1).expires(Duration::from_secs(1)).messages().await.unwrap();
        if let Some(Ok(message)) = batch.next().await {
            break message;
        }
        assert!(tokio::time::Instant::now() < deadline, "the job is in the queue");
    };
    let _held: jetstream::Message = taken;
    world.sql(&format!("UPDATE videos SET status = 'processing', attempts = 1 WHERE id = {id}")).await;

    // A replica with a worker takes the job over once the dead one's time is up.
    let mut config = world.config.clone();
    config.media.worker = true;
    config.media.job_ack_wait_secs = 3;
    let replica = testkit::TestApp::start(media::build(config).await.unwrap());
    let video = world.processed(&master, id).await;
    assert_eq!(video["status"], "ready", "{video}");
    assert_eq!(video["renditions"], serde_json::json!(["360p", "480p"]));
    let hls = world.storage().join(format!("videos/{id}/hls"));
    let mut names: Vec<String> =
        std::fs::read_dir(&hls).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["360p", "480p", "master.m3u8"], "one set of renditions");
    assert_eq!(world.count("videos WHERE attempts = 2").await, 1);
    drop(replica);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passing_failures_are_retried_then_the_video_fails_with_the_reason() {
    let world = World::start_with(|config| {
        config.media.worker = false;
        config.media.job_max_attempts = 2;
    })
    .await;
    let master = world.user();
    let file = world.video(VideoSpec::default());
    let (_, body) = world.upload(&master, &file, &[("title", "Пропал")]).await;
    let id = body["id"].as_i64().unwrap();
    // The original disappears from storage: every attempt fails the same passing way.
    std::fs::remove_file(world.storage().join(format!("videos/{id}/original.mp4"))).unwrap();
    let mut config = world.config.clone();
    config.media.worker = true;
    let replica = testkit::TestApp::start(media::build(config).await.unwrap());
    let video = world.processed(&master, id).await;
    assert_eq!(video["status"], "failed", "{video}");
    assert!(video["failure_reason"].as_str().unwrap().starts_with("gave up after 2 attempts"), "{video}");
    drop(replica);
}
