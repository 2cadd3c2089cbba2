//! The seed's multipart upload: a video becomes streamable; bad files leave nothing behind.

use crate::helpers::{VideoSpec, World, error_code};
use contracts::Payload;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_video_is_probed_thumbnailed_and_streamed_in_hls() {
    let world = World::start().await;
    let master = world.user();
    let file = world.video(VideoSpec { width: 1280, height: 720, black_start: true, ..Default::default() });
    let fields = [
        ("title", "Шкаф-купе из дуба"),
        ("description", "Сделано в Алматы"),
        ("hashtags", "#Мебель #шкаф"),
        ("price", "150000.50"),
        ("product_description", "Дуб, 2 м"),
        ("is_ad", "false"),
    ];
    let (status, body) = world.upload(&master, &file, &fields).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "uploaded");
    assert_eq!(body["container"], "mp4");
    assert_eq!(body["hashtags"], serde_json::json!(["мебель", "шкаф"]));
    assert_eq!(body["price_minor"], 15_000_050);
    assert_eq!((body["width"].as_i64(), body["height"].as_i64()), (Some(1280), Some(720)));
    let id = body["id"].as_i64().unwrap();

    let (status, _) = world.api.get_public(&format!("/api/v2/videos/{id}")).await;
    assert_eq!(status, 404, "others do not see a video before it is ready");

    let video = world.processed(&master, id).await;
    assert_eq!(video["status"], "ready", "{video}");
    assert_eq!(video["duration"], 3);
    assert_eq!(video["renditions"], serde_json::json!(["360p", "480p", "720p"]));
    let master_playlist = world.fetch(video["hls_url"].as_str().unwrap()).await;
    assert_eq!(master_playlist.headers()["content-type"], "application/vnd.apple.mpegurl");
    let playlist = master_playlist.text().await.unwrap();
    for rung in ["360p/index.m3u8", "480p/index.m3u8", "720p/index.m3u8"] {
        assert!(playlist.contains(rung), "{playlist}");
    }
    assert!(playlist.contains("RESOLUTION=640x360") && playlist.contains("RESOLUTION=1280x720"), "{playlist}");
    let rung = world.fetch(&format!("/api/v2/media/files/videos/{id}/hls/720p/index.m3u8")).await.text().await.unwrap();
    assert!(rung.contains("seg_000.ts") && rung.contains("#EXT-X-ENDLIST"), "{rung}");

    for (size, width, height) in [("small", 320, 180), ("medium", 640, 360), ("large", 1280, 720)] {
        let url = video["thumbnails"][size].as_str().unwrap();
        let thumbnail = world.fetch(url).await;
        assert_eq!(thumbnail.status(), 200);
        assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");
        let path = world.scratch.join(format!("{size}.jpg"));
        std::fs::write(&path, thumbnail.bytes().await.unwrap()).unwrap();
        assert_eq!(image_size(&path), (width, height));
        assert!(brightness(&path) > 40.0, "the {size} thumbnail is not the black first second");
    }
    let (status, public) = world.api.get_public(&format!("/api/v2/videos/{id}")).await;
    assert_eq!((status, public["status"].as_str()), (200, Some("ready")));

    let kafka = &world.config.platform.kafka;
    let topic = contracts::topics::MEDIA_VIDEOS;
    let uploaded = testkit::events::find(kafka, topic, |e| match &e.payload {
        Some(Payload::VideoUploaded(u)) if u.video_id == id => Some(u.clone()),
        _ => None,
    })
    .await;
    assert_eq!((uploaded.author_id, uploaded.price_minor), (master.id, Some(15_000_050)));
    let processed = testkit::events::find(kafka, topic, |e| match &e.payload {
        Some(Payload::VideoProcessed(p)) if p.video_id == id => Some(p.clone()),
        _ => None,
    })
    .await;
    assert_eq!(processed.thumbnail_urls.len(), 3);
    assert!(processed.hls_url.ends_with("/hls/master.m3u8"));
    assert!(world.staged_files().is_empty(), "{:?}", world.staged_files());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portrait_and_small_videos_get_rungs_up_to_their_size() {
    let world = World::start().await;
    let master = world.user();
    let portrait = world.video(VideoSpec { width: 360, height: 640, audio: false, ..Default::default() });
    let (status, body) = world.upload(&master, &portrait, &[("title", "Портрет")]).await;
    assert_eq!(status, 201, "{body}");
    let video = world.processed(&master, body["id"].as_i64().unwrap()).await;
    assert_eq!(video["renditions"], serde_json::json!(["360p"]), "{video}");
    let playlist = world.fetch(video["hls_url"].as_str().unwrap()).await.text().await.unwrap();
    assert!(playlist.contains("RESOLUTION=360x640"), "{playlist}");

    let webm = world.video(VideoSpec { width: 320, height: 240, container: "webm", ..Default::default() });
    let (status, body) = world.upload(&master, &webm, &[("title", "Маленькое")]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["container"], "webm");
    let video = world.processed(&master, body["id"].as_i64().unwrap()).await;
    assert_eq!(video["renditions"], serde_json::json!(["240p"]), "{video}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_and_leave_nothing_behind() {
    let world = World::start_with(|config| config.media.max_upload_bytes = 2 * 1024 * 1024).await;
    let master = world.user();
    let title = [("title", "Шкаф")];

    let text = world.scratch.join("video.mp4");
    std::fs::write(&text, "Это не видео, а текстовый файл с расширением mp4").unwrap();
    let (status, body) = world.upload(&master, &text, &title).await;
    assert_eq!((status, error_code(&body)), (415, "unsupported_media_type"), "{body}");

    let empty = world.scratch.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let (status, body) = world.upload(&master, &empty, &title).await;
    assert_eq!((status, error_code(&body)), (400, "empty_file"), "{body}");

    // An mp4 whose end (with its index) is cut off.
    let whole = world.video(VideoSpec { audio: false, ..Default::default() });
    let bytes = std::fs::read(&whole).unwrap();
    let truncated = world.scratch.join("truncated.mp4");
    let without_index: Vec<u8> = {
        // Re-mux with the index at the end, then cut it off.
        let tail = world.scratch.join("tail.mp4");
        let status = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(&whole)
            .args(["-c", "copy"])
            .arg(&tail)
            .status()
            .unwrap();
        assert!(status.success());
        let tail = std::fs::read(&tail).unwrap();
        tail[..tail.len() * 2 / 3].to_vec()
    };
    std::fs::write(&truncated, &without_index).unwrap();
    let (status, body) = world.upload(&master, &truncated, &title).await;
    assert_eq!((status, error_code(&body)), (422, "unreadable_video"), "{body}");

    let (status, body) = world.upload(&master, &whole, &[("title", " "), ("price", "-1")]).await;
    assert_eq!((status, error_code(&body)), (400, "validation_failed"), "{body}");
    assert!(
        body["error"]["details"]["fields"]["title"].is_string()
            && body["error"]["details"]["fields"]["price"].is_string()
    );

    // Over the limit, with the length declared: refused before a byte is read.
    let big = vec![0u8; 4 * 1024 * 1024];
    let form = reqwest::multipart::Form::new()
        .text("title", "Большой")
        .part("video", reqwest::multipart::Part::bytes(big.clone()).file_name("big.mp4"));
    let request =
        world.api.client.post(world.api.url("/api/v2/videos/upload")).bearer_auth(&master.token).multipart(form);
    let (status, body) = world.api.send(request).await;
    assert_eq!((status, error_code(&body)), (413, "payload_too_large"), "{body}");

    // Limit + 1 byte with no declared length (a chunked body): refused as it arrives.
    let mut over = bytes.clone();
    over.resize(2 * 1024 * 1024 + 1, 0);
    let boundary = "mebelplace-boundary";
    let mut raw = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nБольшой\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(&over);
    raw.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let (status, body) = chunked_post(&world, "/api/v2/videos/upload", &master.token, boundary, &raw).await;
    assert_eq!((status, error_code(&body)), (413, "payload_too_large"), "{body}");

    let request = world.api.client.post(world.api.url("/api/v2/videos/upload")).bearer_auth(&master.token).body("{}");
    let (status, body) = world.api.send(request).await;
    assert_eq!((status, error_code(&body)), (415, "unsupported_media_type"), "{body}");

    let anonymous =
        world.api.client.post(world.api.url("/api/v2/videos/upload")).multipart(reqwest::multipart::Form::new());
    assert_eq!(world.api.send(anonymous).await.0, 401);

    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(world.count("videos").await, 0);
    assert_eq!(world.count("outbox").await, 0);
    assert_eq!(world.stored_videos(), 0);
    assert!(world.staged_files().is_empty(), "{:?}", world.staged_files());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_ffmpeg_cannot_decode_fails_with_the_reason() {
    let world = World::start().await;
    let master = world.user();
    // The index (at the front) is whole, so the file probes; its frames are gone.
    let whole = world.video(VideoSpec { audio: false, seconds: 3, ..Default::default() });
    let bytes = std::fs::read(&whole).unwrap();
    let mdat = bytes.windows(4).position(|w| w == b"mdat").expect("an mdat box");
    let broken = world.scratch.join("broken.mp4");
    std::fs::write(&broken, &bytes[..mdat + 64]).unwrap();
    let (status, body) = world.upload(&master, &broken, &[("title", "Битое")]).await;
    assert_eq!(status, 201, "{body}");
    let video = world.processed(&master, body["id"].as_i64().unwrap()).await;
    assert_eq!(video["status"], "failed", "{video}");
    assert!(video["failure_reason"].as_str().unwrap().contains("ffmpeg"), "{video}");
    let failed =
        testkit::events::find(&world.config.platform.kafka, contracts::topics::MEDIA_VIDEOS, |e| match &e.payload {
            Some(Payload::VideoFailed(f)) if f.video_id == video["id"].as_i64().unwrap() => Some(f.clone()),
            _ => None,
        })
        .await;
    assert_eq!(failed.reason, video["failure_reason"].as_str().unwrap());
}

/// POSTs `body` with `Transfer-Encoding: chunked` (no declared length) over a plain socket.
async fn chunked_post(world: &World, path: &str, token: &str, boundary: &str, body: &[u8]) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = world.api.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    for piece in body.chunks(64 * 1024) {
        let frame = [format!("{:x}\r\n", piece.len()).as_bytes(), piece, b"\r\n"].concat();
        if socket.write_all(&frame).await.is_err() {
            break; // the server answered early and closed
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = text.find("\r\n\r\n").map(|at| &text[at + 4..]).unwrap_or_default();
    // The body may itself be chunked: take the JSON object in it.
    let json = json.find('{').zip(json.rfind('}')).map(|(a, b)| &json[a..=b]).unwrap_or_default();
    (status, serde_json::from_str(json).unwrap_or_default())
}

/// Width and height of an image, by ffprobe.
pub fn image_size(path: &std::path::Path) -> (u32, u32) {
    let output = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let (w, h) = text.trim().split_once(',').unwrap();
    (w.parse().unwrap(), h.parse().unwrap())
}

/// Average luma (0–255) of an image, by ffmpeg's signalstats.
pub fn brightness(path: &std::path::Path) -> f64 {
    let output = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-f", "lavfi", "-show_entries", "frame_tags=lavfi.signalstats.YAVG", "-of", "csv=p=0"])
        .arg(format!("movie={},signalstats", path.display()))
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap_or(0.0)
}
